"""The face data layer: detection and tracking, landmarks, crops, landmark drawing, the dataset format
and its preparation, synthetic identities, meta-learning episodes, contact sheets.

Only `episodes` imports torch: dataset workers that prepare or read faces start fast.
"""
