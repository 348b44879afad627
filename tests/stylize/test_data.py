import numpy as np
import pytest
import torch

from reanimate.core.errors import UserError
from reanimate.nn.convert import to_image, to_tensor
from reanimate.stylize.data import Keyframe, PatchSampler, load_keyframes, valid_centres


def test_tensor_round_trip():
    image = (np.random.default_rng(0).random((5, 6, 3)) * 255).astype(np.uint8)
    assert np.array_equal(to_image(to_tensor(image)), image)


def test_patch_centres_stay_inside_the_eroded_mask():
    mask = np.zeros((64, 64), bool)
    mask[10:50, 20:60] = True
    centres = valid_centres(mask, (64, 64), 16)
    ys, xs = np.divmod(centres, 64)
    assert centres.size > 0
    assert ys.min() >= 18 and ys.max() <= 42 and xs.min() >= 28 and xs.max() <= 52  # 8 px inside


def test_patches_are_aligned_between_input_and_style():
    rng = np.random.default_rng(0)
    image = to_tensor((rng.random((40, 40, 3)) * 255).astype(np.uint8))
    sampler = PatchSampler([image], [image.flip(0)], [None], patch=16)
    inputs, styles = sampler.sample(8, rng)
    assert inputs.shape == (8, 3, 16, 16)
    assert torch.equal(inputs.flip(1), styles)


def test_detail_sampling_draws_patches_towards_outlines_and_keeps_the_rest():
    style = torch.ones(3, 64, 64)
    style[:, 30:33, :] = -1  # one dark outline across white paper
    rng = np.random.default_rng(0)

    def near_the_line(detail):
        sampler = PatchSampler([torch.zeros(3, 64, 64)], [style], [None], patch=16, detail=detail)
        centres = np.array([y + 8 for _, y, _ in sampler._corners(3000, rng)])
        return np.mean(np.abs(centres - 31) < 8), np.mean(np.abs(centres - 31) > 12)

    uniform, weighted = near_the_line(0.0), near_the_line(4.0)
    assert uniform[0] < 0.4 and weighted[0] > 0.65  # outlines drawn about twice as often
    assert weighted[1] > 0.05  # flat paper still drawn: the network must learn it too


def test_empty_mask_names_the_keyframe():
    image = torch.zeros(3, 40, 40)
    with pytest.raises(UserError, match="keyframe 7"):
        PatchSampler([image], [image], [np.zeros((40, 40), bool)], patch=16, names=["keyframe 7"])


def test_keyframes_are_checked_against_the_video(frame_folder, frames):
    from reanimate.io.video import open_video

    video = open_video(frame_folder)
    keys = load_keyframes(video, {3: frames[0], 1: frames[1]}, {1: np.ones((38, 50), bool)})
    assert [k.index for k in keys] == [1, 3] and np.array_equal(keys[1].frame, frames[3])
    with pytest.raises(UserError, match="50x38"):
        load_keyframes(video, {0: np.zeros((10, 10, 3), np.uint8)})
    with pytest.raises(UserError, match="out of range"):
        load_keyframes(video, {6: frames[0]})
    assert isinstance(keys[0], Keyframe)
