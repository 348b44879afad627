"""`reanimate faces ...`: landmarks, face datasets, synthetic faces and contact sheets."""

import json

import click

from reanimate.cli.options import JSON, QUIET, Group
from reanimate.core.errors import UserError


def _summary(result: dict, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    click.echo(f"videos {result['videos']}, clips {result['clips']}, identities {result['identities']}, "
               f"frames {result['frames']} ({result['frames_with_face']} with a face)")
    for failure in result["failed"]:
        click.echo(f"  skipped {failure['source']}: {failure['reason']}")


@click.group(cls=Group)
def faces():
    """Faces for talking heads: landmarks, datasets, synthetic identities."""


@faces.command()
@click.argument("video")
@click.option("--out", default=None, help="Write the landmarks to FILE.npz or FILE.json.")
@click.option("--overlay", default=None, help="Write the video with landmarks drawn over it (.mp4 or a folder).")
@click.option("--smooth", type=click.FloatRange(0), default=1.0, show_default=True,
              help="Temporal smoothing, Gaussian sigma in frames (0 = raw detections).")
@click.option("--overwrite", is_flag=True, help="Replace --out / --overlay if they exist.")
@QUIET
def landmarks(video, out, overlay, smooth, overwrite, quiet):
    """Find the 68 facial landmarks of one face in every frame of VIDEO (offline, dlib).

    \b
    Example:
      reanimate faces landmarks talk.mp4 --out talk.npz --overlay talk-landmarks.mp4
    """
    from reanimate import api

    if out is None and overlay is None:
        raise UserError("give --out FILE.npz|.json and/or --overlay VIDEO: where should the landmarks go?")
    track = api.detect_landmarks(video, smooth=smooth, out=out, overlay=overlay, overwrite=overwrite,
                                 show_progress=not quiet)
    click.echo(f"face found in {int(track.found.sum())} of {len(track)} frames")


@faces.command()
@click.argument("src")
@click.option("--out", required=True, help="Dataset folder (new, or a started one to resume).")
@click.option("--size", type=int, default=256, show_default=True, help="Side of the face crops.")
@click.option("--margin", type=float, default=0.4, show_default=True,
              help="Space around the landmarks on each side, as a fraction of the face size.")
@click.option("--smooth", type=click.FloatRange(0), default=1.0, show_default=True,
              help="Landmark smoothing over time, sigma in frames.")
@click.option("--box-smooth", type=click.FloatRange(0), default=4.0, show_default=True,
              help="Crop box smoothing over time, sigma in frames (steadier background).")
@click.option("--every", type=click.IntRange(1), default=1, show_default=True, help="Keep every n-th frame.")
@click.option("--max-frames", type=click.IntRange(0), default=0, help="At most this many frames per video (0 = all).")
@click.option("--identity", type=click.Choice(["auto", "folder", "video"]), default="auto", show_default=True,
              help="auto: the first folder level when videos lie in folders (VoxCeleb2 id/video/clip.mp4).")
@click.option("--workers", type=click.IntRange(1), default=None, help="Processes (default: one per CPU core).")
@click.option("--retry-failed", is_flag=True, help="Try again videos recorded as failed or faceless.")
@JSON
@QUIET
def prepare(src, out, size, margin, smooth, box_smooth, every, max_frames, identity, workers, retry_failed,
            as_json, quiet):
    """Turn the videos under SRC (any layout) into a face dataset of crops and landmarks.

    \b
    Example:
      reanimate faces prepare voxceleb2/dev/mp4 --out vox-faces --json
    Running the same command again resumes an interrupted preparation.
    """
    from reanimate import api

    result = api.prepare_faces(src, out, size=size, margin=margin, smooth=smooth, box_smooth=box_smooth,
                               every=every, max_frames=max_frames, identity=identity, workers=workers,
                               retry_failed=retry_failed, show_progress=not quiet)
    _summary(result, as_json)


@faces.command()
@click.option("--identities", type=click.IntRange(1), default=8, show_default=True)
@click.option("--frames", type=click.IntRange(1), default=64, show_default=True, help="Frames per video.")
@click.option("--videos-per-identity", type=click.IntRange(1), default=1, show_default=True)
@click.option("--size", type=int, default=256, show_default=True)
@click.option("--seed", type=click.IntRange(0), default=0, show_default=True)
@click.option("--fps", type=click.FloatRange(0.1), default=25.0, show_default=True,
              help="Frame rate the motion is sampled at: a lower rate spreads a video's frames over more head "
                   "motion (2.5 gives meta-learning varied poses per video).")
@click.option("--out", required=True, help="Dataset folder.")
@JSON
@QUIET
def synth(identities, frames, videos_per_identity, size, seed, fps, out, as_json, quiet):
    """Render procedural talking faces with exact landmarks, as a face dataset.

    \b
    Example:
      reanimate faces synth --identities 32 --frames 64 --out synthetic
    """
    from reanimate import api

    result = api.synth_faces(out, identities=identities, frames=frames, videos_per_identity=videos_per_identity,
                             size=size, seed=seed, fps=fps, show_progress=not quiet)
    _summary(result, as_json)


@faces.command()
@click.argument("dataset")
@click.option("--out", required=True, help="PNG file for the contact sheet.")
@click.option("--clips", type=click.IntRange(1), default=6, show_default=True, help="Clips (rows) to show.")
@click.option("--frames", type=click.IntRange(1), default=4, show_default=True, help="Frames per clip.")
@click.option("--cell", type=click.IntRange(16), default=128, show_default=True, help="Picture side in pixels.")
def show(dataset, out, clips, frames, cell):
    """Save a contact sheet of DATASET: crop | landmark image | overlay, for a few frames of a few clips.

    \b
    Example:
      reanimate faces show vox-faces --out sheet.png
    """
    from reanimate import api

    click.echo(f"wrote {api.show_faces(dataset, out, clips=clips, frames=frames, cell=cell)}")
