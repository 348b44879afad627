"""The `reanimate` command: a thin layer over `reanimate.api`, one module per command group.

User mistakes (UserError) and interruptions print one line and exit non-zero; no tracebacks.
"""

import errno
import sys

import click

from reanimate import __version__
from reanimate.cli.app import app
from reanimate.cli.faces import faces
from reanimate.cli.stylize import demo, export, keyframes, metrics, render, stylize, tune
from reanimate.cli.talk import talk
from reanimate.core.errors import UserError, brief
from reanimate.core.files import disk_trouble, shown_path


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="reanimate")
def main():
    """Bring pictures to life from a few examples."""


for command in (stylize, render, export, tune, keyframes, metrics, demo, app, faces, talk):
    main.add_command(command)


def run() -> None:
    """Entry point: turn expected failures into one clear line and an exit code."""
    try:
        main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("interrupted: run the same command again to resume", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except UserError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        click.echo("\ninterrupted: nothing half-written was left; run the same command again to resume", err=True)
        sys.exit(130)
    except OSError as exc:
        trouble = disk_trouble(exc)
        if trouble:
            click.echo(f"error: {trouble}", err=True)
            sys.exit(28 if exc.errno in (errno.ENOSPC, errno.EDQUOT) else 1)
        where = shown_path(exc.filename) if exc.filename else ""
        click.echo(f"error: {exc.strerror or brief(exc)}: {where}".rstrip(": "), err=True)
        sys.exit(1)
    except FloatingPointError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(3)
