"""The train loader's collate function (``EfficientTrainHook(collate=...)``).

MMEngine's ``pseudo_collate`` (MMPretrain's classification default) hands a
batch over as a list of per-sample tensors. From a DataLoader worker each
of them travels as its own shared-memory handle, a cost per image that
small curriculum stages do not shrink: on Fashion-MNIST, 2 workers,
batches of 128, 573 us per image at 12 px against 397 us with
``default_collate``, which stacks the batch into one tensor (731 against
194 us at 28 px). MMPretrain's ``ClsDataPreprocessor`` takes either form
(``SelfSupDataPreprocessor`` requires the stacked one already).
"""
import functools
from typing import Any, Callable, Sequence

from mmengine.dataset import default_collate

from .pipeline import infer_train_size

COLLATE_MODES = ('auto', 'stack', 'recipe')


def collate_name(collate_fn: Any) -> str:
    """The name of a (possibly ``partial``-bound) collate function.

    Example:
        >>> from mmengine.dataset import pseudo_collate
        >>> collate_name(functools.partial(pseudo_collate))
        'pseudo_collate'
    """
    while isinstance(collate_fn, functools.partial):
        collate_fn = collate_fn.func
    return getattr(collate_fn, '__name__', type(collate_fn).__name__)


def _takes_stacked(preprocessor: Any) -> bool:
    from mmpretrain.models.utils.data_preprocessor import (
        ClsDataPreprocessor, SelfSupDataPreprocessor)
    # LowFrequencyDataPreprocessor wraps the recipe's as ``preprocessor``
    inner = getattr(preprocessor, 'preprocessor', preprocessor)
    return isinstance(inner,
                      (ClsDataPreprocessor, SelfSupDataPreprocessor))


def setup_collate(loader: Any, mode: str, model: Any,
                  pipelines: Sequence[Any],
                  log: Callable[[str], Any]) -> bool:
    """Switch ``loader.collate_fn`` to MMEngine's ``default_collate``.

    ``'stack'`` always switches; ``'recipe'`` never; ``'auto'`` when the
    loader has workers, collates with ``pseudo_collate``, feeds an
    MMPretrain classification or self-supervised data preprocessor and
    every train pipeline ends in images of one size (a crop or resize
    sets it; the curriculum keeps one size per stage, so a batch stacks).
    Call before the loader's first iterator: (persistent) workers keep the
    function they started with.

    Args:
        loader (DataLoader): the train loader.
        mode (str): ``'auto'``, ``'stack'`` or ``'recipe'``.
        model (nn.Module): the unwrapped model (its data preprocessor).
        pipelines (list[Compose]): the train pipelines.
        log (callable): called with a message when switching.

    Returns:
        bool: whether the collate function was switched.

    Example:
        >>> from torch.utils.data import DataLoader
        >>> from mmengine.dataset import pseudo_collate
        >>> loader = DataLoader([1, 2], collate_fn=pseudo_collate)
        >>> setup_collate(loader, 'stack', None, [], print)
        train_dataloader.collate_fn: default_collate (one stacked tensor \
per batch field) instead of pseudo_collate
        True
    """
    name = collate_name(loader.collate_fn)
    if mode == 'recipe' or name == 'default_collate':
        return False
    if mode == 'auto' and not (
            loader.num_workers > 0 and name == 'pseudo_collate'
            and _takes_stacked(getattr(model, 'data_preprocessor', None))
            and all(infer_train_size(p) is not None for p in pipelines)):
        return False
    loader.collate_fn = default_collate
    log('train_dataloader.collate_fn: default_collate (one stacked tensor '
        f'per batch field) instead of {name}')
    return True
