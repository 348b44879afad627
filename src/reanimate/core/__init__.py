"""Infrastructure shared by both systems: config, checkpoints, devices, errors."""

from reanimate.core.errors import UserError

__all__ = ["UserError"]
