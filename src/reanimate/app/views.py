"""What the studio's page shows, made from a `Studio`'s state: the status line, the loss plot, the
galleries, the editors' values, a camera frame's answer. Gradio-free except the camera's skips."""

import time

import gradio as gr
import numpy as np

from reanimate.app.studio import Studio
from reanimate.core.errors import UserError

PLOT_POINTS = 600  # steps drawn in the loss plot (older ones are thinned out)


def status_text(studio: Studio) -> str:
    if studio.video is None:
        return "No video loaded."
    status, keyframes, preview_indices = studio.snapshot()
    keys = ", ".join(str(key.index) for key in keyframes) or "none yet"
    line = f"**{status.state}**"
    if status.step:
        losses = " · ".join(f"{k} {v:.3f}" for k, v in status.losses.items())
        line += (f" · step {status.step} · {status.seconds:.0f} s trained · "
                 f"{status.steps_per_second:.2f} steps/s on {studio.device_name} · {losses}")
    if status.message:
        line += f" · {status.message}"
    elif status.state == "idle":
        line += " · ready: press Start on tab 3" if keyframes else " · next: paint a keyframe on tab 2"
    return f"{line}\n\nkeyframes: {keys} · preview frames: {', '.join(map(str, preview_indices))}"


def loss_figure(history: list[tuple[int, str, float]]):
    """The loss curves as a matplotlib figure (drawn on the server: Gradio's own LinePlot left its
    lines out when updated every few seconds in a tab)."""
    from matplotlib.figure import Figure

    curves: dict[str, tuple[list[int], list[float]]] = {}
    steps = sorted({step for step, _, _ in history})
    keep = set(steps[:: max(1, len(steps) // PLOT_POINTS)]) | set(steps[-1:])
    for step, term, value in history:
        if step in keep:
            curves.setdefault(term, ([], []))[0].append(step)
            curves[term][1].append(value)
    figure = Figure(figsize=(10, 2.8), dpi=100, layout="tight")
    axes = figure.add_subplot()
    for term, (x, y) in curves.items():
        axes.plot(x, y, label=term, linewidth=1.3)
    axes.set_xlabel("step")
    axes.set_ylabel("loss")
    axes.grid(alpha=0.3)
    if curves:
        axes.legend(loc="lower left", bbox_to_anchor=(0, 1), ncols=len(curves), fontsize=9, frameon=False)
    else:
        axes.text(0.5, 0.5, "losses appear here while training runs", ha="center", va="center",
                  transform=axes.transAxes, color="gray")
    return figure


def preview_gallery(studio: Studio) -> list[tuple[np.ndarray, str]]:
    return [(image, f"frame {index}") for index, image in sorted(studio.previews.items())]


def keyframe_gallery(studio: Studio) -> list[tuple[np.ndarray, str]]:
    _, keyframes, _ = studio.snapshot()
    return [(key.style, f"keyframe {key.index}" + (" (masked)" if key.mask is not None else ""))
            for key in keyframes]


def parse_frames(text: str) -> list[int]:
    try:
        return [int(part) for part in text.replace(";", ",").split(",") if part.strip()]
    except ValueError:
        raise UserError(f"preview frames {text!r} must be frame numbers separated by commas, e.g. 10, 50, 90")


def editor_value(image: np.ndarray) -> dict:
    return {"background": image, "layers": [], "composite": image}


def mask_from_editor(value: dict | None) -> np.ndarray | None:
    """The strokes painted in the mask editor (any colour) as a boolean mask; None when nothing is painted."""
    if not value or not value.get("layers"):
        return None
    alpha = [np.asarray(layer)[:, :, 3] > 0 for layer in value["layers"] if np.asarray(layer).ndim == 3
             and np.asarray(layer).shape[2] == 4]
    mask = np.logical_or.reduce(alpha) if alpha else None
    return mask if mask is not None and mask.any() else None


def camera_frame(frame, process) -> tuple:
    """(processed frame, frame-rate line) for one camera frame; errors become the line, not pop-ups
    (frames arrive several times a second)."""
    if frame is None:
        return gr.skip(), gr.skip()
    started = time.perf_counter()
    try:
        out = process(frame)
    except Exception as exc:
        return gr.skip(), str(exc) if isinstance(exc, UserError) else f"{type(exc).__name__}: {exc}"
    return out, f"{1 / (time.perf_counter() - started):.1f} frames/s at {out.shape[1]}x{out.shape[0]}"
