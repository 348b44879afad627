"""A photo brought to life: its whole picture warped, so the head moves in the frame as the driver's does.

After "Bringing Portraits to Life" (Averbuch-Elor et al. 2017): not a face crop pasted back, but one
warp of the photo around the head (the *stage*: a region of about four face sizes, or the whole
photo when it is smaller), whose border is pinned. The head follows the driver's shift, scale and
roll, its neck and shoulders follow partly, the background between them and the pinned border is
stretched or squeezed, and the picture outside the stage does not change. Nothing is pasted over a
head that moved away, so no outline is drawn twice.

Inside the face the mesh carries the driver's expression at full size; lids close on the lid skin
(`faces.warp`: the eye's triangles may shrink to nothing), the irises move with the driver's gaze
(`faces.eyes`), and an opening mouth gets the driver's teeth and tongue (`faces.mouth`). With
several shots, the one nearest each target in pose and expression draws the face, pasted over the
photo's moved head with its colours matched.
"""

import cv2
import numpy as np

from reanimate.faces.align import Crop
from reanimate.faces.eyes import close_lids, find_irises, gaze, iris_targets, turn_eyes
from reanimate.faces.layers import person_layers
from reanimate.faces.mouth import close_lips, fill_mouth, mouth_opening, mouth_share
from reanimate.faces.paste import head_mask, paste_back
from reanimate.faces.shots import Shot, crop_shots
from reanimate.faces.warp import FaceWarp
from reanimate.talking_head.warp_avatar import WarpAvatar

STAGE = 2.0  # the stage's side, in face crops (a face crop is about 1.8 face sizes across)


def stage_box(shot: Shot) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1): the part of the photo that moves, around its face."""
    height, width = shot.frame.shape[:2]
    crop = shot.crop(1)
    half = STAGE * crop.side / 2
    x0, y0 = max(0, int(np.floor(crop.cx - half))), max(0, int(np.floor(crop.cy - half)))
    x1, y1 = min(width, int(np.ceil(crop.cx + half))), min(height, int(np.ceil(crop.cy + half)))
    return x0, y0, x1, y1


def irises_of(shot: Shot) -> np.ndarray:
    """(2, 2) the shot's iris centres in its frame's pixels (NaN where none is seen)."""
    return find_irises(cv2.cvtColor(shot.frame, cv2.COLOR_RGB2GRAY), shot.points)


class AvatarCounts:
    """What a portrait reports of the avatar that draws its face (`self.avatar`), for `animate`'s summary."""

    @property
    def clamped_frames(self) -> int:
        """Frames whose motion would have folded the face mesh (pulled towards a rigid move there)."""
        return self.avatar.clamped_frames

    @property
    def mouth_frames(self) -> int:
        """Frames whose mouth inside came from another face."""
        return self.avatar.mouth_frames


class Portrait(AvatarCounts):
    """The first shot's photo, moved to target landmarks; other shots lend their faces.

    Targets come in face-crop coordinates (`shots[0].crop(size)`, where the motion modes of
    `faces.motion` work); pictures come out at the photo's own size.

    Args:
        shots: the person; the first one's whole frame is the picture that moves.
        size: the side of the face crops targets are given in.
        layers: the person warped over the background painted in behind them (`faces.layers`), so the
            background holds still; False warps the stage as one picture.

    Example:
        >>> portrait = Portrait(find_shots(["me.jpg"]), 256)
        >>> picture = portrait.render(target, look, driver_crop, driver_points)
    """

    path = "warp"
    steady_driver = True  # one crop for the whole driver: its landmarks keep the head's movement in the frame
    finetuned_steps = 0  # nothing to fine-tune (the same report as `GeneratedPortrait`'s)
    pastes = True  # the whole photo moves: the face crop alone only when asked

    def __init__(self, shots: list[Shot], size: int, layers: bool = True):
        self.reference, self.size = shots[0], size
        self.crops, images, self.shot_points = crop_shots(shots, size)
        irises = [irises_of(s) for s in shots]
        self.gazes = np.stack([gaze(s.points, i) for s, i in zip(shots, irises)])  # (T, 2, 2) each shot's look
        self.avatar = WarpAvatar(images, self.shot_points,
                                 np.stack([c.apply(i) for c, i in zip(self.crops, irises)]))
        self.box = stage_box(self.reference)
        x0, y0, x1, y1 = self.box
        self.offset = np.array([x0, y0], np.float32)
        stage, points = self.reference.frame[y0:y1, x0:x1], self.reference.points - self.offset
        # The person over a background plate: the head moves, what stands behind it does not (None when
        # the person fills the stage).
        self.layers = person_layers(stage, points) if layers else None
        self.stage = FaceWarp(stage, points, irises[0] - self.offset,
                              None if self.layers is None else self.layers.alpha)
        self.opening = mouth_opening(self.reference.points)

    @property
    def crop(self) -> Crop:
        """The face crop of the photo that targets are given in."""
        return self.crops[0]

    def to_stage(self, points: np.ndarray) -> np.ndarray:
        """Face-crop coordinates -> stage pixels."""
        return self.crop.invert(points) - self.offset

    def render(self, target: np.ndarray, look: np.ndarray | None = None, driver_crop: np.ndarray | None = None,
               driver_points: np.ndarray | None = None) -> np.ndarray:
        """The photo (H, W, 3) uint8 with its face at `target` (68, 2, face-crop coordinates).

        Args:
            look: (2, 2) how far the driver's irises moved since its start, per eye in eye widths
                (`faces.eyes.gaze`); None or NaN keeps the photo's look.
            driver_crop / driver_points: the driver's face crop and landmarks in it, whose mouth
                fills an opening wider than the photo's and whose shut lids close the photo's.
        """
        shot = self.avatar.choose(target)
        if shot == 0:
            at = self.to_stage(target)
            moved = self.stage(at)
            self.avatar.clamped_frames += moved.folds_clamped
            face = moved.image
            if look is not None:
                face = turn_eyes(face, at, self.stage.look_kept(at), iris_targets(self.gazes[0], look, at))
            face = close_lids(face, moved.points, self.stage.points, self.stage.lash_offsets, driver_crop,
                              driver_points)
            face = close_lips(face, moved.points, self.stage.points)
            share = mouth_share(at, self.opening)
            if driver_crop is not None and share > 0:
                face = fill_mouth(face, at, driver_crop, driver_points, share)
                self.avatar.mouth_frames += 1
            return self._into_photo(self._over_plate(face, moved.alpha))
        # Another shot is nearer: the photo's head is moved first (the background and body follow),
        # then that shot's face is laid over it in its colours.
        at = self.to_stage(target)
        moved = self.stage(at)
        base = self._into_photo(self._over_plate(moved.image, moved.alpha))
        face = self.avatar.render(target, driver_crop, driver_points, shot=shot,
                                  look=None if look is None else iris_targets(self.gazes[shot], look, target))
        mask = head_mask([target], self.size)
        return paste_back(base, face, self.crop, mask, match=self.crop.warp(base))

    def pictures(self, targets: np.ndarray, looks: np.ndarray | None = None, driver_crops=None,
                 driver_points: np.ndarray | None = None, paste: bool = True) -> list[np.ndarray]:
        """`render` for a batch (N, 68, 2) of targets, with their looks and driver frames (or none);
        without `paste`, the moved photo's face crop."""
        count = len(targets)
        looks = [None] * count if looks is None else looks
        driver_crops = [None] * count if driver_crops is None else driver_crops
        driver_points = [None] * count if driver_points is None else driver_points
        out = [self.render(*frame) for frame in zip(targets, looks, driver_crops, driver_points)]
        return out if paste else [self.crop.warp(picture) for picture in out]

    def _over_plate(self, stage: np.ndarray, alpha: np.ndarray | None) -> np.ndarray:
        return stage if self.layers is None else self.layers.over(stage, alpha)

    def _into_photo(self, stage: np.ndarray) -> np.ndarray:
        x0, y0, x1, y1 = self.box
        frame = self.reference.frame
        if stage.shape[:2] == frame.shape[:2]:
            return stage
        out = frame.copy()
        out[y0:y1, x0:x1] = stage
        return out
