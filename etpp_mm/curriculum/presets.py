"""The paper's stage tables, and their scaling to a recipe's train size.

Preset sizes are given at 224 (the paper's ImageNet size) and scale with the
recipe's own train size. RandAugment's ``magnitude_level`` is scheduled with
them: ET uses 1, 3, 5, 7, 9 over five equal stages; ET++ uses the stage index
0..9, one value per tenth of the compute budget. The papers' recipes end at
magnitude 9; :func:`scale_magnitudes` rescales a table so that it ends at a
recipe's own magnitude instead (e.g. 7 for ResNet-50 RSB-A2).
"""
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ..ops.size import to_size_pair
from .plan import SizePair, Stage

PRESET_BASE_SIZE = 224

# name -> (mode, sizes at 224, RandAugment magnitude per stage)
_PRESET_TABLES: Dict[str, Tuple[str, Tuple[int, ...], Tuple[int, ...]]] = {
    # EfficientTrain (ICCV): 5 equal shares of the recipe's epochs.
    'et': ('et', (160, 160, 160, 192, 224), (1, 3, 5, 7, 9)),
    # EfficientTrain++ default (ResNet, Swin, CSWin): tenths of the budget.
    'etpp': ('etpp', (96, 96, 160, 160, 160, 160, 224, 224, 224, 224),
             tuple(range(10))),
    'etpp_convnext': ('etpp', (160, ) * 6 + (224, ) * 4, tuple(range(10))),
    'etpp_deit': ('etpp', (96, 96, 160, 160, 160, 160, 192, 192, 224, 224),
                  tuple(range(10))),
}
PRESETS = tuple(_PRESET_TABLES)
# The RandAugment magnitude the papers' recipes (and tables) end at.
PAPER_MAGNITUDE = 9
RANDAUGMENT_KEY = ('RandAugment', 'magnitude_level')


def scale_magnitude(magnitude: float,
                    recipe_magnitude: float,
                    paper_magnitude: float = PAPER_MAGNITUDE) -> float:
    """A preset's magnitude rescaled so that ``paper_magnitude`` becomes
    ``recipe_magnitude``: ``m * recipe / paper``, an int where exact, else
    rounded to 2 decimals (RandAugment maps float levels linearly).

    Example:
        >>> [scale_magnitude(m, 7) for m in (0, 1, 4, 9)]
        [0, 0.78, 3.11, 7]
        >>> [scale_magnitude(m, 9) for m in (1, 3, 9)]
        [1, 3, 9]
    """
    scaled = round(magnitude * recipe_magnitude / paper_magnitude, 2)
    return int(scaled) if scaled == int(scaled) else scaled


def scale_magnitudes(stages: Sequence[Stage],
                     recipe_magnitude: float) -> List[Stage]:
    """``stages`` with every RandAugment ``magnitude_level`` rescaled by
    :func:`scale_magnitude`, so that a preset ends at the recipe's
    magnitude.

    Example:
        >>> _, stages = preset_stages('et', (224, 224))
        >>> [s.params['RandAugment']['magnitude_level']
        ...  for s in scale_magnitudes(stages, 7)]
        [0.78, 2.33, 3.89, 5.44, 7]
    """
    type_name, name = RANDAUGMENT_KEY
    scaled = []
    for stage in stages:
        params = {t: dict(p) for t, p in stage.params.items()}
        if name in params.get(type_name, {}):
            params[type_name][name] = scale_magnitude(params[type_name][name],
                                                      recipe_magnitude)
        scaled.append(Stage(stage.share, stage.size, params))
    return scaled


def scale_size(size_at_base: int,
               full_size: SizePair,
               size_divisor: int = 1,
               base: int = PRESET_BASE_SIZE) -> SizePair:
    """Scale a preset size given at ``base`` to a recipe's ``full_size``.

    Each side is rounded to a multiple of ``size_divisor`` (at least one
    multiple) and never exceeds the full size; ``base`` maps to the full size
    exactly.

    Example:
        >>> scale_size(160, (28, 28)), scale_size(96, (32, 32), 4)
        ((20, 20), (12, 12))
    """
    if size_at_base >= base:
        return tuple(full_size)
    scaled = []
    for side in full_size:
        exact = size_at_base * side / base
        rounded = max(size_divisor,
                      int(round(exact / size_divisor)) * size_divisor)
        scaled.append(min(rounded, side))
    return tuple(scaled)


def check_preset(name: str) -> None:
    """Raise ``ValueError`` unless ``name`` is a preset."""
    if name not in _PRESET_TABLES:
        raise ValueError(f'unknown preset {name!r} (EfficientTrainHook.preset'
                         f'): choose one of {list(PRESETS)} or give stages')


def preset_stages(name: str,
                  full_size: SizePair,
                  size_divisor: int = 1) -> Tuple[str, List[Stage]]:
    """Return ``(mode, stages)`` of a named preset at ``full_size``.

    Example:
        >>> mode, stages = preset_stages('etpp', (28, 28), size_divisor=4)
        >>> mode, [s.size[0] for s in stages][:3], stages[2].params
        ('etpp', [12, 12, 20], {'RandAugment': {'magnitude_level': 2}})
    """
    check_preset(name)
    mode, sizes, magnitudes = _PRESET_TABLES[name]
    share = 1 / len(sizes)
    stages = [
        Stage(share, scale_size(size, full_size, size_divisor),
              {'RandAugment': {
                  'magnitude_level': magnitude
              }}) for size, magnitude in zip(sizes, magnitudes)
    ]
    return mode, stages


def stages_from_dicts(rows: Sequence[Mapping[str, Any]],
                      key: str = 'stages') -> List[Stage]:
    """Build a user stage table from config dicts.

    Each row is ``dict(share=..., size=int or (h, w), params={...})``.

    Example:
        >>> rows = [dict(share=0.5, size=20), dict(share=0.5, size=28,
        ...         params={'RandAugment': {'magnitude_level': 9}})]
        >>> [s.size for s in stages_from_dicts(rows)]
        [(20, 20), (28, 28)]
    """
    stages = []
    for index, row in enumerate(rows):
        unknown = set(row) - {'share', 'size', 'params'}
        if unknown:
            raise ValueError(f'{key}[{index}] has unknown keys '
                             f'{sorted(unknown)}: use share, size, params')
        if 'share' not in row or 'size' not in row:
            raise ValueError(f'{key}[{index}] needs share and size, got '
                             f'{dict(row)}')
        params = row.get('params') or {}
        if not isinstance(params, Mapping) or not all(
                isinstance(v, Mapping) for v in params.values()):
            raise ValueError(
                f'{key}[{index}].params must map a transform type to its '
                f"parameters, e.g. {{'RandAugment': {{'magnitude_level': "
                f"3}}}}, got {params!r}")
        size = to_size_pair(row['size'], name=f'{key}[{index}].size')
        stages.append(
            Stage(row['share'], size,
                  {t: dict(p)
                   for t, p in params.items()}))
    return stages


def stage_table(preset: Optional[str],
                stages: Optional[Sequence[Mapping[str, Any]]],
                mode: Optional[str],
                full_size: SizePair,
                size_divisor: int = 1) -> Tuple[str, List[Stage], bool]:
    """Resolve the hook's ``preset``/``stages``/``mode`` arguments.

    Returns ``(mode, stages, from_preset)``.
    """
    if (preset is None) == (stages is None):
        raise ValueError('give exactly one of EfficientTrainHook.preset '
                         f'(one of {list(PRESETS)}) and '
                         'EfficientTrainHook.stages')
    if preset is not None:
        preset_mode, table = preset_stages(preset, full_size, size_divisor)
        if mode is not None and mode != preset_mode:
            raise ValueError(
                f'mode={mode!r} contradicts preset {preset!r} (mode '
                f'{preset_mode!r}): remove mode or give your own stages')
        return preset_mode, table, True
    return mode or 'etpp', stages_from_dicts(stages), False
