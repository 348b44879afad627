"""Model folders and resumable training state, written atomically (see `reanimate.core.files`)."""

import io
import json
import os
import re
from pathlib import Path

import torch
from safetensors.torch import load_file
from safetensors.torch import save as safetensors_bytes

from reanimate.core.errors import UserError, brief
from reanimate.core.files import atomic_dir, atomic_path

MODEL_CONFIG = "config.json"
MODEL_WEIGHTS = "model.safetensors"
_STATE_PATTERN = re.compile(r"^training-state-(\d{7})\.pt$")


def save_model_folder(folder: str | os.PathLike, config: dict, state_dict: dict, overwrite: bool = False) -> Path:
    """Write a model as a folder holding `config.json` + `model.safetensors`."""
    tensors = {k: v.detach().cpu().contiguous() for k, v in state_dict.items()}
    with atomic_dir(folder, overwrite=overwrite) as tmp:
        (tmp / MODEL_CONFIG).write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
        # Serialised in memory and written by Python, so a full disk is a plain OSError (ENOSPC).
        (tmp / MODEL_WEIGHTS).write_bytes(safetensors_bytes(tensors))
    return Path(folder)


def load_model_folder(folder: str | os.PathLike) -> tuple[dict, dict]:
    """Read a model folder; returns (config dict, state dict of CPU tensors). Never runs code."""
    folder = Path(folder)
    config_path, weights_path = folder / MODEL_CONFIG, folder / MODEL_WEIGHTS
    if not folder.is_dir():
        raise UserError(f"model folder {folder} does not exist (expected a folder with {MODEL_CONFIG} and {MODEL_WEIGHTS})")
    for needed in (config_path, weights_path):
        if not needed.is_file():
            raise UserError(f"{folder} is not a reanimate model folder: {needed.name} is missing")
    try:
        config = json.loads(config_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{config_path} is not valid JSON ({brief(exc)}): the model folder is damaged") from exc
    try:
        state = load_file(str(weights_path))
    except Exception as exc:  # safetensors raises its own error types for damaged files
        raise UserError(f"{weights_path} cannot be read ({brief(exc)}): the model folder is damaged") from exc
    return config, state


def load_weights(module: torch.nn.Module, state: dict, folder: str | os.PathLike) -> None:
    """Load `state` into `module`, or say in one line how the model folder's weights and config.json
    disagree (an edited config, or a folder from another version) instead of torch's list of every tensor."""
    own = module.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    reshaped = [k for k in own if k in state and tuple(state[k].shape) != tuple(own[k].shape)]
    if missing or unexpected or reshaped:
        parts = []
        for label, keys in (("missing", missing), ("not in this network", unexpected), ("of another shape", reshaped)):
            if keys:
                parts.append(f"{len(keys)} {label} (e.g. {', '.join(keys[:2])})")
        raise UserError(f"{folder}: the weights do not match its {MODEL_CONFIG}: {'; '.join(parts)}. The folder "
                        "was edited or comes from another version of reanimate: save or export the model again")
    module.load_state_dict(state)


def training_state_path(run_dir: str | os.PathLike, step: int) -> Path:
    return Path(run_dir) / f"training-state-{step:07d}.pt"


def latest_training_state(run_dir: str | os.PathLike) -> Path | None:
    """The newest `training-state-*.pt` in `run_dir`, or None."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        return None
    found = sorted(p for p in run_dir.iterdir() if _STATE_PATTERN.match(p.name))
    return found[-1] if found else None


def save_training_state(run_dir: str | os.PathLike, step: int, state: dict, keep: int = 2) -> Path:
    """Save resumable state atomically, then prune all but the newest `keep` states."""
    path = training_state_path(run_dir, step)
    buffer = io.BytesIO()
    torch.save(state, buffer)  # torch's own file writer reports a full disk as a RuntimeError
    with atomic_path(path) as tmp:
        tmp.write_bytes(buffer.getvalue())
    states = sorted(p for p in Path(run_dir).iterdir() if _STATE_PATTERN.match(p.name))
    for old in states[:-keep]:
        old.unlink(missing_ok=True)
    return path


def load_training_state(path: str | os.PathLike) -> dict:
    """Load resumable state with `weights_only=True`: a state file cannot run code."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise UserError(f"training state {path} cannot be read ({brief(exc)}): delete it to fall back to an older one") from exc
