"""What a studio session's training is doing, as its page shows it."""

from dataclasses import dataclass, field


@dataclass
class TrainingStatus:
    state: str = "idle"  # idle, starting, training, paused, stopped, failed
    message: str = ""
    step: int = 0
    seconds: float = 0.0  # training time, pauses excluded
    steps_per_second: float = 0.0
    losses: dict[str, float] = field(default_factory=dict)
