"""A real studio server on localhost and a real headless Chromium driven by Playwright."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import cv2
import numpy as np
import pytest

from reanimate.io.samples import sample_clip
from reanimate.io.video import open_video
from reanimate.stylize.filters import watercolor

CHROMIUM = os.environ.get("REANIMATE_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "app"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(url: str, process: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the studio exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"the studio did not answer on {url} within {timeout:.0f} s")


@pytest.fixture(scope="module")
def studio_url(tmp_path_factory):
    """`reanimate app` on a free port, as a user starts it; stopped with Ctrl-C at the end."""
    workdir = tmp_path_factory.mktemp("studio")
    port = _free_port()
    log = open(workdir / "server.log", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "reanimate", "app", "--port", str(port), "--workdir", str(workdir / "files"),
         "--max-upload-mb", "5", "--idle-timeout", "30"],
        stdout=log, stderr=subprocess.STDOUT, text=True, env=os.environ | {"GRADIO_ANALYTICS_ENABLED": "False"})
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(url, process)
        yield url, workdir / "files" / f"studio-{port}"  # the server's own folder inside --workdir
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        print((workdir / "server.log").read_text()[-3000:])


def chromium_args(fake_camera: Path | None = None) -> list[str]:
    # The background-networking flags keep Chromium from calling out of this offline machine.
    args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
    if fake_camera is not None:
        args += ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                 f"--use-file-for-fake-video-capture={fake_camera}"]
    return args


@pytest.fixture(scope="module")
def browser(tmp_path_factory, fake_camera):
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: scripts/setup.sh --dev installs Debian's chromium")
        pytest.skip(f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=chromium_args(fake_camera))
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def fake_camera(tmp_path_factory) -> Path:
    """A .y4m file of the real carphone clip (a man talking), which Chromium plays as its camera."""
    path = tmp_path_factory.mktemp("camera") / "camera.y4m"
    video = open_video(sample_clip("carphone_pristine"))
    frames = [f for _, f in video.frames(range(0, 60, 2))]
    write_y4m(path, frames, fps=10)
    return path


def write_y4m(path: Path, frames: list[np.ndarray], fps: int) -> None:
    """YUV4MPEG2 with 4:2:0 planes: the format Chromium's fake capture device reads."""
    height, width = frames[0].shape[:2]
    with open(path, "wb") as f:
        f.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for frame in frames:
            f.write(b"FRAME\n")
            f.write(cv2.cvtColor(frame, cv2.COLOR_RGB2YUV_I420).tobytes())


@pytest.fixture(scope="module")
def painted_keyframe(tmp_path_factory) -> tuple[Path, np.ndarray]:
    """Frame 0 of carphone painted by the watercolor filter, as an artist's PNG."""
    frame = open_video(sample_clip("carphone_pristine")).read(0)
    painted = watercolor(frame)
    path = tmp_path_factory.mktemp("painted") / "painted-0.png"
    cv2.imwrite(str(path), painted[:, :, ::-1])
    return path, painted


@pytest.fixture
def artifacts(request) -> Path:
    """Screenshots are kept here (the last run's), for a person to look at."""
    folder = ARTIFACTS / request.node.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder
