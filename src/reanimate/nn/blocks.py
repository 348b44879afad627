"""Convolution blocks shared by the networks."""

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm


def conv_norm_act(in_ch: int, out_ch: int, kernel: int, stride: int = 1, norm: bool = True,
                  act: nn.Module | None = None) -> nn.Sequential:
    """Conv with 'same' padding (for odd kernels), optional BatchNorm, then an activation."""
    layers: list[nn.Module] = [nn.Conv2d(in_ch, out_ch, kernel, stride, kernel // 2, bias=not norm)]
    if norm:
        layers.append(nn.BatchNorm2d(out_ch))
    layers.append(act if act is not None else nn.LeakyReLU(0.2))
    return nn.Sequential(*layers)


class ResBlock(nn.Module):
    """Pre-activation residual block: ReLU-conv-BN-ReLU-conv + identity (Texler et al., Sec. 3)."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.ReLU(),
            nn.Conv2d(channels, channels, 3, 1, 1, bias=False),
            nn.BatchNorm2d(channels),
            nn.ReLU(),
            nn.Conv2d(channels, channels, 3, 1, 1),
        )

    def forward(self, x):
        return x + self.body(x)


class UpConv(nn.Module):
    """Nearest-neighbour upsampling x2 then a 3x3 conv: no checkerboard artefacts of transposed convs."""

    def __init__(self, in_ch: int, out_ch: int, norm: bool = True):
        super().__init__()
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.conv = conv_norm_act(in_ch, out_ch, 3, norm=norm)

    def forward(self, x):
        return self.conv(self.up(x))


# -- Spectrally normalized residual blocks (BigGAN / SAGAN style), used by the talking-head networks ----

def sn_conv(in_ch: int, out_ch: int, kernel: int = 3) -> nn.Module:
    """Conv with 'same' padding under spectral normalization (Miyato et al. 2018)."""
    return spectral_norm(nn.Conv2d(in_ch, out_ch, kernel, 1, kernel // 2))


def sn_linear(in_features: int, out_features: int, bias: bool = True) -> nn.Module:
    return spectral_norm(nn.Linear(in_features, out_features, bias=bias))


class AdaIN(nn.Module):
    """Adaptive instance norm (Huang & Belongie 2017): scale and shift come from outside, per sample.

    `num_params` = 2 * channels values are read from the person's ψ vector by the generator.
    """

    def __init__(self, channels: int):
        super().__init__()
        self.channels = channels
        self.norm = nn.InstanceNorm2d(channels, affine=False)

    @property
    def num_params(self) -> int:
        return 2 * self.channels

    def forward(self, x, params):
        scale, shift = params.chunk(2, dim=1)  # (B, C) each
        # 1 + scale: a zero ψ leaves the normalized features as they are, a sane start.
        return self.norm(x) * (1 + scale[:, :, None, None]) + shift[:, :, None, None]


class ResBlockDown(nn.Module):
    """Residual downsampling block: [norm]-ReLU-conv-[norm]-ReLU-conv-avgpool + 1x1 conv-avgpool skip."""

    def __init__(self, in_ch: int, out_ch: int, norm: bool = False, first: bool = False):
        super().__init__()
        self.first = first  # the first block sees the image: no ReLU before its first conv
        self.norm1 = nn.InstanceNorm2d(in_ch, affine=True) if norm else nn.Identity()
        self.norm2 = nn.InstanceNorm2d(out_ch, affine=True) if norm else nn.Identity()
        self.conv1, self.conv2 = sn_conv(in_ch, out_ch), sn_conv(out_ch, out_ch)
        self.skip = sn_conv(in_ch, out_ch, 1)

    def forward(self, x):
        h = self.norm1(x)
        h = self.conv1(h if self.first else F.relu(h))
        h = self.conv2(F.relu(self.norm2(h)))
        return F.avg_pool2d(h, 2) + F.avg_pool2d(self.skip(x), 2)


class ResBlockAdaIN(nn.Module):
    """Residual block with AdaIN, optionally upsampling x2 (nearest) first (Zakharov et al., Sec. 3)."""

    def __init__(self, in_ch: int, out_ch: int, upsample: bool = False):
        super().__init__()
        self.upsample = upsample
        self.norm1, self.norm2 = AdaIN(in_ch), AdaIN(out_ch)
        self.conv1, self.conv2 = sn_conv(in_ch, out_ch), sn_conv(out_ch, out_ch)
        self.skip = sn_conv(in_ch, out_ch, 1) if (in_ch != out_ch or upsample) else nn.Identity()

    @property
    def num_params(self) -> int:
        return self.norm1.num_params + self.norm2.num_params

    def forward(self, x, params):
        p1, p2 = params.split([self.norm1.num_params, self.norm2.num_params], dim=1)
        h = F.relu(self.norm1(x, p1))
        if self.upsample:
            h, x = F.interpolate(h, scale_factor=2.0), F.interpolate(x, scale_factor=2.0)
        h = self.conv1(h)
        h = self.conv2(F.relu(self.norm2(h, p2)))
        return h + self.skip(x)


class SelfAttention(nn.Module):
    """SAGAN self-attention (Zhang et al. 2019); gamma starts at 0 so the block starts as identity."""

    def __init__(self, channels: int):
        super().__init__()
        inner = max(1, channels // 8)
        self.query, self.key = sn_conv(channels, inner, 1), sn_conv(channels, inner, 1)
        self.value = sn_conv(channels, channels // 2 or 1, 1)
        self.out = sn_conv(channels // 2 or 1, channels, 1)
        self.gamma = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        b, c, h, w = x.shape
        q = self.query(x).flatten(2)  # (B, C/8, HW)
        k = F.max_pool2d(self.key(x), 2).flatten(2)  # (B, C/8, HW/4): pooled keys, as SAGAN/BigGAN
        v = F.max_pool2d(self.value(x), 2).flatten(2)  # (B, C/2, HW/4)
        attention = torch.softmax(q.transpose(1, 2) @ k, dim=-1)  # (B, HW, HW/4)
        out = (v @ attention.transpose(1, 2)).view(b, -1, h, w)  # (B, C/2, H, W)
        return x + self.gamma * self.out(out)
