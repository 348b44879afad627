"""Few-shot patch-based training on painted keyframes (Texler et al. 2020, Sec. 4).

No pre-training and no dataset: random patches of the keyframes train the generator from
scratch with L1 + perceptual + LSGAN losses. The run folder holds periodic training states, a
preview image of held-out frames and a loss log; running the same job again resumes it.
"""

import dataclasses
import hashlib
import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from reanimate.core.checkpoint import latest_training_state, load_training_state, save_training_state
from reanimate.core.config import from_dict, to_json
from reanimate.core.device import compute_dtype, resolve_device
from reanimate.core.errors import UserError
from reanimate.core.files import write_json
from reanimate.core.progress import say
from reanimate.core.run import Budget, Every, resume_state, train_loop
from reanimate.core.seeding import restore_rng_state, rng_state, seed_everything
from reanimate.io.image import contact_sheet, fit_side, write_png
from reanimate.nn.convert import to_image, to_tensor
from reanimate.nn.losses import build_backbone, edge_loss, lsgan_loss, perceptual_loss
from reanimate.stylize.config import StylizeConfig, lr_factor
from reanimate.stylize.data import Keyframe, PatchSampler
from reanimate.stylize.guides import Seeds
from reanimate.stylize.inputs import InputBuilder
from reanimate.stylize.model import Discriminator, Generator
from reanimate.stylize.pipeline import MODEL_FORMAT, MODEL_KIND, Stylizer, evaluating, run_tiled

PREVIEW_SIDE = 320  # preview frames are scaled so their longer side is at most this


# Settings added after runs were saved: at these values they leave the fingerprint as it was, so
# a run interrupted before an upgrade still resumes.
ADDED_SETTINGS = {"lr_schedule": "constant", "detail_sampling": 0.0, "edge_weight": 0.0}


def fingerprint(config: StylizeConfig, keyframes: list[Keyframe], seed: int) -> str:
    """Identifies a training job: a saved state is resumed only by the same job."""
    settings = {k: v for k, v in dataclasses.asdict(config).items() if ADDED_SETTINGS.get(k, object()) != v}
    digest = hashlib.sha256(json.dumps(settings, indent=2, sort_keys=True).encode())
    digest.update(str(seed).encode())
    for key in keyframes:
        digest.update(str(key.index).encode())
        for array in (key.frame, key.style, key.mask):
            digest.update(b"-" if array is None else np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:16]


def unfinished_run_config(run_dir: str | Path | None, keyframes: list[Keyframe], seed: int) -> StylizeConfig | None:
    """The settings of a training of these keyframes that `run_dir` holds a state of, if any.

    A run interrupted under other defaults (before `--preset auto`, or on another device) then
    finishes with its own network instead of starting over.
    """
    path = config_path = None
    if run_dir is not None:
        path, config_path = latest_training_state(run_dir), Path(run_dir) / "config.json"
    if path is None or not config_path.is_file():
        return None
    try:
        config = from_dict(StylizeConfig, json.loads(config_path.read_text()), str(config_path))
        job = load_training_state(path).get("job")
    except (UserError, OSError, ValueError):
        return None  # damaged: the trainer starts over and says so
    return config if job == fingerprint(config, keyframes, seed) else None


class Trainer:
    """Trains a stylization generator on keyframes; resumable, with previews.

    Args:
        config: the network and training settings.
        keyframes: the painted frames (all of one size).
        run_dir: folder for training states, `preview.png` and `log.jsonl`; None keeps nothing on disk.
        device: "auto", "cpu", "cuda", "cuda:N" or "mps".
        seed: seeds weights and patch sampling; the same seed gives the same run.
        preview_frames: held-out frames {index: RGB uint8} drawn into the preview image.
        inputs: builds network inputs with guides / filtering from the video (None: plain RGB frames).
        seeds: the guide points of each keyframe, saved with the model.
        precision: "auto", "bf16" or "fp32" autocast for training (`core.device.compute_dtype`).

    Example:
        >>> trainer = Trainer(load_config("fast"), [Keyframe(0, frame, painted)], "run")
        >>> trainer.train(seconds=60)
        >>> trainer.stylizer().render(open_video("clip.mp4"), "out.mp4")
    """

    def __init__(self, config: StylizeConfig, keyframes: list[Keyframe], run_dir: str | Path | None = None,
                 device: str = "auto", seed: int = 0, preview_frames: dict[int, np.ndarray] | None = None,
                 inputs: InputBuilder | None = None, seeds: list[Seeds] | None = None, precision: str = "auto"):
        if not keyframes:
            raise UserError("no keyframes were given: training needs at least one painted frame (a `Keyframe` of "
                            "the frame's index, the frame and its painting)")
        self.config, self.keyframes, self.seed = config, keyframes, seed
        self.device = resolve_device(device)
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.preview_frames = dict(sorted((preview_frames or {}).items()))
        self.seeds = seeds or []
        if config.needs_flow and (inputs is None or inputs.plain):
            raise ValueError("guides or filtered input need an InputBuilder made with these settings")
        keys = [k.index for k in keyframes]
        if inputs is not None:
            key_inputs = inputs.many(keys)
            self.preview_inputs = inputs.many(self.preview_frames) if self.preview_frames else {}
        else:
            key_inputs = {k.index: to_tensor(k.frame) for k in keyframes}
            self.preview_inputs = {i: to_tensor(f) for i, f in self.preview_frames.items()}
        self.key_inputs = key_inputs
        self.rng = seed_everything(seed)
        # bfloat16 autocast on CUDA and on CPUs with native bf16 (there about 2x the steps per
        # second of float32); bf16 needs no loss scaling. The choice is fixed by the hardware, not
        # timed, so the same seed and step count give the same network on the same machine.
        self.dtype = compute_dtype(precision, self.device, training=True)
        self.autocast = torch.autocast(self.device.type, self.dtype, enabled=self.dtype != torch.float32)
        # float32 on a CPU trains 1.26x faster channels-last (a 2-core AVX2 EPYC); in bfloat16 the
        # default layout was faster (4.36 against 4.20 steps/s, AVX-512 BF16): benchmarks/RESULTS.md.
        cpu_fp32 = self.device.type == "cpu" and self.dtype == torch.float32
        self.memory_format = torch.channels_last if cpu_fp32 else torch.contiguous_format
        self.generator = Generator(config.in_channels, config.filters, config.resblocks).to(
            self.device, memory_format=self.memory_format)
        self.discriminator = Discriminator().to(self.device, memory_format=self.memory_format)
        adam = dict(lr=config.lr, betas=config.betas, weight_decay=config.weight_decay)
        self.opt_g = torch.optim.Adam(self.generator.parameters(), **adam)
        self.opt_d = torch.optim.Adam(self.discriminator.parameters(), **adam)
        self.backbone = None
        if config.perceptual_weight > 0:
            backbone = build_backbone(config.perceptual_backbone, config.vgg19_weights)
            self.backbone = backbone.to(self.device) if backbone is not None else None
        self.sampler = self._sampler()
        self.step = 0
        self.elapsed = 0.0  # seconds spent training, excluding previews and checkpoints
        self.last_losses: dict[str, float] = {}
        self.job = fingerprint(config, keyframes, seed)
        self.resumed_from: Path | None = None
        self._resume()

    def _sampler(self) -> PatchSampler:
        keys = self.keyframes
        return PatchSampler([self.key_inputs[k.index] for k in keys], [to_tensor(k.style) for k in keys],
                            [k.mask for k in keys], self.config.patch_size, self.config.mask_erosion,
                            [f"keyframe {k.index}" for k in keys], self.config.detail_sampling)

    def set_keyframes(self, keyframes: list[Keyframe]) -> None:
        """Train on other keyframes from the next step on; the network and optimizers carry on.

        This is how the studio app lets an artist add or repaint a keyframe while training runs.
        Only plain RGB input: guide channels are tied to the keyframes they were seeded from.
        """
        if not keyframes:
            raise UserError("at least one keyframe is needed")
        if self.config.needs_flow:
            raise UserError("keyframes can change during training only without guides or filtered input")
        self.keyframes = keyframes
        self.key_inputs = {k.index: to_tensor(k.frame) for k in keyframes}
        self.sampler = self._sampler()
        self.job = fingerprint(self.config, keyframes, self.seed)

    # -- one iteration -------------------------------------------------------------------------

    def train_step(self) -> dict[str, float]:
        """One generator and one discriminator update on a fresh batch of patches."""
        cfg = self.config
        inputs, styles = self.sampler.sample(cfg.batch_size, self.rng)
        inputs, styles = (x.to(self.device).contiguous(memory_format=self.memory_format) for x in (inputs, styles))
        use_gan = cfg.adversarial_weight > 0
        with self.autocast:
            output = self.generator(inputs)  # (Nb, 3, Wp, Wp)
            losses = {"l1": F.l1_loss(output, styles) * cfg.l1_weight}
            if cfg.edge_weight > 0:
                losses["edges"] = edge_loss(output.float(), styles) * cfg.edge_weight
            if self.backbone is not None:
                losses["perceptual"] = perceptual_loss(self.backbone, output.float(), styles) * cfg.perceptual_weight
            if use_gan:
                losses["adversarial"] = lsgan_loss(self.discriminator(output), real=True) * cfg.adversarial_weight
        total = sum(losses.values())
        if not torch.isfinite(total):
            raise FloatingPointError(f"the loss became {total.item()} at step {self.step} "
                                     f"({', '.join(f'{k}={v.item():.4g}' for k, v in losses.items())}): "
                                     "lower `lr`")
        self.opt_g.zero_grad(set_to_none=True)
        total.backward()
        self.opt_g.step()
        if use_gan:
            real = self.sampler.sample_styles(cfg.batch_size, self.rng).to(self.device).contiguous(
                memory_format=self.memory_format)
            with self.autocast:
                d_loss = 0.5 * (lsgan_loss(self.discriminator(real), real=True)
                                + lsgan_loss(self.discriminator(output.detach()), real=False))
            self.opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            self.opt_d.step()
            losses["discriminator"] = d_loss
        self.step += 1
        self.last_losses = {k: float(v.detach()) for k, v in losses.items()}
        return self.last_losses

    # -- the loop ------------------------------------------------------------------------------

    def train(self, iterations: int | None = None, seconds: float | None = None, show_progress: bool = True,
              checkpoint_every: float = 60.0, preview_every: float = 20.0, callback=None) -> dict[str, float]:
        """Train until `iterations` total steps or `seconds` of total training time (whichever is given).

        Both budgets count the whole job, resumed parts included, so re-running an interrupted
        command finishes the same job. Previews and checkpoints do not count as training time.
        `callback(trainer)` is called after every step.

        Returns:
            The losses of the last step.
        """
        budget = Budget.one_of(iterations, seconds)
        if self.run_dir is not None and show_progress:
            say(f"training on {self.device}; watch {self.run_dir / 'preview.png'} (refreshed every "
                f"{preview_every:.0f} s of training or more)")
        every = []
        if self.run_dir is not None:
            # A first preview after 2 s (when the paper sees the main structures appear), then
            # periodic ones, spaced so that they take at most a tenth of the time.
            every += [Every(lambda _: self.write_preview(), preview_every, first=min(2.0, preview_every), spacing=9),
                      Every(lambda _: self.save_state(), checkpoint_every, saves=True)]
        if callback is not None:
            every.append(Every(lambda _: callback(self), steps=1))

        def step() -> dict[str, float]:
            self._set_lr(budget.fraction(self.step, self.elapsed))
            return self.train_step()

        self.generator.train()
        self.discriminator.train()
        losses = train_loop(step, self, budget, every=tuple(every), save=self.save_state if self.run_dir else None,
                            bar={"desc": "train", "enabled": show_progress}, show=self._postfix)
        if self.run_dir is not None:
            self.write_preview()
        return losses or self.last_losses

    def _postfix(self, losses: dict[str, float]) -> dict[str, str]:
        return ({k[:5]: f"{v:.3f}" for k, v in losses.items()}
                | {"it/s": f"{self.step / max(self.elapsed, 1e-9):.1f}"})

    def _set_lr(self, progress: float) -> None:
        """The schedule's rate at `progress` through the budget (`train` only; `train_step` alone,
        as the studio runs it without a budget, keeps the rate it has)."""
        lr = self.config.lr * lr_factor(self.config.lr_schedule, progress)
        for optimizer in (self.opt_g, self.opt_d):
            for group in optimizer.param_groups:
                group["lr"] = lr

    # -- resume --------------------------------------------------------------------------------

    def save_state(self) -> Path | None:
        if self.run_dir is None:
            return None
        self.run_dir.mkdir(parents=True, exist_ok=True)
        state = {
            "job": self.job, "step": self.step, "elapsed": self.elapsed,
            "generator": self.generator.state_dict(), "discriminator": self.discriminator.state_dict(),
            "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(), "rng": rng_state(self.rng),
        }
        path = save_training_state(self.run_dir, self.step, state)
        write_json(self.run_dir / "config.json", json.loads(to_json(self.config)))
        self._log({"event": "checkpoint", "step": self.step, "elapsed": round(self.elapsed, 2), **self.last_losses})
        return path

    def _resume(self) -> None:
        # A repainted keyframe is a new job, and the usual way to work: it starts over (core.run's policy).
        def other(state: dict) -> list[str]:
            return [] if state.get("job") == self.job else ["other keyframes or settings"]

        found = resume_state(self.run_dir, other, start_over=True)
        if found is None:
            return
        state, path = found
        self.generator.load_state_dict(state["generator"])
        self.discriminator.load_state_dict(state["discriminator"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        restore_rng_state(self.rng, state["rng"])
        self.step, self.elapsed = int(state["step"]), float(state["elapsed"])
        self.resumed_from = path
        say(f"resuming from {path.name}: step {self.step}, {self.elapsed:.0f} s trained")

    # -- outputs -------------------------------------------------------------------------------

    def _log(self, record: dict) -> None:
        if self.run_dir is not None:
            with open(self.run_dir / "log.jsonl", "a") as f:
                f.write(json.dumps(record) + "\n")

    def model_config(self) -> dict:
        return {"kind": MODEL_KIND, "format": MODEL_FORMAT, "model": self.config.model_dict(),
                "input": self.config.input_dict(), "training": dataclasses.asdict(self.config) | {
                    "steps": self.step, "seconds": round(self.elapsed, 2), "seed": self.seed,
                    "keyframes": [k.index for k in self.keyframes]}}

    def stylizer(self, device: str | None = None, precision: str = "auto") -> Stylizer:
        """A standalone copy of the current generator for rendering (training can go on)."""
        generator = Generator(self.config.in_channels, self.config.filters, self.config.resblocks)
        generator.load_state_dict(self.generator.state_dict())
        return Stylizer(generator, self.model_config(), device or self.device, precision, seeds=self.seeds)

    @torch.inference_mode()
    def preview(self) -> np.ndarray:
        """A sheet: first row keyframe input | painted | current output, then input | output per frame."""
        frames = self.preview_frames
        key = self.keyframes[0]
        small = fit_side(key.frame, PREVIEW_SIDE)
        rows = [[small, fit_side(key.style, PREVIEW_SIDE), self.render_preview(self.key_inputs[key.index])]]
        rows += [[fit_side(frame, PREVIEW_SIDE), self.render_preview(self.preview_inputs[i])] for i, frame in frames.items()]
        return contact_sheet(rows, [f"keyframe {key.index}: input | painted | output"]
                             + [f"frame {i}: input | output" for i in frames])

    @torch.inference_mode()
    def render_preview(self, x: torch.Tensor) -> np.ndarray:
        """The current output for one network input (C, H, W), shrunk to the preview size."""
        # Full resolution, then shrunk: the network is not scale-invariant, so a shrunken input
        # would show strokes at the wrong scale.
        with evaluating(self.generator), self.autocast:
            output = to_image(run_tiled(self.generator, x[None].to(self.device), 1024)[0])
        return fit_side(output, PREVIEW_SIDE)

    def write_preview(self) -> None:
        if self.run_dir is None:
            return
        write_png(self.run_dir / "preview.png", self.preview())
        self._log({"event": "preview", "step": self.step, "elapsed": round(self.elapsed, 2), **self.last_losses})

