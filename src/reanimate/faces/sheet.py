"""A contact sheet of a face dataset, for a person to check crops and landmarks at a glance."""

import os
from pathlib import Path

import numpy as np

from reanimate.core.errors import UserError
from reanimate.faces.align import resize_crop
from reanimate.faces.raster import draw_landmarks
from reanimate.faces.store import FaceDataset
from reanimate.io.image import contact_sheet, write_png


def dataset_sheet(dataset: FaceDataset, clips: int = 6, frames: int = 4, cell: int = 128) -> np.ndarray:
    """Rows of clips spread over the dataset; per frame: the crop, its landmark image, both overlaid.

    Args:
        clips: how many clips (rows), spread evenly over the dataset.
        frames: frames per clip, spread evenly over the clip.
        cell: side of each picture in pixels.
    """
    chosen = np.unique(np.linspace(0, len(dataset) - 1, min(clips, len(dataset))).round().astype(int))
    rows, labels = [], []
    for clip_id in chosen:
        info, clip = dataset.clips[clip_id], dataset.clip(int(clip_id))
        positions = np.unique(np.linspace(0, len(clip) - 1, min(frames, len(clip))).round().astype(int))
        row = []
        for image, points in zip(clip.frames(positions), clip.landmarks[positions]):
            small, points = resize_crop(image, points, cell)
            row += [small, draw_landmarks(points, (cell, cell)), draw_landmarks(points, (cell, cell), image=small)]
        rows.append(row)
        labels.append(f"{info.name}  identity {info.identity}  {info.frames} frames")
    return contact_sheet(rows, labels)


def write_dataset_sheet(dataset: str | os.PathLike, out: str | os.PathLike, clips: int = 6, frames: int = 4,
                        cell: int = 128) -> Path:
    """Check the arguments, draw the sheet of the dataset folder and save it as a PNG."""
    if clips < 1 or frames < 1 or cell < 16:
        raise UserError("`clips` and `frames` must be at least 1, `cell` at least 16")
    data = FaceDataset(dataset)
    if not len(data):
        raise UserError(f"{dataset} holds no clips (every video failed or had no face): nothing to show")
    write_png(out, dataset_sheet(data, clips, frames, cell))
    return Path(out)
