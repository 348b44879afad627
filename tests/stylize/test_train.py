import numpy as np
import pytest
import torch

from reanimate.core.errors import UserError
from reanimate.stylize.data import Keyframe
from reanimate.stylize.pipeline import Stylizer
from reanimate.stylize.train import Trainer


def keyframes(frames):
    return [Keyframe(0, frames[0], 255 - frames[0])]


def test_one_step_changes_every_generator_parameter(tiny_config, frames):
    trainer = Trainer(tiny_config, keyframes(frames), device="cpu")
    before = {k: v.clone() for k, v in trainer.generator.state_dict().items() if v.is_floating_point()}
    losses = trainer.train_step()
    assert set(losses) == {"l1", "edges", "adversarial", "discriminator"}  # perceptual weight is off here
    after = trainer.generator.state_dict()
    unchanged = [k for k, v in before.items() if "running" not in k and torch.equal(v, after[k])]
    assert unchanged == []


def test_same_seed_same_run(tiny_config, frames):
    a = Trainer(tiny_config, keyframes(frames), device="cpu", seed=3)
    b = Trainer(tiny_config, keyframes(frames), device="cpu", seed=3)
    a.train(iterations=3, show_progress=False)
    b.train(iterations=3, show_progress=False)
    for (k, va), vb in zip(a.generator.state_dict().items(), b.generator.state_dict().values()):
        assert torch.equal(va, vb), k


def test_resume_continues_exactly(tiny_config, frames, tmp_path):
    straight = Trainer(tiny_config, keyframes(frames), device="cpu")
    straight.train(iterations=6, show_progress=False)
    first = Trainer(tiny_config, keyframes(frames), tmp_path / "run", device="cpu")
    first.train(iterations=3, show_progress=False)
    second = Trainer(tiny_config, keyframes(frames), tmp_path / "run", device="cpu")
    assert second.step == 3 and second.resumed_from is not None
    second.train(iterations=6, show_progress=False)
    for (k, va), vb in zip(straight.generator.state_dict().items(), second.generator.state_dict().values()):
        assert torch.allclose(va.float(), vb.float(), atol=1e-6), k
    assert (tmp_path / "run" / "preview.png").is_file() and (tmp_path / "run" / "log.jsonl").is_file()


def test_changed_keyframes_start_a_new_training(tiny_config, frames, tmp_path):
    Trainer(tiny_config, keyframes(frames), tmp_path / "run", device="cpu").train(iterations=2, show_progress=False)
    other = [Keyframe(0, frames[0], frames[1])]
    assert Trainer(tiny_config, other, tmp_path / "run", device="cpu").step == 0


def test_interrupted_training_keeps_its_progress(tiny_config, frames, tmp_path):
    trainer = Trainer(tiny_config, keyframes(frames), tmp_path / "run", device="cpu")

    def interrupt(t):
        if t.step == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        trainer.train(iterations=10, show_progress=False, callback=interrupt)
    assert Trainer(tiny_config, keyframes(frames), tmp_path / "run", device="cpu").step == 2


def test_save_and_load_render_the_same(tiny_config, frames, tmp_path):
    trainer = Trainer(tiny_config, keyframes(frames), device="cpu")
    trainer.train(iterations=2, show_progress=False)
    model = trainer.stylizer("cpu")
    model.save_pretrained(tmp_path / "model")
    loaded = Stylizer.from_pretrained(tmp_path / "model", "cpu")
    assert np.array_equal(model([frames[2]])[0], loaded([frames[2]])[0])
    assert loaded.config["training"]["steps"] == 2


def test_budget_must_be_one_of_two(tiny_config, frames):
    trainer = Trainer(tiny_config, keyframes(frames), device="cpu")
    with pytest.raises(UserError):
        trainer.train(iterations=1, seconds=1)


def test_a_stylization_folder_is_not_loaded_as_something_else(tmp_path):
    from reanimate.core.checkpoint import save_model_folder

    save_model_folder(tmp_path / "m", {"kind": "reanimate.talking_head"}, {"w": torch.zeros(1)})
    with pytest.raises(UserError, match="not a stylization model"):
        Stylizer.from_pretrained(tmp_path / "m", "cpu")


def test_an_interrupted_run_finishes_with_its_own_settings_under_preset_auto(tiny_config, frame_folder, frames,
                                                                             tmp_path, capfd):
    from reanimate import api

    painted = {0: 255 - frames[0]}
    started = api.train(frame_folder, painted, config=tiny_config, iterations=2, device="cpu", run_dir=tmp_path / "run",
                        show_progress=False)
    assert started.config["training"]["steps"] == 2
    finished = api.train(frame_folder, painted, iterations=3, device="cpu", run_dir=tmp_path / "run")  # preset auto
    assert "resuming from training-state-0000002.pt" in capfd.readouterr().err
    assert finished.config["model"] == started.config["model"] and finished.config["training"]["steps"] == 3


def test_the_cosine_schedule_warms_up_decays_to_the_budget_and_the_trainer_applies_it(tiny_config, frames):
    import dataclasses

    from reanimate.stylize.config import LR_FLOOR, lr_factor

    assert lr_factor("constant", 0.7) == 1.0
    assert lr_factor("cosine", 0.0) == pytest.approx(LR_FLOOR) and lr_factor("cosine", 0.05) == pytest.approx(1.0)
    assert lr_factor("cosine", 0.5) > lr_factor("cosine", 0.9) > lr_factor("cosine", 1.0) == pytest.approx(LR_FLOOR)
    trainer = Trainer(dataclasses.replace(tiny_config, lr_schedule="cosine"), keyframes(frames), device="cpu")
    trainer.train(iterations=10, show_progress=False)
    rate = trainer.opt_g.param_groups[0]["lr"]
    assert rate == pytest.approx(tiny_config.lr * lr_factor("cosine", 0.9))  # set before the last step
    assert trainer.opt_d.param_groups[0]["lr"] == rate
