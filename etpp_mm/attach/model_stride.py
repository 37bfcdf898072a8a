"""``size_divisor='auto'``: the stage-size divisor read from the built model.

A stage size the network does not take whole is cropped, padded or rounded
somewhere inside it (a ViT's last partial patch, a ConvNet's last odd
feature map). The divisor is read from the model once, before training:
one forward of a zero image at the full train size through the backbone
(gradients off, eval mode, the model's tensors, mode and the random number
generators restored afterwards), from which the network's total stride (or
patch size) follows.
"""
import math
from typing import Any, List, Optional, Sequence, Tuple

import torch
from torch import nn

from etpp_mm.ops.size import SizeLike, to_size_pair
from .model_check import PreservedModel

# Strides tried below the network's own, largest first: a train size that
# is not a multiple of the total stride (28 px for a stride of 32) still
# takes the largest power of two that divides it.
STRIDES_BELOW = (32, 16, 8, 4, 2)
# The largest power of two a total stride is compared with (2**11 = 2048).
_MAX_POWER = 11


def probed_part(model: nn.Module) -> nn.Module:
    """The part whose stride sets the divisor: ``model.backbone`` where
    there is one (necks and heads pool or flatten), else the model."""
    backbone = getattr(model, 'backbone', None)
    return backbone if isinstance(backbone, nn.Module) else model


def total_stride(full: int, out: int) -> int:
    """The stride of a network that maps ``full`` pixels to ``out``.

    Padded convolutions give ``ceil(full / s)`` outputs and unpadded ones
    ``floor(full / s)``, so the stride ``s`` lies between ``full / (out +
    1)`` and ``full / (out - 1)``; networks stride by powers of two, so the
    power of two in that range nearest ``full / out`` is taken, else
    ``full / out`` rounded (a patch size such as 14).

    Example:
        >>> total_stride(224, 7), total_stride(28, 1), total_stride(518, 37)
        (32, 32, 14)
    """
    ratio = full / out
    high = full / (out - 1) if out > 1 else math.inf
    powers = [
        2**k for k in range(_MAX_POWER + 1) if full / (out + 1) < 2**k < high
    ]
    if powers:
        return min(powers, key=lambda p: abs(math.log(p / ratio)))
    return max(1, round(ratio))


def _stride_of(full: Tuple[int, int], out: Tuple[int, int]) -> int:
    """:func:`total_stride` along the side with more outputs (the tighter
    reading)."""
    side = 0 if out[0] >= out[1] else 1
    return total_stride(full[side], out[side])


def patch_size_of(part: nn.Module) -> Optional[int]:
    """The patch size of the first patch embedding in ``part``: the stride
    of a ``PatchEmbed``'s ``projection`` convolution (MMPretrain's and
    MMCV's), else a ``patch_size`` attribute; ``None`` without one.

    Example:
        >>> from mmcv.cnn.bricks.transformer import PatchEmbed
        >>> patch_size_of(nn.Sequential(PatchEmbed(kernel_size=16)))
        16
    """
    for module in part.modules():
        projection = getattr(module, 'projection', None)
        if 'PatchEmbed' in type(module).__name__ and isinstance(
                projection, nn.Conv2d):
            return math.lcm(*projection.stride)  # one size for both sides
        size = getattr(module, 'patch_size', None)
        if isinstance(size, int) and not isinstance(size, bool) and size > 0:
            return size
        if isinstance(size, (tuple, list)) and len(size) == 2 and all(
                isinstance(s, int) and s > 0 for s in size):
            return math.lcm(*size)
    return None


def input_channels(model: nn.Module, part: nn.Module) -> List[int]:
    """Channel counts to probe with, the likeliest first: the first 2-D
    convolution's ``in_channels``, the data preprocessor's mean, then 3.

    Example:
        >>> input_channels(nn.Conv2d(1, 8, 3), nn.Conv2d(1, 8, 3))
        [1, 3]
    """
    counts = []
    conv = next((m for m in part.modules() if isinstance(m, nn.Conv2d)),
                None)
    if conv is not None:
        counts.append(conv.in_channels)
    mean = getattr(getattr(model, 'data_preprocessor', None), 'mean', None)
    if isinstance(mean, torch.Tensor) and mean.numel() > 0:
        counts.append(mean.numel())
    counts.append(3)
    return list(dict.fromkeys(counts))


def _last_4d(output: Any) -> Optional[torch.Tensor]:
    """The last 4-D tensor of a backbone's (nested) outputs."""
    if isinstance(output, torch.Tensor):
        return output if output.dim() == 4 else None
    if isinstance(output, dict):
        output = list(output.values())
    if isinstance(output, (tuple, list)):
        for item in reversed(output):
            found = _last_4d(item)
            if found is not None:
                return found
    return None


def _forward(model: nn.Module, part: nn.Module, full: Tuple[int, int],
             channels: int) -> Tuple[Optional[Tuple[int, int]],
                                     Optional[Tuple[int, int]]]:
    """One forward of a zero image through ``part``: the spatial size of
    its last 4-D output and the smallest output of a 2-D convolution whose
    input is larger than 1x1 (squeeze-excitation convolutions work on
    pooled 1x1 maps and say nothing of the stride)."""
    smallest: List[Tuple[int, int]] = []

    def record(module, inputs, output):
        if (inputs and isinstance(inputs[0], torch.Tensor)
                and inputs[0].dim() == 4 and inputs[0].shape[-2:].numel() > 1
                and isinstance(output, torch.Tensor) and output.dim() == 4):
            size = tuple(output.shape[-2:])
            if not smallest or size[0] * size[1] < \
                    smallest[0][0] * smallest[0][1]:
                smallest[:] = [size]

    tensor = next(iter(part.parameters()), None)
    if tensor is None:
        tensor = next(iter(part.buffers()), torch.zeros(()))
    dtype = tensor.dtype if tensor.is_floating_point() else torch.float32
    image = torch.zeros(1, channels, *full, device=tensor.device, dtype=dtype)
    handles = [
        m.register_forward_hook(record) for m in part.modules()
        if isinstance(m, nn.Conv2d)
    ]
    try:
        with PreservedModel(model), torch.no_grad():
            model.eval()
            output = _last_4d(part(image))
    finally:
        for handle in handles:
            handle.remove()
    return (None if output is None else tuple(output.shape[-2:]),
            smallest[0] if smallest else None)


def network_stride(model: nn.Module,
                   full_size: SizeLike) -> Tuple[Optional[int], str]:
    """The network's total stride (or patch size) and where it was read,
    or ``None`` and why not; never raises for the probe.

    Read, in this order, from the backbone's last 4-D output, from a patch
    embedding (a ViT's outputs are tokens), or from the smallest feature
    map a convolution outputs (a backbone that pools, such as MMPretrain's
    ConvNeXt).

    Example:
        >>> network_stride(nn.Conv2d(3, 4, 8, stride=8), 64)
        (8, "Conv2d's total stride 8 (its output is 8x8 at 64x64)")
    """
    full = to_size_pair(full_size)
    part = probed_part(model)
    name = type(part).__name__
    at = f'{full[0]}x{full[1]}'
    output = conv = error = None
    for channels in input_channels(model, part):
        try:
            output, conv = _forward(model, part, full, channels)
            break
        except Exception as exc:  # any failure only means no reading
            error = error or (channels, exc)
    if output is not None:
        stride = _stride_of(full, output)
        return stride, (f"{name}'s total stride {stride} (its output is "
                        f'{output[0]}x{output[1]} at {at})')
    patch = patch_size_of(part)
    if patch is not None:
        return patch, f"{name}'s patch size {patch}"
    if conv is not None:
        stride = _stride_of(full, conv)
        return stride, (f"{name}'s total stride {stride} (its smallest "
                        f'convolution output is {conv[0]}x{conv[1]} at {at})')
    if error is not None:
        channels, exc = error
        message = (str(exc).strip().splitlines() or [''])[0]  # one log line
        return None, (f'{name} could not be probed: its forward of a '
                      f'1x{channels}x{at} zero image failed '
                      f'({type(exc).__name__}: {message})')
    return None, (f'{name} has no 4-D output, patch embedding or '
                  f'convolution at {at} to read a stride from')


def size_divisor_of(model: nn.Module,
                    full_size: SizeLike,
                    sizes: Sequence[SizeLike] = ()) -> Tuple[int, str]:
    """The ``size_divisor`` of ``'auto'`` for ``model`` at ``full_size``,
    and why.

    The divisor is the largest of the network's stride (its total stride
    or patch size, see :func:`network_stride`) and the powers of two below
    it (:data:`STRIDES_BELOW`) that divides every side of ``full_size`` and
    of ``sizes`` and is at most half the smaller side (so the presets'
    reduced stages stay below the train size); 1 when none does or the
    stride cannot be read. The probe itself never raises.

    Args:
        model (nn.Module): the built model; ``model.backbone`` is probed
            where there is one. Its tensors, mode and the random number
            generators are as before afterwards.
        full_size (int | tuple[int, int]): the train size.
        sizes (list): more sizes the divisor must divide (your own stage
            table's).

    Returns:
        tuple[int, str]: the divisor and a short reason for the log.

    Example:
        >>> from mmpretrain.models import ResNet
        >>> size_divisor_of(ResNet(depth=18), 224)
        (32, "ResNet's total stride 32 (its output is 7x7 at 224x224)")
        >>> size_divisor_of(ResNet(depth=18, in_channels=1), 28)[0]
        4
    """
    full = to_size_pair(full_size)
    stride, reason = network_stride(model, full)
    if stride is None:
        return 1, reason
    sides = list(full) + [s for size in sizes for s in to_size_pair(size)]
    for divisor in [stride] + [s for s in STRIDES_BELOW if s < stride]:
        if divisor <= min(full) // 2 and all(s % divisor == 0
                                             for s in sides):
            break
    else:
        divisor = 1
    if divisor == stride:
        return divisor, reason
    what = " and your stages' sizes" if sizes else ''
    return divisor, (f'{reason}; {divisor} is the largest power of two '
                     f'below it that divides the train size '
                     f'{full[0]}x{full[1]}{what} and is at most half of it')
