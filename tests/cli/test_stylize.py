"""The command-line contract: exact forms other tools call, one-line errors, exit codes."""

import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from reanimate.io.image import write_png
from reanimate.io.video import open_video

TINY = ["--preset", "fast", "--patch-size", "16", "--batch-size", "4", "--perceptual", "none", "--device", "cpu", "-q"]


def reanimate(*args, cwd=None):
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    return subprocess.run([sys.executable, "-c", "from reanimate.cli import run; run()", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, env=env, timeout=300)


@pytest.fixture
def painted(tmp_path, frames):
    write_png(tmp_path / "p0.png", 255 - frames[0])
    return tmp_path / "p0.png"


def test_stylize_then_render_with_the_saved_model(tmp_path, clip_mp4, painted):
    out, model = tmp_path / "styled.mp4", tmp_path / "model"
    result = reanimate("stylize", clip_mp4, "--key", f"0={painted}", "--out", out, "--iterations", "3",
                       "--save-model", model, *TINY)
    assert result.returncode == 0, result.stderr
    assert open_video(out).num_frames == 6 and (model / "config.json").is_file()
    assert (tmp_path / "styled-run" / "preview.png").is_file()
    again = reanimate("render", "--model", model, clip_mp4, "--out", tmp_path / "frames", "--frames", "1-2",
                      "--device", "cpu", "-q")
    assert again.returncode == 0, again.stderr
    assert sorted(p.name for p in (tmp_path / "frames").iterdir()) == ["00001.png", "00002.png"]
    # The temporal pass: on by default (it says what it did), off on request (the network's frames as they are).
    steady = reanimate("render", "--model", model, clip_mp4, "--out", tmp_path / "steady", "--device", "cpu")
    assert steady.returncode == 0 and "temporal pass (auto): strength" in steady.stderr, steady.stderr
    raw = reanimate("render", "--model", model, clip_mp4, "--out", tmp_path / "raw", "--device", "cpu",
                    "--temporal", "off")
    assert raw.returncode == 0 and "temporal pass" not in raw.stderr, raw.stderr


def test_frame_folder_output_keeps_input_names(tmp_path, frame_folder, painted):
    result = reanimate("stylize", frame_folder, "--key", f"2={painted}", "--out", tmp_path / "out",
                       "--iterations", "1", *TINY)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"f{i}.png" for i in range(6)]


@pytest.mark.parametrize("args, message", [
    (["--key", "9=P"], "keyframe 9 is out of range"),
    (["--key", "0=missing.png"], "does not exist"),
    (["--key", "0=SMALL"], "is 10x10 but the video is 50x38"),
    (["--key", "0=P", "--mask", "0=EMPTY"], "mask of keyframe 0 is empty"),
    (["--key", "0P"], "must look like"),
    (["--key", "0=P", "--iterations", "2", "--train-seconds", "2"], "either"),
    (["--key", "0=P", "--preset", "nope"], "neither a preset"),
    (["--key", "0=P", "--temporal", "lots"], "must be auto, off or a strength"),
])
def test_user_mistakes_get_one_clear_line(tmp_path, clip_mp4, painted, args, message):
    write_png(tmp_path / "small.png", np.zeros((10, 10, 3), np.uint8))
    write_png(tmp_path / "empty.png", np.zeros((38, 50, 3), np.uint8))
    subst = {"P": str(painted), "SMALL": str(tmp_path / "small.png"), "EMPTY": str(tmp_path / "empty.png")}
    args = [a.replace("=P", f"={subst['P']}").replace("SMALL", subst["SMALL"]).replace("EMPTY", subst["EMPTY"])
            for a in args]
    result = reanimate("stylize", clip_mp4, *TINY, *args, "--out", tmp_path / "o.mp4")  # args win
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "o.mp4").exists()


def test_existing_output_is_refused_before_training(tmp_path, clip_mp4, painted):
    (tmp_path / "o.mp4").write_bytes(b"precious")
    result = reanimate("stylize", clip_mp4, "--key", f"0={painted}", "--out", tmp_path / "o.mp4", *TINY)
    assert result.returncode == 2 and "--overwrite" in result.stderr
    assert (tmp_path / "o.mp4").read_bytes() == b"precious" and not (tmp_path / "o-run").exists()


def test_render_refuses_bad_models_and_videos(tmp_path, clip_mp4):
    (tmp_path / "bad.mp4").write_bytes(b"garbage")
    assert "does not exist" in reanimate("render", "--model", tmp_path / "nope", clip_mp4, "--out", tmp_path / "x").stderr
    result = reanimate("render", "--model", tmp_path, tmp_path / "bad.mp4", "--out", tmp_path / "x")
    assert result.returncode == 2 and "Traceback" not in result.stderr


@pytest.mark.parametrize("stop, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["ctrl-c", "kill"])
def test_ctrl_c_or_kill_keeps_the_training_and_the_same_command_resumes(tmp_path, clip_mp4, painted, stop, code):
    import time

    args = ["stylize", clip_mp4, "--key", f"0={painted}", "--out", tmp_path / "o.mp4", "--iterations", "100000",
            *TINY]
    process = subprocess.Popen([sys.executable, "-c", "from reanimate.cli import run; run()", *map(str, args)],
                               stderr=subprocess.PIPE, text=True)
    log = tmp_path / "o-run" / "log.jsonl"
    deadline = time.monotonic() + 120
    while not log.exists() and time.monotonic() < deadline:  # the first preview: training is under way
        time.sleep(0.2)
    time.sleep(1)
    process.send_signal(stop)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == code and "resume" in stderr and "Traceback" not in stderr
    assert list((tmp_path / "o-run").glob("training-state-*.pt")) and not (tmp_path / "o.mp4").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary leftovers
    again = reanimate(*args[:-len(TINY) - 2], "--iterations", "1", *TINY)
    assert again.returncode == 0 and "resuming from" in again.stderr and (tmp_path / "o.mp4").is_file()


def test_guided_model_renders_a_new_video_and_metrics_report(tmp_path, clip_mp4, frame_folder, painted):
    model = tmp_path / "guided"
    result = reanimate("stylize", clip_mp4, "--key", f"0={painted}", "--out", tmp_path / "g", "--iterations", "2",
                       "--guide", "gauss", "--guide-sigma", "6", "--filter-input", "--filter-radius", "2",
                       "--save-model", model, *TINY)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "g-run" / "flow" / "flow.json").is_file()
    other = reanimate("render", "--model", model, frame_folder, "--out", tmp_path / "other", "--device", "cpu", "-q")
    assert other.returncode == 0, other.stderr
    assert len(list((tmp_path / "other").iterdir())) == 6
    report = reanimate("metrics", tmp_path / "g", "--video", clip_mp4, "--truth", tmp_path / "g", "--json", "-q")
    assert report.returncode == 0, report.stderr
    import json
    data = json.loads(report.stdout)
    assert data["frames"] == 6 and data["ssim"] == pytest.approx(1.0) and data["temporal_error"] >= 0


def test_kill_9_during_render_leaves_nothing_after_the_next_run(tmp_path, clip_mp4, painted):
    import time

    model = tmp_path / "model"
    made = reanimate("stylize", clip_mp4, "--key", f"0={painted}", "--out", tmp_path / "a.mp4", "--iterations", "1",
                     "--save-model", model, *TINY)
    assert made.returncode == 0, made.stderr
    long_clip = tmp_path / "long"  # enough frames that the render is still running when it is killed
    from reanimate.io.writer import FrameWriter
    from reanimate.io.video import open_video as read

    frames = [f for _, f in read(clip_mp4).frames()]
    with FrameWriter(long_clip, fps=25) as writer:
        for i in range(300):
            writer.write(frames[i % len(frames)], f"{i:05d}.png")
    out = tmp_path / "styled.mp4"
    args = [sys.executable, "-c", "from reanimate.cli import run; run()", "render", "--model", model, long_clip,
            "--out", out, "--device", "cpu", "-q"]
    process = subprocess.Popen(list(map(str, args)))
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".styled.tmp-*")) and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert list(tmp_path.glob(".styled.tmp-*")) and not out.exists()  # killed mid-write: nothing published
    again = reanimate(*args[3:])
    assert again.returncode == 0, again.stderr
    assert len(read(out)) == 300 and not list(tmp_path.glob(".styled.tmp-*"))


def test_a_model_folder_that_disagrees_with_its_config_gets_one_short_line(tmp_path, clip_mp4, painted):
    import json

    model = tmp_path / "model"
    made = reanimate("stylize", clip_mp4, "--key", f"0={painted}", "--out", tmp_path / "a.mp4", "--iterations", "1",
                     "--save-model", model, *TINY)
    assert made.returncode == 0, made.stderr
    config = json.loads((model / "config.json").read_text())
    blocks = config["model"]["resblocks"]
    for change, message in (({"resblocks": 99}, "no reanimate makes"), ({"resblocks": blocks + 1}, "do not match"),
                            ({"filters": "many"}, "garbles")):
        edited = dict(config, model=dict(config["model"], **change))
        (model / "config.json").write_text(json.dumps(edited))
        result = reanimate("render", "--model", model, clip_mp4, "--out", tmp_path / "x.mp4")
        assert result.returncode == 2 and message in result.stderr, result.stderr
        assert len(result.stderr) < 500 and len(result.stderr.strip().splitlines()) == 1


def test_the_flicker_ratio_is_one_for_the_footage_and_high_for_a_flickering_copy(tmp_path, clip_mp4, frames):
    import json

    from reanimate.io.writer import FrameWriter

    steady = reanimate("metrics", clip_mp4, "--video", clip_mp4, "--work", tmp_path / "w", "--json", "-q")
    assert steady.returncode == 0, steady.stderr
    assert json.loads(steady.stdout)["flicker_ratio"] == pytest.approx(1.0)
    rng = np.random.default_rng(0)
    with FrameWriter(tmp_path / "flicker.mp4", fps=25) as writer:
        for frame in frames:  # the same frames, each one brighter or darker at random
            writer.write(np.clip(frame.astype(int) + rng.integers(-40, 40), 0, 255).astype(np.uint8))
    flickering = reanimate("metrics", tmp_path / "flicker.mp4", "--video", clip_mp4, "--work", tmp_path / "w", "-q")
    assert flickering.returncode == 0, flickering.stderr
    ratio = float(flickering.stdout.split("flicker ratio")[1].split()[0])
    assert ratio > 3


def test_the_same_iterations_and_seed_give_the_same_video_and_the_log_says_what_was_bought(tmp_path, frame_folder,
                                                                                           painted):
    runs = []
    for name in ("a", "b"):
        result = reanimate("stylize", frame_folder, "--key", f"0={painted}", "--out", tmp_path / name,
                           "--iterations", "4", "--seed", "5", *TINY[:-1])  # with messages
        assert result.returncode == 0, result.stderr
        runs.append([open_video(tmp_path / name).read(i) for i in range(6)])
    assert all(np.array_equal(a, b) for a, b in zip(*runs))
    assert "trained 4 steps in" in result.stderr and "network: preset fast on cpu" in result.stderr, result.stderr
    auto = reanimate("stylize", frame_folder, "--key", f"0={painted}", "--out", tmp_path / "auto",
                     "--train-seconds", "1", *TINY[2:-1])  # no --preset: auto
    assert auto.returncode == 0, auto.stderr
    assert "network: preset fast (auto) on cpu" in auto.stderr and "--iterations" in auto.stderr, auto.stderr


def test_export_writes_an_onnx_file_that_runs_like_the_model(tmp_path, clip_mp4, painted, frames):
    ort = pytest.importorskip("onnxruntime")
    model = tmp_path / "model"
    assert reanimate("stylize", clip_mp4, "--key", f"0={painted}", "--out", tmp_path / "o.mp4", "--iterations", "2",
                     "--save-model", model, *TINY).returncode == 0
    result = reanimate("export", model, "--onnx", tmp_path / "m.onnx")
    assert result.returncode == 0 and "wrote" in result.stdout, result.stderr
    from reanimate.nn.convert import to_tensor
    from reanimate.stylize.pipeline import Stylizer, pad_to_multiple

    x, height, width = pad_to_multiple(to_tensor(frames[1])[None])  # 38x50 -> 40x52
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    got = session.run(None, {"input": x.numpy()})[0][..., :height, :width]
    expected = Stylizer.from_pretrained(model, "cpu", "fp32").stylize_tensor(x)[..., :height, :width].numpy()
    assert np.abs(got - expected).max() < 1e-4
    again = reanimate("export", model, "--onnx", tmp_path / "m.onnx")
    assert again.returncode == 2 and "already exists" in again.stderr
    wrong = reanimate("export", model, "--onnx", tmp_path / "m.pt")
    assert wrong.returncode == 2 and "must end in .onnx" in wrong.stderr
    missing = reanimate("export", tmp_path / "nothing", "--onnx", tmp_path / "n.onnx")
    assert missing.returncode == 2 and len(missing.stderr.splitlines()) == 1, missing.stderr


def test_a_masked_style_comes_out_as_a_layer_with_alpha_and_16_bit_frames(tmp_path, clip_mp4, painted, frames):
    import av
    import cv2

    mask = np.zeros(frames[0].shape[:2], np.uint8)
    mask[:, :25] = 255  # the left half of frame 0 is painted
    write_png(tmp_path / "m0.png", np.dstack([mask] * 3))
    out = tmp_path / "layer.mov"
    result = reanimate("stylize", clip_mp4, "--key", f"0={painted}", "--mask", f"0={tmp_path / 'm0.png'}",
                       "--alpha", "--out", out, "--iterations", "2", *TINY[:-1])
    assert result.returncode == 0, result.stderr
    assert "ProRes 4444 (alpha)" in result.stderr.strip().splitlines()[-1]
    with av.open(str(out)) as container:
        alpha = [f.to_ndarray(format="rgba")[..., 3] for f in container.decode(video=0)]
    assert len(alpha) == 6
    assert alpha[0][:, :20].min() >= 250 and alpha[0][:, 30:].max() <= 5  # opaque where painted, clear elsewhere
    assert alpha[5][:, 30:].max() <= 5 and alpha[5][:, :10].min() >= 250  # carried with the picture's motion
    refused = reanimate("stylize", clip_mp4, "--key", f"0={painted}", "--alpha", "--out", tmp_path / "x.mov", *TINY)
    assert refused.returncode != 0 and "mask" in refused.stderr and not (tmp_path / "x-run").exists()
    refused = reanimate("stylize", clip_mp4, "--key", f"0={painted}", "--mask", f"0={tmp_path / 'm0.png'}",
                        "--alpha", "--out", tmp_path / "x.mp4", *TINY)
    assert refused.returncode != 0 and "no alpha" in refused.stderr
    deep = reanimate("render", "--model", tmp_path / "layer-run" / "model", clip_mp4, "--out",
                     tmp_path / "deep" / "shot.%04d.png", "--depth", "16", "--device", "cpu", "-q")
    assert deep.returncode == 0, deep.stderr
    picture = cv2.imread(str(tmp_path / "deep" / "shot.0003.png"), cv2.IMREAD_UNCHANGED)
    assert picture.dtype == np.uint16 and (picture % 257).any()  # finer than 8 bits: not all 8-bit steps
    assert len(np.unique(picture)) > 600  # float32 out: about 1500 values here, bf16's coarse steps give 170


def test_detail_sampling_and_edge_weight_reach_the_training(tmp_path, clip_mp4, painted):
    import json

    for flags, expected in (([], (1.0, 4.0)), (["--detail-sampling", "2", "--edge-weight", "0"], (2.0, 0.0))):
        model = tmp_path / f"model-{len(flags)}"
        made = reanimate("stylize", clip_mp4, "--key", f"0={painted}", "--out", tmp_path / f"{len(flags)}.mp4",
                         "--iterations", "1", "--save-model", model, *flags, *TINY)
        assert made.returncode == 0, made.stderr
        training = json.loads((model / "config.json").read_text())["training"]
        assert (training["detail_sampling"], training["edge_weight"]) == expected  # fast's, then the flags'
    refused = reanimate("stylize", clip_mp4, "--key", f"0={painted}", "--out", tmp_path / "x.mp4",
                        "--edge-weight", "-1", *TINY)
    assert refused.returncode == 2 and "--edge-weight" in refused.stderr
