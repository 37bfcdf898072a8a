"""Carry the curriculum's current stage into DataLoader worker processes.

Worker processes hold their own copies of the train pipeline (persistent
workers keep them for the whole run), so setting an attribute in the main
process does not reach them. The stage index lives instead in one integer of
shared memory; a :class:`CurriculumStageSync` step at the head of each train
pipeline reads it for every sample and, when it changed, applies that stage's
parameters to the transforms of its own (worker-local) pipeline.
"""
from typing import Any, List, Mapping, Sequence, Tuple

import torch
from mmcv.transforms import BaseTransform
from mmpretrain.registry import TRANSFORMS


class SharedStageIndex:
    """An integer visible to the main process and every DataLoader worker.

    Backed by a one-element tensor in shared memory, which survives both
    ``fork`` (inherited mapping) and ``spawn`` (torch's multiprocessing
    pickler passes shared storage by handle).

    Example:
        >>> index = SharedStageIndex()
        >>> index.set(3)
        >>> index.get()
        3
    """

    def __init__(self, value: int = 0):
        self._value = torch.full((1, ), value, dtype=torch.int64)
        self._value.share_memory_()

    def _array(self):
        # Read for every sample: a NumPy view of the shared storage costs
        # a fraction of torch indexing. Made per process, never pickled
        # (spawned workers would get a copy instead of the shared memory).
        view = self.__dict__.get('_view')
        if view is None:
            view = self._view = self._value.numpy()
        return view

    def __getstate__(self) -> dict:
        return {'_value': self._value}

    def get(self) -> int:
        return int(self._array()[0])

    def set(self, value: int) -> None:
        self._array()[0] = value


def set_transform_params(transform: Any, params: Mapping[str, Any]) -> None:
    """Set attributes of a live transform.

    A value is also set on the transform's own sub-transforms that have the
    attribute: RandAugment copies ``magnitude_level`` into each of its
    sub-augmentations when built, and they read their copy, not the parent's.

    Example:
        >>> from mmpretrain.registry import TRANSFORMS
        >>> randaug = TRANSFORMS.build(dict(
        ...     type='RandAugment', policies='timm_increasing',
        ...     num_policies=2, magnitude_level=9))
        >>> set_transform_params(randaug, {'magnitude_level': 3})
        >>> {t.magnitude_level for t in randaug.transforms}
        {3}
    """
    for name, value in params.items():
        if not hasattr(transform, name):
            raise AttributeError(
                f'{type(transform).__name__} has no parameter {name!r}')
        setattr(transform, name, value)
        children = getattr(transform, 'transforms', None)
        if isinstance(children, (list, tuple)):
            for child in children:
                if hasattr(child, name):
                    setattr(child, name, value)


@TRANSFORMS.register_module()
class CurriculumStageSync(BaseTransform):
    """Apply the current curriculum stage to transforms of this pipeline.

    Inserted by :class:`~etpp_mm.hooks.EfficientTrainHook` as the first step
    of each train pipeline; not meant to be written in a config. It passes
    ``results`` through unchanged.

    Args:
        stage_index (SharedStageIndex): the stage the hook has switched to.
        targets (list[tuple]): ``(transform, params_per_stage)`` pairs:
            ``params_per_stage[i]`` holds the attribute values of stage ``i``.
    """

    def __init__(self, stage_index: SharedStageIndex,
                 targets: Sequence[Tuple[Any, List[Mapping[str, Any]]]]):
        self.stage_index = stage_index
        self.targets = list(targets)
        self._applied = None

    def sync(self) -> int:
        """Apply the shared stage if it changed; return it."""
        index = self.stage_index.get()
        if index != self._applied:
            for transform, params_per_stage in self.targets:
                set_transform_params(transform, params_per_stage[index])
            self._applied = index
        return index

    def transform(self, results: dict) -> dict:
        self.sync()
        return results

    def __repr__(self) -> str:
        names = ', '.join(type(t).__name__ for t, _ in self.targets)
        return f'{type(self).__name__}(targets=[{names}])'
