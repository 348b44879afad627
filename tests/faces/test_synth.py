import dataclasses

import numpy as np
import pytest

from reanimate.faces.store import FaceDataset
from reanimate.faces.synth import Pose, animate, random_identity, render_face, synth_dataset


def _plain_face(seed=5):
    face = random_identity(np.random.default_rng(seed))
    return dataclasses.replace(face, glasses=None, moustache=False, blush=False, hair_style="bald",
                               skin=(200, 150, 110), hair=(40, 30, 20), lips=(200, 60, 80),
                               background=((20, 120, 220), (20, 120, 220)), pattern="plain")


def _near(pixel, colour, tolerance=40):
    return np.abs(pixel.astype(int) - colour).max() <= tolerance


@pytest.mark.parametrize("pose", [Pose(), Pose(yaw=0.3, pitch=-0.1, roll=0.1, mouth=0.2, dx=0.03),
                                  Pose(yaw=-0.3, roll=-0.08, mouth=0.15, zoom=1.05)])
def test_landmarks_sit_on_what_was_drawn(pose):
    face = _plain_face()
    image, lm = render_face(face, pose, 256)
    at = lambda p: image[int(round(p[1])), int(round(p[0]))]  # noqa: E731
    for start in (36, 42):  # eye centres: white, iris or pupil, never skin
        assert not _near(at(lm[start:start + 6].mean(0)), face.skin)
    for index in (19, 24):  # brow middles: brow colour
        assert _near(at(lm[index]), tuple(int(c * 0.8) for c in face.hair), 50)
    inside_mouth = 0.25 * lm[62] + 0.75 * lm[66]  # below the teeth, above the lower lip
    if pose.mouth > 0.05:
        assert _near(at(inside_mouth), (70, 20, 30), 30)
    assert _near(at(lm[57] + [0, -2]), face.lips)  # just above the lower lip's bottom: lip
    cheek = (lm[3] * 0.6 + lm[31] * 0.4)
    assert _near(at(cheek), face.skin, 15)
    # Jaw line: skin just inside it, neck / background / ears just outside.
    centre = lm[27:36].mean(0)
    for index in (2, 5, 8, 11, 14):
        direction = (lm[index] - centre) / np.linalg.norm(lm[index] - centre)
        assert _near(at(lm[index] - 3 * direction), face.skin, 15)
        assert not _near(at(lm[index] + 3 * direction), face.skin, 15)


def test_identities_differ_and_rendering_is_deterministic():
    a, b = random_identity(np.random.default_rng(0)), random_identity(np.random.default_rng(1))
    assert a != b
    first, lm1 = render_face(a, Pose(mouth=0.1), 128)
    again, lm2 = render_face(a, Pose(mouth=0.1), 128)
    assert np.array_equal(first, again) and np.array_equal(lm1, lm2)
    other, _ = render_face(b, Pose(mouth=0.1), 128)
    assert np.abs(first.astype(int) - other).mean() > 10


def test_animation_talks_blinks_and_moves():
    poses = animate(np.random.default_rng(0), 200)
    mouth = np.array([p.mouth for p in poses])
    assert mouth.max() > 0.08 and (mouth < 0.01).mean() > 0.2  # speech with pauses
    assert max(p.blink for p in poses) == 1.0
    yaw = np.array([p.yaw for p in poses])
    assert np.ptp(yaw) > 0.1 and np.abs(np.diff(yaw)).max() < 0.05  # turns, smoothly


def test_dataset_is_written_and_resumes(tmp_path):
    summary = synth_dataset(tmp_path / "syn", identities=3, frames=6, videos_per_identity=2, size=64,
                            show_progress=False)
    assert summary == {"videos": 6, "clips": 6, "frames": 36, "frames_with_face": 36, "identities": 3, "failed": []}
    data = FaceDataset(tmp_path / "syn")
    assert len(data) == 6 and data.identities == ["synth-0000", "synth-0001", "synth-0002"] and data.size == 64
    clip = data.clip(5)
    assert clip.frames([0])[0].shape == (64, 64, 3) and clip.landmarks.shape == (6, 68, 2)
    stamp = (tmp_path / "syn" / data.clips[0].file).stat().st_mtime_ns
    synth_dataset(tmp_path / "syn", identities=3, frames=6, videos_per_identity=2, size=64, show_progress=False)
    assert (tmp_path / "syn" / data.clips[0].file).stat().st_mtime_ns == stamp  # finished clips are kept
    same = synth_dataset(tmp_path / "again", identities=3, frames=6, videos_per_identity=2, size=64,
                         show_progress=False)
    assert same == summary
    assert np.array_equal(FaceDataset(tmp_path / "again").clip(5).landmarks, clip.landmarks)  # seeded
