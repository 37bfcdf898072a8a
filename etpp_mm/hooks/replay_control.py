"""Replay control: the ``replay`` argument of ``EfficientTrainHook`` applied
to a train loader, stage by stage.

The replay itself (FIFO, loader wrapper, factors) is
:mod:`etpp_mm.data.replay`; this module checks the argument, wraps the
loader, refuses buffers the machine cannot hold and sets each stage's
factor.
"""
import os
from typing import Any, Callable, List, Optional, Sequence, Union

from etpp_mm.data import (AUTO, MIX, WHOLE, ReplayLoader,
                          replay_buffer_bytes, replay_factors, sample_nbytes,
                          to_compact)
from etpp_mm.attach import quiet
from etpp_mm.attach.options import check_replay_cfg

KEY = 'EfficientTrainHook.replay'


class ReplayControl:
    """Replay of loaded batches with one factor per curriculum stage.

    Args:
        replay (dict): the hook's ``replay`` argument:
            ``dict(factors=..., buffer_samples=N, mode='whole',
            max_memory_fraction=0.5, max_factor=4, auto_iters=8)``.
            ``factors``: uses of each loaded batch, an int or ``'auto'``,
            one per stage, or ``{size: factor}`` (e.g. ``{96: 4, 160:
            'auto'}``, 1 elsewhere; sizes the plan lacks are refused).
            ``'auto'`` measures the stage's first ``auto_iters`` iterations
            without replay and then uses the smallest factor at which the
            model steps hide the loading (at most ``max_factor``), logging
            both rates. Replayed samples are drawn from a FIFO of the last
            ``buffer_samples`` loaded samples, per process: with ``mode``
            ``'whole'`` each loaded batch is followed by ``factor - 1``
            drawn batches; with ``'mix'`` each of its ``factor`` iterations
            trains one ``1/factor`` fresh chunk of it and drawn samples for
            the rest of the batch. Training is refused if the
            buffers of this machine's processes would need more than
            ``max_memory_fraction`` of its memory. Counters and automatic
            choices go into checkpoints.
        stage_sizes (list[tuple[int, int]]): the size of each stage.
        log (callable): called with each message (e.g.
            ``runner.logger.info`` or ``print``). Defaults to dropping them.

    Example:
        >>> from torch.utils.data import DataLoader
        >>> control = ReplayControl(dict(factors={8: 2}, buffer_samples=4),
        ...                         [(8, 8), (16, 16)])
        >>> loader = control.wrap(DataLoader(list(range(8)), batch_size=2))
        >>> control.factors, control.enter_stage(0, epoch=0), len(list(loader))
        ([2, 1], True, 4)
        >>> loader.loaded_batches, control.summary()
        (2, 'replay: 2 batches loaded, 2 replayed')
    """

    def __init__(self,
                 replay: dict,
                 stage_sizes: Sequence[Any],
                 log: Callable[[str], Any] = quiet):
        check_replay_cfg(replay)
        try:
            self.factors: List[Union[int, str]] = replay_factors(
                replay.get('factors', 1), stage_sizes)
        except ValueError as error:
            raise ValueError(f'{KEY}.factors: {error}')
        self.sizes = [tuple(s) for s in stage_sizes]
        self.buffer_samples = replay['buffer_samples']
        self.mode = replay.get('mode', WHOLE)
        self.max_memory_fraction = replay.get('max_memory_fraction', 0.5)
        self.max_factor = replay.get('max_factor', 4)
        self.auto_iters = replay.get('auto_iters', 8)
        self.log = log
        self.loader: Optional[ReplayLoader] = None
        self._stage: Optional[int] = None

    def wrap(self, loader: Any, seed: Optional[int] = 0) -> ReplayLoader:
        """The train loader wrapped for replay (once); the training loop
        must iterate the returned loader. ``seed`` None is 0."""
        if not isinstance(loader, ReplayLoader):
            loader = ReplayLoader(
                loader,
                capacity=self.buffer_samples,
                seed=seed or 0,
                max_factor=self.max_factor,
                auto_iters=self.auto_iters,
                log=self._log_choice,
                mode=self.mode)
        self.loader = loader
        auto = (f"; 'auto' measures a stage's first {self.auto_iters} "
                'iterations without replay, then balances loader and model '
                f'(at most x{self.max_factor})' if AUTO in self.factors
                else '')
        how = ('each iteration mixing a fresh chunk of it with samples '
               'drawn' if self.mode == MIX else 'replayed batches drawn')
        self.log(f'replay ({self.mode}): each loaded batch is used '
                 f'{self.factors} times per stage, {how} from the last '
                 f'{self.buffer_samples} loaded samples{auto}')
        return loader

    def _log_choice(self, message: str) -> None:
        self.log(f'{self._name(self._stage)}: {message}')

    def _name(self, index: int) -> str:
        h, w = self.sizes[index]
        return f'stage {index + 1} ({h}x{w})'

    def stage_factor(self, index: int) -> Union[int, str]:
        """Stage ``index``'s factor: the configured int, the factor chosen
        for an ``'auto'`` stage, or ``'auto'`` before the choice."""
        factor = self.factors[index]
        if factor == AUTO and self.loader is not None:
            return self.loader.decided.get(index, AUTO)
        return factor

    def check_memory(self,
                     make_sample: Callable[[int], Any],
                     processes: Optional[int] = None,
                     memory_bytes: Optional[int] = None) -> None:
        """Refuse buffers this machine cannot hold, naming the bytes. Stages
        whose factor is ``'auto'`` count: they may replay.

        Args:
            make_sample (callable): ``make_sample(stage_index)`` returns one
                train sample of that stage.
            processes (int, optional): training processes on this machine.
                Defaults to ``$LOCAL_WORLD_SIZE`` (1 if unset).
            memory_bytes (int, optional): the machine's memory. Defaults to
                its physical memory.
        """
        replaying = [i for i, f in enumerate(self.factors) if f != 1]
        if not replaying:
            return
        per_sample = max(
            sample_nbytes(to_compact(make_sample(i))) for i in replaying)
        if processes is None:
            processes = int(os.environ.get('LOCAL_WORLD_SIZE', 1))
        if memory_bytes is None:
            memory_bytes = os.sysconf('SC_PAGE_SIZE') * os.sysconf(
                'SC_PHYS_PAGES')
        needed = replay_buffer_bytes(self.buffer_samples, per_sample,
                                     processes)
        fraction = self.max_memory_fraction
        limit = fraction * memory_bytes
        text = (f'replay buffers need {needed / 2**20:.1f} MiB on this '
                f'machine ({self.buffer_samples} samples x {per_sample} '
                f'bytes x {processes} process(es))')
        if needed > limit:
            raise ValueError(
                f'{text}, over {fraction:g} of its memory ('
                f'{limit / 2**20:.0f} MiB): lower {KEY}.buffer_samples or '
                'raise max_memory_fraction')
        self.log(text)

    def enter_stage(self, index: int, epoch: int, rank: int = 0) -> bool:
        """Set stage ``index``'s factor before an epoch; the buffer is
        emptied at a stage change (one size per batch). Returns whether the
        stage changed."""
        changed = index != self._stage
        self._stage = index
        self.loader.start_stage(index, self.factors[index])
        self.loader.set_epoch(epoch, rank)
        return changed

    def state_dict(self) -> dict:
        """Counters and the factors chosen for ``'auto'`` stages."""
        return self.loader.state_dict()

    def load_state_dict(self, state: Optional[dict]) -> None:
        """Restore :meth:`state_dict` (on resume, before the first
        epoch): an ``'auto'`` stage already decided is not measured
        again. ``None`` (a checkpoint saved without replay) keeps the
        counters at zero."""
        if state is None:
            return
        self.loader.load_state_dict(state)
        if self.loader.decided:
            self.log('replay: resumed with the chosen factors ' +
                     self._chosen())

    def _chosen(self) -> str:
        return ', '.join(f'{self._name(i)} x{f}'
                         for i, f in sorted(self.loader.decided.items()))

    def summary(self) -> str:
        """Loaded and replayed batches (iterations mixed, in mode
        ``'mix'``) so far, and the automatic choices."""
        loader = self.loader
        if self.mode == MIX:
            text = (f'replay (mix): {loader.loaded_batches} batches loaded, '
                    f'{loader.replayed_batches} iterations mixed in '
                    f'{loader.replayed_samples} replayed samples')
        else:
            text = (f'replay: {loader.loaded_batches} batches loaded, '
                    f'{loader.replayed_batches} replayed')
        if self.loader.decided:
            text += f" ('auto' chose {self._chosen()})"
        return text
