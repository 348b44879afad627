"""What a studio page takes home: the stylized video and the model folder as a zip."""

import shutil
from pathlib import Path

from reanimate.app.turns import TURNS
from reanimate.core.files import atomic_path
from reanimate.io.video import Video


def export_stylized(stylizer, video: Video, exports: Path, stem: str, work_dir: Path, temporal: float | str,
                    show_progress: bool) -> tuple[Path, Path, str]:
    """Render `video` to `exports`/STEM-stylized.mp4 and zip the model beside it.

    Returns (video, model zip, what the temporal pass did).
    """
    exports.mkdir(exist_ok=True)
    out = exports / f"{stem}-stylized.mp4"
    # A render takes the cores like a training does, so it waits for a turn: two renders and a
    # training at once, each with a full set of OpenMP threads, ran 4x slower together than one
    # after another. The flow cache (in work_dir) sits beside the training's own.
    with TURNS.turn(give_up=lambda: False):
        stylizer.render(video, out, overwrite=True, show_progress=show_progress, work_dir=work_dir,
                        temporal=temporal)
    steady = stylizer.temporal_pass
    summary = steady.report.summary(steady.chosen) if steady else "temporal pass: off"
    model = stylizer.save_pretrained(exports / f"{stem}-model", overwrite=True)
    with atomic_path(exports / f"{stem}-model.zip") as tmp:
        shutil.make_archive(str(tmp.with_suffix("")), "zip", model.parent, model.name)
    return out, exports / f"{stem}-model.zip", summary
