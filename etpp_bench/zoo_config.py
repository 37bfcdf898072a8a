"""The model-zoo sweep's configs: which of MMPretrain's configs it trains,
and the two small runs it makes of each (the recipe alone, and the recipe
with ``EfficientTrainHook``) on a folder of photos.

Both runs keep the recipe's model, optimizer, schedules, hooks and train
pipeline; they change only what a two-core machine without network or GPU
needs: the data, the batch, no validation or checkpoints, no AMP, no
pretrained weights.
"""
import copy
import glob
import math
import os.path as osp
from typing import Any, Dict, List, Optional, Tuple

PROBE_MODULE = 'etpp_bench.zoo_probe'
# configs that build one of these train on text too (captions, questions):
# MMPretrain keeps them in this package, or, without its multimodal
# dependencies, registers a placeholder from this module in their place
MULTIMODAL_MODULES = ('mmpretrain.models.multimodal',
                      'mmpretrain.utils.dependency')
# MMEngine dataset wrappers whose inner dataset holds the pipeline
WRAPPER_KEYS = ('dataset', 'datasets')
# optimizer-wrapper keys only AmpOptimWrapper takes
AMP_ONLY_KEYS = ('loss_scale', 'dtype', 'use_fsdp')


def zoo_config_root() -> str:
    """The folder of the installed MMPretrain's configs
    (``<mmpretrain>/.mim/configs``)."""
    import mmpretrain
    return osp.join(osp.dirname(mmpretrain.__file__), '.mim', 'configs')


def zoo_configs(root: str) -> List[Tuple[str, str]]:
    """``(family, path)`` of every config under ``root/<family>/``, sorted,
    ``_base_`` left out.

    Example:
        >>> import os, tempfile
        >>> root = tempfile.mkdtemp()
        >>> for name in ('_base_/a.py', 'vgg/vgg16.py', 'resnet/r50.py',
        ...              'resnet/r18.py'):
        ...     os.makedirs(osp.dirname(osp.join(root, name)),
        ...                 exist_ok=True)
        ...     open(osp.join(root, name), 'w').close()
        >>> [(f, osp.basename(p)) for f, p in zoo_configs(root)]
        [('resnet', 'r18.py'), ('resnet', 'r50.py'), ('vgg', 'vgg16.py')]
    """
    found = []
    for path in sorted(glob.glob(osp.join(root, '*', '*.py'))):
        family = osp.basename(osp.dirname(path))
        if family != '_base_':
            found.append((family, path))
    return found


def registered_module(name: Any, scope: str = 'mmpretrain') -> str:
    """The module that defines what MMPretrain's ``MODELS`` registers under
    ``name`` ('' if nothing is).

    Example:
        >>> registered_module('ImageClassifier')
        'mmpretrain.models.classifiers.image'
    """
    if not isinstance(name, str):
        return getattr(name, '__module__', '')
    import mmpretrain.models  # noqa: F401  fills the registry
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import MODELS
    # a scope of its own: a sweep may load configs of several scopes
    with DefaultScope.overwrite_default_scope(scope):
        built = MODELS.get(name)
    return getattr(built, '__module__', '') if built is not None else ''


def why_not_trained(cfg: Any) -> Optional[str]:
    """Why the sweep does not train ``cfg``, or None when it does.

    A config is trained when it has ``train_dataloader``, ``train_cfg``
    and an optimizer (``optim_wrapper.optimizer``) and its model is not one
    of MMPretrain's multimodal models (trained on text as well as images).

    Example:
        >>> why_not_trained(dict(model=dict(type='ImageClassifier'),
        ...     train_dataloader=dict(batch_size=2), train_cfg=dict(),
        ...     optim_wrapper=dict(optimizer=dict(type='SGD'))))
        >>> why_not_trained(dict(model=dict(type='BlipCaption'),
        ...     train_dataloader=dict(batch_size=2), train_cfg=dict(),
        ...     optim_wrapper=dict(optimizer=dict(type='AdamW'))))
        'multimodal model BlipCaption'
        >>> why_not_trained(dict(model=dict(type='BlipCaption')))
        'no train_dataloader, train_cfg or optimizer'
    """
    optim_wrapper = cfg.get('optim_wrapper') or {}
    if not (cfg.get('train_dataloader') and cfg.get('train_cfg') is not None
            and optim_wrapper.get('optimizer')):
        return 'no train_dataloader, train_cfg or optimizer'
    model_type = (cfg.get('model') or {}).get('type')
    module = registered_module(model_type, cfg.get('default_scope')
                               or 'mmpretrain')
    if module.startswith(MULTIMODAL_MODULES):
        return f'multimodal model {model_type}'
    return None


def model_group(cfg: Any) -> int:
    """The sweep's order of models: 0 for supervised models without
    attention (ConvNets, MLPs), 1 for supervised models with attention
    (ViTs, Swin and other window models), 2 for self-supervised ones.

    Read from the code MMPretrain builds: the model class's package
    (``mmpretrain.models.selfsup``) and whether the backbone's module
    mentions attention.

    Example:
        >>> model_group(dict(model=dict(type='ImageClassifier',
        ...     backbone=dict(type='ResNet'))))
        0
        >>> model_group(dict(model=dict(type='ImageClassifier',
        ...     backbone=dict(type='SwinTransformer'))))
        1
        >>> model_group(dict(model=dict(type='MAE',
        ...     backbone=dict(type='MAEViT'))))
        2
    """
    import inspect
    import sys
    model = cfg.get('model') or {}
    scope = cfg.get('default_scope') or 'mmpretrain'
    if registered_module(model.get('type'), scope).startswith(
            'mmpretrain.models.selfsup'):
        return 2
    backbone = model.get('backbone') or {}
    module = sys.modules.get(registered_module(backbone.get('type'), scope))
    try:
        source = inspect.getsource(module) if module else ''
    except (OSError, TypeError):
        source = ''
    return 1 if 'ttention' in source or 'attn' in source else 0


def drop_pretrained(node: Any) -> Any:
    """``node`` (a model config) without what loads weights from a file or
    the network: ``init_cfg`` entries of type ``'Pretrained'``, and string
    values of ``pretrained``, ``checkpoint`` and ``init_cfg`` keys.

    Example:
        >>> drop_pretrained(dict(type='ImageClassifier', backbone=dict(
        ...     type='ResNet', init_cfg=[dict(type='Kaiming'), dict(
        ...         type='Pretrained', checkpoint='https://x/y.pth')]),
        ...     head=dict(type='LinearClsHead', init_cfg=dict(
        ...         type='Pretrained', checkpoint='a.pth')),
        ...     pretrained='b.pth'))
        ... # doctest: +NORMALIZE_WHITESPACE
        {'type': 'ImageClassifier', 'backbone': {'type': 'ResNet',
         'init_cfg': [{'type': 'Kaiming'}]},
         'head': {'type': 'LinearClsHead', 'init_cfg': None},
         'pretrained': None}
    """
    if isinstance(node, (list, tuple)):
        kept = [
            drop_pretrained(item) for item in node
            if not (isinstance(item, dict) and item.get('type') ==
                    'Pretrained')
        ]
        return type(node)(kept)
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if isinstance(value, dict) and value.get('type') == 'Pretrained':
            value = None
        elif key in ('pretrained', 'checkpoint', 'init_cfg') and isinstance(
                value, str):
            value = None
        out[key] = drop_pretrained(value)
    return out


def recipe_pipeline(dataset: Any) -> List[dict]:
    """The train pipeline of a dataset config, through MMEngine's wrappers
    (``RepeatDataset``, ``ConcatDataset``...: the first inner dataset).

    Example:
        >>> recipe_pipeline(dict(type='RepeatDataset', times=2,
        ...     dataset=dict(type='ImageNet', pipeline=[dict(type='A')])))
        [{'type': 'A'}]
    """
    while isinstance(dataset, dict) and 'pipeline' not in dataset:
        inner = [dataset.get(k) for k in WRAPPER_KEYS if dataset.get(k)]
        if not inner:
            return []
        dataset = inner[0][0] if isinstance(inner[0],
                                            (list, tuple)) else inner[0]
    return list(copy.deepcopy(dataset.get('pipeline') or []))


def photo_dataset(cfg: Any, photos: str, images: int) -> dict:
    """A ``CustomDataset`` of the first ``images`` photos of ``photos``
    with the recipe's train pipeline.

    Recipes whose dataset gives decoded arrays (MNIST, CIFAR) get
    ``LoadImageFromFile`` in front of their pipeline, in grayscale when the
    model normalises one channel.

    Example:
        >>> photo_dataset(dict(train_dataloader=dict(dataset=dict(
        ...     type='MNIST', pipeline=[dict(type='Resize', scale=32)])),
        ...     model=dict(data_preprocessor=dict(mean=[33.46]))), '/p', 4)
        ... # doctest: +NORMALIZE_WHITESPACE
        {'type': 'CustomDataset', 'data_root': '/p', 'indices': 4,
         'pipeline': [{'type': 'LoadImageFromFile', 'color_type':
         'grayscale'}, {'type': 'Resize', 'scale': 32}]}
    """
    pipeline = recipe_pipeline(cfg['train_dataloader']['dataset'])
    if not (pipeline and 'LoadImage' in str(pipeline[0].get('type'))):
        preprocessor = (cfg.get('model') or {}).get(
            'data_preprocessor') or cfg.get('data_preprocessor') or {}
        load = dict(type='LoadImageFromFile')
        if len(preprocessor.get('mean') or ()) == 1:
            load['color_type'] = 'grayscale'
        pipeline.insert(0, load)
    return dict(
        type='CustomDataset',
        data_root=photos,
        indices=images,
        pipeline=pipeline)


def plain_optim_wrapper(optim_wrapper: dict) -> dict:
    """``optim_wrapper`` with ``AmpOptimWrapper`` (GPU only) replaced by
    ``OptimWrapper``, the optimizer, ``paramwise_cfg``, ``clip_grad``,
    ``accumulative_counts`` and constructor kept.

    Example:
        >>> plain_optim_wrapper(dict(type='AmpOptimWrapper', loss_scale=
        ...     'dynamic', optimizer=dict(type='AdamW'), clip_grad=None))
        ... # doctest: +NORMALIZE_WHITESPACE
        {'type': 'OptimWrapper', 'optimizer': {'type': 'AdamW'},
         'clip_grad': None}
    """
    out = copy.deepcopy(dict(optim_wrapper))
    if out.get('type') == 'AmpOptimWrapper':
        out['type'] = 'OptimWrapper'
        for key in AMP_ONLY_KEYS:
            out.pop(key, None)
    return out


def sweep_budget(iters_per_epoch: int,
                 stages: int = 10,
                 full_size_iters: float = 1.2) -> float:
    """The budget (equivalent full-size epochs) at which each of the
    ``stages`` equal compute shares of an ET++ plan holds
    ``full_size_iters`` iterations at the full size (more at the smaller
    sizes: ``(full/stage size)^2`` times as many).

    It does not depend on the recipe's length: ET++ counts the plan in
    equivalent epochs, and the recipe's ``max_epochs`` only sets how the
    schedules are laid along the plan's compute.

    Example:
        >>> sweep_budget(4)  # 8 photos, batch 2
        3.0
    """
    return round(stages * full_size_iters / iters_per_epoch, 4)


def sweep_config(cfg: Any,
                 photos: str,
                 probe_path: str,
                 curriculum: bool,
                 images: int,
                 batch_size: int = 2,
                 budget: Optional[float] = None,
                 hook_options: Optional[Dict[str, Any]] = None,
                 recipe_iters: int = 2) -> dict:
    """One run's config of a recipe, as a plain dict.

    Common to both runs: the train set is ``images`` photos of ``photos``
    (``CustomDataset``, the recipe's pipeline), ``batch_size`` per batch
    and no loader workers; no validation or test; ``OptimWrapper`` instead
    of ``AmpOptimWrapper``; no pretrained weights (:func:`drop_pretrained`,
    ``load_from=None``); a log line per iteration and no checkpoints;
    ``ZooInputProbe`` writing to ``probe_path``.

    The recipe run (``curriculum=False``) trains ``recipe_iters``
    iterations, stopped by the probe (``stop_after_iters``): its
    ``train_cfg`` stays the recipe's, as its schedules need. The
    curriculum run adds
    ``EfficientTrainHook(budget=budget, **hook_options)`` and keeps the
    recipe's length, which the hook replaces by its plan's; a ``budget``
    above the recipe's ``max_epochs`` is allowed.

    Example:
        >>> recipe = dict(model=dict(type='ImageClassifier'),
        ...     train_dataloader=dict(batch_size=64, num_workers=8,
        ...         dataset=dict(type='ImageNet', pipeline=[
        ...             dict(type='LoadImageFromFile')])),
        ...     train_cfg=dict(by_epoch=True, max_epochs=300),
        ...     optim_wrapper=dict(optimizer=dict(type='SGD')),
        ...     val_dataloader=dict(), default_hooks=dict(
        ...         logger=dict(type='LoggerHook', interval=100)))
        >>> run = sweep_config(recipe, '/photos', '/run/probe.json',
        ...                    curriculum=False, images=8)
        >>> run['train_dataloader']['dataset']['indices']
        8
        >>> run['custom_hooks']  # doctest: +NORMALIZE_WHITESPACE
        [{'type': 'ZooInputProbe', 'path': '/run/probe.json',
          'stop_after_iters': 2}]
        >>> run = sweep_config(recipe, '/photos', '/run/probe.json',
        ...                    curriculum=True, images=8, budget=3.0)
        >>> run['train_cfg']['max_epochs'], run['custom_hooks'][0]
        (300, {'type': 'EfficientTrainHook', 'budget': 3.0})
        >>> run['custom_imports']['imports'], run['val_dataloader']
        (['etpp_mm', 'etpp_bench.zoo_probe'], None)
    """
    out = copy.deepcopy(cfg.to_dict() if hasattr(cfg, 'to_dict') else
                        dict(cfg))
    loader = out['train_dataloader']
    loader.update(
        batch_size=batch_size,
        num_workers=0,
        persistent_workers=False,
        dataset=photo_dataset(out, photos, images))
    loader.pop('prefetch_factor', None)  # only with workers
    for split in ('val', 'test'):
        for key in (f'{split}_dataloader', f'{split}_cfg',
                    f'{split}_evaluator'):
            out[key] = None
    out['optim_wrapper'] = plain_optim_wrapper(out['optim_wrapper'])
    out['model'] = drop_pretrained(out.get('model'))
    out['load_from'] = None
    out['resume'] = False
    hooks = dict(out.get('default_hooks') or {})
    logger = dict(hooks.get('logger') or dict(type='LoggerHook'))
    logger['interval'] = 1
    hooks.update(logger=logger, checkpoint=None)
    out['default_hooks'] = hooks

    imports = dict(out.get('custom_imports') or {})
    modules = list(imports.get('imports') or [])
    wanted = (['etpp_mm'] if curriculum else []) + [PROBE_MODULE]
    modules += [m for m in wanted if m not in modules]
    imports.update(imports=modules, allow_failed_imports=False)
    out['custom_imports'] = imports
    custom_hooks = list(out.get('custom_hooks') or [])
    if curriculum:
        hook = dict(type='EfficientTrainHook', budget=budget)
        hook.update(hook_options or {})
        max_epochs = out['train_cfg'].get('max_epochs')
        if isinstance(max_epochs, (int, float)) and budget is not None \
                and budget > max_epochs:
            hook.setdefault('allow_budget_above_recipe', True)
        custom_hooks.append(hook)
    probe = dict(type='ZooInputProbe', path=probe_path)
    if not curriculum:
        probe['stop_after_iters'] = recipe_iters
    custom_hooks.append(probe)
    out['custom_hooks'] = custom_hooks
    return out


def iters_per_epoch(images: int, batch_size: int) -> int:
    """Iterations of one epoch of ``images`` at ``batch_size`` (a last
    partial batch counts).

    Example:
        >>> iters_per_epoch(9, 2)
        5
    """
    return math.ceil(images / batch_size)
