"""The projection discriminator D(x, y, i) of Zakharov et al. (Sec. 3.1, after Miyato & Koyama 2018).

Realism r = h(x, y) · (W_i + w_0) + b, where W_i is a learned column per training video: D judges
whether a frame is real and whether it shows that video's person. Fine-tuning on a new person
(Sec. 3.3) replaces W_i + w_0 by w' = w_0 + ê.
"""

import torch
import torch.nn.functional as F
from torch import nn

from reanimate.nn.blocks import sn_conv
from reanimate.talking_head.config import TalkConfig
from reanimate.talking_head.nets.embedder import DownPath


class Discriminator(nn.Module):
    def __init__(self, config: TalkConfig, num_videos: int):
        super().__init__()
        dim = config.embed_dim
        self.down = DownPath(config, 6, dim)
        self.extra = nn.ModuleList([sn_conv(dim, dim), sn_conv(dim, dim)])  # the extra block at 4x4
        self.W = nn.Embedding(num_videos, dim)  # one column per training video
        nn.init.normal_(self.W.weight, std=0.02)
        self.w0 = nn.Parameter(torch.zeros(dim))
        self.b = nn.Parameter(torch.zeros(1))

    def features(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """(B, embed_dim) pooled features and every block's output (for feature matching)."""
        maps = self.down(torch.cat([x, y], dim=1))
        h = maps[-1]
        h = h + self.extra[1](F.relu(self.extra[0](F.relu(h))))
        maps.append(h)
        return torch.relu(h.sum(dim=(2, 3))), maps

    def forward(self, x: torch.Tensor, y: torch.Tensor, video: torch.Tensor | None = None,
                w: torch.Tensor | None = None) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Realism scores (B,) and block outputs; the person is `video` (indices into W) or `w`
        (B, embed_dim) given directly (fine-tuning)."""
        h, maps = self.features(x, y)
        w = self.W(video) if w is None else w  # (B, embed_dim)
        return (h * (w + self.w0)).sum(dim=1) + self.b, maps
