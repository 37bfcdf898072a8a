"""Early large batch and a compute clock counted in samples.

Pure Python: nothing here knows MMEngine. With ``batch_scale`` the
curriculum's position is the compute spent, counted per trained batch as
``samples x (stage pixels / full pixels)`` and kept in equivalent
full-size epochs (one pass of a process over its share of the data at full
size is one). Stages end where their share of the budget ends, in the
middle of an epoch if need be, and the iterations of an epoch follow from
the batch of each stage. The count does not depend on the number of
processes, the batch size or the dataset size, so a resumed run continues
the same compute curve when any of them changed.
"""
import math
from typing import Any, List, Optional, Sequence, Tuple

from .plan import CurriculumPlan, SizePair
from .stage_values import values_per_stage

BATCH_KEY = 'EfficientTrainHook.batch_scale'
LR_KEY = 'EfficientTrainHook.lr_scaling'
LR_RULES = ('linear', 'sqrt', 'none')
# Optimizers whose update is normalised per coordinate: the square-root rule
# (Malladi et al. 2022; Granziol et al. 2022); plain gradient steps: linear
# (Goyal et al. 2017).
_SQRT_NAMES = ('adam', 'lamb', 'adafactor', 'lion', 'adagrad', 'adadelta')
_LINEAR_NAMES = ('sgd', 'lars', 'rmsprop')
_EPS = 1e-12

Batch = Tuple[int, int]  # (stage index, samples of this process)


# ``batch_scale='auto'`` never leaves an epoch of a stage fewer optimizer
# steps than this: with 11 steps an epoch at 24 px a photo set lost 4 top-1
# points against the recipe's batch, while 31 and 78 steps on Fashion-MNIST
# scored alike (docs/benchmark_fmnist_pareto.md, the factor table).
AUTO_MIN_STEPS_PER_EPOCH = 32


def auto_batch_scales(sizes: Sequence[SizePair],
                      full_size: SizePair,
                      steps_per_epoch: Optional[int] = None) -> List[int]:
    """``batch_scale='auto'``: per stage, the largest multiple whose pixels
    per batch do not exceed the full-size batch's and which leaves an epoch
    at least :data:`AUTO_MIN_STEPS_PER_EPOCH` optimizer steps.

    Args:
        sizes: the ``(h, w)`` of each stage.
        full_size: the recipe's train size.
        steps_per_epoch (int, optional): the recipe's optimizer steps per
            epoch; ``None`` sets no floor.

    Returns:
        list[int]

    Example:
        >>> sizes = [(96, 96), (160, 160), (224, 224)]
        >>> auto_batch_scales(sizes, (224, 224))
        [5, 1, 1]
        >>> auto_batch_scales(sizes, (224, 224), steps_per_epoch=625)
        [5, 1, 1]
        >>> auto_batch_scales(sizes, (224, 224), steps_per_epoch=157)
        [4, 1, 1]
        >>> auto_batch_scales(sizes, (224, 224), steps_per_epoch=40)
        [1, 1, 1]
    """
    full = full_size[0] * full_size[1]
    cap = None
    if steps_per_epoch is not None:
        cap = max(1, steps_per_epoch // AUTO_MIN_STEPS_PER_EPOCH)
    scales = []
    for h, w in sizes:
        scale = max(1, full // (h * w))
        scales.append(scale if cap is None else min(scale, cap))
    return scales


def stage_batch_scales(spec: Any,
                       sizes: Sequence[SizePair],
                       full_size: SizePair,
                       steps_per_epoch: Optional[int] = None) -> List[int]:
    """One batch multiple per stage from ``batch_scale``.

    Args:
        spec: an int for every stage, a list with one per stage, a dict
            from stage size (the plan's sizes, the side for square ones) to
            multiple (1 for sizes not listed), or ``'auto'``: see
            :func:`auto_batch_scales`.
        sizes: the ``(h, w)`` of each stage.
        full_size: the recipe's train size.
        steps_per_epoch (int, optional): the recipe's optimizer steps per
            epoch, for ``'auto'``'s floor.

    Returns:
        list[int]

    Example:
        >>> sizes = [(96, 96), (160, 160), (224, 224)]
        >>> stage_batch_scales('auto', sizes, (224, 224))
        [5, 1, 1]
        >>> stage_batch_scales({96: 4, 160: 2}, sizes, (224, 224))
        [4, 2, 1]
    """
    if spec == 'auto':
        return auto_batch_scales(sizes, full_size, steps_per_epoch)
    scales = values_per_stage(spec, sizes, BATCH_KEY, 'multiple')
    for scale in scales:
        if isinstance(scale, bool) or not isinstance(scale,
                                                     int) or scale < 1:
            raise ValueError(f'{BATCH_KEY}: batch multiples must be positive '
                             f"ints (or 'auto'), got {scale!r}")
    return scales


def check_batch_scale(spec: Any) -> None:
    """Structure errors of ``batch_scale`` before the plan is known.

    Example:
        >>> check_batch_scale(0)
        Traceback (most recent call last):
        ...
        ValueError: EfficientTrainHook.batch_scale: batch multiples must \
be positive ints (or 'auto'), got 0
    """
    if spec == 'auto':
        return
    if isinstance(spec, dict):
        values = list(spec.values())
    elif isinstance(spec, (list, tuple)):
        values = list(spec)
    else:
        values = [spec]
    stage_batch_scales(values, [(1, 1)] * len(values), (1, 1))


def lr_rule_for(optimizer_name: str, lr_scaling: str = 'auto') -> str:
    """The LR rule for an optimizer class name: ``'linear'`` for SGD-like
    ones, ``'sqrt'`` for Adam-like ones; ``lr_scaling`` other than
    ``'auto'`` wins.

    Example:
        >>> lr_rule_for('SGD'), lr_rule_for('AdamW'), lr_rule_for('Lamb')
        ('linear', 'sqrt', 'sqrt')
        >>> lr_rule_for('AdamW', 'linear')
        'linear'
    """
    if lr_scaling != 'auto':
        if lr_scaling not in LR_RULES:
            raise ValueError(f"{LR_KEY}={lr_scaling!r}: choose 'auto', "
                             f'{", ".join(map(repr, LR_RULES))}')
        return lr_scaling
    name = optimizer_name.lower()
    if any(n in name for n in _SQRT_NAMES):
        return 'sqrt'
    if any(n in name for n in _LINEAR_NAMES):
        return 'linear'
    raise ValueError(
        f'no LR rule known for optimizer {optimizer_name} with a larger '
        f"batch: set {LR_KEY} to 'linear', 'sqrt' or 'none'")


def lr_factor(scale: int, rule: str) -> float:
    """LR multiplier for a batch ``scale`` times the recipe's.

    Example:
        >>> lr_factor(4, 'linear'), lr_factor(4, 'sqrt'), lr_factor(4, 'none')
        (4.0, 2.0, 1.0)
    """
    return {
        'linear': float(scale),
        'sqrt': math.sqrt(scale),
        'none': 1.0
    }[rule]


def stage_lr_factors(scales: Sequence[int],
                     optimizer_name: str,
                     lr_scaling: str = 'auto') -> List[float]:
    """The LR multiplier of each stage for its batch multiple; an optimizer
    of no known family needs a rule only when some stage's batch is larger.

    Example:
        >>> stage_lr_factors([4, 1], 'SGD'), stage_lr_factors([4, 1], 'Adam')
        ([4.0, 1.0], [2.0, 1.0])
        >>> stage_lr_factors([1, 1], 'Shampoo')
        [1.0, 1.0]
    """
    if all(scale == 1 for scale in scales):
        return [1.0] * len(scales)
    rule = lr_rule_for(optimizer_name, lr_scaling)
    return [lr_factor(scale, rule) for scale in scales]


class SampleSchedule:
    """Stage, batch and compute of every iteration of a plan, counted in
    samples.

    The one clock of an ``'etpp'`` run. Compute is counted per batch as
    ``samples x stage pixels / full pixels``; a stage runs until its share
    of the budget is spent, in the middle of an epoch if need be, and the
    run stops where the budget is spent.

    With gradient accumulation (``accumulate`` iterations per optimizer
    step) the schedule is planned in optimizer steps: each step's
    ``accumulate`` iterations share one stage, the clock counts the step's
    samples, and every epoch holds whole steps (its last, smaller step is
    split over ``accumulate`` iterations too), so MMEngine's accumulation
    window never straddles an epoch or a stage change. The run then follows
    the compute curve of the same recipe with an ``accumulate`` times larger
    batch.

    Args:
        plan (CurriculumPlan): an ``'etpp'`` plan.
        scales (list[int]): batch multiple of each stage.
        align_to_epochs (bool): keep each epoch in the stage it starts in
            (for data replay, whose buffers hold one size); compute is
            still counted per batch.
        accumulate (int): iterations per optimizer step
            (``optim_wrapper.accumulative_counts``). Defaults to 1.

    Example:
        >>> from etpp_mm.curriculum import Stage, build_plan
        >>> plan = build_plan([Stage(0.5, 8), Stage(0.5, 16)], 'etpp',
        ...                   recipe_epochs=2, full_size=16)
        >>> schedule = SampleSchedule(plan, [2, 1])
        >>> schedule.bounds  # stage ends, equivalent epochs
        [1.0, 2.0]
        >>> batches, done = schedule.epoch(0.0, samples=40, batch=10)
        >>> batches, done  # 4x cheaper stage, twice the batch
        ([(0, 20), (0, 20)], 0.25)
        >>> [len(e) for e in schedule.run(0.0, samples=40, batch=10)]
        [2, 2, 2, 2, 4]
        >>> steps = SampleSchedule(plan, [2, 1], accumulate=2)
        >>> steps.epoch(0.0, samples=50, batch=10)[0]  # 40 + 10 samples
        [(0, 20), (0, 20), (0, 5), (0, 5)]
    """

    def __init__(self,
                 plan: CurriculumPlan,
                 scales: Sequence[int],
                 align_to_epochs: bool = False,
                 accumulate: int = 1):
        if plan.mode != 'etpp':
            raise ValueError(
                f'{BATCH_KEY} needs an ET++ (compute budget) plan, got mode '
                f"{plan.mode!r}: use an etpp preset or mode='etpp'")
        if len(scales) != len(plan.stages):
            raise ValueError(f'{len(scales)} batch multiples for '
                             f'{len(plan.stages)} stages')
        if isinstance(accumulate, bool) or not isinstance(
                accumulate, int) or accumulate < 1:
            raise ValueError('optim_wrapper.accumulative_counts must be a '
                             f'positive int, got {accumulate!r}')
        self.costs = [s.cost for s in plan.stages]
        self.scales = list(scales)
        self.align_to_epochs = align_to_epochs
        self.accumulate = accumulate
        self.bounds, total = [], 0.0
        for stage in plan.stages:
            total += stage.stage.share * plan.budget
            self.bounds.append(total)
        self.total = self.bounds[-1]

    def finished(self, done: float) -> bool:
        return done >= self.total * (1 - _EPS)

    def stage_at(self, done: float) -> int:
        """The stage running once ``done`` equivalent epochs are spent."""
        for index, bound in enumerate(self.bounds):
            if done < bound * (1 - _EPS):
                return index
        return len(self.bounds) - 1

    def _split(self, count: int, stage: int) -> List[Batch]:
        """One optimizer step of ``count`` samples as its iterations."""
        parts = self.accumulate
        if parts == 1:
            return [(stage, count)]
        base, extra = divmod(count, parts)
        return [(stage, base + (i < extra)) for i in range(parts)]

    def epoch(self,
              done: float,
              samples: int,
              batch: int,
              drop_last: bool = False) -> Tuple[List[Batch], float]:
        """The batches of one epoch that starts at ``done``.

        Args:
            done: equivalent full-size epochs spent before the epoch.
            samples: samples per epoch of this process (its sampler's
                length).
            batch: the recipe's batch size per process.
            drop_last: drop an epoch's last, incomplete batch (optimizer
                step, with accumulation).

        Returns:
            tuple: ``[(stage, samples)]`` per iteration, and ``done`` after
            the epoch. The last epoch stops where the budget is spent.
        """
        if samples < 1 or batch < 1:
            raise ValueError(f'cannot train on {samples} samples per epoch '
                             f'in batches of {batch}')
        batches, used = [], 0
        fixed = self.stage_at(done) if self.align_to_epochs else None
        while used < samples and not self.finished(done):
            stage = self.stage_at(done) if fixed is None else fixed
            size = batch * self.scales[stage] * self.accumulate
            count = min(size, samples - used)
            if count < size and drop_last:
                break
            if count < self.accumulate and batches:
                # too few left for one sample an iteration: the previous
                # step's last iteration takes them
                stage, last_count = batches[-1]
                batches[-1] = (stage, last_count + count)
            else:
                batches += self._split(count, stage)
            used += count
            done += count * self.costs[stage] / samples
        return batches, done

    def run(self,
            done: float,
            samples: int,
            batch: int,
            drop_last: bool = False) -> List[List[Batch]]:
        """The batches of every remaining epoch from ``done``."""
        epochs = []
        while not self.finished(done):
            batches, done = self.epoch(done, samples, batch, drop_last)
            if not batches:
                raise ValueError(
                    f'an epoch of {samples} samples per process gives no '
                    f'batch of {batch * self.accumulate}: lower '
                    'train_dataloader.batch_size (or '
                    'optim_wrapper.accumulative_counts) or set '
                    'drop_last=False')
            epochs.append(batches)
        return epochs

    def stage_shares(self, epochs: Sequence[Sequence[Batch]],
                     samples: int) -> List[float]:
        """Compute spent in each stage by ``epochs`` of batches, in
        equivalent epochs (what :meth:`run` planned, to compare with
        :attr:`bounds`)."""
        spent = [0.0] * len(self.costs)
        for batches in epochs:
            for stage, count in batches:
                spent[stage] += count * self.costs[stage] / samples
        return spent

    def fraction(self, done: float) -> float:
        """Compute progress in ``[0, 1]``."""
        return min(1.0, done / self.total)
