"""The clock of every ET++ run: compute counted in samples x pixels.

The arithmetic is :mod:`etpp_mm.curriculum.batching` (schedule, LR rule)
and :mod:`etpp_mm.curriculum.eta`; the stage-carrying loader is
:mod:`etpp_mm.data.stage_batch`. This module rebuilds the train loader,
sets the loop's length from the plan, moves the recipe's schedules along
compute (:class:`~.recipe_schedules.RecipeSchedules`), scales the LR per
stage for a larger batch, and keeps the position in checkpoints.
"""
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from mmengine.optim import OptimWrapperDict

from etpp_mm.curriculum import (CurriculumPlan, RunEta, SampleSchedule,
                                stage_batch_scales, stage_lr_factors,
                                stage_settings)
from etpp_mm.curriculum.batching import AUTO_MIN_STEPS_PER_EPOCH
from etpp_mm.attach import quiet
from etpp_mm.data import StageHolder, stage_loader
from .recipe_schedules import RecipeSchedules


def _wrappers(optim_wrapper: Any) -> List[Any]:
    if isinstance(optim_wrapper, OptimWrapperDict):
        return list(optim_wrapper.values())
    return [optim_wrapper]


def accumulative_counts(optim_wrapper: Any) -> int:
    """Iterations per optimizer step of a runner's optim wrapper(s)
    (``optim_wrapper.accumulative_counts``); several wrappers must agree."""
    counts = {
        getattr(w, '_accumulative_counts', 1)
        for w in _wrappers(optim_wrapper)
    }
    if len(counts) > 1:
        raise ValueError(
            'the optim wrappers accumulate gradients over different numbers '
            f'of iterations ({sorted(counts)}): EfficientTrainHook plans '
            'whole optimizer steps, so give every wrapper the same '
            'accumulative_counts')
    return counts.pop()


class SampleClock:
    """Stage, batch, LR and compute of every iteration of an ET++ run (a
    :class:`~.clock.Clock`):
    the ``batch_scale``, ``lr_scaling`` and ``warmup`` arguments of
    ``EfficientTrainHook``.

    Compute is counted per batch as samples x (stage pixels / full pixels)
    and kept in equivalent full-size epochs (one pass of a process over its
    share of the data at full size is one). Stages end where their share
    of the budget ends, mid-epoch if need be; each batch carries its stage
    to the workers; the loop's length follows from the plan.

    ``batch_scale`` is the batch of each stage as a multiple of the
    recipe's: ``None`` (1 everywhere, the recipe's batch), an int, one per
    stage, a dict ``{size: multiple}`` keyed by the plan's sizes in pixels
    of the recipe, like ``replay.factors`` (``{96: 4, 160: 2}`` for the 224
    presets, 1 for sizes not listed), or ``'auto'``: the largest multiple
    whose pixels per batch do not exceed the full-size batch's, capped so
    that an epoch keeps at least
    :data:`~etpp_mm.curriculum.batching.AUTO_MIN_STEPS_PER_EPOCH` optimizer
    steps (logged where the cap binds).

    ``lr_scaling`` is the rule of a stage's LR multiplier for a ``k`` times
    larger batch: ``'linear'`` (k), ``'sqrt'`` (k ** 0.5), ``'none'``;
    ``'auto'`` takes sqrt for Adam-like optimizers (Adam, AdamW, LAMB,
    Adafactor...) and linear for SGD-like ones (SGD, LARS, RMSprop). The
    multiplier applies on top of the recipe's scheduled LR (warm-up
    included, after MMEngine's ``auto_scale_lr``), to each param group,
    and is undone before the schedules move; momentum and weight decay are
    kept. The logged LR is the one used.

    Gradient accumulation (``optim_wrapper.accumulative_counts = n``) is
    planned in optimizer steps of ``n`` iterations, each in one stage; the
    schedules move once per step, at its first iteration, and the LR rule
    applies to the effective batch (``n`` x batch x multiple against the
    recipe's ``n`` x batch: the same multiple).

    Resume: checkpoints keep the compute spent (equivalent full-size
    epochs), the recipe-schedule position and the LR multiplier in force;
    a resumed run continues the compute curve with another number of
    processes, batch size or dataset size. With data replay, stages change
    at epoch ends (its buffers hold one size).

    Args:
        plan (CurriculumPlan): an ``'etpp'`` plan.
        batch_scale: see above. Defaults to ``None``.
        lr_scaling (str): see above. Defaults to ``'auto'``.
        warmup (str): ``'recipe'`` or ``'official'``: see
            :mod:`etpp_mm.curriculum.warmup`.
        preset (str, optional): the hook's preset (its official warm-up).
        log (callable): called with each message.
        accumulate (int): iterations per optimizer step
            (``optim_wrapper.accumulative_counts``, see
            :func:`accumulative_counts`). Defaults to 1.
    """

    def __init__(self,
                 plan: CurriculumPlan,
                 batch_scale: Any = None,
                 lr_scaling: str = 'auto',
                 warmup: str = 'recipe',
                 preset: Optional[str] = None,
                 log: Callable[[str], Any] = quiet,
                 accumulate: int = 1):
        self.plan = plan
        self.accumulate = accumulate
        self.batch_scale = 1 if batch_scale is None else batch_scale
        self.lr_scaling = lr_scaling
        self.warmup = warmup
        self.preset = preset
        self.log = log
        self.stage_index = StageHolder(0)  # set per sample, per process
        self.done = 0.0  # equivalent full-size epochs
        self.batches: List[Tuple[int, int]] = []
        self.schedules: Optional[RecipeSchedules] = None
        self._epochs: Dict[int, List] = {}
        self._groups: List = []
        self._applied: List[float] = []

    def install(self, loader: Any, param_schedulers: Any,
                align_to_epochs: bool) -> Any:
        """Move the recipe's ``param_schedulers`` onto compute and return
        the train loader rebuilt around a stage batch sampler (to be
        wrapped by replay, if any, after this)."""
        plan = self.plan
        # the recipe's own iterations per epoch, before the loader swap
        self.schedules = RecipeSchedules(plan, len(loader), self.warmup,
                                         self.preset, self.log)
        self.schedules.wrap(param_schedulers)
        self.scales = self._stage_scales(len(loader))
        self.align_to_epochs = align_to_epochs
        self.samples = len(loader.sampler)
        self.batch = loader.batch_size
        self.drop_last = loader.drop_last
        loader = stage_loader(loader, self.stage_index)
        self.sampler = loader.batch_sampler
        return loader

    def _stage_scales(self, recipe_iters: int) -> List[int]:
        sizes = [s.size for s in self.plan.stages]
        steps = -(-recipe_iters // self.accumulate)
        scales = stage_batch_scales(self.batch_scale, sizes,
                                    self.plan.full_size, steps)
        if self.batch_scale == 'auto':
            by_pixels = stage_batch_scales('auto', sizes, self.plan.full_size)
            capped = sorted({(size, p, s)
                             for size, p, s in zip(sizes, by_pixels, scales)
                             if s < p})
            if capped:
                self.log(
                    "batch_scale='auto': " + ', '.join(
                        f'x{s} (not x{p}) at {h}x{w}'
                        for (h, w), p, s in capped) +
                    f', so that an epoch keeps at least '
                    f'{AUTO_MIN_STEPS_PER_EPOCH} optimizer steps (the '
                    f'recipe has {steps}); set batch_scale to a dict '
                    '{size: multiple} to choose others')
        return scales

    def start(self, runner: Any, loaded: Optional[dict] = None) -> None:
        """Take up the saved position (if resumed), set the loop's length,
        the LR rule and MMEngine's accumulation count, and log the
        stages."""
        self.schedule = SampleSchedule(self.plan, self.scales,
                                       self.align_to_epochs, self.accumulate)
        self._groups = [(w.param_groups,
                         stage_lr_factors(self.scales,
                                          type(w.optimizer).__name__,
                                          self.lr_scaling))
                        for w in _wrappers(runner.optim_wrapper)]
        self._applied = [1.0] * len(self._groups)
        if runner.iter > 0:
            self._resume(loaded)
        epochs = self.schedule.run(self.done, self.samples, self.batch,
                                   self.drop_last)
        self._epochs = {runner.epoch + i: e for i, e in enumerate(epochs)}
        loop = runner.train_loop
        loop._max_epochs = runner.epoch + len(epochs)
        loop._max_iters = runner.iter + sum(len(e) for e in epochs)
        # MMEngine sized its accumulation window before this loop length
        # was known (the last, partial window scales its loss from it)
        runner.optim_wrapper.initialize_count_status(runner.model,
                                                     runner.iter,
                                                     loop._max_iters)
        left = [0] * len(self.scales)
        for batches in epochs:
            for stage, count in batches:
                left[stage] += count
        self.eta = RunEta([s.size for s in self.plan.stages], left)
        self.log(self._describe(runner, len(epochs), left))

    def _resume(self, loaded: Optional[dict]) -> None:
        if loaded and 'done' in loaded:
            self.done = loaded['done']
            self._applied = list(loaded['lr_factors'])
            self.schedules.recipe_step = loaded['recipe_step']
            self.schedules.iters_per_epoch = loaded['recipe_iters_per_epoch']
        else:
            raise ValueError(
                'the checkpoint being resumed holds no samples-counted '
                'curriculum position (it was not trained with this version '
                'of EfficientTrainHook): start a new work_dir, or load its '
                'weights with load_from instead of resume')

    def _describe(self, runner: Any, epochs: int, left: List[int]) -> str:
        rows = []
        for i, stage in enumerate(self.plan.stages):
            factors = '/'.join(f'{f[i]:g}' for _, f in self._groups)
            rows.append(f'  stage {i + 1}: size {stage.size[0]}x'
                        f'{stage.size[1]}, batch {self.batch} x '
                        f'{self.scales[i]} per process, LR x {factors}, '
                        f'{left[i]} samples per process to go')
        steps = (f', {self.accumulate} iterations per optimizer step'
                 if self.accumulate > 1 else '')
        loop = runner.train_loop
        return (
            f'samples-counted curriculum: {loop.max_iters - runner.iter} '
            f'iterations in {epochs} epochs from compute '
            f'{self.schedule.fraction(self.done):.1%}{steps}; stages end at '
            f'{[round(b, 3) for b in self.schedule.bounds]} equivalent '
            'epochs, mid-epoch if need be\n' + '\n'.join(rows))

    def first_epoch_of(self, stages: List[int]) -> int:
        """The first (0-based) epoch from now on that trains a batch of one
        of ``stages``; the last epoch if none does."""
        for epoch in sorted(self._epochs):
            if any(stage in stages for stage, _ in self._epochs[epoch]):
                return epoch
        return max(self._epochs, default=0)

    def begin_epoch(self, epoch: int) -> int:
        """Hand the epoch's batches to the sampler; returns the first
        batch's stage."""
        self.batches = self._epochs.get(epoch, [])
        self.sampler.set_batches(self.batches)
        self.eta.start(time.perf_counter())
        return self.batches[0][0] if self.batches else len(self.scales) - 1

    def begin_iter(self, runner: Any, batch_idx: int) -> Tuple[int, dict]:
        """At an optimizer step's first iteration, move the schedules to
        its compute and scale the LR for its stage; returns the stage and
        the scalars to log."""
        stage = self.batches[batch_idx][0]
        if batch_idx % self.accumulate == 0:
            for (groups, _), applied in zip(self._groups, self._applied):
                for group in groups:  # back to the recipe's scheduled LR
                    group['lr'] /= applied
            self.schedules.move_to(self.schedule.fraction(self.done))
            self._applied = []
            for groups, factors in self._groups:
                for group in groups:
                    group['lr'] *= factors[stage]
                self._applied.append(factors[stage])
        scalars = dict(
            compute=self.schedule.fraction(self.done),
            batch=self.batch * self.scales[stage])
        eta = self.eta.remaining_seconds()
        if eta is not None:
            scalars['eta_seconds'] = eta
        return stage, scalars

    def end_iter(self, batch_idx: int) -> None:
        stage, count = self.batches[batch_idx]
        self.done += count * self.schedule.costs[stage] / self.samples
        line = self.eta.observe(stage, count, time.perf_counter())
        if line is not None:
            self.log(line)

    def remaining_seconds(self) -> Optional[float]:
        """Predicted seconds of training left (validation excluded)."""
        return self.eta.remaining_seconds()

    def stage_line(self, stage: int, epoch: int, iteration: int,
                   replay: Any = 1) -> str:
        """The log line of a stage change."""
        size = self.plan.stages[stage].size
        factors = '/'.join(f'{f[stage]:g}' for _, f in self._groups)
        settings = stage_settings(self.plan, stage, replay, [
            f'batch {self.batch} x {self.scales[stage]}', f'LR x {factors}'
        ])
        return (f'curriculum stage {stage + 1}/{len(self.plan.stages)} from '
                f'epoch {epoch + 1}, iteration {iteration + 1}: size '
                f'{size[0]}x{size[1]}' + ''.join(f', {s}' for s in settings) +
                f' (compute {self.schedule.fraction(self.done):.1%} done)')

    def compute_done(self) -> float:
        """Equivalent full-size epochs spent."""
        return self.done

    def planned(self) -> float:
        """Equivalent full-size epochs of the plan."""
        return self.schedule.total

    def state_dict(self) -> dict:
        return dict(
            done=self.done,
            lr_factors=list(self._applied),
            recipe_step=self.schedules.recipe_step,
            recipe_iters_per_epoch=self.schedules.iters_per_epoch)
