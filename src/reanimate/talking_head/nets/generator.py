"""The generator G(y, ê) of Zakharov et al. (Sec. 3.1): landmark image in, face out, styled by AdaIN.

The person enters only through ψ, the AdaIN scales and shifts of every layer: ψ = P·ê in
meta-learning and feed-forward use; fine-tuning (Sec. 3.3) starts from ψ' = P·ê and trains ψ' itself.

With `warp_guide` (not in the paper; the idea of its authors' follow-up, Bi-layer, and of FOMM and
LivePortrait) the generator also sees the person's own shot warped to the target landmarks, and
draws a correction that is added to that warp: the warp brings the person's real texture, the
network corrects what a warp gets wrong (an opening mouth, stretched cheeks, the shading of a
turn). The correction is scaled by a learned gain that starts at 0 (as in ReZero), so an untrained
network shows the warp exactly. A face blended over the warp by a learned sigmoid mask was tried
first: in meta-learning the mask closed (1e-9) while the drawn face was still poor, and a closed
mask passes no gradient to the drawing, which then never improved; the gain's gradient is therefore
passed straight through to the net (`correction`).
"""

import torch
import torch.nn.functional as F
from torch import nn

from reanimate.nn.blocks import AdaIN, ResBlockAdaIN, ResBlockDown, SelfAttention, sn_conv, sn_linear
from reanimate.talking_head.config import TalkConfig

GAIN_SCALE = 10.0  # Adam moves a parameter by about the learning rate per step: the gain moves 10x that


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
        self.out_conv = sn_conv(ch, 3)
        if self.guided:  # the correction's gain: 0 at the start, the output is the warp itself
            self.gain = nn.Parameter(torch.zeros(1))
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
        if not self.guided:
            return self.layers(landmarks, embedding, psi, guide)  # (refuses a guide)
        return (guide + self.correction(landmarks, embedding, psi, guide)).clamp(-1, 1)

    def correction(self, landmarks: torch.Tensor, embedding: torch.Tensor | None = None,
                   psi: torch.Tensor | None = None, guide: torch.Tensor | None = None) -> torch.Tensor:
        """A guided generator's change to the guide, (B, 3, S, S): apart, so a caller can add it to a
        sharper warp than the network's size holds."""
        if guide is None:
            raise ValueError("a guided generator needs the warped source (guide=...)")
        net = self.layers(landmarks, embedding, psi, guide)
        # Never below 0 in value (the straight-through gradient below assumes a positive gain), but
        # its gradient passes, so a gain that Adam pushes under 0 can still come back (the further
        # under, the longer that takes; meta-learning has kept it within 1e-4 of 0 before it opened).
        gain = GAIN_SCALE * (self.gain + (self.gain.clamp(min=0) - self.gain).detach())
        # The value is gain x net, but the net's gradient is taken as if the gain were 1: while the
        # gain is near 0 the net still learns which way to correct (towards target - warp), so the
        # gain can open once that correction helps. With the plain product the net's gradients,
        # scaled by the gain, fell below Adam's epsilon. (Measured: in 400-520 steps of CPU
        # meta-learning on synthetic people the gain stayed within 1e-4 of 0 either way.)
        straight_through = (net - net.detach()) * (1 - gain.detach())  # value 0, the net's gradient x (1 - gain)
        return net * gain.detach() + straight_through + net.detach() * (gain - gain.detach())

    def layers(self, landmarks: torch.Tensor, embedding: torch.Tensor | None = None, psi: torch.Tensor | None = None,
               guide: torch.Tensor | None = None) -> torch.Tensor:
        """The network itself: (B, 3, S, S) in [-1, 1], the face (unguided) or the unscaled correction."""
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
        return torch.tanh(self.out_conv(F.relu(self.out_norm(h, next(params)))))
