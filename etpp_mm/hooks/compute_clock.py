"""Scheduler clocking: the recipe's parameter schedules follow compute.

In ET++ mode the recipe's schedulers (LR, momentum, weight decay) traverse
the recipe's iterations at the pace of the compute spent, not of the real
iterations run; :func:`etpp_mm.curriculum.recipe_step_at` is the mapping.
"""
from typing import Any, Callable, List, Optional, Tuple

from mmengine.optim.scheduler.param_scheduler import _ParamScheduler

from etpp_mm.curriculum import (CurriculumPlan, advance_schedulers,
                                recipe_step_at, recipe_step_of)
from .resolver import quiet


class _ComputeClockedScheduler(_ParamScheduler):
    """Stands in for a recipe scheduler in ``runner.param_schedulers``.

    MMEngine's ``ParamSchedulerHook`` calls ``step()`` after every iteration
    or epoch; here that call does nothing, because :class:`ComputeClock`
    moves the wrapped scheduler along compute time instead. Checkpointing
    goes through to the wrapped scheduler, so checkpoints keep MMEngine's
    layout.
    """

    def __init__(self, inner: _ParamScheduler):
        # No super().__init__(): it would apply the initial values to the
        # optimizer again; all state stays in the wrapped scheduler.
        self.inner = inner
        self.by_epoch = inner.by_epoch

    def step(self, *args, **kwargs):
        pass

    def state_dict(self):
        return self.inner.state_dict()

    def load_state_dict(self, state_dict):
        self.inner.load_state_dict(state_dict)

    def get_last_value(self):
        return self.inner.get_last_value()

    def _get_value(self):
        return self.inner._get_value()

    def __repr__(self):
        return f'ComputeClocked({type(self.inner).__name__})'


class ComputeClock:
    """A plan's position in real iterations, epochs and compute, and the
    recipe schedulers it moves along compute time.

    Args:
        plan (CurriculumPlan): the curriculum.
        iters_per_epoch (int): train iterations per real epoch.
        log (callable): called with each message (e.g.
            ``runner.logger.info`` or ``print``). Defaults to dropping them.

    Example:
        >>> from etpp_mm.curriculum import Stage, build_plan
        >>> plan = build_plan([Stage(0.5, 8), Stage(0.5, 16)], 'etpp',
        ...                   recipe_epochs=4, full_size=16)
        >>> clock = ComputeClock(plan, iters_per_epoch=10)
        >>> plan.total_epochs, clock.compute_fraction(80)
        (10, 0.5)
    """

    def __init__(self,
                 plan: CurriculumPlan,
                 iters_per_epoch: int,
                 log: Callable[[str], Any] = quiet):
        self.plan = plan
        self.iters_per_epoch = iters_per_epoch
        self.log = log
        self.schedulers: List[_ParamScheduler] = []
        # The recipe iteration the schedulers have been moved to.
        self.recipe_step = 0
        self.stage = 0

    def wrap(self, param_schedulers) -> None:
        """Replace each scheduler of ``runner.param_schedulers`` (a list, or
        a dict of lists for several optimizers) in place by a stand-in whose
        ``step()`` does nothing; :meth:`advance` moves the originals."""
        if not param_schedulers:
            return
        lists = param_schedulers.values() if isinstance(
            param_schedulers, dict) else [param_schedulers]
        for scheduler_list in lists:
            for index, scheduler in enumerate(scheduler_list):
                if isinstance(scheduler, _ComputeClockedScheduler):
                    continue
                if getattr(scheduler, 'need_val_args', False):
                    raise ValueError(
                        f'{type(scheduler).__name__} in param_scheduler '
                        'reacts to validation metrics and cannot follow '
                        'compute time: use a scheduler with a fixed curve')
                self.schedulers.append(scheduler)
                scheduler_list[index] = _ComputeClockedScheduler(scheduler)
        self.log('parameter schedules follow compute progress: '
                 f'{[type(s).__name__ for s in self.schedulers]} '
                 f'traverse the recipe\'s {self.plan.recipe_epochs} epochs '
                 f'over {self.plan.total_epochs} real epochs')

    def resume(self, iteration: int) -> None:
        """Take up the position of a run resumed at real ``iteration``."""
        if self.schedulers and iteration > 0:
            # The schedulers' state was saved after they had been moved for
            # the last completed iteration.
            self.recipe_step = recipe_step_at(self.plan, iteration - 1,
                                              self.iters_per_epoch)

    def advance(self, iteration: int) -> None:
        """Move the schedulers to the compute progress of real
        ``iteration``, before it runs."""
        if self.schedulers:
            target = recipe_step_at(self.plan, iteration,
                                    self.iters_per_epoch)
            self.recipe_step = advance_schedulers(self.schedulers,
                                                  self.recipe_step, target,
                                                  self.iters_per_epoch)

    def move_to(self, fraction: float) -> None:
        """Move the schedulers to compute progress ``fraction`` (the
        sample-counted clock of ``batch_scale``), before an iteration."""
        if self.schedulers:
            target = recipe_step_of(fraction, self.plan.recipe_epochs,
                                    self.iters_per_epoch)
            self.recipe_step = advance_schedulers(self.schedulers,
                                                  self.recipe_step, target,
                                                  self.iters_per_epoch)

    def start(self, runner: Any, loaded: Optional[dict] = None) -> None:
        """Take up a resumed run's position (``loaded``: the checkpoint's
        :meth:`state_dict`)."""
        if runner.iter > 0:
            self.check_resume(loaded)
            self.resume(runner.iter)

    def begin_epoch(self, epoch: int) -> int:
        """The stage of real epoch ``epoch``."""
        self.stage = self.plan.stage_index_at(epoch)
        return self.stage

    def begin_iter(self, runner: Any, batch_idx: int) -> Tuple[int, dict]:
        """Move the schedules for the iteration about to run; returns its
        stage and the scalars to log."""
        self.advance(runner.iter)
        return self.stage, dict(compute=self.compute_fraction(runner.iter))

    def end_iter(self, batch_idx: int) -> None:
        """Nothing to count: the position is the iteration."""

    def state_dict(self) -> dict:
        return dict(iters_per_epoch=self.iters_per_epoch)

    def check_resume(self, loaded: Optional[dict]) -> None:
        """Refuse to resume an iteration-counted run whose iterations per
        epoch changed: its position would be wrong."""
        saved = (loaded or {}).get('iters_per_epoch')
        if saved is not None and saved != self.iters_per_epoch:
            raise ValueError(
                f'the checkpoint being resumed ran {saved} iterations per '
                f'epoch, this run {self.iters_per_epoch} (the number of '
                'processes, train_dataloader.batch_size or the dataset size '
                'changed): restore it, or train with '
                'EfficientTrainHook.batch_scale (1 keeps the batch), whose '
                'clock counts samples and continues across such changes')

    def compute_done(self, iteration: int) -> float:
        """Equivalent full-size epochs spent after real ``iteration``s."""
        return self.plan.compute_done(iteration / self.iters_per_epoch)

    def compute_fraction(self, iteration: int) -> float:
        """Compute progress in ``[0, 1]`` after real ``iteration``s."""
        return self.plan.compute_fraction(iteration / self.iters_per_epoch)
