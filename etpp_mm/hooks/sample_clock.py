"""Runner glue of ``batch_scale``: early large batch on a clock counted in
samples.

The arithmetic is :mod:`etpp_mm.curriculum.batching` (schedule, LR rule)
and :mod:`etpp_mm.curriculum.eta`; the stage-carrying loader is
:mod:`etpp_mm.data.stage_batch`. This module rebuilds the train loader,
sets the loop's length from the plan, scales the LR per stage on top of the
recipe's schedule, and keeps the position in checkpoints.
"""
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from mmengine.optim import OptimWrapperDict

from etpp_mm.curriculum import (CurriculumPlan, SampleSchedule, StageEta,
                                check_batch_scale, format_seconds, lr_factor,
                                lr_rule_for, stage_batch_scales)
from etpp_mm.data import StageHolder, stage_loader
from .resolver import quiet

ETA_MIN_ITERS = 20


class SampleClock:
    """Stage, batch, LR factor and compute of every iteration: the
    ``batch_scale`` and ``lr_scaling`` arguments of ``EfficientTrainHook``.

    ``batch_scale`` is the batch of each stage as a multiple of the
    recipe's: an int, one per stage, a dict ``{size: multiple}`` keyed by
    the plan's sizes in pixels of the recipe, like ``replay.factors``
    (``{96: 4, 160: 2}`` for the 224 presets, 1 for sizes not listed), or
    ``'auto'``: the largest multiple whose pixels per batch do not exceed
    the full-size batch's. ``'etpp'`` mode only. Compute is then counted
    per batch in samples x (stage pixels / full pixels): stages end where
    their share of the budget ends, mid-epoch if need be, each batch
    carries its stage to the workers, and the loop's length follows.

    ``lr_scaling`` is the rule of a stage's LR multiplier for a ``k`` times
    larger batch: ``'linear'`` (k), ``'sqrt'`` (k ** 0.5), ``'none'``;
    ``'auto'`` takes sqrt for Adam-like optimizers (Adam, AdamW, LAMB,
    Adafactor...) and linear for SGD-like ones (SGD, LARS, RMSprop). The
    multiplier applies on top of the recipe's scheduled LR (warm-up
    included, after MMEngine's ``auto_scale_lr``), to each param group,
    and is undone before the schedules move; momentum and weight decay are
    kept. The logged LR is the one used.

    Resume: checkpoints keep the compute spent (equivalent full-size
    epochs), the recipe-schedule position and the LR multiplier in force;
    a resumed run continues the compute curve with another number of
    processes, batch size or dataset size. With data replay, stages change
    at epoch ends (its buffers hold one size).

    Args:
        batch_scale: see above.
        lr_scaling (str): see above. Defaults to ``'auto'``.
        log (callable): called with each message.
    """

    def __init__(self,
                 batch_scale: Any,
                 lr_scaling: str = 'auto',
                 log: Callable[[str], Any] = quiet):
        check_batch_scale(batch_scale)
        lr_rule_for('SGD', lr_scaling)  # checks the value
        self.batch_scale = batch_scale
        self.lr_scaling = lr_scaling
        self.log = log
        self.holder = StageHolder(0)
        self.done = 0.0  # equivalent full-size epochs
        self.batches: List = []
        self._epochs: Dict[int, List] = {}
        self._groups: List = []
        self._applied: List[float] = []
        self._tick = 0.0
        self._guessed = False

    @classmethod
    def build(cls, batch_scale: Any, lr_scaling: str,
              log: Callable[[str], Any]) -> Optional['SampleClock']:
        """``None`` when ``batch_scale`` is ``None`` (iterations count)."""
        if batch_scale is None:
            return None
        return cls(batch_scale, lr_scaling, log)

    def install(self, loop: Any, plan: CurriculumPlan,
                hook: Any) -> StageHolder:
        """Rebuild the train loader around a stage batch sampler (before
        any wrapper, e.g. replay, wraps it); returns the stage holder the
        pipelines must read."""
        loader = loop.dataloader
        self.plan = plan
        self.hook = hook
        align_to_epochs = hook.replay is not None
        self.scales = stage_batch_scales(self.batch_scale,
                                         [s.size for s in plan.stages],
                                         plan.full_size)
        self.schedule = SampleSchedule(plan, self.scales, align_to_epochs)
        self.samples = len(loader.sampler)
        self.batch = loader.batch_size
        self.drop_last = loader.drop_last
        self.eta = StageEta([s.size for s in plan.stages])
        loop.dataloader = stage_loader(loader, self.holder)
        self.sampler = loop.dataloader.batch_sampler
        return self.holder

    def start(self, runner: Any, loaded: Optional[dict] = None) -> None:
        """Take up the saved position (if resumed), set the loop's length
        and the LR rule, and log the stages."""
        clock = self.clock = self.hook.clock
        wrapper = runner.optim_wrapper
        wrappers = wrapper.values() if isinstance(
            wrapper, OptimWrapperDict) else [wrapper]
        self._groups = []
        for w in wrappers:
            rule = lr_rule_for(type(w.optimizer).__name__, self.lr_scaling)
            self._groups.append(
                (w.param_groups, [lr_factor(s, rule) for s in self.scales]))
        self._applied = [1.0] * len(self._groups)
        if runner.iter > 0 and loaded and 'done' in loaded:
            self.done = loaded['done']
            self._applied = list(loaded['lr_factors'])
            clock.recipe_step = loaded['recipe_step']
            clock.iters_per_epoch = loaded['recipe_iters_per_epoch']
        elif runner.iter > 0:
            raise ValueError(
                'the checkpoint being resumed has no sample-counted position '
                '(it was trained without EfficientTrainHook.batch_scale): '
                'resume without batch_scale or start a new work_dir')
        epochs = self.schedule.run(self.done, self.samples, self.batch,
                                   self.drop_last)
        self._epochs = {runner.epoch + i: e for i, e in enumerate(epochs)}
        loop = runner.train_loop
        loop._max_epochs = runner.epoch + len(epochs)
        loop._max_iters = runner.iter + sum(len(e) for e in epochs)
        self.left = [0] * len(self.scales)
        for batches in epochs:
            for stage, count in batches:
                self.left[stage] += count
        rows = []
        for i, stage in enumerate(self.plan.stages):
            factors = '/'.join(f'{f[i]:g}' for _, f in self._groups)
            rows.append(f'  stage {i + 1}: size {stage.size[0]}x'
                        f'{stage.size[1]}, batch {self.batch} x '
                        f'{self.scales[i]} per process, LR x {factors}, '
                        f'{self.left[i]} samples per process to go')
        self.log(
            f'samples-counted curriculum: {loop.max_iters - runner.iter} '
            f'iterations in {len(epochs)} epochs from compute '
            f'{self.schedule.fraction(self.done):.1%}; stages end at '
            f"{[round(b, 3) for b in self.schedule.bounds]} equivalent "
            'epochs, mid-epoch if need be\n' + '\n'.join(rows))

    def begin_epoch(self, epoch: int) -> int:
        """Hand the epoch's batches to the sampler; returns the first
        batch's stage."""
        self.batches = self._epochs.get(epoch, [])
        self.sampler.set_batches(self.batches)
        self._tick = time.perf_counter()
        return self.batches[0][0] if self.batches else len(self.scales) - 1

    def begin_iter(self, runner: Any, batch_idx: int) -> Tuple[int, dict]:
        """Move the schedules to this batch's compute and scale the LR for
        its stage, logging a stage change; returns the stage and the
        scalars to log."""
        stage = self.batches[batch_idx][0]
        for (groups, _), applied in zip(self._groups, self._applied):
            for group in groups:  # back to the recipe's scheduled LR
                group['lr'] /= applied
        self.clock.move_to(self.schedule.fraction(self.done))
        self._applied = []
        for groups, factors in self._groups:
            for group in groups:
                group['lr'] *= factors[stage]
            self._applied.append(factors[stage])
        if stage != self.hook._current_stage:
            self.hook.apply_stage(stage)  # the device-side crop
            self.log(self.stage_line(stage, runner.epoch, runner.iter))
        scalars = dict(
            compute=self.schedule.fraction(self.done),
            batch=self.batch * self.scales[stage])
        eta = self.remaining_seconds()
        if eta is not None:
            scalars['eta_seconds'] = eta
        return stage, scalars

    def end_iter(self, batch_idx: int) -> None:
        stage, count = self.batches[batch_idx]
        self.done += count * self.schedule.costs[stage] / self.samples
        self.left[stage] -= count
        now = time.perf_counter()
        self.eta.observe(stage, count, now - self._tick)
        self._tick = now
        if not self._guessed and self.eta.measured_stages(ETA_MIN_ITERS):
            self._guessed = True
            self.log('curriculum ETA: predicted total '
                     f'{format_seconds(self.remaining_seconds())} to go '
                     '(a pixel-proportional guess for the sizes not run '
                     'yet; validation not included)')

    def remaining_seconds(self) -> Optional[float]:
        """Predicted seconds of training left (validation excluded)."""
        return self.eta.remaining(self.left)

    def stage_line(self, stage: int, epoch: int, iteration: int) -> str:
        size = self.plan.stages[stage].size
        factors = '/'.join(f'{f[stage]:g}' for _, f in self._groups)
        return (f'curriculum stage {stage + 1}/{len(self.plan.stages)} from '
                f'epoch {epoch + 1}, iteration {iteration + 1}: size '
                f'{size[0]}x{size[1]}, batch {self.batch} x '
                f'{self.scales[stage]}, LR x {factors} (compute '
                f'{self.schedule.fraction(self.done):.1%} done)')

    def compute_done(self, iteration: int) -> float:
        """Equivalent full-size epochs spent (``iteration`` is unused)."""
        return self.done

    def state_dict(self) -> dict:
        return dict(
            done=self.done,
            lr_factors=list(self._applied),
            recipe_step=self.clock.recipe_step,
            recipe_iters_per_epoch=self.clock.iters_per_epoch)
