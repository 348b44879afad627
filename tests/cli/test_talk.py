"""`reanimate talk ...` from the command line."""

import json

from cli.test_stylize import reanimate
from reanimate.talking_head.model import TalkingHeadModel


def test_meta_train_resume_and_export(tmp_path):
    made = reanimate("faces", "synth", "--identities", "3", "--frames", "6", "--size", "32", "--out", tmp_path / "syn", "-q")
    assert made.returncode == 0, made.stderr
    train = ["talk", "meta-train", tmp_path / "syn", "--run", tmp_path / "run", "--preset", "tiny", "--device", "cpu",
             "--holdout", "2", "-q"]
    first = reanimate(*train, "--steps", "3")
    assert first.returncode == 0, first.stderr
    again = reanimate(*train, "--steps", "5")
    assert again.returncode == 0, again.stderr
    log = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert log[-1]["step"] == 5 and "g/pixel" in log[-1] and log[-1]["embedding_norm"] > 0
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["preset"] == "tiny" and config["holdout"] == 2 and config["num_videos"] == 3
    other = reanimate(*train[:-5], "--preset", "small", "--k", "2", "--device", "cpu", "--holdout", "2", "-q", "--steps", "6")
    assert other.returncode == 2 and "another run" in other.stderr
    exported = reanimate("talk", "export", tmp_path / "run", "--out", tmp_path / "model")
    assert exported.returncode == 0, exported.stderr
    assert TalkingHeadModel.from_pretrained(tmp_path / "model").config.image_size == 32


def test_talk_errors_are_one_line(tmp_path):
    for args in (["talk", "meta-train", tmp_path, "--run", tmp_path / "run", "--steps", "1"],
                 ["talk", "export", tmp_path / "run", "--out", tmp_path / "m"],
                 ["talk", "meta-train", tmp_path, "--run", tmp_path / "r", "--steps", "1", "--preset", "huge"]):
        result = reanimate(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1
