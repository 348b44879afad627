"""`reanimate talk ...`: meta-learning the talking-head networks and exporting them."""

import click

from reanimate.core.device import DEVICE_CHOICES


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
              help="Last frames of each clip kept out of training; the held-out L1 is logged.")
@click.option("--lr-g", type=float, default=None, help="Embedder and generator learning rate.")
@click.option("--lr-d", type=float, default=None, help="Discriminator learning rate.")
@click.option("--perceptual", type=click.Choice(["inception", "vgg19", "none"]), default=None,
              help="Content-loss backbone (default: inception, offline).")
@click.option("--vgg19-weights", default=None, help="torchvision VGG19 weights file or URL.")
@click.option("--vggface-weights", default=None, help="VGG-Face weights file or URL (turns on the VGGFace term).")
@click.option("--vggface-weight", type=float, default=None, help="Weight of the VGG-Face term (default with --vggface-weights: 2e-3, the paper's).")
@click.option("--ema", "ema_decay", type=float, default=None, help="Generator moving-average decay (0 = off).")
@click.option("--workers", type=click.IntRange(0), default=None, help="DataLoader processes per training process.")
@click.option("--device", default="auto", show_default=True, help=f"{', '.join(DEVICE_CHOICES)} or cuda:N")
@click.option("--seed", type=click.IntRange(0), default=0, show_default=True)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
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

    if vggface_weights and vggface_weight is None:
        vggface_weight = 2e-3  # the paper's weight, for VGG-Face fed 0-255 mean-subtracted input as here
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
