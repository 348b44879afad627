"""The warp-guided generator (`warp_guide`): the source warped to the target goes in, the warp plus a
learned correction comes out; episodes carry the warp; meta-training, FF, FT and reenactment run with it."""

import json

import numpy as np
import pytest
import torch

from reanimate.core.errors import UserError
from reanimate.faces.episodes import EpisodeDataset
from reanimate.faces.synth import animate as poses
from reanimate.faces.synth import random_identity, render_face, synth_dataset
from reanimate.faces.warp import nearest_shot
from reanimate.metrics.image import ssim
from reanimate.nn.convert import to_tensor
from reanimate.talking_head.config import load_config
from reanimate.talking_head.fewshot import Avatar, landmark_images
from reanimate.talking_head.meta_train import MetaTrainer
from reanimate.talking_head.model import TalkingHeadModel, export_run
from reanimate.talking_head.nets.generator import Generator
from reanimate.talking_head.warp_avatar import WarpAvatar


@pytest.fixture(scope="module")
def guided_dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("guided") / "syn"
    synth_dataset(root, identities=3, frames=8, size=32, show_progress=False)
    return root


@pytest.fixture(scope="module")
def shots():
    face = random_identity(np.random.default_rng(5))
    rendered = [render_face(face, pose, 64) for pose in poses(np.random.default_rng(6), 6)]
    return [r[0] for r in rendered], np.stack([r[1] for r in rendered])


def _guided_generator(batch: int):
    """A seeded tiny guided generator, with landmark images, guides in [-0.8, 0.8] and embeddings."""
    torch.manual_seed(0)
    config = load_config("tiny", warp_guide=True)
    generator = Generator(config)
    marks, guide = torch.rand(batch, 3, 32, 32) * 2 - 1, torch.rand(batch, 3, 32, 32) * 1.6 - 0.8
    return generator, marks, guide, torch.rand(batch, config.embed_dim)


def test_the_guided_generator_starts_at_the_warp_and_learns_a_correction():
    generator, marks, guide, embedding = _guided_generator(2)
    assert torch.equal(generator(marks, embedding, guide=guide), guide), "untrained, the output is the warp itself"
    target = (guide + 0.1).clamp(-1, 1)  # a shading the warp lacks
    optimizer = torch.optim.Adam(generator.parameters(), lr=1e-3)
    errors = []
    for _ in range(30):
        error = (generator(marks, embedding, guide=guide) - target).abs().mean()
        optimizer.zero_grad()
        error.backward()
        optimizer.step()
        errors.append(error.item())
    assert errors[-1] < 0.6 * errors[0], f"the correction learns ({errors[0]:.3f} -> {errors[-1]:.3f})"
    generator.eval()  # spectral norm's power iteration holds still
    out = generator(marks, embedding, guide=guide)
    assert out.shape == (2, 3, 32, 32) and out.abs().max() <= 1
    assert torch.allclose(out, (guide + generator.correction(marks, embedding, guide=guide)).clamp(-1, 1))
    with pytest.raises(ValueError, match="guide"):
        generator(marks, embedding)
    with pytest.raises(ValueError, match="guide"):
        Generator(load_config("tiny"))(marks, embedding, guide=guide)


def test_a_gain_pushed_below_zero_shows_the_warp_and_can_come_back():
    generator, marks, guide, embedding = _guided_generator(1)
    with torch.no_grad():
        generator.gain.fill_(-0.05)
    out = generator(marks, embedding, guide=guide)
    assert torch.equal(out, guide), "a negative gain counts as 0: the warp, never a correction turned backwards"
    (out - (guide + 0.1 * generator.layers(marks, embedding, guide=guide).detach())).abs().mean().backward()
    assert generator.gain.grad.item() < 0, "the gradient still reaches the gain, so a step raises it again"


def test_warp_guide_must_be_a_boolean():
    with pytest.raises(UserError, match="warp_guide must be true or false"):
        load_config("tiny", warp_guide="yes")


def test_episodes_carry_the_nearest_frame_warped_to_the_target(guided_dataset):
    plain, guided = EpisodeDataset(guided_dataset, k=4, seed=3), EpisodeDataset(guided_dataset, k=4, seed=3,
                                                                                  warp_guide=True)
    assert "guide" not in plain[0]
    warp_errors, copy_errors = [], []
    for epoch in range(4):
        guided.set_epoch(epoch)
        plain.set_epoch(epoch)
        for index in range(len(guided)):
            item = guided[index]
            assert torch.equal(item["target"], plain[index]["target"]) and item["guide"].shape == (3, 32, 32)
            warp_errors.append((item["guide"] - item["target"]).abs().mean())
            copy_errors.append(np.mean([(frame - item["target"]).abs().mean() for frame in item["frames"]]))
    # Synthetic faces move little, so the margin is small (about 0.67 at 32 and 64 px).
    assert np.mean(warp_errors) < 0.85 * np.mean(copy_errors), "the warp is closer to the target than a copied frame"
    held = EpisodeDataset(guided_dataset, k=4, holdout=2, warp_guide=True).heldout(0, 1)
    assert held["guide"].shape == (3, 32, 32)


def test_episode_guides_are_made_as_the_avatar_makes_them_at_use(tmp_path):
    synth_dataset(tmp_path / "syn", identities=2, frames=24, size=32, seed=1, show_progress=False)
    episodes = EpisodeDataset(tmp_path / "syn", k=4, size=64, warp_guide=True)
    filled = 0
    for clip in episodes.clip_ids:
        for target in range(4, 24):
            positions = [0, 1, 2, 3, target]
            _, crops, _ = episodes._crops(clip, positions)
            avatar = WarpAvatar([c for c, _ in crops[:4]], np.stack([p for _, p in crops[:4]]))
            shot = nearest_shot(avatar.points, crops[4][1])[0]
            expected = to_tensor(avatar.render(crops[4][1], shot=shot))
            assert torch.equal(episodes._episode(clip, positions)["guide"], expected)
            filled += avatar.mouth_frames
    assert filled, "some targets open their mouths wider than their shots: the fill is part of the guide"


def test_guided_meta_training_runs_exports_and_reports_the_warp(guided_dataset, tmp_path):
    config = load_config("tiny", warp_guide=True, holdout=1, preview_seconds=1e9, checkpoint_seconds=1e9)
    trainer = MetaTrainer(config, guided_dataset, tmp_path / "run", "cpu", seed=1, show_progress=False)
    loader = iter(trainer.loader())
    for _ in range(2):
        logged = trainer.train_step(next(loader))
    assert all(np.isfinite(v) for v in logged.values())
    scores = trainer.evaluate()
    assert {"eval/heldout_l1", "eval/copy_l1", "eval/warp_l1"} <= set(scores)
    assert trainer.preview().exists()
    trainer.save()
    model = TalkingHeadModel.from_pretrained(export_run(tmp_path / "run", tmp_path / "model"))
    assert model.config.warp_guide and json.loads((tmp_path / "model" / "config.json").read_text())["model"]["warp_guide"]


def test_a_model_saved_before_the_switch_loads_unguided(tmp_path):
    torch.manual_seed(0)
    TalkingHeadModel(load_config("tiny")).save_pretrained(tmp_path / "old")
    meta_path = tmp_path / "old" / "config.json"
    meta = json.loads(meta_path.read_text())
    del meta["model"]["warp_guide"]  # what the config of an earlier version holds
    meta_path.write_text(json.dumps(meta))
    assert not TalkingHeadModel.from_pretrained(tmp_path / "old").config.warp_guide


def test_guided_avatar_draws_at_the_detail_size_and_finetunes(shots):
    torch.manual_seed(0)
    model = TalkingHeadModel(load_config("tiny", warp_guide=True)).eval()
    big, big_points = shots
    small = [np.ascontiguousarray(f[::2, ::2]) for f in big]  # 64 -> 32 px shots, landmarks halved
    small_points = (big_points + 0.5) / 2 - 0.5
    avatar = Avatar(model, small[:4], small_points[:4], detail=(big[:4], big_points[:4]))
    assert avatar.out_size == 64
    marks = landmark_images(small_points[4:], 32)
    with pytest.raises(ValueError, match="landmarks"):
        avatar.render(marks)
    faces = avatar.render(marks, big_points[4:])
    assert len(faces) == 2 and faces[0].shape == (64, 64, 3)
    # Untrained, it shows the warp of the person's shot at 64 px: close to the real held-out frames.
    assert np.mean([ssim(f, t) for f, t in zip(faces, big[4:])]) > 0.5
    fresh = WarpAvatar(big[:4], big_points[:4])  # the same shot choices from the start
    assert all(np.array_equal(f, fresh.render(p)) for f, p in zip(faces, big_points[4:]))

    avatar.finetune(steps=5, lr=5e-4, show_progress=False, config=load_config("tiny", warp_guide=True))
    assert avatar.generator.gain.item() != 0 and model.generator.gain.item() == 0, "a copy of G is tuned, gain too"
    tuned = {k: v for k, v in avatar.generator.state_dict().items() if not torch.equal(v, model.generator.state_dict()[k])}
    assert any(k.startswith("out_conv") for k in tuned) and any(k.startswith("down.0") for k in tuned)
    with pytest.raises(UserError, match="guided"):
        avatar.save_pretrained("unused")


def test_the_correction_is_carried_to_the_sharp_warp():
    from reanimate.talking_head.fewshot import _add_correction

    rng = np.random.default_rng(0)
    warped = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)  # full of detail a 16 px network cannot hold
    assert np.array_equal(_add_correction(warped, torch.zeros(3, 16, 16)), warped), "no correction: the warp itself"
    lifted = _add_correction(warped, torch.full((3, 16, 16), 0.2)).astype(int) - warped
    inside = (warped > 30) & (warped < 225)  # away from clipping
    assert np.abs(lifted[inside] - 25.5).max() <= 1, "a correction of +0.2 lifts every pixel by 25.5 levels"


def test_save_person_of_a_guided_model_is_refused_before_any_work(tmp_path):
    from reanimate.talking_head.animate import animate
    from reanimate.talking_head.options import AnimateOptions

    model = TalkingHeadModel(load_config("tiny", warp_guide=True))
    with pytest.raises(UserError, match="guided model"):  # before the (missing) photo and driver are opened
        animate(model, [tmp_path / "me.jpg"], tmp_path / "driver.mp4", tmp_path / "out.mp4",
                AnimateOptions(save_person=tmp_path / "person"), show_progress=False)
