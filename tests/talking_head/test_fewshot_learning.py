"""Few-shot use really works on a person the meta-learning never saw (Zakharov et al., Sec. 3.3).

The fixture is a `small` model meta-learned on 400 synthetic identities (tests/fixtures/README.md
says how it was made); the identities here come from another seed, so none was seen in training.
"""

from pathlib import Path

import numpy as np
import pytest
import torch

from reanimate.faces.align import resize_crop
from reanimate.faces.episodes import EpisodeDataset
from reanimate.faces.synth import synth_dataset
from reanimate.nn.convert import to_image
from reanimate.talking_head.fewshot import Avatar
from reanimate.talking_head.model import TalkingHeadModel

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "talk-small-synthetic"
SHOTS = 8  # frames 0..7 are the shots; the later frames are the held-out target poses


@pytest.fixture(scope="module")
def unseen(tmp_path_factory):
    """4 new synthetic identities, 24 frames each spread over 10 s of head motion."""
    root = tmp_path_factory.mktemp("unseen") / "faces"
    synth_dataset(root, identities=4, frames=24, size=128, seed=777777, fps=2.5, show_progress=False)
    model = TalkingHeadModel.from_pretrained(FIXTURE).eval()
    episodes = EpisodeDataset(root, k=1, size=model.config.image_size)
    people = []
    for clip_id in episodes.clip_ids:
        clip = episodes.data.clip(clip_id)
        frames, marks = episodes.pairs(clip_id, list(range(len(clip))))
        points = np.stack([resize_crop(f, p, model.config.image_size)[1]
                           for f, p in zip(clip.frames(range(len(clip))), clip.landmarks)])
        people.append({"frames": frames, "marks": marks, "points": points})
    return model, people


def _l1(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().mean())


def _pose_error(detector, images, points) -> list[float]:
    """Landmarks found on each image against the target's, per inter-ocular distance (dlib)."""
    errors = []
    for image, target in zip(images, points):
        gray = image.mean(axis=2).astype(np.uint8)
        boxes = detector.find_faces(gray)
        if boxes:
            found = detector.landmarks(gray, boxes[0])
            eyes = np.linalg.norm(target[36:42].mean(0) - target[42:48].mean(0))
            errors.append(float(np.linalg.norm(found - target, axis=1).mean() / eyes))
    return errors


@torch.no_grad()
def _feed_forward(model, shot_frames, shot_marks, target_marks) -> torch.Tensor:
    embedding = model.embedder(shot_frames[None], shot_marks[None])
    return model.generator(target_marks, psi=model.generator.psi(embedding).expand(len(target_marks), -1))


@pytest.mark.slow
def test_feed_forward_follows_the_pose_and_keeps_the_person_and_finetuning_improves(unseen, detector):
    model, people = unseen
    ff_pose, copy_pose, own_l1, swapped_l1, ft8_l1, copy_l1 = [], [], [], [], [], []
    for index, person in enumerate(people):
        frames, marks, points = person["frames"], person["marks"], person["points"]
        targets = slice(SHOTS, len(frames))
        ff = _feed_forward(model, frames[:1], marks[:1], marks[targets])  # T = 1
        # Pose: copying the shot keeps the shot's pose; feed-forward follows the target's landmarks.
        ff_pose += _pose_error(detector, [to_image(x) for x in ff], points[targets])
        copy_pose += _pose_error(detector, [to_image(frames[0])] * len(ff), points[targets])
        # Person: the shot's embedding makes this person, not someone else.
        other = people[(index + 1) % len(people)]
        swapped = _feed_forward(model, other["frames"][:1], other["marks"][:1], marks[targets])
        own_l1.append(_l1(ff, frames[targets]))
        swapped_l1.append(_l1(swapped, frames[targets]))
        copy_l1.append(_l1(frames[:1], frames[targets]))
        # Fine-tuning on 8 shots gets closer still.
        avatar = Avatar(model, [to_image(f) for f in frames[:SHOTS]], points[:SHOTS])
        avatar.finetune(steps=60, show_progress=False)
        with torch.no_grad():
            ft = avatar.generator(marks[targets], psi=avatar.psi.expand(len(ff), -1))
        ft8_l1.append(_l1(ft, frames[targets]))
    ff_pose_error, copy_pose_error = np.mean(ff_pose), np.mean(copy_pose)
    print(f"pose error FF {ff_pose_error:.3f} ({len(ff_pose)} faces found), copy {copy_pose_error:.3f}; "
          f"L1 FF T=1 {np.mean(own_l1):.3f}, another person's shot {np.mean(swapped_l1):.3f}, "
          f"FT T=8 {np.mean(ft8_l1):.3f}, copy {np.mean(copy_l1):.3f}")
    assert len(ff_pose) >= 0.6 * len(people) * (len(people[0]["frames"]) - SHOTS), "generated faces are not faces"
    # Measured with the fixture: pose error FF 0.14 against copy 0.25 (dlib on the real targets: 0.11);
    # L1 FF 0.18, another person's shot 0.53, FT 0.11, copy 0.13. Feed-forward from one shot loses to
    # copying that shot in L1: these cartoon heads turn little, and a 64-px network meta-learned for
    # 77 CPU minutes is blurry. Fine-tuning beats the copy here but not on every seed, so it is not
    # asserted.
    assert ff_pose_error < 0.7 * copy_pose_error
    assert np.mean(own_l1) < 0.9 * np.mean(swapped_l1)
    assert np.mean(ft8_l1) < 0.9 * np.mean(own_l1)
