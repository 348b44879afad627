"""Meta-learning of the talking-head networks (Zakharov et al., Sec. 3.2), on one process or many.

Each step draws one episode per batch slot: a training video i, K of its frames with their
landmark images for the embedding ê_i, and one more frame as the target. G and E take one step on
content + adversarial + feature matching + match losses, then D one step on the hinge loss (plus
the match term for W_i). Under torchrun the same code runs with DistributedDataParallel: every
process takes its own slice of each step's episodes, rank 0 logs and saves. Running the same
command again resumes from the newest training state in the run folder.
"""

import copy
import json
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from torch.nn.parallel import DistributedDataParallel

from reanimate.core import distributed
from reanimate.core.checkpoint import save_training_state
from reanimate.core.config import to_json
from reanimate.core.errors import UserError
from reanimate.core.files import write_json
from reanimate.core.progress import progress, say
from reanimate.core.run import Budget, Every, resume_state, train_loop
from reanimate.faces.episodes import EpisodeDataset
from reanimate.faces.store import FaceDataset
from reanimate.io.image import contact_sheet, write_png
from reanimate.nn.convert import to_image
from reanimate.talking_head.config import MODEL_DEFAULTS, MODEL_FIELDS, TalkConfig
from reanimate.talking_head.losses import Losses, check_finite
from reanimate.talking_head.nets import EmbedderGenerator
from reanimate.talking_head.nets.discriminator import Discriminator

PREVIEW_EPOCH = 2**31 - 1  # a fixed epoch: the preview shows the same episodes all run long
# Settings that may change when a run resumes (everything else must match the saved state).
_RESUMABLE_CHANGES = {"workers", "log_every", "preview_seconds", "checkpoint_seconds", "lr_g", "lr_d",
                      "w_init"}  # (w_init acts at step 0 only)
# Run settings added later, with the value that states saved before them ran with.
_RUN_DEFAULTS = {"w_init": "normal"}


class StepSampler:
    """Batches of (clip index, epoch) for steps start, start+1, ...: step t takes episodes
    t*B*W .. (t+1)*B*W - 1 of a per-epoch permutation, and process `rank` its own B of them.
    Depends only on (seed, step), so a resumed run continues the same sequence."""

    def __init__(self, num_clips: int, batch: int, rank: int, world: int, seed: int, start: int):
        self.num_clips, self.batch, self.rank, self.world, self.seed, self.start = num_clips, batch, rank, world, seed, start
        self._orders: dict[int, np.ndarray] = {}

    def _order(self, epoch: int) -> np.ndarray:
        if epoch not in self._orders:
            self._orders = {epoch: np.random.default_rng((self.seed, 7, epoch)).permutation(self.num_clips)}
        return self._orders[epoch]

    def batch_at(self, step: int) -> list[tuple[int, int]]:
        first = (step * self.world + self.rank) * self.batch
        items = []
        for slot in range(first, first + self.batch):
            epoch, position = divmod(slot, self.num_clips)
            items.append((int(self._order(epoch)[position]), epoch))
        return items

    def __iter__(self):
        step = self.start
        while True:
            yield self.batch_at(step)
            step += 1


def _unwrap(module):
    return module.module if isinstance(module, DistributedDataParallel) else module


class MetaTrainer:
    """Builds the networks, optimizers and data for a run folder; `train(steps)` runs to that step.

    Args:
        config: a `TalkConfig` (see `reanimate.talking_head.config.load_config`).
        dataset: a prepared face dataset folder (`reanimate faces prepare` or `faces synth`).
        run_dir: training states, previews, `log.jsonl`, TensorBoard logs, `config.json`.
        device: "auto", "cpu", "cuda", ...; under torchrun each process takes its local GPU.
        seed: seeds the weights and the episode sequence.
    """

    def __init__(self, config: TalkConfig, dataset, run_dir, device: str = "auto", seed: int = 0,
                 show_progress: bool = True):
        self.context = distributed.init(device)
        self.device = self.context.device
        self.config, self.seed = config, seed
        self.run_dir = Path(run_dir)
        self.show = show_progress and self.context.is_main
        self.data = FaceDataset(dataset)
        self.episodes = EpisodeDataset(self.data, k=config.k, size=config.image_size, seed=seed,
                                       holdout=config.holdout, warp_guide=config.warp_guide)
        self.num_videos = self.episodes.num_videos
        torch.manual_seed(seed)
        self.eg = EmbedderGenerator(config).to(self.device)
        self.discriminator = Discriminator(config, self.num_videos).to(self.device)
        self.ema = copy.deepcopy(self.eg.generator).eval().requires_grad_(False) if config.ema_decay else None
        self.losses = Losses(config).to(self.device)
        betas = tuple(config.betas)
        self.opt_g = torch.optim.Adam(self.eg.parameters(), lr=config.lr_g, betas=betas)
        self.opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=config.lr_d, betas=betas)
        self.step, self.elapsed = 0, 0.0  # elapsed: seconds of training steps in this process
        self._resume()
        if self.step == 0 and config.w_init == "embedding":
            self._w_from_first_embeddings()
        if self.context.world > 1:  # (DDP starts every process from rank 0's weights)
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.eg = DistributedDataParallel(self.eg, device_ids=ids)
            self.discriminator = DistributedDataParallel(self.discriminator, device_ids=ids)
        self.autocast = (torch.autocast("cuda", dtype=torch.bfloat16) if self.device.type == "cuda"
                         and torch.cuda.is_bf16_supported() else torch.autocast("cpu", enabled=False))
        self._writer = None
        self._warned = False

    # -- state -------------------------------------------------------------------------------
    def state(self) -> dict:
        """Everything a resume needs, from the unwrapped modules."""
        return {
            "step": self.step, "config": asdict(self.config), "num_videos": self.num_videos, "seed": self.seed,
            "eg": _unwrap(self.eg).state_dict(), "discriminator": _unwrap(self.discriminator).state_dict(),
            "ema": self.ema.state_dict() if self.ema is not None else {},
            "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(),
            "torch_rng": torch.get_rng_state(), "dataset": self._fingerprint(), "processes": self.context.world,
        }

    def _fingerprint(self) -> str:
        import hashlib

        names = "\n".join(f"{c.name}:{c.frames}" for c in self.data.clips)
        return hashlib.sha256(names.encode()).hexdigest()[:16]

    def _resume(self) -> None:
        # Hours of meta-learning: another job in the run folder is a mistake, refused (core.run's policy).
        found = resume_state(self.run_dir, self._differences, start_over=False, show=self.show)
        if found is None:
            return
        state, path = found
        if state.get("processes", self.context.world) != self.context.world:
            say(f"resuming with {self.context.world} processes where {state['processes']} trained: the episode "
                "sequence and the effective batch size change", self.show)
        self.eg.load_state_dict(state["eg"])
        self.discriminator.load_state_dict(state["discriminator"])
        if self.ema is not None and state["ema"]:
            self.ema.load_state_dict(state["ema"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        for group in self.opt_g.param_groups:  # a changed learning rate takes effect
            group["lr"] = self.config.lr_g
        for group in self.opt_d.param_groups:
            group["lr"] = self.config.lr_d
        torch.set_rng_state(state["torch_rng"])
        self.step = int(state["step"])
        say(f"resuming {self.run_dir} at step {self.step}", self.show)

    def _differences(self, state: dict) -> list[str]:
        """What makes a saved state another run's: the networks, the dataset, the seed, or a setting
        that may not change on resume."""
        saved = MODEL_DEFAULTS | _RUN_DEFAULTS | state["config"]  # a state from before a field was added
        mine = asdict(self.config)
        different = [f"{k} {saved.get(k)} there, {mine[k]} now" for k in MODEL_FIELDS if saved.get(k) != mine[k]]
        if state["num_videos"] != self.num_videos:
            different.append(f"{state['num_videos']} videos there, {self.num_videos} now")
        if state.get("dataset") not in (None, self._fingerprint()):
            different.append("another dataset")
        if state.get("seed", self.seed) != self.seed:
            different.append(f"`seed` {state.get('seed')} there, {self.seed} now")
        changed = [k for k in mine if k not in MODEL_FIELDS and k != "preset" and saved.get(k) != mine[k]
                   and not (isinstance(mine[k], tuple) and list(mine[k]) == saved.get(k))]
        different += [f"{k}={saved.get(k)}" for k in changed if k not in _RESUMABLE_CHANGES]
        return different

    @torch.no_grad()
    def _w_from_first_embeddings(self, batch: int = 16) -> None:
        """W_i := ê of clip i's first K frames (`w_init: embedding`). Every process computes the same
        W (same seed, same weights): none waits for rank 0 in DDP's start, which has a timeout."""
        clips = self.episodes.clip_ids
        embedder = self.eg.embedder.eval()  # spectral norm's power iteration holds still
        with progress(len(clips), "W from first embeddings", "video", enabled=self.show) as bar:
            for start in range(0, len(clips), batch):
                chunk = clips[start:start + batch]
                pairs = [self.episodes.pairs(clip, range(self.config.k)) for clip in chunk]
                frames = torch.stack([f for f, _ in pairs]).to(self.device)
                marks = torch.stack([m for _, m in pairs]).to(self.device)
                self.discriminator.W.weight[chunk] = embedder(frames, marks).float()
                bar.update(len(chunk))
        embedder.train()

    def save(self) -> None:
        if self.context.is_main:
            save_training_state(self.run_dir, self.step, self.state())

    # -- one step ----------------------------------------------------------------------------
    def train_step(self, batch: dict) -> dict[str, float]:
        frames, marks = batch["frames"].to(self.device), batch["landmarks"].to(self.device)
        target, target_marks = batch["target"].to(self.device), batch["target_landmarks"].to(self.device)
        video = batch["video"].to(self.device)
        guide = batch["guide"].to(self.device) if "guide" in batch else None
        d_plain = _unwrap(self.discriminator)
        # Generator step: D judges through its plain module with its weights frozen, so the
        # backward neither computes nor all-reduces D's gradients (DDP is for D's own step).
        d_plain.requires_grad_(False)
        try:
            with self.autocast:
                fake, embedding = self.eg(frames, marks, target_marks, guide)
                fake_score, fake_maps = d_plain(fake, target_marks, video)
                with torch.no_grad():
                    _, real_maps = d_plain(target, target_marks, video)
                    w_video = d_plain.W(video)
                g_terms = self.losses.generator(fake, target, fake_score, fake_maps, real_maps, embedding.float(),
                                                w_video)
            check_finite(g_terms, self.step, "generator")
            self.opt_g.zero_grad(set_to_none=True)
            sum(g_terms.values()).backward()
            self.opt_g.step()
        finally:
            d_plain.requires_grad_(True)
        # The discriminator on real and generated frames in one forward (one DDP pass per backward).
        with self.autocast:
            both = torch.cat([target, fake.detach()])
            scores, _ = self.discriminator(both, torch.cat([target_marks, target_marks]), torch.cat([video, video]))
            real_score, fake_score = scores.float().chunk(2)
            d_terms = self.losses.discriminator(real_score, fake_score)
        check_finite(d_terms, self.step, "discriminator")
        self.opt_d.zero_grad(set_to_none=True)
        sum(d_terms.values()).backward()
        self.opt_d.step()
        if self.ema is not None:
            with torch.no_grad():
                for averaged, current in zip(self.ema.parameters(), _unwrap(self.eg).generator.parameters()):
                    averaged.lerp_(current, 1 - self.config.ema_decay)
                for averaged, current in zip(self.ema.buffers(), _unwrap(self.eg).generator.buffers()):
                    averaged.copy_(current)
        self.step += 1
        logged = {f"g/{k}": v.item() for k, v in g_terms.items()} | {f"d/{k}": v.item() for k, v in d_terms.items()}
        return logged | {"d/real_score": real_score.mean().item(), "d/fake_score": fake_score.mean().item(),
                         "embedding_norm": embedding.detach().float().norm(dim=1).mean().item()}

    # -- the loop ----------------------------------------------------------------------------
    def loader(self):
        sampler = StepSampler(len(self.episodes), self.config.batch_size, self.context.rank, self.context.world,
                              self.seed, self.step)
        return torch.utils.data.DataLoader(self.episodes, batch_sampler=sampler, num_workers=self.config.workers,
                                           pin_memory=self.device.type == "cuda")

    def train(self, steps: int) -> None:
        """Train until the run has done `steps` steps in all (a resumed run finishes the job)."""
        if self.context.is_main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            write_json(self.run_dir / "config.json", json.loads(to_json(self.config)) | {
                "dataset": str(self.data.root), "num_videos": self.num_videos, "seed": self.seed,
                "processes": self.context.world})
        if self.step >= steps:
            say(f"{self.run_dir} is already at step {self.step} of {steps}", self.show)
            return
        batches = None
        started, start_step = time.monotonic(), self.step

        def step() -> dict[str, float]:
            nonlocal batches
            if batches is None:  # made at the first step: the DataLoader's workers start then
                batches = iter(self.loader())
            try:
                return self.train_step(next(batches))
            except torch.cuda.OutOfMemoryError as exc:
                raise UserError(f"out of GPU memory at `batch_size` {self.config.batch_size} per process: "
                                f"try {max(1, self.config.batch_size // 2)}") from exc

        def log(losses: dict[str, float]) -> None:
            losses = distributed.mean_over_processes(losses, self.context)
            if losses.get("embedding_norm", 1.0) < 1e-6 and self.step >= 50 and not self._warned:
                self._warned = True
                say(f"step {self.step}: the person embedding has collapsed to zero (the generator now "
                    "ignores who it draws); lower match_weight (0 in the CPU presets)", self.show)
            self._log(losses, (self.step - start_step) / max(time.monotonic() - started, 1e-9))

        every = (Every(log, steps=self.config.log_every, at_end=True),
                 Every(lambda _: self.preview(), self.config.preview_seconds, wall=True, first=0.0),
                 Every(lambda _: self.save(), self.config.checkpoint_seconds, wall=True, saves=True))
        train_loop(step, self, Budget(steps), every=every, save=self.save, save_after_error=False,
                   bar={"desc": "meta-training", "unit": "step", "enabled": self.show}, show=_generator_terms)
        self.preview()
        if self._writer is not None:
            self._writer.close()

    def _log(self, values: dict[str, float], rate: float) -> None:
        if not self.context.is_main:
            return
        record = {"step": self.step, "steps_per_s": round(rate, 4), **{k: round(v, 6) for k, v in values.items()}}
        with open(self.run_dir / "log.jsonl", "a") as f:
            f.write(json.dumps(record) + "\n")
        writer = self._tensorboard()
        if writer is not None:
            for key, value in values.items():
                writer.add_scalar(key, value, self.step)

    def _tensorboard(self):
        if self._writer is None:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:  # TensorBoard is optional: log.jsonl has everything
                return None
            self._writer = SummaryWriter(str(self.run_dir / "tensorboard"))
        return self._writer

    @torch.no_grad()
    def evaluate(self, limit: int = 48) -> dict[str, float]:
        """Mean L1 (pixels in [-1, 1]) of generated held-out frames of training videos, and of simply
        copying a source frame (the baseline a model must beat). Needs `holdout` > 0."""
        if not self.config.holdout:
            return {}
        eg = _unwrap(self.eg)
        was_training = eg.training
        eg.eval()
        generator = self.ema if self.ema is not None else eg.generator
        pairs = [(i, t) for t in range(self.config.holdout) for i in range(len(self.episodes))][:limit]
        errors, copies, warps = [], [], []
        for index, target in pairs:
            item = self.episodes.heldout(index, target)
            embedding = eg.embedder(item["frames"][None].to(self.device), item["landmarks"][None].to(self.device))
            guide = item["guide"][None].to(self.device) if "guide" in item else None
            fake = generator(item["target_landmarks"][None].to(self.device), embedding, guide=guide)[0].cpu()
            errors.append((fake - item["target"]).abs().mean().item())
            copies.append((item["frames"][0] - item["target"]).abs().mean().item())
            if guide is not None:  # the warp alone: what the guided generator must beat
                warps.append((item["guide"] - item["target"]).abs().mean().item())
        eg.train(was_training)
        return ({"eval/heldout_l1": float(np.mean(errors)), "eval/copy_l1": float(np.mean(copies))}
                | ({"eval/warp_l1": float(np.mean(warps))} if warps else {}))

    @torch.no_grad()
    def preview(self, count: int = 3) -> Path | None:
        """preview.png: per row, source frames | target landmarks | generated | real (fixed episodes)."""
        if not self.context.is_main:
            return None
        items = [self.episodes[(i, PREVIEW_EPOCH)] for i in range(min(count, len(self.episodes)))]
        batch = {k: torch.stack([torch.as_tensor(item[k]) for item in items]) for k in items[0]}
        eg = _unwrap(self.eg)
        was_training = eg.training
        eg.eval()
        frames = batch["frames"].to(self.device)
        embedding = eg.embedder(frames, batch["landmarks"].to(self.device))
        generator = self.ema if self.ema is not None else eg.generator
        guide = batch["guide"].to(self.device) if "guide" in batch else None
        fake = generator(batch["target_landmarks"].to(self.device), embedding, guide=guide)
        eg.train(was_training)
        rows = []
        for i in range(len(items)):
            sources = [to_image(f) for f in batch["frames"][i][:3]]
            rows.append(sources + [to_image(batch["target_landmarks"][i]), to_image(fake[i]), to_image(batch["target"][i])])
        sheet = contact_sheet(rows, [f"step {self.step}: {min(3, self.config.k)} of K={self.config.k} source frames | "
                                     "landmarks | generated | real"] + [""] * (len(rows) - 1))
        write_png(self.run_dir / "preview.png", sheet)
        write_png(self.run_dir / "previews" / f"{self.step:07d}.png", sheet)
        writer = self._tensorboard()
        if writer is not None:
            writer.add_image("preview", sheet, self.step, dataformats="HWC")
        return self.run_dir / "preview.png"


def _generator_terms(losses: dict[str, float]) -> str:
    return " ".join(f"{k.split('/')[1][:4]} {v:.3g}" for k, v in losses.items() if k.startswith("g/"))


def meta_train(dataset, run_dir, config: TalkConfig, steps: int, device: str = "auto", seed: int = 0,
               show_progress: bool = True) -> MetaTrainer:
    trainer = MetaTrainer(config, dataset, run_dir, device, seed, show_progress)
    try:
        trainer.train(steps)
    finally:
        distributed.shutdown(trainer.context)
    return trainer
