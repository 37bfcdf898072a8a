"""Find, inspect and edit the live train pipelines of a dataset.

MMPretrain builds a dataset's ``pipeline`` as an
:class:`mmcv.transforms.Compose` of transform instances. Datasets can be wrapped (``ConcatDataset``,
``RepeatDataset``, ``ClassBalancedDataset``) and pipelines nested
(``MultiView`` for self-supervised views, ``RandomApply``/``RandomChoice``).
These helpers walk all of that.
"""
from typing import Any, Callable, Iterator, List, Optional, Tuple

from mmcv.transforms import Compose

# Steps that must see the final, low-frequency image: the low-frequency step
# is inserted before the first of them.
TAIL_TRANSFORMS = frozenset({
    'RandomErasing', 'PackInputs', 'PackMultiTaskInputs', 'Collect',
    'ToTensor', 'ImageToTensor', 'Transpose', 'SimMIMMaskGenerator',
    'BEiTMaskGenerator'
})


def leaf_datasets(dataset: Any) -> List[Any]:
    """The datasets holding pipelines, through dataset wrappers.

    Example:
        >>> from mmengine.dataset import ConcatDataset  # doctest: +SKIP
        >>> leaf_datasets(ConcatDataset([a, b]))  # doctest: +SKIP
        [a, b]
    """
    if hasattr(dataset, 'datasets'):  # ConcatDataset
        return [d for inner in dataset.datasets for d in leaf_datasets(inner)]
    if hasattr(dataset, 'dataset'):  # RepeatDataset, ClassBalancedDataset
        return leaf_datasets(dataset.dataset)
    return [dataset]


def train_pipelines(dataset: Any) -> List[Compose]:
    """The pipelines of a train dataset's leaf datasets, refusing datasets
    without one."""
    datasets = leaf_datasets(dataset)
    pipelines = [getattr(d, 'pipeline', None) for d in datasets]
    if any(p is None or not hasattr(p, 'transforms') for p in pipelines):
        names = [type(d).__name__ for d in datasets]
        raise TypeError('EfficientTrainHook needs train datasets with a '
                        f'pipeline; got {names}')
    return pipelines


def sub_pipelines(transform: Any) -> List[Compose]:
    """Pipelines nested inside one transform (views, random branches)."""
    found = []
    for attr in ('pipelines', 'transforms'):
        value = getattr(transform, attr, None)
        if isinstance(value, Compose):
            found.append(value)
        elif isinstance(value, (list, tuple)):
            found.extend(v for v in value if isinstance(v, Compose))
    # MultiView lists each view pipeline once per view in ``transforms``.
    unique = []
    for pipeline in found:
        if all(pipeline is not seen for seen in unique):
            unique.append(pipeline)
    return unique


def iter_transforms(pipeline: Compose) -> Iterator[Any]:
    """Every transform of a pipeline, depth first, nested ones included."""
    for transform in pipeline.transforms:
        yield transform
        for inner in sub_pipelines(transform):
            yield from iter_transforms(inner)


def find_transforms(pipeline: Compose,
                    predicate: Callable[[Any], bool]) -> List[Any]:
    return [t for t in iter_transforms(pipeline) if predicate(t)]


def _tail_index(pipeline: Compose) -> Optional[int]:
    for index, transform in enumerate(pipeline.transforms):
        if type(transform).__name__ in TAIL_TRANSFORMS:
            return index
    return None


def insertion_points(pipeline: Compose) -> List[Tuple[Compose, int]]:
    """Where the low-frequency step goes: ``(pipeline, index)`` pairs.

    Multi-view pipelines get one step at the end of each view (before any
    erasing/packing inside it); single-view pipelines one step before the
    first erasing/packing step. Returns ``[]`` when there is no such place.
    """
    views = [
        view for transform in pipeline.transforms
        if type(transform).__name__ == 'MultiView'
        for view in sub_pipelines(transform)
    ]
    if views:
        points = []
        for view in views:
            tail = _tail_index(view)
            points.append((view, len(view.transforms) if tail is None else
                           tail))
        return points
    tail = _tail_index(pipeline)
    return [] if tail is None else [(pipeline, tail)]


def _size_of(transform: Any) -> Optional[Tuple[int, int]]:
    """Output ``(h, w)`` of a size-setting transform, else None."""
    name = type(transform).__name__

    def pair(value, order='hw'):
        if isinstance(value, int):
            return (value, value)
        value = tuple(int(v) for v in value)
        return value if order == 'hw' else (value[1], value[0])

    if name in ('RandomResizedCrop', 'EfficientNetRandomCrop',
                'LoadImageAndRandomResizedCrop'):
        return pair(transform.scale)
    if name in ('RandomCrop', 'EfficientNetCenterCrop', 'RandomCropResize'):
        return pair(transform.crop_size)
    if name == 'CenterCrop':  # mmcv: crop_size is (w, h)
        return pair(transform.crop_size, 'wh')
    if name == 'Resize' and getattr(transform, 'scale', None) is not None \
            and not getattr(transform, 'keep_ratio', False):
        return pair(transform.scale, 'wh')  # mmcv: scale is (w, h)
    if name in ('MAERandomResizedCrop',
                'RandomResizedCropAndInterpolationWithTwoPic'):
        return pair(transform.size)
    return None


def infer_train_size(pipeline: Compose) -> Optional[Tuple[int, int]]:
    """The image size reaching the first insertion point, if it is known.

    Looks for the last size-setting transform (``RandomResizedCrop``,
    ``RandomCrop``, ``CenterCrop``, ``Resize`` without ``keep_ratio``...)
    before the point where the low-frequency step goes.
    """
    points = insertion_points(pipeline)
    if points:
        target, index = points[0]
        candidates = list(target.transforms[:index])
        if target is not pipeline:  # a view: its parent's steps came first
            candidates = list(pipeline.transforms) + candidates
    else:
        candidates = list(pipeline.transforms)
    size = None
    for transform in candidates:
        size = _size_of(transform) or size
    return size
