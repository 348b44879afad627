"""Keyframe video stylization: few-shot patch-based training (Texler et al., SIGGRAPH 2020)."""
