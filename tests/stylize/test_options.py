"""`TrainOptions` / `StylizeOptions`: a stylization job's options, checked once, before any work."""

import pytest

from reanimate.core.errors import UserError
from reanimate.stylize.options import StylizeOptions, TrainOptions


def test_keywords_go_to_their_objects():
    options = StylizeOptions.of(seconds=60, patch_size=48, lr=None, temporal="off", depth=16, seed=3)
    assert options.train.seconds == 60 and options.train.seed == 3
    assert options.train.overrides == {"patch_size": 48}  # None: the preset's own
    assert options.temporal == "off" and options.depth == 16
    assert TrainOptions.of(preset="fast", guide="gauss").overrides == {"guide": "gauss"}


@pytest.mark.parametrize("options, message", [
    ({"seconds": 5, "iterations": 5}, "either `iterations` N or `seconds` S"),
    ({"iterations": -1}, "`iterations` -1"),
    ({"temporal": "lots"}, "temporal"),
    ({"depth": 12}, "`depth` 12"),
    ({"render_batch": 0}, "`render_batch` 0"),
])
def test_bad_values_are_refused_before_any_work(options, message):
    with pytest.raises(UserError, match=message):
        StylizeOptions.of(**options)
