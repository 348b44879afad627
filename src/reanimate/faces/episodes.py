"""Meta-learning episodes read from a face dataset (the format lives in `store.py`)."""

import os

import numpy as np
import torch

from reanimate.core.errors import UserError
from reanimate.faces.align import resize_crop
from reanimate.faces.raster import draw_landmarks
from reanimate.faces.store import ClipFile, FaceDataset
from reanimate.faces.mouth import fill_mouth, mouth_opening, needs_mouth, widest_open
from reanimate.faces.warp import FaceWarp, nearest_shot
from reanimate.nn.convert import to_tensor


class EpisodeDataset(torch.utils.data.Dataset):
    """Meta-learning episodes (Zakharov et al., Sec. 3.2): K frames and one more target frame of one
    video, each with its landmark image.

    Item `i` is an episode of clip `i`; the frames drawn depend only on (seed, epoch, i), so any
    worker or process draws the same episode and a resumed run repeats nothing.

    Args:
        dataset: a `FaceDataset` or its folder.
        k: frames that make the person embedding (the paper's K = 8).
        size: side of the returned images (default: the dataset's own).
        seed: sampling seed; call `set_epoch` each epoch for fresh episodes.
        skip_short: leave out clips with fewer than K + 1 frames instead of refusing.
        holdout: the last `holdout` frames of every clip are never drawn into episodes; `heldout`
            builds evaluation episodes whose targets are those frames.

    Returns items as dicts of float tensors in [-1, 1]: `frames` and `landmarks` (K, 3, S, S),
    `target` and `target_landmarks` (3, S, S), plus `video` (the clip's index in the dataset,
    below `num_videos`, for the discriminator's per-video W_i) and `identity` (index into the
    dataset's `identities`). With `warp_guide`, also `guide` (3, S, S): the K frame nearest the
    target in pose and expression, warped to the target's landmarks, a mouth opening wider than that
    frame's filled from the widest-open K frame (what a guided generator sees at use too; about a
    millisecond at 64 px, so DataLoader workers keep up).

    With a DataLoader, `set_epoch` reaches workers started after it: use the default
    `persistent_workers=False`, or every epoch repeats the episodes of the first.
    """

    def __init__(self, dataset: "FaceDataset | str | os.PathLike", k: int = 8, size: int | None = None,
                 seed: int = 0, skip_short: bool = False, holdout: int = 0, warp_guide: bool = False):
        self.data = dataset if isinstance(dataset, FaceDataset) else FaceDataset(dataset)
        if k < 1:
            raise UserError(f"K must be at least 1, got {k}")
        if holdout < 0:
            raise UserError(f"holdout must be >= 0, got {holdout}")
        self.k, self.seed, self.epoch, self.holdout, self.warp_guide = k, seed, 0, holdout, warp_guide
        self.size = size or self.data.size
        short = [c for c in self.data.clips if c.frames - holdout < k + 1]
        if short and not skip_short:
            names = ", ".join(f"{c.name} ({c.frames})" for c in short[:10]) + (" ..." if len(short) > 10 else "")
            raise UserError(f"{len(short)} clip(s) have fewer than K + 1 = {k + 1} frames with a face"
                            f"{f' besides {holdout} held-out ones' if holdout else ''}: {names}; lower K or leave "
                            "them out")
        self.clip_ids = [i for i, c in enumerate(self.data.clips) if c.frames - holdout >= k + 1]
        if not self.clip_ids:
            raise UserError(f"no clip in {self.data.root} has K + 1 = {k + 1} frames with a face")
        self.identity_of = {name: i for i, name in enumerate(self.data.identities)}
        self.num_videos = len(self.data.clips)  # short clips left out keep their numbers
        self._files: dict[int, ClipFile] = {}

    def __len__(self) -> int:
        return len(self.clip_ids)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _clip(self, clip_id: int) -> ClipFile:
        if clip_id not in self._files:
            if len(self._files) > 256:  # keep a bounded number of landmark arrays in memory
                self._files.clear()
            self._files[clip_id] = self.data.clip(clip_id)
        return self._files[clip_id]

    def pairs(self, clip_id: int, positions) -> tuple[torch.Tensor, torch.Tensor]:
        """Frames and their landmark images, each (len(positions), 3, S, S), of crops of one clip."""
        frames, _, marks = self._crops(clip_id, positions)
        return frames, marks

    def _crops(self, clip_id: int, positions) -> tuple[torch.Tensor, list[tuple[np.ndarray, np.ndarray]], torch.Tensor]:
        """(frames (N, 3, S, S), the crops as (uint8 image, (68, 2) landmarks), landmark images (N, 3, S, S))."""
        clip = self._clip(clip_id)
        crops = [resize_crop(frame, points, self.size)
                 for frame, points in zip(clip.frames(positions), clip.landmarks[list(positions)])]
        frames = torch.stack([to_tensor(frame) for frame, _ in crops])
        marks = torch.stack([to_tensor(draw_landmarks(points, (self.size, self.size))) for _, points in crops])
        return frames, crops, marks

    def _episode(self, clip_id: int, positions: list[int]) -> dict:
        """The K frames `positions[:-1]` and the target `positions[-1]` of a clip, as an item."""
        frames, crops, marks = self._crops(clip_id, positions)
        info = self.data.clips[clip_id]
        item = {
            "frames": frames[:-1],  # (K, 3, S, S)
            "landmarks": marks[:-1],  # (K, 3, S, S)
            "target": frames[-1],  # (3, S, S)
            "target_landmarks": marks[-1],
            "video": clip_id,
            "identity": self.identity_of[info.identity],
        }
        if self.warp_guide:  # as a guided avatar makes its guide at use (`talking_head.fewshot`)
            target, shots = crops[-1][1], crops[:-1]
            shot, _ = nearest_shot(np.stack([points for _, points in shots]), target)
            face = FaceWarp(*shots[shot])(target).image
            openings = [mouth_opening(points) for _, points in shots]
            if needs_mouth(target, openings[shot]) and (donor := widest_open(openings, shot)) is not None:
                face = fill_mouth(face, target, *shots[donor])  # a mouth opening wider than the shot's
            item["guide"] = to_tensor(face)
        return item

    def __getitem__(self, index: "int | tuple[int, int]") -> dict:
        """Episode of clip `index`; `(index, epoch)` names the epoch too (samplers use this: the
        episode then depends on nothing held by a worker process)."""
        epoch = self.epoch
        if isinstance(index, tuple):
            index, epoch = index
        index = range(len(self))[index]  # negative indices as for a list; out of range: IndexError
        clip_id = self.clip_ids[index]
        rng = np.random.default_rng((self.seed, epoch, index))
        picks = rng.choice(len(self._clip(clip_id)) - self.holdout, self.k + 1, replace=False)
        return self._episode(clip_id, [int(p) for p in picks])

    def heldout(self, index: int, target: int) -> dict:
        """An evaluation episode of clip `index`: K training frames (fixed per clip) and held-out
        frame `target` (0 .. holdout-1) as the target."""
        if not 0 <= target < self.holdout:
            raise IndexError(f"held-out frame {target} of {self.holdout}")
        clip_id = self.clip_ids[index]
        length = len(self._clip(clip_id))
        rng = np.random.default_rng((self.seed, 2**31 - 2, index))
        picks = [int(p) for p in rng.choice(length - self.holdout, self.k, replace=False)]
        return self._episode(clip_id, picks + [length - self.holdout + target])
