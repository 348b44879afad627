"""Writes the disk refuses: a full disk (a small tmpfs, filled) and a read-only one. Each command stops
with one line naming the output, the previous output stays as it was, no temporary file is left.

Mounting needs root (or CAP_SYS_ADMIN), which the CI machine has; elsewhere these tests skip.
"""

import subprocess
from pathlib import Path

import pytest

from reanimate.io.image import write_png
from tests.cli.test_stylize import TINY, reanimate


class SmallDisk:
    def __init__(self, path: Path, kilobytes: int):
        self.path = path
        path.mkdir()
        made = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={kilobytes}k", "tmpfs", str(path)],
                              capture_output=True, text=True)
        if made.returncode:
            pytest.skip(f"cannot mount a small tmpfs here ({made.stderr.strip() or 'not root'})")

    def fill(self, leave: int = 2048) -> None:
        """Fill it up to `leave` bytes: a few header bytes still fit, a video does not."""
        import os

        stats = os.statvfs(self.path)
        (self.path / "filler").write_bytes(b"\0" * max(0, stats.f_bavail * stats.f_frsize - leave))

    def read_only(self) -> None:
        subprocess.run(["mount", "-o", "remount,ro", str(self.path)], check=True)

    def temporaries(self) -> list[Path]:
        return [p for p in self.path.rglob("*") if ".tmp-" in p.name]


@pytest.fixture
def disk(tmp_path):
    small = SmallDisk(tmp_path / "disk", 600)
    yield small
    subprocess.run(["umount", "-l", str(small.path)], capture_output=True)


@pytest.fixture
def painted(tmp_path, frames):
    write_png(tmp_path / "p0.png", 255 - frames[0])
    return tmp_path / "p0.png"


@pytest.fixture
def model(tmp_path, clip_mp4, painted):
    made = reanimate("stylize", clip_mp4, "--key", f"0={painted}", "--out", tmp_path / "a.mp4", "--iterations", "1",
                     "--save-model", tmp_path / "model", *TINY)
    assert made.returncode == 0, made.stderr
    return tmp_path / "model"


def one_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def test_render_onto_a_full_disk_stops_and_keeps_the_previous_video(disk, model, clip_mp4):
    out = disk.path / "styled.mp4"
    first = reanimate("render", "--model", model, clip_mp4, "--out", out, "--device", "cpu", "-q")
    assert first.returncode == 0, first.stderr
    before = out.read_bytes()
    disk.fill()
    again = reanimate("render", "--model", model, clip_mp4, "--out", out, "--device", "cpu", "-q", "--overwrite")
    assert again.returncode == 28
    assert one_line(again) == (f"error: the disk is full writing {out}: free some space and run the same command "
                               "again to resume (earlier outputs there are left as they were)")
    assert out.read_bytes() == before and not disk.temporaries()


def test_training_states_onto_a_full_disk_stop_with_one_line(disk, clip_mp4, painted, tmp_path):
    disk.fill(leave=40_000)  # room for a preview, not for a training state
    result = reanimate("stylize", clip_mp4, "--key", f"0={painted}", "--out", tmp_path / "s.mp4", "--run",
                       disk.path / "run", "--iterations", "2", *TINY)
    assert result.returncode == 28 and "the disk is full writing" in one_line(result)
    assert not disk.temporaries()


def test_a_read_only_output_is_refused_before_any_training(disk, model, clip_mp4, painted):
    out = disk.path / "styled.mp4"
    first = reanimate("render", "--model", model, clip_mp4, "--out", out, "--device", "cpu", "-q")
    assert first.returncode == 0, first.stderr
    before = out.read_bytes()
    disk.read_only()
    for args in (["stylize", clip_mp4, "--key", f"0={painted}", "--out", out, "--overwrite", "--iterations", "500",
                  *TINY],
                 ["stylize", clip_mp4, "--key", f"0={painted}", "--out", disk.path / "new.mp4", "--iterations",
                  "500", *TINY],
                 ["faces", "synth", "--identities", "2", "--frames", "3", "--size", "32", "--out",
                  disk.path / "faces", "-q"]):
        result = reanimate(*args)
        assert result.returncode in (1, 2) and "the disk is read-only" in one_line(result), result.stderr
        assert "choose a place you can write to" in result.stderr
    assert out.read_bytes() == before


def test_a_full_disk_in_the_studio_is_a_message_on_the_page():
    gr = pytest.importorskip("gradio")
    import errno

    from reanimate.app.ui import _friendly

    @_friendly
    def export():
        raise OSError(errno.ENOSPC, "No space left on device", "/s/exports/.clip-stylized.tmp-7-ab12cd34.mp4")

    with pytest.raises(gr.Error, match=r"the disk is full writing /s/exports/clip-stylized.mp4: free some space "
                                       "and try again"):
        export()
