"""Atomic file writes: every file or folder is written under a temporary name beside its target and
renamed into place, so a kill or a full disk never leaves a half-written file behind.

Kept free of torch so worker processes that only write files start fast.
"""

import contextlib
import errno
import glob
import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

from reanimate.core.errors import UserError, brief


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def publish_mode(path: Path) -> None:
    """Give a finished temporary file or folder the mode a normal one would have (mkstemp makes 0600)."""
    os.chmod(path, (0o777 if path.is_dir() else 0o666) & ~_umask())


def publish_dir(tmp: Path, path: Path) -> None:
    """Move a finished temporary folder onto `path`, replacing an existing file or folder there."""
    publish_mode(tmp)
    if path.is_dir():
        # Move the old one aside first, under a temporary name of this process: if the swap is cut
        # short (a kill between the two renames), `remove_stale_temps` puts the old one back.
        old = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-{os.getpid()}-old-", dir=path.parent))
        os.replace(path, old / path.name)
        os.replace(tmp, path)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, path)


def _writer_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def remove_stale_temps(path: Path) -> None:
    """Remove what killed writers of `path` left beside it: our own temporary files and folders
    (`.NAME.tmp-PID-...`) whose writing process is gone. A running writer's are left alone. A
    published folder that a killed `publish_dir` had moved aside is put back first."""
    for stem in {path.stem, path.name}:
        pattern = re.compile(rf"\.{re.escape(stem)}\.tmp-(\d+)-(old-)?")
        for entry in path.parent.glob(f".{glob.escape(stem)}.tmp-*"):
            match = pattern.match(entry.name)
            if not match or _writer_alive(int(match.group(1))):
                continue
            if match.group(2) and stem != path.name:  # a folder moved aside by a writer of another target
                continue
            if match.group(2) and (entry / path.name).exists() and not path.exists():
                os.replace(entry / path.name, path)
            shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink(missing_ok=True)


def temp_beside(path: str | os.PathLike, folder: bool = False) -> Path:
    """A new temporary file (or folder) beside `path`, named after it and this process; what an earlier,
    killed writer of `path` left there is removed first. Files keep the real suffix last, so writers
    that pick a format by extension still work."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.parent.is_dir():
        remove_stale_temps(path)
    if folder:
        return Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-{os.getpid()}-", dir=path.parent))
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.tmp-{os.getpid()}-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    return Path(tmp)


_TEMP_NAME = re.compile(r"^\.(.+)\.tmp-\d+-(?:old-)?[A-Za-z0-9_]+(\.[^.]*)?$")


def shown_path(path: str | os.PathLike) -> str:
    """A path as the user knows it: temporary names (`.out.tmp-PID-x.mp4`) turned back into theirs (`out.mp4`)."""
    parts = Path(os.fsdecode(path)).parts
    return str(Path(*[(m.group(1) + (m.group(2) or "")) if (m := _TEMP_NAME.match(part)) else part
                      for part in parts])) if parts else str(path)


def disk_trouble(exc: OSError) -> str | None:
    """One line for a write that the disk refused (full, over quota, read-only), naming the output;
    None for other errors. The previous output is untouched: everything is written beside it first."""
    reason = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is used up",
              errno.EROFS: "the disk is read-only"}.get(exc.errno)
    if reason is None:
        return None
    where = f" writing {shown_path(exc.filename)}" if exc.filename else ""
    advice = ("free some space and run the same command again to resume" if exc.errno != errno.EROFS
              else "choose a place you can write to")
    return f"{reason}{where}: {advice} (earlier outputs there are left as they were)"


def check_writable(path: str | os.PathLike) -> None:
    """Refuse early, before minutes of work, an output place the system will not let us write to."""
    try:
        temp_beside(path).unlink()
    except OSError as exc:
        raise UserError(disk_trouble(exc) or f"cannot write {path}: {brief(exc)}") from exc


@contextlib.contextmanager
def naming_target(path: Path) -> Iterator[None]:
    """Errors of writes inside the block name `path` when the library that failed did not say which file."""
    try:
        yield
    except OSError as exc:
        if exc.filename is None:
            exc.filename = str(path)
        raise


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it onto `path` only if the block succeeds."""
    path = Path(path)
    tmp = temp_beside(path)
    try:
        with naming_target(path):
            yield tmp
        publish_mode(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary folder beside `path`; it replaces `path` only if the block succeeds."""
    path = Path(path)
    if path.parent.is_dir():
        remove_stale_temps(path)  # first, so that a folder a killed swap moved aside counts as existing
    if path.exists() and not overwrite:
        raise UserError(f"{path} already exists: choose another path or pass `overwrite`")
    tmp = temp_beside(path, folder=True)
    try:
        with naming_target(path):
            yield tmp
        publish_dir(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def write_json(path: str | os.PathLike, data: dict) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def work_dir_for(out: str | os.PathLike) -> Path:
    """Where a job writing OUT keeps its run files (states, previews, flow): `OUT-stem-run` beside it."""
    out = Path(out)
    return out.with_name(f"{out.stem if out.suffix else out.name}-run")
