"""Replay factors: per-stage values from the config, and the automatic
choice from measured loading and model times (pure Python)."""
import math
import statistics
from typing import Any, List, Optional, Sequence, Tuple, Union

from etpp_mm.curriculum.stage_values import values_per_stage

AUTO = 'auto'
FACTORS_KEY = 'EfficientTrainHook.replay.factors'

Factor = Union[int, str]


def _check_factor(factor: Any) -> Factor:
    if factor == AUTO:
        return factor
    if isinstance(factor, bool) or not isinstance(factor, int) or factor < 1:
        raise ValueError(f'{FACTORS_KEY}: replay factors must be positive '
                         f"ints or '{AUTO}', got {factor!r}")
    return factor


def replay_factors(spec: Any, sizes: Sequence[Any]) -> List[Factor]:
    """One replay factor per stage from ``spec``: an int (or ``'auto'``)
    for every stage, a list with one per stage, or a dict from stage size
    (the side for square sizes) to factor, 1 for the plan's sizes not
    listed. A size the plan does not have is refused.

    Example:
        >>> replay_factors({96: 4, 160: 'auto'}, [96, 96, 160, 224])
        [4, 4, 'auto', 1]
        >>> replay_factors(2, [(12, 12), (28, 28)])
        [2, 2]
        >>> replay_factors({13: 2}, [12, 28])  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: ...factors gives a factor for size 13, but the plan's ...
    """
    factors = values_per_stage(spec, sizes, FACTORS_KEY, 'factor')
    return [_check_factor(f) for f in factors]


def balancing_replay_factor(load_seconds: float,
                            step_seconds: float,
                            max_factor: int = 8) -> int:
    """The smallest replay factor at which producing a batch takes no
    longer than the model steps that use it: ``ceil(load / step)``, within
    ``[1, max_factor]``.

    Example:
        >>> balancing_replay_factor(0.30, 0.10), balancing_replay_factor(
        ...     0.05, 0.10)
        (3, 1)
    """
    if step_seconds <= 0:
        raise ValueError(f'step time must be positive, got {step_seconds}')
    return max(1, min(max_factor, math.ceil(load_seconds / step_seconds -
                                            1e-9)))


class AutoReplayFactor:
    """Chooses a stage's replay factor from measured times.

    Over the stage's first ``iters`` iterations (run without replay) it is
    given, per freshly loaded batch, the time the training loop waited for
    the loader, and, per iteration, the time the model step took. The time
    the loader needs to produce one batch is then

    * with workers, which load while the model steps: the wait plus the
      steps run meanwhile, ``load = wait + factor * step`` (the loop waits
      only for what the workers could not prepare during the steps);
    * without workers: ``load = wait``.

    The factor is the smallest at which the steps using a batch take as
    long as producing it, ``ceil(load / step)`` within ``[1, max_factor]``:
    with workers the loader is then hidden behind the model; a larger
    factor would repeat data without running faster. Medians, so that a
    first batch waiting for workers to start does not count.

    Args:
        max_factor (int): the largest factor chosen.
        iters (int): iterations measured before choosing.
        workers (int): the loader's worker processes.

    Example:
        >>> auto = AutoReplayFactor(max_factor=4, iters=3, workers=2)
        >>> for _ in range(3):
        ...     auto.observe(wait=0.02, step=0.01, factor=1)
        >>> auto.decide()  # 0.03 s per batch of loading, 0.01 s of steps
        (3, 'replay x3: loader 33.3 batches/s, model 100.0 batches/s')
    """

    def __init__(self, max_factor: int = 4, iters: int = 8, workers: int = 0):
        for name, value in (('max_factor', max_factor), ('iters', iters)):
            if isinstance(value, bool) or not isinstance(value,
                                                         int) or value < 1:
                raise ValueError(f'EfficientTrainHook.replay.{name} must be '
                                 f'a positive int, got {value!r}')
        self.max_factor = max_factor
        self.iters = iters
        self.workers = workers
        self.waits: List[Tuple[float, int]] = []
        self.steps: List[float] = []

    def observe(self,
                wait: Optional[float] = None,
                step: Optional[float] = None,
                factor: int = 1) -> None:
        """Record one fresh batch's ``wait`` (loaded at ``factor``) and/or
        one iteration's ``step``, in seconds."""
        if step is not None:
            self.steps.append(step)
        if wait is not None:
            self.waits.append((wait, factor))

    @property
    def ready(self) -> bool:
        return len(self.steps) >= self.iters and bool(self.waits)

    def rates(self) -> Tuple[float, float]:
        """Batches per second of the loader and of the model."""
        step = statistics.median(self.steps)
        load = statistics.median(w + f * step if self.workers else w
                                 for w, f in self.waits)
        return 1 / max(load, 1e-9), 1 / max(step, 1e-9)

    def decide(self) -> Tuple[int, str]:
        """The factor and a line saying why."""
        if not self.ready:
            raise RuntimeError(
                f'{len(self.steps)} of {self.iters} iterations measured')
        loader_rate, model_rate = self.rates()
        factor = balancing_replay_factor(1 / loader_rate, 1 / model_rate,
                                         self.max_factor)
        return factor, (f'replay x{factor}: loader {loader_rate:.1f} '
                        f'batches/s, model {model_rate:.1f} batches/s')
