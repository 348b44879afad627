"""The paper's evaluation protocol (Zakharov et al., Sec. 4, Table 1) on a prepared face dataset.

For every test video: T shots from its first frames, targets from its last `targets` frames (never
among the shots); each target is generated from its own landmarks, feed-forward (FF) and after
fine-tuning on the shots (FT), and compared with the real frame: FID over all generated vs real
targets, SSIM and CSIM per pair. Copying a shot is reported as a baseline.
"""

import numpy as np

from reanimate.core.errors import UserError
from reanimate.core.progress import progress
from reanimate.faces.align import resize_crop
from reanimate.faces.store import FaceDataset
from reanimate.metrics.fid import InceptionPool, frechet_distance
from reanimate.metrics.identity import FaceDescriptor, cosine, distance
from reanimate.metrics.image import ssim
from reanimate.talking_head.fewshot import Avatar, landmark_images
from reanimate.talking_head.model import TalkingHeadModel


def evaluate(model_dir, dataset, shots=(1, 8, 32), targets: int = 8, finetune_steps: int = 40,
             max_videos: int = 16, device: str = "auto", show_progress: bool = True) -> dict:
    """See `reanimate.api.evaluate_talking_head`."""
    from reanimate.core.device import resolve_device

    device = resolve_device(device)
    model = TalkingHeadModel.from_pretrained(model_dir, device)
    data = FaceDataset(dataset)
    size = model.config.image_size
    usable = [i for i, c in enumerate(data.clips) if c.frames >= targets + max(shots)]
    if not usable:
        longest = max((c.frames for c in data.clips), default=0)
        raise UserError(f"no clip of {dataset} has {targets} targets + {max(shots)} shots = {targets + max(shots)} "
                        f"frames (the longest has {longest}): lower `shots` or `targets`")
    usable = usable[:max_videos]
    if len(usable) * targets < 2:
        raise UserError(f"FID needs at least 2 images per setting: {len(usable)} video(s) x {targets} target(s); "
                        "raise `targets` or `max_videos`")
    describe, pool = FaceDescriptor(), InceptionPool(device)
    rows, methods = [], (("FF", 0), ("FT", finetune_steps)) if finetune_steps else (("FF", 0),)
    bar = progress(len(usable) * len(shots) * len(methods), "evaluating", "avatar", enabled=show_progress)
    with bar:
        for t in shots:
            results = {name: {"fake": [], "real": [], "ssim": [], "csim": [], "distance": []}
                       for name, _ in methods + (("copy", 0),)}
            for clip_id in usable:
                clip = data.clip(clip_id)
                n = len(clip)
                shot_ids = np.unique(np.linspace(0, n - targets - 1, t).round().astype(int)).tolist()
                target_ids = list(range(n - targets, n))
                crops = [resize_crop(f, p, size) for f, p in zip(clip.frames(shot_ids + target_ids),
                                                                 clip.landmarks[shot_ids + target_ids])]
                shot_frames, shot_points = [c[0] for c in crops[:len(shot_ids)]], np.stack([c[1] for c in crops[:len(shot_ids)]])
                real = [c[0] for c in crops[len(shot_ids):]]
                real_points = np.stack([c[1] for c in crops[len(shot_ids):]])
                marks = landmark_images(real_points, size)
                for name, steps in methods:
                    avatar = Avatar(model, shot_frames, shot_points, device)
                    if steps:
                        avatar.finetune(steps, show_progress=False)
                    fakes = avatar.render(marks, real_points)
                    _score(results[name], fakes, real, real_points, describe)
                    bar.update()
                _score(results["copy"], [shot_frames[0]] * len(real), real, real_points, describe,
                       fake_points=[shot_points[0]] * len(real))
            real_features = pool(results["copy"]["real"])
            for name, r in results.items():
                rows.append({"method": name, "shots": t, "fid": frechet_distance(pool(r["fake"]), real_features),
                             "ssim": float(np.mean(r["ssim"])), "csim": float(np.mean(r["csim"])),
                             "face_distance": float(np.mean(r["distance"])),
                             "images": len(r["fake"])})
    return {"model": str(model_dir), "dataset": str(dataset), "videos": len(usable), "targets_per_video": targets,
            "finetune_steps": finetune_steps, "csim_network": "dlib ResNet face descriptor (128-d)", "rows": rows}


def _score(into: dict, fakes, real, points, describe: FaceDescriptor, fake_points=None) -> None:
    """Add SSIM, CSIM and face distance of each (fake, real) pair; generated faces sit where their
    landmarks say (`points`), a copied shot where its own landmarks are (`fake_points`)."""
    for fake, truth, p, q in zip(fakes, real, points, fake_points if fake_points is not None else points):
        into["fake"].append(fake)
        into["real"].append(truth)
        into["ssim"].append(ssim(fake, truth))
        d_fake, d_truth = describe(fake, q), describe(truth, p)
        into["csim"].append(cosine(d_fake, d_truth))
        into["distance"].append(distance(d_fake, d_truth))


def format_table(result: dict) -> str:
    lines = [f"{'method':8s} {'T':>3s} {'FID':>8s} {'SSIM':>6s} {'CSIM':>6s} {'dist':>6s} {'images':>7s}"]
    for row in result["rows"]:
        lines.append(f"{row['method']:8s} {row['shots']:3d} {row['fid']:8.1f} {row['ssim']:6.3f} {row['csim']:6.3f} "
                     f"{row['face_distance']:6.3f} {row['images']:7d}")
    lines.append(f"{result['videos']} videos x {result['targets_per_video']} held-out targets; FT = "
                 f"{result['finetune_steps']} fine-tuning steps; CSIM from the {result['csim_network']}; "
                 "dist = dlib face distance (< 0.6: same person); copy = a shot pasted as the answer")
    return "\n".join(lines)
