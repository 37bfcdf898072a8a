"""BEiT's shared relative position bias at every patch grid up to its
configured one.

MMPretrain's ``RelativePositionBias`` (BEiT, BEiT v2 pre-training) learns a
bias per head and relative offset of a fixed patch grid (14 x 14 at 224 px)
and returns the bias of that grid only, so a smaller input fails
("size of tensor a (37) must match ... (197)"). A smaller grid's offsets
are a subset of the configured grid's, so the learnt table serves it
exactly: the variant indexes it for the grid of the current input, which a
forward pre-hook on the backbone reads from the image size. At the
configured grid it is MMPretrain's bias exactly.
"""
from typing import Any, Tuple

import torch
from mmpretrain.models.backbones.beit import RelativePositionBias
from torch import nn

from .grid_index import input_patch_grid, sub_grid_index


class ResolutionAdaptiveRelativePositionBias(RelativePositionBias):
    """``RelativePositionBias`` for any patch grid up to its
    ``window_size`` (same parameters and checkpoint keys); ``grid`` is the
    grid of the current input (set by :func:`follow_patch_grid`).

    Example:
        >>> bias = ResolutionAdaptiveRelativePositionBias((14, 14), 2)
        >>> bias().shape  # the configured grid, with the class token
        torch.Size([2, 197, 197])
        >>> bias.grid = (6, 6)
        >>> bias().shape
        torch.Size([2, 37, 37])
    """

    @property
    def grid(self) -> Tuple[int, int]:
        return self.__dict__.get('_grid') or tuple(self.window_size)

    @grid.setter
    def grid(self, value: Tuple[int, int]) -> None:
        self.__dict__['_grid'] = tuple(value)

    def index(self) -> torch.Tensor:
        """Table rows of every (query, key) pair of the current grid,
        class token first."""
        full = self.relative_position_index
        cache = self.__dict__.setdefault('_index', {})
        key = (self.grid, full.device)
        if key not in cache:
            cache[key] = sub_grid_index(full, self.grid,
                                        tuple(self.window_size),
                                        extra_tokens=1)
        return cache[key]

    def forward(self) -> torch.Tensor:
        index = self.index()
        bias = self.relative_position_bias_table[index.reshape(-1)]
        return bias.view(*index.shape, -1).permute(2, 0, 1).contiguous()


def follow_patch_grid(backbone: nn.Module, args: Any) -> None:
    """Forward pre-hook of a BEiT backbone: tell its adaptive relative
    position biases the patch grid of the input image."""
    grid = input_patch_grid(backbone, args[0])
    for module in backbone.modules():
        if isinstance(module, ResolutionAdaptiveRelativePositionBias):
            module.grid = grid
