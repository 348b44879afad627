"""The generator G(y, ê) of Zakharov et al. (Sec. 3.1): landmark image in, face out, styled by AdaIN.

The person enters only through ψ, the AdaIN scales and shifts of every layer: ψ = P·ê in
meta-learning and feed-forward use; fine-tuning (Sec. 3.3) starts from ψ' = P·ê and trains ψ' itself.

With `warp_guide` (not in the paper; the idea of its authors' follow-up, Bi-layer, and of FOMM and
LivePortrait) the generator also sees the person's own shot warped to the target landmarks, and
draws a face and a blend mask over that warp: the warp brings the person's real texture, the
network corrects what a warp gets wrong (an opening mouth, stretched cheeks, the shading of a
turn). The blend starts near "keep the warp" (BLEND_START), so an untrained network already shows
the person.
"""

import torch
import torch.nn.functional as F
from torch import nn

from reanimate.nn.blocks import AdaIN, ResBlockAdaIN, ResBlockDown, SelfAttention, sn_conv, sn_linear
from reanimate.talking_head.config import TalkConfig

BLEND_START = -4.0  # logit of the drawn face's share at the start: 2 % drawn (an untrained network's noise stays faint)


class Generator(nn.Module):
    def __init__(self, config: TalkConfig):
        super().__init__()
        self.guided = config.warp_guide
        down, resolution, ch = [], config.image_size, 6 if self.guided else 3
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
        self.out_conv = sn_conv(ch, 4 if self.guided else 3)  # guided: a face and its blend logit
        self.adain_layers = [m for m in [*self.middle, *self.up, self.out_norm] if hasattr(m, "num_params")]
        self.psi_size = sum(m.num_params for m in self.adain_layers)
        self.project = sn_linear(config.embed_dim, self.psi_size, bias=False)  # P

    def psi(self, embedding: torch.Tensor) -> torch.Tensor:
        """ψ̂ = P·ê: (B, embed_dim) -> (B, psi_size)."""
        return self.project(embedding)

    def forward(self, landmarks: torch.Tensor, embedding: torch.Tensor | None = None,
                psi: torch.Tensor | None = None, guide: torch.Tensor | None = None) -> torch.Tensor:
        """(B, 3, S, S) landmark images and ê (or ψ directly) -> (B, 3, S, S) faces in [-1, 1].
        A guided generator also takes `guide`, (B, 3, S, S): the source warped to the landmarks."""
        drawn, blend = self.layers(landmarks, embedding, psi, guide)
        return drawn if blend is None else guide + blend * (drawn - guide)

    def layers(self, landmarks: torch.Tensor, embedding: torch.Tensor | None = None, psi: torch.Tensor | None = None,
               guide: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(the drawn face (B, 3, S, S), its blend weight over the guide (B, 1, S, S), None when unguided);
        apart, so a caller can blend them over a sharper warp than the network's size holds."""
        if self.guided != (guide is not None):
            raise ValueError("a guided generator needs the warped source (guide=...); an unguided one takes none")
        if psi is None:
            psi = self.psi(embedding)
        params = iter(psi.split([m.num_params for m in self.adain_layers], dim=1))
        h = landmarks if guide is None else torch.cat([landmarks, guide], dim=1)
        for block in self.down:
            h = block(h)
        for block in [*self.middle, *self.up]:
            h = block(h, next(params)) if isinstance(block, ResBlockAdaIN) else block(h)
        h = self.out_conv(F.relu(self.out_norm(h, next(params))))
        if not self.guided:
            return torch.tanh(h), None
        return torch.tanh(h[:, :3]), torch.sigmoid(h[:, 3:] + BLEND_START)
