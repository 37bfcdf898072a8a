"""The shortened recipe: the plain recipe's schedule compressed to fewer
epochs, as a user shortens a recipe by hand, the control a curriculum's
budget is compared with (``tools/benchmark.py --shortened``).

``train_cfg.max_epochs`` becomes the new length and every position of the
``param_scheduler`` (``begin``, ``end``, ``milestones``) and every length
(``T_max``, ``step_size``, ``total_steps``, ``periods``) is scaled by
``epochs / recipe_epochs`` and rounded to the unit the config writes it in:
whole epochs for ``by_epoch=True`` schedulers (``convert_to_iter_based``
ones included: their epochs are what a user edits), whole iterations for
``by_epoch=False`` ones. Other arguments are kept.
"""
import copy
import math
from fractions import Fraction
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from etpp_bench.runs import plain_number

OPTION = '--shortened'
# Positions on a scheduler's time line, and lengths along it. A length
# that spans the scheduler (T_max == end - begin) keeps spanning it.
_POSITIONS = ('begin', 'end')
_SPANNING_LENGTHS = ('T_max', 'total_steps')
_LENGTHS = ('step_size', )

Number = Union[int, float]
Schedule = Union[Mapping[str, Any], Sequence[Mapping[str, Any]], None]


def check_shortened(values: Sequence[Number],
                    recipe_epochs: Optional[int] = None) -> None:
    """Refuse ``--shortened`` values the benchmark cannot train: each must be
    a whole number of epochs above 0, given once, and below the recipe's
    ``max_epochs`` when it is known.

    Raises:
        ValueError: naming ``--shortened`` and the value.

    Example:
        >>> check_shortened([10, 12], 15)
        >>> check_shortened([15], 15)
        Traceback (most recent call last):
        ...
        ValueError: --shortened 15 is not below the recipe's max_epochs (15): \
the baseline already trains the full recipe
    """
    seen = set()
    for value in values:
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not math.isfinite(value) or value <= 0:
            shown = f'{value:g}' if isinstance(value, float) else repr(value)
            raise ValueError(f'{OPTION} must be a positive number of epochs, '
                             f'got {shown}')
        if not float(value).is_integer():
            # MMEngine's EpochBasedTrainLoop asserts an int max_epochs, so
            # no schedule, however it scales, makes a fractional run.
            raise ValueError(
                f'{OPTION} {value:g}: MMEngine trains whole epochs '
                '(train_cfg.max_epochs must be an int), so a recipe cannot '
                f'be shortened to {value:g} epochs: give whole epochs')
        value = plain_number(value)
        if value in seen:
            # Two runs of one length measure nothing new.
            raise ValueError(f'{OPTION} {value} is given twice')
        seen.add(value)
        if recipe_epochs is not None and value >= recipe_epochs:
            raise ValueError(
                f"{OPTION} {value} is not below the recipe's max_epochs "
                f'({recipe_epochs}): the baseline already trains the full '
                'recipe')


def shorten_schedule(param_scheduler: Schedule,
                     recipe_epochs: int,
                     epochs: Number,
                     iters_per_epoch: Optional[int] = None
                     ) -> List[Dict[str, Any]]:
    """The recipe's ``param_scheduler`` compressed from ``recipe_epochs`` to
    ``epochs`` (the shortened recipe's ``train_cfg.max_epochs``).

    Positions are scaled and rounded (halves up) on one time line per unit,
    epochs or iterations, through one map: a boundary that two schedulers
    share (a warm-up's ``end``, the decay's ``begin``) stays shared, and
    distinct boundaries stay distinct, moved by the fewest units that keep
    each at least one unit after the one before and before the shortened
    end (a warm-up that had length keeps at least one epoch or iteration,
    every ``begin`` stays below its ``end``, no milestone falls on the
    end); a schedule with more phases than units is refused. A length
    spanning its scheduler (``T_max == end - begin``) spans the shortened
    one. An ``end`` left out keeps following ``max_epochs`` (MMEngine's
    default).

    Args:
        param_scheduler (dict or list of dict): MMEngine scheduler configs,
            as the recipe has them (``None``: no schedulers).
        recipe_epochs (int): the recipe's ``train_cfg.max_epochs``.
        epochs (int): the shortened length, below ``recipe_epochs``.
        iters_per_epoch (int, optional): train iterations per epoch, for
            ``by_epoch=False`` schedulers: with it, their phases are kept
            inside the shortened run's iterations.

    Returns:
        list[dict]: the schedulers, scaled copies, in the recipe's order.

    Raises:
        ValueError: naming ``--shortened`` and ``epochs`` when the schedule
            cannot be compressed that far (more phases than epochs or
            iterations) or ``epochs`` is not a whole number below the
            recipe's (MMEngine's epoch loop takes an int ``max_epochs``, so
            no fractional length scales consistently).

    Example:
        >>> warmup_cosine = [
        ...     dict(type='LinearLR', start_factor=0.25, by_epoch=True,
        ...          begin=0, end=5, convert_to_iter_based=True),
        ...     dict(type='CosineAnnealingLR', T_max=95, by_epoch=True,
        ...          begin=5, end=100)]
        >>> for s in shorten_schedule(warmup_cosine, 100, 50):
        ...     print(s['type'], s['begin'], s['end'], s.get('T_max'))
        LinearLR 0 3 None
        CosineAnnealingLR 3 50 47
        >>> shorten_schedule(dict(type='MultiStepLR', by_epoch=True,
        ...                       milestones=[30, 60, 90]), 100, 10)
        [{'type': 'MultiStepLR', 'by_epoch': True, 'milestones': [3, 6, 9]}]
        >>> shorten_schedule(warmup_cosine, 100, 1)
        Traceback (most recent call last):
        ...
        ValueError: --shortened 1: param_scheduler's 2 phases (boundaries \
at epochs 5 of 100) cannot each keep at least one epoch in 1 epoch(s): give \
more epochs
    """
    check_shortened([epochs], recipe_epochs)
    epochs = plain_number(epochs)
    if param_scheduler is None:
        return []
    if isinstance(param_scheduler, Mapping):
        param_scheduler = [param_scheduler]
    for scheduler in param_scheduler:
        if not isinstance(scheduler, Mapping) or 'type' not in scheduler:
            # e.g. one list per optimizer (dict(lr=[...], momentum=[...]))
            raise ValueError(
                f'{OPTION} {epochs}: param_scheduler must be one scheduler '
                f'config or a list of them, each with a type, got '
                f'{scheduler!r}')
    schedulers = [copy.deepcopy(dict(s)) for s in param_scheduler]
    totals = dict(epoch=(recipe_epochs, epochs))
    if iters_per_epoch is not None:
        totals['iteration'] = (recipe_epochs * iters_per_epoch,
                               epochs * iters_per_epoch)
    ratio = Fraction(epochs) / Fraction(recipe_epochs)
    maps = {}
    for unit in ('epoch', 'iteration'):
        points = [p for s in schedulers if _unit(s) == unit
                  for p in _points(s)]
        maps[unit] = _boundary_map(points, ratio, totals.get(unit), unit,
                                   epochs)
    shortened = []
    for scheduler in schedulers:
        unit = _unit(scheduler)
        shortened.append(
            _scaled(scheduler, maps[unit], ratio, totals.get(unit), unit,
                    epochs))
    return shortened


def describe_change(before: Schedule, after: Sequence[Mapping[str, Any]],
                    recipe_epochs: int, epochs: int) -> str:
    """What the shortening changed, for a reader: ``max_epochs`` and each
    scaled argument of each scheduler, as ``old->new``.

    Example:
        >>> before = [dict(type='LinearLR', by_epoch=True, begin=0, end=1),
        ...           dict(type='CosineAnnealingLR', by_epoch=True,
        ...                begin=1)]
        >>> print(describe_change(before, shorten_schedule(before, 15, 10),
        ...                       15, 10))
        max_epochs 15->10; LinearLR begin 0->0, end 1->1; \
CosineAnnealingLR begin 1->1, end max_epochs
    """
    if isinstance(before, Mapping):
        before = [before]
    parts = [f'max_epochs {recipe_epochs}->{epochs}']
    for old, new in zip(before or [], after):
        keys = [k for k in _POSITIONS + ('milestones', ) + _SPANNING_LENGTHS
                + _LENGTHS + ('periods', ) if k in old]
        changes = [f'{k} {_text(old[k])}->{_text(new[k])}' for k in keys]
        if 'end' not in old:
            changes.append('end max_epochs' if _unit(old) == 'epoch'
                           else 'end max_iters')
        parts.append(f"{old.get('type', '?')} " + ', '.join(changes))
    return '; '.join(parts)


def _text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return '[' + ', '.join(_text(v) for v in value) + ']'
    return f'{value:g}' if isinstance(value, float) else str(value)


def _unit(scheduler: Mapping[str, Any]) -> str:
    # MMEngine's schedulers default to by_epoch=True.
    return 'epoch' if scheduler.get('by_epoch', True) else 'iteration'


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) \
        and math.isfinite(value)


def _points(scheduler: Mapping[str, Any]) -> List[Number]:
    points = [scheduler[k] for k in _POSITIONS if k in scheduler]
    points += list(scheduler.get('milestones', None) or [])
    return [p for p in points if _is_number(p)]


def _half_up(value: Fraction) -> int:
    # Python's round() rounds halves to even: 2.5 epochs would become 2
    # but 3.5 would become 4.
    return math.floor(value + Fraction(1, 2))


def _boundary_map(points: Sequence[Number], ratio: Fraction,
                  totals: Optional[tuple], unit: str,
                  epochs: Number) -> Dict[Number, int]:
    """Each distinct position of one time line to its shortened position:
    scaled and rounded, then moved the least that keeps the positions
    strictly increasing from 1 and, when the recipe's end is known, below
    the shortened end (every phase keeps at least one unit)."""
    total, new_total = totals if totals is not None else (None, None)
    mapping = {p: p for p in points if p <= 0}
    positive = sorted({p for p in points if p > 0} - {total})
    below = [p for p in positive if total is None or p < total]
    above = [p for p in positive if total is not None and p > total]
    previous = 0
    for point in below:  # up: apart, and from 1 on
        previous = mapping[point] = max(_half_up(Fraction(point) * ratio),
                                        previous + 1)
    if total is None:
        return mapping
    if len(below) >= new_total:
        raise ValueError(
            f"{OPTION} {epochs}: param_scheduler's {len(below) + 1} phases "
            f"(boundaries at {unit}s {', '.join(_text(p) for p in below)} of "
            f'{_text(total)}) cannot each keep at least one {unit} in '
            f'{new_total} {unit}(s): give more epochs')
    ceiling = new_total
    for point in reversed(below):  # down: apart, and before the end
        ceiling = mapping[point] = min(mapping[point], ceiling - 1)
    previous = mapping[total] = new_total
    for point in above:
        previous = mapping[point] = max(_half_up(Fraction(point) * ratio),
                                        previous + 1)
    return mapping


def _scaled(scheduler: Dict[str, Any], mapping: Mapping[Number, int],
            ratio: Fraction, totals: Optional[tuple], unit: str,
            epochs: Number) -> Dict[str, Any]:
    old_begin = scheduler.get('begin', 0)
    old_end = scheduler.get('end', totals[0] if totals else None)
    for key in _POSITIONS:
        if key in scheduler and _is_number(scheduler[key]):
            scheduler[key] = mapping[scheduler[key]]
    if 'milestones' in scheduler:
        scheduler['milestones'] = [
            mapping[m] if _is_number(m) else m
            for m in scheduler['milestones']
        ]
    new_begin = scheduler.get('begin', 0)
    new_end = scheduler.get('end', totals[1] if totals else None)
    if _is_number(new_end) and _is_number(new_begin) \
            and new_end <= new_begin:
        # The map keeps boundaries apart up to the recipe's end; this is
        # a scheduler beginning at or past it (or past an iteration end
        # the map was not given).
        raise ValueError(
            f"{OPTION} {epochs}: param_scheduler's "
            f"{scheduler.get('type', 'scheduler')} would begin at {unit} "
            f'{_text(new_begin)} and end at {unit} {_text(new_end)}, with '
            'nothing left to schedule: give more epochs')
    for key in _SPANNING_LENGTHS:
        length = scheduler.get(key, None)
        if not _is_number(length):
            continue
        if _is_number(old_end) and _is_number(new_end) \
                and length == old_end - old_begin:
            scheduler[key] = new_end - new_begin
        else:
            scheduler[key] = _scaled_length(length, ratio)
    for key in _LENGTHS:
        if _is_number(scheduler.get(key, None)):
            scheduler[key] = _scaled_length(scheduler[key], ratio)
    if isinstance(scheduler.get('periods', None), (list, tuple)):
        scheduler['periods'] = [
            _scaled_length(p, ratio) if _is_number(p) else p
            for p in scheduler['periods']
        ]
    return scheduler


def _scaled_length(length: Number, ratio: Fraction) -> Number:
    if length <= 0:
        return length
    return max(1, _half_up(Fraction(length) * ratio))
