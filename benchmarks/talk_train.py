"""Meta-training speed and memory per preset and batch size, and whether a generator EMA helps.

    .venv/bin/python benchmarks/talk_train.py [--device cpu] [--steps 6] [--skip-ema]

Each (preset, batch) runs in its own process on a synthetic dataset at the preset's size, so the
peak memory is that configuration's alone: peak RSS on CPU, peak allocated memory on CUDA. The
first step (warm-up: Inception load, allocator) is not timed. With --device cuda, bf16 autocast is
used as in training. The EMA comparison meta-trains the tiny preset twice on the same episodes,
with and without a generator moving average, and compares held-out reconstruction L1.
"""

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CONFIGS = [("tiny", 2), ("small", 2), ("small", 4), ("small", 8), ("paper", 1), ("paper", 2)]


def measure(preset: str, batch: int, device: str, steps: int) -> dict:
    import torch

    from reanimate.faces.synth import synth_dataset
    from reanimate.talking_head.config import load_config
    from reanimate.talking_head.meta_train import MetaTrainer

    torch.set_num_threads(2)
    config = load_config(preset, batch_size=batch, preview_seconds=1e9, checkpoint_seconds=1e9)
    with tempfile.TemporaryDirectory() as work:
        synth_dataset(Path(work) / "syn", identities=4, frames=config.k + 4, size=config.image_size,
                      show_progress=False)
        trainer = MetaTrainer(config, Path(work) / "syn", Path(work) / "run", device, show_progress=False)
        loader = iter(trainer.loader())
        trainer.train_step(next(loader))  # warm-up
        if trainer.device.type == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        episodes = [next(loader) for _ in range(steps)]
        start = time.perf_counter()
        for episode_batch in episodes:
            trainer.train_step(episode_batch)
        if trainer.device.type == "cuda":
            torch.cuda.synchronize()
        seconds = (time.perf_counter() - start) / steps
        memory = (torch.cuda.max_memory_allocated() / 2**20 if trainer.device.type == "cuda"
                  else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        params = sum(p.numel() for p in trainer.eg.parameters()) + sum(p.numel() for p in trainer.discriminator.parameters())
    return {"preset": preset, "batch": batch, "s_per_step": seconds, "episodes_per_s": batch / seconds,
            "memory_mb": memory, "params_m": params / 1e6, "device": str(trainer.device)}


def ema_comparison(steps: int = 700) -> None:
    from reanimate.faces.synth import synth_dataset
    from reanimate.talking_head.config import load_config
    from reanimate.talking_head.meta_train import MetaTrainer

    with tempfile.TemporaryDirectory() as work:
        synth_dataset(Path(work) / "syn", identities=8, frames=24, size=32, show_progress=False)
        print(f"\ngenerator EMA (tiny preset, 8 synthetic identities, {steps} steps, held-out L1 in [-1, 1]):")
        for decay in (0.0, 0.99, 0.999):
            config = load_config("tiny", holdout=4, ema_decay=decay, preview_seconds=1e9, checkpoint_seconds=1e9)
            trainer = MetaTrainer(config, Path(work) / "syn", Path(work) / f"run-{decay}", "cpu", seed=0,
                                  show_progress=False)
            trainer.train(steps)
            print(f"  ema_decay {decay:<6} held-out L1 {trainer.evaluate()['eval/heldout_l1']:.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--skip-ema", action="store_true")
    parser.add_argument("--one", nargs=2, metavar=("PRESET", "BATCH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one[0], int(args.one[1]), args.device, args.steps)))
        return
    print(f"machine: {platform.machine()}, python {platform.python_version()}, device {args.device}")
    print(f"{'preset':8s} {'batch':>5s} {'params':>8s} {'s/step':>8s} {'episodes/s':>11s} {'peak MB':>9s}")
    base = None
    for preset, batch in CONFIGS:
        steps = 2 if preset == "paper" and args.device == "cpu" else args.steps
        out = subprocess.run([sys.executable, __file__, "--one", preset, str(batch), "--device", args.device,
                              "--steps", str(steps)], capture_output=True, text=True)
        if out.returncode != 0:
            print(f"{preset:8s} {batch:5d}  failed: {out.stderr.strip().splitlines()[-1]}")
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        if preset == "small" and batch == 2:
            base = r["episodes_per_s"]
        ratio = f" (x{r['episodes_per_s'] / base:.2f} vs small b2)" if base and preset == "small" and batch > 2 else ""
        print(f"{preset:8s} {batch:5d} {r['params_m']:7.2f}M {r['s_per_step']:8.3f} {r['episodes_per_s']:11.2f} "
              f"{r['memory_mb']:9.0f}{ratio}")
    if not args.skip_ema:
        ema_comparison()


if __name__ == "__main__":
    main()
