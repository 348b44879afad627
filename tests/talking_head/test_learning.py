"""Meta-learning really learns: held-out frames of the training identities are reconstructed better."""

import pytest

from reanimate.faces.synth import synth_dataset
from reanimate.talking_head.config import load_config
from reanimate.talking_head.meta_train import MetaTrainer


@pytest.mark.slow
def test_heldout_reconstruction_falls_on_synthetic_identities(tmp_path):
    synth_dataset(tmp_path / "syn", identities=8, frames=24, size=32, show_progress=False)
    config = load_config("tiny", holdout=4, preview_seconds=1e9, checkpoint_seconds=1e9)
    trainer = MetaTrainer(config, tmp_path / "syn", tmp_path / "run", "cpu", seed=0, show_progress=False)
    start = trainer.evaluate()["eval/heldout_l1"]
    trainer.train(100)
    early = trainer.evaluate()["eval/heldout_l1"]
    trainer.train(700)
    end = trainer.evaluate()["eval/heldout_l1"]
    # Measured: 0.81 at the start, 0.31 after 100 steps, 0.18 after 800 (CPU, about 45 s). With the
    # paper's match term the embedding collapsed and the curve stalled at 0.36: the bar below catches that.
    assert end < 0.35 * start
    assert end < 0.75 * early  # still improving after the colours are learnt
