"""Relative-position tables read for a smaller token grid.

Attention with a learnt bias per relative offset (BEiT, HiViT,
EfficientFormer) indexes its table with a ``(tokens, tokens)`` index built
for the configured grid. Every offset of a smaller grid is an offset of the
configured one, so the smaller grid's index is the configured index at the
positions of the smaller grid placed inside the configured one: the same
learnt bias for the same offset, and the configured grid unchanged.
"""
from typing import List, Tuple

import torch


def grid_positions(grid: Tuple[int, int], full_grid: Tuple[int, int],
                   extra_tokens: int = 0) -> List[int]:
    """Token positions, in the configured grid's order, of a smaller grid
    placed at its top-left (extra tokens, e.g. a class token, first).

    Example:
        >>> grid_positions((2, 2), (3, 3))
        [0, 1, 3, 4]
        >>> grid_positions((1, 2), (3, 3), extra_tokens=1)
        [0, 1, 2]
    """
    (h, w), (full_h, full_w) = grid, full_grid
    if h > full_h or w > full_w:
        raise ValueError(f'a {h}x{w} token grid does not fit the configured '
                         f"{full_h}x{full_w}: use stage sizes no larger than "
                         "the recipe's")
    return list(range(extra_tokens)) + [
        extra_tokens + r * full_w + c for r in range(h) for c in range(w)
    ]


def sub_grid_index(full_index: torch.Tensor, grid: Tuple[int, int],
                   full_grid: Tuple[int, int],
                   extra_tokens: int = 0) -> torch.Tensor:
    """The ``(tokens, tokens)`` table index of ``grid`` from the configured
    grid's ``full_index``.

    Example:
        >>> full = torch.arange(81).view(9, 9)  # a 3 x 3 grid's index
        >>> sub_grid_index(full, (2, 2), (3, 3)).tolist()[0]
        [0, 1, 3, 4]
    """
    positions = torch.tensor(grid_positions(grid, full_grid, extra_tokens),
                             device=full_index.device)
    return full_index[positions][:, positions]


def square_grid(tokens: int, what: str) -> Tuple[int, int]:
    """The side of a square grid of ``tokens`` tokens, refusing others.

    Example:
        >>> square_grid(36, 'HiViT attention')
        (6, 6)
    """
    side = int(round(tokens**0.5))
    if side * side != tokens:
        raise ValueError(f'{what} takes square token grids, got {tokens} '
                         'tokens: use square stage sizes')
    return side, side


def input_patch_grid(backbone: torch.nn.Module,
                     image: torch.Tensor) -> Tuple[int, int]:
    """The patch grid ``image`` makes in a backbone with a ``patch_embed``
    convolution (``projection``), for the forward pre-hooks of the
    variants that follow the input's grid.

    Example:
        >>> from mmpretrain.models import VisionTransformer
        >>> vit = VisionTransformer(arch=dict(
        ...     embed_dims=8, num_layers=1, num_heads=2,
        ...     feedforward_channels=16), img_size=64, patch_size=16)
        >>> input_patch_grid(vit, torch.zeros(1, 3, 96, 64))
        (6, 4)
    """
    stride = backbone.patch_embed.projection.stride
    height, width = image.shape[-2:]
    return height // stride[0], width // stride[1]
