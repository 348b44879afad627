import pytest
import torch

from reanimate.core.checkpoint import (
    latest_training_state,
    load_model_folder,
    load_training_state,
    save_model_folder,
    save_training_state,
)
from reanimate.core.errors import UserError
from reanimate.core.files import atomic_dir


def test_atomic_dir_failure_keeps_the_old_folder(tmp_path):
    target = tmp_path / "model"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_dir(target, overwrite=True) as tmp:
            (tmp / "new.txt").write_text("new")
            raise RuntimeError("disk full")
    assert [p.name for p in target.iterdir()] == ["old.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_model_folder_round_trip_and_damage(tmp_path):
    save_model_folder(tmp_path / "m", {"kind": "x"}, {"w": torch.arange(3.0)})
    config, state = load_model_folder(tmp_path / "m")
    assert config == {"kind": "x"} and torch.equal(state["w"], torch.arange(3.0))
    (tmp_path / "m" / "model.safetensors").write_bytes(b"broken")
    with pytest.raises(UserError, match="damaged"):
        load_model_folder(tmp_path / "m")


def test_training_states_are_pruned_and_found(tmp_path):
    for step in (5, 10, 15):
        save_training_state(tmp_path, step, {"step": step})
    assert latest_training_state(tmp_path).name == "training-state-0000015.pt"
    assert len(list(tmp_path.glob("training-state-*.pt"))) == 2
    assert load_training_state(latest_training_state(tmp_path))["step"] == 15
