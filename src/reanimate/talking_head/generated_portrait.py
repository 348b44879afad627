"""A photo whose face a meta-learned generator draws: the few-shot avatar pasted back into the photo.

The generator's twin of `talking_head.portrait.Portrait`, with the same face to `animate`: both
take batches of targets in face-crop coordinates and give back the pictures to write, and both
keep the counters the report shows. The generator draws the face crop (Zakharov et al., Fig. 1);
it goes back into the first shot's whole frame through the inverse crop transform, blended with a
feathered mask around the head (LivePortrait's stitching), its colours matched to the photo's.
"""

import numpy as np

from reanimate.faces.align import resize_crop
from reanimate.faces.paste import paste_face
from reanimate.faces.shots import Shot, crop_shots
from reanimate.talking_head.fewshot import Avatar, landmark_images
from reanimate.talking_head.model import TalkingHeadModel
from reanimate.talking_head.portrait import AvatarCounts


class GeneratedPortrait(AvatarCounts):
    """The first shot's photo with a face the few-shot `Avatar` draws at targets.

    Args:
        model: a meta-learned `TalkingHeadModel`.
        shots: the person; the first one's whole frame is the picture the face goes back into.
        size: the side of the face crops targets are given in (a guided model warps and corrects
            at this size; a plain one draws at its own and is given its own size here).

    Example:
        >>> portrait = GeneratedPortrait(model, find_shots(["me.jpg"]), model.config.image_size)
        >>> pictures = portrait.pictures(targets, paste=True)
    """

    path = "generator"
    steady_driver = False  # the generator expects crops that follow the face, as its training data's do

    def __init__(self, model: TalkingHeadModel, shots: list[Shot], size: int, device="cpu"):
        self.reference, self.size = shots[0], size
        self.crops, self.shot_images, self.shot_points = crop_shots(shots, size)
        own = model.config.image_size
        small = [resize_crop(f, p, own) for f, p in zip(self.shot_images, self.shot_points)]
        self.avatar = Avatar(model, [f for f, _ in small], np.stack([p for _, p in small]), device,
                             detail=(self.shot_images, self.shot_points))

    def finetune(self, steps: int = 0, seconds: float | None = None, show_progress: bool = True) -> dict[str, float]:
        """A closer likeness: the avatar fine-tuned on the shots (`Avatar.finetune`)."""
        return self.avatar.finetune(steps, seconds, show_progress=show_progress)

    def save_pretrained(self, folder, overwrite: bool = False):
        """The fine-tuned person as a model folder (`Avatar.save_pretrained`)."""
        return self.avatar.save_pretrained(folder, overwrite=overwrite)

    @property
    def finetuned_steps(self) -> int:
        return self.avatar.finetuned_steps

    @property
    def pastes(self) -> bool:
        """Whether pictures go back into the photo by default: only into a frame larger than the face crop."""
        height, width = self.reference.frame.shape[:2]
        return self.crops[0].side < 0.98 * max(width, height)

    def pictures(self, targets: np.ndarray, looks=None, driver_crops=None, driver_points=None,
                 paste: bool = True) -> list[np.ndarray]:
        """The photo with the face drawn at each target (N, 68, 2), or the face crops alone (`paste` off).
        The generator draws its own eyes and mouth: `looks` and the driver's crops are not used."""
        marks = landmark_images((targets + 0.5) * (self.avatar.size / self.size) - 0.5, self.avatar.size)
        faces = self.avatar.render(marks, targets)
        if not paste:
            return faces
        return [paste_face(self.reference.frame, face, self.crops[0], target, self.shot_points[0], self.shot_images[0])
                for face, target in zip(faces, targets)]
