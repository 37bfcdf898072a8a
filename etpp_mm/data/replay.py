"""Data replay for loader-bound stages (EfficientTrain++, systems part).

At low resolution the model step is cheap and the data loader (decoding,
augmentation) becomes the bottleneck: ET++ at budget 200 makes ~454 passes
over the data in 2/3 of the baseline's time. Replay reuses loaded samples,
so that with factor ``r`` each loaded batch feeds ``r`` iterations and only
``1/r`` of the iterations wait for the loader. Two modes:

* ``'whole'``: every freshly loaded batch is trained on as it is, then
  followed by ``r - 1`` batches drawn uniformly from a FIFO of recently
  loaded *samples* (the fresh ones included).
* ``'mix'`` (the authors' replay buffer): every iteration mixes fresh and
  replayed samples. A loaded batch of ``B`` samples is split into ``r``
  fresh chunks of ``B // r`` or ``ceil(B / r)`` samples (an even split, so
  each loaded sample is trained on fresh exactly once); each of its ``r``
  iterations trains one chunk, which joins the FIFO first (as the authors'
  buffer takes each fresh batch before drawing), followed by the other
  ``B - chunk`` samples drawn uniformly from the FIFO.

Why mix mode splits loaded batches instead of loading batches of ``B / r``:
the loader then runs exactly as in ``'whole'`` mode. The stage batch
sampler (:mod:`.stage_batch`) still hands it the stage's batches of ``B``,
batch ``i`` of its epoch plan being the clock's iteration ``i``; an epoch
keeps ``len(loader)`` iterations and loads the first ``ceil(len / r)`` of
them; every iteration trains the stage's batch size, the ``B`` samples the
compute clock counts for it. Batches of ``B / r`` would need an epoch plan
of ``r`` times as many sampler batches, a second plan for the clock, and
the per-batch costs of the loader (collation, worker transfers) ``r`` times
over.

The wrapped loader runs unchanged: its workers collate batches (one
shared-memory transfer per batch field rather than one per sample). The
FIFO (:class:`ReplayBuffer`) copies loaded samples into storage it owns and
assembles replayed samples by drawing slots from it, every field of a
sample from the same slot, so images, labels and every other field stay
together whatever the pipeline produces (one view or several). The data
preprocessor's batch augmentations (Mixup, CutMix) run on the assembled
batch afterwards, giving replayed samples new partners.

The number of iterations per epoch does not change (an epoch loads ``1/r``
of the data and replays the rest), so an iteration-based clock, compute
accounting and parameter schedules are unaffected. Pure PyTorch; the hook
adapts it to MMEngine.
"""
import math
import time
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple, Union

import torch

from .replay_factor import (AUTO, AutoReplayFactor, balancing_replay_factor,
                            replay_factors)
from .replay_fifo import ReplayBuffer, stacks_tensors

__all__ = [
    'AUTO', 'AutoReplayFactor', 'MIX', 'REPLAY_MODES', 'ReplayBuffer',
    'ReplayLoader', 'WHOLE', 'balancing_replay_factor', 'fresh_chunks',
    'replay_buffer_bytes', 'replay_factors', 'sample_nbytes', 'to_compact'
]

WHOLE, MIX = 'whole', 'mix'
REPLAY_MODES = (WHOLE, MIX)
_DONE = object()  # the end of one loaded batch's iterations


def fresh_chunks(size: int, factor: int) -> List[Tuple[int, int]]:
    """``(start, stop)`` of the fresh samples of each of the ``factor``
    iterations that use one loaded batch of ``size`` samples in mode
    ``'mix'``: an even split (sizes differ by at most one, the larger
    first), so every loaded sample is trained on fresh exactly once.

    Example:
        >>> fresh_chunks(10, 4)  # 3, 3, 2 and 2 fresh samples
        [(0, 3), (3, 6), (6, 8), (8, 10)]
        >>> fresh_chunks(8, 1)
        [(0, 8)]
    """
    base, extra = divmod(size, factor)
    bounds = [0]
    for index in range(factor):
        bounds.append(bounds[-1] + base + (index < extra))
    return list(zip(bounds[:-1], bounds[1:]))


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
    batches per epoch, of which only ``ceil(len / factor)`` are loaded:
    whole (mode ``'whole'``) or in fresh chunks mixed with replayed samples
    (mode ``'mix'``).

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
        mode (str): ``'whole'`` (default): a loaded batch, then
            ``factor - 1`` batches drawn from the FIFO; ``'mix'``: each of
            the ``factor`` iterations of a loaded batch trains one fresh
            chunk of it and samples drawn from the FIFO (see
            :func:`fresh_chunks`). Read at every loaded batch. An ``'auto'``
            factor applies, in mode ``'mix'``, from the loaded batch after
            its choice (the measured one is already trained on whole).

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
        >>> mixing = ReplayLoader(DataLoader(torch.arange(16), batch_size=4),
        ...                       capacity=8, factor=2, mode='mix')
        >>> steps = list(mixing)  # each: 2 fresh, then 2 replayed
        >>> [len(b) for b in steps], [b[:2].tolist() for b in steps]
        ([4, 4, 4, 4], [[0, 1], [2, 3], [4, 5], [6, 7]])
        >>> mixing.loaded_batches, mixing.replayed_samples
        (2, 8)
    """

    def __init__(self,
                 loader: Any,
                 capacity: int,
                 factor: Union[int, str] = 1,
                 seed: int = 0,
                 max_factor: int = 4,
                 auto_iters: int = 8,
                 log: Optional[Callable[[str], None]] = None,
                 mode: str = WHOLE):
        self.loader = loader
        self.mode = mode
        self.buffer = ReplayBuffer(
            capacity, seed, stacked=stacks_tensors(loader.collate_fn))
        self.seed = seed
        self.max_factor = max_factor
        self.auto_iters = auto_iters
        self.log = log
        self.loaded_batches = 0
        self.replayed_batches = 0
        self.replayed_samples = 0
        self.decided: Dict[Any, int] = {}
        self.stage: Any = None
        self._auto: Optional[AutoReplayFactor] = None
        AutoReplayFactor(max_factor, auto_iters)  # checks both
        self.factor = factor

    @property
    def mode(self) -> str:
        """``'whole'`` or ``'mix'``."""
        return self._mode

    @mode.setter
    def mode(self, value: str) -> None:
        if value not in REPLAY_MODES:
            raise ValueError(f'replay mode must be one of '
                             f'{list(REPLAY_MODES)}, got {value!r}')
        self._mode = value

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
        """Counters and automatic choices, for checkpoints:
        ``replayed_batches`` counts the drawn batches in mode ``'whole'``,
        the iterations that mixed in drawn samples in mode ``'mix'``;
        ``replayed_samples`` the drawn samples in both."""
        return dict(
            loaded_batches=self.loaded_batches,
            replayed_batches=self.replayed_batches,
            replayed_samples=self.replayed_samples,
            decided=dict(self.decided))

    def load_state_dict(self, state: dict) -> None:
        self.loaded_batches = state['loaded_batches']
        self.replayed_batches = state['replayed_batches']
        # absent from checkpoints saved before the count existed
        self.replayed_samples = state.get('replayed_samples', 0)
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
            self.loaded_batches += 1
            steps = self._steps(batch)
            # the epoch may end within a loaded batch's iterations: draw
            # (and count) only those that are trained
            while produced < total:
                step = next(steps, _DONE)
                if step is _DONE:
                    break
                yield from self._timed(step)
                produced += 1

    def _steps(self, batch: Any) -> Iterator[Any]:
        """The iterations of one loaded ``batch``, each made when asked
        for."""
        mix, factor = self.mode == MIX, self.factor
        measuring = self._auto is not None
        if mix and factor > 1:
            yield from self._mixed(batch, factor)
            return
        size = None
        if factor > 1 or measuring:
            size = self.buffer.extend(batch)
        yield batch
        if mix:  # trained whole while 'auto' measured: mixing starts next
            return
        if measuring:  # 'auto' may have chosen during the step
            factor = self.factor
        for _ in range(factor - 1):
            self.replayed_batches += 1
            self.replayed_samples += size
            yield self.buffer.draw(size)

    def _mixed(self, batch: Any, factor: int) -> Iterator[Any]:
        size = self.buffer.batch_size(batch)
        for start, stop in fresh_chunks(size, factor):
            if stop > start:
                self.buffer.extend(batch, start, stop)
            drawn = size - (stop - start)
            self.replayed_batches += 1
            self.replayed_samples += drawn
            yield self.buffer.mixed(batch, start, stop, drawn)

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
