"""Hard kills: `kill -9` at random moments of five commands, then the same command again.

    .venv/bin/python benchmarks/hard_kills.py [--kills 50] [--commands stylize,render,...] [--seed 0]

Commands, each on real data (the carphone clip, real and synthetic faces), sized to run in seconds:
`stylize`, `render`, `faces prepare`, `talk meta-train`, and the studio's export (a process driving
`Studio` as the server does for a page: load, paint, train, export).

A job runs its command in a fresh folder; the run is killed with SIGKILL after a random delay
(uniform over the time an unkilled run takes) and started again, as a user would, until a run
finishes; then the next job starts. After every kill:
- every published file under the job's folder must be whole: videos decode to the last frame,
  images decode, JSON / JSON lines / YAML parse, weights and training states load, zips test;
- worker processes the killed run had started must end by themselves (orphans are counted).
After the run that finishes: its outputs are complete and no temporary file (`.NAME.tmp-PID-...`)
is left anywhere in the job's folder. The last line says whether every check held (exit status 1
if not); `tests/test_hard_kills.py` runs a few kills per command in CI.
"""

import argparse
import json
import os
import platform
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

TEMP = re.compile(r"^\..+\.tmp-\d+-")
VIDEOS = {".mp4", ".mkv", ".mov", ".webm", ".gif"}
TINY = ["--preset", "fast", "--patch-size", "16", "--batch-size", "4", "--perceptual", "none", "--device", "cpu"]


def cli(*args) -> list[str]:
    return [sys.executable, "-m", "reanimate", *map(str, args), "-q"]


# -- what is checked ---------------------------------------------------------------------------------

def damage(path: Path) -> str | None:
    """Why a published file is not whole, or None. Files of other kinds are not opened."""
    suffix = path.suffix.lower()
    try:
        if suffix in VIDEOS:
            from reanimate.io.video import open_video

            video = open_video(path)
            count = sum(1 for _ in video.frames())
            if count != len(video):
                return f"{count} of {len(video)} frames decode"
        elif suffix in (".png", ".jpg", ".jpeg"):
            from PIL import Image

            with Image.open(path) as image:
                image.load()  # raises on a cut-short file
        elif suffix == ".json":
            json.loads(path.read_text())
        elif suffix == ".jsonl":
            for line in path.read_text().splitlines():
                json.loads(line)
        elif suffix in (".yaml", ".yml"):
            import yaml

            yaml.safe_load(path.read_text())
        elif suffix == ".pt":
            import torch

            torch.load(path, map_location="cpu", weights_only=True)
        elif suffix == ".safetensors":
            from safetensors.torch import load_file

            load_file(path)
        elif suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                bad = archive.testzip()
            if bad is not None:
                return f"{bad} inside is damaged"
    except Exception as exc:  # any failure to read is what this looks for
        return f"{type(exc).__name__}: {str(exc)[:120]}"
    return None


def published(folder: Path, skip: tuple[str, ...] = ()) -> list[Path]:
    """Files a user could take: everything but temporary names and the folders named in `skip`."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not TEMP.match(d) and d not in skip]
        found += [Path(root) / f for f in files if not TEMP.match(f)]
    return found


def temporaries(folder: Path) -> list[Path]:
    return [Path(root) / name for root, dirs, files in os.walk(folder) for name in dirs + files if TEMP.match(name)]


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


# -- the commands ----------------------------------------------------------------------------------

class Command:
    """One command: `setup` once, `argv(job)` per job, `complete(job)` says what a finished job must hold."""

    name = ""
    skip: tuple[str, ...] = ()  # folders of the job that are caches, not outputs

    def __init__(self, scratch: Path):
        self.scratch = scratch

    def argv(self, job: Path) -> list[str]:
        raise NotImplementedError

    def complete(self, job: Path) -> str | None:
        raise NotImplementedError


def _frames(path: Path) -> int:
    from reanimate.io.video import open_video

    return len(open_video(path))


class Stylize(Command):
    name = "stylize"

    def __init__(self, scratch):
        super().__init__(scratch)
        from reanimate.io.image import write_png
        from reanimate.io.samples import sample_clip
        from reanimate.io.video import open_video
        from reanimate.stylize.filters import watercolor

        self.clip = sample_clip("carphone_pristine")
        self.key = scratch / "painted-0.png"
        write_png(self.key, watercolor(open_video(self.clip).read(0)))

    def argv(self, job):
        return cli("stylize", self.clip, "--key", f"0={self.key}", "--out", job / "styled.mp4", "--iterations", 60,
                   "--frames", "0-39", "--save-model", job / "model", *TINY)

    def complete(self, job):
        from reanimate.stylize.pipeline import Stylizer

        Stylizer.from_pretrained(job / "model", "cpu")
        return None if _frames(job / "styled.mp4") == 40 else "styled.mp4 lacks frames"


class Render(Stylize):
    name = "render"

    def __init__(self, scratch):
        super().__init__(scratch)
        self.model = scratch / "model"
        made = subprocess.run(cli("stylize", self.clip, "--key", f"0={self.key}", "--out", scratch / "made.mp4",
                                  "--iterations", 1, "--save-model", self.model, *TINY), capture_output=True, text=True)
        if made.returncode:
            raise RuntimeError(made.stderr)

    def argv(self, job):
        return cli("render", "--model", self.model, self.clip, "--out", job / "styled.mp4", "--frames", "0-39",
                   "--device", "cpu")

    def complete(self, job):
        return None if _frames(job / "styled.mp4") == 40 else "styled.mp4 lacks frames"


class Prepare(Command):
    name = "faces prepare"

    def __init__(self, scratch):
        super().__init__(scratch)
        from reanimate.faces.synth import animate, random_identity, render_face
        from reanimate.io.samples import sample_clip
        from reanimate.io.writer import FrameWriter

        self.source = scratch / "videos"
        (self.source / "man").mkdir(parents=True)
        shutil.copy(sample_clip("carphone_pristine"), self.source / "man" / "carphone.mp4")
        for person in range(2):  # two synthetic people, 40 frames each
            rng = np.random.default_rng(person)
            face = random_identity(rng)
            with FrameWriter(self.source / f"synthetic-{person}" / "talk.mp4", fps=25) as writer:
                for pose in animate(rng, 40):
                    writer.write(render_face(face, pose, 160)[0])

    def argv(self, job):
        return cli("faces", "prepare", self.source, "--out", job / "dataset", "--size", 64, "--max-frames", 60)

    def complete(self, job):
        from reanimate.faces.store import FaceDataset

        data = FaceDataset(job / "dataset")
        if len(data) != 3:
            return f"{len(data)} clips instead of 3"
        for index in range(len(data)):
            clip = data.clip(index)
            clip.frames(range(len(clip)))
        return None


class MetaTrain(Command):
    name = "talk meta-train"
    steps = 30

    def __init__(self, scratch):
        super().__init__(scratch)
        self.dataset = scratch / "faces"
        made = subprocess.run(cli("faces", "synth", "--identities", 4, "--frames", 12, "--size", 64, "--out",
                                  self.dataset), capture_output=True, text=True)
        if made.returncode:
            raise RuntimeError(made.stderr)

    def argv(self, job):
        return cli("talk", "meta-train", self.dataset, "--run", job / "run", "--preset", "tiny", "--steps",
                   self.steps, "--device", "cpu")

    def complete(self, job):
        import torch

        states = sorted((job / "run").glob("training-state-*.pt"))
        if not states:
            return "no training state"
        step = torch.load(states[-1], map_location="cpu", weights_only=True)["step"]
        return None if step == self.steps else f"the newest state is at step {step}"


class StudioExport(Command):
    """A process that does what the server does for one page, ending in the export."""
    name = "studio export"
    skip = ("sessions",)  # the pages' working files; the server empties its folder when it starts

    def __init__(self, scratch):
        super().__init__(scratch)
        from reanimate.io.samples import sample_clip
        from reanimate.io.video import open_video
        from reanimate.io.writer import FrameWriter

        with FrameWriter(scratch / "carphone.mp4", fps=25) as writer:  # a 40-frame clip, as a user uploads
            for _, frame in open_video(sample_clip("carphone_pristine")).frames(range(40)):
                writer.write(frame)

    def argv(self, job):
        return [sys.executable, __file__, "--studio-page", str(job), str(self.scratch / "carphone.mp4")]

    def complete(self, job):
        exports = job / "studio-7860" / "sessions" / "page" / "exports"
        if _frames(exports / "carphone-stylized.mp4") != 40:
            return "the exported video lacks frames"
        with zipfile.ZipFile(exports / "carphone-model.zip") as archive:
            if "carphone-model/model.safetensors" not in archive.namelist():
                return "the model zip has no weights"
        return None

    def published_in(self, job: Path) -> list[Path]:
        exports = job / "studio-7860" / "sessions" / "page" / "exports"
        return published(exports) if exports.is_dir() else []


def studio_page(workdir: str, clip: str) -> None:
    """The child of `StudioExport`: start as the server starts, then one page's work, then export."""
    from reanimate.app.studio import Studio
    from reanimate.app.ui import server_folder
    from reanimate.stylize.config import load_config
    from reanimate.stylize.filters import watercolor

    root = server_folder(workdir, 7860)
    studio = Studio(root / "sessions" / "page", device="cpu")
    studio.load_video(clip)
    studio.set_keyframe(0, watercolor(studio.frame(0)))
    studio.start_training(load_config("fast", patch_size=16, batch_size=4, perceptual_backbone="none"))
    while studio.status.step < 20:
        time.sleep(0.05)
    studio.export(show_progress=False)
    studio.stop_training()


COMMANDS = {"stylize": Stylize, "render": Render, "prepare": Prepare, "meta-train": MetaTrain,
            "export": StudioExport}


# -- the kills -------------------------------------------------------------------------------------

def run_once(argv: list[str], log: Path, kill_after: float | None) -> tuple[bool, float, int]:
    """Start the command in a process group of its own; SIGKILL its first process (only that one,
    as a user's kill -9 would) after `kill_after` seconds. Returns (finished, seconds, pgid)."""
    with open(log, "a") as out:
        started = time.perf_counter()
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                   env=os.environ | {"PYTHONWARNINGS": "ignore"})
        try:
            process.wait(timeout=kill_after)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.wait()
            return False, time.perf_counter() - started, process.pid
        tail = log.read_text().strip().splitlines()[-3:]
        if process.returncode == 2 and tail and "already exists" in tail[-1]:
            return True, time.perf_counter() - started, process.pid  # the killed run had published it all
        if process.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed with {process.returncode}: {' | '.join(tail)}")
        return True, time.perf_counter() - started, process.pid


def hammer(command: Command, kills: int, rng: random.Random, scratch: Path) -> dict:
    jobs = scratch / "jobs"
    result = {"command": command.name, "kills": 0, "jobs": 0, "damaged": [], "orphans": 0, "leftovers": 0,
              "max_temps": 0, "seconds": 0.0}
    log = scratch / f"{command.name.replace(' ', '-')}.log"
    clock = time.perf_counter()
    first = jobs / "job-0"
    finished, full, _ = run_once(command.argv(first), log, None)  # how long a run takes when left alone
    assert finished
    shutil.rmtree(first)
    job_index = 1
    while result["kills"] < kills:
        job = jobs / f"job-{job_index}"
        while True:
            kill_after = rng.uniform(0, full) if result["kills"] < kills else None  # enough: let it finish
            finished, _, pgid = run_once(command.argv(job), log, kill_after)
            if finished:
                break
            result["kills"] += 1
            deadline = time.monotonic() + 10  # workers of a killed run must notice and end
            while group_alive(pgid) and time.monotonic() < deadline:
                time.sleep(0.1)
            if group_alive(pgid):
                result["orphans"] += 1
                os.killpg(pgid, signal.SIGKILL)
            files = command.published_in(job) if hasattr(command, "published_in") else published(job, command.skip)
            result["damaged"] += [f"{p.relative_to(jobs)}: {why}" for p in files if (why := damage(p))]
            result["max_temps"] = max(result["max_temps"], len(temporaries(job)))
        problem = command.complete(job)
        if problem:
            result["damaged"].append(f"{job.name}: {problem}")
        result["leftovers"] += len(temporaries(job))
        result["jobs"] += 1
        shutil.rmtree(job)
        job_index += 1
    result["seconds"] = time.perf_counter() - clock
    result["run_seconds"] = full
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=50, help="hard kills per command")
    parser.add_argument("--commands", default=",".join(COMMANDS), help=f"comma-separated, of {', '.join(COMMANDS)}")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--studio-page", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.studio_page:
        return studio_page(*args.studio_page)
    names = [name.strip() for name in args.commands.split(",")]
    unknown = set(names) - set(COMMANDS)
    if unknown:
        parser.error(f"unknown commands: {', '.join(sorted(unknown))}")
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs; {args.kills} kills per command, seed {args.seed}")
    rng, held = random.Random(args.seed), True
    with tempfile.TemporaryDirectory(prefix="hard-kills-") as scratch:
        for name in names:
            folder = Path(scratch) / name
            folder.mkdir()
            result = hammer(COMMANDS[name](folder), args.kills, rng, folder)
            ok = not result["damaged"] and not result["orphans"] and not result["leftovers"]
            held &= ok
            print(f"{result['command']:16s} {result['kills']:3d} kills over {result['jobs']:2d} jobs "
                  f"(an unkilled run: {result['run_seconds']:.1f} s): damaged outputs {len(result['damaged'])}, "
                  f"orphaned workers {result['orphans']}, temporary files after the finishing run "
                  f"{result['leftovers']} (at most {result['max_temps']} between kills); "
                  f"{result['seconds']:.0f} s  {'ok' if ok else 'FAILED'}", flush=True)
            for line in result["damaged"][:10]:
                print(f"    damaged: {line}")
    print("every check held" if held else "SOME CHECKS FAILED")
    sys.exit(0 if held else 1)


if __name__ == "__main__":
    main()
