"""Stage tables and the epoch/compute arithmetic of a curriculum.

Pure Python: nothing here knows MMEngine. A :class:`Stage` says what the
model sees (input size and augmentation parameters) during one share of
training; :func:`build_plan` turns a stage table into a
:class:`CurriculumPlan`, which says how many real epochs each stage runs
and how much compute each real epoch costs.

Two ways to split training (``mode``):

``'et'`` (EfficientTrain, ICCV 2023)
    Shares split the recipe's epochs. Cheaper stages simply cost less, so
    the run costs ``sum(epochs * (size / full size) ** 2)`` equivalent
    epochs; the parameter schedules run as in the recipe.
``'etpp'`` (EfficientTrain++, TPAMI 2024)
    Shares split a compute *budget* counted in equivalent full-resolution
    epochs. A stage at ``B x B`` out of ``S x S`` runs ``(S / B) ** 2`` real
    epochs per equivalent epoch: low-resolution stages run more epochs.
    Stage spans are not rounded: a stage ends where its share of the budget
    ends, in the middle of an epoch if need be (the training clock counts
    samples x pixels, :mod:`.batching`), so every budget, however short,
    gives each stage its exact share.
"""
import math
from dataclasses import dataclass, field
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple

from ..ops.size import to_size_pair

MODES = ('et', 'etpp')
# Cumulative epoch counts are truncated like the authors' scripts; the slack
# absorbs float error such as 20 * 5.4444 = 108.8888... -> 108, not 107.
_FLOOR_SLACK = 1e-9
_SHARE_TOLERANCE = 1e-6

SizePair = Tuple[int, int]


@dataclass(frozen=True)
class Stage:
    """One row of a stage table.

    Args:
        share (float): fraction of the budget ('etpp') or of the recipe's
            epochs ('et') given to this stage.
        size (tuple[int, int]): input size ``(h, w)`` during the stage.
        params (dict): transform parameters during the stage, keyed by
            transform type, e.g. ``{'RandAugment': {'magnitude_level': 3}}``.
    """
    share: float
    size: SizePair
    params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def __post_init__(self):
        # One (h, w) form of int tuples, so sizes compare with ``==``.
        object.__setattr__(self, 'size', to_size_pair(self.size))


@dataclass(frozen=True)
class PlannedStage:
    """A :class:`Stage` placed on the epoch axis: whole epochs in ``'et'``
    mode, fractional real epochs (the share's exact span) in ``'etpp'``."""
    stage: Stage
    begin_epoch: float
    end_epoch: float
    # Compute of one real epoch of this stage, in full-resolution epochs.
    cost: float

    @property
    def epochs(self) -> float:
        return self.end_epoch - self.begin_epoch

    @property
    def size(self) -> SizePair:
        return self.stage.size


@dataclass(frozen=True)
class CurriculumPlan:
    """Where each stage sits in real epochs and what it costs.

    Example:
        >>> from etpp_mm.curriculum import build_plan, preset_stages
        >>> mode, stages = preset_stages('etpp', full_size=(224, 224))
        >>> plan = build_plan(stages, mode, recipe_epochs=300, budget=200,
        ...                   full_size=(224, 224))
        >>> [round(s.epochs, 2) for s in plan.stages][:3], plan.total_epochs
        ([108.89, 108.89, 39.2], 455)
    """
    mode: str
    full_size: SizePair
    recipe_epochs: int
    budget: float
    stages: Tuple[PlannedStage, ...]

    def __post_init__(self):
        object.__setattr__(self, 'full_size',
                           to_size_pair(self.full_size, 'full_size'))

    @property
    def total_epochs(self) -> int:
        """Real epochs the plan touches (a last partial one counts)."""
        return int(math.ceil(self.stages[-1].end_epoch - _FLOOR_SLACK))

    @property
    def equivalent_epochs(self) -> float:
        """Compute of the whole plan in full-resolution epochs."""
        return sum(s.epochs * s.cost for s in self.stages)

    @property
    def speedup(self) -> float:
        """Theoretical saving over the recipe: pixels processed, recipe/plan."""
        return self.recipe_epochs / self.equivalent_epochs

    def stage_index_at(self, epoch: float) -> int:
        """Index of the stage running at real epoch ``epoch`` (0-based, may
        be fractional: the start of an epoch is the stage its first sample
        belongs to).

        Empty stages are skipped; epochs past the end map to the last stage.
        """
        for index, stage in enumerate(self.stages):
            if epoch < stage.end_epoch - _FLOOR_SLACK:
                return index
        return len(self.stages) - 1

    def compute_done(self, epochs: float) -> float:
        """Compute spent after ``epochs`` real epochs (may be fractional),
        in full-resolution epochs."""
        done = 0.0
        for stage in self.stages:
            if epochs <= stage.begin_epoch:
                break
            done += (min(epochs, stage.end_epoch) - stage.begin_epoch) \
                * stage.cost
        return done

    def compute_fraction(self, epochs: float) -> float:
        """Compute progress in ``[0, 1]`` after ``epochs`` real epochs."""
        return min(1.0, self.compute_done(epochs) / self.equivalent_epochs)

    def summary(self) -> Dict[str, Any]:
        """Plain-data description, stable across runs (checkpoints, JSON)."""
        return dict(
            mode=self.mode,
            full_size=list(self.full_size),
            recipe_epochs=self.recipe_epochs,
            budget=self.budget,
            stages=[
                dict(
                    size=list(s.size),
                    params={k: dict(v)
                            for k, v in s.stage.params.items()},
                    begin_epoch=s.begin_epoch,
                    end_epoch=s.end_epoch) for s in self.stages
            ])


def pixel_cost(size: SizePair, full_size: SizePair) -> float:
    """Compute of one image at ``size`` relative to one at ``full_size``."""
    return (size[0] * size[1]) / (full_size[0] * full_size[1])


def validate_stages(stages: Sequence[Stage],
                    full_size: SizePair,
                    size_divisor: int = 1,
                    key: str = 'stages') -> None:
    """Raise ``ValueError`` naming ``key`` if the table cannot be run."""
    if not stages:
        raise ValueError(f'{key} is empty: give at least one stage')
    full_size = to_size_pair(full_size, 'full_size')
    shares = [s.share for s in stages]
    for index, share in enumerate(shares):
        if not isinstance(share, (int, float)) or not share > 0:
            raise ValueError(
                f'{key}[{index}].share must be a positive number, got '
                f'{share!r}')
    if abs(sum(shares) - 1) > _SHARE_TOLERANCE:
        raise ValueError(f'the shares of {key} must sum to 1, got '
                         f'{shares} (sum {sum(shares):.6g})')
    for index, stage in enumerate(stages):
        h, w = stage.size
        if h > full_size[0] or w > full_size[1]:
            raise ValueError(
                f'{key}[{index}].size {stage.size} is larger than the train '
                f'size {full_size}: stage sizes must not exceed it')
        at_full_size = stage.size == full_size
        if not at_full_size and (h % size_divisor or w % size_divisor):
            raise ValueError(
                f'{key}[{index}].size {stage.size} is not divisible by '
                f'size_divisor={size_divisor} (the model needs it, e.g. '
                'its patch size or total stride): choose another size or '
                'change size_divisor')


def check_budget(budget: Any, key: str = 'budget') -> None:
    """Raise ``ValueError`` naming ``key`` unless ``budget`` is a positive,
    finite number of equivalent epochs."""
    if isinstance(budget, bool) or not isinstance(budget, (int, float)) \
            or not budget > 0 or not math.isfinite(budget):
        raise ValueError(f'{key} must be a positive number of equivalent '
                         f'epochs, got {budget!r}')


def build_plan(stages: Sequence[Stage],
               mode: str,
               recipe_epochs: int,
               full_size: SizePair,
               budget: Optional[float] = None,
               size_divisor: int = 1) -> CurriculumPlan:
    """Place a stage table on the real-epoch axis.

    Args:
        stages: the stage table (absolute sizes).
        mode: ``'etpp'`` (shares of a compute budget) or ``'et'`` (shares of
            the recipe's epochs).
        recipe_epochs: the recipe's ``train_cfg.max_epochs``.
        full_size: the recipe's train size ``(h, w)``.
        budget: 'etpp' only: compute in equivalent full-resolution epochs;
            ``None`` costs the same as the recipe.
        size_divisor: stage sizes must be multiples of it.

    Returns:
        CurriculumPlan
    """
    if mode not in MODES:
        raise ValueError(f'mode must be one of {MODES}, got {mode!r}')
    if not isinstance(recipe_epochs, int) or recipe_epochs <= 0:
        raise ValueError('train_cfg.max_epochs must be a positive int, got '
                         f'{recipe_epochs!r}')
    if mode == 'et':
        if budget is not None:
            raise ValueError(
                f'budget={budget!r} applies to compute-budgeted (etpp) '
                'curricula only; an ET curriculum splits '
                'train_cfg.max_epochs: remove budget or use an etpp preset')
        budget = float(recipe_epochs)
    elif budget is None:
        budget = float(recipe_epochs)
    check_budget(budget)
    full_size = to_size_pair(full_size, 'full_size')
    validate_stages(stages, full_size, size_divisor)

    costs = [pixel_cost(s.size, full_size) for s in stages]
    if mode == 'etpp':
        real_epochs = [s.share * budget / c for s, c in zip(stages, costs)]
    else:
        real_epochs = [s.share * recipe_epochs for s in stages]

    planned, cumulative = [], 0.0
    begin = 0.0 if mode == 'etpp' else 0
    for stage, cost, epochs in zip(stages, costs, real_epochs):
        cumulative += epochs
        end = cumulative if mode == 'etpp' else int(
            math.floor(cumulative + _FLOOR_SLACK))
        planned.append(PlannedStage(stage, begin, end, cost))
        begin = end
    if mode == 'et' and planned[-1].end_epoch == 0:
        raise ValueError(
            f'budget={budget} gives no whole epoch of training: raise '
            'budget (or train_cfg.max_epochs)')
    return CurriculumPlan(mode, full_size, recipe_epochs, float(budget),
                          tuple(planned))


def recipe_step_of(fraction: float, recipe_epochs: int,
                   iters_per_epoch: int) -> int:
    """The recipe's iteration after ``fraction`` of its compute.

    Example:
        >>> recipe_step_of(0.5, recipe_epochs=3, iters_per_epoch=5)
        7
    """
    total = recipe_epochs * iters_per_epoch
    return min(total, int(math.floor(fraction * total + _FLOOR_SLACK)))
