"""What the generator sees for each frame of a video: RGB, optionally temporally filtered, plus
optional Gaussian-mixture guide channels (Texler et al. 2020, Sec. 4.2).

Training and rendering build inputs the same way, through one `InputBuilder`.
"""

from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np
import torch

from reanimate.io.flow import compute_flow
from reanimate.io.video import Video
from reanimate.nn.convert import to_tensor
from reanimate.stylize.config import StylizeConfig
from reanimate.stylize.data import Keyframe
from reanimate.stylize.guides import GaussGuide, Seeds, seed_keyframe
from reanimate.stylize.temporal import filtered_frames


def seeds_for_video(seeds: list[Seeds], num_frames: int) -> list[Seeds]:
    """Keyframe seeds for a video of `num_frames` frames: indices past its end move to its last frame."""
    placed: dict[int, Seeds] = {}
    for s in sorted(seeds, key=lambda s: s.index):
        index = min(s.index, num_frames - 1)
        placed.setdefault(index, Seeds(index, s.points, s.colours))
    return list(placed.values())


class InputBuilder:
    """Network inputs for frames of `video` under the input settings of a model.

    Args:
        video: the opened video.
        settings: `StylizeConfig.input_dict()` (also stored in a model's config.json).
        seeds: guide points per keyframe (needed when settings["guide"] == "gauss").
        work_dir: the optical flow cache lives in `work_dir/flow` (reused by later runs).
        seed: seeds the colours of reseeded guide points.
    """

    def __init__(self, video: Video, settings: dict[str, Any], seeds: list[Seeds] | None = None,
                 work_dir: str | Path | None = None, seed: int = 0, show_progress: bool = True):
        self.video, self.settings = video, settings
        self._memo: dict[int, torch.Tensor] = {}
        self.flow = self.guide = None
        if settings.get("guide", "none") != "none" or settings.get("filter_input", False):
            if work_dir is None:
                raise ValueError("guides and filtered input need a work_dir for the optical flow cache")
            self.flow = compute_flow(video, Path(work_dir) / "flow", settings["flow_side"], show_progress)
        if settings.get("guide", "none") == "gauss":
            self.guide = GaussGuide(self.flow, seeds_for_video(seeds or [], len(video)), video.size,
                                    settings["guide_sigma"], settings["guide_radius"], seed, show_progress)

    @property
    def plain(self) -> bool:
        """True when the input is just the frame (a model that can run on single images)."""
        return self.flow is None

    def __call__(self, indices: Iterable[int] | None = None) -> Iterator[tuple[int, np.ndarray, torch.Tensor]]:
        """Yield (index, frame, input (C, H, W) in [-1, 1]) for the requested frames, in index order."""
        wanted = list(range(len(self.video))) if indices is None else sorted(set(indices))
        if self.settings.get("filter_input", False):
            s = self.settings
            pictures = filtered_frames(self.video, self.flow, wanted, s["filter_radius"], s["filter_sigma_t"],
                                       s["filter_sigma_c"])  # (index, frame, filtered): one decode
        else:
            pictures = ((index, frame, frame) for index, frame in self.video.frames(wanted))
        for index, frame, picture in pictures:
            x = to_tensor(picture)
            if self.guide is not None:
                guide = torch.from_numpy(self.guide.image(index)).permute(2, 0, 1) * 2 - 1  # (3, H, W)
                x = torch.cat([x, guide])
            yield index, frame, x

    def many(self, indices: Iterable[int]) -> dict[int, torch.Tensor]:
        """Inputs of a few frames (keyframes, previews, held-out frames), built once and remembered:
        a search trains many networks on the same keyframes."""
        missing = sorted(set(indices) - set(self._memo))
        if missing:
            self._memo.update({index: x for index, _, x in self(missing)})
        return {index: self._memo[index] for index in indices}


def training_inputs(video: Video, keyframes: list[Keyframe], config: StylizeConfig, work_dir: str | Path | None,
                    seed: int, show_progress: bool = True) -> tuple[InputBuilder, list[Seeds]]:
    """The input builder of a training job and the guide points seeded inside each keyframe's mask."""
    seeds = [seed_keyframe(k.index, k.mask, video.size, config.guide_radius, seed) for k in keyframes
             ] if config.guide == "gauss" else []
    return InputBuilder(video, config.input_dict(), seeds, work_dir, seed, show_progress), seeds
