"""Few-shot avatars (Zakharov et al., Sec. 3.3): a new person from T photos or frames.

Feed-forward: the embedder averages the T shots into ê and the generator runs with ψ̂ = P·ê.
Fine-tuning: ψ' = P·ê and the discriminator's w' = w_0 + ê become trainable, and the generator and
discriminator are fine-tuned on the T shots (content + adversarial + feature matching, plus a pixel
L1 that helps the small CPU models; no match term, there is no W_i for a new person). The embedder
is not changed.

A guided model (`warp_guide`) also warps the nearest shot to every target (`WarpAvatar`'s warp) and
adds the generator's correction to it. Given the shots at a larger size too (`detail`), the
correction is added at that size: the network corrects at its own resolution, the person's texture
stays sharp.
"""

import copy
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from reanimate.core.checkpoint import load_model_folder, save_model_folder
from reanimate.core.errors import UserError, brief
from reanimate.core.run import Budget, train_loop
from reanimate.faces.landmarks import LandmarkDetector
from reanimate.faces.raster import draw_landmarks
from reanimate.faces.shots import crop_shots, find_shots
from reanimate.faces.warp import nearest_shot
from reanimate.nn.convert import to_image, to_tensor
from reanimate.talking_head.config import MODEL_FIELDS, TalkConfig, model_settings
from reanimate.talking_head.losses import Losses
from reanimate.talking_head.model import TalkingHeadModel
from reanimate.talking_head.nets.generator import Generator
from reanimate.talking_head.warp_avatar import WarpAvatar

PERSON_KIND = "talking-head-person"


def landmark_images(points: np.ndarray, size: int) -> torch.Tensor:
    """(N, 68, 2) crop landmarks -> (N, 3, size, size) landmark images in [-1, 1]."""
    return torch.stack([to_tensor(draw_landmarks(p, (size, size))) for p in points])


def load_shots(sources, size: int, shots: int, detector: LandmarkDetector | None = None,
               face: int | None = None) -> tuple[list[np.ndarray], np.ndarray]:
    """Face crops (T x (size, size, 3) uint8) and their landmarks (T, 68, 2) from photos and videos
    (see `reanimate.faces.shots.find_shots`)."""
    _, images, points = crop_shots(find_shots(sources, shots, detector, face), size)
    return images, points


class Avatar:
    """A person from T shots: feed-forward at once, `finetune()` for a closer likeness.

    Args:
        model: a meta-learned `TalkingHeadModel`.
        frames: T face crops, RGB uint8 at the model's size (from `load_shots`).
        points: (T, 68, 2) their landmarks.
        detail: for a guided model, the same shots as (crops, landmarks) at a larger size; its faces
            then come out at that size (default: `frames`, `points`).
    """

    def __init__(self, model: TalkingHeadModel, frames: list[np.ndarray], points: np.ndarray,
                 device: torch.device | str = "cpu", detail: tuple[list[np.ndarray], np.ndarray] | None = None):
        self.model, self.device = model.to(device).eval(), torch.device(device)
        self.size = model.config.image_size
        self.frames = torch.stack([to_tensor(f) for f in frames]).to(self.device)  # (T, 3, S, S)
        self.marks = landmark_images(points, self.size).to(self.device)
        self.points = points
        with torch.no_grad():
            self.embedding = model.embedder(self.frames[None], self.marks[None])  # ê: (1, embed_dim)
            self.psi = model.generator.psi(self.embedding)  # ψ̂ = P·ê
        self.generator: Generator = model.generator
        self.finetuned_steps = 0
        self.guided = model.config.warp_guide
        self.warp = WarpAvatar(*(detail or (frames, points))) if self.guided else None

    @property
    def clamped_frames(self) -> int:
        """Frames whose warp guide would have folded its mesh (0 without a guide)."""
        return self.warp.clamped_frames if self.guided else 0

    @property
    def mouth_frames(self) -> int:
        """Frames whose warp guide got another face's mouth inside (0 without a guide)."""
        return self.warp.mouth_frames if self.guided else 0

    @property
    def out_size(self) -> int:
        """Side of the faces `render` returns: the detail shots' for a guided model, else the model's."""
        return self.warp.size if self.guided else self.size

    def guides(self, points: np.ndarray, leave_out_own: bool = False) -> tuple[torch.Tensor, list[np.ndarray]]:
        """For targets (N, 68, 2) in the detail shots' pixels: the generator's guides (N, 3, S, S) and
        the warps themselves at the detail size. `leave_out_own`: target n is shot n, warp another."""
        # The warp of the nearest shot with an opening mouth filled from the widest-open shot (as
        # `talk eval` scores the warp, and as meta-learning episodes carry it): the network starts
        # from the best the warp alone does.
        warped = [self.warp.render(target, shot=nearest_shot(self.warp.points, target, leave_out=n)[0],
                                   exclude=n) if leave_out_own else self.warp.render(target)
                  for n, target in enumerate(points)]
        small = [cv2.resize(w, (self.size, self.size), interpolation=cv2.INTER_AREA) if w.shape[0] != self.size else w
                 for w in warped]
        return torch.stack([to_tensor(w) for w in small]).to(self.device), warped

    @torch.no_grad()
    def render(self, marks: torch.Tensor, points: np.ndarray | None = None, *, batch: int = 8) -> list[np.ndarray]:
        """Faces for (N, 3, S, S) landmark images, as RGB uint8 crops of `out_size`. A guided model also
        needs the targets' landmarks (N, 68, 2) in the detail shots' pixels."""
        if self.guided and (points is None or len(points) != len(marks)):
            raise ValueError("a guided model draws over the warped shot: pass the target landmarks too")
        self.generator.eval()
        out = []
        for start in range(0, len(marks), batch):
            chunk = marks[start:start + batch].to(self.device)
            psi = self.psi.expand(len(chunk), -1)
            if not self.guided:
                out += [to_image(x) for x in self.generator(chunk, psi=psi)]
                continue
            guide, warped = self.guides(points[start:start + batch])
            change = self.generator.correction(chunk, psi=psi, guide=guide)
            out += [_add_correction(w, c) for w, c in zip(warped, change)]
        return out

    def finetune(self, steps: int = 0, seconds: float | None = None, lr: float = 5e-5, batch: int = 4,
                 show_progress: bool = True, config: TalkConfig | None = None, seed: int = 0) -> dict[str, float]:
        """Fine-tune G (with ψ') and D (with w' = w_0 + ê) on the shots (Sec. 3.3), `batch` random shots
        per step; returns the last losses."""
        if steps <= 0 and not seconds:
            return {}
        config = config or TalkConfig(**{k: getattr(self.model.config, k) for k in MODEL_FIELDS}, preset="finetune",
                                      match_weight=0.0, pixel_weight=10.0, perceptual="inception")
        self.generator = copy.deepcopy(self.generator).train()
        discriminator = copy.deepcopy(self.model.discriminator).train()
        discriminator.w0.requires_grad_(False)  # w' = w_0 + ê is trained through `w` alone
        self.psi = torch.nn.Parameter(self.psi.detach().clone())
        w = torch.nn.Parameter(self.embedding.detach().clone())  # D adds w_0: w' = w_0 + ê
        losses = Losses(config).to(self.device)
        opt_g = torch.optim.Adam([*self.generator.parameters(), self.psi], lr=lr, betas=(0.0, 0.999))
        opt_d = torch.optim.Adam([*(p for p in discriminator.parameters() if p.requires_grad), w], lr=lr * 4,
                                 betas=(0.0, 0.999))
        count = min(batch, len(self.frames))
        rng = torch.Generator().manual_seed(seed)
        # Guided: each shot is drawn over another shot warped to it (itself when it is the only one).
        guides = self.guides(self.warp.points, leave_out_own=True)[0] if self.guided else None
        if self.guided:  # the warp's counters report the frames rendered, not these
            self.warp.clamped_frames = self.warp.mouth_frames = 0
        books = _Books()

        def step() -> dict[str, float]:
            pick = torch.randperm(len(self.frames), generator=rng)[:count].to(self.device)
            target, marks = self.frames[pick], self.marks[pick]
            psi, w_all = self.psi.expand(count, -1), w.expand(count, -1)
            fake = self.generator(marks, psi=psi, guide=None if guides is None else guides[pick])
            fake_score, fake_maps = discriminator(fake, marks, w=w_all)
            with torch.no_grad():
                _, real_maps = discriminator(target, marks, w=w_all)
            g_terms = losses.generator(fake, target, fake_score, fake_maps, real_maps, None, None)
            opt_g.zero_grad(set_to_none=True)
            sum(g_terms.values()).backward()
            opt_g.step()
            scores, _ = discriminator(torch.cat([target, fake.detach()]), torch.cat([marks, marks]),
                                      w=w.expand(2 * count, -1))
            real_score, fake_score = scores.chunk(2)
            d_terms = losses.discriminator(real_score, fake_score)
            opt_d.zero_grad(set_to_none=True)
            sum(d_terms.values()).backward()
            opt_d.step()
            self.finetuned_steps += 1
            books.step += 1
            return {k: v.item() for k, v in g_terms.items()}

        # Both budgets given: whichever comes first.
        terms = train_loop(step, books, Budget(steps or None, seconds or None),
                           bar={"desc": "fine-tuning", "unit": "step", "enabled": show_progress},
                           show=lambda t: " ".join(f"{k[:4]} {v:.3g}" for k, v in t.items()))
        self.w = w.detach()
        self.generator.eval()
        return terms

    def save_pretrained(self, folder: str | os.PathLike, overwrite: bool = False) -> Path:
        """The person as a model folder: generator weights and ψ (no embedder or shots needed later)."""
        if self.guided:
            raise UserError("`save_person` keeps the network alone, and a guided model (warp_guide) also needs "
                            "the shots it warps: animate from the photos and `model` instead")
        state = {f"generator.{k}": v for k, v in self.generator.state_dict().items()} | {"psi": self.psi.detach()}
        meta = {"kind": PERSON_KIND, "version": 1, "model": self.model.config.model_dict(),
                "finetuned_steps": self.finetuned_steps}
        return save_model_folder(folder, meta, state, overwrite=overwrite)


@dataclass
class _Books:
    step: int = 0  # fine-tuning steps of this call
    elapsed: float = 0.0


def load_person(folder: str | os.PathLike, device: str | torch.device = "cpu") -> tuple[Generator, torch.Tensor]:
    """A saved person: its generator and ψ."""
    meta, state = load_model_folder(folder)
    if meta.get("kind") != PERSON_KIND:
        raise UserError(f"{folder} is not a saved person (kind {meta.get('kind')!r})")
    try:
        generator = Generator(TalkConfig(**model_settings(meta["model"]), preset="person"))
        generator.load_state_dict({k.removeprefix("generator."): v for k, v in state.items() if k != "psi"})
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise UserError(f"{folder} is a damaged person folder ({brief(exc)}): save it again") from exc
    return generator.to(device).eval(), state["psi"].to(device)


def _add_correction(warped: np.ndarray, correction: torch.Tensor) -> np.ndarray:
    """A guided generator's correction (3, S, S), on the [-1, 1] scale, enlarged and added to the warp
    at its own size (uint8, any size): the warp's detail stays everywhere, and the network moves what
    it changes (colour, shading, an opening mouth) at its own resolution. (Pasting its enlarged face
    in instead would put blurred pixels wherever it draws.)"""
    change = correction.permute(1, 2, 0).float().cpu().numpy() * 127.5
    if change.shape[:2] != warped.shape[:2]:
        change = cv2.resize(change, warped.shape[:2][::-1], interpolation=cv2.INTER_LINEAR)
    return np.clip(warped + change + 0.5, 0, 255).astype(np.uint8)
