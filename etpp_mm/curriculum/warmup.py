"""Where the warm-up of a compute-clocked run ends: the recipe's rule or
the authors' rule.

Pure Python. In ``'etpp'`` mode the recipe's schedules (warm-up included)
are traversed along compute: after a fraction ``f`` of the plan's compute
they stand where the recipe stands after ``f`` of its iterations
(``warmup='recipe'``). The authors' released ET++ scripts warm up
differently (``warmup='official'``):

* ResNet, Swin, ConvNeXt, CSWin: 20 *real* epochs of the first stage, i.e.
  the baseline's warm-up epochs counted at the first stage's size. At
  budget 200 with a 96 px first stage that is ``20 * (96/224)**2 / 200``
  = 1.8% of the compute, against 20/300 = 6.7% for a 20-of-300-epoch
  recipe mapped onto compute.
* DeiT (the ``etpp_deit`` preset): 20% of the compute.

:func:`warp_warmup` moves the end of the recipe's warm-up to that point and
stretches the rest of its curve over what remains, so both rules keep the
shapes of the recipe's curves.
"""
from typing import Iterable, Optional

WARMUP_RULES = ('recipe', 'official')
WARMUP_KEY = 'EfficientTrainHook.warmup'
# The DeiT script warms up for 20% of its (per-stage rescaled) epochs.
DEIT_WARMUP_SHARE = 0.2


def check_warmup(rule: str) -> None:
    """Raise a clear error unless ``rule`` is a warm-up rule.

    Example:
        >>> check_warmup('official')
        >>> check_warmup('paper')
        Traceback (most recent call last):
        ...
        ValueError: EfficientTrainHook.warmup='paper': choose 'recipe' or \
'official'
    """
    if rule not in WARMUP_RULES:
        raise ValueError(f"{WARMUP_KEY}={rule!r}: choose 'recipe' or "
                         "'official'")


def recipe_warmup_steps(schedulers: Iterable,
                        iters_per_epoch: int) -> Optional[int]:
    """The recipe iteration at which its LR warm-up ends, or ``None``.

    The warm-up is the LR scheduler that starts at 0 and ends first while
    another LR scheduler runs on after it (MMPretrain's ``LinearLR`` before
    a cosine). Duck-typed on MMEngine's schedulers: ``param_name``,
    ``begin``, ``end`` and ``by_epoch`` (epochs when true, else
    iterations).

    Example:
        >>> class S:
        ...     def __init__(self, begin, end, by_epoch=True):
        ...         self.param_name, self.by_epoch = 'lr', by_epoch
        ...         self.begin, self.end = begin, end
        >>> recipe_warmup_steps([S(0, 100, False), S(100, 900, False)], 30)
        100
        >>> recipe_warmup_steps([S(0, 5), S(5, 300)], iters_per_epoch=10)
        50
        >>> recipe_warmup_steps([S(0, 300)], 10) is None  # a lone cosine
        True
    """
    spans = []
    for scheduler in schedulers:
        if getattr(scheduler, 'param_name', 'lr') != 'lr':
            continue
        unit = iters_per_epoch if scheduler.by_epoch else 1
        spans.append((scheduler.begin * unit, scheduler.end * unit))
    if len(spans) < 2:
        return None
    starting = [end for begin, end in spans if begin == 0]
    if not starting:
        return None
    warmup_end = min(starting)
    if warmup_end >= max(end for _, end in spans):
        return None
    return int(warmup_end)


def official_warmup_fraction(preset: Optional[str], budget: float,
                             first_stage_cost: float,
                             recipe_warmup_epochs: float) -> float:
    """Compute fraction at which the authors' scripts end the warm-up.

    Args:
        preset: the hook's preset (``'etpp_deit'`` warms up for 20% of the
            compute; any other table for the recipe's warm-up epochs at the
            first stage's size).
        budget: the plan's budget, equivalent full-size epochs.
        first_stage_cost: pixel cost of the first stage (1 at full size).
        recipe_warmup_epochs: the recipe's warm-up, in its epochs.

    Example:
        >>> ratio = (96 / 224) ** 2
        >>> round(official_warmup_fraction('etpp', 200, ratio, 20), 5)
        0.01837
        >>> official_warmup_fraction('etpp_deit', 200, ratio, 20)
        0.2
    """
    if preset == 'etpp_deit':
        return DEIT_WARMUP_SHARE
    return min(1.0, recipe_warmup_epochs * first_stage_cost / budget)


def warp_warmup(fraction: float, recipe_end: float,
                target_end: float) -> float:
    """The recipe's schedule position (a fraction of its iterations) at
    compute progress ``fraction``, with its warm-up, which ends at
    ``recipe_end`` of the recipe, moved to end at ``target_end`` of the
    compute: linear on each side of the warm-up's end.

    Example:
        >>> warp_warmup(0.01, recipe_end=0.1, target_end=0.02)
        0.05
        >>> warp_warmup(0.02, 0.1, 0.02), warp_warmup(1.0, 0.1, 0.02)
        (0.1, 1.0)
        >>> warp_warmup(0.5, 0.1, 0.1)  # same end: unchanged
        0.5
    """
    if not (0 < recipe_end < 1 and 0 < target_end < 1):
        return fraction
    if fraction < target_end:
        return fraction * recipe_end / target_end
    return recipe_end + (fraction - target_end) * (1 - recipe_end) / (
        1 - target_end)
