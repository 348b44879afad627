"""The options of a stylization job, declared once: `reanimate stylize`, `reanimate.api` and `stylize.job`
pass these objects, and their values are checked here, when they are made (before any work).

    >>> options = StylizeOptions.of(seconds=60, patch_size=48, temporal="off")
    >>> options.train.overrides
    {'patch_size': 48}
"""

import os
from dataclasses import dataclass, field, fields
from typing import Any, Mapping

from reanimate.core.errors import UserError
from reanimate.core.run import Budget
from reanimate.stylize.config import StylizeConfig
from reanimate.stylize.consistency import parse_strength
from reanimate.stylize.pipeline import check_depth


@dataclass(frozen=True)
class TrainOptions:
    """How the network trains on the keyframes (Texler et al. 2020).

    Args:
        preset: "auto" ("fast" on a CPU, "paper" on a GPU; an interrupted run finishes as it began),
            a preset name or a YAML file. `config`: a full `StylizeConfig` instead.
        overrides: single `StylizeConfig` fields changed from the preset (patch_size=48, guide="gauss", ...).
        iterations / seconds: the budget, at most one (default: seconds by device, 180 on CPU, 30 on
            CUDA); both count the whole job, so a resumed run finishes it.
        seed: seeds weights and patch sampling.
        precision: "auto" trains in bfloat16 on CUDA and on CPUs with native bf16 (about 2x faster
            there), float32 elsewhere; "bf16" or "fp32" to choose. Rendering follows it.
    """

    preset: str = "auto"
    config: StylizeConfig | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)
    iterations: int | None = None
    seconds: float | None = None
    seed: int = 0
    precision: str = "auto"

    def __post_init__(self):
        if self.iterations is not None and self.seconds is not None:
            Budget.one_of(self.iterations, self.seconds)  # its words for "not both"
        if self.iterations is not None and self.iterations < 0:
            raise UserError(f"`iterations` {self.iterations} must be 0 or more")
        if self.seconds is not None and self.seconds < 0:
            raise UserError(f"`seconds` {self.seconds} must be 0 or more")
        # None means "the preset's": only the overrides given are kept
        object.__setattr__(self, "overrides", {k: v for k, v in self.overrides.items() if v is not None})

    @classmethod
    def of(cls, **options: Any) -> "TrainOptions":
        """From keyword arguments: this class's fields, and any other name a `StylizeConfig` field."""
        own = {f.name for f in fields(cls)} - {"overrides"}
        return cls(**{k: v for k, v in options.items() if k in own},
                   overrides={k: v for k, v in options.items() if k not in own})


@dataclass(frozen=True)
class StylizeOptions:
    """A whole `reanimate stylize` job: the training, then what is written.

    Args:
        train: `TrainOptions`.
        frames: frame indices to render (default: all).
        temporal: the temporal consistency pass after rendering: "auto", a strength (0-0.85) or "off".
        render_batch: frames per forward pass (default: 1 on a CPU, more on a GPU).
        depth: 8, or 16 bits a channel (16-bit PNG / TIFF, FFV1 .mkv; ProRes .mov gets the finer source).
        alpha: write the restyled layer with alpha where the keyframes' masks went, carried along the
            video's motion (every keyframe needs a mask; .mov ProRes 4444, .mkv FFV1 or PNG / TIFF frames).
        save_model: also save the model folder (config.json + model.safetensors) here.
    """

    train: TrainOptions = field(default_factory=TrainOptions)
    frames: list[int] | None = None
    temporal: float | str = "auto"
    render_batch: int | None = None
    depth: int = 8
    alpha: bool = False
    save_model: str | os.PathLike | None = None

    def __post_init__(self):
        parse_strength(self.temporal)
        check_depth(self.depth)
        if self.render_batch is not None and self.render_batch < 1:
            raise UserError(f"`render_batch` {self.render_batch} must be 1 or more")

    @classmethod
    def of(cls, **options: Any) -> "StylizeOptions":
        """From keyword arguments: this class's fields, and the rest `TrainOptions.of`'s."""
        own = {f.name for f in fields(cls)} - {"train"}
        return cls(TrainOptions.of(**{k: v for k, v in options.items() if k not in own}),
                   **{k: v for k, v in options.items() if k in own})
