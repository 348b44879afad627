"""Image and video quality metrics."""

from reanimate.metrics.image import psnr, ssim

__all__ = ["psnr", "ssim"]
