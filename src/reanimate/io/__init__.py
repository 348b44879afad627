"""Video and image input/output, and the optical flow of a video (cached on disk)."""

from reanimate.io.image import contact_sheet, fit_side, read_image, read_mask, write_png
from reanimate.io.video import Video, open_video, parse_frame_list
from reanimate.io.writer import FrameWriter

__all__ = ["contact_sheet", "fit_side", "FrameWriter", "Video", "open_video", "parse_frame_list", "read_image", "read_mask", "write_png"]
