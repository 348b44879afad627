"""Files made by reanimate before the layout change (commit 8b8c2e2) still load and run.

`tests/fixtures/legacy/` was written by `tests/fixtures/legacy/make.py` with that commit's code:
a guided stylization model, the run folder of its training (a training state to resume) and
a synthetic face dataset. The talking-head model fixture `talk-small-synthetic` is older still.
"""

import shutil
from pathlib import Path

import numpy as np
import pytest

from reanimate import api
from reanimate.faces.episodes import EpisodeDataset
from reanimate.faces.store import FaceDataset
from reanimate.io.video import open_video
from reanimate.talking_head.model import TalkingHeadModel

LEGACY = Path(__file__).parent / "fixtures" / "legacy"
TINY = dict(filters=(4, 8, 8, 8, 8, 4), resblocks=1, patch_size=16, batch_size=4, perceptual_backbone="none")


def test_old_stylization_model_renders_as_it_did(tmp_path):
    api.render(LEGACY / "stylize-model", LEGACY / "clip", tmp_path / "styled", device="cpu", temporal="off",
               show_progress=False)  # the pass came later; what is compared is the network's output
    new, old = open_video(tmp_path / "styled"), open_video(LEGACY / "styled")
    assert len(new) == len(old) == 6
    for (_, a), (_, b) in zip(new.frames(), old.frames()):
        assert np.abs(a.astype(int) - b.astype(int)).max() <= 1  # the same weights, guides and flow


def test_old_run_folder_resumes(tmp_path, capfd):
    run = tmp_path / "run"
    shutil.copytree(LEGACY / "stylize-run", run)
    clip = open_video(LEGACY / "clip")
    painted = 255 - clip.read(0)  # the keyframe make.py painted
    # fast as it was then: it has since drawn patches towards outlines and added an edge loss, a
    # different training that (rightly) starts anew rather than resuming the old one.
    then = dict(detail_sampling=0.0, edge_weight=0.0)
    api.train(clip, {0: painted}, preset="fast", iterations=5, guide="gauss", seed=0, run_dir=run, device="cpu",
              show_progress=False, **TINY, **then)
    assert "resuming from training-state-0000003.pt" in capfd.readouterr().err
    assert (run / "training-state-0000005.pt").is_file()


def test_old_face_dataset_gives_episodes():
    data = FaceDataset(LEGACY / "faces")
    assert len(data) == 2
    episode = EpisodeDataset(LEGACY / "faces", k=2)[0]
    assert episode["frames"].shape == (2, 3, 32, 32) and episode["target"].shape == (3, 32, 32)


@pytest.mark.parametrize("name", ["talk-small-synthetic"])
def test_old_talking_head_model_loads(name):
    model = TalkingHeadModel.from_pretrained(Path(__file__).parent / "fixtures" / name, "cpu")
    assert model.config.image_size > 0
