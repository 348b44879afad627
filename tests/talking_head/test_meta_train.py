import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from reanimate.core.checkpoint import latest_training_state
from reanimate.core.errors import UserError
from reanimate.faces.synth import synth_dataset
from reanimate.talking_head.config import load_config
from reanimate.talking_head.meta_train import MetaTrainer, StepSampler, _unwrap
from reanimate.talking_head.model import TalkingHeadModel, export_run


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("talk") / "syn"
    synth_dataset(root, identities=4, frames=8, size=32, show_progress=False)
    return root


def _trainer(dataset, run, **overrides):
    overrides = {"match_weight": 80.0, **overrides}  # the paper's match term on: it must train W_i and E too
    config = load_config("tiny", preview_seconds=1e9, checkpoint_seconds=1e9, **overrides)
    return MetaTrainer(config, dataset, run, "cpu", seed=1, show_progress=False)


def _weights(trainer):  # state, buffers included (spectral norm's power-iteration vectors)
    return {**{f"eg.{k}": v.clone() for k, v in _unwrap(trainer.eg).state_dict().items()},
            **{f"d.{k}": v.clone() for k, v in _unwrap(trainer.discriminator).state_dict().items()}}


def test_sampler_shards_steps_between_processes():
    one = StepSampler(10, 2, rank=0, world=1, seed=0, start=0)
    ranks = [StepSampler(10, 1, rank=r, world=2, seed=0, start=0) for r in range(2)]
    for step in range(12):  # across epoch boundaries too
        assert sorted(one.batch_at(step)) == sorted(ranks[0].batch_at(step) + ranks[1].batch_at(step))
    assert len({i for step in range(5) for i, _ in one.batch_at(step)}) == 10  # an epoch visits every clip


def test_training_steps_change_every_intended_parameter(dataset, tmp_path):
    trainer = _trainer(dataset, tmp_path / "run")
    params = {f"eg.{n}": p for n, p in _unwrap(trainer.eg).named_parameters()} | \
             {f"d.{n}": p for n, p in _unwrap(trainer.discriminator).named_parameters()}
    before = {n: p.detach().clone() for n, p in params.items()}
    loader = iter(trainer.loader())
    first = next(loader)
    logged = trainer.train_step(first)
    assert trainer.step == 1 and {"g/pixel", "g/adversarial", "g/feature_matching", "d/real", "embedding_norm"} <= set(logged)
    rows = (params["d.W.weight"].detach() != before["d.W.weight"]).any(dim=1).nonzero().flatten().tolist()
    assert set(rows) == set(first["video"].tolist())  # W_i moves only for the videos of the step
    # Self-attention starts as identity (gamma = 0), so its inner weights first move on step 2.
    trainer.train_step(next(loader))
    # D's bias b: the hinge gradients of the real and fake halves cancel exactly while both sit
    # inside their margins (equal batch halves), so b is left out.
    # An attention block's key bias adds q . b to every key of a query alike, which the softmax
    # ignores: its gradient is zero but for rounding, and whether Adam moves it depends on that
    # rounding (it failed this way on the unchanged main of 2026-12-05), so it is left out too.
    ignored = lambda n: n in ("d.W.weight", "d.b") or n.endswith(".key.bias")  # noqa: E731
    unchanged = [n for n, p in params.items() if not ignored(n) and torch.equal(p.detach(), before[n])]
    assert not unchanged, unchanged


def test_resume_continues_exactly(dataset, tmp_path):
    straight = _trainer(dataset, tmp_path / "straight")
    straight.train(4)
    first = _trainer(dataset, tmp_path / "halves")
    first.train(2)
    second = _trainer(dataset, tmp_path / "halves")
    assert second.step == 2
    second.train(4)
    a, b = _weights(straight), _weights(second)
    assert all(torch.equal(a[k], b[k]) for k in a)
    log = [json.loads(line) for line in (tmp_path / "halves" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log][-1] == 4
    assert (tmp_path / "halves" / "preview.png").is_file() and (tmp_path / "halves" / "tensorboard").is_dir()


def test_resume_refuses_another_preset_or_dataset(dataset, tmp_path):
    _trainer(dataset, tmp_path / "run").train(1)
    with pytest.raises(UserError, match="image_size 32 there, 64 now"):
        _trainer(dataset, tmp_path / "run", image_size=64)
    with pytest.raises(UserError, match="k=2"):
        _trainer(dataset, tmp_path / "run", k=3)
    _trainer(dataset, tmp_path / "run", lr_g=1e-4).train(2)  # a learning rate may change


def test_w_can_start_at_each_videos_first_embedding_and_old_states_resume(dataset, tmp_path):
    trainer = _trainer(dataset, tmp_path / "run", w_init="embedding")
    eg, d = _unwrap(trainer.eg), _unwrap(trainer.discriminator)
    for clip in (0, 3):
        frames, marks = trainer.episodes.pairs(clip, range(trainer.config.k))
        with torch.no_grad():
            expected = eg.embedder.eval()(frames[None], marks[None])[0]
        assert torch.allclose(d.W.weight[clip], expected, atol=1e-6)
    eg.embedder.train()
    trainer.train(1)
    state_path = latest_training_state(tmp_path / "run")
    state = torch.load(state_path, weights_only=True)
    resumed = _trainer(dataset, tmp_path / "run", w_init="embedding")  # a resume keeps the trained W
    assert torch.equal(_unwrap(resumed.discriminator).W.weight, state["discriminator"]["W.weight"])
    del state["config"]["w_init"]  # a state saved before the setting existed ran with its default
    torch.save(state, state_path)
    assert _trainer(dataset, tmp_path / "run").step == 1
    with pytest.raises(UserError, match="w_init must be normal or embedding"):
        load_config("tiny", w_init="zeros")


def test_nan_stops_with_the_term_and_keeps_the_last_good_state(dataset, tmp_path, monkeypatch):
    trainer = _trainer(dataset, tmp_path / "run")
    trainer.train(2)
    good = latest_training_state(tmp_path / "run")
    original = trainer.losses.generator

    def broken(*args):
        terms = original(*args)
        terms["feature_matching"] = terms["feature_matching"] * float("nan")
        return terms

    monkeypatch.setattr(trainer.losses, "generator", broken)
    with pytest.raises(UserError, match="step 2: the generator loss term 'feature_matching' became nan"):
        trainer.train(5)
    assert latest_training_state(tmp_path / "run") == good


def test_export_and_load_round_trip(dataset, tmp_path):
    trainer = _trainer(dataset, tmp_path / "run", ema_decay=0.9)
    trainer.train(3)
    folder = export_run(tmp_path / "run", tmp_path / "model")
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.safetensors"]
    model = TalkingHeadModel.from_pretrained(folder)
    item = trainer.episodes[0]
    with torch.no_grad():
        _unwrap(trainer.eg).eval()
        e = _unwrap(trainer.eg).embedder(item["frames"][None], item["landmarks"][None])
        expected = trainer.ema(item["target_landmarks"][None], e)  # the moving average is what is exported
        got = model.generator(item["target_landmarks"][None], model.embedder(item["frames"][None], item["landmarks"][None]))
    assert torch.allclose(expected, got, atol=1e-6)
    with pytest.raises(UserError, match="already exists"):
        export_run(tmp_path / "run", tmp_path / "model")
    with pytest.raises(UserError, match="no training state"):
        export_run(tmp_path / "nothing", tmp_path / "model2")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_processes_stay_in_sync(dataset, tmp_path):
    torchrun = Path(sys.executable).parent / "torchrun"
    # A second try only for failures of the machinery, not of the training: the rendezvous port taken
    # in between, or a rank aborting in C++ teardown ("terminate called without an active exception",
    # seen once in three full-suite runs on the 2-core machine, never when the test ran alone).
    retry_on = ("address already in use", "terminate called without an active exception")
    for attempt in range(2):
        result = subprocess.run([str(torchrun), "--nproc_per_node", "2", "--master_port", str(_free_port()),
                                 str(Path(__file__).parent / "ddp_check.py"), str(dataset), str(tmp_path / f"run{attempt}"),
                                 str(tmp_path / "out.json")], capture_output=True, text=True, timeout=300,
                                env={**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"})
        if result.returncode == 0 or not any(text in result.stderr.lower() for text in retry_on):
            break
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((tmp_path / "out.json").read_text())
    ranks = report["ranks"]
    assert ranks[0]["sum"] == ranks[1]["sum"] and ranks[0]["first"] == ranks[1]["first"]
    assert set(ranks[0]["seen"]).isdisjoint(set(ranks[1]["seen"])) or len(ranks[0]["seen"]) > 2  # own slices
    seen = set(ranks[0]["seen"]) | set(ranks[1]["seen"])
    assert set(report["w_rows_changed"]) == seen  # every rank's videos moved their W_i, on every rank
    assert report["step"] == 4 and latest_training_state(tmp_path / f"run{attempt}").name == "training-state-0000004.pt"
