"""`reanimate talk ...`: meta-learning the talking-head networks and exporting them."""

import click

from reanimate.cli.options import DEVICE, QUIET


@click.group()
def talk():
    """Few-shot talking heads (Zakharov et al. 2019): meta-train, export."""


@talk.command("meta-train")
@click.argument("dataset")
@click.option("--run", "--run-dir", "run_dir", required=True,
              help="Run folder: training states, previews, logs (--run-dir under torchrun, which claims --run).")
@click.option("--preset", default="small", show_default=True,
              help="tiny (tests), small (CPU, 64 px), paper (256 px, 64->512 channels) or a YAML file.")
@click.option("--steps", type=click.IntRange(1), required=True, help="Train until the run has done this many steps.")
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
@click.option("--ema", "ema_decay", type=float, default=None, help="Generator moving-average decay (0 = off).")
@click.option("--workers", type=click.IntRange(0), default=None, help="DataLoader processes per training process.")
@DEVICE
@click.option("--seed", type=click.IntRange(0), default=0, show_default=True)
@QUIET
def meta_train(dataset, run_dir, preset, steps, batch_size, k, holdout, lr_g, lr_d, perceptual, vgg19_weights,
               vggface_weights, vggface_weight, ema_decay, workers, device, seed, quiet):
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
                   ema_decay=ema_decay, workers=workers)


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
@click.option("--model", required=True, help="A model folder from `reanimate talk export`.")
@click.option("--source", "sources", multiple=True, required=True,
              help="A photo (one face) or video of the person. Repeatable.")
@click.option("--driver", required=True, help="The driving video: its face's motion is copied.")
@click.option("--out", required=True, help="Output video (.mp4, ...) or a folder of PNGs.")
@click.option("--shots", type=click.IntRange(1), default=8, show_default=True, help="T: source faces used.")
@click.option("--finetune-steps", type=click.IntRange(0), default=0, show_default=True,
              help="Fine-tune on the shots first (FT); 0 = feed-forward (FF).")
@click.option("--finetune-seconds", type=click.FloatRange(0), default=None, help="Fine-tuning time budget instead.")
@click.option("--no-adapt", is_flag=True, help="Use the driver's landmarks as they are (no face-shape adaptation).")
@click.option("--side-by-side", is_flag=True, help="Write driver | landmarks | generated.")
@click.option("--save-person", default=None, help="Also save the person as a model folder.")
@DEVICE
@click.option("--overwrite", is_flag=True)
@QUIET
def animate_command(model, sources, driver, out, shots, finetune_steps, finetune_seconds, no_adapt, side_by_side,
                    save_person, device, overwrite, quiet):
    """Make the person of --source move like the face in --driver.

    \b
    Example:
      reanimate talk animate --model models/small --source me.jpg --driver speech.mp4 --out me.mp4 \\
          --shots 1 --finetune-steps 200
    """
    from reanimate import api

    result = api.animate(model, list(sources), driver, out, shots=shots, finetune_steps=finetune_steps,
                         finetune_seconds=finetune_seconds, adapt=not no_adapt, side_by_side=side_by_side,
                         save_person=save_person, device=device, overwrite=overwrite, show_progress=not quiet)
    click.echo(f"wrote {result['out']}: {result['frames']} frames, {result['shots']} shots, "
               f"{result['finetune_steps']} fine-tuning steps"
               + (f"; driver face missing in {result['driver_frames_without_face']} frames (last pose held)"
                  if result["driver_frames_without_face"] else ""))


def _shot_counts(values: tuple[str, ...]) -> tuple[int, ...]:
    counts = [part for value in values for part in value.replace(",", " ").split()]
    if not counts or not all(c.isdigit() and int(c) > 0 for c in counts):
        raise click.BadParameter(f"{' '.join(values)!r}: give shot counts like --shots 1,8,32", param_hint="--shots")
    return tuple(sorted({int(c) for c in counts}))


@talk.command("eval")
@click.option("--model", required=True, help="A model folder from `reanimate talk export`.")
@click.argument("dataset")
@click.option("--shots", "shot_values", multiple=True, default=("1,8,32",), show_default=True,
              help="T values: --shots 1,8,32 or repeated --shots 1 --shots 8.")
@click.option("--targets", type=click.IntRange(1), default=8, show_default=True, help="Held-out frames per video.")
@click.option("--finetune-steps", type=click.IntRange(0), default=40, show_default=True, help="FT steps (0: FF only).")
@click.option("--max-videos", type=click.IntRange(1), default=16, show_default=True)
@click.option("--out", default=None, help="Also write the table as JSON here.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of the table.")
@DEVICE
@QUIET
def eval_command(model, dataset, shot_values, targets, finetune_steps, max_videos, out, as_json, device, quiet):
    """FID, SSIM and CSIM of few-shot avatars on held-out frames of DATASET (the paper's Table 1).

    \b
    Example:
      reanimate talk eval --model models/small test-faces --shots 1,8 --json
    """
    import json

    from reanimate import api
    from reanimate.core.files import write_json
    from reanimate.talking_head.evaluate import format_table

    result = api.evaluate_talking_head(model, dataset, shots=_shot_counts(shot_values), targets=targets,
                                       finetune_steps=finetune_steps, max_videos=max_videos, device=device,
                                       show_progress=not quiet)
    if out:
        write_json(out, result)
    click.echo(json.dumps(result, indent=2) if as_json else format_table(result))


@talk.command("demo")
@click.option("--out", default="talk-demo", show_default=True)
@click.option("--model", default=None, help="A meta-learned model folder (default: a fresh small network).")
@click.option("--shots", type=click.IntRange(1), default=8, show_default=True)
@click.option("--finetune-seconds", type=click.FloatRange(1), default=180.0, show_default=True)
@DEVICE
@QUIET
def demo_command(out, model, shots, finetune_seconds, device, quiet):
    """Animate the real man of carphone_pristine.mp4: shots from the first half, driven by the second.

    Writes OUT/animated.mp4 (real | landmarks | generated), OUT/contact-sheet.png, OUT/scores.json.
    """
    from reanimate import api

    result = api.talk_demo(out, model=model, shots=shots, finetune_seconds=finetune_seconds, device=device,
                           show_progress=not quiet)
    click.echo(f"{result['frames']} held-out frames: SSIM {result['ssim']:.3f}, CSIM {result['csim']:.3f}, "
               f"face distance {result['face_distance']:.3f} (dlib descriptor; < 0.6 = same person) after "
               f"{result['finetune_steps']} fine-tuning steps")
