"""Greedy, computation-constrained search of a curriculum's stage sizes.

Pure Python: nothing here knows MMEngine or the command line.
``tools/search_curriculum.py`` trains the proxies (and caches their results
with :mod:`etpp_bench.cache`); this module decides which schedules to
train. Errors name the value and its argument; a caller that takes the
arguments under other names (command-line options) passes ``names``, a
mapping from the argument to the name the user knows.

The search follows EfficientTrain++: training is cut into ``K`` stages of
equal compute under a fixed budget (ET++ mode), and the stage sizes are
chosen one stage at a time. For stage ``k``, with stages ``0..k-1`` already
fixed, every candidate size not smaller than stage ``k-1``'s is tried with
all later stages at the full size; the size whose proxy scores highest is
kept. The last stage is always the full size.

A schedule is a tuple of square sizes, one per stage, e.g.
``(12, 20, 28, 28)``. The full size is always a candidate, and trying it
for stage ``k`` reproduces the schedule chosen at stage ``k-1``: its score
is reused instead of training the same schedule twice. So the search can
end on the schedule it had before any stage, and its result scores at
least as high as every schedule it trained.
"""
import itertools
import math
import random
from dataclasses import dataclass, field
from typing import (Any, Callable, Dict, Iterator, List, Mapping, Optional,
                    Sequence, Tuple)

from .plan import Stage, check_budget

Schedule = Tuple[int, ...]

Names = Optional[Mapping[str, str]]


def _namer(names: Names) -> Callable[[str], str]:
    """How errors name an argument: as ``names`` maps it, else by itself."""
    return lambda key: (names or {}).get(key, key)


@dataclass(frozen=True)
class SearchSpace:
    """What the search may choose from.

    Args:
        candidates (tuple[int, ...]): candidate sizes, ascending, the full
            size included.
        num_stages (int): ``K``, stages of equal compute.
        full_size (int): the recipe's (square) train size.
    """
    candidates: Tuple[int, ...]
    num_stages: int
    full_size: int


@dataclass(frozen=True)
class Trial:
    """One schedule scored by the evaluator.

    Args:
        index (int): 1-based position among the evaluator's calls.
        stage (int): the stage (0-based) being searched when it ran.
        schedule (tuple[int, ...]): the sizes, one per stage.
        score (float): what the evaluator returned (held-out accuracy).
    """
    index: int
    stage: int
    schedule: Schedule
    score: float


@dataclass(frozen=True)
class SearchResult:
    """Outcome of :func:`greedy_search`.

    Args:
        schedule (tuple[int, ...]): the sizes found, one per stage.
        score (float): its score.
        trials (tuple[Trial, ...]): every evaluator call, in order.
        choices (tuple[tuple[int, float], ...]): per searched stage, the
            size kept and the score of the schedule it came from.
    """
    schedule: Schedule
    score: float
    trials: Tuple[Trial, ...]
    choices: Tuple[Tuple[int, float], ...] = field(default=())


def search_space(candidates: Sequence[int],
                 num_stages: int,
                 full_size: int,
                 size_divisor: int = 1,
                 names: Names = None) -> SearchSpace:
    """Check the search's input and normalise the candidates.

    Candidates are sorted and deduplicated, and the full size is added:
    keeping a stage at the full size must always be possible. As in
    :func:`~etpp_mm.curriculum.validate_stages`, the full size itself need
    not be divisible by ``size_divisor``.

    Raises:
        ValueError: naming the value and the argument to change (as
            ``names`` maps it).

    Example:
        >>> search_space([20, 12, 16, 12], num_stages=4, full_size=28,
        ...              size_divisor=4)
        SearchSpace(candidates=(12, 16, 20, 28), num_stages=4, full_size=28)
        >>> search_space([32], 4, 28)
        Traceback (most recent call last):
        ...
        ValueError: candidate size 32 is larger than the train size 28: remove it from candidates
    """
    name = _namer(names)
    sizes, divisor = name('candidates'), name('size_divisor')
    if isinstance(num_stages, bool) or not isinstance(num_stages, int) \
            or num_stages < 2:
        raise ValueError(
            f"{name('num_stages')} must be an int >= 2 (the last stage is "
            'always the full size, so fewer stages leave nothing to '
            f'search), got {num_stages!r}')
    if isinstance(size_divisor, bool) or not isinstance(size_divisor, int) \
            or size_divisor <= 0:
        raise ValueError(
            f'{divisor} must be a positive int, got {size_divisor!r}')
    if not candidates:
        raise ValueError(f'{sizes} is empty: give candidate sizes')
    for size in candidates:
        if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
            raise ValueError(f'candidate size {size!r} is not a positive '
                             f'int: fix {sizes}')
        if size > full_size:
            raise ValueError(
                f'candidate size {size} is larger than the train size '
                f'{full_size}: remove it from {sizes}')
        if size != full_size and size % size_divisor:
            raise ValueError(
                f'candidate size {size} is not divisible by {divisor} '
                f'{size_divisor} (the model needs it, e.g. its patch size or '
                f'total stride): change {sizes} or {divisor}')
    return SearchSpace(
        tuple(sorted(set(candidates) | {full_size})), num_stages, full_size)


def check_magnitudes(magnitudes: Optional[Sequence[float]],
                     num_stages: int,
                     names: Names = None) -> None:
    """Raise ``ValueError`` unless ``magnitudes`` is ``None`` or holds one
    non-negative number per stage.

    Example:
        >>> check_magnitudes([1, 5, 9], num_stages=4)
        Traceback (most recent call last):
        ...
        ValueError: magnitudes gives 3 values for 4 stages: give one RandAugment magnitude per stage
    """
    name = _namer(names)
    if magnitudes is None:
        return
    if len(magnitudes) != num_stages:
        raise ValueError(
            f"{name('magnitudes')} gives {len(magnitudes)} values for "
            f'{num_stages} stages: give one RandAugment magnitude per stage')
    for value in magnitudes:
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not value >= 0:
            raise ValueError(f"{name('magnitudes')} must hold non-negative "
                             f'numbers, got {value!r}')


def check_proxy(train_images: int,
                heldout_images: int,
                budget: float,
                available: Optional[int] = None,
                names: Names = None) -> None:
    """Check the proxy's size: image counts and budget.

    Args:
        train_images (int): images of the train split the proxy trains on.
        heldout_images (int): other images of the train split it is scored
            on.
        budget (float): the proxy's compute, in equivalent full-size epochs
            of its ``train_images``.
        available (int, optional): length of the train split, when known.
        names (dict, optional): how errors name the arguments.

    Example:
        >>> check_proxy(3000, 2000, 4, available=4500)
        Traceback (most recent call last):
        ...
        ValueError: train_images 3000 + heldout_images 2000 = 5000 exceeds the 4500 images of the train split: lower them
    """
    name = _namer(names)
    for key, value in (('train_images', train_images),
                       ('heldout_images', heldout_images)):
        if isinstance(value, bool) or not isinstance(value, int) \
                or value <= 0:
            raise ValueError(
                f'{name(key)} must be a positive int, got {value!r}')
    check_budget(budget, key=name('budget'))
    if available is not None and train_images + heldout_images > available:
        raise ValueError(
            f"{name('train_images')} {train_images} + "
            f"{name('heldout_images')} {heldout_images} = "
            f'{train_images + heldout_images} exceeds the {available} '
            'images of the train split: lower them')


def split_indices(total: int, train_images: int, heldout_images: int,
                  seed: int) -> Tuple[List[int], List[int]]:
    """Disjoint random ``(train, held_out)`` index lists of a dataset.

    A random draw, not the first images: annotation files are often sorted
    by class. Both lists are sorted, so configs holding them stay readable.

    Example:
        >>> train, held_out = split_indices(10, 4, 3, seed=0)
        >>> len(train), len(held_out), set(train) & set(held_out)
        (4, 3, set())
        >>> split_indices(10, 4, 3, seed=0) == (train, held_out)
        True
    """
    drawn = random.Random(seed).sample(range(total),
                                       train_images + heldout_images)
    return sorted(drawn[heldout_images:]), sorted(drawn[:heldout_images])


def stage_candidates(space: SearchSpace, prefix: Sequence[int]) -> List[int]:
    """Sizes stage ``len(prefix)`` may take after the fixed ``prefix``:
    sizes never decrease, so none below the last fixed one.

    Example:
        >>> space = SearchSpace((12, 16, 20, 28), 4, 28)
        >>> stage_candidates(space, []), stage_candidates(space, [12, 16])
        ([12, 16, 20, 28], [16, 20, 28])
    """
    low = prefix[-1] if prefix else 0
    return [size for size in space.candidates if size >= low]


def schedule_with(space: SearchSpace, prefix: Sequence[int],
                  size: int) -> Schedule:
    """The schedule tried for stage ``len(prefix)`` at ``size``: the fixed
    prefix, then ``size``, then the full size up to the last stage.

    Example:
        >>> schedule_with(SearchSpace((12, 20, 28), 4, 28), [12], 20)
        (12, 20, 28, 28)
    """
    tail = space.num_stages - len(prefix) - 1
    if tail < 0:
        raise ValueError(f'prefix {tuple(prefix)} already fixes all '
                         f'{space.num_stages} stages')
    return tuple(prefix) + (size, ) + (space.full_size, ) * tail


def monotone_schedules(space: SearchSpace) -> Iterator[Schedule]:
    """Every schedule the search can reach: candidate sizes that never
    decrease, the last stage at the full size.

    Example:
        >>> list(monotone_schedules(SearchSpace((12, 28), 3, 28)))
        [(12, 12, 28), (12, 28, 28), (28, 28, 28)]
    """
    for head in itertools.combinations_with_replacement(
            space.candidates, space.num_stages - 1):
        yield head + (space.full_size, )


def max_runs(space: SearchSpace, prefix: Sequence[int] = ()) -> int:
    """Most evaluator calls still needed once ``prefix`` is fixed.

    Stage 0 trains every candidate (the all-full schedule too, the
    reference without curriculum); a later stage trains every candidate
    not below the last fixed size except the full size, whose schedule is
    already known. The worst case keeps the smallest size at every stage.

    Example:
        >>> space = SearchSpace((12, 16, 20, 24, 28), 4, 28)
        >>> max_runs(space), max_runs(space, [20]), max_runs(space, [28])
        (13, 4, 0)
    """
    low = prefix[-1] if prefix else space.candidates[0]
    runs = 0
    for stage in range(len(prefix), space.num_stages - 1):
        sizes = [s for s in space.candidates if s >= low]
        runs += len(sizes) if stage == 0 else len(sizes) - 1
    return runs


def _rank(score: float, size: int) -> Tuple[float, int]:
    # A diverged proxy (NaN) must never win; on a tie the smaller size wins,
    # which keeps more of the budget at low resolution.
    return (score if not math.isnan(score) else -math.inf, -size)


def greedy_search(space: SearchSpace,
                  evaluate: Callable[[Schedule], float],
                  report: Optional[Callable[[Trial, Trial, int],
                                            None]] = None) -> SearchResult:
    """Choose the stage sizes one stage at a time.

    Args:
        space: candidates, number of stages and full size.
        evaluate: trains a proxy on a schedule and returns its held-out
            score (higher is better). Called once per distinct schedule.
        report: called after every ``evaluate`` with the new trial, the best
            trial so far and the most calls the search can still reach in
            all (the total shrinks as stages are fixed).

    Returns:
        SearchResult

    Example:
        >>> space = SearchSpace((12, 20, 28), 3, 28)
        >>> best = {0: 12, 1: 20}   # a fake proxy preferring 12 then 20
        >>> def score(schedule):
        ...     return -sum(abs(schedule[k] - best[k]) for k in best)
        >>> result = greedy_search(space, score)
        >>> result.schedule, len(result.trials)
        ((12, 20, 28), 5)
        >>> [t.schedule for t in result.trials][:3]
        [(12, 28, 28), (20, 28, 28), (28, 28, 28)]
    """
    known: Dict[Schedule, float] = {}
    trials: List[Trial] = []
    choices: List[Tuple[int, float]] = []
    best: Optional[Trial] = None
    prefix: List[int] = []
    for stage in range(space.num_stages - 1):
        total = len(trials) + max_runs(space, prefix)
        scored = []
        for size in stage_candidates(space, prefix):
            schedule = schedule_with(space, prefix, size)
            if schedule not in known:
                known[schedule] = float(evaluate(schedule))
                trial = Trial(len(trials) + 1, stage, schedule,
                              known[schedule])
                trials.append(trial)
                if best is None or _rank(trial.score, 0) > _rank(
                        best.score, 0):
                    best = trial
                if report is not None:
                    report(trial, best, total)
            scored.append((size, known[schedule]))
        size, score = max(scored, key=lambda item: _rank(item[1], item[0]))
        choices.append((size, score))
        prefix.append(size)
    schedule = tuple(prefix) + (space.full_size, )
    return SearchResult(schedule, known[schedule], tuple(trials),
                        tuple(choices))


def schedule_name(schedule: Sequence[int]) -> str:
    """``'12-20-28-28'``: a schedule in file names and tables."""
    return '-'.join(str(size) for size in schedule)


def stage_rows(schedule: Sequence[int],
               magnitudes: Optional[Sequence[float]] = None
               ) -> List[Dict[str, Any]]:
    """The ``EfficientTrainHook.stages`` table of a schedule: equal shares,
    and RandAugment's magnitude per stage when given.

    Example:
        >>> stage_rows((12, 28), magnitudes=[1, 9])[0]
        {'share': 0.5, 'size': 12, 'params': {'RandAugment': {'magnitude_level': 1}}}
    """
    share = 1 / len(schedule)
    rows = []
    for index, size in enumerate(schedule):
        row: Dict[str, Any] = dict(share=share, size=int(size))
        if magnitudes is not None:
            row['params'] = {
                'RandAugment': {
                    'magnitude_level': magnitudes[index]
                }
            }
        rows.append(row)
    return rows


def schedule_stages(schedule: Sequence[int],
                    magnitudes: Optional[Sequence[float]] = None
                    ) -> List[Stage]:
    """:func:`stage_rows` as :class:`Stage` objects, for
    :func:`~etpp_mm.curriculum.build_plan`.

    Example:
        >>> [s.size for s in schedule_stages((20, 28))]
        [(20, 20), (28, 28)]
    """
    return [
        Stage(row['share'], (row['size'], row['size']), row.get('params', {}))
        for row in stage_rows(schedule, magnitudes)
    ]
