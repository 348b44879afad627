"""Images between numpy (RGB uint8, H x W x 3) and network tensors (float, C x H x W, in [-1, 1])."""

import numpy as np
import torch


def to_tensor(image: np.ndarray) -> torch.Tensor:
    """RGB uint8 (H, W, 3) -> float (3, H, W) in [-1, 1]."""
    return torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).float().div(127.5).sub(1.0)


def to_image(tensor: torch.Tensor, depth: int = 8) -> np.ndarray:
    """Float (3, H, W) in [-1, 1] -> RGB (H, W, 3), uint8 or, with `depth` 16, uint16."""
    if depth == 16:  # the network's own precision kept for grading (16-bit PNG / TIFF, FFV1, ProRes)
        array = tensor.detach().float().clamp(-1, 1).add(1).mul(32767.5).round().to(torch.int32)
        return array.permute(1, 2, 0).cpu().numpy().astype(np.uint16)
    array = tensor.detach().float().clamp(-1, 1).add(1).mul(127.5).round().byte()
    return array.permute(1, 2, 0).cpu().numpy()
