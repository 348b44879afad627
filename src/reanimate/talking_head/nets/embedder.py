"""The embedder E(x, y) of Zakharov et al. (Sec. 3.1), and the down path it shares with the discriminator."""

import torch
from torch import nn

from reanimate.nn.blocks import ResBlockDown, SelfAttention
from reanimate.talking_head.config import TalkConfig


class DownPath(nn.Module):
    """Residual downsampling blocks (no normalization) from the image size to 4x4, with
    self-attention after the block that reaches `attention_down`; the last block has `out_ch` channels."""

    def __init__(self, config: TalkConfig, in_ch: int, out_ch: int):
        super().__init__()
        blocks, resolution, ch = [], config.image_size, in_ch
        while resolution > 4:
            resolution //= 2
            width = out_ch if resolution == 4 else config.width(resolution)
            blocks.append(ResBlockDown(ch, width, first=not blocks))
            if resolution == config.attention_down:
                blocks.append(SelfAttention(width))
            ch = width
        self.blocks = nn.ModuleList(blocks)

    def forward(self, x) -> list[torch.Tensor]:
        """Every block's output (the discriminator matches them as features); the last is (B, out_ch, 4, 4)."""
        features = []
        for block in self.blocks:
            x = block(x)
            features.append(x)
        return features


class Embedder(nn.Module):
    """Frame + its landmark image (6 channels) -> a `embed_dim` vector; a person is the mean over K frames."""

    def __init__(self, config: TalkConfig):
        super().__init__()
        self.down = DownPath(config, 6, config.embed_dim)

    def forward(self, frames: torch.Tensor, landmarks: torch.Tensor) -> torch.Tensor:
        """(B, K, 3, S, S) frames and landmark images -> ê (B, embed_dim), averaged over K."""
        b, k = frames.shape[:2]
        x = torch.cat([frames, landmarks], dim=2).flatten(0, 1)  # (B*K, 6, S, S)
        h = self.down(x)[-1].sum(dim=(2, 3))  # global sum pooling: (B*K, embed_dim)
        return torch.relu(h).view(b, k, -1).mean(dim=1)  # (B, embed_dim)
