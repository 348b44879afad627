"""The embedder and generator as one module, so that DistributedDataParallel sees one forward per step."""

import torch
from torch import nn

from reanimate.talking_head.config import TalkConfig
from reanimate.talking_head.nets.embedder import Embedder
from reanimate.talking_head.nets.generator import Generator


class EmbedderGenerator(nn.Module):
    """E and G as one module: one forward per step for DistributedDataParallel."""

    def __init__(self, config: TalkConfig):
        super().__init__()
        self.embedder = Embedder(config)
        self.generator = Generator(config)

    def forward(self, frames, landmarks, target_landmarks, guide=None) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, K, 3, S, S) x 2 and (B, 3, S, S) (and the warped source, for a guided generator) ->
        generated (B, 3, S, S) and ê (B, embed_dim)."""
        embedding = self.embedder(frames, landmarks)
        return self.generator(target_landmarks, embedding, guide=guide), embedding
