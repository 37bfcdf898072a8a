"""Batches that carry their curriculum stage to the data workers.

With stages that change in the middle of an epoch and batches whose size
follows the stage, a worker cannot learn the stage from a value set before
the epoch: (persistent) workers prefetch batches ahead of training. The
batch sampler runs in the main process and knows, for every batch, its
size and stage; it hands each worker ``(index, stage)`` pairs, and
:class:`StageDataset` applies the stage in the worker before the pipeline
runs. Pure PyTorch.
"""
import itertools
from typing import Any, Iterator, List, Sequence, Tuple

from torch.utils.data import DataLoader, Dataset, Sampler


class StageHolder:
    """The stage of the sample being loaded, local to each process (unlike
    :class:`~etpp_mm.transforms.SharedStageIndex`): each process sets it
    right before it runs the pipeline. Same ``get``/``set`` interface.

    Example:
        >>> holder = StageHolder()
        >>> holder.set(2)
        >>> holder.get()
        2
    """

    def __init__(self, value: int = 0):
        self.value = value

    def get(self) -> int:
        return self.value

    def set(self, value: int) -> None:
        self.value = value


class StageBatchSampler(Sampler):
    """Groups a sampler's indices into the batches set for the epoch.

    Args:
        sampler: the loader's sampler (e.g. MMEngine's ``DefaultSampler``,
            reseeded per epoch through ``set_epoch`` as usual).

    Example:
        >>> sampler = StageBatchSampler(range(5))
        >>> sampler.set_batches([(0, 3), (1, 2)])  # (stage, samples)
        >>> len(sampler), list(sampler)
        (2, [[(0, 0), (1, 0), (2, 0)], [(3, 1), (4, 1)]])
    """

    def __init__(self, sampler: Any):
        self.sampler = sampler
        self.batches: List[Tuple[int, int]] = []

    def set_batches(self, batches: Sequence[Tuple[int, int]]) -> None:
        """``(stage, samples)`` of each batch of the next epoch."""
        self.batches = list(batches)

    def __len__(self) -> int:
        return len(self.batches)

    def __iter__(self) -> Iterator[List[Tuple[int, int]]]:
        indices = iter(self.sampler)
        for stage, count in self.batches:
            yield [(i, stage) for i in itertools.islice(indices, count)]


class StageDataset(Dataset):
    """Applies each sample's stage, then loads it from ``dataset``.

    Args:
        dataset: the train dataset.
        holder (StageHolder): read by the stage steps of the dataset's
            pipelines.

    An ``int`` index loads at the stage last set. Other attributes are the
    dataset's (``metainfo``...).
    """

    def __init__(self, dataset: Any, holder: StageHolder):
        self.dataset = dataset
        self.holder = holder

    def __getitem__(self, item: Any) -> Any:
        if isinstance(item, tuple):
            item, stage = item
            self.holder.set(stage)
        return self.dataset[item]

    def __len__(self) -> int:
        return len(self.dataset)

    def __getattr__(self, name: str) -> Any:
        if name in ('dataset', 'holder'):
            raise AttributeError(name)
        return getattr(self.dataset, name)


class StageDataLoader(DataLoader):
    """A ``DataLoader`` on a :class:`StageBatchSampler` that still reports
    the recipe's ``batch_size``.

    PyTorch sets ``batch_size`` to ``None`` for a loader built on a batch
    sampler; hooks that size their work from it (MMPretrain's
    ``PreciseBNHook``: ``num_samples // batch_size``) would fail on it.

    Args:
        *args, **kwargs: as for ``DataLoader``.
        recipe_batch_size (int): the per-process batch of the recipe's
            loader (a stage's batch may be a multiple of it).
    """

    def __init__(self, *args, recipe_batch_size: int, **kwargs):
        self._recipe_batch_size = recipe_batch_size
        super().__init__(*args, **kwargs)

    @property
    def batch_size(self) -> int:
        return self._recipe_batch_size

    @batch_size.setter
    def batch_size(self, value) -> None:
        pass  # DataLoader.__init__ writes None for a batch sampler


def stage_loader(loader: DataLoader, holder: StageHolder) -> DataLoader:
    """``loader`` rebuilt with the same settings around a
    :class:`StageBatchSampler` of its sampler and a :class:`StageDataset`.

    Example:
        >>> loader = stage_loader(DataLoader(list(range(6)), batch_size=2),
        ...                       StageHolder())
        >>> loader.batch_sampler.set_batches([(0, 4), (1, 2)])
        >>> [b.tolist() for b in loader]
        [[0, 1, 2, 3], [4, 5]]
        >>> loader.batch_size  # the recipe's, for hooks that read it
        2
    """
    options = dict(
        num_workers=loader.num_workers,
        collate_fn=loader.collate_fn,
        pin_memory=loader.pin_memory,
        timeout=loader.timeout,
        worker_init_fn=loader.worker_init_fn,
        multiprocessing_context=loader.multiprocessing_context,
        generator=loader.generator,
        persistent_workers=loader.persistent_workers,
        pin_memory_device=loader.pin_memory_device)
    if loader.num_workers > 0:
        options['prefetch_factor'] = loader.prefetch_factor
    return StageDataLoader(
        StageDataset(loader.dataset, holder),
        batch_sampler=StageBatchSampler(loader.sampler),
        recipe_batch_size=loader.batch_size,
        **options)
