"""Real footage: the network must actually learn a style from one keyframe and carry it to other frames."""

import pytest

from reanimate import api
from reanimate.io.samples import sample_clip
from reanimate.io.video import open_video
from reanimate.metrics import psnr
from reanimate.stylize.filters import watercolor


@pytest.mark.slow
def test_one_keyframe_style_reaches_held_out_frames(tmp_path):
    video = open_video(sample_clip("carphone_pristine"))  # a real talking man, 176x144
    keyframe = watercolor(video.read(0))
    model = api.train(video, {0: keyframe}, preset="fast", iterations=150, device="cpu", seed=0,
                      run_dir=tmp_path / "run", show_progress=False)
    held_out = video.read_many([40, 80, 119])
    gains = [psnr(model([frame])[0], watercolor(frame)) - psnr(frame, watercolor(frame))
             for frame in held_out.values()]
    assert min(gains) > 4.0, gains  # measured ~+7 dB; an untrained network is far below the input
    assert (tmp_path / "run" / "preview.png").is_file()


@pytest.mark.slow
def test_the_temporal_pass_steadies_a_textured_style_on_real_footage(tmp_path):
    """carphone (a still camera on a talking man; 40 frames) restyled in a textured style (OpenCV's
    pencil sketch): the raw render boils several times more than the footage; the pass brings it
    near the footage's own flicker at no real cost in held-out PSNR.

    Measured on the development machine (benchmarks/temporal.py, 60 frames, 300 iterations):
    flicker 4.80x -> 1.13x, held-out 17.33 -> 17.33 dB. (The Gaussian-mixture guide, which this
    test covered before, keeps its figures in benchmarks/temporal.py and its unit tests.)
    """
    import numpy as np

    from reanimate.io.writer import FrameWriter
    from reanimate.stylize.filters import pencil

    source = open_video(sample_clip("carphone_pristine"))
    with FrameWriter(tmp_path / "clip", source.fps) as writer:
        for index, frame in source.frames(range(40)):
            writer.write(frame, f"{index:05d}.png")
    video = open_video(tmp_path / "clip")
    truth = tmp_path / "truth"
    with FrameWriter(truth, video.fps) as writer:
        for index, frame in video.frames():
            writer.write(pencil(frame), f"{index:05d}.png")
    model = api.train(video, {0: pencil(video.read(0))}, preset="fast", iterations=200, device="cpu", seed=0,
                      show_progress=False)
    scores = {}
    for setting in ("off", "auto"):
        out = tmp_path / setting
        api.render(model, video, out, temporal=setting, show_progress=False)
        result = api.metrics(out, video, truth, work_dir=tmp_path / "run", show_progress=False)
        scores[setting] = (result["flicker_ratio"], np.mean([r["psnr"] for r in result["per_frame"] if r["frame"]]))
    (raw_flicker, raw_psnr), (steady_flicker, steady_psnr) = scores["off"], scores["auto"]
    assert raw_flicker > 2.0, scores  # the problem is real: the pencil grain boils
    assert steady_flicker < 0.5 * raw_flicker and steady_flicker < 1.5, scores
    assert steady_psnr > raw_psnr - 0.5, scores
