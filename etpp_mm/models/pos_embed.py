"""Position embeddings that follow the input's patch grid, for ViT-family
pre-training backbones that add ``self.pos_embed`` as it is.

MMPretrain's ``VisionTransformer`` resizes its position embedding to the
input's grid, but some masked-image backbones override its forward and add
the embedding of the configured grid directly (``MaskFeatViT``; CAE's
``CAEPretrainViT``, whose algorithm also reads ``backbone.pos_embed`` and
``num_patches``), so a smaller input fails. Their variants here read
``pos_embed`` resized (MMPretrain's ``resize_pos_embed``, as the classifier
does) to the grid of the current input, which a forward pre-hook takes
from the image, and report ``num_patches`` of that grid. The parameter
itself, its gradient path and the checkpoint keys are unchanged; at the
configured grid the embedding is the parameter itself.
"""
from typing import Any

from mmpretrain.models.selfsup import CAEPretrainViT, MaskFeatViT
from mmpretrain.models.utils import resize_pos_embed
from torch import nn

from .grid_index import input_patch_grid


class GridFollowingPosEmbed:
    """Mixin for a ViT subclass: ``pos_embed`` at the current input grid.

    Example:
        >>> import torch
        >>> vit = ResolutionAdaptiveMaskFeatViT(arch=dict(
        ...     embed_dims=8, num_layers=1, num_heads=2,
        ...     feedforward_channels=16), img_size=64, patch_size=16)
        >>> _ = vit.register_forward_pre_hook(follow_input_grid)
        >>> mask = torch.zeros(1, 2, 2, dtype=torch.bool)
        >>> vit(torch.rand(1, 3, 32, 32), mask.flatten(1)).shape
        torch.Size([1, 5, 8])
    """

    def __getattr__(self, name: str) -> Any:
        value = super().__getattr__(name)
        grid = self.__dict__.get('_input_grid')
        if name == 'pos_embed' and grid is not None and grid != tuple(
                self.patch_resolution):
            value = resize_pos_embed(value, self.patch_resolution, grid,
                                     mode=self.interpolate_mode,
                                     num_extra_tokens=self.num_extra_tokens)
        return value

    @property
    def num_patches(self) -> int:
        grid = self.__dict__.get('_input_grid') or self.patch_resolution
        return grid[0] * grid[1]

    @num_patches.setter
    def num_patches(self, value: int) -> None:
        pass  # set by MMPretrain's __init__ for the configured grid


def follow_input_grid(backbone: nn.Module, args: Any) -> None:
    """Forward pre-hook: the patch grid of the input image, for
    :class:`GridFollowingPosEmbed`."""
    backbone.__dict__['_input_grid'] = input_patch_grid(backbone, args[0])


class ResolutionAdaptiveMaskFeatViT(GridFollowingPosEmbed, MaskFeatViT):
    """``MaskFeatViT`` at any patch grid (same parameters and keys)."""


class ResolutionAdaptiveCAEPretrainViT(GridFollowingPosEmbed, CAEPretrainViT):
    """``CAEPretrainViT`` at any patch grid (same parameters and keys)."""
