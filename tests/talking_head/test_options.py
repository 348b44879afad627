"""`AnimateOptions`: the options of `talk animate`, checked once, before any work."""

import pytest

from reanimate.core.errors import UserError
from reanimate.faces.motion import DEFAULT_MOTION
from reanimate.talking_head.options import AnimateOptions


def test_defaults_and_the_older_switch():
    assert AnimateOptions().motion == DEFAULT_MOTION and not AnimateOptions().finetunes
    assert AnimateOptions.of(adapt=False).motion == "absolute"
    assert AnimateOptions.of(adapt=False, motion="absolute").motion == "absolute"
    assert AnimateOptions.of(adapt=True, motion="adapted").motion == "adapted"
    assert AnimateOptions(finetune_seconds=5).finetunes


@pytest.mark.parametrize("options, message", [
    ({"motion": "sideways"}, "`motion` 'sideways' must be one of"),
    ({"shots": 0}, "`shots` 0 must be 1 or more"),
    ({"finetune_steps": -1}, "`finetune_steps` -1 must be 0 or more"),
    ({"finetune_seconds": -2.0}, "`finetune_seconds` -2.0"),
    ({"face": -1}, "`face` -1"),
])
def test_bad_values_are_refused_by_name(options, message):
    with pytest.raises(UserError, match=message):
        AnimateOptions(**options)


def test_an_unknown_option_is_a_type_error_as_for_any_function():
    with pytest.raises(TypeError, match="sound"):
        AnimateOptions.of(sound="driver")
