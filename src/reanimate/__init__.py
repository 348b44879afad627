"""reanimate: bring pictures to life from a few examples.

Keyframe video stylization (Texler et al. 2020) and few-shot talking heads (Zakharov et al. 2019).
The public Python API lives in `reanimate.api`.
"""

__version__ = "0.1.0"
