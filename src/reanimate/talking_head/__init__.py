"""Few-shot talking heads (Zakharov et al. 2019): faces, landmarks, datasets and the networks."""
