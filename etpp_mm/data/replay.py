"""Data replay for loader-bound stages (EfficientTrain++, systems part).

At low resolution the model step is cheap and the data loader (decoding,
augmentation) becomes the bottleneck: ET++ at budget 200 makes ~454 passes
over the data in 2/3 of the baseline's time. Replay reuses each loaded batch:
with factor ``r``, every freshly loaded batch is followed by ``r - 1``
batches drawn uniformly from a FIFO of recently loaded *samples* (the fresh
ones included), so only ``1/r`` of the iterations wait for the loader.

Replay works on samples, not on collated batches: the loader's workers
return the samples uncollated, the FIFO keeps them, and every batch (fresh
or replayed) is collated in the main process with the loader's own
``collate_fn``. Images, labels and every other field of a sample therefore
stay together whatever the pipeline produces (one view or several), and the
data preprocessor's batch augmentations (Mixup, CutMix) run on the replayed
batch afterwards, giving replayed samples new partners.

The number of iterations per epoch does not change (an epoch loads ``1/r``
of the data and replays the rest), so an iteration-based clock, compute
accounting and parameter schedules are unaffected. Pure PyTorch; the hook
adapts it to MMEngine.
"""
import math
import random
from collections import deque
from typing import Any, Callable, Iterator, List, Optional, Sequence

import torch


def sample_nbytes(sample: Any) -> int:
    """Bytes held by the tensors of a (nested) sample.

    Example:
        >>> import torch
        >>> sample_nbytes({'inputs': torch.zeros(3, 8, 8, dtype=torch.uint8),
        ...                'views': [torch.zeros(2, dtype=torch.float16)]})
        196
    """
    if isinstance(sample, torch.Tensor):
        return sample.element_size() * sample.nelement()
    if isinstance(sample, dict):
        return sum(sample_nbytes(v) for v in sample.values())
    if isinstance(sample, (list, tuple)):
        return sum(sample_nbytes(v) for v in sample)
    return 0


def to_compact(sample: Any) -> Any:
    """The sample with floating-point tensors in half precision (integer
    images, e.g. MMPretrain's uint8 ``inputs``, are already smaller)."""
    if isinstance(sample, torch.Tensor):
        return sample.half() if sample.is_floating_point() else sample
    if isinstance(sample, dict):
        return {k: to_compact(v) for k, v in sample.items()}
    if isinstance(sample, list):
        return [to_compact(v) for v in sample]
    if isinstance(sample, tuple):
        return tuple(to_compact(v) for v in sample)
    return sample


def replay_buffer_bytes(buffer_samples: int, bytes_per_sample: int,
                        processes: int = 1) -> int:
    """Host memory of the replay buffers of ``processes`` processes.

    Example:
        >>> # 1920 samples of 3 x 96 x 96 uint8 images, 8 processes
        >>> replay_buffer_bytes(1920, 3 * 96 * 96, 8) / 2**30
        0.3955078125
    """
    return buffer_samples * bytes_per_sample * processes


class ReplayBuffer:
    """A FIFO of the last ``capacity`` samples, sampled uniformly.

    Example:
        >>> buffer = ReplayBuffer(capacity=3, seed=0)
        >>> buffer.extend([1, 2, 3, 4])
        >>> sorted(buffer.samples)
        [2, 3, 4]
        >>> len(buffer.draw(5))
        5
    """

    def __init__(self, capacity: int, seed: int = 0):
        if isinstance(capacity, bool) or not isinstance(
                capacity, int) or capacity < 1:
            raise ValueError(
                f'replay buffer capacity must be a positive int, got '
                f'{capacity!r}')
        self.capacity = capacity
        self.samples: deque = deque(maxlen=capacity)
        self._rng = random.Random(seed)

    def __len__(self) -> int:
        return len(self.samples)

    def extend(self, samples: Sequence[Any]) -> None:
        self.samples.extend(samples)

    def draw(self, count: int) -> List[Any]:
        """``count`` samples drawn uniformly (with replacement)."""
        if not self.samples:
            raise RuntimeError('the replay buffer is empty')
        return [
            self.samples[self._rng.randrange(len(self.samples))]
            for _ in range(count)
        ]

    def nbytes(self) -> int:
        return sum(sample_nbytes(s) for s in self.samples)

    def reseed(self, seed: int) -> None:
        self._rng.seed(seed)


def _uncollated(samples: List[Any]) -> List[Any]:
    return samples


class ReplayLoader:
    """Wraps a ``torch.utils.data.DataLoader``; yields ``len(loader)``
    batches per epoch, of which only ``ceil(len / factor)`` are loaded.

    The loader's ``collate_fn`` is taken over: its workers return samples
    uncollated and this wrapper collates. Any other attribute (``sampler``,
    ``dataset``, ``batch_size``...) is the loader's, so it can stand in for
    it in a training loop.

    Args:
        loader: the DataLoader to wrap.
        capacity (int): samples held by the FIFO.
        factor (int): uses of each loaded batch; 1 turns replay off (and
            nothing is stored).
        seed (int): seed of the draws; :meth:`set_epoch` reseeds per epoch
            so a resumed run draws what the uninterrupted one would have
            drawn from the same buffer.

    Example:
        >>> import torch
        >>> from torch.utils.data import DataLoader
        >>> loader = DataLoader(list(range(8)), batch_size=2)
        >>> replay = ReplayLoader(loader, capacity=4, factor=2)
        >>> batches = list(replay)
        >>> len(batches), replay.loaded_batches  # 4 steps, 2 loads
        (4, 2)
        >>> batches[0].tolist(), batches[2].tolist()  # the fresh ones
        ([0, 1], [2, 3])
    """

    def __init__(self,
                 loader: Any,
                 capacity: int,
                 factor: int = 1,
                 seed: int = 0,
                 compact: Callable[[Any], Any] = to_compact):
        self.loader = loader
        self.collate = loader.collate_fn
        loader.collate_fn = _uncollated
        self.buffer = ReplayBuffer(capacity, seed)
        self.seed = seed
        self.compact = compact
        self.factor = factor
        self.loaded_batches = 0
        self.replayed_batches = 0

    @property
    def factor(self) -> int:
        return self._factor

    @factor.setter
    def factor(self, value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(
                f'replay factor must be a positive int, got {value!r}')
        self._factor = value

    @property
    def collate_fn(self) -> Callable[[List[Any]], Any]:
        """The loader's own collate function (what a batch is made with)."""
        return self.collate

    def reset(self) -> None:
        """Empty the FIFO (at a size change: samples of two sizes cannot
        share a batch; and to free memory where replay is off)."""
        self.buffer.samples.clear()

    def set_epoch(self, epoch: int, rank: int = 0) -> None:
        self.buffer.reseed(self.seed * 1_000_003 + epoch * 1009 + rank)

    def __len__(self) -> int:
        return len(self.loader)

    def __getattr__(self, name: str) -> Any:
        # only called for attributes not found on the wrapper itself
        if name == 'loader':
            raise AttributeError(name)
        return getattr(self.loader, name)

    def __iter__(self) -> Iterator[Any]:
        total = len(self.loader)
        produced = 0
        for samples in self.loader:
            if self.factor > 1:
                self.buffer.extend([self.compact(s) for s in samples])
            self.loaded_batches += 1
            yield self.collate(samples)
            produced += 1
            for _ in range(self.factor - 1):
                if produced >= total:
                    break
                self.replayed_batches += 1
                yield self.collate(self.buffer.draw(len(samples)))
                produced += 1
            if produced >= total:
                break

    def fresh_batches_per_epoch(self, factor: Optional[int] = None) -> int:
        return math.ceil(len(self.loader) / (factor or self.factor))


def replay_factors(spec: Any, sizes: Sequence[Any]) -> List[int]:
    """One replay factor per stage from ``spec``: an int for every stage, a
    list with one per stage, or a dict from stage size (int for square
    sizes) to factor, 1 for sizes not listed.

    Example:
        >>> replay_factors({96: 4, 160: 2}, [96, 96, 160, 224])
        [4, 4, 2, 1]
        >>> replay_factors(2, [(12, 12), (28, 28)])
        [2, 2]
    """
    def side(size):  # dict keys are the side of square sizes
        if isinstance(size, int):
            return size
        return size[0] if size[0] == size[1] else tuple(size)

    if isinstance(spec, dict):
        factors = [spec.get(side(s), 1) for s in sizes]
    elif isinstance(spec, (list, tuple)):
        if len(spec) != len(sizes):
            raise ValueError(
                f'replay factors {list(spec)} give {len(spec)} values for '
                f'{len(sizes)} stages: give one per stage')
        factors = list(spec)
    else:
        factors = [spec] * len(sizes)
    for factor in factors:
        if isinstance(factor, bool) or not isinstance(factor,
                                                      int) or factor < 1:
            raise ValueError(
                f'replay factors must be positive ints, got {factor!r}')
    return factors


def balancing_replay_factor(load_seconds: float,
                            step_seconds: float,
                            max_factor: int = 8) -> int:
    """The smallest replay factor at which loading a batch takes no longer
    than the model steps that use it: ``ceil(load / step)``, within
    ``[1, max_factor]``.

    Example:
        >>> balancing_replay_factor(0.30, 0.10), balancing_replay_factor(
        ...     0.05, 0.10)
        (3, 1)
    """
    if step_seconds <= 0:
        raise ValueError(f'step time must be positive, got {step_seconds}')
    return max(1, min(max_factor, math.ceil(load_seconds / step_seconds -
                                            1e-9)))
