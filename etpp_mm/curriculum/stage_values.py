"""One value per stage from a setting given as a value, a list or a dict
keyed by stage size (``batch_scale``, ``replay.factors``). Pure Python."""
from typing import Any, List, Sequence


def size_key(size: Any) -> Any:
    """How a dict key names a stage size: the side of a square size, else
    the ``(h, w)`` pair.

    Example:
        >>> size_key((96, 96)), size_key([96, 128]), size_key(12)
        (96, (96, 128), 12)
    """
    if isinstance(size, (list, tuple)):
        size = tuple(size)
        return size[0] if size[0] == size[1] else size
    return size


def values_per_stage(spec: Any, sizes: Sequence[Any], key: str,
                     noun: str = 'value') -> List[Any]:
    """Expand ``spec`` to one value per stage.

    Args:
        spec: one value for every stage, a list with one per stage, or a
            dict from stage size (:func:`size_key`) to value, 1 for the
            plan's sizes not listed.
        sizes: the size of each stage.
        key: the setting, named in errors.
        noun: what a value is, for errors (``'factor'``, ``'multiple'``).

    Raises:
        ValueError: a dict key that is no stage size, or a list of the
            wrong length, naming ``key`` and the plan's sizes.

    Example:
        >>> values_per_stage({96: 4}, [(96, 96), (96, 96), (224, 224)], 'k')
        [4, 4, 1]
        >>> values_per_stage({13: 2}, [12, 28], 'k', 'factor')
        Traceback (most recent call last):
        ...
        ValueError: k gives a factor for size 13, but the plan's stage \
sizes are [12, 28]: key the factors by those sizes
    """
    sides = [size_key(s) for s in sizes]
    if isinstance(spec, dict):
        for size in spec:
            if size_key(size) not in sides:
                raise ValueError(
                    f'{key} gives a {noun} for size {size!r}, but the '
                    f"plan's stage sizes are {list(dict.fromkeys(sides))}: "
                    f'key the {noun}s by those sizes')
        keyed = {size_key(k): v for k, v in spec.items()}
        return [keyed.get(s, 1) for s in sides]
    if isinstance(spec, (list, tuple)):
        if len(spec) != len(sizes):
            raise ValueError(f'{key}={list(spec)} gives {len(spec)} values '
                             f'for {len(sizes)} stages: give one per stage '
                             'or a dict {size: ' + noun + '}')
        return list(spec)
    return [spec] * len(sizes)
