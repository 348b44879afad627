"""The warp-guided generator (`warp_guide`): the source warped to the target goes in, a face blended
over that warp comes out; episodes carry the warp; meta-training, FF, FT and reenactment run with it."""

import json

import numpy as np
import pytest
import torch

from reanimate.core.errors import UserError
from reanimate.faces.episodes import EpisodeDataset
from reanimate.faces.synth import animate as poses
from reanimate.faces.synth import random_identity, render_face, synth_dataset
from reanimate.metrics.image import ssim
from reanimate.talking_head.config import load_config
from reanimate.talking_head.fewshot import Avatar, landmark_images
from reanimate.talking_head.meta_train import MetaTrainer
from reanimate.talking_head.model import TalkingHeadModel, export_run
from reanimate.talking_head.nets.generator import Generator


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


def test_the_guided_generator_starts_near_the_warp_and_needs_it():
    torch.manual_seed(0)
    config = load_config("tiny", warp_guide=True)
    generator = Generator(config).eval()
    marks, guide = torch.rand(2, 3, 32, 32) * 2 - 1, torch.rand(2, 3, 32, 32) * 2 - 1
    embedding = torch.rand(2, config.embed_dim)
    out = generator(marks, embedding, guide=guide)
    drawn, blend = generator.layers(marks, embedding, guide=guide)
    assert out.shape == (2, 3, 32, 32) and blend.shape == (2, 1, 32, 32)
    assert torch.allclose(out, guide + blend * (drawn - guide))
    assert 0.005 < blend.mean() < 0.1, "an untrained guided generator mostly keeps the warp"
    assert (out - guide).abs().mean() < 0.1 * (drawn - guide).abs().mean()
    with pytest.raises(ValueError, match="guide"):
        generator(marks, embedding)
    with pytest.raises(ValueError, match="guide"):
        Generator(load_config("tiny"))(marks, embedding, guide=guide)


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
    # Untrained, it mostly shows the warp of the person's shot: close to the real held-out frames.
    assert np.mean([ssim(f, t) for f, t in zip(faces, big[4:])]) > 0.5
    before = np.mean([np.abs(f.astype(float) - t).mean() for f, t in zip(avatar.render(landmark_images(small_points[:4], 32), big_points[:4]), big[:4])])
    avatar.finetune(steps=15, show_progress=False, config=load_config("tiny", warp_guide=True))
    after = np.mean([np.abs(f.astype(float) - t).mean() for f, t in zip(avatar.render(landmark_images(small_points[:4], 32), big_points[:4]), big[:4])])
    assert after < before, f"fine-tuning on the shots brings them closer ({before:.2f} -> {after:.2f})"
    with pytest.raises(UserError, match="guided"):
        avatar.save_pretrained("unused")


def test_the_correction_is_carried_to_the_sharp_warp():
    from reanimate.talking_head.fewshot import _blend_over

    rng = np.random.default_rng(0)
    warped = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)  # full of detail a 16 px network cannot hold
    guide = torch.rand(3, 16, 16) * 2 - 1
    drawn = torch.rand(3, 16, 16) * 2 - 1
    keep = _blend_over(warped, drawn, torch.zeros(1, 16, 16), guide)
    assert np.array_equal(keep, warped), "a blend of 0 is the warp itself, at its own size"
    brighter = _blend_over(warped, guide + 0.2, torch.ones(1, 16, 16), guide)
    lifted = brighter.astype(int) - warped
    inside = (warped > 30) & (warped < 225)  # away from clipping
    assert np.abs(lifted[inside] - 25.5).max() <= 1, "a correction of +0.2 lifts every pixel by 25.5 levels"
