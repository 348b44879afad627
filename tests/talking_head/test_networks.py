import pytest
import torch
from torch.nn.utils import parametrize

from reanimate.core.errors import UserError
from reanimate.talking_head.config import load_config
from reanimate.talking_head.losses import Losses, check_finite
from reanimate.talking_head.nets import EmbedderGenerator
from reanimate.talking_head.nets.discriminator import Discriminator


@pytest.fixture
def config():
    return load_config("tiny")


def _inputs(config, batch=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    s, k = config.image_size, config.k
    return (torch.rand(batch, k, 3, s, s, generator=g) * 2 - 1, torch.rand(batch, k, 3, s, s, generator=g) * 2 - 1,
            torch.rand(batch, 3, s, s, generator=g) * 2 - 1)


def test_shapes(config):
    torch.manual_seed(0)
    eg, d = EmbedderGenerator(config), Discriminator(config, num_videos=5)
    frames, marks, target_marks = _inputs(config)
    fake, embedding = eg(frames, marks, target_marks)
    assert fake.shape == (2, 3, 32, 32) and embedding.shape == (2, config.embed_dim)
    assert fake.abs().max() <= 1 and (embedding >= 0).all()  # tanh output; ReLU after sum pooling
    score, maps = d(fake, target_marks, torch.tensor([0, 4]))
    assert score.shape == (2,) and maps[-1].shape[-1] == 4 and len(maps) >= 3


def test_adain_really_uses_the_embedding(config):
    torch.manual_seed(0)
    eg = EmbedderGenerator(config).eval()
    _, _, target_marks = _inputs(config, batch=1)
    one, two = torch.rand(1, config.embed_dim) * 4, torch.rand(1, config.embed_dim) * 4
    a, b = eg.generator(target_marks, one), eg.generator(target_marks, two)
    assert (a - b).abs().mean() > 1e-3
    psi = eg.generator.psi(one)
    assert psi.shape == (1, eg.generator.psi_size) and torch.allclose(eg.generator(target_marks, psi=psi), a)


def test_spectral_norm_on_every_conv_and_linear(config):
    eg, d = EmbedderGenerator(config), Discriminator(config, 3)
    layers = [m for m in [*eg.modules(), *d.modules()] if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    assert layers and all(parametrize.is_parametrized(m, "weight") for m in layers)


def test_hinge_signs_and_switched_off_terms(config):
    losses = Losses(config)
    high, low = torch.full((4,), 2.0), torch.full((4,), -2.0)
    confident = losses.discriminator(high, low)
    assert confident["real"] == 0 and confident["fake"] == 0  # beyond the margin: no loss (the ReLUs)
    fooled = losses.discriminator(low, high)
    assert fooled["real"] == 3 and fooled["fake"] == 3
    fake = torch.zeros(1, 3, 8, 8, requires_grad=True)
    terms = losses.generator(fake, torch.ones(1, 3, 8, 8), high[:1], [fake], [torch.ones(1, 3, 8, 8)],
                             torch.zeros(1, 3), torch.ones(1, 3))
    assert terms["adversarial"] == -config.adversarial_weight * 2
    assert set(terms) == {"pixel", "adversarial", "feature_matching"}  # tiny: no perceptual backbone, no match
    with_match = Losses(load_config("tiny", match_weight=80.0)).generator(
        fake, torch.ones(1, 3, 8, 8), high[:1], [fake], [torch.ones(1, 3, 8, 8)], torch.zeros(1, 3), torch.ones(1, 3))
    assert with_match["match"] == 80.0
    off = Losses(load_config("tiny", feature_matching_weight=0, match_weight=0))
    assert set(off.generator(fake, fake, high[:1], [], [], torch.zeros(1, 3), torch.zeros(1, 3))) == {"pixel", "adversarial"}


def test_non_finite_loss_names_the_term_and_step():
    with pytest.raises(UserError, match=r"step 12: the generator loss term 'match' became nan"):
        check_finite({"pixel": torch.tensor(1.0), "match": torch.tensor(float("nan"))}, 12, "generator")


def test_presets_are_valid_and_refuse_nonsense():
    for name in ("tiny", "small", "paper"):
        cfg = load_config(name)
        assert cfg.width(cfg.image_size // 2) == cfg.channels
    paper = load_config("paper")
    assert (paper.image_size, paper.channels, paper.max_channels, paper.k) == (256, 64, 512, 8)
    with pytest.raises(UserError, match="image_size"):
        load_config("tiny", image_size=48)
    with pytest.raises(UserError, match="vggface_weights"):
        load_config("tiny", vggface_weight=1.0)
