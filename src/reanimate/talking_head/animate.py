"""Animate a person with the face motion of a driving video, and put the face back into the full frame.

Two ways to draw the face, one pipeline around them:
- without a model, the photo itself is warped to the driver's landmarks (`Portrait`): the whole
  picture around the head moves, lids close, irises follow the driver's gaze, an opening mouth gets
  the driver's teeth; a real face works from one photo, with no training;
- with a meta-learned model, the few-shot avatar of Zakharov et al. (Sec. 3.3, Fig. 1) generates the
  face crop, which goes back into the first shot's whole frame (`GeneratedPortrait`).
Both give pictures for batches of targets and keep the same counters: the pipeline does not ask
which one it has.
The driver's face is tracked (one steady crop for the warp, so head moves stay in the landmarks);
frames where its face is lost hold the last pose. The motion mode (`reanimate.faces.motion`) decides
how the driver's landmarks become the person's.
"""

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from reanimate.core.background import WriteBehind, read_ahead
from reanimate.core.errors import UserError
from reanimate.core.progress import progress, say
from reanimate.faces.align import fixed_crop, stable_crops
from reanimate.faces.eyes import find_irises, gaze, smooth_gaze
from reanimate.faces.landmarks import LandmarkDetector
from reanimate.faces.motion import drive, smooth_driver
from reanimate.faces.raster import draw_landmarks
from reanimate.faces.shots import MARGIN, Shot, find_shots
from reanimate.io.audio import audio_codec
from reanimate.io.video import Video, is_video_path, open_video
from reanimate.io.writer import FrameWriter, check_output_free
from reanimate.talking_head.generated_portrait import GeneratedPortrait
from reanimate.talking_head.model import TalkingHeadModel
from reanimate.talking_head.options import AnimateOptions
from reanimate.talking_head.portrait import Portrait

CHUNK = 16  # frames rendered at a time: memory stays flat on long drivers
KEEP_DECODED = 1 << 30  # a driver of at most this many bytes decoded is kept between its two passes


@dataclass
class DriverTrack:
    crops: list  # (S, S, 3) uint8 face crops
    points: np.ndarray  # (N, 68, 2) landmarks in crop pixels (the last pose held where the face is lost)
    gaze: np.ndarray  # (N, 2, 2) each iris in its eye's frame (`faces.eyes.gaze`), smoothed; NaN: never seen
    found: np.ndarray  # (N,) bool: frames where the face was seen

    @property
    def missing(self) -> int:
        """Frames without a face."""
        return int((~self.found).sum())

    def donors(self, frames: slice) -> list:
        """The crops of `frames` that may lend their mouth and lids, None where the face was lost: there
        the landmarks are the last pose held, and what is at them now is whatever hides the face."""
        return [crop if seen else None for crop, seen in zip(self.crops[frames], self.found[frames])]

    def looks(self) -> np.ndarray:
        """(N, 2, 2) how far the irises moved since the first frame (the gaze is filled in where
        unseen, so only an eye never seen stays NaN)."""
        return self.gaze - self.gaze[0]


def driver_track(video: Video, size: int, detector: LandmarkDetector, show_progress: bool = True,
                 steady: bool = False) -> DriverTrack:
    """The driving video's face: crops, landmarks in crop pixels, gaze, and frames without a face.

    By default the crops follow the face, smoothed over time, as the training data's do (what a
    generator expects); `steady` uses one crop for the whole video, so the landmarks keep the
    head's movement in the frame (what a warp of a still photo needs).
    """
    # Decoding runs ahead on a thread beside the landmarks (PyAV and dlib's detector release the GIL);
    # a short driver's frames are kept for the second pass instead of being decoded again.
    kept = [] if video.width * video.height * 3 * len(video) <= KEEP_DECODED else None

    def first_pass():
        for _, frame in read_ahead(video.frames(), depth=4):
            if kept is not None:
                kept.append(frame)
            yield frame

    track = detector.track(first_pass(), smooth=0, total=len(video), show_progress=show_progress)
    if not track.found.any():
        raise UserError(f"no face found in any frame of the driving video {video.path}")
    track = dataclasses.replace(track, points=smooth_driver(track.raw, track.found))
    boxes = ([fixed_crop(track.points, track.found, size, MARGIN)] * len(video) if steady
             else stable_crops(track.points, track.found, size, MARGIN))
    crops, points, looks, last = [], [], [], None
    for index, frame in enumerate(kept) if kept is not None else read_ahead(video.frames(), depth=4):
        if track.found[index]:
            last = index
            irises = find_irises(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY), track.points[index])
            looks.append(gaze(track.points[index], irises))
        else:
            looks.append(np.full((2, 2), np.nan, np.float32))
        use = last if last is not None else int(np.flatnonzero(track.found)[0])  # before the first face: the first
        crops.append(boxes[index if steady else use].warp(frame))
        points.append(boxes[use].apply(track.points[use]))
    return DriverTrack(crops, np.stack(points), smooth_gaze(np.stack(looks)), np.asarray(track.found, bool))


def warp_size(shot: Shot) -> int:
    """The crop side for warping: the face's own pixels (no detail lost when pasted back), 128-512."""
    side = shot.crop(1).side
    return int(np.clip(np.ceil(side / 16) * 16, 128, 512))


def animate(model_dir, sources, driver, out, options: AnimateOptions = AnimateOptions(), *, device: str = "auto",
            overwrite: bool = False, show_progress: bool = True) -> dict:
    """See `reanimate.api.animate` and `AnimateOptions` (whose values were checked when it was made)."""
    from reanimate.core.device import resolve_device

    check_output_free(out, overwrite)
    save_person = options.save_person
    if save_person is not None:
        if model_dir is None:
            raise UserError("`save_person` keeps a fine-tuned network: it needs `model`")
        check_output_free(save_person, overwrite)
    device = resolve_device(device)
    model = (model_dir if isinstance(model_dir, TalkingHeadModel) or model_dir is None
             else TalkingHeadModel.from_pretrained(model_dir, device))
    if model is None and options.finetunes:
        raise UserError("fine-tuning needs a network: pass `model`, or drop `finetune_steps`/`finetune_seconds`")
    if save_person is not None and model is not None and model.config.warp_guide:  # refused before the work
        raise UserError("`save_person` keeps the network alone, and a guided model (warp_guide) also needs the "
                        "shots it warps: animate from the photos and `model` instead")
    video = driver if isinstance(driver, Video) else open_video(driver)  # a broken driver fails before the work
    sound = sound_for(options.audio, video, sources)
    detector = LandmarkDetector()
    found = find_shots(sources, options.shots, detector, options.face)
    person = portrait_for(model, found, options.size, device, options.layers)
    if options.finetunes:
        person.finetune(options.finetune_steps, options.finetune_seconds, show_progress=show_progress)
    if save_person is not None:
        person.save_pretrained(save_person, overwrite=overwrite)
    size = person.size
    driving = driver_track(video, size, detector, show_progress, steady=person.steady_driver)
    if driving.missing:
        say(f"the driver's face was not found in {driving.missing} of {len(video)} frames: the last pose is held "
            "there", show_progress)
    targets = drive(driving.points, person.shot_points, options.motion)
    looks = driving.looks()
    paste = person.pastes if options.paste_back is None else options.paste_back
    picture = None
    bar = progress(len(targets), "animating", "frame", enabled=show_progress)
    writer = FrameWriter(out, video.fps, overwrite=overwrite, like=video, audio=sound, verbose=show_progress)
    with writer, bar, WriteBehind() as behind:  # encoding runs beside the next frames' warps
        for start in range(0, len(targets), CHUNK):
            chunk = slice(start, min(start + CHUNK, len(targets)))
            pictures = person.pictures(targets[chunk], looks[chunk], driving.donors(chunk), driving.points[chunk],
                                       paste=paste)
            for index, picture in zip(range(chunk.start, chunk.stop), pictures):
                if options.side_by_side:
                    picture = _side_by_side(driving.crops[index], draw_landmarks(targets[index], (size, size)),
                                            picture)
                behind.submit(writer.write, picture, video.frame_name(index))
                bar.update()
    if person.clamped_frames:
        say(f"in {person.clamped_frames} frames the motion would have folded the face mesh (an extreme turn): "
            "it was pulled towards a rigid move there", show_progress)
    return {"out": str(out), "frames": len(targets), "driver_frames_without_face": driving.missing,
            "shots": len(found), "path": person.path, "motion": options.motion,
            "paste_back": bool(paste), "crop_size": size, "output_size": [picture.shape[1], picture.shape[0]],
            "finetune_steps": person.finetuned_steps, "clamped_frames": person.clamped_frames,
            "mouth_frames": person.mouth_frames, "written": str(writer.written)}


def portrait_for(model: TalkingHeadModel | None, shots: list[Shot], size: int | None, device,
                 layers: bool = True) -> Portrait | GeneratedPortrait:
    """How the person is drawn: the photo warped (no model) or a generator's face pasted into it.

    The paper's generator draws at its own size; the warp and a guided generator (which adds its
    correction to the warp) work at the face's own size, or `size`."""
    if model is not None and not model.config.warp_guide:
        return GeneratedPortrait(model, shots, model.config.image_size, device)
    size = size or warp_size(shots[0])
    return Portrait(shots, size, layers) if model is None else GeneratedPortrait(model, shots, size, device)


AUDIO_CHOICES = ("driver", "source", "none")


def sound_for(audio: str, driver: Video, sources) -> Path | None:
    """The file whose sound the output carries: the driver's (default), the first source video's, none,
    or any media file; a choice that has none is refused before the work."""
    if audio == "none":
        return None
    if audio == "driver":
        return driver.sound  # a silent driver makes a silent output
    if audio == "source":
        videos = [Path(s) for s in sources if is_video_path(s) and Path(s).is_file()]
        if not videos:
            raise UserError("`audio` source takes the sound of a source video, and every source is a photo")
        if audio_codec(videos[0]) is None:
            raise UserError(f"`audio` source: {videos[0]} has no sound")
        return videos[0]
    path = Path(audio)
    if not path.is_file():
        raise UserError(f"`audio` {audio!r} is neither {', '.join(AUDIO_CHOICES)} nor a file")
    if audio_codec(path) is None:
        raise UserError(f"`audio` {audio}: the file has no readable sound")
    return path


def _side_by_side(driver_crop: np.ndarray, marks: np.ndarray, picture: np.ndarray) -> np.ndarray:
    """driver | landmarks | result, the first two scaled to the result's height."""
    height = picture.shape[0]
    small = [cv2.resize(x, (height, height), interpolation=cv2.INTER_AREA if x.shape[0] > height else cv2.INTER_LINEAR)
             for x in (driver_crop, marks)]
    return np.concatenate(small + [picture], axis=1)
