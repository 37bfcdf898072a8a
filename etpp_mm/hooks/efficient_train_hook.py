"""EfficientTrainHook: the EfficientTrain++ curriculum for any MMPretrain
recipe.

A thin adapter: the stage tables, epoch plan and compute arithmetic live in
:mod:`etpp_mm.curriculum`; this hook applies a plan to a runner.
"""
import copy
import os
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.optim.scheduler.param_scheduler import _ParamScheduler
from mmengine.runner import EpochBasedTrainLoop
from mmpretrain.registry import HOOKS

from etpp_mm.curriculum import (CurriculumPlan, Stage, advance_schedulers,
                                build_plan, check_budget, check_preset,
                                format_plan, recipe_step_at, stage_table,
                                stages_from_dicts)
from etpp_mm.data import (ReplayLoader, replay_buffer_bytes, replay_factors,
                          sample_nbytes, to_compact)
from etpp_mm.models import LowFrequencyDataPreprocessor, scale_drop_path
from etpp_mm.ops.size import to_size_pair
from etpp_mm.transforms import (CurriculumStageSync, FourierCrop,
                                LowFrequencyDownsample, LowFrequencyTransform,
                                SharedStageIndex)
from etpp_mm.utils import drop_collate_scope
from .model_check import check_model_at_sizes
from .pipeline import (find_transforms, infer_train_size, insertion_points,
                       iter_transforms, leaf_datasets)

LOW_FREQUENCY_MODES = ('downsample', 'fourier', 'device')
# Message-hub keys; the 'train/' prefix sends them to every log backend.
SCALAR_PREFIX = 'train/curriculum/'


class _ComputeClockedScheduler(_ParamScheduler):
    """Stands in for a recipe scheduler in ``runner.param_schedulers``.

    MMEngine's ``ParamSchedulerHook`` calls ``step()`` after every iteration
    or epoch; here that call does nothing, because
    :class:`EfficientTrainHook` moves the wrapped scheduler along compute
    time instead. Checkpointing goes through to the wrapped scheduler, so
    checkpoints keep MMEngine's layout.
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


def _unwrap(model):
    return model.module if is_model_wrapper(model) else model


@dataclass
class ResolvedCurriculum:
    """A plan together with the live objects it drives."""
    plan: CurriculumPlan
    # (pipeline, [(transform, params per stage)]) for each train pipeline
    targets: List[Tuple[Any, List[Tuple[Any, List[Dict[str, Any]]]]]]
    dropped: List[str]


@HOOKS.register_module()
class EfficientTrainHook(Hook):
    """Run the EfficientTrain(++) curriculum on an unmodified recipe.

    Early stages show every image only through its low frequencies (a
    smaller image) and with weak augmentation; size and augmentation grow
    stage by stage. In ET++ (``'etpp'``) mode the stages split a compute
    budget, low-resolution stages run proportionally more real epochs, the
    hook sets the training length from the plan, and every parameter
    scheduler of the recipe (LR, momentum, weight decay) follows cumulative
    compute instead of iterations.

    Args:
        preset (str, optional): a stage table of the papers: ``'et'``,
            ``'etpp'`` (ResNet/Swin), ``'etpp_convnext'``, ``'etpp_deit'``.
            Sizes are given at 224 and scale to the recipe's train size.
            Defaults to ``'etpp'`` when ``stages`` is not given either.
        stages (list[dict], optional): your own table instead of a preset:
            ``dict(share=..., size=int | (h, w), params={Type: {...}})`` per
            stage, sizes in pixels of the recipe.
        mode (str, optional): ``'etpp'`` or ``'et'`` for your own ``stages``
            (default ``'etpp'``); presets carry their own.
        budget (float, optional): ``'etpp'`` only: training compute in
            equivalent full-resolution epochs. ``None`` (default) costs the
            same as the recipe; ``max_epochs / 1.5`` is 1.5x cheaper.
        full_size (int | tuple, optional): the recipe's train size; inferred
            from the train pipeline (RandomResizedCrop, RandomCrop...) when
            not given.
        size_divisor (int): stage sizes are multiples of it (e.g. a ViT's
            patch size or a network's total stride). Defaults to 1.
        low_frequency (str): the low-frequency step inserted when the train
            pipeline has none: ``'downsample'`` (anti-aliased Lanczos, the
            efficient one, default), ``'fourier'`` (exact crop in the data
            workers) or ``'device'`` (exact crop of the normalised batch in
            the data preprocessor, before Mixup/CutMix).
        interpolation (str): filter of ``'downsample'``. Defaults to
            ``'lanczos'``.
        drop_path_reference_budget (float, optional): ``'etpp'`` only:
            scale every drop-path rate of the model by
            ``budget / drop_path_reference_budget``, the papers' rule with
            200 for a 300-epoch recipe (a budget of 100 halves the recipe's
            rates). ``None`` (default) keeps the recipe's rates.
        replay (dict, optional): reuse loaded samples where the data loader
            is the bottleneck: ``dict(factors=..., buffer_samples=N,
            max_memory_fraction=0.5)``. ``factors``: uses of each loaded
            batch, an int, one per stage, or ``{size: factor}`` (e.g.
            ``{96: 4, 160: 2}``, 1 elsewhere); each replayed batch is drawn
            from a FIFO of the last ``buffer_samples`` loaded samples, per
            process. Training is refused if the buffers of this machine's
            processes would need more than ``max_memory_fraction`` of its
            memory. ``None`` (default): off.
        check_model (bool): before training, run the model's loss on two
            train images at each reduced stage size, so a model that cannot
            take a size fails at once, naming the model, the size and the
            setting to change. Defaults to True.

    Example:
        >>> # in a config inheriting an MMPretrain recipe
        >>> custom_imports = dict(imports=['etpp_mm'],
        ...                       allow_failed_imports=False)
        >>> custom_hooks = [dict(type='EfficientTrainHook', preset='etpp',
        ...                      budget=200)]
    """

    # Before RuntimeInfoHook (VERY_HIGH) reads the LR for the logs.
    priority = 'HIGHEST'

    def __init__(self,
                 preset: Optional[str] = None,
                 stages: Optional[Sequence[dict]] = None,
                 mode: Optional[str] = None,
                 budget: Optional[float] = None,
                 full_size=None,
                 size_divisor: int = 1,
                 low_frequency: str = 'downsample',
                 interpolation: str = 'lanczos',
                 drop_path_reference_budget: Optional[float] = None,
                 replay: Optional[dict] = None,
                 check_model: bool = True):
        if preset is None and stages is None:
            preset = 'etpp'
        if preset is not None:
            check_preset(preset)
        if stages is not None:
            stages_from_dicts(stages)  # structure errors before the runner
        if budget is not None:
            check_budget(budget, key='EfficientTrainHook.budget')
        if drop_path_reference_budget is not None:
            check_budget(
                drop_path_reference_budget,
                key='EfficientTrainHook.drop_path_reference_budget')
        if replay is not None:
            self._check_replay_cfg(replay)
        if low_frequency not in LOW_FREQUENCY_MODES:
            raise ValueError(
                f'EfficientTrainHook.low_frequency={low_frequency!r}: choose '
                f'one of {list(LOW_FREQUENCY_MODES)}')
        if isinstance(size_divisor, bool) or not isinstance(
                size_divisor, int) or size_divisor <= 0:
            raise ValueError('EfficientTrainHook.size_divisor must be a '
                             f'positive int, got {size_divisor!r}')
        self.preset = preset
        self.stages = stages
        self.mode = mode
        self.budget = budget
        self.full_size = None if full_size is None else to_size_pair(
            full_size, name='EfficientTrainHook.full_size')
        self.size_divisor = size_divisor
        self.low_frequency = low_frequency
        self.interpolation = interpolation
        self.drop_path_reference_budget = drop_path_reference_budget
        self.replay = replay
        self.check_model = check_model
        self._replay: Optional[ReplayLoader] = None
        self._replay_factors: List[int] = []

        self.plan: Optional[CurriculumPlan] = None
        self._stage_index = SharedStageIndex(0)
        self._syncs: List[CurriculumStageSync] = []
        self._current_stage: Optional[int] = None
        self._recipe_schedulers: List[_ParamScheduler] = []
        self._recipe_step = 0
        self._iters_per_epoch = 1
        self._preprocessor: Optional[LowFrequencyDataPreprocessor] = None
        self._loaded_plan: Optional[dict] = None

    @staticmethod
    def _check_replay_cfg(replay) -> None:
        key = 'EfficientTrainHook.replay'
        if not isinstance(replay, dict):
            raise TypeError(f'{key} must be a dict(factors=..., '
                            f'buffer_samples=...), got {replay!r}')
        unknown = set(replay) - {
            'factors', 'buffer_samples', 'max_memory_fraction'
        }
        if unknown:
            raise ValueError(f'{key} has unknown keys {sorted(unknown)}: '
                             'use factors, buffer_samples, '
                             'max_memory_fraction')
        samples = replay.get('buffer_samples')
        if isinstance(samples, bool) or not isinstance(samples,
                                                       int) or samples < 1:
            raise ValueError(f'{key}.buffer_samples must be a positive int '
                             f'(samples kept per process), got {samples!r}')
        fraction = replay.get('max_memory_fraction', 0.5)
        if not isinstance(fraction, (int, float)) or not 0 < fraction <= 1:
            raise ValueError(f'{key}.max_memory_fraction must be in (0, 1], '
                             f'got {fraction!r}')

    # ------------------------------------------------------------------
    # Resolution: pipelines + arguments -> plan (also used by the tools)
    # ------------------------------------------------------------------
    def resolve(self, pipelines: Sequence[Any],
                recipe_epochs: int) -> ResolvedCurriculum:
        """Build the plan for the given train pipelines, inserting the
        low-frequency step where none is present.

        Raises ``ValueError`` naming the offending value and key for every
        problem that would otherwise surface during training.
        """
        self._prepare_low_frequency(pipelines)
        full_size = self.full_size or infer_train_size(pipelines[0])
        if full_size is None:
            raise ValueError(
                'cannot tell the train size from the train pipeline '
                '(no RandomResizedCrop, RandomCrop, CenterCrop or Resize '
                'before the low-frequency step): set '
                'EfficientTrainHook.full_size')
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
        plan = build_plan(stages, mode, recipe_epochs, full_size,
                          self.budget, self.size_divisor)

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
                         self._values_per_stage(transform, type_name, stages,
                                                key)))
            targets.append((pipeline, pipeline_targets))
        return ResolvedCurriculum(plan, targets, dropped)

    @staticmethod
    def _values_per_stage(transform, type_name, stages, key):
        """Each stage's parameter values; an unset value carries over from
        the previous stage (the pipeline's own value before the first)."""
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

    def low_frequency_step(self) -> LowFrequencyTransform:
        """A new per-image low-frequency transform of this hook's kind:
        Lanczos (or ``interpolation``) down-sampling for ``'downsample'``,
        the exact Fourier crop otherwise (``'device'`` applies the same crop
        to the whole batch)."""
        if self.low_frequency == 'downsample':
            return LowFrequencyDownsample(interpolation=self.interpolation)
        return FourierCrop()

    def _prepare_low_frequency(self, pipelines):
        existing = [
            t for p in pipelines for t in iter_transforms(p)
            if isinstance(t, LowFrequencyTransform)
        ]
        if self.low_frequency == 'device':
            if existing:
                raise ValueError(
                    "EfficientTrainHook.low_frequency='device' crops the "
                    'batch on the device, but the train pipeline already has '
                    f'{existing[0]!r}: remove it or choose another '
                    'low_frequency')
            return
        if existing:
            self._log(f'using the low-frequency step of the train pipeline: '
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
            for view, index in points:
                step = self.low_frequency_step()
                before = view.transforms[index] if index < len(
                    view.transforms) else None
                view.transforms.insert(index, step)
                where = (f'before {type(before).__name__}'
                         if before is not None else 'at the end of a view')
                self._log(f'inserted {step!r} into the train pipeline '
                          f'{where}')

    # ------------------------------------------------------------------
    # Runner integration
    # ------------------------------------------------------------------
    def before_run(self, runner) -> None:
        self._logger = runner.logger
        loop = runner.train_loop
        if not isinstance(loop, EpochBasedTrainLoop):
            raise TypeError(
                'EfficientTrainHook needs an epoch-based train loop '
                '(train_cfg=dict(by_epoch=True, max_epochs=...)), got '
                f'{type(loop).__name__}')
        datasets = leaf_datasets(loop.dataloader.dataset)
        pipelines = [getattr(d, 'pipeline', None) for d in datasets]
        if any(p is None or not hasattr(p, 'transforms') for p in pipelines):
            raise TypeError('EfficientTrainHook needs train datasets with a '
                            'pipeline; got '
                            f'{[type(d).__name__ for d in datasets]}')
        if drop_collate_scope(loop.dataloader):
            self._log("removed the '_scope_' keyword MMEngine binds to "
                      'train_dataloader.collate_fn in configs inherited '
                      "with 'mmpretrain::' (it breaks default_collate)")
        resolved = self.resolve(pipelines, loop.max_epochs)
        self.plan = plan = resolved.plan
        for type_name in resolved.dropped:
            self._log(f'{type_name} is not in the train pipeline: its '
                      f'schedule in preset {self.preset!r} is off')

        self._syncs = []
        for pipeline, targets in resolved.targets:
            sync = CurriculumStageSync(self._stage_index, targets)
            pipeline.transforms.insert(0, sync)
            self._syncs.append(sync)
        if self.low_frequency == 'device':
            self._wrap_data_preprocessor(runner)

        self._iters_per_epoch = len(loop.dataloader)
        if self.replay is not None:
            self._setup_replay(runner, loop)
        if self.drop_path_reference_budget is not None:
            self._scale_drop_path(runner)
        if plan.mode == 'etpp':
            loop._max_epochs = plan.total_epochs
            loop._max_iters = plan.total_epochs * self._iters_per_epoch
            self._clock_schedulers(runner)
        self._log('EfficientTrain curriculum:\n' +
                  format_plan(plan, self._iters_per_epoch))

    def _setup_replay(self, runner, loop):
        try:
            factors = replay_factors(
                self.replay.get('factors', 1),
                [tuple(s.size) for s in self.plan.stages])
        except ValueError as error:
            raise ValueError(f'EfficientTrainHook.replay.factors: {error}')
        self._replay_factors = factors
        if not isinstance(loop.dataloader, ReplayLoader):
            loop.dataloader = ReplayLoader(
                loop.dataloader,
                capacity=self.replay['buffer_samples'],
                seed=runner.seed or 0)
        self._replay = loop.dataloader
        self._log('replay: each loaded batch is used '
                  f'{factors} times per stage, replayed batches drawn from '
                  f"the last {self.replay['buffer_samples']} loaded samples")

    def _check_replay_memory(self, runner, make_sample):
        """Refuse buffers this machine cannot hold, naming the bytes."""
        replaying = [i for i, f in enumerate(self._replay_factors) if f > 1]
        if not replaying:
            return
        per_sample = max(
            sample_nbytes(to_compact(make_sample(i))) for i in replaying)
        processes = int(os.environ.get('LOCAL_WORLD_SIZE', 1))
        needed = replay_buffer_bytes(self.replay['buffer_samples'],
                                     per_sample, processes)
        fraction = self.replay.get('max_memory_fraction', 0.5)
        limit = fraction * os.sysconf('SC_PAGE_SIZE') * os.sysconf(
            'SC_PHYS_PAGES')
        text = (f"replay buffers need {needed / 2**20:.1f} MiB on this "
                f"machine ({self.replay['buffer_samples']} samples x "
                f'{per_sample} bytes x {processes} process(es))')
        if needed > limit:
            raise ValueError(
                f'{text}, over {fraction:g} of its memory ('
                f'{limit / 2**20:.0f} MiB): lower EfficientTrainHook.replay.'
                'buffer_samples or raise max_memory_fraction')
        self._log(text)

    def _scale_drop_path(self, runner):
        if self.plan.mode != 'etpp':
            raise ValueError(
                'EfficientTrainHook.drop_path_reference_budget scales '
                "drop-path with an ET++ budget: it needs mode 'etpp', got "
                f'{self.plan.mode!r}')
        factor = self.plan.budget / self.drop_path_reference_budget
        changed = scale_drop_path(_unwrap(runner.model), factor)
        if not changed:
            self._log('drop_path_reference_budget is set, but the model has '
                      'no drop-path modules: nothing to scale')
            return
        old = max(rate for _, rate, _ in changed)
        new = max(rate for _, _, rate in changed)
        self._log(f'drop-path scaled by budget {self.plan.budget:g} / '
                  f'{self.drop_path_reference_budget:g} = {factor:.3g} in '
                  f'{len(changed)} modules (deepest rate {old:.3g} -> '
                  f'{new:.3g})')

    def _wrap_data_preprocessor(self, runner):
        model = _unwrap(runner.model)
        if not isinstance(model.data_preprocessor,
                          LowFrequencyDataPreprocessor):
            model.data_preprocessor = LowFrequencyDataPreprocessor(
                preprocessor=model.data_preprocessor)
        self._preprocessor = model.data_preprocessor
        self._log('the low-frequency step is the exact Fourier crop of the '
                  'normalised batch in the data preprocessor')

    def _clock_schedulers(self, runner):
        schedulers = runner.param_schedulers
        if not schedulers:
            return
        lists = schedulers.values() if isinstance(schedulers,
                                                  dict) else [schedulers]
        for scheduler_list in lists:
            for index, scheduler in enumerate(scheduler_list):
                if isinstance(scheduler, _ComputeClockedScheduler):
                    continue
                if getattr(scheduler, 'need_val_args', False):
                    raise ValueError(
                        f'{type(scheduler).__name__} in param_scheduler '
                        'reacts to validation metrics and cannot follow '
                        'compute time: use a scheduler with a fixed curve')
                self._recipe_schedulers.append(scheduler)
                scheduler_list[index] = _ComputeClockedScheduler(scheduler)
        self._log('parameter schedules follow compute progress: '
                  f'{[type(s).__name__ for s in self._recipe_schedulers]} '
                  f'traverse the recipe\'s {self.plan.recipe_epochs} epochs '
                  f'over {self.plan.total_epochs} real epochs')

    def before_train(self, runner) -> None:
        if runner.iter > 0 and self._loaded_plan is not None and \
                self._loaded_plan != self.plan.summary():
            raise ValueError(
                'the checkpoint being resumed was trained with another '
                'curriculum plan (EfficientTrainHook arguments, '
                'train_cfg.max_epochs or train size changed): restore them or '
                'start a new work_dir. Checkpoint plan: '
                f'{self._loaded_plan}; current plan: {self.plan.summary()}')
        if self._recipe_schedulers and runner.iter > 0:
            # The schedulers' state was saved after they had been moved for
            # the last completed iteration.
            self._recipe_step = recipe_step_at(self.plan, runner.iter - 1,
                                               self._iters_per_epoch)
        dataset = runner.train_dataloader.dataset

        def make_sample(index, sample_index=0):
            self.apply_stage(index)
            return dataset[sample_index]

        try:
            if self._replay is not None:
                self._check_replay_memory(runner, make_sample)
            if self.check_model:
                self._check_model(runner, make_sample)
        finally:
            self.apply_stage(self.plan.stage_index_at(runner.epoch))

    def _check_model(self, runner, make_sample):
        plan = self.plan
        first_of_size = {}
        for index, stage in enumerate(plan.stages):
            if tuple(stage.size) != tuple(plan.full_size):
                first_of_size.setdefault(tuple(stage.size), index)
        loader = runner.train_dataloader

        def make_batch(index):
            count = min(2, len(loader.dataset))
            return loader.collate_fn(
                [make_sample(index, i) for i in range(count)])

        def describe(index):
            size = plan.stages[index].size
            return f'stage {index + 1} size {size[0]}x{size[1]}'

        check_model_at_sizes(
            _unwrap(runner.model),
            sorted(first_of_size.values()),
            make_batch,
            describe,
            log=self._log)

    def apply_stage(self, index: int) -> None:
        """Point the pipelines (and the device-side crop) at a stage."""
        self._stage_index.set(index)
        for sync in self._syncs:
            sync.sync()  # the main process's copy (num_workers=0)
        if self._preprocessor is not None:
            size = self.plan.stages[index].size
            self._preprocessor.size = None if tuple(size) == tuple(
                self.plan.full_size) else size

    def before_train_epoch(self, runner) -> None:
        # Runs before the loader's iterator is reset for the epoch, so
        # (persistent) workers produce the new stage from its first batch.
        index = self.plan.stage_index_at(runner.epoch)
        self.apply_stage(index)
        if self._replay is not None:
            if index != self._current_stage:
                self._replay.reset()  # one size per batch
            self._replay.factor = self._replay_factors[index]
            self._replay.set_epoch(runner.epoch, runner.rank)
        if index != self._current_stage:
            self._current_stage = index
            self._log(self._describe_stage(runner, index))

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        plan = self.plan
        if self._recipe_schedulers:
            target = recipe_step_at(plan, runner.iter, self._iters_per_epoch)
            self._recipe_step = advance_schedulers(self._recipe_schedulers,
                                                   self._recipe_step, target,
                                                   self._iters_per_epoch)
        stage = plan.stages[self._current_stage]
        hub = runner.message_hub
        hub.update_scalar(SCALAR_PREFIX + 'size', stage.size[0])
        if self._replay_factors:
            hub.update_scalar(SCALAR_PREFIX + 'replay',
                              self._replay_factors[self._current_stage])
        hub.update_scalar(
            SCALAR_PREFIX + 'compute',
            plan.compute_fraction(runner.iter / self._iters_per_epoch))
        for type_name, params in stage.stage.params.items():
            for name, value in params.items():
                if isinstance(value, (int, float)):
                    hub.update_scalar(f'{SCALAR_PREFIX}{type_name}.{name}',
                                      value)

    def after_train(self, runner) -> None:
        plan = self.plan
        done = plan.compute_done(runner.iter / self._iters_per_epoch)
        saving = plan.recipe_epochs / max(done, 1e-9)
        self._log(f'curriculum finished: {runner.epoch} real epochs, '
                  f'{done:.1f} equivalent full-size epochs against the '
                  f"recipe's {plan.recipe_epochs} ({saving:.2f}x less "
                  'compute, counted in pixels)')
        if self._replay is not None:
            self._log(f'replay: {self._replay.loaded_batches} batches loaded, '
                      f'{self._replay.replayed_batches} replayed')

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint['efficient_train'] = self.plan.summary()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self._loaded_plan = copy.deepcopy(checkpoint.get('efficient_train'))

    # ------------------------------------------------------------------
    def _describe_stage(self, runner, index: int) -> str:
        plan = self.plan
        stage = plan.stages[index]
        params = ', '.join(f'{t}.{k}={v}'
                           for t, p in stage.stage.params.items()
                           for k, v in p.items())
        if self._replay_factors and self._replay_factors[index] > 1:
            params += (', ' if params else '') + \
                f'replay x{self._replay_factors[index]}'
        compute = plan.compute_fraction(stage.begin_epoch)
        return (f'curriculum stage {index + 1}/{len(plan.stages)} from epoch '
                f'{stage.begin_epoch + 1}: size {stage.size[0]}x'
                f'{stage.size[1]}' + (f', {params}' if params else '') +
                f' ({stage.epochs} epochs, compute {compute:.1%} done)')

    def _log(self, message: str) -> None:
        logger = getattr(self, '_logger', None)
        if logger is not None:
            logger.info(message)
