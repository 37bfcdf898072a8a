"""A dry forward at every reduced stage size before training starts.

A model that cannot take a stage's input size (fixed position embeddings,
windows larger than the feature map, a stride that does not divide the size)
would otherwise fail only when that stage begins, possibly days into a run.
The check feeds a tiny real batch of the train set, made by the train
pipeline at the stage's size, through the data preprocessor and the model's
loss, with gradients off, then restores the model's state and the random
number generators, so training is the same with or without it.
"""
import random
from typing import Any, Callable, Iterable, Optional

import numpy as np
import torch
from torch import nn

# Model classes known to fail at reduced sizes, and the setting that fixes it.
# what EfficientTrainHook.adapt_model=True (the default) does by itself
KNOWN_FIXES = {
    'MAEViT': "model.backbone.type='ResolutionAdaptiveMAEViT'",
    'MAEPretrainDecoder':
    "model.neck.type='ResolutionAdaptiveMAEPretrainDecoder'",
    'SwinTransformer':
    "model.backbone.type='ResolutionAdaptiveSwinTransformer' (or "
    'model.backbone.pad_small_map=True)',
}


def model_parts(model: nn.Module) -> str:
    """``'ImageClassifier(backbone=ResNet, head=LinearClsHead)'``."""
    parts = [
        f'{name}={type(getattr(model, name)).__name__}'
        for name in ('backbone', 'neck', 'head')
        if isinstance(getattr(model, name, None), nn.Module)
    ]
    return f'{type(model).__name__}({", ".join(parts)})'


def known_fixes(model: nn.Module) -> list:
    """The settings of :data:`KNOWN_FIXES` that apply to ``model``'s parts."""
    names = {type(m).__name__ for m in model.modules()}
    return [fix for cls, fix in KNOWN_FIXES.items() if cls in names]


def loss_forward(model: nn.Module, data_batch: Any) -> Any:
    """What a train step computes before the backward pass."""
    data = model.data_preprocessor(data_batch, training=True)
    if isinstance(data, dict):
        return model(**data, mode='loss')
    return model(*data, mode='loss')


class PreservedModel:
    """Restores a model's tensors, mode and the global RNGs on exit.

    Tensors are copied back module by module, not through
    ``load_state_dict``: some models re-make buffers for the input size in
    forward (EVA-02's rotary tables) or drop them from their state dicts
    (Swin v2's coordinate tables), which a state-dict round trip refuses.

    Example:
        >>> layer = nn.BatchNorm1d(2)
        >>> with PreservedModel(layer):
        ...     _ = layer(torch.ones(4, 2))  # updates the running mean
        >>> layer.running_mean, layer.training
        (tensor([0., 0.]), True)
    """

    def __init__(self, model: nn.Module):
        self.model = model

    def __enter__(self):
        self.tensors = {
            (module, kind, name): tensor.detach().clone()
            for module in self.model.modules()
            for kind in ('_parameters', '_buffers')
            for name, tensor in getattr(module, kind).items()
            if tensor is not None
        }
        self.training = self.model.training
        self.rng = (torch.get_rng_state(), np.random.get_state(),
                    random.getstate())
        return self

    def __exit__(self, *exc):
        for (module, kind, name), saved in self.tensors.items():
            current = getattr(module, kind).get(name)
            if current is not None and current.shape == saved.shape:
                with torch.no_grad():
                    current.copy_(saved)
            elif kind == '_buffers':  # re-made at another shape, or dropped
                module._buffers[name] = saved
            elif current is not None:
                current.data = saved
            else:
                module._parameters[name] = nn.Parameter(saved)
        self.model.train(self.training)
        torch.set_rng_state(self.rng[0])
        np.random.set_state(self.rng[1])
        random.setstate(self.rng[2])
        return False


def check_model_at_sizes(model: nn.Module,
                         stages: Iterable[int],
                         make_batch: Callable[[int], Any],
                         describe: Callable[[int], str],
                         key: str = 'EfficientTrainHook',
                         log: Optional[Callable[[str], None]] = None) -> None:
    """Run ``model``'s loss on ``make_batch(stage)`` for each stage index.

    Raises ``ValueError`` naming the model, the stage (``describe(stage)``)
    and what to change, chained to the original error.

    Example:
        >>> import torch
        >>> from mmpretrain.models import ImageClassifier
        >>> from mmpretrain.structures import DataSample
        >>> model = ImageClassifier(
        ...     backbone=dict(type='ResNet', depth=18),
        ...     neck=dict(type='GlobalAveragePooling'),
        ...     head=dict(type='LinearClsHead', num_classes=2,
        ...               in_channels=512))
        >>> def batch(stage):
        ...     size = (32, 64)[stage]
        ...     return dict(inputs=torch.rand(2, 3, size, size),
        ...                 data_samples=[DataSample().set_gt_label(0)] * 2)
        >>> check_model_at_sizes(model, [0, 1], batch, lambda s: f'stage {s}')
    """
    for stage in stages:
        with PreservedModel(model), torch.no_grad():
            model.eval()
            try:
                batch = make_batch(stage)
            except Exception as error:
                raise ValueError(
                    f'the train pipeline (train_dataloader.dataset.pipeline) '
                    f'fails at {describe(stage)}: {type(error).__name__}: '
                    f'{error}') from error
            try:
                loss_forward(model, batch)
            except Exception as error:
                fixes = known_fixes(model)
                hint = (' Known fix: ' + '; '.join(fixes) + '.') if fixes \
                    else ''
                raise ValueError(
                    f'{model_parts(model)} cannot train at {describe(stage)}:'
                    f' {type(error).__name__}: {error}.{hint} Or change the '
                    f'stage sizes ({key}.preset/stages/size_divisor), or set '
                    f'{key}.check_model=False to skip this check.') from error
        if log is not None:
            log(f'model check passed at {describe(stage)}')

