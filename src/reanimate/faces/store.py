"""The face dataset format: how prepared and synthetic faces are stored and read (episodes: `episodes.py`).

A dataset is a folder:

    DATASET/dataset.json      format, version and the settings it was prepared with
    DATASET/index.json        every clip (name, identity, source, frame count) and every failure
    DATASET/clips/**.safetensors   one file per source video: the face crops as JPEG bytes
                              (`jpeg` + `offsets`), `landmarks` (N, 68, 2) in crop pixels and
                              `frame_index` (N,), the source frame of each crop

One safetensors file per clip is written atomically and read by slices through a memory map, so
an episode decodes only its K + 1 frames. `reanimate faces prepare` (real videos) and
`reanimate faces synth` (procedural faces) both write this format. No torch here: preparation
workers import this module and should start fast.
"""

import json
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from safetensors import safe_open
from safetensors.numpy import save as safetensors_bytes

from reanimate.core.errors import UserError, brief
from reanimate.core.files import atomic_path, write_json

FORMAT = "reanimate-faces"
VERSION = 1
DATASET_FILE = "dataset.json"
INDEX_FILE = "index.json"
CLIPS_DIR = "clips"
JPEG_QUALITY = 95


def encode_jpeg(image: np.ndarray) -> bytes:
    ok, buffer = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise OSError("JPEG encoding failed")
    return buffer.tobytes()


def decode_jpeg(data: np.ndarray, source: str | os.PathLike = "the dataset") -> np.ndarray:
    image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if image is None:
        raise UserError(f"a face crop in {source} cannot be decoded: the clip file is damaged; prepare the dataset again")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def write_clip(path: str | os.PathLike, crops: list[bytes], landmarks: np.ndarray, frame_index: np.ndarray,
               metadata: dict[str, str]) -> None:
    """Write one clip file atomically: JPEG-encoded crops, their (N, 68, 2) landmarks, source frames."""
    offsets = np.zeros(len(crops) + 1, np.int64)
    offsets[1:] = np.cumsum([len(c) for c in crops])
    tensors = {
        "jpeg": np.frombuffer(b"".join(crops), np.uint8) if crops else np.zeros(0, np.uint8),
        "offsets": offsets,
        "landmarks": np.ascontiguousarray(landmarks, np.float32),
        "frame_index": np.asarray(frame_index, np.int64),
    }
    data = safetensors_bytes(tensors, metadata={k: str(v) for k, v in metadata.items()})
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


class ClipFile:
    """Random access to one clip: landmarks, and any crops decoded on demand."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        try:
            with safe_open(str(self.path), framework="numpy") as f:
                self.offsets = f.get_tensor("offsets")
                self.landmarks = f.get_tensor("landmarks")  # (N, 68, 2) crop pixels
                self.frame_index = f.get_tensor("frame_index")
                self.metadata = f.metadata() or {}
        except Exception as exc:  # safetensors raises its own error types for damaged files
            raise UserError(f"clip {self.path} cannot be read ({brief(exc)}): prepare the dataset again") from exc

    def __len__(self) -> int:
        return len(self.landmarks)

    def frames(self, indices) -> list[np.ndarray]:
        """RGB uint8 crops for the given positions in the clip (not source frame numbers)."""
        try:
            with safe_open(str(self.path), framework="numpy") as f:
                data = f.get_slice("jpeg")
                return [decode_jpeg(data[int(self.offsets[i]):int(self.offsets[i + 1])], self.path) for i in indices]
        except UserError:
            raise
        except Exception as exc:  # safetensors raises its own error types for damaged files
            raise UserError(f"clip {self.path} cannot be read ({brief(exc)}): prepare the dataset again") from exc


@dataclass(frozen=True)
class ClipInfo:
    name: str
    file: str  # relative to the dataset folder
    identity: str
    source: str
    frames: int


def write_dataset_header(root: Path, kind: str, size: int, settings: dict) -> None:
    """Create dataset.json, or check that an existing one was made the same way (resume)."""
    header = {"format": FORMAT, "version": VERSION, "kind": kind, "size": size, "settings": settings}
    path = root / DATASET_FILE
    if path.exists():
        existing = read_header(root)
        if existing.get("kind") != kind:
            raise UserError(f"{root} already holds a {existing.get('kind')} face dataset: choose another `out` folder")
        before = {"size": existing.get("size"), **existing.get("settings", {})}
        now = {"size": size, **settings}
        differ = [f"{k} {before.get(k)} there, {now[k]} now" for k in now if before.get(k) != now[k]]
        if differ:
            raise UserError(f"{root} was made with other settings ({'; '.join(differ)}): use the same settings "
                            "to resume, or another `out` folder")
        return
    if root.exists() and any(root.iterdir()):
        raise UserError(f"{root} is not empty and is not a reanimate face dataset: choose a new `out` folder")
    root.mkdir(parents=True, exist_ok=True)
    write_json(path, header)


def read_header(root: Path) -> dict:
    path = root / DATASET_FILE
    if not path.is_file():
        raise UserError(f"{root} is not a reanimate face dataset ({DATASET_FILE} is missing): "
                        "make one with `reanimate faces prepare` or `reanimate faces synth`")
    try:
        header = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{path} is damaged ({brief(exc)})") from exc
    if not isinstance(header, dict):
        raise UserError(f"{path} is damaged (not a JSON object): prepare the dataset again")
    if header.get("format") != FORMAT or header.get("version") != VERSION:
        raise UserError(f"{root} holds a face dataset of format {header.get('format')!r} version "
                        f"{header.get('version')!r}; this reanimate reads version {VERSION}: prepare it again "
                        "into a new folder")
    if not isinstance(header.get("size"), int) or header["size"] < 1:
        raise UserError(f"{path} is damaged (crop size {header.get('size')!r}): prepare the dataset again")
    return header


class FaceDataset:
    """A prepared face dataset: its clips, identities and settings.

    Example:
        >>> data = FaceDataset("faces/")
        >>> clip = data.clip(0); clip.frames([0, 5])
    """

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        if not self.root.is_dir():
            raise UserError(f"face dataset {self.root} does not exist")
        self.header = read_header(self.root)
        index_path = self.root / INDEX_FILE
        if not index_path.is_file():
            raise UserError(f"{self.root} is not finished ({INDEX_FILE} is missing): run the same "
                            "`reanimate faces prepare` command again to complete it")
        try:
            index = json.loads(index_path.read_text())
            self.clips = [ClipInfo(**c) for c in index["clips"]]
        except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as exc:
            raise UserError(f"{index_path} is damaged ({brief(exc)}): run the preparation command again to rewrite it") from exc
        self.failed: list[dict] = index.get("failed", [])
        self.summary: dict = index.get("summary", {})
        self.identities = sorted({c.identity for c in self.clips})
        self.size = int(self.header["size"])

    def __len__(self) -> int:
        return len(self.clips)

    def clip(self, index: int) -> ClipFile:
        return ClipFile(self.root / self.clips[index].file)


def write_index(root: Path, clips: list[ClipInfo], failed: list[dict], frames: int) -> dict:
    """Write index.json (the dataset is finished from then on); returns the summary it holds.

    `frames` counts every frame looked at, with or without a face, in failed videos too.
    """
    summary = {
        "videos": len(clips) + len(failed),
        "clips": len(clips),
        "frames": frames,
        "frames_with_face": sum(c.frames for c in clips),
        "identities": len({c.identity for c in clips}),
        "failed": failed,
    }
    write_json(root / INDEX_FILE, {"clips": [c.__dict__ for c in clips], "failed": failed, "summary": summary})
    return summary
