"""HiViT's main-stage attention at every token grid up to its configured
one.

MMPretrain's HiViT interpolates its absolute position embedding, but the
attention of its main stage adds a relative-position bias indexed for the
configured grid only (14 x 14 at 224 px), so a smaller input fails. The
variant reads the same learnt biases for the input's grid
(:mod:`.grid_index`); at the configured grid it is MMPretrain's exactly.
"""
from mmpretrain.models.backbones.hivit import Attention

from .grid_index import square_grid, sub_grid_index


class ResolutionAdaptiveHiViTAttention(Attention):
    """HiViT's ``Attention`` for any square token grid up to its
    ``input_size`` (same parameters and checkpoint keys).

    Example:
        >>> import torch
        >>> attention = ResolutionAdaptiveHiViTAttention(
        ...     input_size=4, dim=8, num_heads=2)
        >>> attention(torch.rand(1, 4, 8), rpe_index=True).shape
        torch.Size([1, 4, 8])
    """

    def forward(self, x, rpe_index=None, mask=None):
        batch, tokens, channels = x.shape
        qkv = self.qkv(x).reshape(batch, tokens, 3, self.num_heads,
                                  channels // self.num_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)
        attn = (q * self.scale) @ k.transpose(-2, -1)
        if rpe_index is not None:
            full = (self.input_size, ) * 2
            index = self._index(square_grid(tokens, 'HiViT attention'),
                                full)
            bias = self.relative_position_bias_table[index.reshape(-1)]
            attn = attn + bias.view(tokens, tokens, -1).permute(2, 0, 1)
        if mask is not None:
            attn = attn.masked_fill(~mask.bool()[:, None, None, :],
                                    float('-inf'))
        attn = self.attn_drop(self.softmax(attn))
        x = (attn @ v).transpose(1, 2).reshape(batch, tokens, channels)
        return self.proj_drop(self.proj(x))

    def _index(self, grid, full):
        cache = self.__dict__.setdefault('_grid_index', {})
        key = (grid, self.relative_position_index.device)
        if key not in cache:
            cache[key] = sub_grid_index(self.relative_position_index, grid,
                                        full)
        return cache[key]
