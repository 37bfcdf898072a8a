"""EfficientTrainHook: the EfficientTrain++ curriculum for any MMPretrain
recipe.

A thin adapter to a runner: the options are
:class:`~etpp_mm.attach.CurriculumOptions`, the plan and the pipelines'
stages come from :func:`~etpp_mm.attach.attach_curriculum`, and each
iteration's stage from a :class:`~.clock.Clock` (:mod:`.sample_clock` for
ET++ runs, :mod:`.epoch_clock` for ET runs); :mod:`.replay_control` and
:mod:`.validation` apply those options.
"""
import copy
import inspect
from typing import Optional

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpretrain.registry import HOOKS

from etpp_mm.attach import (CurriculumOptions, attach_curriculum,
                            train_pipelines)
from etpp_mm.attach.data_guard import guard_pipelines
from etpp_mm.attach.dry_run import dry_run
from etpp_mm.attach.loader_setup import setup_collate
from etpp_mm.attach.random_state import EpochSeeder
from etpp_mm.curriculum import CurriculumPlan, format_plan
from etpp_mm.models import (LowFrequencyDataPreprocessor, adapt_to_any_size,
                            scale_drop_path_by_budget)
from etpp_mm.transforms import SharedStageIndex
from etpp_mm.utils import drop_collate_scope
from .clock import Clock
from .epoch_clock import EpochClock
from .replay_control import ReplayControl
from .runner_checks import (check_epoch_based_loop, check_resumed_plan,
                            check_single_hook, check_train_loop_of_runner,
                            is_training_run)
from .sample_clock import SampleClock, accumulative_counts
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
        **options: the curriculum's options, each declared, documented and
            checked once in :class:`~etpp_mm.attach.CurriculumOptions`
            (reference: docs/hook.md). A wrong type, value or name is
            refused when the hook is built.

    Example:
        >>> custom_imports = dict(imports=['etpp_mm'])  # in your config
        >>> custom_hooks = [dict(type='EfficientTrainHook', budget=200)]
    """

    # Before RuntimeInfoHook (VERY_HIGH) reads the LR for the logs.
    priority = 'HIGHEST'

    def __init__(self, **options):
        self.options = CurriculumOptions.from_kwargs(options)
        check_train_loop_of_runner()
        self.validation = StageValidation(self.options.validation,
                                          log=self._log)
        self.attached = None  # AttachedCurriculum, before training
        self.plan: Optional[CurriculumPlan] = None
        self.clock: Optional[Clock] = None
        self._replay: Optional[ReplayControl] = None
        # read by the val pipelines in any process, and the device crop
        self._stage_index = SharedStageIndex(0)
        self._syncs = []
        self._current_stage: Optional[int] = None
        self._preprocessor: Optional[LowFrequencyDataPreprocessor] = None
        self._loaded_plan = self._loaded_replay = self._loaded_clock = None
        self._seeder: Optional[EpochSeeder] = None

    def before_run(self, runner) -> None:
        self._logger = runner.logger
        if not is_training_run(runner):  # tools/test.py, Runner.val()...
            self._log('no training in this run: the curriculum leaves the '
                      'model, the data and the schedulers as they are')
            return
        check_single_hook(runner, EfficientTrainHook)
        options, loop = self.options, runner.train_loop
        check_epoch_based_loop(loop)
        model = _unwrap(runner.model)
        if options.adapt_model:
            for change in adapt_to_any_size(model):
                self._log(f'{change} (takes every stage size; '
                          'EfficientTrainHook.adapt_model=False keeps the '
                          'model as built)')
        dataset = loop.dataloader.dataset
        pipelines = train_pipelines(dataset)
        self._setup_collate(runner, pipelines)
        # the recipe's own pipelines, to tell a bad file from a failing
        # curriculum step
        recipes = copy.deepcopy(pipelines)
        self.attached = attached = attach_curriculum(
            pipelines, loop.max_epochs, options, self._log, model=model)
        self.plan = plan = attached.plan
        for type_name in attached.dropped:
            self._log(f'{type_name} is not in the train pipeline: its '
                      f'schedule in preset {attached.resolver.preset!r} '
                      'is off')
        self.clock = self._build_clock(plan, runner)
        # the recipe's own iterations per epoch, before the loader changes
        recipe_iters = len(loop.dataloader)
        loop.dataloader = self._train_loader(runner)
        self._syncs = attached.drive(self.clock.stage_index)
        self._syncs += self.validation.attach(runner, plan, self._stage_index,
                                              self._low_frequency_step)
        self._seeder = EpochSeeder(runner.seed or 0, runner.rank)
        guard_pipelines(dataset, self._seeder, recipes)
        if options.low_frequency == 'device':
            self._wrap_data_preprocessor(model)
        if options.drop_path_reference_budget is not None:
            self._scale_drop_path(model)
        self._log('EfficientTrain curriculum:\n' + format_plan(
            plan, recipe_iters, batch_scales=self.clock.scales) + '\n' +
                  attached.resolver.describe_order())

    def _low_frequency_step(self):
        return self.attached.resolver.low_frequency_step()

    def _build_clock(self, plan: CurriculumPlan, runner) -> Clock:
        options = self.options
        if plan.mode == 'etpp':
            return SampleClock(plan, options.batch_scale, options.lr_scaling,
                               options.warmup, self.attached.resolver.preset,
                               self._log,
                               accumulative_counts(runner.optim_wrapper))
        for name, default in (('batch_scale', None), ('warmup', 'recipe')):
            value = getattr(options, name)
            if value != default:
                raise ValueError(
                    f'EfficientTrainHook.{name}={value!r} needs an ET++ '
                    "(compute budget) plan, got mode 'et': use an etpp "
                    f"preset or mode='etpp', or remove {name}")
        return EpochClock(plan, self._log)

    def _setup_collate(self, runner, pipelines):
        """The recipe's loader collates stacked batches where it pays; read
        from the recipe's pipelines, before the curriculum edits them."""
        loader = runner.train_loop.dataloader
        if drop_collate_scope(loader):
            self._log("removed the '_scope_' keyword MMEngine binds to "
                      'train_dataloader.collate_fn in configs inherited '
                      "with 'mmpretrain::' (it breaks default_collate)")
        setup_collate(loader, self.options.collate, _unwrap(runner.model),
                      pipelines, self._log)

    def _train_loader(self, runner):
        """The train loader, assembled here only: the recipe's (its collate
        set up), then the clock's (stage-carrying batches), then replay
        around it."""
        loader = runner.train_loop.dataloader
        replay = self.options.replay
        loader = self.clock.install(loader, runner.param_schedulers,
                                    replay is not None)
        if replay is not None:
            self._replay = ReplayControl(
                replay, [s.size for s in self.plan.stages], self._log)
            loader = self._replay.wrap(loader, runner.seed)
        return loader

    def _scale_drop_path(self, model):
        if self.plan.mode != 'etpp':
            raise ValueError(
                'EfficientTrainHook.drop_path_reference_budget scales '
                "drop-path with an ET++ budget: it needs mode 'etpp', got "
                f'{self.plan.mode!r}')
        self._log(
            scale_drop_path_by_budget(
                model, self.plan.budget,
                self.options.drop_path_reference_budget))

    def _wrap_data_preprocessor(self, model):
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
            dry_run(_unwrap(runner.model), self.plan, self.attached.resolver,
                    loader.dataset, loader.collate_fn, self.apply_stage,
                    min(2, len(loader.dataset)), self.options.check_model,
                    log=self._log)
        finally:
            self.apply_stage(self.plan.stage_index_at(runner.epoch))

    def apply_stage(self, index: int) -> None:
        """Point the pipelines (and the device-side crop) at a stage."""
        self._stage_index.set(index)
        self.clock.stage_index.set(index)  # the main process's samples
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


# help() and inspect.signature() show the options, declared once
EfficientTrainHook.__signature__ = inspect.signature(CurriculumOptions)
