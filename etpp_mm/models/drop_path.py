"""Stochastic depth rates scaled after the model is built."""
from typing import List, Tuple

from torch import nn


def scale_drop_path(model: nn.Module,
                    factor: float) -> List[Tuple[str, float, float]]:
    """Multiply the rate of every drop-path module of ``model`` by ``factor``.

    EfficientTrain++ scales drop-path with the compute budget (E / 200 of the
    300-epoch value). The rates are baked into the modules when the
    backbone is built (usually growing linearly with depth), so scaling them
    in place keeps each backbone's own depth rule. Works with the
    ``DropPath`` of mmcv (MMPretrain's backbones) and of timm.

    Returns ``(module name, old rate, new rate)`` for each module changed.

    Example:
        >>> from mmcv.cnn.bricks import DropPath
        >>> from torch import nn
        >>> model = nn.Sequential(DropPath(0.1), nn.Linear(2, 2), DropPath(0.2))
        >>> [(name, new) for name, _, new in scale_drop_path(model, 0.5)]
        [('0', 0.05), ('2', 0.1)]
    """
    if factor < 0:
        raise ValueError(f'drop-path scale must be >= 0, got {factor}')
    changed = []
    for name, module in model.named_modules():
        rate = getattr(module, 'drop_prob', None)
        if type(module).__name__ != 'DropPath' or not isinstance(
                rate, float):
            continue
        module.drop_prob = min(rate * factor, 1.0)
        changed.append((name, rate, module.drop_prob))
    return changed


def scale_drop_path_by_budget(model: nn.Module, budget: float,
                              reference_budget: float) -> str:
    """Scale drop-path by ``budget / reference_budget`` (the papers' rule,
    with 200 for a 300-epoch recipe) and say what changed.

    Example:
        >>> from mmcv.cnn.bricks import DropPath
        >>> from torch import nn
        >>> model = nn.Sequential(DropPath(0.1), DropPath(0.2))
        >>> scale_drop_path_by_budget(model, 100, 200)
        'drop-path scaled by budget 100 / 200 = 0.5 in 2 modules (deepest \
rate 0.2 -> 0.1)'
    """
    factor = budget / reference_budget
    changed = scale_drop_path(model, factor)
    if not changed:
        return ('drop_path_reference_budget is set, but the model has no '
                'drop-path modules: nothing to scale')
    old = max(rate for _, rate, _ in changed)
    new = max(rate for _, _, rate in changed)
    return (f'drop-path scaled by budget {budget:g} / {reference_budget:g} '
            f'= {factor:.3g} in {len(changed)} modules (deepest rate '
            f'{old:.3g} -> {new:.3g})')
