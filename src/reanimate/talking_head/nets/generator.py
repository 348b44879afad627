"""The generator G(y, ê) of Zakharov et al. (Sec. 3.1): landmark image in, face out, styled by AdaIN.

The person enters only through ψ, the AdaIN scales and shifts of every layer: ψ = P·ê in
meta-learning and feed-forward use; fine-tuning (Sec. 3.3) starts from ψ' = P·ê and trains ψ' itself.
"""

import torch
import torch.nn.functional as F
from torch import nn

from reanimate.nn.blocks import AdaIN, ResBlockAdaIN, ResBlockDown, SelfAttention, sn_conv, sn_linear
from reanimate.talking_head.config import TalkConfig


class Generator(nn.Module):
    def __init__(self, config: TalkConfig):
        super().__init__()
        down, resolution, ch = [], config.image_size, 3
        while resolution > config.bottleneck:  # instance-normalized down path
            resolution //= 2
            width = config.width(resolution)
            down.append(ResBlockDown(ch, width, norm=True, first=not down))
            if resolution == config.attention_down:
                down.append(SelfAttention(width))
            ch = width
        self.down = nn.ModuleList(down)
        self.middle = nn.ModuleList([ResBlockAdaIN(ch, ch) for _ in range(config.res_blocks)])
        up = []
        while resolution < config.image_size:
            resolution *= 2
            width = config.width(resolution)
            up.append(ResBlockAdaIN(ch, width, upsample=True))
            if resolution == config.attention_up:
                up.append(SelfAttention(width))
            ch = width
        self.up = nn.ModuleList(up)
        self.out_norm = AdaIN(ch)
        self.out_conv = sn_conv(ch, 3)
        self.adain_layers = [m for m in [*self.middle, *self.up, self.out_norm] if hasattr(m, "num_params")]
        self.psi_size = sum(m.num_params for m in self.adain_layers)
        self.project = sn_linear(config.embed_dim, self.psi_size, bias=False)  # P

    def psi(self, embedding: torch.Tensor) -> torch.Tensor:
        """ψ̂ = P·ê: (B, embed_dim) -> (B, psi_size)."""
        return self.project(embedding)

    def forward(self, landmarks: torch.Tensor, embedding: torch.Tensor | None = None,
                psi: torch.Tensor | None = None) -> torch.Tensor:
        """(B, 3, S, S) landmark images and ê (or ψ directly) -> (B, 3, S, S) faces in [-1, 1]."""
        if psi is None:
            psi = self.psi(embedding)
        params = iter(psi.split([m.num_params for m in self.adain_layers], dim=1))
        h = landmarks
        for block in self.down:
            h = block(h)
        for block in [*self.middle, *self.up]:
            h = block(h, next(params)) if isinstance(block, ResBlockAdaIN) else block(h)
        h = F.relu(self.out_norm(h, next(params)))
        return torch.tanh(self.out_conv(h))
