"""Hyperparameter search of Texler et al. 2020 (Sec. 5): a grid over Wp, Nb, alpha and Nr.

Every setting trains for the same time budget on the keyframes; its score is the mean L1 error
on held-out frames whose stylized truth the user painted. Results go to a CSV table (written
after each setting, so an interrupted search resumes), a PNG chart, and the best setting as a
preset YAML that `reanimate stylize --preset FILE` accepts.
"""

import csv
import dataclasses
import io
import itertools
import re
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import yaml

from reanimate.core.errors import UserError
from reanimate.core.files import atomic_path
from reanimate.core.progress import progress, say
from reanimate.io.image import write_png
from reanimate.metrics import psnr, ssim
from reanimate.nn.convert import to_image
from reanimate.stylize.config import StylizeConfig
from reanimate.stylize.data import Keyframe
from reanimate.stylize.inputs import InputBuilder
from reanimate.stylize.train import Trainer

# The paper's four dimensions and the names the grid uses for them.
DIMENSIONS = {"patch_size": int, "batch_size": int, "lr": float, "resblocks": int}
ALIASES = {"wp": "patch_size", "nb": "batch_size", "alpha": "lr", "nr": "resblocks"}
DEFAULT_GRID = "patch_size=32,48; batch_size=20,40; lr=2e-4,4e-4; resblocks=3,7"
MIN_SECONDS = 2.0  # below this not even the first steps finish on a CPU
FIELDS = ["patch_size", "batch_size", "lr", "resblocks", "steps", "seconds", "l1", "psnr", "ssim"]


def parse_grid(spec: str) -> list[dict[str, Any]]:
    """'patch_size=32,48; lr=2e-4,4e-4' -> every combination as a dict (Wp/Nb/alpha/Nr also accepted)."""
    axes: dict[str, list] = {}
    for part in filter(None, (p.strip() for p in spec.split(";"))):
        name, sep, values = part.partition("=")
        name = ALIASES.get(name.strip().lower(), name.strip().lower())
        if not sep or name not in DIMENSIONS:
            raise UserError(f"`grid` part {part!r} must look like patch_size=32,48 "
                            f"(dimensions: {', '.join(DIMENSIONS)})")
        try:
            axes[name] = [DIMENSIONS[name](v) for v in re.split(r"[,\s]+", values.strip()) if v]
        except ValueError as exc:
            raise UserError(f"`grid` {name}: {exc}") from exc
        if not axes[name]:
            raise UserError(f"`grid` {name} has no values")
    names = list(axes)
    return [dict(zip(names, combo)) for combo in itertools.product(*(axes[n] for n in names))]


def _key(base: StylizeConfig, setting: dict[str, Any]) -> tuple:
    """A setting's identity over all four dimensions (those it leaves out come from `base`)."""
    return tuple((k, float(setting.get(k, getattr(base, k)))) for k in DIMENSIONS)


def _read_done(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    with open(path, newline="") as f:
        return [{k: (float(v) if k in ("lr", "seconds", "l1", "psnr", "ssim") else int(float(v)))
                 for k, v in row.items() if v != ""} for row in csv.DictReader(f)]


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, FIELDS)
    writer.writeheader()
    for row in rows:
        writer.writerow({k: row.get(k, "") for k in FIELDS})
    with atomic_path(path) as tmp:
        tmp.write_text(buffer.getvalue())


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    """A horizontal bar chart of held-out L1 per setting, best first, best in green."""
    rows = sorted(rows, key=lambda r: r["l1"])
    bar_h, left, width = 22, 330, 900
    height = 40 + bar_h * len(rows)
    image = np.full((height, width, 3), 255, np.uint8)
    worst = max(r["l1"] for r in rows) or 1.0
    cv2.putText(image, "held-out L1 error (lower is better)", (10, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 0, 0), 1,
                cv2.LINE_AA)
    for i, row in enumerate(rows):
        y = 36 + i * bar_h
        label = f"Wp={row['patch_size']} Nb={row['batch_size']} a={row['lr']:g} Nr={row['resblocks']}"
        cv2.putText(image, label, (10, y + 15), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
        length = int((width - left - 90) * row["l1"] / worst)
        colour = (60, 170, 60) if i == 0 else (90, 120, 200)
        cv2.rectangle(image, (left, y + 3), (left + length, y + bar_h - 3), colour, -1)
        cv2.putText(image, f"{row['l1']:.4f}", (left + length + 6, y + 15), cv2.FONT_HERSHEY_SIMPLEX, 0.45,
                    (0, 0, 0), 1, cv2.LINE_AA)
    write_png(path, image)


def tune(base: StylizeConfig, keyframes: list[Keyframe], holdout: dict[int, np.ndarray], out: Path,
         grid: list[dict[str, Any]], seconds: float, inputs: InputBuilder, device: str = "auto", seed: int = 0,
         seeds=None, show_progress: bool = True) -> dict[str, Any]:
    """Train every grid setting for `seconds` and score it on the held-out frames.

    Args:
        base: the configuration the grid varies (e.g. the `fast` or `paper` preset).
        keyframes: the painted keyframes.
        holdout: {frame index: painted truth (RGB uint8)} of frames that are not keyframes.
        out: folder for results.csv, results.png and best.yaml; an earlier search there is resumed.
        grid: settings from `parse_grid`.
        seconds: training budget per setting.
        inputs: the video's `InputBuilder` for the base config's input settings.

    Returns:
        {"best": row, "rows": [...], "csv": path, "plot": path, "preset": path}
    """
    overlap = sorted(set(holdout) & {k.index for k in keyframes})
    if overlap:
        raise UserError(f"held-out frame {overlap[0]} is also a keyframe: a held-out frame must be one the "
                        "network never trains on")
    if not holdout:
        raise UserError("give at least one held-out frame with its painted truth in `holdout` (60: painted60.png)")
    if seconds < MIN_SECONDS:
        raise UserError(f"`seconds` {seconds:g} is too small to train at all: use at least "
                        f"{MIN_SECONDS:g} s (the paper's search used 30-60 s per setting)")
    configs = {}
    for setting in grid:  # every setting is checked before any of them trains
        try:
            configs[_key(base, setting)] = dataclasses.replace(base, **setting)
        except ValueError as exc:
            raise UserError(f"`grid` setting {setting}: {exc}") from exc
    out.mkdir(parents=True, exist_ok=True)
    holdout_inputs = inputs.many(holdout)
    csv_path = out / "results.csv"
    rows = _read_done(csv_path)
    done = {_key(base, r) for r in rows}
    todo = [s for s in grid if _key(base, s) not in done]
    if rows and todo:
        say(f"resuming the search in {out}: {len(rows)} settings done, {len(todo)} to go", show_progress)
    bar = progress(len(todo) * seconds, "tune", "s", enabled=show_progress,
                   bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total:.0f} s [{elapsed}<{remaining}]{postfix}")
    with bar:
        for setting in todo:
            config = configs[_key(base, setting)]
            trainer = Trainer(config, keyframes, device=device, seed=seed, inputs=inputs, seeds=seeds)
            trainer.train(seconds=seconds, show_progress=False)
            model = trainer.stylizer()
            outputs = {i: model.stylize_tensor(x[None])[0] for i, x in holdout_inputs.items()}
            scores = _score(outputs, holdout)
            rows.append({**{k: getattr(config, k) for k in DIMENSIONS}, "steps": trainer.step,
                         "seconds": round(trainer.elapsed, 2), **scores})
            _write_csv(csv_path, rows)
            if trainer.step < 10:
                say(f"warning: {setting} made only {trainer.step} steps in {seconds:g} s: its score means little; "
                    "raise `seconds`", show_progress)
            bar.set_postfix_str(f"last L1 {scores['l1']:.4f}, best {min(r['l1'] for r in rows):.4f}")
            bar.update(seconds)
    wanted = {_key(base, s) for s in grid}
    rows_in_grid = [r for r in rows if _key(base, r) in wanted]
    best = min(rows_in_grid, key=lambda r: r["l1"])
    plot(rows_in_grid, out / "results.png")
    preset = {k: v for k, v in dataclasses.asdict(base).items() if k != "preset"}
    preset |= {k: best[k] for k in DIMENSIONS}
    preset = {k: list(v) if isinstance(v, tuple) else v for k, v in preset.items()}
    with atomic_path(out / "best.yaml") as tmp:
        tmp.write_text(f"# best of {len(rows_in_grid)} settings by held-out L1 {best['l1']:.5f} "
                       f"(PSNR {best['psnr']:.2f} dB), {seconds:g} s each\n" + yaml.safe_dump(preset, sort_keys=True))
    return {"best": best, "rows": rows_in_grid, "csv": csv_path, "plot": out / "results.png",
            "preset": out / "best.yaml"}


def _score(outputs: dict, holdout: dict[int, np.ndarray]) -> dict[str, float]:
    images = {i: to_image(y) for i, y in outputs.items()}
    l1 = np.mean([np.abs(images[i].astype(np.float32) - holdout[i]).mean() / 255.0 for i in holdout])
    return {"l1": float(l1), "psnr": float(np.mean([psnr(images[i], holdout[i]) for i in holdout])),
            "ssim": float(np.mean([ssim(images[i], holdout[i]) for i in holdout]))}
