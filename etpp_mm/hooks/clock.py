"""The interface ``EfficientTrainHook`` drives a run's clock through.

A clock says which stage every iteration trains and how much compute is
spent; the hook only applies what the clock returns. Two clocks follow it:
:class:`~.sample_clock.SampleClock` (every ET++ run: compute counted in
samples x pixels, stages ending mid-epoch) and
:class:`~.epoch_clock.EpochClock` (ET runs: stages by real epoch).
"""
from typing import Any, List, Optional, Protocol, Sequence, Tuple


class Clock(Protocol):
    """Stage and compute of every iteration of a curriculum run.

    Attributes:
        stage_index: what the train pipelines read their stage from (an
            object with ``get()`` and ``set()``), handed to
            :meth:`~etpp_mm.attach.AttachedCurriculum.drive`.
        scales (list[int]): each stage's batch as a multiple of the
            recipe's.
    """
    stage_index: Any
    scales: Sequence[int]

    def install(self, loader: Any, param_schedulers: Any,
                align_to_epochs: bool) -> Any:
        """Take over the recipe's schedulers (if the clock moves them) and
        return the train loader to use (the clock's, or ``loader``)."""

    def start(self, runner: Any, loaded: Optional[dict] = None) -> None:
        """Before the first iteration: take up a resumed position
        (``loaded``, from :meth:`state_dict`) and set the loop's length."""

    def first_epoch_of(self, stages: List[int]) -> int:
        """The first epoch from now on that trains one of ``stages``."""

    def begin_epoch(self, epoch: int) -> int:
        """The stage of the epoch's first batch."""

    def begin_iter(self, runner: Any, batch_idx: int) -> Tuple[int, dict]:
        """The stage of this iteration and the scalars to log."""

    def end_iter(self, batch_idx: int) -> None:
        """Count the iteration's compute."""

    def stage_line(self, stage: int, epoch: int, iteration: int,
                   replay: Any = 1) -> str:
        """The log line of a stage change."""

    def compute_done(self) -> float:
        """Equivalent full-size epochs spent."""

    def planned(self) -> float:
        """Equivalent full-size epochs of the plan."""

    def state_dict(self) -> dict:
        """The position to keep in checkpoints."""
