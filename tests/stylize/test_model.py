import pytest
import torch

from reanimate.stylize.config import load_config
from reanimate.stylize.model import Discriminator, Generator, count_parameters
from reanimate.stylize.pipeline import run_padded, run_tiled


def test_paper_preset_matches_the_reference_size():
    config = load_config("paper")
    generator = Generator(config.in_channels, config.filters, config.resblocks)
    assert 3.2e6 < count_parameters(generator) < 3.4e6  # Texler et al.: ~3.3 M parameters
    assert count_parameters(Generator(3, load_config("fast").filters, 3)) < count_parameters(generator) / 4


def test_shapes_and_output_range():
    torch.manual_seed(0)
    generator, discriminator = Generator(3, (4, 8, 8, 8, 8, 4), 1), Discriminator()
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    y = generator(x)
    assert y.shape == (2, 3, 32, 32) and y.abs().max() <= 1
    assert discriminator(y).shape == (2, 1, 6, 6)


@pytest.mark.parametrize("size", [(37, 53), (5, 9), (64, 64)])
def test_any_frame_size_is_padded_and_cropped(size):
    generator = Generator(3, (4, 8, 8, 8, 8, 4), 1).eval()
    with torch.no_grad():
        y = run_padded(generator, torch.rand(1, 3, *size))
    assert y.shape == (1, 3, *size)


@pytest.mark.parametrize("resblocks, tile", [(2, 64), (7, 66)])  # the paper's depth; a tile not a multiple of 4
def test_tiles_join_without_seams(resblocks, tile):
    torch.manual_seed(0)
    generator = Generator(3, (4, 8, 8, 8, 8, 4), resblocks).eval()
    x = torch.rand(1, 3, 150, 203) * 2 - 1
    with torch.no_grad():
        whole, tiled = run_padded(generator, x), run_tiled(generator, x, tile=tile)
    assert (whole - tiled).abs().max() < 1e-4


def test_generator_rejects_bad_core_width():
    with pytest.raises(ValueError):
        Generator(3, (4, 8, 8, 16, 8, 4), 1)
