"""A person animated without any network: the shot nearest each target is warped to it.

The training-free path of "Bringing Portraits to Life" (Averbuch-Elor et al. 2017), which the
systems people use today (X2Face, FOMM, Bi-layer, LivePortrait) build on: identity and detail come
from the person's own photo, moved by a dense piecewise-affine warp (`reanimate.faces.warp`). What
a warp cannot invent, the inside of an opening mouth, comes from the driver's own mouth, aligned
and colour matched, when the target opens wider than the chosen shot. Lids close because the eye's
triangles may shrink to nothing (`faces.warp`); irises, when known, are control points of their own.
`talking_head.portrait` moves a whole photo this way; this class works on face crops.
"""

import numpy as np

from reanimate.core.errors import UserError
from reanimate.faces.eyes import close_lids, turn_eyes
from reanimate.faces.mouth import close_lips, fill_mouth, mouth_opening, needs_mouth, widest_open
from reanimate.faces.warp import FaceWarp, nearest_shot

SWITCH = 0.85  # another shot is taken only when it is this much closer than the current one (no flicker)


class WarpAvatar:
    """Shots of a person (crops and their landmarks, all at one size) that warp to target landmarks.

    Args:
        crops: T face crops, (S, S, 3) uint8.
        points: (T, 68, 2) landmarks in crop pixels.
        irises: (T, 2, 2) iris centres in crop pixels (NaN where unseen), so gazes can move them.

    Example:
        >>> avatar = WarpAvatar(crops, points)
        >>> face = avatar.render(target_points, driver_crop, driver_points)
    """

    def __init__(self, crops: list[np.ndarray], points: np.ndarray, irises: np.ndarray | None = None):
        self.crops, self.points = crops, np.asarray(points, np.float32)
        self.warps = [FaceWarp(c, p, None if irises is None else irises[i])
                      for i, (c, p) in enumerate(zip(crops, self.points))]
        self.openings = [mouth_opening(p) for p in self.points]
        self.current = 0
        self.clamped_frames = 0  # frames whose motion would have folded the mesh
        self.mouth_frames = 0  # frames whose mouth inside came from the driver

    @property
    def size(self) -> int:
        return self.crops[0].shape[0]

    def choose(self, target: np.ndarray) -> int:
        """The shot nearest in pose and expression, kept while no other is clearly nearer."""
        best, distances = nearest_shot(self.points, target)
        if distances[best] < SWITCH * distances[self.current]:
            self.current = best
        return self.current

    def render(self, target: np.ndarray, driver_crop: np.ndarray | None = None,
               driver_points: np.ndarray | None = None, shot: int | None = None,
               exclude: int | None = None, look: np.ndarray | None = None) -> np.ndarray:
        """The person's face moved to `target` (68, 2): (S, S, 3) uint8.

        `driver_crop` / `driver_points`: the driver's frame, whose mouth inside fills an opening wider
        than the shot's and whose shut lids close the shot's; without them the shot with the
        widest-open mouth gives the mouth. `shot`: warp this shot instead of choosing the nearest;
        `exclude`: a shot never used (the target's own, when the target is a shot). `look`: (2, 2)
        where the irises go (`faces.eyes.iris_targets`; default: the shot's look kept).
        """
        if not np.isfinite(target).all():
            raise UserError("the target landmarks are not finite numbers")
        shot = self.choose(target) if shot is None else shot
        result = self.warps[shot](target)
        self.clamped_frames += result.folds_clamped
        face = result.image
        if look is not None and self.warps[shot].irises is not None:
            face = turn_eyes(face, target, self.warps[shot].look_kept(target), look)
        face = close_lids(face, result.points, self.points[shot], self.warps[shot].lash_offsets, driver_crop,
                          driver_points)
        face = close_lips(face, result.points, self.points[shot])
        if needs_mouth(target, self.openings[shot]):
            if driver_crop is None:  # no driver frame (or it is the truth being scored): the widest-open shot
                widest = widest_open(self.openings, shot, exclude)
                if widest is None:
                    return face
                driver_crop, driver_points = self.crops[widest], self.points[widest]
            face = fill_mouth(face, target, driver_crop, driver_points)
            self.mouth_frames += 1
        return face
