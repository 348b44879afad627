"""The studio's web page (Gradio): load a video, paint keyframes, watch training live, export.

Every handler is thin: it finds the browser session's `Studio` or `TalkingHead` (`app.sessions`),
calls it, and shows the result as `app.views` draws it. User mistakes (UserError) become an error
message on the page instead of a traceback.
"""

import functools
import shutil
import threading
import time
from pathlib import Path

import gradio as gr

from reanimate.app.sessions import Sessions
from reanimate.app.studio import Studio
from reanimate.app.turns import TURNS
from reanimate.app.views import (camera_frame, editor_value, keyframe_gallery, loss_figure, mask_from_editor,
                                 parse_frames, preview_gallery, status_text)
from reanimate.core.errors import UserError
from reanimate.core.files import disk_trouble
from reanimate.faces.motion import DEFAULT_MOTION, MOTION_MODES
from reanimate.io.image import IMAGE_EXTENSIONS
from reanimate.io.samples import SAMPLE_CLIPS, sample_clip
from reanimate.io.video import VIDEO_EXTENSIONS

REFRESH_SECONDS = 2.0
PLOT_EVERY = 10.0  # seconds between redraws of a page's loss plot: drawing one holds the server's
                   # Python for ~0.1 s, and eight pages redrawing every tick left no time to answer clicks
BRUSH_COLOURS = ["#000000", "#ffffff", "#e63946", "#f4a261", "#e9c46a", "#2a9d8f", "#457b9d", "#6a4c93"]
HELP = """# reanimate studio
Paint one or a few frames of a video; a small network learns your style in the background and
restyles every frame (Texler et al. 2020). **1** load a video, **2** paint or upload a keyframe,
**3** train and watch the previews, **4** export the video and the model, **5** try it live on your camera.
**6** animates a photo of a person with the face of a driving video or your camera.
"""


def _answered_first(handler):
    """A quick page action: trainings wait while it is answered (`TrainingTurns.page_action`)."""
    @functools.wraps(handler)
    def wrapped(*args, **kwargs):
        with TURNS.page_action():
            return handler(*args, **kwargs)
    return wrapped


def _friendly(handler):
    """Show UserErrors, and writes the disk refused (full, read-only), as a message on the page."""
    @functools.wraps(handler)
    def wrapped(*args, **kwargs):
        try:
            return handler(*args, **kwargs)
        except UserError as exc:
            raise gr.Error(str(exc), print_exception=False) from exc
        except OSError as exc:
            trouble = disk_trouble(exc)
            if trouble is None:
                raise
            raise gr.Error(trouble.replace("run the same command again", "try again"), print_exception=False) from exc
    return wrapped


def build(sessions: Sessions, allow_paths: bool) -> gr.Blocks:
    """The page; `allow_paths` offers loading a video by its path on the server (local use only)."""
    with gr.Blocks(title="reanimate studio", delete_cache=(1800, 6 * 3600)) as page:
        gr.Markdown(HELP)
        status = gr.Markdown("No video loaded.", elem_id="status")
        version = gr.State(-1)  # the preview version this page shows
        plotted = gr.State(-1)  # how many loss records the page's plot shows
        plotted_at = gr.State(0.0)  # when it was drawn (time.monotonic)
        editor_frame = gr.State(0)  # the frame the editors were loaded with

        with gr.Tab("1 · Video", id="video"):
            with gr.Row():
                upload = gr.File(label=f"Upload a video ({', '.join(VIDEO_EXTENSIONS)})",
                                 file_types=list(VIDEO_EXTENSIONS), elem_id="video-upload")
                with gr.Column():
                    sample = gr.Dropdown(list(SAMPLE_CLIPS), value=SAMPLE_CLIPS[0], label="…or a sample clip")
                    load_sample = gr.Button("Load sample clip", elem_id="load-sample")
                    path = gr.Textbox(label="…or a video path on this computer", visible=allow_paths)
                    load_path = gr.Button("Load path", visible=allow_paths)
            max_side = gr.Slider(128, 1280, value=default_working_side(sessions.device), step=16,
                                 label="Working size (longer side, px): smaller trains and renders faster")
            info = gr.Markdown(elem_id="video-info")
            scrub = gr.Slider(0, 1, value=0, step=1, label="Frame", elem_id="scrub")
            frame_view = gr.Image(label="Frame", interactive=False, elem_id="frame-view")
            suggest = gr.Button("Which frames should I paint?", elem_id="suggest")
            suggest_info = gr.Markdown(elem_id="suggest-info")
            suggest_sheet = gr.Image(label="Suggested keyframes", show_label=False, interactive=False, visible=False,
                                     elem_id="suggest-sheet")

        with gr.Tab("2 · Keyframes", id="keys"):
            gr.Markdown("Pick a frame with the slider on tab 1, press **Paint this frame**, paint over it "
                        "(or upload your painted version of it), optionally paint a mask of the part to "
                        "learn, then **Add keyframe**. You can add or repaint keyframes while training runs.")
            with gr.Row():
                paint_this = gr.Button("Paint this frame", elem_id="paint-this")
                add_key = gr.Button("Add keyframe", variant="primary", elem_id="add-key")
                remove_key = gr.Button("Remove this keyframe")
            editor_label = gr.Markdown("Editing frame 0")
            with gr.Row():
                editor = gr.ImageEditor(label="Painted keyframe", type="numpy", sources=("upload",),
                                        brush=gr.Brush(colors=BRUSH_COLOURS, color_mode="defaults"),
                                        elem_id="editor", transforms=(), layers=False)
                mask_editor = gr.ImageEditor(label="Mask (optional): paint where the style should be learned",
                                             type="numpy", sources=(), brush=gr.Brush(colors=["#ffffff"]),
                                             elem_id="mask-editor", transforms=(), layers=False)
            painted_upload = gr.Image(label="…or upload a painted frame (it goes into the editor)",
                                      type="numpy", sources=["upload"], elem_id="painted-upload")
            key_gallery = gr.Gallery(label="Keyframes", columns=6, height=200, preview=False, allow_preview=False,
                                     object_fit="contain", elem_id="keyframes")

        with gr.Tab("3 · Train", id="train"):
            with gr.Row():
                preset = gr.Dropdown(["fast", "paper"], value="fast", label="Network",
                                     info="fast: a quarter of the paper's cost, for CPUs; paper: Texler et al.'s")
                preview_frames = gr.Textbox(label="Preview frames", info="frame numbers, e.g. 10, 50, 90",
                                            elem_id="preview-frames")
            with gr.Row():
                start = gr.Button("Start / resume", variant="primary", elem_id="start")
                pause = gr.Button("Pause", elem_id="pause")
                stop = gr.Button("Stop", elem_id="stop")
            previews = gr.Gallery(label="Previews (refreshed every few seconds)", columns=3, height=320,
                                  preview=False, object_fit="contain", elem_id="previews")
            plot = gr.Plot(label="Losses", format="png", elem_id="losses")

        with gr.Tab("4 · Export", id="export"):
            gr.Markdown("Renders every frame with the current network (training pauses meanwhile).")
            export = gr.Button("Render and export", variant="primary", elem_id="export")
            result = gr.Video(label="Stylized video", interactive=False, height=400, elem_id="result")
            downloads = gr.File(label="Downloads: the video and the model folder (zip)", file_count="multiple",
                                interactive=False, elem_id="downloads")
            export_info = gr.Markdown(elem_id="export-info")

        with gr.Tab("5 · Live camera", id="camera"):
            gr.Markdown("Stylizes your camera with the latest network (train first). The network learned "
                        "strokes at the video's scale, so keep the camera size near the working size.")
            camera_side = gr.Slider(96, 1280, value=320, step=16, label="Camera size (longer side, px)")
            with gr.Row():
                camera = gr.Image(sources=["webcam"], streaming=True, type="numpy", label="Camera", height=360,
                                  elem_id="camera")
                styled = gr.Image(label="Stylized", interactive=False, height=360, elem_id="camera-styled")
            camera_rate = gr.Markdown(elem_id="camera-rate")

        with gr.Tab("6 · Talking head", id="talk"):
            gr.Markdown("Animate a photo of a person with the face of a driving video or your camera. No "
                        "training: the photo itself is warped to follow the driver's face and put back into "
                        "the whole photo. With several photos, each frame uses the nearest in pose and expression.")
            with gr.Row():
                photos = gr.File(label="Photo(s) of the person", file_count="multiple",
                                 file_types=list(IMAGE_EXTENSIONS) + list(VIDEO_EXTENSIONS), elem_id="talk-photos")
                with gr.Column():
                    face_choice = gr.Number(label="Face (for a photo of several people; 0 = the largest)", value=None,
                                            precision=0, minimum=0, elem_id="talk-face")
                    use_photos = gr.Button("Use these photos", elem_id="talk-use")
                    talk_info = gr.Markdown(elem_id="talk-info")
            with gr.Row():
                driver = gr.File(label=f"Driving video ({', '.join(VIDEO_EXTENSIONS)})",
                                 file_types=list(VIDEO_EXTENSIONS), elem_id="talk-driver")
                with gr.Column():
                    sample_driver = gr.Checkbox(label="…or drive with the sample clip (carphone: a man talking)",
                                                value=False, elem_id="talk-sample")
                    motion = gr.Radio(list(MOTION_MODES), value=DEFAULT_MOTION, label="Motion",
                                      info="relative: the driver's head move and expression since its first frame; "
                                           "adapted: the driver's pose and expression on this person's face; "
                                           "absolute: as is",
                                      elem_id="talk-motion")
                    talk_model = gr.Textbox(label="Talking-head model folder on this computer (optional)",
                                            visible=allow_paths, elem_id="talk-model")
                    talk_side = gr.Checkbox(label="Side by side (driver | landmarks | result)", value=False)
            animate_button = gr.Button("Animate and export", variant="primary", elem_id="talk-animate")
            talk_result = gr.Video(label="Animated", interactive=False, height=400, elem_id="talk-result")
            talk_download = gr.File(label="Download", interactive=False, elem_id="talk-download")
            with gr.Row():
                talk_camera = gr.Image(sources=["webcam"], streaming=True, type="numpy", label="Drive with your camera",
                                       height=300, elem_id="talk-camera")
                talk_live = gr.Image(label="The photo, live", interactive=False, height=300, elem_id="talk-live")
            talk_rate = gr.Markdown(elem_id="talk-rate")

        # -- handlers ------------------------------------------------------------------------------

        def _loaded(studio: Studio, summary: str):
            n = len(studio.video)
            first = studio.frame(0)
            return (summary, gr.update(maximum=n - 1, value=0), first, editor_value(first), editor_value(first),
                    [], ", ".join(map(str, studio.preview_indices)), 0, "Editing frame 0", status_text(studio))

        loaded_outputs = [info, scrub, frame_view, editor, mask_editor, key_gallery, preview_frames, editor_frame,
                          editor_label, status]

        @_friendly
        @_answered_first
        def on_upload(file, side, request: gr.Request, progress=gr.Progress(track_tqdm=True)):
            if file is None:
                return [gr.skip()] * len(loaded_outputs)
            studio = sessions.get(request)
            return _loaded(studio, studio.load_video(file, int(side)))

        @_friendly
        @_answered_first
        def on_sample(name, side, request: gr.Request, progress=gr.Progress(track_tqdm=True)):
            studio = sessions.get(request)
            return _loaded(studio, studio.load_video(sample_clip(name), int(side)))

        @_friendly
        @_answered_first
        def on_path(text, side, request: gr.Request):
            if not allow_paths:
                raise UserError("loading by path is off: the studio listens beyond this computer")
            studio = sessions.get(request)
            return _loaded(studio, studio.load_video(Path(text.strip()).expanduser(), int(side)))

        @_friendly
        @_answered_first
        def on_scrub(index, request: gr.Request):
            return sessions.get(request).frame(int(index))

        @_friendly
        def on_suggest(request: gr.Request):
            studio = sessions.get(request)
            found = studio.suggest_keyframes()
            keys, n = found["keys"], found["count"]
            text = (f"**Paint frames {', '.join(map(str, keys))}**: together they cover {found['coverage'][n - 1]:.0%} "
                    f"of the video (one key: {found['coverage'][0]:.0%}). The slider is on frame {keys[0]}: press "
                    "**Paint this frame** on tab 2. Least covered: frames "
                    f"{', '.join(map(str, found['least_covered']))}, good preview frames.")
            return (text, gr.update(value=found["sheet"], visible=True), gr.update(value=keys[0]),
                    studio.frame(keys[0]))

        @_friendly
        @_answered_first
        def on_paint_this(index, request: gr.Request):
            frame = sessions.get(request).frame(int(index))
            return editor_value(frame), editor_value(frame), int(index), f"Editing frame {int(index)}"

        def on_painted_upload(image):
            return gr.skip() if image is None else editor_value(image)

        @_friendly
        @_answered_first
        def on_add_key(index, painted, mask, request: gr.Request):
            studio = sessions.get(request)
            if not painted or painted.get("composite") is None:
                raise UserError("paint the frame or upload a painted version first")
            studio.set_keyframe(int(index), painted["composite"], mask_from_editor(mask))
            gr.Info(f"keyframe {int(index)} added" + (" (training picks it up now)" if studio.training else ""))
            return keyframe_gallery(studio), status_text(studio)

        @_friendly
        @_answered_first
        def on_remove_key(index, request: gr.Request):
            studio = sessions.get(request)
            studio.remove_keyframe(int(index))
            return keyframe_gallery(studio), status_text(studio)

        @_friendly
        @_answered_first
        def on_start(name, frames_text, request: gr.Request):
            studio = sessions.get(request)
            studio.set_preview_frames(parse_frames(frames_text))
            studio.start_training(name)
            hint = studio.coverage_hint()  # while the first steps run
            if hint:
                gr.Warning(hint[0].upper() + hint[1:])
            return status_text(studio)

        @_friendly
        @_answered_first
        def on_pause(request: gr.Request):
            studio = sessions.get(request)
            studio.pause_training()
            return status_text(studio)

        @_friendly
        @_answered_first
        def on_stop(request: gr.Request):
            studio = sessions.get(request)
            studio.stop_training()
            return status_text(studio)

        @_friendly
        @_answered_first
        def on_preview_frames(frames_text, request: gr.Request):
            studio = sessions.get(request)
            if studio.video is not None and frames_text.strip():
                studio.set_preview_frames(parse_frames(frames_text))

        def on_tick(shown: int, shown_losses: int, drawn_at: float, request: gr.Request):
            try:
                studio = sessions.get(request)
                version, losses, now = studio.preview_version, len(studio.history), time.monotonic()
                redraw = losses != shown_losses and (now - drawn_at >= PLOT_EVERY or shown_losses <= 0)
                return (status_text(studio), gr.skip() if version == shown else preview_gallery(studio),
                        loss_figure(list(studio.history)) if redraw else gr.skip(), version,
                        losses if redraw else shown_losses, now if redraw else drawn_at)
            except Exception as exc:  # every 2 s: a message in the status line, not a stream of pop-ups
                return f"**{exc}**", gr.skip(), gr.skip(), shown, shown_losses, drawn_at

        @_friendly
        def on_export(request: gr.Request, progress=gr.Progress(track_tqdm=True)):
            studio = sessions.get(request)
            video, model = studio.export()
            return str(video), [str(video), str(model)], studio.export_summary

        def on_camera(frame, side, request: gr.Request):
            return camera_frame(frame, lambda f: sessions.get(request).stylize_frame(f, int(side)))

        @_friendly
        @_answered_first
        def on_use_photos(files, face, request: gr.Request):
            files = files or []
            return sessions.talk(request).set_photos([getattr(f, "name", f) for f in files],
                                                     None if face is None else int(face))

        @_friendly
        def on_animate(file, use_sample, mode, model_path, side, request: gr.Request,
                       progress=gr.Progress(track_tqdm=True)):
            if file is None and not use_sample:
                raise UserError("upload a driving video or tick the sample clip")
            source = sample_clip("carphone_pristine") if file is None else getattr(file, "name", file)
            model_path = (model_path or "").strip() if allow_paths else ""
            with sessions.get(request).long_answer():
                out, summary = sessions.talk(request).animate(source, mode, model_path or None, bool(side))
            return str(out), str(out), summary

        def on_talk_camera(frame, mode, request: gr.Request):
            return camera_frame(frame, lambda f: sessions.talk(request).live(f, mode))

        use_photos.click(on_use_photos, [photos, face_choice], [talk_info])
        animate_button.click(on_animate, [driver, sample_driver, motion, talk_model, talk_side],
                             [talk_result, talk_download, talk_info], concurrency_limit=2)
        talk_camera.stream(on_talk_camera, [talk_camera, motion], [talk_live, talk_rate], stream_every=0.2,
                           time_limit=600, concurrency_limit=4)
        upload.upload(on_upload, [upload, max_side], loaded_outputs)
        load_sample.click(on_sample, [sample, max_side], loaded_outputs)
        load_path.click(on_path, [path, max_side], loaded_outputs)
        scrub.release(on_scrub, [scrub], [frame_view])
        scrub.input(on_scrub, [scrub], [frame_view], trigger_mode="always_last")
        suggest.click(on_suggest, None, [suggest_info, suggest_sheet, scrub, frame_view], concurrency_limit=2)
        paint_this.click(on_paint_this, [scrub], [editor, mask_editor, editor_frame, editor_label])
        painted_upload.upload(on_painted_upload, [painted_upload], [editor])
        add_key.click(on_add_key, [editor_frame, editor, mask_editor], [key_gallery, status])
        remove_key.click(on_remove_key, [editor_frame], [key_gallery, status])
        start.click(on_start, [preset, preview_frames], [status])
        pause.click(on_pause, None, [status])
        stop.click(on_stop, None, [status])
        preview_frames.submit(on_preview_frames, [preview_frames], None)
        gr.Timer(REFRESH_SECONDS).tick(on_tick, [version, plotted, plotted_at],
                                       [status, previews, plot, version, plotted, plotted_at],
                                       show_progress="hidden")
        export.click(on_export, None, [result, downloads, export_info], concurrency_limit=2)
        camera.stream(on_camera, [camera, camera_side], [styled, camera_rate], stream_every=0.2, time_limit=600,
                      concurrency_limit=4)
        page.unload(sessions.unload)
    return page


def default_working_side(device: str) -> int:
    from reanimate.core.device import resolve_device

    return 640 if resolve_device(device).type == "cuda" else 384


def _check_port_free(host: str, port: int) -> None:
    import errno
    import socket

    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]  # IPv6 hosts too
        with socket.create_server((host, port), family=family):
            pass
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise UserError(f"port {port} is in use (a studio already running there?): choose another --port") from exc
        # Anything else (an unknown host name, ...) is for the server itself to report.


def server_folder(workdir: str | Path, port: int) -> Path:
    """The server's own folder, `workdir`/studio-PORT, emptied: the sessions of a server that ended
    abruptly there (killed, a power cut) cannot be reached again, and their files would pile up."""
    folder = Path(workdir).resolve() / f"studio-{port}"
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "sessions").mkdir(parents=True)
    return folder


def launch(workdir: str | Path | None = None, host: str = "127.0.0.1", port: int = 7860, device: str = "auto",
           max_upload_mb: int = 200, idle_timeout: float = 300.0, open_browser: bool = False) -> None:
    """Serve the studio until interrupted; its files live in `workdir`/studio-PORT, removed at exit.

    A folder of its own per port: nothing else of `workdir` is touched, two servers sharing it
    keep apart, and a server started again on a port cleans what an abrupt end there left.
    Without `workdir`, a temporary folder.
    """
    import os
    import tempfile

    from reanimate.core.files import temp_beside

    _check_port_free(host, port)  # before anything of a server that may already be running there is touched
    if workdir is None:
        # Named like the project's other temporary files, so a later start removes what a killed one left.
        scratch = temp_beside(Path(tempfile.gettempdir()) / "reanimate-studio", folder=True)
        try:
            return launch(scratch, host, port, device, max_upload_mb, idle_timeout, open_browser)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    workdir = server_folder(workdir, port)
    # Gradio keeps uploads and served outputs in its cache: keep that inside the studio's folder too.
    os.environ["GRADIO_TEMP_DIR"] = str(workdir / "cache")
    loopback = host in ("127.0.0.1", "localhost", "::1")
    sessions = Sessions(workdir, device, idle_timeout)
    page = build(sessions, allow_paths=loopback)
    page.queue(default_concurrency_limit=8)
    try:
        # Not blocking inside launch: in an interactive Python, launch would return at once and
        # this function would clean up under a running server.
        page.launch(server_name=host, server_port=port, max_file_size=f"{max_upload_mb}mb", inbrowser=open_browser,
                    allowed_paths=[str(workdir / "sessions")], show_error=True, quiet=False,
                    prevent_thread_lock=True)
        threading.Thread(target=sessions.reap_forever, daemon=True, name="studio-sessions").start()
        page.block_thread()
    finally:
        page.close()
        sessions.close_all()
        shutil.rmtree(workdir, ignore_errors=True)
