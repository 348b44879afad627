"""The talking-head networks and meta-training configuration, with named presets (YAML)."""

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reanimate.core.config import load_preset

PRESET_DIR = Path(__file__).parent / "presets"
BACKBONES = ("inception", "vgg19", "none")
MODEL_FIELDS = ("image_size", "channels", "max_channels", "embed_dim", "bottleneck", "res_blocks",
                "attention_down", "attention_up", "warp_guide")
MODEL_DEFAULTS = {"warp_guide": False}  # model fields added later: what models saved before them were


@dataclass(frozen=True)
class TalkConfig:
    """Everything that defines the networks of Zakharov et al. (Sec. 3) and how they meta-train.

    The model part (`MODEL_FIELDS`) goes into an exported model's config.json; the rest describes
    the run, and a resumed run refuses a changed one.
    """

    preset: str = "paper"
    # Networks: down paths double the channels from `channels` up to `max_channels`.
    image_size: int = 256
    channels: int = 64
    max_channels: int = 512
    embed_dim: int = 512
    bottleneck: int = 16  # the generator's down path ends at this resolution
    res_blocks: int = 4  # AdaIN residual blocks at the bottleneck
    attention_down: int = 32  # self-attention after the down block reaching this resolution (0 = none)
    attention_up: int = 64  # ... and in the generator's up path
    # The generator also sees the source warped to the target landmarks and draws a correction over
    # it (a correction added to it) instead of drawing the whole face; off = the paper's generator.
    warp_guide: bool = False
    # Meta-learning (Sec. 3.2).
    k: int = 8  # frames per episode that make the person embedding
    batch_size: int = 2  # episodes per step and process
    holdout: int = 0  # last frames of every clip kept out of training, to measure reconstruction on
    lr_g: float = 5e-5  # embedder and generator
    lr_d: float = 2e-4
    betas: tuple[float, float] = (0.0, 0.999)
    # Loss weights; 0 switches a term off and skips its compute.
    content_weight: float = 1.0  # L1 on perceptual features of `perceptual`
    vggface_weight: float = 0.0  # L1 on VGGFace features (needs `vggface_weights`)
    adversarial_weight: float = 1.0  # hinge: -D(fake) for the generator
    feature_matching_weight: float = 10.0
    match_weight: float = 80.0  # L1 between W_i and the embedding
    # W_i at the start: "normal" (std 0.02) or "embedding" (ê of video i's first K frames, so the
    # match term starts at ê's own scale rather than pulling every ê towards 0).
    w_init: str = "normal"
    pixel_weight: float = 0.0  # plain L1 on pixels (not in the paper; helps tiny CPU models start)
    perceptual: str = "inception"
    vgg19_weights: str | None = None
    vggface_weights: str | None = None
    ema_decay: float = 0.0  # exponential moving average of the generator (0 = off)
    # Housekeeping.
    workers: int = 0  # DataLoader processes per training process
    log_every: int = 10  # steps
    preview_seconds: float = 60.0
    checkpoint_seconds: float = 300.0

    def __post_init__(self):
        if self.image_size < 16 or self.image_size & (self.image_size - 1):
            raise ValueError(f"image_size must be a power of two >= 16, got {self.image_size}")
        if self.bottleneck < 4 or self.bottleneck > self.image_size // 2 or self.bottleneck & (self.bottleneck - 1):
            raise ValueError(f"bottleneck must be a power of two between 4 and image_size/2, got {self.bottleneck}")
        if self.channels < 1 or self.max_channels < self.channels or self.embed_dim < 1:
            raise ValueError("channels, max_channels and embed_dim must be positive, max_channels >= channels")
        if self.k < 1 or self.batch_size < 1:
            raise ValueError(f"k and batch_size must be >= 1, got {self.k}, {self.batch_size}")
        if min(self.content_weight, self.vggface_weight, self.adversarial_weight, self.feature_matching_weight,
               self.match_weight, self.pixel_weight) < 0:
            raise ValueError("loss weights must be >= 0")
        if self.perceptual not in BACKBONES:
            raise ValueError(f"perceptual must be one of {', '.join(BACKBONES)}, got {self.perceptual!r}")
        if self.vggface_weight > 0 and not self.vggface_weights:
            raise ValueError("vggface_weight > 0 needs vggface_weights (a VGG-Face file: see the README)")
        if not 0 <= self.ema_decay < 1:
            raise ValueError(f"ema_decay must be in [0, 1), got {self.ema_decay}")
        if self.w_init not in ("normal", "embedding"):
            raise ValueError(f"w_init must be normal or embedding, got {self.w_init!r}")
        if not isinstance(self.warp_guide, bool):
            raise ValueError(f"warp_guide must be true or false, got {self.warp_guide!r}")
        if not (self.lr_g > 0 and self.lr_d > 0):
            raise ValueError("learning rates must be > 0")

    def width(self, resolution: int) -> int:
        """Channels of a feature map at `resolution` (doubling per halving, capped)."""
        halvings = int(math.log2(self.image_size // resolution))
        return min(self.channels * 2 ** max(0, halvings - 1), self.max_channels)

    def model_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in MODEL_FIELDS}


def model_settings(saved: dict[str, Any]) -> dict[str, Any]:
    """The network settings of a saved model's `model` entry; fields added since it was saved take
    the value that reproduces it (KeyError names a field that is missing and has no such value)."""
    return {name: saved[name] if name in saved or name not in MODEL_DEFAULTS else MODEL_DEFAULTS[name]
            for name in MODEL_FIELDS}


def load_config(preset: str = "paper", **overrides: Any) -> TalkConfig:
    """Resolve a preset ("paper", "small", "tiny" or a YAML file) and apply non-None overrides.

    Example:
        >>> load_config("small", batch_size=4).image_size
        64
    """
    if overrides.get("vggface_weights") and overrides.get("vggface_weight") is None:
        overrides["vggface_weight"] = 2e-3  # given VGG-Face weights, the term is on at the paper's weight
    return load_preset(TalkConfig, preset, PRESET_DIR, overrides)
