"""Make the parts of a built MMPretrain model that only take their
configured input size take every stage size, in place.

MMPretrain's ``SwinTransformer`` (its window at small sizes), ``MAEViT``
and ``MAEPretrainDecoder`` (fixed position embeddings) fail below their
configured size. Their variants here have the same parameters and
state-dict keys and differ only in what their forward computes, so a built
module can become its variant in place: an optimizer already built on its
parameters keeps them, and checkpoints load both ways. A Swin configured
with ``pad_small_map=True`` takes small sizes by padding and is kept.
"""
from typing import List

from mmpretrain.models.backbones import SwinTransformer
from mmpretrain.models.necks import MAEPretrainDecoder
from mmpretrain.models.selfsup import MAEViT
from torch import nn

from .mae import ResolutionAdaptiveMAEPretrainDecoder, ResolutionAdaptiveMAEViT
from .swin import ResolutionAdaptiveSwinTransformer

# variants that change nothing but forward: the class is all there is to swap
_FORWARD_ONLY = {
    MAEViT: ResolutionAdaptiveMAEViT,
    MAEPretrainDecoder: ResolutionAdaptiveMAEPretrainDecoder,
}


def adapt_to_any_size(model: nn.Module) -> List[str]:
    """Turn each MMPretrain ``SwinTransformer``, ``MAEViT`` and
    ``MAEPretrainDecoder`` of ``model`` (exactly those classes) into its
    variant that takes any input size; returns one line per change.

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
    changes = []
    for name, module in model.named_modules():
        kind = type(module)
        if kind is SwinTransformer:
            if any(getattr(m, 'pad_small_map', False)
                   for m in module.modules()):
                continue  # the user's choice: small maps are padded
            ResolutionAdaptiveSwinTransformer.adopt(module)
        elif kind in _FORWARD_ONLY:
            module.__class__ = _FORWARD_ONLY[kind]
        else:
            continue
        changes.append(f'{name or type(model).__name__}: {kind.__name__} -> '
                       f'{type(module).__name__}')
    return changes
