"""The losses of meta-learning and fine-tuning as named, weighted terms (Zakharov et al., Sec. 3.2).

A zero weight switches a term off and skips its computation. Every term is returned already
weighted, so the total is their sum and the log shows what each contributes.
"""

import torch
import torch.nn.functional as F
from torch import nn

from reanimate.core.errors import UserError
from reanimate.nn.losses import InceptionFeatures, VGG19Features, VGGFaceFeatures
from reanimate.talking_head.config import TalkConfig


class NonFiniteLoss(UserError):
    pass


def _content_backbone(config: TalkConfig) -> nn.Module | None:
    if config.content_weight == 0 or config.perceptual == "none":
        return None
    if config.perceptual == "inception":
        return InceptionFeatures(InceptionFeatures.FACE_LAYERS).eval()
    return VGG19Features(config.vgg19_weights, taps=(1, 6, 11, 20, 29)).eval()  # relu1_1 .. relu5_1


def _feature_l1(backbone: nn.Module, fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        targets = backbone(real)
    return torch.stack([F.l1_loss(f, t) for f, t in zip(backbone(fake), targets)]).sum()


class Losses(nn.Module):
    """Generator/embedder and discriminator objectives of meta-learning."""

    def __init__(self, config: TalkConfig):
        super().__init__()
        self.config = config
        self.content = _content_backbone(config)
        self.vggface = VGGFaceFeatures(config.vggface_weights).eval() if config.vggface_weight > 0 else None

    def generator(self, fake, real, fake_score, fake_maps, real_maps, embedding, w_video) -> dict[str, torch.Tensor]:
        """L_CNT + L_ADV (-D + feature matching) + L_MCH, each weighted; `real_maps` are D's block
        outputs for the real frame and `w_video` the discriminator's W_i (both without gradient)."""
        c, terms = self.config, {}
        if self.content is not None:
            terms["content"] = c.content_weight * _feature_l1(self.content, fake, real)
        if self.vggface is not None:
            terms["vggface"] = c.vggface_weight * _feature_l1(self.vggface, fake, real)
        if c.pixel_weight:
            terms["pixel"] = c.pixel_weight * F.l1_loss(fake, real)
        if c.adversarial_weight:
            terms["adversarial"] = -c.adversarial_weight * fake_score.mean()
        if c.feature_matching_weight:
            fm = torch.stack([F.l1_loss(f, r) for f, r in zip(fake_maps, real_maps)]).sum()
            terms["feature_matching"] = c.feature_matching_weight * fm
        if c.match_weight and w_video is not None:
            terms["match"] = c.match_weight * F.l1_loss(embedding, w_video)
        return terms

    def discriminator(self, real_score, fake_score) -> dict[str, torch.Tensor]:
        """Hinge loss (the ReLUs matter: without them D is rewarded without bound). W_i learns from
        this alone: pulling it towards ê as well lets both collapse to zero together (measured: the
        embedding died within a few hundred steps), after which the generator ignores the person."""
        return {"real": F.relu(1 - real_score).mean(), "fake": F.relu(1 + fake_score).mean()}


def check_finite(terms: dict[str, torch.Tensor], step: int, part: str) -> None:
    for name, value in terms.items():
        if not torch.isfinite(value).all():
            raise NonFiniteLoss(f"step {step}: the {part} loss term '{name}' became {value.item()}; training "
                                "stopped and the last good training state is kept. Lower the learning rates "
                                "(`lr_g`/`lr_d`) or the term's weight, and run again to resume from it")
