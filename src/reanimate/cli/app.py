"""`reanimate app`: the interactive studio in the browser."""

import os

import click

from reanimate.cli.options import DEVICE, Command


@click.command(cls=Command)
@click.option("--port", type=click.IntRange(1, 65535), default=7860, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; 0.0.0.0 lets other computers in (and turns off loading by path).")
@click.option("--workdir", default=None,
              help="Folder for sessions, uploads and exports, kept in DIR/studio-PORT and removed at exit "
                   "(default: a temporary folder).")
@click.option("--max-upload-mb", type=click.IntRange(1), default=200, show_default=True, help="Upload size limit.")
@click.option("--idle-timeout", type=click.FloatRange(10), default=300.0, show_default=True,
              help="Seconds after a page closes or goes silent before its session ends (a closed page's "
                   "training pauses after 15 s).")
@click.option("--open", "open_browser", is_flag=True, help="Open the page in the default browser.")
@DEVICE
def app(port, host, workdir, max_upload_mb, idle_timeout, open_browser, device):
    """The interactive studio in your browser: paint keyframes, watch training live, export.

    \b
    Example:
      reanimate app              # then open http://127.0.0.1:7860
      reanimate app --port 8080 --workdir studio-files
    """
    # Idle OpenMP threads sleep instead of spinning: a training's threads otherwise keep both
    # cores busy between its steps, and the pages' clicks wait for a core. Read when torch loads.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from reanimate import api

    api.studio(workdir, host=host, port=port, device=device, max_upload_mb=max_upload_mb,
               idle_timeout=idle_timeout, open_browser=open_browser)
