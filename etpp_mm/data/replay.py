"""Data replay for loader-bound stages (EfficientTrain++, systems part).

At low resolution the model step is cheap and the data loader (decoding,
augmentation) becomes the bottleneck: ET++ at budget 200 makes ~454 passes
over the data in 2/3 of the baseline's time. Replay reuses each loaded batch:
with factor ``r``, every freshly loaded batch is followed by ``r - 1``
batches drawn uniformly from a FIFO of recently loaded *samples* (the fresh
ones included), so only ``1/r`` of the iterations wait for the loader.

The wrapped loader runs unchanged: its workers collate batches (one
shared-memory transfer per batch field rather than one per sample). The
FIFO (:class:`ReplayBuffer`) copies each loaded batch's samples into storage
it owns and assembles replayed batches by drawing slots from it, every field
of a sample from the same slot, so images, labels and every other field stay
together whatever the pipeline produces (one view or several). The data
preprocessor's batch augmentations (Mixup, CutMix) run on the replayed batch
afterwards, giving replayed samples new partners.

The number of iterations per epoch does not change (an epoch loads ``1/r``
of the data and replays the rest), so an iteration-based clock, compute
accounting and parameter schedules are unaffected. Pure PyTorch; the hook
adapts it to MMEngine.
"""
import math
import time
from typing import Any, Callable, Dict, Iterator, Optional, Union

import torch

from .replay_factor import (AUTO, AutoReplayFactor, balancing_replay_factor,
                            replay_factors)
from .replay_fifo import ReplayBuffer, stacks_tensors

__all__ = [
    'AUTO', 'AutoReplayFactor', 'ReplayBuffer', 'ReplayLoader',
    'balancing_replay_factor', 'replay_buffer_bytes', 'replay_factors',
    'sample_nbytes', 'to_compact'
]


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
    images, e.g. MMPretrain's uint8 ``inputs``, are already smaller): what
    the FIFO stores of it, for sizing with :func:`sample_nbytes`."""
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


class ReplayLoader:
    """Wraps a ``torch.utils.data.DataLoader``; yields ``len(loader)``
    batches per epoch, of which only ``ceil(len / factor)`` are loaded.

    The loader is used as it is (its ``collate_fn`` runs in its workers).
    Any attribute not defined here (``sampler``, ``dataset``,
    ``batch_size``...) is the loader's, so the wrapper can stand in for it
    in a training loop.

    Args:
        loader: the DataLoader to wrap.
        capacity (int): samples held by the FIFO.
        factor (int | str): uses of each loaded batch; 1 turns replay off
            (nothing is stored); ``'auto'`` measures the first
            ``auto_iters`` iterations of the stage without replay and then
            uses :class:`AutoReplayFactor`'s choice.
        seed (int): seed of the draws; :meth:`set_epoch` reseeds per epoch
            so a resumed run draws what the uninterrupted one would have
            drawn from the same buffer.
        max_factor (int): the largest factor ``'auto'`` chooses.
        auto_iters (int): iterations measured before ``'auto'`` chooses.
        log (callable, optional): receives the line explaining each
            automatic choice.

    Example:
        >>> import torch
        >>> from torch.utils.data import DataLoader
        >>> loader = DataLoader(torch.arange(8), batch_size=2)
        >>> replay = ReplayLoader(loader, capacity=4, factor=2)
        >>> batches = list(replay)
        >>> len(batches), replay.loaded_batches  # 4 steps, 2 loads
        (4, 2)
        >>> batches[0].tolist(), batches[2].tolist()  # the fresh ones
        ([0, 1], [2, 3])
        >>> set(batches[3].tolist()) <= {0, 1, 2, 3}  # drawn from the FIFO
        True
    """

    def __init__(self,
                 loader: Any,
                 capacity: int,
                 factor: Union[int, str] = 1,
                 seed: int = 0,
                 max_factor: int = 4,
                 auto_iters: int = 8,
                 log: Optional[Callable[[str], None]] = None):
        self.loader = loader
        self.buffer = ReplayBuffer(
            capacity, seed, stacked=stacks_tensors(loader.collate_fn))
        self.seed = seed
        self.max_factor = max_factor
        self.auto_iters = auto_iters
        self.log = log
        self.loaded_batches = 0
        self.replayed_batches = 0
        self.decided: Dict[Any, int] = {}
        self.stage: Any = None
        self._auto: Optional[AutoReplayFactor] = None
        AutoReplayFactor(max_factor, auto_iters)  # checks both
        self.factor = factor

    @property
    def factor(self) -> int:
        """The factor in use (1 while ``'auto'`` measures)."""
        return self._factor

    @factor.setter
    def factor(self, value: Union[int, str]) -> None:
        if value == AUTO and self._auto is not None:
            return  # still measuring this stage
        self._auto = None
        if value == AUTO:
            if self.stage in self.decided:
                value = self.decided[self.stage]
            else:
                self._auto = AutoReplayFactor(
                    self.max_factor, self.auto_iters,
                    getattr(self.loader, 'num_workers', 0))
                value = 1
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f'replay factor must be a positive int or '
                             f"'{AUTO}', got {value!r}")
        self._factor = value

    @property
    def collate_fn(self) -> Callable:
        """The loader's own collate function (what a batch is made with)."""
        return self.loader.collate_fn

    def start_stage(self, key: Any, factor: Union[int, str]) -> None:
        """Enter the stage ``key`` (any hashable, e.g. its index) with
        ``factor``: a new key empties the FIFO (one size per batch); an
        ``'auto'`` stage already decided (before a resume) keeps its
        factor."""
        if key != self.stage:
            self.reset()
            self.stage = key
            self._auto = None
        self.factor = factor

    def reset(self) -> None:
        """Empty the FIFO (at a size change: samples of two sizes cannot
        share a batch; and to free memory where replay is off)."""
        self.buffer.clear()

    def set_epoch(self, epoch: int, rank: int = 0) -> None:
        self.buffer.reseed(self.seed * 1_000_003 + epoch * 1009 + rank)

    def state_dict(self) -> dict:
        """Counters and automatic choices, for checkpoints."""
        return dict(
            loaded_batches=self.loaded_batches,
            replayed_batches=self.replayed_batches,
            decided=dict(self.decided))

    def load_state_dict(self, state: dict) -> None:
        self.loaded_batches = state['loaded_batches']
        self.replayed_batches = state['replayed_batches']
        self.decided = dict(state['decided'])
        if self._auto is not None and self.stage in self.decided:
            self._auto = None
            self.factor = AUTO

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
        batches = iter(self.loader)
        while produced < total:
            start = time.perf_counter()
            try:
                batch = next(batches)
            except StopIteration:
                return
            if self._auto is not None:
                self._auto.observe(
                    wait=time.perf_counter() - start, factor=self.factor)
            size = None
            if self.factor > 1 or self._auto is not None:
                size = self.buffer.extend(batch)
            self.loaded_batches += 1
            yield from self._timed(batch)
            produced += 1
            for _ in range(self.factor - 1):
                if produced >= total:
                    break
                self.replayed_batches += 1
                yield from self._timed(self.buffer.draw(size))
                produced += 1

    def _timed(self, batch: Any) -> Iterator[Any]:
        start = time.perf_counter()
        yield batch
        if self._auto is None:
            return
        self._auto.observe(step=time.perf_counter() - start)
        if self._auto.ready:
            factor, message = self._auto.decide()
            self.decided[self.stage] = self._factor = factor
            self._auto = None
            if self.log is not None:
                self.log(message)

    def fresh_batches_per_epoch(self, factor: Optional[int] = None) -> int:
        return math.ceil(len(self.loader) / (factor or self.factor))
