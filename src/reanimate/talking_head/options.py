"""The options of `reanimate talk animate`, declared once: the CLI, `reanimate.api.animate` and
`talking_head.animate` pass an `AnimateOptions`, whose values are checked when it is made.

    >>> AnimateOptions.of(adapt=False).motion    # the older switch, understood here only
    'absolute'
"""

import os
from dataclasses import dataclass
from typing import Any

from reanimate.core.errors import UserError
from reanimate.faces.motion import DEFAULT_MOTION, check_motion


@dataclass(frozen=True)
class AnimateOptions:
    """How a person is made to move like a driver's face.

    Args:
        shots: T, how many source faces make the person (default: all the sources give, at most 8).
        finetune_steps / finetune_seconds: with a model, fine-tune on the shots first (FT); 0 = FF.
        motion: "relative" (default: the driver's head move and expression since its first frame, at
            full size, on the source's face), "adapted" (the driver's pose and expression, taken from
            its mean face, on the source's face shape) or "absolute" (the driver's landmarks).
        face: which face of a photo with several (0 = the largest).
        paste_back: without a model the whole photo moves and is written (default); with a model
            the face goes back into the first source's whole frame when it is larger than the face
            crop. False writes the face crop.
        size: the side of the face crop the warp works at (default: the face's own pixels, 128-512).
        side_by_side: write driver | landmarks | result.
        layers: without a model, the person is warped over the background painted in behind them
            (default), so what stands behind the head holds still as it moves; False warps the photo
            around the head as one picture (the background near the head moves with it).
        save_person: with a model, also keep the fine-tuned person as a model folder here.
        audio: the output's sound: "driver" (default; none when the driver is silent), "source" (the
            first source video's), "none", or a media file's path.
    """

    shots: int | None = None
    finetune_steps: int = 0
    finetune_seconds: float | None = None
    motion: str = DEFAULT_MOTION
    face: int | None = None
    paste_back: bool | None = None
    size: int | None = None
    side_by_side: bool = False
    layers: bool = True
    save_person: str | os.PathLike | None = None
    audio: str = "driver"

    def __post_init__(self):
        check_motion(self.motion)
        for name, least in (("shots", 1), ("finetune_steps", 0), ("finetune_seconds", 0), ("face", 0), ("size", 16)):
            value = getattr(self, name)
            if value is not None and value < least:
                raise UserError(f"`{name}` {value} must be {least} or more")

    @property
    def finetunes(self) -> bool:
        return bool(self.finetune_steps or self.finetune_seconds)

    @classmethod
    def of(cls, adapt: bool | None = None, **options: Any) -> "AnimateOptions":
        """From keyword arguments; `adapt=False`, the older switch for the driver's landmarks as they
        are, means motion "absolute" (and cannot go with another motion)."""
        if adapt is False:
            motion = options.get("motion", DEFAULT_MOTION)
            if motion not in (DEFAULT_MOTION, "absolute"):
                raise UserError(f"without adapting (`adapt`) the motion is absolute: it cannot go with `motion` {motion}")
            options["motion"] = "absolute"
        return cls(**options)
