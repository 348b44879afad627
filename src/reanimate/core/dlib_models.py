"""dlib and the model files that ship inside `face-recognition-models`: found offline, never downloaded.

Shared by the landmark tracker (talking heads) and the face-identity metric (CSIM). Loading them
takes seconds, so each is loaded once and kept.
"""

import functools
import importlib.util
import threading
from pathlib import Path

from reanimate.core.errors import UserError

MODEL_FILES = {
    "landmarks68": "shape_predictor_68_face_landmarks.dat",
    "descriptor": "dlib_face_recognition_resnet_model_v1.dat",
}
_THREAD = threading.local()


def import_dlib():
    try:
        import dlib
    except ImportError as exc:
        raise UserError("dlib is not installed: pip install dlib-bin face-recognition-models") from exc
    return dlib


def model_path(name: str) -> Path:
    """Path of a dlib model file shipped in `face-recognition-models` (found without importing it:
    its __init__ needs pkg_resources, which recent setuptools no longer has)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise UserError("face-recognition-models is not installed: pip install face-recognition-models dlib-bin")
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / MODEL_FILES[name]
    if not path.is_file():
        raise UserError(f"{path} is missing: reinstall face-recognition-models")
    return path


@functools.cache
def shape_predictor():
    """The 68-point shape predictor, loaded once per process (1 s: its file is 100 MB); dlib's docs
    say one instance may serve several threads at once."""
    return import_dlib().shape_predictor(str(model_path("landmarks68")))


def face_detector():
    """dlib's HOG face detector, made once per thread (0.7 s): an instance must not serve two threads
    at once (dlib's docs), and it runs without holding the GIL."""
    if not hasattr(_THREAD, "detector"):
        _THREAD.detector = import_dlib().get_frontal_face_detector()
    return _THREAD.detector
