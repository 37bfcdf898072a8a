"""FLOPs of a config's model at the curriculum's sizes (MMEngine glue).

The arithmetic lives in :mod:`etpp_mm.curriculum.flops`; this module builds
the model of a config and counts, with MMEngine's complexity analysis, what
one image costs at each size.
"""
import contextlib
import copy
import logging
from typing import Dict, Iterable, List, Tuple

import torch
from mmengine.analysis import get_model_complexity_info
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope
from mmpretrain.models.utils.attention import \
    scaled_dot_product_attention_pyimpl
from mmpretrain.registry import MODELS

SizePair = Tuple[int, int]

# Backbones that raise on feature maps smaller than their window unless told
# to pad them (MMPretrain's Swin keeps window 7 at every size).
PAD_SMALL_MAP_BACKBONES = ('SwinTransformer', 'SwinTransformerV2')


@contextlib.contextmanager
def _quiet_current_logger():
    """Hide the tracer's per-size warnings (elementwise ops such as BN and
    pooling, which MMEngine does not count by design; the loss module never
    called): they repeat for every size and would mix into ``--json``
    output on stdout."""
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _trace_attention_as_matmuls(model: torch.nn.Module) -> int:
    """Make attention countable; returns how many modules were changed.

    MMPretrain's attention calls the fused
    ``F.scaled_dot_product_attention``, which MMEngine's tracer does not
    count: the ``N x N`` products (quadratic in tokens, about 8% of DeiT-S
    at 224) would be missing and small sizes would look dearer than they
    are. MMPretrain's own Python version computes the same thing with two
    ``matmul`` calls, which are counted.
    """
    changed = 0
    for module in model.modules():
        attention = getattr(module, 'scaled_dot_product_attention', None)
        if attention is torch.nn.functional.scaled_dot_product_attention:
            module.scaled_dot_product_attention = \
                scaled_dot_product_attention_pyimpl
            changed += 1
    return changed


class _TensorForward(torch.nn.Module):
    """Wrap a classifier so a plain ``module(inputs)`` runs backbone, neck
    and head (``mode='tensor'``), which is what the tracer calls."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, inputs: torch.Tensor):
        return self.model(inputs, mode='tensor')


def prepare_model_cfg(cfg: Config) -> Tuple[dict, List[str]]:
    """The ``model`` config to count FLOPs with, and notes on changes made.

    MMPretrain's Swin needs ``pad_small_map=True`` below 224 (the official
    ET++ code resizes the window instead); padding adds FLOPs at small
    sizes, so the estimate for Swin is slightly pessimistic.

    Example:
        >>> cfg = Config(dict(model=dict(
        ...     type='ImageClassifier',
        ...     backbone=dict(type='SwinTransformer', arch='tiny'))))
        >>> model_cfg, notes = prepare_model_cfg(cfg)
        >>> model_cfg['backbone']['pad_small_map']
        True
    """
    model_cfg = copy.deepcopy(cfg.model)
    notes = []
    backbone = model_cfg.get('backbone', None) or {}
    if backbone.get('type') in PAD_SMALL_MAP_BACKBONES \
            and not backbone.get('pad_small_map', False):
        backbone['pad_small_map'] = True
        notes.append(f'set model.backbone.pad_small_map=True ('
                     f'{backbone["type"]} raises on small inputs otherwise; '
                     'padding makes small sizes slightly dearer)')
    return model_cfg, notes


def input_channels(cfg: Config) -> int:
    """Channels of the model's input: the length of the data preprocessor's
    ``mean`` when it has one, else 3."""
    for preprocessor in (cfg.get('data_preprocessor', None),
                         cfg.model.get('data_preprocessor', None)):
        if preprocessor and preprocessor.get('mean', None) is not None:
            return len(preprocessor['mean'])
    return 3


def build_model_for_flops(cfg: Config) -> Tuple[torch.nn.Module, List[str]]:
    """Build ``cfg.model`` in eval mode for counting.

    Returns:
        tuple: the model, and notes on changes made to its config.
    """
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    model_cfg, notes = prepare_model_cfg(cfg)
    model = MODELS.build(model_cfg)
    _trace_attention_as_matmuls(model)
    model.eval()  # no dropout / drop-path, BN uses running stats
    return model, notes


def flops_at_sizes(model: torch.nn.Module,
                   sizes: Iterable[SizePair],
                   channels: int = 3) -> Dict[SizePair, float]:
    """FLOPs of one ``channels x h x w`` image through ``model`` at each size.

    Args:
        model: an MMPretrain classifier (``forward(inputs, mode='tensor')``).
        sizes: ``(h, w)`` pairs.
        channels: input channels.

    Returns:
        dict: ``{(h, w): flops}``, FLOPs as MMEngine counts them (one per
        multiply-add).

    Raises:
        RuntimeError: naming the size the model could not run at.

    Example:
        >>> model, _ = build_model_for_flops(cfg)  # doctest: +SKIP
        >>> flops_at_sizes(model, [(224, 224)])  # doctest: +SKIP
        {(224, 224): 4111514624}
    """
    wrapped = _TensorForward(model)
    result = {}
    with torch.no_grad(), _quiet_current_logger():
        for h, w in sizes:
            inputs = torch.zeros(1, channels, h, w)
            try:
                info = get_model_complexity_info(
                    wrapped,
                    inputs=(inputs, ),
                    show_table=False,
                    show_arch=False)
            except Exception as err:  # the model's own error, with the size
                raise RuntimeError(
                    f'the model cannot run at {h}x{w} '
                    f'({type(err).__name__}: {err}); sizes must suit the '
                    'model, e.g. be divisible by its patch size (set the '
                    "hook's size_divisor)") from err
            result[(h, w)] = float(info['flops'])
    return result
