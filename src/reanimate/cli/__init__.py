"""The `reanimate` command: a thin layer over `reanimate.api`, one module per command group.

User mistakes (UserError) and interruptions print one line and exit non-zero; no tracebacks.
"""

import errno
import signal
import sys

import click

from reanimate import __version__
from reanimate.cli.app import app
from reanimate.cli.faces import faces
from reanimate.cli.options import Group
from reanimate.cli.stylize import demo, export, keyframes, metrics, render, stylize, tune
from reanimate.cli.talk import talk
from reanimate.core.errors import UserError, brief
from reanimate.core.files import disk_trouble, shown_path


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="reanimate")
def main():
    """Bring pictures to life from a few examples."""


for command in (stylize, render, export, tune, keyframes, metrics, demo, app, faces, talk):
    main.add_command(command)


class Stopped(KeyboardInterrupt):
    """SIGTERM: `kill PID`, a job scheduler or a container stopping the command."""


def _stop(signum, frame):
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM ends the process at once (a hang in C)
    raise Stopped


def run() -> None:
    """Entry point: turn expected failures into one clear line and an exit code."""
    # SIGTERM stops a command the way Ctrl-C does (training states saved, nothing half-written).
    # It is also the way to stop a run started in the background from a script: such a run
    # ignores Ctrl-C's SIGINT, as the shell starts background commands without job control.
    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        main(standalone_mode=False)
    except click.exceptions.Abort as exc:  # click's form of a KeyboardInterrupt in a command
        stopped = isinstance(exc.__cause__, Stopped)
        click.echo(f"{'stopped' if stopped else 'interrupted'}: run the same command again to resume", err=True)
        sys.exit(143 if stopped else 130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except UserError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt as exc:
        how = "stopped" if isinstance(exc, Stopped) else "interrupted"
        click.echo(f"\n{how}: nothing half-written was left; run the same command again to resume", err=True)
        sys.exit(143 if isinstance(exc, Stopped) else 130)
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
    finally:  # (for callers that run it in their own process, as the tests do)
        signal.signal(signal.SIGTERM, previous)
