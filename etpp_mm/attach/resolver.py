"""Plan resolution: train pipelines + ``EfficientTrainHook`` arguments ->
curriculum plan.

The one place that decides the train size, the stage table and which live
transforms each stage drives. The hook resolves its plan here before
training; the analysis and search tools resolve a config's plan here
without a runner.
"""
from dataclasses import dataclass
from typing import (Any, Callable, Dict, List, Mapping, Optional, Sequence,
                    Tuple)

from etpp_mm.curriculum import (CurriculumPlan, Stage, build_plan,
                                scale_magnitudes, stage_table)
from etpp_mm.curriculum.checks import (check_budget_within_recipe,
                                       check_full_size,
                                       check_reduced_stages_kept)
from etpp_mm.ops.size import SizeLike, to_size_pair
from etpp_mm.transforms import (FourierCrop, LowFrequencyDownsample,
                                LowFrequencyTransform)
from .mask_generators import mask_generator_targets
from .options import CurriculumOptions
from .pipeline import (find_transforms, infer_train_size, insertion_points,
                       iter_transforms)
from .stage_sizing import StageSizing


def quiet(message: str) -> None:
    """A ``log`` callable that drops every message."""


def train_size(pipeline: Any,
               full_size: Optional[SizeLike] = None,
               key: str = 'EfficientTrainHook.full_size') -> Tuple[int, int]:
    """The recipe's train size: ``full_size`` when given, else inferred
    from the train pipeline.

    Args:
        pipeline (Compose): the (first) train pipeline.
        full_size (int | tuple[int, int], optional): the size given by the
            user, which wins over the pipeline.
        key (str): the setting named in errors.

    Returns:
        tuple[int, int]: ``(h, w)``.

    Example:
        >>> from mmcv.transforms import Compose
        >>> from mmpretrain.registry import TRANSFORMS
        >>> crop = TRANSFORMS.build(dict(type='RandomResizedCrop', scale=28))
        >>> train_size(Compose([crop])), train_size(Compose([crop]), 32)
        ((28, 28), (32, 32))
    """
    if full_size is not None:
        return to_size_pair(full_size, name=key)
    size = infer_train_size(pipeline)
    if size is None:
        raise ValueError(
            'cannot tell the train size from the train pipeline '
            '(no RandomResizedCrop, RandomCrop, CenterCrop or Resize '
            f'before the low-frequency step): set {key}')
    return size


@dataclass
class ResolvedCurriculum:
    """A plan together with the live objects it drives."""
    plan: CurriculumPlan
    # (pipeline, [(transform, params per stage)]) for each train pipeline
    targets: List[Tuple[Any, List[Tuple[Any, List[Dict[str, Any]]]]]]
    dropped: List[str]


class CurriculumResolver:
    """Turn :class:`~etpp_mm.attach.options.CurriculumOptions` into a plan
    for given train pipelines.

    The options are checked when they are built; everything that depends
    on the pipelines (train size, scheduled transforms and parameters) is
    checked by :meth:`resolve`. Errors name the value and the hook option
    to change.

    Args:
        options (CurriculumOptions): the hook's options; the resolver reads
            those of the plan and the pipeline (``preset``, ``stages``,
            ``mode``, ``budget``, ``full_size``, ``size_divisor``,
            ``low_frequency``, ``interpolation``, ``magnitude``,
            ``augment_at``, ``allow_budget_above_recipe``).
        log (callable): called with each message on what resolution did to
            the pipelines (e.g. ``runner.logger.info`` or ``print``).
            Defaults to dropping them.

    Example:
        >>> from mmcv.transforms import Compose
        >>> from mmengine.registry import init_default_scope
        >>> init_default_scope('mmpretrain')
        >>> pipeline = Compose([dict(type='RandomResizedCrop', scale=28),
        ...                     dict(type='PackInputs')])
        >>> resolver = CurriculumResolver(CurriculumOptions(stages=[
        ...     dict(share=0.5, size=12), dict(share=0.5, size=28)],
        ...     augment_at='full'))  # the papers' order
        >>> plan = resolver.resolve([pipeline], recipe_epochs=6).plan
        >>> [(s.size, round(s.epochs, 2)) for s in plan.stages]
        [((12, 12), 16.33), ((28, 28), 3.0)]
        >>> [type(t).__name__ for t in pipeline.transforms][1]
        'LowFrequencyDownsample'
    """

    def __init__(self,
                 options: Optional[CurriculumOptions] = None,
                 log: Callable[[str], Any] = quiet):
        self.options = options = options or CurriculumOptions()
        self.preset = options.preset
        if options.preset is None and options.stages is None:
            self.preset = 'etpp'
        self.stages = options.stages
        self.mode = options.mode
        self.budget = options.budget
        self.full_size = None if options.full_size is None else \
            to_size_pair(options.full_size)
        # attach_curriculum reads 'auto' from the model; a resolver built
        # without one has none to read
        self.size_divisor = 1 if options.size_divisor == 'auto' else \
            options.size_divisor
        self.low_frequency = options.low_frequency
        self.interpolation = options.interpolation
        self.augment_at = options.augment_at
        # what 'auto' resolves to, once the pipelines are known
        self.order = None if self.augment_at == 'auto' else self.augment_at
        self.magnitude = options.magnitude
        self.log = log
        self._sizing: Optional[StageSizing] = None
        self.allow_budget_above_recipe = options.allow_budget_above_recipe

    @classmethod
    def from_hook_cfg(cls, hook_cfg: dict,
                      log: Callable[[str], Any] = quiet):
        """The resolver of an ``EfficientTrainHook`` config dict.

        Example:
            >>> resolver = CurriculumResolver.from_hook_cfg(dict(
            ...     type='EfficientTrainHook', preset='et', check_model=False))
            >>> resolver.preset, resolver.low_frequency
            ('et', 'downsample')
        """
        return cls(CurriculumOptions.from_hook_cfg(hook_cfg), log)

    def resolve(self, pipelines: Sequence[Any],
                recipe_epochs: int) -> ResolvedCurriculum:
        """Build the plan for the given train pipelines, inserting the
        low-frequency step where none is present.

        Args:
            pipelines (list[Compose]): the live train pipelines (one per
                leaf dataset); edited in place.
            recipe_epochs (int): the recipe's ``train_cfg.max_epochs``.

        Returns:
            ResolvedCurriculum: the plan, the transforms each stage drives
            and the preset's scheduled transforms the pipeline lacks.

        Raises ``ValueError`` naming the offending value and key for every
        problem that would otherwise surface during training.
        """
        self._prepare_low_frequency(pipelines)
        full_size = train_size(pipelines[0], self.full_size)
        check_full_size(self.full_size, infer_train_size(pipelines[0]))
        check_reduced_stages_kept(self.preset, full_size, self.size_divisor)
        mode, stages, from_preset = stage_table(self.preset, self.stages,
                                                self.mode, full_size,
                                                self.size_divisor)
        key = f'preset {self.preset!r}' if from_preset else \
            'EfficientTrainHook.stages'
        types = []
        for stage in stages:
            types += [t for t in stage.params if t not in types]
        present = {
            type_name: [
                find_transforms(p, lambda t: type(t).__name__ == type_name)
                for p in pipelines
            ]
            for type_name in types
        }
        dropped = [t for t in types if not any(present[t])]
        if dropped and not from_preset:
            raise ValueError(
                f'{key} schedules {dropped[0]!r}, which is not in the train '
                'pipeline (train_dataloader.dataset.pipeline): add it to '
                'the pipeline or remove it from the stage params')
        # A preset's schedule for a transform the recipe lacks is off.
        stages = [
            Stage(s.share, s.size,
                  {t: p
                   for t, p in s.params.items() if t not in dropped})
            for s in stages
        ]
        if from_preset and self.magnitude == 'recipe' and any(
                present.get('RandAugment', [])):
            stages = self._scale_magnitudes(stages, present['RandAugment'])
        plan = build_plan(stages, mode, recipe_epochs, full_size,
                          self.budget, self.size_divisor)
        check_budget_within_recipe(plan, self.allow_budget_above_recipe)

        targets = []
        for index, pipeline in enumerate(pipelines):
            pipeline_targets = [
                (transform, [{'size': s.size} for s in stages])
                for transform in find_transforms(
                    pipeline, lambda t: isinstance(t, LowFrequencyTransform))
            ]
            for type_name in types:
                if type_name in dropped:
                    continue
                for transform in present[type_name][index]:
                    pipeline_targets.append(
                        (transform,
                         values_per_stage(transform, type_name, stages,
                                          key)))
            if self._sizing is not None:
                pipeline_targets += self._sizing.targets(
                    index, [s.size for s in stages], full_size)
            pipeline_targets += mask_generator_targets(
                pipeline, [s.size for s in stages], full_size)
            targets.append((pipeline, pipeline_targets))
        return ResolvedCurriculum(plan, targets, dropped)

    def _scale_magnitudes(self, stages: List[Stage],
                          found: List[List[Any]]) -> List[Stage]:
        """The preset's RandAugment magnitudes scaled to end at the live
        transform's own ``magnitude_level`` (the recipe's strength)."""
        levels = sorted({t.magnitude_level for ts in found for t in ts})
        if len(levels) > 1:
            raise ValueError(
                f'the train pipelines use RandAugment magnitudes {levels}: '
                "EfficientTrainHook.magnitude='recipe' needs one; set "
                "magnitude='paper' or give your own stages")
        self.log(f"RandAugment magnitude scaled to the recipe's "
                 f'{levels[0]}: the preset ends there instead of the '
                 "papers' 9 (EfficientTrainHook.magnitude='paper' keeps "
                 "the papers' values)")
        return scale_magnitudes(stages, levels[0])

    def low_frequency_step(self) -> LowFrequencyTransform:
        """A new per-image low-frequency transform of this kind: Lanczos
        (or ``interpolation``) down-sampling for ``'downsample'``, the exact
        Fourier crop otherwise (``'device'`` applies the same crop to the
        whole batch).

        Example:
            >>> resolver = CurriculumResolver(CurriculumOptions(low_frequency='fourier'))
            >>> resolver.low_frequency_step()
            FourierCrop(size=None)
        """
        if self.low_frequency == 'downsample':
            return LowFrequencyDownsample(interpolation=self.interpolation)
        return FourierCrop()

    def describe_order(self) -> str:
        """One line on where augmentation runs, for the plan's log.

        Example:
            >>> options = CurriculumOptions(augment_at='stage')
            >>> CurriculumResolver(options).describe_order()
            "augment_at='stage': later steps run at the stage size"
        """
        order = self.order or self.augment_at
        chosen = '' if order == self.augment_at else \
            f" (augment_at='{self.augment_at}')"
        if order == 'stage':
            return (f"augment_at='stage'{chosen}: later steps run at the "
                    'stage size')
        return (f"augment_at='full'{chosen} (the papers' order): "
                'augmentation at the full size, then the low-frequency step')

    def _user_types(self) -> List[str]:
        """The transform types the user's stage table sets parameters of
        (before it is checked: malformed rows are refused later)."""
        return [
            t for row in self.stages or ()
            if isinstance(row, Mapping) and isinstance(
                row.get('params'), Mapping) for t in row['params']
        ]

    def _prepare_low_frequency(self, pipelines):
        self._sizing = None
        existing = [
            t for p in pipelines for t in iter_transforms(p)
            if isinstance(t, LowFrequencyTransform)
        ]
        if self.augment_at == 'auto':
            # the stage-sized path where it applies: the default step, not
            # one the user placed
            self.order = 'stage' if self.low_frequency == 'downsample' \
                and not existing else 'full'
        if self.low_frequency == 'device':
            if existing:
                raise ValueError(
                    "EfficientTrainHook.low_frequency='device' crops the "
                    'batch on the device, but the train pipeline already has '
                    f'{existing[0]!r}: remove it or choose another '
                    'low_frequency')
            return
        if existing and self.order == 'stage':
            raise ValueError(
                "EfficientTrainHook.augment_at='stage' places the "
                'low-frequency step itself, but the train pipeline already '
                f'has {existing[0]!r}: remove it or set augment_at=\'full\'')
        if existing:
            self.log(f'using the low-frequency step of the train pipeline: '
                     f'{existing[0]!r}')
            return
        for pipeline in pipelines:
            points = insertion_points(pipeline)
            if not points:
                raise ValueError(
                    'the train pipeline (train_dataloader.dataset.pipeline) '
                    'has no place for the low-frequency step: it is inserted '
                    'before RandomErasing/PackInputs, or at the end of each '
                    'MultiView view. Add LowFrequencyDownsample or '
                    'FourierCrop to the pipeline yourself.')
            if self.order == 'stage':
                if self._sizing is None:
                    self._sizing = StageSizing(self.low_frequency_step,
                                               self.log, self._user_types())
                self._sizing.prepare(pipeline, points)
                continue
            for view, index in points:
                step = self.low_frequency_step()
                before = view.transforms[index] if index < len(
                    view.transforms) else None
                view.transforms.insert(index, step)
                where = (f'before {type(before).__name__}'
                         if before is not None else 'at the end of a view')
                self.log(f'inserted {step!r} into the train pipeline '
                         f'{where}')


def values_per_stage(transform: Any, type_name: str, stages: Sequence[Stage],
                     key: str) -> List[Dict[str, Any]]:
    """Each stage's parameter values for one transform; an unset value
    carries over from the previous stage (the transform's own value before
    the first).

    Example:
        >>> from types import SimpleNamespace
        >>> stages = [Stage(0.5, 8, {'RandAugment': {'magnitude_level': 3}}),
        ...           Stage(0.5, 16)]
        >>> values_per_stage(SimpleNamespace(magnitude_level=9),
        ...                  'RandAugment', stages, 'stages')
        [{'magnitude_level': 3}, {'magnitude_level': 3}]
    """
    current: Dict[str, Any] = {}
    for stage in stages:
        for name in stage.params.get(type_name, {}):
            if not hasattr(transform, name):
                raise ValueError(
                    f'{key} sets {type_name}.{name}, but {type_name} has '
                    f'no parameter {name!r}')
            current.setdefault(name, getattr(transform, name))
    values = []
    for stage in stages:
        current = {**current, **stage.params.get(type_name, {})}
        values.append(dict(current))
    return values
