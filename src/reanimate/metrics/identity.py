"""CSIM: cosine similarity of face-recognition descriptors of a generated and a real face.

Zakharov et al. used ArcFace embeddings; ArcFace weights cannot be had offline, so this uses dlib's
ResNet face descriptor (128-d), which ships in `face-recognition-models`. Values are therefore not
comparable with the paper's CSIM column: dlib's descriptors all point roughly the same way, so the
cosine of two unrelated faces is already about 0.8-0.9 and identical images give 1. dlib's own
measure is the Euclidean `distance` (below 0.6: the same person), reported beside it.
"""

import numpy as np

from reanimate.core.dlib_models import import_dlib, model_path, shape_predictor


class FaceDescriptor:
    """dlib's 128-d face descriptor of a face whose landmarks are known (or found)."""

    def __init__(self):
        dlib = import_dlib()
        self._dlib = dlib
        self._encoder = dlib.face_recognition_model_v1(str(model_path("descriptor")))
        self._predictor = shape_predictor()

    def __call__(self, image: np.ndarray, points: np.ndarray) -> np.ndarray:
        """Descriptor (128,) of RGB uint8 `image`; `points` (68, 2) place the face (for a generated
        face, the landmarks it was generated from)."""
        x0, y0 = np.round(points.min(axis=0)).astype(int)
        x1, y1 = np.round(points.max(axis=0)).astype(int)
        shape = self._predictor(np.ascontiguousarray(image), self._dlib.rectangle(x0, y0, x1, y1))
        return np.array(self._encoder.compute_face_descriptor(np.ascontiguousarray(image), shape), np.float64)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """dlib's face distance: below 0.6 means the same person (99.38% on LFW, dlib's figure)."""
    return float(np.linalg.norm(a - b))
