"""The warp-guided generator against the warp alone and copying a shot, on a real face.

    .venv/bin/python benchmarks/talk_guided.py [--video carphone_pristine] [--shots 8] [--seconds 180]
        [--preset small] [--guide both|on|off] [--model MODEL ...] [--out FOLDER]

Self-reenactment (`reanimate.talking_head.reenact`): T shots from the first half of the clip, the
second half driven by its own landmarks, scored at 256 px (SSIM, PSNR, CSIM, landmark error). For
each network (fresh `--preset` networks with the guide off and on, seeded, or the `--model`
folders given), FF and FT for `--seconds` of fine-tuning on the shots. Copying a shot and the warp
are the baselines, scored in the same run. Sheets and JSON under --out.
"""

import argparse
import json
import platform
import time
from pathlib import Path

import torch

from reanimate.io.samples import sample_clip
from reanimate.talking_head.config import load_config
from reanimate.talking_head.model import TalkingHeadModel
from reanimate.talking_head.reenact import format_reenact_table, reenact


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--video", default="carphone_pristine")
    parser.add_argument("--shots", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=180.0, help="fine-tuning budget of the FT rows")
    parser.add_argument("--preset", default="small", help="fresh networks of this preset (no --model)")
    parser.add_argument("--model", nargs="*", default=[], help="model folders instead of fresh networks")
    parser.add_argument("--guide", choices=["both", "on", "off"], default="both", help="fresh networks with the guide ...")
    parser.add_argument("--out", default="/tmp/talk-guided")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}, CPU")
    video = sample_clip(args.video) if not Path(args.video).exists() else args.video
    if args.model:
        models = {Path(m).name: TalkingHeadModel.from_pretrained(m) for m in args.model}
    else:
        models = {}
        for guide in {"both": (False, True), "on": (True,), "off": (False,)}[args.guide]:
            torch.manual_seed(0)
            models[f"fresh {args.preset}, guide {'on' if guide else 'off'}"] = TalkingHeadModel(
                load_config(args.preset, warp_guide=guide)).eval()
    for name, model in models.items():
        start = time.perf_counter()
        out = Path(args.out) / name.replace(" ", "-").replace(",", "")
        result = reenact(video, shots=args.shots, model=model, finetune_steps=0, finetune_seconds=args.seconds,
                         out=out, device="cpu", show_progress=False)
        print(f"\n{name} (warp_guide {model.config.warp_guide}, {model.config.image_size} px): "
              f"{time.perf_counter() - start:.0f} s in all, FT {args.seconds:.0f} s", flush=True)
        print(format_reenact_table(result), flush=True)
        (out / "benchmark.json").write_text(json.dumps({"name": name, "seconds": args.seconds, **result}, indent=1))


if __name__ == "__main__":
    main()
