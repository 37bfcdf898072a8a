"""The recipe's parameter schedules follow compute.

In ET++ mode the recipe's schedulers (LR, momentum, weight decay) traverse
the recipe's iterations at the pace of the compute spent, not of the real
iterations run: after a fraction ``f`` of the plan's compute they stand
where the recipe stands after ``f`` of its own iterations
(:func:`etpp_mm.curriculum.recipe_step_of`).
"""
from typing import Any, Callable, List, Optional, Tuple

from mmengine.optim.scheduler.param_scheduler import _ParamScheduler

from etpp_mm.curriculum import (CurriculumPlan, advance_schedulers,
                                check_warmup, official_warmup_fraction,
                                recipe_step_of, recipe_warmup_steps,
                                warp_warmup)
from etpp_mm.attach import quiet


class _ComputeClockedScheduler(_ParamScheduler):
    """Stands in for a recipe scheduler in ``runner.param_schedulers``.

    MMEngine's ``ParamSchedulerHook`` calls ``step()`` after every iteration
    or epoch; here that call does nothing, because :class:`RecipeSchedules`
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


class RecipeSchedules:
    """The recipe's parameter schedulers, moved along compute progress.

    :meth:`wrap` replaces each scheduler of ``runner.param_schedulers`` by a
    stand-in whose ``step()`` does nothing; :meth:`move_to` moves the
    originals to the recipe iteration at a compute fraction, replaying the
    calls a plain run of the recipe makes in between. With
    ``warmup='official'`` the recipe's LR warm-up ends where the authors'
    scripts end theirs (:mod:`etpp_mm.curriculum.warmup`).

    Args:
        plan (CurriculumPlan): the curriculum.
        iters_per_epoch (int): the recipe's train iterations per epoch (its
            own loader's length), the unit of its by-epoch schedulers.
        warmup (str): ``'recipe'`` or ``'official'``.
        preset (str, optional): the hook's preset (``'etpp_deit'`` has its
            own official warm-up).
        log (callable): called with each message (e.g.
            ``runner.logger.info`` or ``print``). Defaults to dropping them.

    Example:
        >>> from etpp_mm.curriculum import Stage, build_plan
        >>> plan = build_plan([Stage(0.5, 8), Stage(0.5, 16)], 'etpp',
        ...                   recipe_epochs=4, full_size=16)
        >>> schedules = RecipeSchedules(plan, iters_per_epoch=10)
        >>> schedules.step_at(0.5), schedules.step_at(1.0)
        (20, 40)
    """

    def __init__(self,
                 plan: CurriculumPlan,
                 iters_per_epoch: int,
                 warmup: str = 'recipe',
                 preset: Optional[str] = None,
                 log: Callable[[str], Any] = quiet):
        check_warmup(warmup)
        self.plan = plan
        self.iters_per_epoch = iters_per_epoch
        self.warmup = warmup
        self.preset = preset
        self.log = log
        self.schedulers: List[_ParamScheduler] = []
        # The recipe iteration the schedulers have been moved to.
        self.recipe_step = 0
        # Warm-up ends (fractions of the recipe, of the compute) to warp.
        self.warmup_ends: Optional[Tuple[float, float]] = None

    def wrap(self, param_schedulers) -> None:
        """Replace each scheduler of ``runner.param_schedulers`` (a list, or
        a dict of lists for several optimizers) in place by a stand-in whose
        ``step()`` does nothing; :meth:`move_to` moves the originals."""
        if not param_schedulers:
            return
        lists = param_schedulers.values() if isinstance(
            param_schedulers, dict) else [param_schedulers]
        for scheduler_list in lists:
            for index, scheduler in enumerate(scheduler_list):
                if isinstance(scheduler, _ComputeClockedScheduler) or \
                        not hasattr(scheduler, 'step'):
                    continue  # clocked, or a config of a test-only run
                if getattr(scheduler, 'need_val_args', False):
                    raise ValueError(
                        f'{type(scheduler).__name__} in param_scheduler '
                        'reacts to validation metrics and cannot follow '
                        'compute time: use a scheduler with a fixed curve')
                self.schedulers.append(scheduler)
                scheduler_list[index] = _ComputeClockedScheduler(scheduler)
        if not self.schedulers:
            return
        self.log('parameter schedules follow compute progress: '
                 f'{[type(s).__name__ for s in self.schedulers]} '
                 f"traverse the recipe's {self.plan.recipe_epochs} epochs "
                 'along the compute of the plan')
        self._set_warmup()

    def _set_warmup(self) -> None:
        total = self.plan.recipe_epochs * self.iters_per_epoch
        steps = recipe_warmup_steps(self.schedulers, self.iters_per_epoch)
        if steps is None:
            if self.warmup == 'official':
                self.log("warmup='official': the recipe has no LR warm-up "
                         'to move (its schedules run as they are)')
            return
        recipe_end = steps / total
        if self.warmup == 'recipe':
            self.log(f"warm-up: the recipe's {recipe_end:.1%} of the "
                     "compute (warmup='recipe')")
            return
        target = official_warmup_fraction(
            self.preset, self.plan.budget, self.plan.stages[0].cost,
            steps / self.iters_per_epoch)
        self.warmup_ends = (recipe_end, target)
        self.log(f"warm-up: {target:.2%} of the compute as the authors' "
                 f"scripts (warmup='official'), the recipe's would be "
                 f'{recipe_end:.1%}')

    def step_at(self, fraction: float) -> int:
        """The recipe iteration the schedules stand at after ``fraction``
        of the compute."""
        if self.warmup_ends is not None:
            fraction = warp_warmup(fraction, *self.warmup_ends)
        return recipe_step_of(fraction, self.plan.recipe_epochs,
                              self.iters_per_epoch)

    def move_to(self, fraction: float) -> None:
        """Move the schedulers to compute progress ``fraction``, before an
        iteration."""
        if self.schedulers:
            self.recipe_step = advance_schedulers(
                self.schedulers, self.recipe_step, self.step_at(fraction),
                self.iters_per_epoch)
