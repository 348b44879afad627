"""Generator and discriminator of few-shot patch-based training (Texler et al. 2020, Sec. 3).

The generator is a U-Net-like encoder / residual core / decoder with skip connections; it is
fully convolutional, so it trains on 32x32 patches and runs on whole frames of any size whose
sides are multiples of 4 (two stride-2 stages).
"""

import torch
from torch import nn

from reanimate.nn.blocks import ResBlock, UpConv, conv_norm_act


class Generator(nn.Module):
    """Image-to-image network; input and output in [-1, 1].

    Args:
        in_channels: 3 for RGB frames; more when guide channels are concatenated.
        filters: the six channel counts of the reference "P" configuration, (32, 64, 128, 128, 128, 64).
        resblocks: Nr, residual blocks at 1/4 resolution.
    """

    def __init__(self, in_channels: int = 3, filters=(32, 64, 128, 128, 128, 64), resblocks: int = 7):
        super().__init__()
        f = filters
        self.enc0 = conv_norm_act(in_channels, f[0], 7)
        self.enc1 = conv_norm_act(f[0], f[1], 3, stride=2)
        self.enc2 = conv_norm_act(f[1], f[2], 3, stride=2)
        self.core = nn.Sequential(*[ResBlock(f[2]) for _ in range(resblocks)])
        if f[3] != f[2]:
            raise ValueError("filters[3] must equal filters[2]: residual blocks keep the channel count")
        self.dec2 = UpConv(f[3] + f[2], f[4])
        self.dec1 = UpConv(f[4] + f[1], f[4])
        self.out7 = conv_norm_act(f[4] + f[0] + in_channels, f[5], 7, norm=False)
        # Two 3x3 "smoothing" convolutions before the 1x1 colour projection (reference "P" design).
        self.smooth = nn.Sequential(conv_norm_act(f[5], f[5], 3, norm=False), conv_norm_act(f[5], f[5], 3, norm=False))
        self.to_rgb = nn.Sequential(nn.Conv2d(f[5], 3, 1), nn.Tanh())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e0 = self.enc0(x)  # (B, f0, H, W)
        e1 = self.enc1(e0)  # (B, f1, H/2, W/2)
        e2 = self.enc2(e1)  # (B, f2, H/4, W/4)
        core = self.core(e2)
        d2 = self.dec2(torch.cat([core, e2], 1))  # (B, f4, H/2, W/2)
        d1 = self.dec1(torch.cat([d2, e1], 1))  # (B, f4, H, W)
        y = self.out7(torch.cat([d1, e0, x], 1))  # (B, f5, H, W)
        return self.to_rgb(self.smooth(y))


class Discriminator(nn.Module):
    """Small unconditional PatchGAN: 4x4 convs 12 -> 24 -> 48 -> 1 with InstanceNorm (Sec. 3)."""

    def __init__(self, channels=(12, 24, 48)):
        super().__init__()
        c = channels
        self.net = nn.Sequential(
            nn.Conv2d(3, c[0], 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(c[0], c[1], 4, 2, 1), nn.InstanceNorm2d(c[1], affine=True), nn.LeakyReLU(0.2),
            nn.Conv2d(c[1], c[2], 4, 1, 1), nn.InstanceNorm2d(c[2], affine=True), nn.LeakyReLU(0.2),
            nn.Conv2d(c[2], 1, 4, 1, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)  # (B, 1, h, w) realism map, LSGAN targets 1 / 0


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
