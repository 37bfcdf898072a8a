"""Swin Transformer whose attention window follows the input size.

MMPretrain's ``SwinTransformer`` keeps its window (7 at 224) at every input
size: below 224 the last feature maps are smaller than a window and must be
padded (``pad_small_map=True``), which wastes compute (one image at 96 costs
0.25 of 224 instead of 0.18). The EfficientTrain++ authors scale the window
with the input instead, ``window = size // 32`` (3 at 96, 5 at 160, 7 at
224), so every stage keeps the same number of windows per feature map, and
interpolate the relative-position bias table to the smaller window: a
low-frequency image covers the same field of view, so an offset of one token
at 96 px spans what 224/96 tokens span at 224 px.

:class:`ResolutionAdaptiveSwinTransformer` does this on every forward and is
MMPretrain's ``SwinTransformer`` exactly at its configured ``img_size``; its
parameters and state-dict keys are MMPretrain's, so checkpoints load both
ways.
"""
from typing import Tuple

import torch
import torch.nn.functional as F
from mmpretrain.models.backbones import SwinTransformer
from mmpretrain.models.utils.attention import ShiftWindowMSA, WindowMSA
from mmpretrain.registry import MODELS


def resize_relative_position_bias(table: torch.Tensor, window: int,
                                  new_window: int) -> torch.Tensor:
    """Bicubically resize a ``((2w-1)^2, heads)`` relative-position bias
    table of window ``w`` to window ``new_window``.

    Example:
        >>> import torch
        >>> table = torch.rand(13 * 13, 3)  # window 7, 3 heads
        >>> resize_relative_position_bias(table, 7, 3).shape
        torch.Size([25, 3])
        >>> torch.equal(resize_relative_position_bias(table, 7, 7), table)
        True
    """
    if new_window == window:
        return table
    side, new_side = 2 * window - 1, 2 * new_window - 1
    heads = table.shape[1]
    grid = table.t().reshape(1, heads, side, side)
    resized = F.interpolate(
        grid, size=(new_side, new_side), mode='bicubic', align_corners=False)
    return resized.reshape(heads, new_side * new_side).t()


def relative_position_index(window: int) -> torch.Tensor:
    """MMPretrain's index of a ``window x window`` window into its bias
    table (``WindowMSA``'s own construction)."""
    coords = WindowMSA.double_step_seq(2 * window - 1, window, 1, window)
    return (coords + coords.T).flip(1).contiguous()


class _AnyWindowMSA(WindowMSA):
    """``WindowMSA`` attending within ``self.current_window`` (set by the
    backbone per forward), with the bias table resized to it. Same
    parameters and buffers as ``WindowMSA``; only ``forward`` differs."""

    def forward(self, x, mask=None):
        window = getattr(self, 'current_window', self.window_size[0])
        batch_windows, tokens, channels = x.shape
        heads = self.num_heads
        qkv = self.qkv(x).reshape(batch_windows, tokens, 3, heads,
                                  channels // heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0] * self.scale, qkv[1], qkv[2]
        attn = q @ k.transpose(-2, -1)

        table = resize_relative_position_bias(self.relative_position_bias_table,
                                              self.window_size[0], window)
        if window == self.window_size[0]:
            index = self.relative_position_index
        else:
            index = relative_position_index(window).to(x.device)
        bias = table[index.view(-1)].view(tokens, tokens, heads)
        attn = attn + bias.permute(2, 0, 1).unsqueeze(0)
        if mask is not None:
            num_windows = mask.shape[0]
            attn = attn.view(batch_windows // num_windows, num_windows, heads,
                             tokens, tokens) + mask.unsqueeze(1).unsqueeze(0)
            attn = attn.view(-1, heads, tokens, tokens)
        attn = self.attn_drop(self.softmax(attn))
        x = (attn @ v).transpose(1, 2).reshape(batch_windows, tokens,
                                               channels)
        return self.proj_drop(self.proj(x))


@MODELS.register_module()
class ResolutionAdaptiveSwinTransformer(SwinTransformer):
    """``SwinTransformer`` with ``window = window_size * size // img_size``
    (at least 1) for an input of ``size`` (the smaller side), the shift half
    of it, and the relative-position bias table interpolated to it. Same
    arguments as ``SwinTransformer``.

    Example:
        >>> import torch
        >>> from etpp_mm.models import ResolutionAdaptiveSwinTransformer
        >>> swin = ResolutionAdaptiveSwinTransformer(
        ...     arch=dict(embed_dims=24, depths=[2, 2, 2, 2],
        ...               num_heads=[1, 1, 1, 1]))
        >>> [o.shape[-1] for o in swin(torch.rand(1, 3, 96, 96))]
        [3]
        >>> swin.window_for((96, 96)), swin.window_for((160, 160))
        (3, 5)
    """

    def __init__(self, *args, img_size=224, window_size: int = 7, **kwargs):
        super().__init__(
            *args, img_size=img_size, window_size=window_size, **kwargs)
        self._follow_the_size(img_size, window_size)

    def _follow_the_size(self, img_size, window_size: int) -> None:
        side = img_size if isinstance(img_size, int) else min(img_size)
        self.base_img_size = side
        self.base_window = window_size
        self._attentions = [
            m for m in self.modules() if isinstance(m, ShiftWindowMSA)
        ]
        for attention in self._attentions:
            attention.base_shift = attention.shift_size
            # only forward changes: parameters and state-dict keys stay
            attention.w_msa.__class__ = _AnyWindowMSA

    @classmethod
    def adopt(cls, swin: SwinTransformer) -> None:
        """Turn a built MMPretrain ``SwinTransformer`` into this class in
        place: same parameters (an optimizer built on them keeps them),
        same state-dict keys, the window of its configured size.

        Example:
            >>> import torch
            >>> swin = SwinTransformer(arch=dict(
            ...     embed_dims=24, depths=[2, 2, 2, 2], num_heads=[1] * 4))
            >>> ResolutionAdaptiveSwinTransformer.adopt(swin)
            >>> [o.shape[-1] for o in swin(torch.rand(1, 3, 96, 96))]
            [3]
        """
        attentions = [
            m for m in swin.modules() if isinstance(m, ShiftWindowMSA)
        ]
        swin.__class__ = cls
        swin._follow_the_size(min(swin.patch_embed.init_input_size),
                              attentions[0].window_size)

    def window_for(self, hw: Tuple[int, int]) -> int:
        return max(1, self.base_window * min(hw) // self.base_img_size)

    def forward(self, x):
        window = self.window_for(x.shape[-2:])
        for attention in self._attentions:
            attention.window_size = window
            attention.shift_size = window // 2 if attention.base_shift else 0
            attention.w_msa.current_window = window
        return super().forward(x)
