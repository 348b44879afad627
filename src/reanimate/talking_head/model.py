"""A meta-learned talking-head model as a folder: config.json + model.safetensors.

Holds the embedder, the generator (its moving average when the run kept one) and the
discriminator without the per-video matrix W (fine-tuning on a new person uses w_0 + ê instead),
so the folder stays small whatever the training set was.
"""

import os
from pathlib import Path

import torch

from reanimate.core.checkpoint import (
    latest_training_state,
    load_model_folder,
    load_training_state,
    load_weights,
    save_model_folder,
)
from reanimate.core.errors import UserError, brief
from reanimate.talking_head.config import TalkConfig, model_settings
from reanimate.talking_head.nets.discriminator import Discriminator
from reanimate.talking_head.nets.embedder import Embedder
from reanimate.talking_head.nets.generator import Generator

MODEL_KIND = "talking-head"
MODEL_VERSION = 1


class TalkingHeadModel(torch.nn.Module):
    """Embedder, generator and discriminator (one unused W row) of a meta-learned model."""

    def __init__(self, config: TalkConfig):
        super().__init__()
        self.config = config
        self.embedder = Embedder(config)
        self.generator = Generator(config)
        self.discriminator = Discriminator(config, num_videos=1)

    def state_for_export(self) -> dict[str, torch.Tensor]:
        return {k: v for k, v in self.state_dict().items() if k != "discriminator.W.weight"}

    def save_pretrained(self, folder: str | os.PathLike, overwrite: bool = False) -> Path:
        meta = {"kind": MODEL_KIND, "version": MODEL_VERSION, "model": self.config.model_dict()}
        return save_model_folder(folder, meta, self.state_for_export(), overwrite=overwrite)

    @classmethod
    def from_pretrained(cls, folder: str | os.PathLike, device: str | torch.device = "cpu") -> "TalkingHeadModel":
        meta, state = load_model_folder(folder)
        if meta.get("kind") != MODEL_KIND:
            raise UserError(f"{folder} is not a talking-head model (it is a {meta.get('kind', 'stylization')} model)"
                            ": export one with `reanimate talk export RUN --out MODEL`")
        if meta.get("version") != MODEL_VERSION:
            raise UserError(f"{folder} is talking-head model version {meta.get('version')}; this reanimate reads "
                            f"version {MODEL_VERSION}")
        try:
            model = cls(TalkConfig(**model_settings(meta["model"]), preset="exported"))
        except (KeyError, TypeError, ValueError) as exc:
            raise UserError(f"{folder}/config.json lacks or garbles the network settings ({brief(exc)}): export it again") from exc
        state["discriminator.W.weight"] = model.discriminator.W.weight.detach().clone()
        load_weights(model, state, folder)
        return model.to(device).eval()


def export_run(run_dir: str | os.PathLike, out: str | os.PathLike, overwrite: bool = False) -> Path:
    """Write the newest training state of a meta-training run as a model folder."""
    path = latest_training_state(run_dir)
    if path is None:
        raise UserError(f"{run_dir} holds no training state (training-state-*.pt): run `reanimate talk meta-train` first")
    state = load_training_state(path)
    config = TalkConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in state["config"].items()})
    model = TalkingHeadModel(config)
    weights = {f"embedder.{k.removeprefix('embedder.')}": v for k, v in state["eg"].items() if k.startswith("embedder.")}
    generator = state["ema"] or {k.removeprefix("generator."): v for k, v in state["eg"].items()
                                 if k.startswith("generator.")}
    weights |= {f"generator.{k}": v for k, v in generator.items()}
    weights |= {f"discriminator.{k}": v for k, v in state["discriminator"].items() if k != "W.weight"}
    weights["discriminator.W.weight"] = model.discriminator.W.weight.detach()
    model.load_state_dict(weights)
    return model.save_pretrained(out, overwrite=overwrite)
