"""Convolution blocks shared by the networks."""

from torch import nn


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
