"""Scores of a restyled video against its input: flicker (flow-warped temporal error) and, when the
stylized truth is known, PSNR / SSIM per frame."""

import os
from pathlib import Path
from typing import Any

import numpy as np

from reanimate.core.errors import UserError
from reanimate.core.files import work_dir_for
from reanimate.io.flow import compute_flow
from reanimate.io.video import Video, open_video
from reanimate.metrics.image import psnr, ssim
from reanimate.metrics.temporal import CUT_FRACTION, warping_errors


def score_video(output: Video | str | os.PathLike, video: Video | str | os.PathLike,
                truth: Video | str | os.PathLike | None = None, work_dir: str | os.PathLike | None = None,
                show_progress: bool = True) -> dict[str, Any]:
    """{"frames", "temporal_error", "temporal_errors", "input_temporal_error", "flicker_ratio"} and,
    with `truth`, "psnr", "ssim", "per_frame".

    The flicker ratio is the output's temporal error over the input video's own (same flow, same
    occlusion mask): 1.0 = as steady as the footage; noise and lighting changes of the footage count
    in both, so the ratio compares clips of any kind. Pairs across a scene cut ("scene_cuts": t for
    the pair t, t+1; less than a fifth of frame t found again in t+1) are left out of both means;
    "temporal_errors" lists every pair.

    The optical flow of `video` is cached in `work_dir`/flow (default: `OUTPUT-stem-run`, where
    `reanimate stylize` keeps it).
    """
    output, video = (v if isinstance(v, Video) else open_video(v) for v in (output, video))
    truth = truth if truth is None or isinstance(truth, Video) else open_video(truth)
    flow_dir = Path(work_dir if work_dir is not None else work_dir_for(output.path)) / "flow"
    if output.size != video.size:
        raise UserError(f"the output is {output.width}x{output.height} but the video is {video.width}x{video.height}")
    flow = compute_flow(video, flow_dir, show_progress=show_progress)
    errors = [e for _, e, _ in warping_errors(output, flow)]
    footage = [(e, found) for t, e, found in warping_errors(video, flow) if t < len(errors)]
    # Across a scene cut nothing moves from one frame to the next: both errors are huge and the ratio
    # of their means would be set by the cuts, not by what a viewer sees as flicker.
    cuts = [t for t, (_, found) in enumerate(footage) if found < CUT_FRACTION]
    kept = [t for t in range(len(footage)) if t not in set(cuts)]
    mean, footage_mean = (float(np.mean(e)) if e else 0.0 for e in ([errors[t] for t in kept],
                                                                      [footage[t][0] for t in kept]))
    result: dict[str, Any] = {"frames": len(output), "temporal_error": mean, "temporal_errors": errors,
                              "input_temporal_error": footage_mean, "scene_cuts": cuts,
                              "flicker_ratio": mean / footage_mean if footage_mean > 0 else float("nan")}
    if truth is not None:
        if (len(truth), truth.size) != (len(output), output.size):
            raise UserError(f"the truth has {len(truth)} frames of {truth.width}x{truth.height}; the output has "
                            f"{len(output)} of {output.width}x{output.height}")
        per_frame = [{"frame": i, "psnr": psnr(a, b), "ssim": ssim(a, b)}
                     for (i, a), (_, b) in zip(output.frames(), truth.frames())]
        result |= {"psnr": float(np.mean([r["psnr"] for r in per_frame])),
                   "ssim": float(np.mean([r["ssim"] for r in per_frame])), "per_frame": per_frame}
    return result
