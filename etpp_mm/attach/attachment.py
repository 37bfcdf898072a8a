"""The one entry point of the runner-free core: attach a curriculum to a
recipe's train pipelines.

:func:`attach_curriculum` resolves the plan from the options and the live
pipelines and places the low-frequency step; :meth:`AttachedCurriculum.drive`
connects each pipeline to a stage index, after which setting the index
switches the pipeline's stage. ``EfficientTrainHook`` calls exactly these
two, as do the analysis tools, so a tool sees the pipelines training sees.
"""
import math
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from etpp_mm.curriculum import CurriculumPlan, stages_from_dicts
from etpp_mm.transforms import CurriculumStageSync
from .mask_generators import mask_patch_divisor
from .model_stride import size_divisor_of
from .options import CurriculumOptions
from .resolver import CurriculumResolver, quiet, train_size

# (transform, its parameter values per stage)
Target = Tuple[Any, List[Dict[str, Any]]]


@dataclass
class AttachedCurriculum:
    """A resolved plan and the live transforms each stage drives.

    Attributes:
        plan (CurriculumPlan): stages, sizes, epochs and compute.
        resolver (CurriculumResolver): what resolved it (train size, the
            low-frequency step, where augmentation runs).
        targets (list): ``(pipeline, [(transform, params per stage)])`` for
            each train pipeline.
        dropped (list[str]): a preset's scheduled transform types the
            pipelines lack (their schedules are off).
    """
    plan: CurriculumPlan
    resolver: CurriculumResolver
    targets: List[Tuple[Any, List[Target]]]
    dropped: List[str]

    def drive(self, stage_index: Any) -> List[CurriculumStageSync]:
        """Make each pipeline follow ``stage_index`` (any object with
        ``get()``), by a first step that applies its stage's parameters.

        Returns:
            list[CurriculumStageSync]: the inserted steps; ``sync()`` on
            each applies the current stage in this process at once.
        """
        syncs = []
        for pipeline, targets in self.targets:
            sync = CurriculumStageSync(stage_index, targets)
            pipeline.transforms.insert(0, sync)
            syncs.append(sync)
        return syncs


def attach_curriculum(pipelines: Sequence[Any],
                      recipe_epochs: int,
                      options: Optional[CurriculumOptions] = None,
                      log: Callable[[str], Any] = quiet,
                      model: Optional[Any] = None) -> AttachedCurriculum:
    """Resolve the curriculum of ``options`` for live train pipelines.

    The pipelines are edited in place: the low-frequency step is inserted
    (and, with ``augment_at='stage'``, the recipe's crop made to output the
    stage size). Every problem that would otherwise surface during
    training raises here, naming the value and the option to change.

    Args:
        pipelines (list[Compose]): the train pipelines, one per leaf
            dataset (:func:`~etpp_mm.attach.pipeline.train_pipelines`).
        recipe_epochs (int): the recipe's ``train_cfg.max_epochs``.
        options (CurriculumOptions, optional): the hook's options.
        log (callable): called with each message on what was done.
        model (nn.Module, optional): the built model (unwrapped), read by
            ``size_divisor='auto'``; without it, ``'auto'`` is 1.

    Returns:
        AttachedCurriculum: the plan and what each stage drives.

    Example:
        >>> from mmcv.transforms import Compose
        >>> from mmengine.registry import init_default_scope
        >>> from etpp_mm.transforms import SharedStageIndex
        >>> init_default_scope('mmpretrain')
        >>> pipeline = Compose([dict(type='RandomResizedCrop', scale=28),
        ...                     dict(type='PackInputs')])
        >>> attached = attach_curriculum([pipeline], 6, CurriculumOptions(
        ...     stages=[dict(share=0.5, size=12), dict(share=0.5, size=28)]))
        >>> stage = SharedStageIndex(0)
        >>> _ = attached.drive(stage)
        >>> import numpy as np
        >>> image = np.zeros((40, 40, 3), np.uint8)
        >>> pipeline(dict(img=image))['inputs'].shape[1:]
        torch.Size([12, 12])
        >>> stage.set(1)
        >>> pipeline(dict(img=image))['inputs'].shape[1:]
        torch.Size([28, 28])
    """
    options = options or CurriculumOptions()
    if options.size_divisor == 'auto':
        options = options.replace(
            size_divisor=_auto_size_divisor(pipelines, options, model, log))
    resolver = CurriculumResolver(options, log)
    resolved = resolver.resolve(pipelines, recipe_epochs)
    return AttachedCurriculum(resolved.plan, resolver, resolved.targets,
                              resolved.dropped)


def _auto_size_divisor(pipelines: Sequence[Any], options: CurriculumOptions,
                       model: Optional[Any], log: Callable[[str], Any]) -> int:
    """The divisor ``size_divisor='auto'`` stands for, logged with why."""
    setting = 'EfficientTrainHook.size_divisor=N sets it'
    if model is None:
        divisor, reason = 1, 'no model to read it from'
    else:
        try:
            full_size = train_size(pipelines[0], options.full_size)
        except ValueError:  # the resolver refuses it, with the whole story
            return 1
        # your own stage sizes are kept: the divisor must divide them too
        sizes = [] if options.stages is None else [
            stage.size for stage in stages_from_dicts(options.stages)
        ]
        divisor, reason = size_divisor_of(model, full_size, sizes)
    # a mask drawn in patches of its own needs whole patches at every stage
    patch = mask_patch_divisor(pipelines)
    if divisor % patch:
        divisor = math.lcm(divisor, patch)
        reason += (f'; a multiple of {patch}, the mask patches of the '
                   "pipeline's mask generator")
    log(f"size_divisor='auto': {divisor} ({reason}; {setting})")
    return divisor
