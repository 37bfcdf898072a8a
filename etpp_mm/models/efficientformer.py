"""EfficientFormer's attention at every token grid up to its configured
one.

MMPretrain's ``AttentionWithBias`` learns one bias per head and relative
offset of a fixed ``resolution x resolution`` grid (7 x 7 at 224 px) and
indexes it with a table of that grid only, so a smaller input fails. The
offsets of a smaller grid are a subset of the configured grid's, so the
same learnt biases serve it exactly; at the configured grid the result is
MMPretrain's, bit for bit.
"""
import math

import torch
from mmpretrain.models.backbones.efficientformer import AttentionWithBias
from torch import nn

from .grid_index import square_grid, sub_grid_index


class ResolutionAdaptiveAttentionWithBias(AttentionWithBias):
    """``AttentionWithBias`` for any square token grid up to its
    ``resolution`` (same parameters and checkpoint keys).

    Example:
        >>> attention = ResolutionAdaptiveAttentionWithBias(
        ...     8, num_heads=2, key_dim=4, resolution=7)
        >>> attention(torch.rand(2, 9, 8)).shape  # a 3 x 3 grid
        torch.Size([2, 9, 8])
    """

    def train(self, mode: bool = True):
        # MMPretrain caches the bias of the configured grid for eval; the
        # grid changes with the stage, so the bias is indexed per call.
        return nn.Module.train(self, mode)

    def bias_index(self, tokens: int) -> torch.Tensor:
        """The bias column of each (query, key) pair of a square grid of
        ``tokens`` tokens."""
        full = self.attention_bias_idxs
        side = math.isqrt(full.shape[0])
        grid = square_grid(tokens, 'EfficientFormer attention')
        cache = self.__dict__.setdefault('_bias_index', {})
        key = (grid, full.device)
        if key not in cache:
            cache[key] = sub_grid_index(full, grid, (side, side))
        return cache[key]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, tokens, _ = x.shape
        qkv = self.qkv(x).reshape(batch, tokens, self.num_heads, -1)
        q, k, v = qkv.permute(0, 2, 1, 3).split(
            [self.key_dim, self.key_dim, self.d], dim=-1)
        bias = self.attention_biases[:, self.bias_index(tokens)]
        attn = ((q @ k.transpose(-2, -1)) * self.scale + bias).softmax(-1)
        out = (attn @ v).transpose(1, 2).reshape(batch, tokens, self.dh)
        return self.proj(out)
