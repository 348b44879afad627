"""The stylization model and training configuration, with its named presets."""

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reanimate.core.config import load_preset

if TYPE_CHECKING:
    import torch

PRESET_DIR = Path(__file__).parent / "presets"
BACKBONES = ("inception", "vgg19", "none")
GUIDES = ("none", "gauss")
LR_SCHEDULES = ("constant", "cosine")
WARMUP, LR_FLOOR = 0.05, 0.05  # of the budget, of lr


def lr_factor(schedule: str, progress: float) -> float:
    """The learning rate's multiplier at `progress` (0 to 1) through the training budget."""
    if schedule == "constant":
        return 1.0
    progress = min(max(progress, 0.0), 1.0)
    if progress < WARMUP:
        return LR_FLOOR + (1 - LR_FLOOR) * progress / WARMUP
    return LR_FLOOR + (1 - LR_FLOOR) * 0.5 * (1 + math.cos(math.pi * (progress - WARMUP) / (1 - WARMUP)))


@dataclass(frozen=True)
class StylizeConfig:
    """Everything that defines a stylization network and how it trains (Texler et al., Sec. 3-4).

    The model part (filters, resblocks, in_channels) goes into a saved model's config.json;
    the rest describes the training run and makes resume refuse a changed run.
    """

    preset: str = "paper"
    filters: tuple[int, ...] = (32, 64, 128, 128, 128, 64)
    resblocks: int = 7  # Nr
    patch_size: int = 32  # Wp
    batch_size: int = 40  # Nb
    lr: float = 4e-4  # alpha, for both G and D
    # "constant" (the paper) or "cosine": a short warm-up, then down to LR_FLOOR of lr at the end of
    # the budget (seconds or iterations), so the network that is kept is a settled one.
    lr_schedule: str = "constant"
    betas: tuple[float, float] = (0.9, 0.999)
    weight_decay: float = 1e-5
    l1_weight: float = 4.0
    perceptual_weight: float = 6.0
    adversarial_weight: float = 0.5
    perceptual_backbone: str = "inception"
    vgg19_weights: str | None = None  # path or URL; None downloads torchvision's on first use
    # Patches drawn towards the painting's edges and strokes (`data.centre_weights`); 0 = uniform.
    detail_sampling: float = 0.0
    # L1 on the horizontal and vertical differences of output and painting: outlines and hatching
    # are steps in the image, which per-pixel L1 weighs by their few pixels only.
    edge_weight: float = 0.0
    mask_erosion: int = 0  # extra erosion in pixels, on top of the half patch that keeps patches inside
    # Flicker suppression (Sec. 4.2): extra guide channels and temporally filtered input.
    guide: str = "none"  # "none" or "gauss"
    guide_sigma: float = 10.0  # blob size, frame pixels
    guide_radius: float = 10.0  # Poisson-disk spacing of guide points, frame pixels
    filter_input: bool = False
    filter_radius: int = 15  # frames on each side
    filter_sigma_t: float = 5.0  # frames
    filter_sigma_c: float = 0.1  # fraction of the colour range
    flow_side: int = 640  # optical flow works at this longer side

    def __post_init__(self):
        if len(self.filters) != 6 or any(int(f) < 1 for f in self.filters):
            raise ValueError(f"filters must be 6 positive channel counts, got {list(self.filters)}")
        if not 0 <= self.resblocks <= 64 or any(int(f) > 1024 for f in self.filters):
            raise ValueError(f"resblocks must be 0-64 and filters at most 1024, got {self.resblocks}, {list(self.filters)}")
        if self.filters[3] != self.filters[2]:
            raise ValueError(f"filters[3] must equal filters[2] (residual blocks keep the width), got {list(self.filters)}")
        if self.patch_size < 16 or self.patch_size % 4:
            # The discriminator's third 4x4 stage needs a map of at least 2x2: patches of 16 px or more.
            raise ValueError(f"patch_size must be a multiple of 4 and >= 16, got {self.patch_size}")
        if self.batch_size < 2:
            raise ValueError(f"batch_size must be >= 2 (BatchNorm needs a batch), got {self.batch_size}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"lr_schedule must be one of {', '.join(LR_SCHEDULES)}, got {self.lr_schedule!r}")
        if self.detail_sampling < 0 or self.edge_weight < 0:
            raise ValueError(f"detail_sampling and edge_weight must be >= 0, got {self.detail_sampling}, {self.edge_weight}")
        if self.guide not in GUIDES:
            raise ValueError(f"guide must be one of {', '.join(GUIDES)}, got {self.guide!r}")
        if self.guide_sigma <= 0 or self.guide_radius < 2:
            raise ValueError(f"guide_sigma must be > 0 and guide_radius >= 2, got {self.guide_sigma}, {self.guide_radius}")
        if self.filter_radius < 1 or self.filter_sigma_t <= 0 or self.filter_sigma_c <= 0:
            raise ValueError("filter_radius must be >= 1 and filter_sigma_t, filter_sigma_c > 0")
        if self.flow_side < 32:
            raise ValueError(f"flow_side must be >= 32, got {self.flow_side}")
        if self.perceptual_backbone not in BACKBONES:
            raise ValueError(f"perceptual_backbone must be one of {', '.join(BACKBONES)}, got {self.perceptual_backbone!r}")

    @property
    def in_channels(self) -> int:
        return 3 + (3 if self.guide == "gauss" else 0)

    @property
    def needs_flow(self) -> bool:
        return self.guide != "none" or self.filter_input

    def input_dict(self) -> dict[str, Any]:
        """How a saved model builds its input from a video (guides are recomputed for new videos)."""
        names = ("guide", "guide_sigma", "guide_radius", "filter_input", "filter_radius", "filter_sigma_t",
                 "filter_sigma_c", "flow_side")
        return {name: getattr(self, name) for name in names}

    def model_dict(self) -> dict[str, Any]:
        """The part a saved model needs to rebuild its generator."""
        return {"filters": list(self.filters), "resblocks": self.resblocks, "in_channels": self.in_channels}


def resolve_preset(preset: str, device: "torch.device") -> str:
    """"auto" becomes the network that reaches a given quality soonest on `device`: "fast" on a CPU
    (4x the steps per second of "paper", and ahead of it at every budget up to minutes; see
    benchmarks/RESULTS.md), "paper" on a GPU, where the reference network is fast enough.
    Any other name or YAML file is returned as it is."""
    if preset != "auto":
        return preset
    return "fast" if device.type == "cpu" else "paper"


def preset_names() -> list[str]:
    return sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))


def load_config(preset: str = "paper", **overrides: Any) -> StylizeConfig:
    """Resolve a preset (a name from `preset_names()` or a YAML file) and apply overrides.

    Args:
        preset: "paper" (the reference "P" network), "fast" (lighter, for CPUs) or a path to YAML.
        **overrides: any `StylizeConfig` field; None values are ignored.

    Returns:
        A validated, frozen `StylizeConfig`.

    Example:
        >>> load_config("fast", patch_size=48).patch_size
        48
    """
    return load_preset(StylizeConfig, preset, PRESET_DIR, overrides)
