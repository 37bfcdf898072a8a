"""Random streams that depend only on ``(seed, epoch, rank, worker)``.

The augmentations of an epoch draw from Python's ``random``, NumPy's global
generator and torch's, in the main process (``num_workers=0``) or in each
DataLoader worker. After a resume those states are not the ones the
uninterrupted run had: the main process's generators were also advanced by
validation after the last checkpoint, and a persistent worker's live only in
that worker (MMEngine's ``worker_init_fn`` reseeds new workers from
``(seed, rank, worker_id)`` alone, so a worker started at the resumed epoch
begins where the original one began at epoch 0). Seeding every generator
from ``(seed, epoch, rank, worker)`` at each epoch's start, in the main
process and in each worker at its first sample of the epoch, makes each
epoch the same whatever ran before it, so a resumed run is the run it
continues.
"""
import contextlib
import random
from typing import Iterator, Optional

import numpy as np
import torch
from torch.utils.data import get_worker_info

from etpp_mm.transforms import SharedStageIndex


def epoch_seed(seed: int, epoch: int, rank: int = 0,
               worker: Optional[int] = None) -> int:
    """A 32-bit seed for one epoch of one process (``worker=None``: the main
    process), well mixed so that neighbouring epochs get unrelated streams.

    Example:
        >>> epoch_seed(0, 3) == epoch_seed(0, 3)
        True
        >>> len({epoch_seed(0, 3), epoch_seed(0, 4), epoch_seed(0, 3, 1),
        ...      epoch_seed(0, 3, worker=0)})
        4
    """
    entropy = [int(seed) % 2**63, int(epoch), int(rank),
               0 if worker is None else int(worker) + 1]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])


def seed_all(seed: int) -> None:
    """Seed Python's ``random``, NumPy's global generator and torch's."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@contextlib.contextmanager
def preserved_rng() -> Iterator[None]:
    """Restore the Python, NumPy and torch CPU generators on exit.

    Example:
        >>> with preserved_rng():
        ...     _ = torch.rand(3)
    """
    states = (random.getstate(), np.random.get_state(),
              torch.get_rng_state())
    try:
        yield
    finally:
        random.setstate(states[0])
        np.random.set_state(states[1])
        torch.set_rng_state(states[2])


class EpochSeeder:
    """Seeds the main process at :meth:`start_epoch` and each DataLoader
    worker at its first sample of an epoch (:meth:`seed_worker`, called by
    the train pipeline), through an epoch counter in shared memory.

    Args:
        seed (int): the run's seed (``runner.seed``, kept by checkpoints).
        rank (int): the process's rank.

    Example:
        >>> seeder = EpochSeeder(seed=0)
        >>> seeder.start_epoch(2); a = torch.rand(1)
        >>> seeder.start_epoch(2); bool(torch.rand(1) == a)
        True
    """

    def __init__(self, seed: int, rank: int = 0):
        self.seed = seed
        self.rank = rank
        self._epoch = SharedStageIndex(-1)
        self._worker_epoch = -1  # per process: each worker has its copy

    def start_epoch(self, epoch: int) -> None:
        """Seed the main process for ``epoch`` and tell the workers."""
        self._epoch.set(epoch)
        seed_all(epoch_seed(self.seed, epoch, self.rank))

    def seed_worker(self) -> None:
        """In a DataLoader worker, seed it once per epoch."""
        info = get_worker_info()
        if info is None:  # the main process is seeded by start_epoch
            return
        epoch = self._epoch.get()
        if epoch == self._worker_epoch or epoch < 0:
            return
        self._worker_epoch = epoch
        seed_all(epoch_seed(self.seed, epoch, self.rank, info.id))
