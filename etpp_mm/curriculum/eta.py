"""A remaining-time estimate that knows the curriculum's stages.

Pure Python. A low-resolution iteration costs far less than a full-size
one, so an average over past iterations (MMEngine's ETA) under-predicts
what is left. :class:`StageEta` keeps the measured seconds per sample of
each stage and prices the samples each stage has left; a stage not yet run
is priced from the nearest measured size, scaled by pixels.
"""
from collections import deque
from typing import Deque, Dict, List, Optional, Sequence, Tuple


class StageEta:
    """Seconds left from measured seconds per sample, size by size.

    The rate of a size is taken over its last ``window`` iterations, so it
    follows a machine whose load changes during a long run, and the first
    iterations of a run (warm-up, allocations) fade out of it. Stages of the
    same size share their measurements; a size not yet run is priced from
    the nearest measured size, scaled by pixels.

    Args:
        sizes (list[tuple[int, int]]): the ``(h, w)`` of each stage.
        window (int): iterations per size the rate is taken over.

    Example:
        >>> eta = StageEta([(12, 12), (24, 24), (12, 12)])
        >>> eta.observe(0, samples=100, seconds=1.0)
        >>> eta.seconds_per_sample(1)  # unmeasured: 4x the pixels
        0.04
        >>> eta.remaining([100, 50, 100])  # stage 3 is priced as stage 1
        4.0
        >>> eta.observe(1, samples=50, seconds=1.0)
        >>> eta.remaining([100, 50, 0])
        2.0
    """

    def __init__(self, sizes: Sequence[Tuple[int, int]], window: int = 50):
        self.sizes = [tuple(size) for size in sizes]
        self.window = window
        self.measures: Dict[Tuple[int, int], Deque[Tuple[int, float]]] = {}
        self.iterations: Dict[Tuple[int, int], int] = {}

    def observe(self, stage: int, samples: int, seconds: float) -> None:
        """Add one measured iteration of ``samples`` at ``stage``."""
        size = self.sizes[stage]
        self.measures.setdefault(size, deque(maxlen=self.window)).append(
            (samples, seconds))
        self.iterations[size] = self.iterations.get(size, 0) + 1

    def _rate(self, size: Tuple[int, int]) -> float:
        measures = self.measures[size]
        return sum(t for _, t in measures) / sum(n for n, _ in measures)

    def seconds_per_sample(self, stage: int) -> Optional[float]:
        """Measured, else scaled by pixels from the nearest measured size;
        ``None`` before any measurement."""
        size = self.sizes[stage]
        if size in self.measures:
            return self._rate(size)
        if not self.measures:
            return None
        pixels = size[0] * size[1]
        nearest = min(
            self.measures,
            key=lambda s: (abs(s[0] * s[1] - pixels), s))
        return self._rate(nearest) * pixels / (nearest[0] * nearest[1])

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
        """Stages whose size has at least ``min_iterations`` measured
        iterations."""
        return [
            stage for stage, size in enumerate(self.sizes)
            if self.iterations.get(size, 0) >= min_iterations
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
