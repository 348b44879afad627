"""`reanimate talk ...`: meta-learning the talking-head networks, exporting them, few-shot avatars and evaluation."""

import click

from reanimate.cli.options import DEVICE, QUIET, Group
from reanimate.faces.motion import DEFAULT_MOTION, MOTION_MODES


@click.group(cls=Group)
def talk():
    """Few-shot talking heads (Zakharov et al. 2019): meta-train, export."""


@talk.command("meta-train")
@click.argument("dataset")
@click.option("--run", "--run-dir", "run_dir", required=True,
              help="Run folder: training states, previews, logs (--run-dir under torchrun, which claims --run).")
@click.option("--preset", default="small", show_default=True,
              help="tiny (tests), small (CPU, 64 px), guided (small with --warp-guide), paper (256 px, "
                   "64->512 channels) or a YAML file.")
@click.option("--steps", type=click.IntRange(1), required=True, help="Train until the run has done this many steps.")
@click.option("--warp-guide/--no-warp-guide", default=None,
              help="The generator also sees the K frame nearest the target warped to it, and corrects that warp "
                   "(default: the preset's; on in guided, off in the paper's presets).")
@click.option("--batch-size", type=click.IntRange(1), default=None, help="Episodes per step and process.")
@click.option("--k", "k", type=click.IntRange(1), default=None, help="Frames per episode for the embedding (paper: 8).")
@click.option("--holdout", type=click.IntRange(0), default=None,
              help="Last frames of each clip kept out of training (MetaTrainer.evaluate() measures them).")
@click.option("--lr-g", type=float, default=None, help="Embedder and generator learning rate.")
@click.option("--lr-d", type=float, default=None, help="Discriminator learning rate.")
@click.option("--perceptual", type=click.Choice(["inception", "vgg19", "none"]), default=None,
              help="Content-loss backbone (default: inception, offline).")
@click.option("--vgg19-weights", default=None, help="torchvision VGG19 weights file or URL.")
@click.option("--vggface-weights", default=None, help="VGG-Face weights file or URL (turns on the VGGFace term).")
@click.option("--vggface-weight", type=float, default=None, help="Weight of the VGG-Face term (default with --vggface-weights: 2e-3, the paper's).")
@click.option("--match-weight", type=click.FloatRange(0), default=None,
              help="Weight of the match term between W_i and the embedding (paper: 80; 0 in the CPU presets).")
@click.option("--w-init", type=click.Choice(["normal", "embedding"]), default=None,
              help="W_i at the start: small random, or each video's first embedding (default: the preset's).")
@click.option("--ema", "ema_decay", type=float, default=None, help="Generator moving-average decay (0 = off).")
@click.option("--workers", type=click.IntRange(0), default=None, help="DataLoader processes per training process.")
@DEVICE
@click.option("--seed", type=click.IntRange(0), default=0, show_default=True)
@QUIET
def meta_train(dataset, run_dir, preset, steps, warp_guide, batch_size, k, holdout, lr_g, lr_d, perceptual, vgg19_weights,
               vggface_weights, vggface_weight, match_weight, w_init, ema_decay, workers, device, seed, quiet):
    """Meta-learn embedder, generator and discriminator on a face DATASET.

    \b
    Example:
      reanimate faces synth --identities 32 --frames 48 --size 64 --out synthetic
      reanimate talk meta-train synthetic --run runs/small --preset small --steps 2000
    Several GPUs:  torchrun --nproc_per_node 4 -m reanimate talk meta-train synthetic --run-dir runs/small ...
    Running the same command again resumes from the newest training state.
    """
    from reanimate import api

    api.meta_train(dataset, run_dir, preset=preset, steps=steps, device=device, seed=seed, show_progress=not quiet,
                   batch_size=batch_size, k=k, holdout=holdout, lr_g=lr_g, lr_d=lr_d, perceptual=perceptual,
                   vgg19_weights=vgg19_weights, vggface_weights=vggface_weights, vggface_weight=vggface_weight,
                   match_weight=match_weight, w_init=w_init, ema_decay=ema_decay, workers=workers,
                   warp_guide=warp_guide)


@talk.command()
@click.argument("run_dir")
@click.option("--out", required=True, help="Model folder to write (config.json + model.safetensors).")
@click.option("--overwrite", is_flag=True, help="Replace OUT if it exists.")
def export(run_dir, out, overwrite):
    """Write the newest state of a meta-training RUN_DIR as a model folder.

    \b
    Example:
      reanimate talk export runs/small --out models/small
    """
    from reanimate import api

    click.echo(f"wrote {api.export_talking_head(run_dir, out, overwrite=overwrite)}")


@talk.command("animate")
@click.option("--source", "sources", multiple=True, required=True,
              help="A photo or video of the person. Repeatable.")
@click.option("--driver", required=True, help="The driving video: its face's motion is copied.")
@click.option("--out", required=True, help="Output video (.mp4, ...) or a folder of PNGs.")
@click.option("--model", default=None,
              help="A model folder from `reanimate talk export`; without it the photos themselves are warped.")
@click.option("--motion", type=click.Choice(MOTION_MODES), default=DEFAULT_MOTION, show_default=True,
              help="relative: the driver's head move and expression since its first frame, at full size, on the "
                   "source's face; adapted: the driver's pose and expression (from its mean face) on the source's face "
                   "shape; absolute: the driver's landmarks as they are.")
@click.option("--no-adapt", "adapt", flag_value=False, default=None, help="The same as --motion absolute.")
@click.option("--face", type=click.IntRange(0), default=None,
              help="Which face of a photo with several (0 = the largest); a video source gives its tracked face.")
@click.option("--paste-back/--crop-only", "paste_back", default=None,
              help="Put the animated face back into the whole source photo (the default when the photo is larger "
                   "than the face crop) or write the face crop only.")
@click.option("--shots", type=click.IntRange(1), default=None, help="T: source faces used (default: all, at most 8).")
@click.option("--finetune-steps", type=click.IntRange(0), default=0, show_default=True,
              help="With --model: fine-tune on the shots first (FT); 0 = feed-forward (FF).")
@click.option("--finetune-seconds", type=click.FloatRange(0), default=None, help="Fine-tuning time budget instead.")
@click.option("--side-by-side", is_flag=True, help="Write driver | landmarks | result.")
@click.option("--layers/--no-layers", default=True, show_default=True,
              help="Without --model: warp the person over the background painted in behind them, so the background "
                   "holds still as the head moves; --no-layers warps the photo around the head as one picture (try it "
                   "when hair the person mask missed shows twice).")
@click.option("--save-person", default=None, help="With --model: also save the fine-tuned person as a model folder.")
@click.option("--audio", default="driver", show_default=True, metavar="driver|source|none|FILE",
              help="The output's sound: the driver's, the first source video's, none, or a media file's.")
@DEVICE
@click.option("--overwrite", is_flag=True)
@QUIET
def animate_command(sources, driver, out, model, device, overwrite, quiet, **options):
    """Make the person of --source move like the face in --driver, at the photo's full resolution.

    \b
    Example:
      reanimate talk animate --source me.jpg --driver speech.mp4 --out me.mp4
      reanimate talk animate --model models/small --source me.jpg --driver speech.mp4 --out me.mp4 \\
          --finetune-steps 200
    """
    from reanimate import api

    # The options are `AnimateOptions`' fields, by the same names.
    result = api.animate(model, list(sources), driver, out, device=device, overwrite=overwrite,
                         show_progress=not quiet, **options)
    click.echo(f"{result['path']}, {result['motion']} motion, {result['shots']} shots"
               + (f", {result['finetune_steps']} fine-tuning steps" if result["path"] == "generator" else "")
               + (f"; driver face missing in {result['driver_frames_without_face']} frames (last pose held)"
                  if result["driver_frames_without_face"] else ""))
    click.echo(f"wrote {result['written']}")


def _shot_counts(values: tuple[str, ...]) -> tuple[int, ...]:
    counts = [part for value in values for part in value.replace(",", " ").split()]
    if not counts or not all(c.isdigit() and int(c) > 0 for c in counts):
        raise click.BadParameter(f"{' '.join(values)!r}: give shot counts like --shots 1,8,32", param_hint="--shots")
    return tuple(sorted({int(c) for c in counts}))


@talk.command("eval")
@click.argument("dataset", required=False)
@click.option("--model", default=None, help="A model folder from `reanimate talk export` (needed with DATASET).")
@click.option("--video", default=None,
              help="Self-reenactment on a real clip instead of DATASET: shots from its first half, driven by the "
                   "second; copy, warp and (with --model) generator compared.")
@click.option("--shots", "shot_values", multiple=True, default=None,
              help="T values: --shots 1,8,32 or repeated --shots 1 --shots 8 (default: 1,8,32; with --video: 8).")
@click.option("--targets", type=click.IntRange(1), default=8, show_default=True, help="Held-out frames per video.")
@click.option("--finetune-steps", type=click.IntRange(0), default=40, show_default=True, help="FT steps (0: FF only).")
@click.option("--max-videos", type=click.IntRange(1), default=16, show_default=True)
@click.option("--out", default=None,
              help="Also write the table as JSON here; with --video a folder for reenact.json and reenact-sheet.png "
                   "(default: CLIP-reenact).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of the table.")
@DEVICE
@QUIET
def eval_command(dataset, model, video, shot_values, targets, finetune_steps, max_videos, out, as_json, device, quiet):
    """Score few-shot avatars: the paper's Table 1 on held-out frames of DATASET (FID, SSIM, CSIM), or
    self-reenactment on a real --video (SSIM, PSNR, CSIM, landmark error).

    \b
    Example:
      reanimate talk eval --model models/small test-faces --shots 1,8 --json
      reanimate talk eval --video talk.mp4 --out talk-eval
    """
    import json
    from pathlib import Path

    from reanimate import api
    from reanimate.core.files import write_json
    from reanimate.talking_head.evaluate import format_table
    from reanimate.talking_head.reenact import format_reenact_table

    if (dataset is None) == (video is None):
        raise click.UsageError("give either DATASET (with --model) or --video CLIP")
    if video is not None:
        counts = _shot_counts(shot_values) if shot_values else (8,)
        if len(counts) > 1:
            raise click.BadParameter("with --video give one shot count, e.g. --shots 8", param_hint="--shots")
        out = out or f"{Path(video).stem}-reenact"
        result = api.evaluate_reenactment(video, shots=counts[0], model=model, finetune_steps=finetune_steps, out=out,
                                          device=device, show_progress=not quiet)
        click.echo(json.dumps(result, indent=2) if as_json else format_reenact_table(result))
        return
    if model is None:
        raise click.UsageError("DATASET needs --model (a model folder from `reanimate talk export`)")
    result = api.evaluate_talking_head(model, dataset, shots=_shot_counts(shot_values or ("1,8,32",)),
                                       targets=targets, finetune_steps=finetune_steps, max_videos=max_videos,
                                       device=device, show_progress=not quiet)
    if out:
        write_json(out, result)
    click.echo(json.dumps(result, indent=2) if as_json else format_table(result))


@talk.command("demo")
@click.option("--out", default="talk-demo", show_default=True)
@click.option("--model", default=None,
              help="A meta-learned model folder: the generator draws the face (default: the shots are warped).")
@click.option("--shots", type=click.IntRange(1), default=8, show_default=True)
@click.option("--finetune-seconds", type=click.FloatRange(1), default=180.0, show_default=True,
              help="With --model: fine-tuning budget.")
@DEVICE
@QUIET
def demo_command(out, model, shots, finetune_seconds, device, quiet):
    """Animate the real man of carphone_pristine.mp4: shots from the first half, driven by the second.

    Writes OUT/animated.mp4 (driver | animated, full frame), OUT/reenact-sheet.png (truth | copy | warp
    [| generator]), OUT/reenact.json and OUT/scores.json.
    """
    from reanimate import api

    result = api.talk_demo(out, model=model, shots=shots, finetune_seconds=finetune_seconds, device=device,
                           show_progress=not quiet)
    click.echo(f"{result['frames']} driven frames, {result['path']}: SSIM {result['ssim']:.3f} on the face crop "
               f"(copying a shot: {result['copy_ssim']:.3f}), CSIM {result['csim']:.3f}, landmark error "
               f"{result['landmark_error']:.3f}")
