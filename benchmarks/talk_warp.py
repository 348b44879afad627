"""A real face without a model: warp speed, paste-back speed and carphone self-reenactment.

    .venv/bin/python benchmarks/talk_warp.py [--size 256] [--skip-eval]

- warp: ms per frame of the piecewise-affine warp of a 256x256 crop (mesh lookup + cv2.remap),
  over the driver landmarks of carphone's second half; the baseline in the same process is a plain
  cv2.warpAffine of the same crop (the cheapest possible "move the face");
- warp + paste-back into the 176x144 frame, and into a 640x360 frame (carphone enlarged and
  letterboxed, so the face is 2.5x larger) at the crop size the CLI would choose there;
- end-to-end `animate` (decode, face tracking, warp, paste-back, H.264 encode) on carphone;
- the self-reenactment table (`talk eval --video`): copy a shot / warp, SSIM, PSNR, CSIM, landmark error.
"""

import argparse
import platform
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from reanimate.faces.landmarks import LandmarkDetector
from reanimate.faces.paste import head_mask, paste_back
from reanimate.faces.shots import Shot
from reanimate.faces.warp import FaceWarp
from reanimate.io.samples import sample_clip
from reanimate.io.video import open_video
from reanimate.talking_head.animate import animate, driver_track, warp_size
from reanimate.talking_head.reenact import format_reenact_table, reenact
from reanimate.talking_head.warp_avatar import WarpAvatar


def per_frame(fn, items, repeat: int = 3) -> float:
    """Best-of-`repeat` mean seconds per call of fn over items."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for item in items:
            fn(item)
        best = min(best, (time.perf_counter() - start) / len(items))
    return best


def speed(frames: list[np.ndarray], track, size: int) -> None:
    half = len(frames) // 2
    shot = Shot(frames[5], track.points[5], "frame 5")
    crop = shot.crop(size)
    image, points = crop.warp(shot.frame), crop.apply(shot.points)
    detector = LandmarkDetector()
    with tempfile.TemporaryDirectory() as tmp:
        from reanimate.io.writer import FrameWriter

        with FrameWriter(Path(tmp) / "driver.mp4", 25) as writer:
            for frame in frames[half:]:
                writer.write(frame)
        targets = driver_track(open_video(Path(tmp) / "driver.mp4"), size, detector, show_progress=False).points
    warp = FaceWarp(image, points)
    shift = np.float32([[1, 0, 2], [0, 1, -1]])
    base = per_frame(lambda t: cv2.warpAffine(image, shift, (size, size)), targets)
    alone = per_frame(lambda t: warp(t), targets)
    avatar = WarpAvatar([image], points[None])
    frame = shot.frame

    def warp_and_paste(t):
        face = avatar.render(t)
        return paste_back(frame, face, crop, head_mask([t, points], size))

    both = per_frame(warp_and_paste, targets)
    print(f"warp {size}x{size}: {alone * 1e3:.1f} ms/frame ({1 / alone:.0f} frames/s); a plain warpAffine of the "
          f"crop {base * 1e3:.2f} ms (x{alone / base:.0f})")
    print(f"warp {size}x{size} + paste-back into {frame.shape[1]}x{frame.shape[0]}: {both * 1e3:.1f} ms/frame "
          f"({1 / both:.0f} frames/s)")
    # 640x360: carphone enlarged 2.5x (face ~150 px) and letterboxed; the CLI's crop size for that face.
    big = np.zeros((360, 640, 3), np.uint8)
    scaled = cv2.resize(frame, (440, 360), interpolation=cv2.INTER_CUBIC)
    big[:, 100:540] = scaled
    big_points = shot.points * [440 / 176, 360 / 144] + [100, 0]
    big_shot = Shot(big, big_points.astype(np.float32), "enlarged")
    big_size = warp_size(big_shot)
    big_crop = big_shot.crop(big_size)
    big_image, big_crop_points = big_crop.warp(big), big_crop.apply(big_points)
    big_avatar = WarpAvatar([big_image], big_crop_points[None])
    scale = big_size / size
    big_targets = [(t + 0.5) * scale - 0.5 for t in targets]
    big_time = per_frame(lambda t: paste_back(big, big_avatar.render(t), big_crop,
                                              head_mask([t, big_crop_points], big_size)), big_targets, repeat=2)
    print(f"640x360 frame (face crop {big_size}x{big_size}): warp + paste-back {big_time * 1e3:.1f} ms/frame "
          f"({1 / big_time:.0f} frames/s)")


def end_to_end(frames, fps) -> None:
    from reanimate.io.image import write_png as save
    from reanimate.io.writer import FrameWriter

    half = len(frames) // 2
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        save(tmp / "me.png", frames[5])
        with FrameWriter(tmp / "driver.mp4", fps) as writer:
            for frame in frames[half:]:
                writer.write(frame)
        start = time.perf_counter()
        result = animate(None, [tmp / "me.png"], tmp / "driver.mp4", tmp / "out.mp4", show_progress=False)
        took = time.perf_counter() - start
    print(f"end to end (`talk animate --source photo`, {result['frames']} frames of {result['output_size']}, "
          f"crop {result['crop_size']}): {took:.1f} s, {result['frames'] / took:.1f} frames/s "
          "(face tracking of the driver included)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--skip-eval", action="store_true")
    parser.add_argument("--sheet", default=None, help="Folder for reenact.json and reenact-sheet.png.")
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {len(__import__('os').sched_getaffinity(0))} cores")
    clip = open_video(sample_clip("carphone_pristine"))
    frames = [f for _, f in clip.frames()]
    track = LandmarkDetector().track(frames)
    speed(frames, track, args.size)
    end_to_end(frames, clip.fps)
    if not args.skip_eval:
        start = time.perf_counter()
        result = reenact(clip, shots=8, size=args.size, out=args.sheet, show_progress=False)
        print(format_reenact_table(result))
        rows = {r["method"]: r for r in result["rows"]}
        copy, warp = rows["copy (first shot)"], rows["warp"]
        print(f"warp - copy: SSIM {warp['ssim'] - copy['ssim']:+.3f}, CSIM {warp['csim'] - copy['csim']:+.3f}, "
              f"landmark error x{warp['landmark_error'] / copy['landmark_error']:.2f} "
              f"({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
