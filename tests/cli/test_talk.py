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


def test_animate_a_photo_without_a_model_at_full_resolution(tmp_path, carphone_frames):
    from reanimate.io.image import write_png
    from reanimate.io.video import open_video
    from reanimate.io.writer import FrameWriter

    write_png(tmp_path / "me.png", carphone_frames[5])
    with FrameWriter(tmp_path / "driver.mp4", fps=25) as writer:
        for frame in carphone_frames[60:70]:
            writer.write(frame)
    args = ["talk", "animate", "--source", tmp_path / "me.png", "--driver", tmp_path / "driver.mp4", "-q"]
    full = reanimate(*args, "--out", tmp_path / "full.mp4", "--motion", "relative")
    assert full.returncode == 0, full.stderr
    assert "176x144" in full.stdout and "warp" in full.stdout
    video = open_video(tmp_path / "full.mp4")
    assert len(video) == 10 and video.size == (176, 144)  # the photo's own size: pasted back
    crop = reanimate(*args, "--out", tmp_path / "crop.mp4", "--crop-only")
    assert crop.returncode == 0, crop.stderr
    assert open_video(tmp_path / "crop.mp4").size == (128, 128)
    again = reanimate(*args, "--out", tmp_path / "full.mp4")
    assert again.returncode == 2 and "exists" in again.stderr
    write_png(tmp_path / "wall.png", carphone_frames[5] * 0 + 90)
    faceless = reanimate("talk", "animate", "--source", tmp_path / "wall.png", "--driver", tmp_path / "driver.mp4",
                         "--out", tmp_path / "x.mp4")
    assert faceless.returncode == 2 and "no face found in" in faceless.stderr and "wall.png" in faceless.stderr
    tuned = reanimate(*args, "--out", tmp_path / "t.mp4", "--finetune-steps", "5")
    assert tuned.returncode == 2 and "needs a network" in tuned.stderr


def test_animate_keeps_the_drivers_sound(tmp_path, carphone_frames):
    from media import make_clip
    from reanimate.io.image import write_png
    from reanimate.io.video import open_video

    write_png(tmp_path / "me.png", carphone_frames[5])
    make_clip(tmp_path / "driver.mp4", carphone_frames[60:72], fps=25, audio_seconds=12 / 25)
    args = ["talk", "animate", "--source", tmp_path / "me.png", "--driver", tmp_path / "driver.mp4", "-q"]
    loud = reanimate(*args, "--out", tmp_path / "loud.mp4")
    assert loud.returncode == 0, loud.stderr
    last = loud.stdout.strip().splitlines()[-1]
    assert last.startswith("wrote") and "176x144" in last and "audio copied (aac)" in last and "0.48 s" in last
    assert open_video(tmp_path / "loud.mp4").audio == "aac"
    quiet = reanimate(*args, "--out", tmp_path / "quiet.mp4", "--audio", "none")
    assert quiet.returncode == 0 and open_video(tmp_path / "quiet.mp4").audio is None
    wrong = reanimate(*args, "--out", tmp_path / "x.mp4", "--audio", "source")
    assert wrong.returncode == 2 and "every source is a photo" in wrong.stderr
