import numpy as np
import pytest
import torch

from reanimate.core.errors import UserError
from reanimate.faces.motion import adapt_shape
from reanimate.faces.synth import animate as poses
from reanimate.faces.synth import random_identity, render_face, synth_dataset
from reanimate.io.image import write_png
from reanimate.io.samples import sample_clip
from reanimate.io.video import open_video
from reanimate.io.writer import FrameWriter
from reanimate.metrics.fid import InceptionPool, frechet_distance
from reanimate.metrics.identity import FaceDescriptor, cosine, distance
from reanimate.metrics.image import ssim
from reanimate.talking_head.animate import DriverTrack, animate
from reanimate.talking_head.config import load_config
from reanimate.talking_head.evaluate import evaluate, format_table
from reanimate.talking_head.fewshot import (
    Avatar,
    landmark_images,
    load_person,
    load_shots,
)
from reanimate.talking_head.model import TalkingHeadModel
from reanimate.talking_head.options import AnimateOptions


@pytest.fixture(scope="module")
def tiny_model():
    torch.manual_seed(0)
    return TalkingHeadModel(load_config("tiny")).eval()


@pytest.fixture(scope="module")
def shots():
    face = random_identity(np.random.default_rng(5))
    rendered = [render_face(face, pose, 32) for pose in poses(np.random.default_rng(6), 6)]
    return [r[0] for r in rendered], np.stack([r[1] for r in rendered])


def test_feed_forward_renders_any_landmarks(tiny_model, shots):
    avatar = Avatar(tiny_model, shots[0][:2], shots[1][:2])
    faces = avatar.render(landmark_images(shots[1], 32))
    assert len(faces) == 6 and faces[0].shape == (32, 32, 3) and faces[0].dtype == np.uint8
    assert avatar.psi.shape == (1, tiny_model.generator.psi_size)


def test_finetuning_moves_psi_w_and_the_generator_not_the_embedder(tiny_model, shots, tmp_path):
    avatar = Avatar(tiny_model, shots[0], shots[1])
    embedder = {k: v.clone() for k, v in tiny_model.embedder.state_dict().items()}
    generator = {k: v.clone() for k, v in tiny_model.generator.state_dict().items()}
    psi, embedding = avatar.psi.clone(), avatar.embedding.clone()
    terms = avatar.finetune(steps=3, show_progress=False, config=load_config("tiny", match_weight=0.0))
    assert avatar.finetuned_steps == 3 and "match" not in terms and set(terms) >= {"pixel", "adversarial"}
    assert not torch.equal(avatar.psi.detach(), psi) and not torch.equal(avatar.w, embedding)
    assert all(torch.equal(v, tiny_model.embedder.state_dict()[k]) for k, v in embedder.items())
    assert all(torch.equal(v, tiny_model.generator.state_dict()[k]) for k, v in generator.items())  # a copy is tuned
    assert any(not torch.equal(v, generator[k]) for k, v in avatar.generator.state_dict().items())
    avatar.save_pretrained(tmp_path / "person")
    loaded, loaded_psi = load_person(tmp_path / "person")
    marks = landmark_images(shots[1][:2], 32)
    with torch.no_grad():
        assert torch.allclose(loaded(marks, psi=loaded_psi.expand(2, -1)), avatar.generator(marks, psi=avatar.psi.expand(2, -1)))



def test_finetuning_on_a_seconds_budget_shows_its_bar(tiny_model, shots, capsys):
    # `--finetune-seconds` with progress on once failed at its first step (the bar got `unit` twice).
    avatar = Avatar(tiny_model, shots[0], shots[1])
    terms = avatar.finetune(seconds=0.5, show_progress=True, config=load_config("tiny", match_weight=0.0))
    assert avatar.finetuned_steps >= 1 and set(terms) >= {"pixel", "adversarial"}
    assert "fine-tuning" in capsys.readouterr().err

def test_shape_adaptation_keeps_pose_and_expression_and_takes_the_shape():
    rng = np.random.default_rng(0)
    source = rng.uniform(10, 50, (68, 2))
    driver_face = source * [1.3, 0.9] + 4  # another person's proportions
    expressions = [np.zeros((68, 2)), np.zeros((68, 2))]
    expressions[1][64:68, 1] += 3  # the lower lip drops: an open mouth
    angle = 0.2
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    driver = np.stack([(driver_face + e) @ turn.T * 1.1 + 5 for e in expressions])
    adapted = adapt_shape(driver, source[None].repeat(3, 0))
    # Same as the driver when the shapes agree ...
    assert np.allclose(adapt_shape(driver, driver), driver, atol=1e-4)
    # ... and otherwise the source's proportions: jaw width / face height follows the source.
    ratio = lambda p: np.ptp(p[:, 0]) / np.ptp(p[:, 1])  # noqa: E731
    unturned = (adapted[0] - adapted[0].mean(0)) @ turn
    assert abs(ratio(unturned) - ratio(source)) < abs(ratio(unturned) - ratio(driver_face)) / 3
    mouth = lambda p: (p[64:68] @ turn)[:, 1].mean() - (p[60:64] @ turn)[:, 1].mean()  # noqa: E731
    assert mouth(adapted[1]) - mouth(adapted[0]) > 2  # the expression came along


def test_metrics_on_known_pairs(carphone_frames, carphone_track):
    frame, points = carphone_frames[30], carphone_track.points[30]
    assert ssim(frame, frame) == pytest.approx(1.0)
    describe = FaceDescriptor()
    same = describe(frame, points)
    assert cosine(same, same) == pytest.approx(1.0) and distance(same, same) == 0
    later = describe(carphone_frames[90], carphone_track.points[90])
    assert distance(same, later) < 0.6  # the same man, 2 s later: dlib calls it the same person
    features = InceptionPool()([frame, carphone_frames[60], carphone_frames[90]])
    assert features.shape == (3, 2048)
    assert frechet_distance(features, features) == pytest.approx(0, abs=1e-3)


def test_sources_must_show_one_face(tmp_path, detector, carphone_frames):
    write_png(tmp_path / "wall.png", np.full((120, 160, 3), 90, np.uint8))
    with pytest.raises(UserError, match="no face found in .*wall.png"):
        load_shots([tmp_path / "wall.png"], 32, 1, detector)
    write_png(tmp_path / "two.png", np.concatenate([carphone_frames[30], carphone_frames[30][:, ::-1]], axis=1))
    with pytest.raises(UserError, match="two.png shows 2 faces"):
        load_shots([tmp_path / "two.png"], 32, 1, detector)
    write_png(tmp_path / "one.png", carphone_frames[30])
    with pytest.raises(UserError, match="`shots` 3 but the sources give only 1"):
        load_shots([tmp_path / "one.png"], 32, 3, detector)
    crops, points = load_shots([tmp_path / "one.png"], 32, 1, detector)
    assert crops[0].shape == (32, 32, 3) and points.shape == (1, 68, 2)


def test_a_driver_frame_without_a_face_lends_no_mouth_and_no_lids():
    # There the last pose is held; what lies at those landmarks now is whatever hides the face (a hand).
    crops = [np.full((4, 4, 3), i, np.uint8) for i in range(4)]
    track = DriverTrack(crops, np.zeros((4, 68, 2), np.float32), np.zeros((4, 2, 2), np.float32),
                        np.array([True, False, False, True]))
    assert track.missing == 2
    assert [c is None for c in track.donors(slice(0, 4))] == [False, True, True, False]
    assert track.donors(slice(2, 4))[1] is crops[3]


@pytest.mark.slow
def test_animate_holds_the_pose_where_the_driver_has_no_face(tmp_path, tiny_model, carphone_frames):
    tiny_model.save_pretrained(tmp_path / "model")
    with FrameWriter(tmp_path / "driver.mp4", fps=12.5) as writer:
        for i, frame in enumerate(carphone_frames[60:72]):
            writer.write(np.full_like(frame, 128) if i in (4, 5) else frame)  # two frames without a face
    result = animate(tmp_path / "model", [sample_clip("carphone_pristine")], tmp_path / "driver.mp4",
                     tmp_path / "out.mp4", AnimateOptions(shots=4, finetune_steps=2, side_by_side=True, paste_back=False),
                     device="cpu", show_progress=False)
    assert result["driver_frames_without_face"] == 2 and result["finetune_steps"] == 2
    out = open_video(tmp_path / "out.mp4")
    assert len(out) == 12 and out.size == (96, 32) and out.fps == pytest.approx(12.5)
    # By default the generator's crop goes back into the source's whole frame (176x144), like the warp's.
    full = animate(tmp_path / "model", [sample_clip("carphone_pristine")], tmp_path / "driver.mp4",
                   tmp_path / "full.mp4", AnimateOptions(shots=2), device="cpu", show_progress=False)
    assert full["paste_back"] and full["path"] == "generator" and open_video(tmp_path / "full.mp4").size == (176, 144)
    with pytest.raises(UserError, match="not a talking-head model"):
        from reanimate.core.checkpoint import save_model_folder

        save_model_folder(tmp_path / "style", {"kind": "stylization"}, {"w": torch.zeros(1)})
        animate(tmp_path / "style", [sample_clip("carphone_pristine")], tmp_path / "driver.mp4", tmp_path / "o.mp4")


@pytest.mark.slow
def test_evaluation_table_has_ff_ft_and_copy(tmp_path, tiny_model):
    tiny_model.save_pretrained(tmp_path / "model")
    synth_dataset(tmp_path / "syn", identities=2, frames=8, size=32, show_progress=False)
    result = evaluate(tmp_path / "model", tmp_path / "syn", shots=(1, 2), targets=3, finetune_steps=2,
                      device="cpu", show_progress=False)
    rows = {(r["method"], r["shots"]): r for r in result["rows"]}
    assert set(rows) == {(m, t) for m in ("FF", "FT", "copy") for t in (1, 2)}
    assert all(r["images"] == 6 and -1 <= r["ssim"] <= 1 and r["fid"] >= 0 for r in rows.values())
    assert "FF" in format_table(result)
    with pytest.raises(UserError, match="lower `shots`"):
        evaluate(tmp_path / "model", tmp_path / "syn", shots=(32,), targets=3, device="cpu", show_progress=False)


@pytest.mark.slow
def test_reenactment_table_has_generator_rows_with_a_model(tmp_path, tiny_model, carphone_frames):
    from reanimate.talking_head.reenact import reenact

    with FrameWriter(tmp_path / "talk.mp4", fps=25) as writer:
        for frame in carphone_frames[40:56]:
            writer.write(frame)
    result = reenact(tmp_path / "talk.mp4", shots=2, size=64, model=tiny_model, finetune_steps=1, device="cpu",
                     show_progress=False)
    methods = [row["method"] for row in result["rows"]]
    assert methods == ["copy (first shot)", "copy (nearest shot)", "warp", "generator FF", "generator FT"]
    assert all(-1 <= row["ssim"] <= 1 for row in result["rows"])
    with pytest.raises(UserError, match="`shots` 0 must be at least 1"):
        reenact(tmp_path / "talk.mp4", shots=0)
