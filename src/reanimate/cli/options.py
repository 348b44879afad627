"""Options, argument parsers and the command classes that every command group shares."""

import re

import click

from reanimate.core.device import DEVICE_CHOICES, PRECISIONS
from reanimate.core.errors import UserError
from reanimate.core.progress import worded

NAME = re.compile(r"`([a-z][a-z0-9_]*)`")


def as_flags(text: str, command: click.Command) -> str:
    """A library message in the command's words: each backticked parameter name (`finetune_steps`)
    becomes the flag that sets it (--finetune-steps), or an argument's metavar (VIDEO); a name the
    command has no flag for stays as it is."""
    params = {param.name: param for param in command.params}

    def flag(match: re.Match) -> str:
        param = params.get(match.group(1))
        if isinstance(param, click.Option):
            return max(param.opts, key=len)  # --train-seconds, not a short alias
        if isinstance(param, click.Argument):
            return param.human_readable_name
        return match.group(0)  # not this command's: left as the library named it, never a made-up flag

    return NAME.sub(flag, text)


class Command(click.Command):
    """A command whose library messages (errors and progress lines) name its flags, not parameters."""

    def invoke(self, ctx: click.Context):
        with worded(lambda text: as_flags(text, self)):
            try:
                return super().invoke(ctx)
            except (UserError, FloatingPointError) as exc:  # the two kinds whose text is shown as it is
                exc.args = (as_flags(str(exc), self),)
                raise


class Group(click.Group):
    """A command group whose commands and subgroups are `Command`s and `Group`s."""

    command_class = Command
    group_class = type

JSON = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout.")
DEVICE = click.option("--device", default="auto", show_default=True,
                      help=f"{', '.join(DEVICE_CHOICES)} or cuda:N")
OVERWRITE = click.option("--overwrite", is_flag=True, help="Replace OUT (and --save-model) if they exist.")
QUIET = click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
PRECISION = click.option("--precision", type=click.Choice(list(PRECISIONS)), default="auto", show_default=True,
                         help="auto = fp16 renders (bf16 training) on CUDA, bf16 on CPUs with native bf16 "
                              "(AVX-512 BF16, AMX; about 2x faster), fp32 elsewhere.")
BATCH = click.option("--render-batch", type=click.IntRange(1), default=None,
                     help="Frames per forward pass when rendering (default: 1 on CPU, more on GPU).")
TEMPORAL = click.option("--temporal", default="auto", show_default=True, metavar="auto|off|STRENGTH",
                        help="Temporal consistency pass after rendering: blends each frame with the last one carried "
                             "along the motion, so texture sticks instead of boiling. auto measures the render's "
                             "flicker and blends as much as it asks for; or a strength 0-0.85; off.")
FRAMES = click.option("--frames", default=None, help="Frames to render, e.g. '0-99,120' (default: all).")
DEPTH = click.option("--depth", type=click.Choice(["8", "16"]), default="8", show_default=True,
                     help="Bits a channel: 16 keeps the network's precision for grading in 16-bit PNG / TIFF "
                          "frames or FFV1 .mkv (ProRes .mov gets the finer source; 8-bit formats round it).")


def rendering_options(command):
    """The options every command that writes restyled frames shares."""
    for option in reversed((FRAMES, TEMPORAL, BATCH, PRECISION, DEPTH, DEVICE, OVERWRITE, QUIET)):
        command = option(command)
    return command


def index_pairs(values: tuple[str, ...], option: str) -> dict[int, str]:
    """Parse repeated INDEX=PATH options."""
    pairs: dict[int, str] = {}
    for value in values:
        index, sep, path = value.partition("=")
        if not sep or not index.strip().isdigit() or not path:
            raise UserError(f"{option} {value!r} must look like {option} 30=painted30.png (frame index = image)")
        if int(index) in pairs:
            raise UserError(f"{option} gives frame {int(index)} twice")
        pairs[int(index)] = path
    return pairs


def frame_selection(spec: str | None, video_path: str):
    """(opened video, frame indices) for a --frames spec; (None, None) without one."""
    from reanimate.io.video import open_video, parse_frame_list

    if spec is None:
        return None, None
    video = open_video(video_path)
    return video, parse_frame_list(spec, len(video))
