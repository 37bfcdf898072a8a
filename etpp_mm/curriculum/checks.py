"""Checks of a resolved curriculum that its arithmetic alone accepts.

Pure Python: each check raises ``ValueError`` naming the setting to change
and its value, for plans that would run but not as the user meant (no
reduced stage left, a budget above the recipe's own compute, a train size
that is not the pipeline's), and :func:`plan_differences` says which
fields of two plan summaries differ.
"""
from typing import Any, List, Optional

from .plan import CurriculumPlan, SizePair
from .presets import preset_stages

_TOLERANCE = 1e-9


def check_reduced_stages_kept(preset: Optional[str], full_size: SizePair,
                              size_divisor: int,
                              key: str = 'EfficientTrainHook') -> None:
    """Refuse a ``size_divisor`` that rounds every reduced stage of a
    preset up to the train size (the curriculum would be gone).

    Example:
        >>> check_reduced_stages_kept('etpp', (28, 28), 4)
        >>> check_reduced_stages_kept('etpp', (28, 28), 32)
        Traceback (most recent call last):
        ...
        ValueError: EfficientTrainHook.size_divisor=32 rounds every reduced \
stage of preset 'etpp' up to the train size 28x28, leaving no curriculum: \
use a size_divisor of at most 14 (half the train size), or set \
EfficientTrainHook.stages yourself
    """
    if preset is None:
        return
    _, nominal = preset_stages(preset, full_size)
    _, rounded = preset_stages(preset, full_size, size_divisor)
    had_reduced = any(s.size != tuple(full_size) for s in nominal)
    if had_reduced and all(s.size == tuple(full_size) for s in rounded):
        raise ValueError(
            f'{key}.size_divisor={size_divisor} rounds every reduced stage '
            f'of preset {preset!r} up to the train size '
            f'{full_size[0]}x{full_size[1]}, leaving no curriculum: use a '
            f'size_divisor of at most {min(full_size) // 2} (half the train '
            f'size), or set {key}.stages yourself')


def check_full_size(given: Optional[SizePair], from_pipeline: Optional[
        SizePair], key: str = 'EfficientTrainHook.full_size') -> None:
    """Refuse a ``full_size`` other than the size the train pipeline makes.

    Smaller, the "full-size" stages would shrink every image and full
    resolution would never be trained; larger, there is nothing to crop.

    Example:
        >>> check_full_size((28, 28), (28, 28))
        >>> check_full_size((20, 20), (28, 28))
        Traceback (most recent call last):
        ...
        ValueError: EfficientTrainHook.full_size=(20, 20) is smaller than \
the 28x28 images the train pipeline makes: full resolution would never be \
trained. Remove EfficientTrainHook.full_size (it is inferred) or set it to \
(28, 28)
    """
    if given is None or from_pipeline is None or \
            tuple(given) == tuple(from_pipeline):
        return
    smaller = given[0] <= from_pipeline[0] and given[1] <= from_pipeline[1]
    what = ('smaller than', 'full resolution would never be trained') \
        if smaller else ('larger than', 'the reduced stages would crop more '
                         'frequencies than the images have')
    raise ValueError(
        f'{key}={tuple(given)} is {what[0]} the '
        f'{from_pipeline[0]}x{from_pipeline[1]} images the train pipeline '
        f'makes: {what[1]}. Remove {key} (it is inferred) or set it to '
        f'{tuple(from_pipeline)}')


def check_budget_within_recipe(plan: CurriculumPlan,
                               allowed: bool = False,
                               key: str = 'EfficientTrainHook') -> None:
    """Refuse a plan that costs more compute than the recipe it speeds up,
    unless ``allowed`` says it is intended.

    Example:
        >>> from etpp_mm.curriculum import build_plan, preset_stages
        >>> _, stages = preset_stages('etpp', (28, 28))
        >>> plan = build_plan(stages, 'etpp', 15, (28, 28), budget=1000)
        >>> check_budget_within_recipe(plan, allowed=True)
        >>> check_budget_within_recipe(plan)
        Traceback (most recent call last):
        ...
        ValueError: EfficientTrainHook.budget=1000 is above the recipe's own \
compute (train_cfg.max_epochs=15 epochs at full size): the curriculum would \
run 2273 epochs, 0.02x the recipe's speed. Lower budget (e.g. 10 for 1.5x \
less compute), or set EfficientTrainHook.allow_budget_above_recipe=True if \
it is intended
    """
    if allowed or plan.budget <= plan.recipe_epochs + _TOLERANCE:
        return
    raise ValueError(
        f'{key}.budget={plan.budget:g} is above the recipe\'s own compute '
        f'(train_cfg.max_epochs={plan.recipe_epochs} epochs at full size): '
        f'the curriculum would run {plan.total_epochs} epochs, '
        f'{plan.speedup:.2f}x the recipe\'s speed. Lower budget (e.g. '
        f'{plan.recipe_epochs / 1.5:.3g} for 1.5x less compute), or set '
        f'{key}.allow_budget_above_recipe=True if it is intended')


def plan_differences(old: Any, new: Any, path: str = '') -> List[str]:
    """The fields of two plan summaries (:meth:`CurriculumPlan.summary`)
    that differ, as ``'field: checkpoint OLD, now NEW'``.

    Example:
        >>> old = dict(budget=4.0, stages=[dict(size=[12, 12]),
        ...                                dict(size=[20, 20])])
        >>> new = dict(budget=4.0, stages=[dict(size=[12, 12]),
        ...                                dict(size=[24, 24])])
        >>> plan_differences(old, new)
        ['stages[1].size: checkpoint [20, 20], now [24, 24]']
    """
    if isinstance(old, dict) and isinstance(new, dict):
        found = []
        for name in list(old) + [k for k in new if k not in old]:
            field = f'{path}.{name}' if path else str(name)
            if name not in new or name not in old:
                found.append(f'{field}: checkpoint {old.get(name, "-")!r}, '
                             f'now {new.get(name, "-")!r}')
            else:
                found += plan_differences(old[name], new[name], field)
        return found
    if isinstance(old, list) and isinstance(new, list) and \
            not all(isinstance(v, (int, float)) for v in old + new):
        found = [
            f'{path}: checkpoint {len(old)} entries, now {len(new)}'
        ] if len(old) != len(new) else []
        for index, (a, b) in enumerate(zip(old, new)):
            found += plan_differences(a, b, f'{path}[{index}]')
        return found
    return [] if old == new else [f'{path}: checkpoint {old!r}, now {new!r}']
