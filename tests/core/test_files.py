"""Temporary files of writers that were killed are removed by the next writer of the same target."""

import os
import subprocess
import sys

import pytest

from reanimate.core.errors import UserError
from reanimate.core.files import atomic_dir, atomic_path, temp_beside


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_killed_writers_temps_go_and_a_live_ones_stay(tmp_path):
    target = tmp_path / "out.mp4"
    dead, alive = _dead_pid(), os.getpid()
    stale_file = tmp_path / f".out.tmp-{dead}-abc.mp4"
    stale_dir = tmp_path / f".out.mp4.tmp-{dead}-xyz"
    running = tmp_path / f".out.tmp-{alive}-def.mp4"
    foreign = tmp_path / ".out.tmp-notours.mp4"  # not a name this project writes: never touched
    for path in (stale_file, running, foreign):
        path.write_bytes(b"half")
    stale_dir.mkdir()
    with atomic_path(target) as tmp:
        assert tmp.name.startswith(f".out.tmp-{os.getpid()}-") and tmp.suffix == ".mp4"
        tmp.write_bytes(b"whole")
    assert target.read_bytes() == b"whole"
    assert not stale_file.exists() and not stale_dir.exists()
    assert running.exists() and foreign.exists()
    folder = temp_beside(tmp_path / "frames", folder=True)
    assert folder.is_dir() and folder.name.startswith(f".frames.tmp-{os.getpid()}-")


def test_a_folder_swap_cut_short_by_a_kill_is_undone_by_the_next_writer(tmp_path):
    # publish_dir moves the old folder aside, then the new one in; a kill between the two renames
    # leaves no `model` at all, only the old one aside and the new one half-published.
    dead = _dead_pid()
    aside = tmp_path / f".model.tmp-{dead}-old-abc"
    (aside / "model").mkdir(parents=True)
    (aside / "model" / "weights").write_bytes(b"old, whole")
    (tmp_path / f".model.tmp-{dead}-def").mkdir()  # the new one, never published
    with atomic_dir(tmp_path / "other"):  # a writer of another target leaves them alone
        pass
    assert aside.exists()
    with pytest.raises(UserError, match="already exists"):  # the old one is back before the check
        with atomic_dir(tmp_path / "model"):
            pass
    assert (tmp_path / "model" / "weights").read_bytes() == b"old, whole"
    assert not list(tmp_path.glob(".model.tmp-*"))
