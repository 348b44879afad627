"""Library messages speak in parameter names; the command line shows its flags (cli/options.py)."""

import click
import pytest

from cli.test_stylize import reanimate
from reanimate.cli import main
from reanimate.cli.options import as_flags
from reanimate.core.errors import UserError
from reanimate.talking_head.options import AnimateOptions


def test_names_become_the_commands_flags():
    stylize, animate = main.commands["stylize"], main.commands["talk"].commands["animate"]
    assert as_flags("give either `iterations` N or `seconds` S", stylize) == "give either --iterations N or --train-seconds S"
    assert as_flags("`perceptual_backbone` 'x'", stylize) == "--perceptual 'x'"
    assert as_flags("`masks`; and `video`", stylize) == "--mask; and VIDEO"
    assert as_flags("`adapt` with `motion` adapted", animate) == "--no-adapt with --motion adapted"
    assert as_flags("`finetune_steps` and `some_option`", animate) == "--finetune-steps and `some_option`"
    assert as_flags("see `faces.eyes` and `Portrait`", animate) == "see `faces.eyes` and `Portrait`"  # not names


def test_every_command_speaks_in_flags():
    def leaves(command):
        if isinstance(command, click.Group):
            return [leaf for sub in command.commands.values() for leaf in leaves(sub)]
        return [command]

    commands = leaves(main)
    assert len(commands) > 10 and all(type(c).__name__ == "Command" for c in commands)


def test_a_library_error_names_the_parameter_and_the_command_its_flag(tmp_path):
    with pytest.raises(UserError, match="without adapting \\(`adapt`\\) the motion is absolute.*`motion` adapted"):
        AnimateOptions.of(adapt=False, motion="adapted")
    result = reanimate("talk", "animate", "--source", tmp_path / "me.png", "--driver", tmp_path / "d.mp4",
                       "--out", tmp_path / "o.mp4", "--no-adapt", "--motion", "adapted")
    assert result.returncode == 2
    assert result.stderr.strip() == ("error: without adapting (--no-adapt) the motion is absolute: it cannot go "
                                     "with --motion adapted")
