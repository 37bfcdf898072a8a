"""The curriculum of a config, without training: for the analysis tools."""
import copy
from dataclasses import dataclass
from typing import Any, List, Optional, Tuple

import torch
from mmcv.transforms import Compose
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import PARAM_SCHEDULERS, init_default_scope
from mmpretrain.registry import DATASETS, MODELS

from etpp_mm.curriculum import (CurriculumPlan, advance_schedulers,
                                stage_batch_scales, stage_lr_factors)
from etpp_mm.hooks import EfficientTrainHook, RecipeSchedules
from etpp_mm.attach import (CurriculumOptions, CurriculumResolver,
                            attach_curriculum)


@dataclass
class ConfigCurriculum:
    plan: CurriculumPlan
    iters_per_epoch: Optional[int]
    # The LR (first param group) at the start of each stage, its batch_scale
    # multiplier included.
    lr_starts: List[float]
    # The resolver of the config's hook (its low-frequency settings...).
    resolver: Optional[CurriculumResolver] = None
    # The batch multiple of each stage (the hook's batch_scale).
    batch_scales: Optional[List[int]] = None


def find_hook_cfgs(cfg: Config) -> Tuple[Optional[dict], List[dict]]:
    """Split ``cfg.custom_hooks`` into the (first) ``EfficientTrainHook``,
    copied, and the other hooks.

    Example:
        >>> cfg = Config(dict(custom_hooks=[dict(type='EMAHook'),
        ...     dict(type='EfficientTrainHook', budget=10)]))
        >>> ours, others = find_hook_cfgs(cfg)
        >>> ours['budget'], [h['type'] for h in others]
        (10, ['EMAHook'])
    """
    hooks = list(cfg.get('custom_hooks', None) or [])
    ours = [
        h for h in hooks
        if h.get('type') in ('EfficientTrainHook', EfficientTrainHook)
    ]
    others = [h for h in hooks if not any(h is o for o in ours)]
    return (copy.deepcopy(dict(ours[0])) if ours else None), others


def _our_hook_cfg(cfg: Config) -> dict:
    ours, _ = find_hook_cfgs(cfg)
    if ours is None:
        raise ValueError('the config has no EfficientTrainHook in custom_hooks')
    return ours


def dataset_cfg_with_pipeline(dataset_cfg: dict) -> dict:
    """The innermost dataset config (through Repeat/Concat... wrappers)."""
    while 'pipeline' not in dataset_cfg:
        if 'dataset' in dataset_cfg:
            dataset_cfg = dataset_cfg['dataset']
        elif 'datasets' in dataset_cfg:
            dataset_cfg = dataset_cfg['datasets'][0]
        else:
            raise ValueError('train_dataloader.dataset has no pipeline')
    return dataset_cfg


def iters_per_epoch_of(cfg: Config) -> int:
    """Length of the train loader, building the train dataset."""
    loader = cfg.train_dataloader
    dataset = DATASETS.build(loader.dataset)
    batch = loader.batch_size
    drop_last = loader.get('drop_last', False)
    return len(dataset) // batch if drop_last else -(-len(dataset) // batch)


def plain_optim_wrapper_cfg(cfg: Config) -> dict:
    """The recipe's optimizer in a plain ``OptimWrapper``: LR curves and
    CPU timings do not depend on mixed precision, and ``AmpOptimWrapper``
    refuses to build without a GPU.

    Example:
        >>> cfg = Config(dict(optim_wrapper=dict(
        ...     type='AmpOptimWrapper', optimizer=dict(type='SGD', lr=0.1))))
        >>> plain_optim_wrapper_cfg(cfg)
        {'type': 'OptimWrapper', 'optimizer': {'type': 'SGD', 'lr': 0.1}}
    """
    recipe_wrapper = copy.deepcopy(dict(cfg.optim_wrapper))
    return dict(
        type='OptimWrapper',
        optimizer=recipe_wrapper['optimizer'],
        **{
            key: recipe_wrapper[key]
            for key in ('constructor', 'paramwise_cfg')
            if key in recipe_wrapper
        })


def build_recipe_schedulers(cfg: Config,
                            iters_per_epoch: int) -> Tuple[Any, List[Any]]:
    """The recipe's optim wrapper on a stand-in model and its parameter
    schedulers, built as MMEngine's runner builds them."""
    model = torch.nn.Linear(1, 1)
    optim_wrapper = build_optim_wrapper(model, plain_optim_wrapper_cfg(cfg))
    max_epochs = cfg.train_cfg.max_epochs
    scheduler_cfgs = cfg.get('param_scheduler', None) or []
    if isinstance(scheduler_cfgs, dict):
        scheduler_cfgs = [scheduler_cfgs]
    schedulers = []
    for scheduler_cfg in scheduler_cfgs:
        scheduler_cfg = copy.deepcopy(dict(scheduler_cfg))
        # As MMEngine's runner: an open end is the end of training.
        scheduler_cfg.setdefault(
            'end', max_epochs if scheduler_cfg.get('by_epoch', True) else
            max_epochs * iters_per_epoch)
        schedulers.append(
            PARAM_SCHEDULERS.build(
                scheduler_cfg,
                default_args=dict(
                    optimizer=optim_wrapper, epoch_length=iters_per_epoch)))
    return optim_wrapper, schedulers


def lr_at_recipe_steps(cfg: Config, steps: List[int],
                       iters_per_epoch: int) -> List[float]:
    """The recipe's LR (first param group) after each of ``steps`` recipe
    iterations, replaying its schedulers on a stand-in model."""
    optim_wrapper, schedulers = build_recipe_schedulers(cfg, iters_per_epoch)
    lrs, position = [], 0
    for step in steps:
        position = advance_schedulers(schedulers, position, step,
                                      iters_per_epoch)
        lrs.append(optim_wrapper.param_groups[0]['lr'])
    return lrs


def lr_at_compute(cfg: Config, plan: CurriculumPlan, fractions: List[float],
                  iters_per_epoch: int, hook_cfg: dict) -> List[float]:
    """The recipe's scheduled LR (first param group) after each of
    ``fractions`` of an ET++ run's compute: its schedules moved along
    compute as the hook moves them (its ``warmup`` rule included), before
    any ``batch_scale`` multiplier."""
    optim_wrapper, schedulers = build_recipe_schedulers(cfg, iters_per_epoch)
    schedules = RecipeSchedules(plan, iters_per_epoch,
                                hook_cfg.get('warmup', 'recipe'),
                                hook_cfg.get('preset'))
    schedules.wrap(list(schedulers))
    lrs = []
    for fraction in fractions:
        schedules.move_to(fraction)
        lrs.append(optim_wrapper.param_groups[0]['lr'])
    return lrs


def model_of_config(cfg: Config) -> Optional[torch.nn.Module]:
    """The model of ``cfg.model`` as the runner builds it (with the
    config's ``data_preprocessor``; no weights loaded), or ``None`` when the
    config has no model. Call after the config's default scope is set.

    Example:
        >>> init_default_scope('mmpretrain')
        >>> model = model_of_config(Config(dict(model=dict(
        ...     type='ImageClassifier', backbone=dict(type='LeNet5')))))
        >>> type(model.backbone).__name__
        'LeNet5'
    """
    if cfg.get('model', None) is None:
        return None
    model_cfg = copy.deepcopy(dict(cfg.model))
    if cfg.get('data_preprocessor', None) is not None:
        model_cfg.setdefault('data_preprocessor',
                             copy.deepcopy(dict(cfg.data_preprocessor)))
    try:
        return MODELS.build(model_cfg)
    except Exception as err:
        raise ValueError(
            f"EfficientTrainHook.size_divisor='auto' reads the model, but "
            f'cfg.model (type {model_cfg.get("type")!r}) does not build: '
            f'{type(err).__name__}: {err}; set size_divisor to an int') \
            from err


def curriculum_of_config(cfg: Config,
                         iters_per_epoch: Optional[int] = None
                         ) -> ConfigCurriculum:
    """Resolve the EfficientTrainHook of ``cfg`` into its plan, with
    :func:`~etpp_mm.attach.attach_curriculum`, as the hook does (its other
    arguments, such as ``replay``, play no part in the plan). With
    ``size_divisor='auto'`` (the default) the model of ``cfg.model`` is
    built to read it, as training does.

    Args:
        cfg: a config with an ``EfficientTrainHook`` in ``custom_hooks``.
        iters_per_epoch: train iterations per epoch; ``None`` builds the
            train dataset to count them.

    Example:
        >>> cfg = Config.fromfile('configs/fashion_mnist/'
        ...     'resnet18-w8_etpp-b10_1xb128_fmnist.py')  # doctest: +SKIP
        >>> curriculum_of_config(cfg).plan.total_epochs  # doctest: +SKIP
    """
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    hook_cfg = _our_hook_cfg(cfg)
    options = CurriculumOptions.from_hook_cfg(hook_cfg)
    dataset_cfg = dataset_cfg_with_pipeline(cfg.train_dataloader.dataset)
    pipeline = Compose(copy.deepcopy(dataset_cfg['pipeline']))
    recipe_epochs = cfg.train_cfg.max_epochs
    # the hook reads the model after adapt_model, but at the full size,
    # where the probe runs, the adapted classes compute as MMPretrain's
    model = model_of_config(cfg) if options.size_divisor == 'auto' else None
    attached = attach_curriculum([pipeline],
                                 recipe_epochs,
                                 options,
                                 model=model)
    plan = attached.plan
    if iters_per_epoch is None:
        try:
            iters_per_epoch = iters_per_epoch_of(cfg)
        except (OSError, RuntimeError) as err:
            raise RuntimeError(
                'cannot build the train dataset to count the iterations per '
                f'epoch ({type(err).__name__}: {err}); give them instead '
                '(print_curriculum.py --iters-per-epoch N)') from err
    if plan.mode == 'etpp':
        lr_starts = lr_at_compute(
            cfg, plan, [plan.compute_fraction(s.begin_epoch)
                        for s in plan.stages], iters_per_epoch, hook_cfg)
    else:
        steps = [s.begin_epoch * iters_per_epoch for s in plan.stages]
        lr_starts = lr_at_recipe_steps(cfg, steps, iters_per_epoch)
    accumulate = cfg.optim_wrapper.get('accumulative_counts', 1)
    scales = stage_batch_scales(hook_cfg.get('batch_scale') or 1,
                                [s.size for s in plan.stages],
                                plan.full_size,
                                -(-iters_per_epoch // accumulate))
    optimizer = plain_optim_wrapper_cfg(cfg)['optimizer']['type']
    factors = stage_lr_factors(
        scales, optimizer if isinstance(optimizer, str) else
        optimizer.__name__, hook_cfg.get('lr_scaling', 'auto'))
    lr_starts = [lr * f for lr, f in zip(lr_starts, factors)]  # as trained
    return ConfigCurriculum(plan, iters_per_epoch, lr_starts,
                            attached.resolver,
                            scales)
