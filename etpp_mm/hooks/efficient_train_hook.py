"""EfficientTrainHook: the EfficientTrain++ curriculum for any MMPretrain
recipe.

A thin adapter applying to a runner :mod:`etpp_mm.curriculum` (stage tables,
plan, compute), :mod:`.resolver` (the plan), :mod:`.sample_clock` (the clock
of every ET++ run: stages, batch, schedules), :mod:`.epoch_clock` (ET runs),
:mod:`.replay_control` (replay) and :mod:`.validation`.
"""
import copy
from typing import Any, Optional, Sequence

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpretrain.registry import HOOKS

from etpp_mm.curriculum import (CurriculumPlan, check_budget, check_warmup,
                                format_plan)
from etpp_mm.models import (LowFrequencyDataPreprocessor, adapt_to_any_size,
                            scale_drop_path_by_budget)
from etpp_mm.transforms import (CurriculumStageSync, LowFrequencyTransform,
                                SharedStageIndex)
from etpp_mm.utils import drop_collate_scope
from .arguments import (check_argument_types, check_epoch_based_loop,
                        check_resumed_plan, check_single_hook,
                        check_train_loop_of_runner, is_training_run)
from .data_guard import guard_pipelines
from .dry_run import dry_run
from .epoch_clock import EpochClock
from .loader_setup import check_collate, setup_collate
from .pipeline import train_pipelines
from .random_state import EpochSeeder
from .replay_control import ReplayControl, check_replay_cfg
from .resolver import CurriculumResolver, ResolvedCurriculum
from .sample_clock import SampleClock
from .validation import StageValidation

# Message-hub keys; the 'train/' prefix sends them to every log backend.
SCALAR_PREFIX = 'train/curriculum/'


def _unwrap(model):
    return model.module if is_model_wrapper(model) else model


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
        augment_at (str): ``'full'`` (the papers' order): the recipe's
            augmentations run at the full size and the low-frequency step
            shrinks their result before packing. ``'stage'``: the recipe's
            resized crop outputs the stage size itself (same crop box,
            Lanczos), or the low-frequency step follows the last fixed-size
            crop/resize, so every later step runs at the stage size;
            pixel-sized parameters of later steps (``RandomCrop`` padding,
            ``Cutout`` sizes) scale with the stage. ``'auto'`` (default):
            ``'stage'`` with ``low_frequency='downsample'`` and no
            low-frequency step of your own, else ``'full'``. See
            docs/data_path.md.
        drop_path_reference_budget (float, optional): ``'etpp'`` only:
            scale every drop-path rate of the model by
            ``budget / drop_path_reference_budget``, the papers' rule with
            200 for a 300-epoch recipe (a budget of 100 halves the recipe's
            rates). ``None`` (default) keeps the recipe's rates.
        replay (dict, optional): reuse loaded samples where the data loader
            is the bottleneck: see :class:`ReplayControl`. Defaults to off.
        magnitude (str): ``'recipe'`` (default): a preset's RandAugment
            magnitudes end at the recipe's own; ``'paper'``: at 9.
        validation (str): ``'full_size'`` (default), ``'stage_size'`` or
            ``'full_size_only'``: see :mod:`.validation`.
        collate (str): ``'stack'``: the train loader collates with
            ``default_collate`` (one tensor a batch); ``'recipe'`` keeps its
            own; ``'auto'`` (default) stacks where it is safe and pays, see
            :func:`~etpp_mm.hooks.loader_setup.setup_collate`.
        adapt_model (bool): before training, turn the parts of the model
            known to take only their configured size (MMPretrain's
            ``SwinTransformer`` without ``pad_small_map``, ``MAEViT``,
            ``MAEPretrainDecoder``) into their variants of
            :mod:`etpp_mm.models` in place (same parameters and checkpoint
            keys; logged). Defaults to True.
        check_model (bool): before training, run the model's loss on two
            train images at each stage size (made at every stage either
            way), so a size the model cannot take fails at once. Defaults
            to True.
        allow_budget_above_recipe (bool): accept a ``budget`` above the
            recipe's compute (refused by default as a likely mistake).
        batch_scale, lr_scaling: early large batch (``'etpp'`` only;
            ``None``, the default, keeps the recipe's batch): see
            :class:`~etpp_mm.hooks.sample_clock.SampleClock`.
        warmup (str): ``'etpp'`` only: ``'recipe'`` (default) maps the
            recipe's warm-up onto compute like the rest of its schedules;
            ``'official'`` ends it where the authors' scripts do (the
            recipe's warm-up epochs as real epochs of the first stage; 20%
            of the compute for ``'etpp_deit'``): see
            :mod:`etpp_mm.curriculum.warmup`.

    Example:
        >>> custom_imports = dict(imports=['etpp_mm'])  # in your config
        >>> custom_hooks = [dict(type='EfficientTrainHook', budget=200)]
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
                 augment_at: str = 'auto',
                 drop_path_reference_budget: Optional[float] = None,
                 replay: Optional[dict] = None,
                 magnitude: str = 'recipe',
                 validation: str = 'full_size',
                 check_model: bool = True,
                 adapt_model: bool = True,
                 collate: str = 'auto',
                 batch_scale: Any = None,
                 lr_scaling: str = 'auto',
                 warmup: str = 'recipe',
                 allow_budget_above_recipe: bool = False):
        check_argument_types(locals())
        check_train_loop_of_runner()
        self.resolver = CurriculumResolver(
            preset, stages, mode, budget, full_size, size_divisor,
            low_frequency, interpolation, magnitude=magnitude, log=self._log,
            augment_at=augment_at,
            allow_budget_above_recipe=allow_budget_above_recipe)
        self.validation = StageValidation(validation, log=self._log)
        if drop_path_reference_budget is not None:
            check_budget(
                drop_path_reference_budget,
                key='EfficientTrainHook.drop_path_reference_budget')
        if replay is not None:
            check_replay_cfg(replay)
        self.drop_path_reference_budget = drop_path_reference_budget
        self.replay = replay
        self.check_model = check_model
        self.adapt_model = adapt_model
        SampleClock.check_arguments(batch_scale, lr_scaling)
        check_warmup(warmup)
        self.batch_scale = batch_scale
        self.lr_scaling = lr_scaling
        self.warmup = warmup
        self.collate = check_collate(collate)

        self.plan: Optional[CurriculumPlan] = None
        self.clock = None  # SampleClock ('etpp') or EpochClock ('et')
        self._replay: Optional[ReplayControl] = None
        # read by val pipelines (and ET train pipelines) in any process
        self._stage_index = SharedStageIndex(0)
        # read by the train pipelines: per sample with the sample clock
        self._train_index = self._stage_index
        self._syncs = []
        self._current_stage: Optional[int] = None
        self._preprocessor: Optional[LowFrequencyDataPreprocessor] = None
        self._loaded_plan = self._loaded_replay = self._loaded_clock = None
        self._seeder: Optional[EpochSeeder] = None

    def resolve(self, pipelines: Sequence[Any],
                recipe_epochs: int) -> ResolvedCurriculum:
        """See :meth:`CurriculumResolver.resolve`."""
        return self.resolver.resolve(pipelines, recipe_epochs)

    def low_frequency_step(self) -> LowFrequencyTransform:
        """See :meth:`CurriculumResolver.low_frequency_step`."""
        return self.resolver.low_frequency_step()

    def before_run(self, runner) -> None:
        self._logger = runner.logger
        if not is_training_run(runner):  # tools/test.py, Runner.val()...
            self._log('no training in this run: the curriculum leaves the '
                      'model, the data and the schedulers as they are')
            return
        check_single_hook(runner, EfficientTrainHook)
        loop = runner.train_loop
        check_epoch_based_loop(loop)
        pipelines = train_pipelines(loop.dataloader.dataset)
        if drop_collate_scope(loop.dataloader):
            self._log("removed the '_scope_' keyword MMEngine binds to "
                      'train_dataloader.collate_fn in configs inherited '
                      "with 'mmpretrain::' (it breaks default_collate)")
        setup_collate(loop.dataloader, self.collate, _unwrap(runner.model),
                      pipelines, self._log)
        if self.adapt_model:
            for change in adapt_to_any_size(_unwrap(runner.model)):
                self._log(f'{change} (takes every stage size; '
                          'EfficientTrainHook.adapt_model=False keeps the '
                          'model as built)')
        resolved = self.resolve(pipelines, loop.max_epochs)
        self.plan = plan = resolved.plan
        # the recipe's own iterations per epoch, before the loader swap
        recipe_iters = len(loop.dataloader)
        self.clock = self._build_clock(runner, plan)
        for type_name in resolved.dropped:
            self._log(f'{type_name} is not in the train pipeline: its '
                      f'schedule in preset {self.resolver.preset!r} is off')
        self._syncs = []
        for pipeline, targets in resolved.targets:
            sync = CurriculumStageSync(self._train_index, targets)
            pipeline.transforms.insert(0, sync)
            self._syncs.append(sync)
        self._syncs += self.validation.attach(runner, plan, self._stage_index,
                                              self.low_frequency_step)
        self._seeder = EpochSeeder(runner.seed or 0, runner.rank)
        guard_pipelines(loop.dataloader.dataset, self._seeder)
        if self.resolver.low_frequency == 'device':
            self._wrap_data_preprocessor(runner)

        if self.replay is not None:
            self._replay = ReplayControl(
                self.replay, [s.size for s in plan.stages], self._log)
            loop.dataloader = self._replay.wrap(loop.dataloader, runner.seed)
        if self.drop_path_reference_budget is not None:
            self._scale_drop_path(runner)
        self._log('EfficientTrain curriculum:\n' + format_plan(
            plan, recipe_iters, batch_scales=self.clock.scales) + '\n' +
                  self.resolver.describe_order())

    def _build_clock(self, runner, plan):
        """The run's clock; for ET++ it takes over the train loader (each
        batch carries its stage) and the recipe's schedulers."""
        if plan.mode == 'etpp':
            clock = SampleClock(plan, self.batch_scale, self.lr_scaling,
                                self.warmup, self.resolver.preset, self._log)
            self._train_index = clock.install(runner.train_loop,
                                              runner.param_schedulers,
                                              self.replay is not None)
            return clock
        for name, value, default in (('batch_scale', self.batch_scale, None),
                                     ('warmup', self.warmup, 'recipe')):
            if value != default:
                raise ValueError(
                    f'EfficientTrainHook.{name}={value!r} needs an ET++ '
                    "(compute budget) plan, got mode 'et': use an etpp "
                    f"preset or mode='etpp', or remove {name}")
        return EpochClock(plan, self._log)

    def _scale_drop_path(self, runner):
        if self.plan.mode != 'etpp':
            raise ValueError(
                'EfficientTrainHook.drop_path_reference_budget scales '
                "drop-path with an ET++ budget: it needs mode 'etpp', got "
                f'{self.plan.mode!r}')
        self._log(
            scale_drop_path_by_budget(
                _unwrap(runner.model), self.plan.budget,
                self.drop_path_reference_budget))

    def _wrap_data_preprocessor(self, runner):
        model = _unwrap(runner.model)
        if not isinstance(model.data_preprocessor,
                          LowFrequencyDataPreprocessor):
            model.data_preprocessor = LowFrequencyDataPreprocessor(
                preprocessor=model.data_preprocessor)
        self._preprocessor = model.data_preprocessor
        self._log('the low-frequency step is the exact Fourier crop of the '
                  'normalised batch in the data preprocessor')

    def before_train(self, runner) -> None:
        check_resumed_plan(self._loaded_plan if runner.iter > 0 else None,
                           self.plan.summary())
        self.clock.start(runner, self._loaded_clock)
        full = [i for i, s in enumerate(self.plan.stages)
                if s.size == self.plan.full_size]
        self.validation.start(runner, self.plan,
                              self.clock.first_epoch_of(full))
        if runner.iter > 0 and self._replay is not None:
            self._replay.load_state_dict(self._loaded_replay)
        loader = runner.train_dataloader

        def make_sample(index, sample_index=0):
            self.apply_stage(index)
            return loader.dataset[sample_index]

        try:
            if self._replay is not None:
                self._replay.check_memory(make_sample)
            dry_run(_unwrap(runner.model), self.plan, self.resolver,
                    loader.dataset, loader.collate_fn, self.apply_stage,
                    min(2, len(loader.dataset)), self.check_model,
                    log=self._log)
        finally:
            self.apply_stage(self.plan.stage_index_at(runner.epoch))

    def apply_stage(self, index: int) -> None:
        """Point the pipelines (and the device-side crop) at a stage."""
        self._stage_index.set(index)
        self._train_index.set(index)  # the main process's own samples
        for sync in self._syncs:
            sync.sync()  # the main process's copy (num_workers=0)
        if self._preprocessor is not None:
            size = self.plan.stages[index].size
            self._preprocessor.size = None if size == self.plan.full_size \
                else size

    def before_train_epoch(self, runner) -> None:
        # Runs before the loader's iterator is reset for the epoch, so
        # (persistent) workers produce the new stage from its first batch.
        index = self.clock.begin_epoch(runner.epoch)
        self.apply_stage(index)
        self._seeder.start_epoch(runner.epoch)
        if self._replay is not None:
            self._replay.enter_stage(index, runner.epoch, runner.rank)

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        index, scalars = self.clock.begin_iter(runner, batch_idx)
        if index != self._current_stage:
            self._current_stage = index
            self.apply_stage(index)  # the device-side crop follows
            replay = self._replay.stage_factor(index) if self._replay else 1
            self._log(self.clock.stage_line(index, runner.epoch, runner.iter,
                                            replay))
        stage = self.plan.stages[index]
        scalars['size'] = stage.size[0]
        if self._replay is not None:
            scalars['replay'] = self._replay.loader.factor
        scalars.update((f'{t}.{k}', v) for t, p in stage.stage.params.items()
                       for k, v in p.items() if isinstance(v, (int, float)))
        runner.message_hub.update_scalars(
            {SCALAR_PREFIX + k: v
             for k, v in scalars.items()})

    def before_val_epoch(self, runner) -> None:
        self.validation.before_val(runner, self.plan, self._current_stage)

    def after_train_iter(self, runner, batch_idx, **kwargs) -> None:
        self.clock.end_iter(batch_idx)

    def after_train(self, runner) -> None:
        plan = self.plan
        done, planned = self.clock.compute_done(), self.clock.planned()
        saving = plan.recipe_epochs / max(done, 1e-9)
        self._log(f'curriculum finished: {runner.epoch} real epochs, '
                  f'{done:.3g} equivalent full-size epochs '
                  f'({done / planned:.1%} of the plan\'s {planned:.3g}) '
                  f"against the recipe's {plan.recipe_epochs} "
                  f'({saving:.2f}x less compute, counted in pixels)')
        if self._replay is not None:
            self._log(self._replay.summary())

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint['efficient_train'] = self.plan.summary()
        checkpoint['efficient_train_clock'] = self.clock.state_dict()
        if self._replay is not None:
            checkpoint['efficient_train_replay'] = self._replay.state_dict()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self._loaded_plan = copy.deepcopy(checkpoint.get('efficient_train'))
        self._loaded_clock = checkpoint.get('efficient_train_clock')
        self._loaded_replay = checkpoint.get('efficient_train_replay')

    def _log(self, message: str) -> None:
        logger = getattr(self, '_logger', None)
        if logger is not None:
            logger.info(message)
