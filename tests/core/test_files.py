"""Temporary files of writers that were killed are removed by the next writer of the same target."""

import os
import subprocess
import sys

from reanimate.core.files import atomic_path, temp_beside


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
