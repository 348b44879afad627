"""Few-shot talking heads (Zakharov et al. 2019): the networks (`nets/`), their losses and meta-learning,
and their use: few-shot avatars, animation, evaluation and the demo. The face data lives in `reanimate.faces`."""
