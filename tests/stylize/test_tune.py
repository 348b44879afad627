import csv

import pytest

from reanimate import api
from reanimate.core.errors import UserError
from reanimate.stylize.config import load_config
from reanimate.stylize.tune import parse_grid

TINY = dict(filters=(4, 8, 8, 8, 8, 4), batch_size=4, perceptual_backbone="none")


def test_grid_parsing():
    grid = parse_grid("Wp=16,24; alpha=1e-3; nr=1,2")
    assert len(grid) == 4 and grid[0] == {"patch_size": 16, "lr": 1e-3, "resblocks": 1}
    for bad in ("nope=1", "patch_size", "lr=abc"):
        with pytest.raises(UserError):
            parse_grid(bad)


def test_search_writes_table_chart_and_a_usable_preset(tmp_path, frame_folder, frames):
    result = api.tune(frame_folder, {0: 255 - frames[0]}, {4: 255 - frames[4]}, tmp_path / "search",
                      grid="patch_size=16; resblocks=1,2", seconds=2, device="cpu", show_progress=False, **TINY)
    with open(result["csv"]) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 and all(float(r["l1"]) > 0 and int(r["steps"]) > 0 for r in rows)
    assert result["best"]["l1"] == min(float(r["l1"]) for r in rows)
    assert result["plot"].is_file()
    preset = load_config(str(result["preset"]))
    assert (preset.patch_size, preset.resblocks) == (16, result["best"]["resblocks"])
    again = api.tune(frame_folder, {0: 255 - frames[0]}, {4: 255 - frames[4]}, tmp_path / "search",
                     grid="patch_size=16; resblocks=1,2", seconds=2, device="cpu", show_progress=False, **TINY)
    assert again["rows"] == result["rows"]  # finished settings are not trained again


def test_search_refuses_bad_requests(tmp_path, frame_folder, frames):
    with pytest.raises(UserError, match="also a keyframe"):
        api.tune(frame_folder, {0: frames[0]}, {0: frames[0]}, tmp_path / "s", seconds=2, **TINY)
    with pytest.raises(UserError, match="too small to train"):
        api.tune(frame_folder, {0: frames[0]}, {3: frames[3]}, tmp_path / "s", seconds=0.1, **TINY)
