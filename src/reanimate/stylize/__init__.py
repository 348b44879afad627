"""Keyframe video stylization: few-shot patch-based training (Texler et al., SIGGRAPH 2020).

`job.py` runs the whole job (what `reanimate stylize` does); `train.py` trains, `pipeline.py`
renders, `inputs.py` (with `guides.py` and `temporal.py`) builds what the network sees.
"""
