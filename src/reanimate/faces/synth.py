"""Synthetic talking faces with exact landmarks: a stand-in for VoxCeleb where it cannot be had.

Every identity is a procedural cartoon head with its own face shape, skin, hair, eyes, brows, mouth,
accessories and background. A face is a set of 3D points (the 68 landmarks plus outlines for the
head and hair) in a face frame whose unit is half the face width; a frame poses them (yaw, pitch,
roll, shift, scale), projects them orthographically and draws every feature from the projected
points, so the 68 landmarks are exactly where the drawing puts the jaw, brows, nose, eyes and lips.
"""

import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from reanimate.core.errors import UserError
from reanimate.core.progress import progress
from reanimate.faces.raster import SUBPIXEL_BITS
from reanimate.faces.store import CLIPS_DIR, ClipInfo, encode_jpeg, write_clip, write_dataset_header, write_index

_SUPERSAMPLE = 2  # drawn at twice the size, then area-averaged: anti-aliased edges everywhere
HAIR_STYLES = ("short", "long", "bald", "bob")


@dataclass(frozen=True)
class Identity:
    """Everything that stays fixed for one synthetic person."""

    chin: float  # chin height below the eye line (face half-width = 1)
    jaw_power: float  # < 1 square jaw, > 1 pointed chin
    forehead: float
    eye_x: float
    eye_w: float
    eye_h: float
    eye_tilt: float
    brow_gap: float
    brow_arch: float
    brow_width: float
    nose_len: float
    nose_w: float
    mouth_gap: float
    mouth_w: float
    lip_upper: float
    lip_lower: float
    unit: float  # face half-width as a fraction of the frame side
    skin: tuple
    hair: tuple
    hair_style: str
    hair_volume: float
    hairline: float
    iris: tuple
    lips: tuple
    shirt: tuple
    background: tuple  # two colours
    pattern: str
    glasses: tuple | None
    earrings: tuple | None
    moustache: bool
    blush: bool


def _colour(rng, low, high) -> tuple:
    return tuple(int(v) for v in rng.uniform(low, high))


def random_identity(rng: np.random.Generator) -> Identity:
    skin_tones = np.array([[255, 224, 196], [241, 194, 150], [224, 172, 105], [198, 134, 66], [141, 85, 36],
                           [96, 60, 38]], float)
    skin = skin_tones[rng.integers(len(skin_tones))] * rng.uniform(0.92, 1.05, 3)
    hair_colours = np.array([[30, 22, 18], [85, 55, 30], [160, 110, 60], [220, 190, 120], [120, 120, 125],
                             [170, 50, 30], [60, 60, 160]], float)
    return Identity(
        chin=rng.uniform(1.25, 1.6), jaw_power=rng.uniform(0.6, 1.4), forehead=rng.uniform(1.05, 1.35),
        eye_x=rng.uniform(0.36, 0.46), eye_w=rng.uniform(0.14, 0.2), eye_h=rng.uniform(0.06, 0.095),
        eye_tilt=rng.uniform(-0.03, 0.04), brow_gap=rng.uniform(0.12, 0.22), brow_arch=rng.uniform(0.02, 0.08),
        brow_width=rng.uniform(0.03, 0.07), nose_len=rng.uniform(0.45, 0.62), nose_w=rng.uniform(0.12, 0.2),
        mouth_gap=rng.uniform(0.22, 0.3), mouth_w=rng.uniform(0.27, 0.4), lip_upper=rng.uniform(0.045, 0.085),
        lip_lower=rng.uniform(0.06, 0.11), unit=rng.uniform(0.255, 0.3),
        skin=tuple(int(v) for v in np.clip(skin, 0, 255)),
        hair=tuple(int(v) for v in np.clip(hair_colours[rng.integers(len(hair_colours))] * rng.uniform(0.85, 1.15, 3), 0, 255)),
        hair_style=HAIR_STYLES[rng.integers(len(HAIR_STYLES))], hair_volume=rng.uniform(0.08, 0.3),
        hairline=rng.uniform(0.45, 0.7),
        iris=_colour(rng, [20, 40, 20], [120, 160, 200]), lips=_colour(rng, [150, 50, 60], [225, 120, 130]),
        shirt=_colour(rng, [20, 20, 20], [240, 240, 240]),
        background=(_colour(rng, [0, 0, 0], [255, 255, 255]), _colour(rng, [0, 0, 0], [255, 255, 255])),
        pattern=("plain", "stripes", "dots", "gradient")[rng.integers(4)],
        glasses=_colour(rng, [0, 0, 0], [200, 120, 120]) if rng.random() < 0.35 else None,
        earrings=_colour(rng, [180, 150, 0], [255, 230, 120]) if rng.random() < 0.25 else None,
        moustache=bool(rng.random() < 0.2), blush=bool(rng.random() < 0.3),
    )


@dataclass(frozen=True)
class Pose:
    yaw: float = 0.0  # radians
    pitch: float = 0.0
    roll: float = 0.0
    dx: float = 0.0  # shift, fraction of the frame side
    dy: float = 0.0
    zoom: float = 1.0
    mouth: float = 0.0  # opening, face units
    blink: float = 0.0  # 0 open, 1 closed
    brows: float = 0.0  # raise, face units
    smile: float = 0.0
    gaze: tuple = (0.0, 0.0)


def landmarks_3d(face: Identity, pose: Pose) -> np.ndarray:
    """(68, 3) landmarks in face units (x right, y down, z towards the camera), iBUG 300-W order."""
    pts = np.zeros((68, 3))
    theta = np.linspace(-math.pi / 2, math.pi / 2, 17)
    drop = pose.mouth * 0.7 * np.clip(np.cos(theta), 0, 1) ** 2  # an open mouth lowers the chin
    pts[0:17, 0] = np.sign(np.sin(theta)) * np.abs(np.sin(theta)) ** face.jaw_power
    pts[0:17, 1] = 0.1 + (face.chin - 0.1) * np.cos(theta) + drop
    pts[0:17, 2] = 0.55 * np.cos(theta) - 0.05
    eye_open = face.eye_h * (1.0 - 0.95 * pose.blink)
    for start, side in ((36, -1), (42, 1)):
        cx = side * face.eye_x
        # Outer corner first for the image-left eye (36..41), inner corner first for the other.
        xs = np.array([-1, -1 / 3, 1 / 3, 1, 1 / 3, -1 / 3]) * face.eye_w
        ys = np.array([0, -1, -1, 0, 0.8, 0.8]) * eye_open
        tilt = -side * face.eye_tilt * xs / face.eye_w
        pts[start:start + 6] = np.stack([cx + xs, ys + tilt, np.full(6, 0.5)], axis=1)
    brow_y = -(face.eye_h + face.brow_gap) - pose.brows
    for start, side in ((17, -1), (22, 1)):
        u = np.linspace(0, 1, 5)
        xs = side * face.eye_x + face.eye_w * (np.linspace(-1.25, 1.1, 5) if side < 0 else np.linspace(-1.1, 1.25, 5))
        ys = brow_y - face.brow_arch * np.sin(math.pi * (u if side < 0 else 1 - u) ** 0.8)
        pts[start:start + 5] = np.stack([xs, ys, np.full(5, 0.55)], axis=1)
    pts[27:31] = np.stack([np.zeros(4), np.linspace(-0.05, face.nose_len, 4), np.linspace(0.62, 0.95, 4)], axis=1)
    base = face.nose_len + 0.1
    pts[31:36] = np.stack([np.linspace(-face.nose_w, face.nose_w, 5), base + np.array([-0.03, 0.0, 0.02, 0.0, -0.03]),
                           np.array([0.68, 0.74, 0.78, 0.74, 0.68])], axis=1)
    mouth_y = face.nose_len + face.mouth_gap
    w, up, low, gap = face.mouth_w, face.lip_upper, face.lip_lower, pose.mouth
    outer = [(-w, 0), (-0.6 * w, -0.8 * up), (-0.25 * w, -up), (0, -0.75 * up), (0.25 * w, -up), (0.6 * w, -0.8 * up),
             (w, 0), (0.6 * w, gap + 0.8 * low), (0.25 * w, gap + low), (0, gap + 1.05 * low),
             (-0.25 * w, gap + low), (-0.6 * w, gap + 0.8 * low)]
    inner = [(-0.85 * w, 0), (-0.3 * w, -0.01), (0, -0.005), (0.3 * w, -0.01), (0.85 * w, 0), (0.3 * w, gap),
             (0, gap), (-0.3 * w, gap)]
    lips = np.array(outer + inner)  # (20, 2)
    lips[[0, 6, 12, 16], 1] -= pose.smile  # the corners rise in a smile
    pts[48:68, 0] = lips[:, 0]
    pts[48:68, 1] = mouth_y + lips[:, 1]
    pts[48:68, 2] = 0.7 - 0.25 * (lips[:, 0] / w) ** 2
    return pts


def _head_outline(face: Identity, extra: float = 0.0, height: float | None = None) -> np.ndarray:
    """(N, 3) arc over the top of the head from the right temple to the left one."""
    phi = np.linspace(0, math.pi, 25)
    top = (height if height is not None else face.forehead) + 0.1 + extra
    return np.stack([np.cos(phi) * (1 + extra), 0.1 - top * np.sin(phi), 0.3 * np.sin(phi) - 0.05], axis=1)


class Projector:
    """Face units -> frame pixels for one pose (orthographic camera)."""

    def __init__(self, face: Identity, pose: Pose, size: int):
        cy, sy = math.cos(pose.yaw), math.sin(pose.yaw)
        cp, sp = math.cos(pose.pitch), math.sin(pose.pitch)
        cr, sr = math.cos(pose.roll), math.sin(pose.roll)
        yaw = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
        pitch = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
        roll = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
        self.rotation = roll @ pitch @ yaw
        self.scale = face.unit * size * pose.zoom
        # The face point (0, 0.38) lands mid-frame: the framing `faces prepare` gives real faces.
        self.centre = np.array([size / 2 + pose.dx * size, size / 2 + pose.dy * size])
        self.pivot = np.array([0.0, 0.38, 0.0])

    def __call__(self, points: np.ndarray) -> np.ndarray:
        rotated = (points - self.pivot) @ self.rotation.T  # (N, 3)
        return rotated[:, :2] * self.scale + self.centre  # (N, 2) pixels


def _background(face: Identity, size: int, tint: float) -> np.ndarray:
    a, b = (np.array(c, float) * tint for c in face.background)
    ramp = np.linspace(0, 1, size)[:, None, None]
    image = a * (1 - ramp) + b * ramp if face.pattern == "gradient" else np.broadcast_to(a, (size, 1, 3))
    image = np.broadcast_to(image, (size, size, 3)).copy()
    if face.pattern == "stripes":
        image[(np.arange(size) // max(4, size // 12)) % 2 == 1, :] = b
    elif face.pattern == "dots":
        step = max(8, size // 8)
        for y in range(step // 2, size, step):
            for x in range(step // 2, size, step):
                cv2.circle(image, (x, y), max(2, step // 5), b.tolist(), -1, cv2.LINE_AA)
    return np.clip(image, 0, 255).astype(np.uint8)


def _poly(canvas, points, colour, closed=True, thickness=-1):
    fixed = np.round(points * (1 << SUBPIXEL_BITS)).astype(np.int32)
    if thickness < 0:
        cv2.fillPoly(canvas, [fixed], colour, cv2.LINE_AA, SUBPIXEL_BITS)
    else:
        cv2.polylines(canvas, [fixed], closed, colour, max(1, int(round(thickness))), cv2.LINE_AA, SUBPIXEL_BITS)


def _circle(canvas, centre, radius: float, colour, thickness: float = -1) -> None:
    one = 1 << SUBPIXEL_BITS
    cv2.circle(canvas, tuple(int(v) for v in np.round(np.asarray(centre) * one)), int(radius * one), colour,
               -1 if thickness < 0 else max(1, int(thickness)), cv2.LINE_AA, SUBPIXEL_BITS)


def _blend(canvas: np.ndarray, layer: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """`layer` where the anti-aliased uint8 `mask` is on, `canvas` elsewhere (clips irises and teeth)."""
    alpha = (mask.astype(np.float32) / 255.0)[:, :, None]
    return (layer * alpha + canvas * (1 - alpha)).astype(np.uint8)


def _shade(colour, factor) -> tuple:
    return tuple(int(min(255, c * factor)) for c in colour)


def render_face(face: Identity, pose: Pose, size: int = 256, tint: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Draw one frame.

    Returns:
        (RGB uint8 (size, size, 3), landmarks (68, 2) float32 in frame pixels).
    """
    big = size * _SUPERSAMPLE
    project = Projector(face, pose, big)
    pts3 = landmarks_3d(face, pose)
    lm = project(pts3)  # (68, 2) in supersampled pixels
    px = project.scale  # pixels per face unit
    canvas = np.ascontiguousarray(cv2.resize(_background(face, size, tint), (big, big), interpolation=cv2.INTER_NEAREST))
    skin, hair = face.skin, face.hair
    outline = project(_head_outline(face))
    hair_outline = project(_head_outline(face, face.hair_volume))
    # Behind the head: long hair, shoulders and neck, ears.
    if face.hair_style in ("long", "bob"):
        length = face.chin + (0.9 if face.hair_style == "long" else 0.2)
        back = np.concatenate([hair_outline, project(np.array([[-1 - face.hair_volume, length, -0.2],
                                                               [1 + face.hair_volume, length, -0.2]]))])
        _poly(canvas, back, hair)
    shoulders = project(np.array([[-2.6, face.chin + 2.2, -0.3], [-2.2, face.chin + 0.9, -0.3], [0, face.chin + 0.6, -0.3],
                                  [2.2, face.chin + 0.9, -0.3], [2.6, face.chin + 2.2, -0.3]]))
    _poly(canvas, shoulders, face.shirt)
    neck = project(np.array([[-0.55, 0.8, -0.2], [0.55, 0.8, -0.2], [0.5, face.chin + 0.75, -0.2],
                             [-0.5, face.chin + 0.75, -0.2]]))
    _poly(canvas, neck, _shade(skin, 0.8))
    for side in (-1, 1):
        ear = project(np.array([[side * (1.0 + 0.12 * math.cos(a)), 0.4 + 0.24 * math.sin(a), -0.05]
                                for a in np.linspace(0, 2 * math.pi, 16, endpoint=False)]))
        _poly(canvas, ear, _shade(skin, 0.9))
        if face.earrings is not None:
            ring = project(np.array([[side * 1.02, 0.72, -0.05]]))[0]
            _circle(canvas, ring, 0.06 * px, face.earrings, 0.03 * px)
    # The face: jaw line (landmarks 0-16) closed over the forehead.
    _poly(canvas, np.concatenate([lm[0:17], outline[1:-1]]), skin)
    if face.blush:
        for cheek in project(np.array([[-0.6, 0.55, 0.4], [0.6, 0.55, 0.4]])):
            overlay = canvas.copy()
            _circle(overlay, cheek, 0.16 * px, (235, 120, 120))
            canvas = cv2.addWeighted(overlay, 0.35, canvas, 0.65, 0)
    if face.hair_style != "bald":
        hairline = project(_head_outline(face, 0.0, face.forehead * face.hairline))
        _poly(canvas, np.concatenate([hair_outline, hairline[::-1]]), hair)
    # Eyes: white, iris (clipped to the eye), outline.
    for start in (36, 42):
        eye = lm[start:start + 6]
        mask = np.zeros(canvas.shape[:2], np.uint8)
        _poly(mask, eye, 255)
        layer = canvas.copy()
        _poly(layer, eye, (245, 245, 240))
        centre = eye.mean(axis=0) + np.array(pose.gaze) * face.eye_w * px
        radius = face.eye_h * 0.95 * px
        _circle(layer, centre, radius, face.iris)
        _circle(layer, centre, radius * 0.45, (15, 15, 15))
        canvas = _blend(canvas, layer, mask)
        _poly(canvas, eye, (40, 30, 30), closed=True, thickness=0.025 * px)
    for start in (17, 22):
        _poly(canvas, lm[start:start + 5], _shade(hair, 0.8), closed=False, thickness=face.brow_width * px)
    nose_colour = _shade(skin, 0.7)
    _poly(canvas, lm[27:31], nose_colour, closed=False, thickness=0.03 * px)
    _poly(canvas, lm[31:36], nose_colour, closed=False, thickness=0.035 * px)
    if face.moustache:
        stache = np.concatenate([lm[48:55] + [0, -0.03 * px], (lm[48:55] + [0, -0.12 * px])[::-1]])
        _poly(canvas, stache, _shade(hair, 0.9))
    # Mouth: lips, then the open mouth inside them, with a row of teeth under the upper lip.
    _poly(canvas, lm[48:60], face.lips)
    if pose.mouth > 0.01:
        inner = lm[60:68]
        _poly(canvas, inner, (70, 20, 30))
        teeth = np.concatenate([inner[0:5], (inner[0:5] + [0, min(pose.mouth, 0.05) * px])[::-1]])
        mask = np.zeros(canvas.shape[:2], np.uint8)
        _poly(mask, inner, 255)
        layer = canvas.copy()
        _poly(layer, teeth, (245, 245, 235))
        canvas = _blend(canvas, layer, mask)
    _poly(canvas, lm[60:68], _shade(face.lips, 0.6), closed=True, thickness=0.015 * px)
    if face.glasses is not None:
        for start in (36, 42):
            centre = lm[start:start + 6].mean(axis=0)
            _circle(canvas, centre, face.eye_w * 1.45 * px, face.glasses, 0.035 * px)
        bridge = np.array([lm[39] + [face.eye_w * 0.45 * px, 0], lm[42] - [face.eye_w * 0.45 * px, 0]])
        _poly(canvas, bridge, face.glasses, closed=False, thickness=0.035 * px)
    image = cv2.resize(canvas, (size, size), interpolation=cv2.INTER_AREA)
    # Supersampled pixel centre p maps to (p + 0.5) / S - 0.5 in the final frame.
    return image, ((lm + 0.5) / _SUPERSAMPLE - 0.5).astype(np.float32)


def _wander(rng, t: np.ndarray, amplitude: float) -> np.ndarray:
    """A smooth random signal in about [-amplitude, amplitude]: a few slow sines."""
    freqs, phases = rng.uniform(0.08, 0.5, 3), rng.uniform(0, 2 * math.pi, 3)
    wave = sum(np.sin(2 * math.pi * f * t + p) for f, p in zip(freqs, phases)) / 2.0
    return amplitude * np.clip(wave, -1.2, 1.2)


def animate(rng: np.random.Generator, frames: int, fps: float = 25.0) -> list[Pose]:
    """A head that turns, talks, blinks and raises its brows."""
    t = np.arange(frames) / fps
    yaw, pitch, roll = _wander(rng, t, 0.35), _wander(rng, t, 0.15), _wander(rng, t, 0.1)
    dx, dy, zoom = _wander(rng, t, 0.03), _wander(rng, t, 0.03), 1 + _wander(rng, t, 0.04)
    # Speech: syllables at 3-5 Hz under a slower envelope of phrases and pauses.
    syllables = np.clip(np.sin(2 * math.pi * rng.uniform(3, 5) * t + rng.uniform(0, 6)), 0, 1)
    phrases = np.clip(_wander(rng, t, 1.0) + 0.4, 0, 1)
    mouth = rng.uniform(0.12, 0.25) * syllables * phrases
    blink = np.zeros(frames)
    next_blink = rng.uniform(0.5, 3.0)
    while next_blink * fps < frames:
        start = int(next_blink * fps)
        for offset, closed in enumerate((0.5, 1.0, 0.7, 0.3)):
            if start + offset < frames:
                blink[start + offset] = closed
        next_blink += rng.uniform(1.5, 4.0)
    brows = np.clip(_wander(rng, t, 0.12), 0, None)
    smile = np.clip(_wander(rng, t, 0.06), 0, None)
    gaze_x, gaze_y = _wander(rng, t, 0.3), _wander(rng, t, 0.15)
    return [Pose(yaw[i], pitch[i], roll[i], dx[i], dy[i], zoom[i], mouth[i], blink[i], brows[i], smile[i],
                 (gaze_x[i], gaze_y[i])) for i in range(frames)]


def synth_dataset(out, identities: int = 8, frames: int = 64, videos_per_identity: int = 1, size: int = 256,
                  seed: int = 0, fps: float = 25.0, show_progress: bool = True) -> dict:
    """Write a face dataset of synthetic talking identities (see `reanimate.api.synth_faces`)."""
    if identities < 1 or frames < 1 or videos_per_identity < 1:
        raise UserError("`identities`, `frames` and `videos_per_identity` must be at least 1")
    if size < 32:
        raise UserError(f"`size` {size} is too small: use at least 32")
    if seed < 0:
        raise UserError(f"`seed` {seed} must be >= 0")
    root = Path(out)
    settings = {"identities": identities, "frames": frames, "videos_per_identity": videos_per_identity,
                "seed": seed, "fps": fps}
    write_dataset_header(root, "synthetic", size, settings)
    clips = []
    bar = progress(identities * videos_per_identity * frames, "synthetic faces", "frame", enabled=show_progress)
    with bar:
        for person in range(identities):
            face = random_identity(np.random.default_rng((seed, person)))
            for video in range(videos_per_identity):
                name = f"synth-{person:04d}/video-{video:02d}"
                file = Path(CLIPS_DIR) / (name + ".safetensors")
                if not (root / file).is_file():  # resume: finished clips stay
                    rng = np.random.default_rng((seed, person, video, 1))
                    tint = rng.uniform(0.85, 1.1)
                    crops, points = [], []
                    for pose in animate(rng, frames, fps):
                        image, landmarks = render_face(face, pose, size, tint)
                        crops.append(encode_jpeg(image))
                        points.append(landmarks)
                        bar.update()
                    write_clip(root / file, crops, np.stack(points), np.arange(frames),
                               {"identity": f"synth-{person:04d}", "source": "synthetic", "fps": f"{fps:g}"})
                else:
                    bar.update(frames)
                clips.append(ClipInfo(name=name, file=file.as_posix(), identity=f"synth-{person:04d}",
                                      source="synthetic", frames=frames))
    return write_index(root, clips, [], len(clips) * frames)
