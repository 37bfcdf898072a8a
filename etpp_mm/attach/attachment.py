"""The one entry point of the runner-free core: attach a curriculum to a
recipe's train pipelines.

:func:`attach_curriculum` resolves the plan from the options and the live
pipelines and places the low-frequency step; :meth:`AttachedCurriculum.drive`
connects each pipeline to a stage index, after which setting the index
switches the pipeline's stage. ``EfficientTrainHook`` calls exactly these
two, as do the analysis tools, so a tool sees the pipelines training sees.
"""
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from etpp_mm.curriculum import CurriculumPlan
from etpp_mm.transforms import CurriculumStageSync
from .options import CurriculumOptions
from .resolver import CurriculumResolver, quiet

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
                      log: Callable[[str], Any] = quiet
                      ) -> AttachedCurriculum:
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
    resolver = CurriculumResolver(options, log)
    resolved = resolver.resolve(pipelines, recipe_epochs)
    return AttachedCurriculum(resolved.plan, resolver, resolved.targets,
                              resolved.dropped)
