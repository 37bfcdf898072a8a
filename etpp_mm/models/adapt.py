"""Make the parts of a built MMPretrain model that only take their
configured input size take every stage size, in place.

Three kinds of change, each keeping the module's parameters and state-dict
keys (an optimizer already built on them keeps them, checkpoints load both
ways):

* a class swap to a variant here that differs only in forward:
  ``SwinTransformer`` (its window follows the size), ``MAEViT`` and
  ``MAEPretrainDecoder`` (position embeddings at any grid), EfficientFormer's
  ``AttentionWithBias``, HiViT's attention and BEiT's shared
  ``RelativePositionBias`` (their bias tables read for smaller grids; BEiT's backbone then tells the bias
  its input's patch grid), ``MaskFeatViT`` and CAE's ``CAEPretrainViT``
  (their position embedding read at the input's grid), CAE's ``CAENeck``
  (its mask-token count) and MaskFeat's ``HOGGenerator`` (its cells per
  patch);
* ``pad_small_map=True`` on the other shifted-window attentions (DaViT,
  Swin v2, SimMIM's Swin): feature maps smaller than the window are padded
  to it, MMPretrain's own option for that;
* nothing where the user chose already: a ``SwinTransformer`` configured
  with ``pad_small_map=True`` is kept.
"""
from typing import List

from mmpretrain.models.backbones import SwinTransformer
from mmpretrain.models.backbones.beit import RelativePositionBias
from mmpretrain.models.backbones.efficientformer import AttentionWithBias
from mmpretrain.models.backbones.hivit import Attention as HiViTAttention
from mmpretrain.models.necks import MAEPretrainDecoder
from mmpretrain.models.necks import CAENeck
from mmpretrain.models.selfsup import (CAEPretrainViT, MAEHiViT, MAEViT,
                                       MaskFeatViT)
from mmpretrain.models.selfsup.maskfeat import HOGGenerator
from mmpretrain.models.utils.attention import ShiftWindowMSA
from torch import nn

from .beit import ResolutionAdaptiveRelativePositionBias, follow_patch_grid
from .efficientformer import ResolutionAdaptiveAttentionWithBias
from .hivit import ResolutionAdaptiveHiViTAttention
from .mae import (ResolutionAdaptiveMAEHiViT,
                  ResolutionAdaptiveMAEPretrainDecoder,
                  ResolutionAdaptiveMAEViT)
from .mim import ResolutionAdaptiveCAENeck, ResolutionAdaptiveHOGGenerator
from .pos_embed import (GridFollowingPosEmbed, ResolutionAdaptiveCAEPretrainViT,
                        ResolutionAdaptiveMaskFeatViT, follow_input_grid)
from .swin import ResolutionAdaptiveSwinTransformer

# variants that change nothing but forward: the class is all there is to swap
_FORWARD_ONLY = {
    MAEViT: ResolutionAdaptiveMAEViT,
    MAEHiViT: ResolutionAdaptiveMAEHiViT,
    MAEPretrainDecoder: ResolutionAdaptiveMAEPretrainDecoder,
    AttentionWithBias: ResolutionAdaptiveAttentionWithBias,
    RelativePositionBias: ResolutionAdaptiveRelativePositionBias,
    MaskFeatViT: ResolutionAdaptiveMaskFeatViT,
    CAEPretrainViT: ResolutionAdaptiveCAEPretrainViT,
    CAENeck: ResolutionAdaptiveCAENeck,
    HiViTAttention: ResolutionAdaptiveHiViTAttention,
}


def _add_pre_hook(module: nn.Module, hook) -> None:
    if hook not in module._forward_pre_hooks.values():
        module.register_forward_pre_hook(hook)


def _patch_size(model: nn.Module) -> int:
    """The patch size of the model's (first) patch embedding, 0 if none."""
    for module in model.modules():
        projection = getattr(getattr(module, 'patch_embed', None),
                             'projection', None)
        if isinstance(projection, nn.Conv2d):
            return projection.stride[0]
    return 0


def _swap_swin(module: nn.Module) -> bool:
    if any(getattr(m, 'pad_small_map', False) for m in module.modules()):
        return False  # the user's choice: small maps are padded
    ResolutionAdaptiveSwinTransformer.adopt(module)
    return True


def adapt_to_any_size(model: nn.Module) -> List[str]:
    """Make every part of ``model`` known to take only its configured size
    take any smaller one (see the module's description); returns one line
    per kind of change (modules of one class changed alike share a line).

    Example:
        >>> import torch
        >>> from mmpretrain.models import ImageClassifier
        >>> model = ImageClassifier(backbone=dict(
        ...     type='SwinTransformer', arch=dict(
        ...         embed_dims=24, depths=[2, 2, 2, 2], num_heads=[1] * 4)))
        >>> adapt_to_any_size(model)
        ['backbone: SwinTransformer -> ResolutionAdaptiveSwinTransformer']
        >>> model.backbone(torch.rand(1, 3, 96, 96))[0].shape[-1]
        3
        >>> adapt_to_any_size(model)  # already adapted
        []
    """
    swaps = {}  # (class, variant) -> the modules changed, in order
    padded = []
    handled = set()  # the submodules of a swapped or kept Swin
    for name, module in model.named_modules():
        if id(module) in handled:
            continue
        label = name or type(model).__name__
        kind = type(module)
        if kind in (SwinTransformer, ResolutionAdaptiveSwinTransformer):
            handled.update(id(m) for m in module.modules())
            if kind is not SwinTransformer or not _swap_swin(module):
                continue
        elif kind is HOGGenerator and _patch_size(model):
            ResolutionAdaptiveHOGGenerator.adopt(module, _patch_size(model))
        elif kind in _FORWARD_ONLY:
            module.__class__ = _FORWARD_ONLY[kind]
        elif isinstance(module, ShiftWindowMSA) and not module.pad_small_map:
            module.pad_small_map = True
            padded.append(label)
            continue
        else:
            continue
        swaps.setdefault((kind.__name__, type(module).__name__),
                         []).append(label)
    for module in model.modules():
        # the variants that read the input's grid are told it by a hook
        if isinstance(getattr(module, 'rel_pos_bias', None),
                      ResolutionAdaptiveRelativePositionBias):
            _add_pre_hook(module, follow_patch_grid)
        if isinstance(module, GridFollowingPosEmbed):
            _add_pre_hook(module, follow_input_grid)
    changes = [
        f'{labels[0]}: {kind} -> {variant}' if len(labels) == 1 else
        f'{len(labels)} x {kind} -> {variant} ({labels[0]}, ...)'
        for (kind, variant), labels in swaps.items()
    ]
    if padded:
        changes.append(
            f'{len(padded)} shifted-window attention(s) ({padded[0]}'
            f'{", ..." if len(padded) > 1 else ""}): pad_small_map=True '
            '(feature maps smaller than the window are padded to it)')
    return changes
