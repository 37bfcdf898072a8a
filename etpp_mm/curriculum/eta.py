"""A remaining-time estimate that knows the curriculum's stages.

Pure Python. A low-resolution iteration costs far less than a full-size
one, so an average over past iterations (MMEngine's ETA) under-predicts
what is left. :class:`StageEta` keeps the measured seconds per sample of
each stage and prices the samples each stage has left; a stage not yet run
is priced from the nearest measured size, scaled by pixels.
"""
from typing import Dict, List, Optional, Sequence, Tuple


class StageEta:
    """Seconds left from measured seconds per sample, stage by stage.

    Args:
        sizes (list[tuple[int, int]]): the ``(h, w)`` of each stage.

    Example:
        >>> eta = StageEta([(12, 12), (24, 24)])
        >>> eta.observe(0, samples=100, seconds=1.0)
        >>> eta.seconds_per_sample(1)  # unmeasured: 4x the pixels
        0.04
        >>> eta.remaining([100, 50])
        3.0
        >>> eta.observe(1, samples=50, seconds=1.0)
        >>> eta.remaining([100, 50])
        2.0
    """

    def __init__(self, sizes: Sequence[Tuple[int, int]]):
        self.pixels = [h * w for h, w in sizes]
        self.samples: Dict[int, int] = {}
        self.seconds: Dict[int, float] = {}
        self.iterations: Dict[int, int] = {}

    def observe(self, stage: int, samples: int, seconds: float) -> None:
        """Add one measured iteration of ``samples`` at ``stage``."""
        self.samples[stage] = self.samples.get(stage, 0) + samples
        self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds
        self.iterations[stage] = self.iterations.get(stage, 0) + 1

    def seconds_per_sample(self, stage: int) -> Optional[float]:
        """Measured, else scaled by pixels from the nearest measured size;
        ``None`` before any measurement."""
        if self.samples.get(stage):
            return self.seconds[stage] / self.samples[stage]
        measured = [s for s, n in self.samples.items() if n]
        if not measured:
            return None
        pixels = self.pixels[stage]
        nearest = min(measured,
                      key=lambda s: (abs(self.pixels[s] - pixels), s))
        return (self.seconds[nearest] / self.samples[nearest] * pixels /
                self.pixels[nearest])

    def remaining(self, samples_left: Sequence[int]) -> Optional[float]:
        """Seconds for ``samples_left[i]`` more samples of each stage."""
        total = 0.0
        for stage, count in enumerate(samples_left):
            if count:
                rate = self.seconds_per_sample(stage)
                if rate is None:
                    return None
                total += rate * count
        return total

    def measured_stages(self, min_iterations: int = 20) -> List[int]:
        """Stages with at least ``min_iterations`` measured iterations."""
        return [
            s for s, n in sorted(self.iterations.items())
            if n >= min_iterations
        ]


def format_seconds(seconds: float) -> str:
    """``H:MM:SS``.

    Example:
        >>> format_seconds(3725.4)
        '1:02:05'
    """
    seconds = int(round(seconds))
    return (f'{seconds // 3600}:{seconds % 3600 // 60:02d}:'
            f'{seconds % 60:02d}')
