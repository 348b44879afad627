"""Frozen run configurations: presets in YAML, overrides from the CLI, written as config.json."""

import dataclasses
import json
from pathlib import Path
from typing import Any, TypeVar

import yaml

from reanimate.core.errors import UserError, brief

T = TypeVar("T")


def from_dict(cls: type[T], data: dict[str, Any], source: str) -> T:
    """Build dataclass `cls` from `data`, refusing unknown keys with a message that names `source`."""
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(map(str, set(data) - names))  # a damaged file can have keys that are not text
    if unknown:
        raise UserError(f"{source}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(names))}")
    values = {}
    for f in dataclasses.fields(cls):
        if f.name in data:
            value = data[f.name]
            values[f.name] = tuple(value) if isinstance(value, list) else value
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:
        raise UserError(f"{source}: {brief(exc)}") from exc


def load_yaml(path, what: str = "preset") -> dict[str, Any]:
    try:
        with open(path) as f:
            data = yaml.safe_load(f) or {}
    except FileNotFoundError as exc:
        raise UserError(f"{what} {path} does not exist") from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise UserError(f"{what} {path} is not valid YAML: {brief(exc)}") from exc
    except IsADirectoryError as exc:
        raise UserError(f"{what} {path} is a folder, not a YAML file") from exc
    if not isinstance(data, dict):
        raise UserError(f"{what} {path} must be a mapping of setting: value")
    return data


def to_json(config) -> str:
    return json.dumps(dataclasses.asdict(config), indent=2, sort_keys=True)


def load_preset(cls: type[T], preset: str, preset_dir: Path, overrides: dict[str, Any]) -> T:
    """`cls` from a named preset in `preset_dir` (or a YAML file), then non-None overrides on top."""
    path = Path(preset)
    names = sorted(p.stem for p in preset_dir.glob("*.yaml"))
    if path.suffix.lower() in (".yaml", ".yml", ".json") or path.is_file():
        data, name = load_yaml(path), path.stem
    elif preset in names:
        data, name = load_yaml(preset_dir / f"{preset}.yaml"), preset
    else:
        raise UserError(f"`preset` {preset!r} is neither a preset ({', '.join(names)}) nor a YAML file")
    data = {"preset": name, **data, **{k: v for k, v in overrides.items() if v is not None}}
    return from_dict(cls, data, f"preset {preset}")
