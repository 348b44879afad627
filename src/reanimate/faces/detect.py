"""Landmarks of a whole video as a job: track one face, save the track, draw an overlay video."""

import os
from pathlib import Path

from reanimate.core.errors import UserError
from reanimate.core.progress import say
from reanimate.faces.landmarks import TRACK_FORMATS, FaceTrack, LandmarkDetector, save_track
from reanimate.faces.raster import draw_landmarks
from reanimate.io.video import Video
from reanimate.io.writer import FrameWriter, check_output_free


def detect_video(video: Video, smooth: float = 1.0, out: str | os.PathLike | None = None,
                 overlay: str | os.PathLike | None = None, overwrite: bool = False,
                 show_progress: bool = True) -> FaceTrack:
    """The tracked landmarks of `video`; also written to `out` (.npz/.json) and drawn into `overlay`."""
    if out is not None and Path(out).suffix.lower() not in TRACK_FORMATS:
        raise UserError(f"landmarks file {out} must end in {' or '.join(TRACK_FORMATS)}")
    for path in (out, overlay):
        if path is not None:
            check_output_free(path, overwrite)  # refuse before the whole video is tracked
    track = LandmarkDetector().track((f for _, f in video.frames()), smooth=smooth, total=len(video),
                                     show_progress=show_progress)
    if not track.found.any():
        say(f"no face found in any of the {len(video)} frames of {video.path}", show_progress)
    if out is not None:
        save_track(track, out, video.fps, video.size)
    if overlay is not None:
        with FrameWriter(overlay, video.fps, overwrite=overwrite, like=video,
                         audio=video.sound, verbose=show_progress) as writer:
            for index, frame in video.frames():
                writer.write(draw_landmarks(track.points[index], video.size, image=frame), video.frame_name(index))
    return track
