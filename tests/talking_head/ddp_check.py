"""Run under torchrun by test_meta_train.py: train a few steps, then check every rank holds the same weights."""

import json
import sys

import torch
import torch.distributed as dist

from reanimate.talking_head.config import load_config
from reanimate.talking_head.meta_train import MetaTrainer, _unwrap

dataset, run_dir, out = sys.argv[1:4]
trainer = MetaTrainer(load_config("tiny", batch_size=1), dataset, run_dir, "cpu", seed=3, show_progress=False)
start_w = _unwrap(trainer.discriminator).W.weight.detach().clone()
seen = [i for step in range(trainer.step, trainer.step + 4) for i, _ in trainer.loader().batch_sampler.batch_at(step)]
trainer.train(trainer.step + 4)
flat = torch.cat([p.detach().flatten() for p in [*_unwrap(trainer.eg).parameters(), *_unwrap(trainer.discriminator).parameters()]])
everything = [None] * dist.get_world_size()
dist.all_gather_object(everything, {"sum": flat.double().sum().item(), "first": flat[:8].tolist(), "seen": seen})
changed = (_unwrap(trainer.discriminator).W.weight.detach() != start_w).any(dim=1).nonzero().flatten().tolist()
if dist.get_rank() == 0:
    with open(out, "w") as f:
        json.dump({"ranks": everything, "w_rows_changed": changed, "step": trainer.step}, f)
dist.destroy_process_group()
