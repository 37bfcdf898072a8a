"""Validation during a curriculum: the ``validation`` argument of
``EfficientTrainHook``.

A model in a reduced stage has learnt from smaller images; validated at the
recipe's full size it reads low, and a 454-epoch ET++ run would spend many
full-size validations on stages that cannot be judged at that size. Three
ways to validate:

* ``'full_size'``: as the recipe does (default);
* ``'stage_size'``: the val images are reduced the way the train images
  are, to the current stage's size (a low-frequency step after the val
  pipeline's resize and crop, driven with the train pipelines, in the val
  loader's workers too); full-size stages validate as the recipe does;
* ``'full_size_only'``: no validation before the first epoch trained at
  the full size (the train loop's ``val_begin``).
"""
from typing import Any, Callable, List, Optional

from etpp_mm.curriculum import CurriculumPlan
from etpp_mm.transforms import CurriculumStageSync, LowFrequencyTransform
from etpp_mm.attach.pipeline import (find_transforms, insertion_points,
                                     leaf_datasets)
from etpp_mm.attach import quiet
from etpp_mm.attach.options import VALIDATION_MODES

KEY = 'EfficientTrainHook.validation'
# 'val/' sends it to the validation log line and every log backend.
VAL_SIZE_SCALAR = 'val/curriculum/val_size'


def check_validation(mode: Any) -> None:
    """Raise a clear error unless ``mode`` is a validation mode.

    Example:
        >>> check_validation('stage_size')
        >>> check_validation('stage')  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: EfficientTrainHook.validation='stage': choose one of ...
    """
    if mode not in VALIDATION_MODES:
        raise ValueError(f'{KEY}={mode!r}: choose one of '
                         f'{list(VALIDATION_MODES)}')


class StageValidation:
    """Applies one validation mode to a runner's train and val loops.

    Args:
        mode (str): one of ``'full_size'``, ``'stage_size'``,
            ``'full_size_only'``.
        log (callable): called with each message. Defaults to dropping
            them.

    Example:
        >>> from mmcv.transforms import Compose
        >>> from mmengine.registry import init_default_scope
        >>> from etpp_mm.curriculum import Stage, build_plan
        >>> from etpp_mm.transforms import (LowFrequencyDownsample,
        ...                                 SharedStageIndex)
        >>> init_default_scope('mmpretrain')
        >>> plan = build_plan([Stage(0.5, 8), Stage(0.5, 16)], 'et', 4, 16)
        >>> val = Compose([dict(type='CenterCrop', crop_size=16),
        ...                dict(type='PackInputs')])
        >>> index = SharedStageIndex(0)
        >>> syncs = StageValidation('stage_size').attach_pipelines(
        ...     [val], plan, index, LowFrequencyDownsample)
        >>> [type(t).__name__ for t in val.transforms]
        ['CurriculumStageSync', 'CenterCrop', 'LowFrequencyDownsample', \
'PackInputs']
        >>> index.set(1); _ = syncs[0].sync(); val.transforms[2].size is None
        True
    """

    def __init__(self, mode: str = 'full_size',
                 log: Callable[[str], Any] = quiet):
        check_validation(mode)
        self.mode = mode
        self.log = log

    def attach(self, runner: Any, plan: CurriculumPlan, stage_index: Any,
               make_step: Callable[[], LowFrequencyTransform]) -> List[Any]:
        """Set up the mode on ``runner`` before training; returns the
        stage syncs put into val pipelines (the caller syncs them with the
        train ones)."""
        if self.mode == 'full_size_only':  # see start()
            return []
        val_loop = runner.val_loop
        if self.mode == 'full_size' or val_loop is None:
            return []
        pipelines = [
            d.pipeline for d in leaf_datasets(val_loop.dataloader.dataset)
            if hasattr(getattr(d, 'pipeline', None), 'transforms')
        ]
        syncs = self.attach_pipelines(pipelines, plan, stage_index,
                                      make_step)
        self.log('validation at the size of the current stage (val images '
                 'reduced like the train images)')
        return syncs

    def start(self, runner: Any, plan: CurriculumPlan,
              first_full_size_epoch: int) -> None:
        """``'full_size_only'``: validate from the epoch after
        ``first_full_size_epoch`` (0-based; the clock knows it once it has
        planned the run's batches) on."""
        if self.mode != 'full_size_only':
            return
        loop = runner.train_loop
        loop.val_begin = max(loop.val_begin, first_full_size_epoch + 1)
        self.log(f'validation from epoch {loop.val_begin} on, after the '
                 f'first epoch at the full size '
                 f'{plan.full_size[0]}x{plan.full_size[1]}')

    def attach_pipelines(
            self, pipelines: List[Any], plan: CurriculumPlan,
            stage_index: Any,
            make_step: Callable[[], LowFrequencyTransform]) -> List[Any]:
        """Give each val pipeline a low-frequency step after its resize and
        crop (or drive the one it has) and a sync at its head; the step
        leaves full-size stages untouched."""
        sizes = [{
            'size': None if tuple(s.size) == tuple(plan.full_size) else s.size
        } for s in plan.stages]
        syncs = []
        for pipeline in pipelines:
            steps = find_transforms(
                pipeline, lambda t: isinstance(t, LowFrequencyTransform))
            if not steps:
                points = insertion_points(pipeline)
                if not points:
                    raise ValueError(
                        f"{KEY}='stage_size' needs a place for the "
                        'low-frequency step in the val pipeline '
                        '(val_dataloader.dataset.pipeline): it goes before '
                        'PackInputs; add LowFrequencyDownsample there or '
                        "choose 'full_size_only'")
                for view, index in points:
                    step = make_step()
                    view.transforms.insert(index, step)
                    steps.append(step)
            sync = CurriculumStageSync(stage_index,
                                       [(step, sizes) for step in steps])
            pipeline.transforms.insert(0, sync)
            syncs.append(sync)
        return syncs

    def before_val(self, runner: Any, plan: CurriculumPlan,
                   index: Optional[int]) -> None:
        """Log the size of the validation about to run, as a line and as
        the ``curriculum/val_size`` scalar of the validation."""
        if index is None:  # validation without training
            return
        size = plan.stages[index].size
        if self.mode != 'stage_size':
            size = plan.full_size
        runner.message_hub.update_scalar(VAL_SIZE_SCALAR, size[0])
        self.log(f'validation at {size[0]}x{size[1]} (curriculum stage '
                 f'{index + 1}/{len(plan.stages)})')
