"""The clock of an ET (ICCV) run: stages by real epoch.

In ``'et'`` mode the stages split the recipe's own epochs and its schedules
run as in the recipe, so the position is the epoch; this clock only says
each epoch's stage, the compute spent and the time left. A
:class:`~.clock.Clock`, like :class:`~.sample_clock.SampleClock`, which
every ``'etpp'`` run uses.
"""
import time
from typing import Any, Callable, List, Optional, Tuple

from etpp_mm.attach import quiet
from etpp_mm.curriculum import CurriculumPlan, RunEta, describe_stage
from etpp_mm.transforms import SharedStageIndex


class EpochClock:
    """Stage and compute of every iteration of an ``'et'`` plan.

    Args:
        plan (CurriculumPlan): an ``'et'`` plan.
        log (callable): called with each message.

    Example:
        >>> from etpp_mm.curriculum import Stage, build_plan
        >>> plan = build_plan([Stage(0.5, 8), Stage(0.5, 16)], 'et', 4, 16)
        >>> clock = EpochClock(plan)
        >>> clock.begin_epoch(2), clock.compute_at(3, 0.5)
        (1, 2.0)
    """

    def __init__(self,
                 plan: CurriculumPlan,
                 log: Callable[[str], Any] = quiet):
        self.plan = plan
        self.log = log
        self.scales = [1] * len(plan.stages)  # the recipe's batch throughout
        self.stage = 0
        self.epoch = 0
        self.batches_per_epoch = 1
        self.eta: Optional[RunEta] = None
        # the epoch's stage, seen by (persistent) loader workers
        self.stage_index = SharedStageIndex(0)

    def install(self, loader: Any, param_schedulers: Any,
                align_to_epochs: bool) -> Any:
        """The recipe's loader and schedulers as they are."""
        return loader

    def start(self, runner: Any, loaded: Optional[dict] = None) -> None:
        """Size the ETA from the loader; the position is the epoch, so a
        resumed run needs nothing of the checkpoint."""
        self.batches_per_epoch = max(1, len(runner.train_loop.dataloader))
        left: List[int] = []
        for stage in self.plan.stages:
            epochs_left = stage.end_epoch - max(stage.begin_epoch,
                                                runner.epoch)
            left.append(max(0, epochs_left) * self.batches_per_epoch)
        # one unit an iteration: every stage has the recipe's batch
        self.eta = RunEta([s.size for s in self.plan.stages], left)

    def first_epoch_of(self, stages: List[int]) -> int:
        """The first (0-based) epoch of one of ``stages``."""
        return min(int(self.plan.stages[i].begin_epoch) for i in stages)

    def begin_epoch(self, epoch: int) -> int:
        """The stage of real epoch ``epoch``."""
        self.epoch = epoch
        self.stage = self.plan.stage_index_at(epoch)
        if self.eta is not None:  # started: training, not a dry run
            self.eta.start(time.perf_counter())
        return self.stage

    def compute_at(self, epoch: int, within: float) -> float:
        """Equivalent full-size epochs spent ``within`` (0..1) of real
        epoch ``epoch``."""
        return self.plan.compute_done(epoch + within)

    def begin_iter(self, runner: Any, batch_idx: int) -> Tuple[int, dict]:
        done = self.compute_at(runner.epoch,
                               batch_idx / self.batches_per_epoch)
        scalars = dict(compute=done / self.plan.equivalent_epochs)
        eta = self.eta.remaining_seconds()
        if eta is not None:
            scalars['eta_seconds'] = eta
        return self.stage, scalars

    def end_iter(self, batch_idx: int) -> None:
        line = self.eta.observe(self.stage, 1, time.perf_counter())
        if line is not None:
            self.log(line)

    def stage_line(self, stage: int, epoch: int, iteration: int,
                   replay: Any = 1) -> str:
        """The log line of a stage change."""
        return describe_stage(self.plan, stage, replay)

    def compute_done(self) -> float:
        """Equivalent full-size epochs spent by the epochs run."""
        return self.plan.compute_done(self.epoch + 1)

    def planned(self) -> float:
        """Equivalent full-size epochs of the plan."""
        return self.plan.equivalent_epochs

    def state_dict(self) -> dict:
        return {}
