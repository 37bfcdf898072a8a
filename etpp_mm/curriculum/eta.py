"""A remaining-time estimate that knows the curriculum's stages.

Pure Python. A low-resolution iteration costs far less than a full-size
one, so an average over past iterations (MMEngine's ETA) under-predicts
what is left. :class:`StageEta` keeps the measured seconds per sample of
each stage and prices the samples each stage has left. A size not yet run
is priced from the sizes that have: with one measured size, per image at
that size (a step's fixed costs, such as the optimizer, kernel launches and
loading, do not shrink with the image: a pixel-scaled guess read 1.36-1.54x
high on the Fashion-MNIST benchmark runs); with two or more, on the line
through the two nearest in pixels (a fixed cost per image plus a cost per
pixel) where the larger costs more.
"""
from collections import deque
from typing import Deque, Dict, List, Optional, Sequence, Tuple


class StageEta:
    """Seconds left from measured seconds per sample, size by size.

    The rate of a size is taken over its last ``window`` iterations, so it
    follows a machine whose load changes during a long run, and the first
    iterations of a run (warm-up, allocations) fade out of it. Stages of the
    same size share their measurements; a size not yet run is priced from
    the measured ones (see the module).

    Args:
        sizes (list[tuple[int, int]]): the ``(h, w)`` of each stage.
        window (int): iterations per size the rate is taken over.

    Example:
        >>> eta = StageEta([(12, 12), (24, 24), (12, 12)])
        >>> eta.observe(0, samples=100, seconds=1.0)
        >>> eta.seconds_per_sample(1)  # unmeasured: priced as 12 px
        0.01
        >>> eta.remaining([100, 50, 100])  # stage 3 is priced as stage 1
        2.5
        >>> eta.observe(1, samples=50, seconds=1.0)
        >>> eta.remaining([100, 50, 0])
        2.0
        >>> eta = StageEta([(10, 10), (20, 20), (30, 30)])
        >>> eta.observe(0, samples=100, seconds=1.0)  # 100 px: 0.01 s
        >>> eta.observe(1, samples=100, seconds=2.5)  # 400 px: 0.025 s
        >>> round(eta.seconds_per_sample(2), 4)  # 900 px, on their line
        0.05
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
        """Measured; else on the line in pixels through the two nearest
        measured sizes where it rises (not below the smaller size's rate),
        else per image at the nearest measured size; ``None`` before any
        measurement."""
        size = self.sizes[stage]
        if size in self.measures:
            return self._rate(size)
        if not self.measures:
            return None
        pixels = size[0] * size[1]
        nearest = sorted(
            self.measures,
            key=lambda s: (abs(s[0] * s[1] - pixels), s))[:2]
        if len(nearest) == 1:
            return self._rate(nearest[0])
        (p1, r1), (p2, r2) = sorted(
            (s[0] * s[1], self._rate(s)) for s in nearest)
        if r2 <= r1:  # larger images cost less (a larger batch): no line
            return self._rate(nearest[0])
        return max(r1, r1 + (r2 - r1) / (p2 - p1) * (pixels - p1))

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


class RunEta:
    """The remaining time of a run: work left per stage, priced by a
    :class:`StageEta` from the time between successive iterations.

    Args:
        sizes (list[tuple[int, int]]): the ``(h, w)`` of each stage.
        left (list[int]): work left per stage (samples, or iterations:
            one unit for all stages).
        min_iterations (int): iterations of a size before the first
            estimate is announced.

    Example:
        >>> eta = RunEta([(12, 12), (28, 28)], left=[30, 10])
        >>> eta.start(now=0.0)
        >>> eta.observe(0, 10, now=1.0)  # 0.1 s per unit at 12 px
        >>> eta.remaining_seconds()  # 20 + 10 units, 28 px priced as 12
        3.0
    """

    def __init__(self,
                 sizes: Sequence[Tuple[int, int]],
                 left: Sequence[int],
                 min_iterations: int = 20):
        self.model = StageEta(sizes)
        self.left = list(left)
        self.min_iterations = min_iterations
        self.announced = False
        self._tick: Optional[float] = None

    def start(self, now: float) -> None:
        """Start timing (an epoch's first iteration follows)."""
        self._tick = now

    def observe(self, stage: int, count: int, now: float) -> Optional[str]:
        """Count an iteration of ``count`` units at ``stage`` ending at
        ``now``; returns a line to log once the first size is measured."""
        self.left[stage] -= count
        if self._tick is not None:
            self.model.observe(stage, count, now - self._tick)
        self._tick = now
        if self.announced or not self.model.measured_stages(
                self.min_iterations):
            return None
        self.announced = True
        return (f'curriculum ETA: predicted total '
                f'{format_seconds(self.remaining_seconds())} to go (sizes '
                'not run yet priced from those measured; validation not '
                'included)')

    def remaining_seconds(self) -> Optional[float]:
        """Predicted seconds of training left (validation excluded)."""
        return self.model.remaining(self.left)
