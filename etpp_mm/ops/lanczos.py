"""Pillow's Lanczos resize as two small matrix products.

Pillow resizes in two separable passes, horizontal then vertical, each
rounded to uint8. A pass is a weighted sum over a window of input pixels:

* filter ``sinc(x) * sinc(x / 3)`` on ``-3 <= x < 3``, stretched by the
  down-scale factor ``s = in / out`` when shrinking (support ``3 * s``),
  which is what makes it a low-pass filter;
* output ``i`` centred at ``(i + 0.5) * s``; its window
  ``[int(c - support + 0.5), int(c + support + 0.5))`` clipped to the
  image, each tap weighted ``f((j - c + 0.5) / max(s, 1))``;
* each row of weights divided by its sum, then rounded to fixed point
  with 22 fractional bits (half away from zero);
* each output ``(sum + 2**21) >> 22`` clipped to ``[0, 255]``.

A pass is skipped when its size does not change. Here each pass is a dense
``out x in`` matrix holding those fixed-point weights times ``2**-22``.
In float64 every product and every partial sum is an exact multiple of
``2**-22`` far below ``2**53``, so the products equal Pillow's integer sums
exactly and the result is bit-identical to ``PIL.Image.resize(...,
LANCZOS)``, whatever order BLAS sums in. For the small images of the early
curriculum stages two BLAS calls cost far less than a PIL round trip.
"""
import functools
from typing import Optional, Tuple
import numpy as np

from .size import SizeLike, image_hw, to_size_pair

PRECISION_BITS = 22
SUPPORT = 3.0
# Dense products cost in * out per row while Pillow's windows cost about
# 6 * in / out taps, so past a few million multiply-adds per image (about
# 128 x 128 x 3 -> 54, measured on one core) Pillow is the faster of the
# two equal results.
MATRIX_MAX_MACS = 3_000_000


def _lanczos(x: np.ndarray) -> np.ndarray:
    """Pillow's truncated sinc: ``sinc(x) * sinc(x / 3)`` on [-3, 3)."""
    # np.sinc(x) is sin(pi x) / (pi x) with sinc(0) = 1, Pillow's sinc_filter
    # up to the last bit of libm's sin.
    w = np.sinc(x) * np.sinc(x / 3)
    return np.where((x >= -SUPPORT) & (x < SUPPORT), w, 0.0)


@functools.lru_cache(maxsize=512)
def lanczos_matrix(in_size: int,
                   out_size: int,
                   in0: float = 0.0,
                   in1: Optional[float] = None) -> np.ndarray:
    """The ``out_size x in_size`` matrix of one Pillow Lanczos pass.

    Cached per arguments; the returned array is read-only.

    Args:
        in_size (int): Input length along the axis.
        out_size (int): Output length along the axis.
        in0 (float): Start of the resampled span, in input pixels (Pillow's
            ``box``, rounded to float32 as Pillow does). Defaults to 0.
        in1 (float, optional): Its end. Defaults to ``in_size``.

    Returns:
        numpy.ndarray: float64 weights, each Pillow's 22-bit fixed-point
        weight times ``2**-22``; rows sum to about 1.

    Examples:
        >>> m = lanczos_matrix(28, 12)
        >>> m.shape, bool(abs(m.sum(axis=1) - 1).max() < 1e-5)
        ((12, 28), True)
    """
    if in_size < 1 or out_size < 1:
        raise ValueError(f'sizes must be positive, got in_size={in_size}, '
                         f'out_size={out_size}')
    in0 = float(np.float32(in0))
    in1 = float(np.float32(in_size if in1 is None else in1))
    scale = (in1 - in0) / out_size
    filterscale = max(scale, 1.0)
    support = SUPPORT * filterscale
    center = in0 + (np.arange(out_size) + 0.5) * scale
    # C's (int) cast truncates toward zero; negatives are clipped to 0.
    lo = np.maximum(np.trunc(center - support + 0.5), 0)
    hi = np.minimum(np.trunc(center + support + 0.5), in_size)
    j = np.arange(in_size, dtype=np.float64)
    inside = (j >= lo[:, None]) & (j < hi[:, None])
    w = np.where(inside, _lanczos((j - center[:, None] + 0.5) / filterscale),
                 0.0)
    # Pillow sums the window left to right; cumsum keeps that order (the
    # zeros outside the window add nothing).
    total = np.cumsum(w, axis=1)[:, -1:]
    w = np.divide(w, total, out=w, where=total != 0)
    fixed = np.trunc(w * (1 << PRECISION_BITS) + np.copysign(0.5, w))
    m = fixed * 2.0**-PRECISION_BITS
    m.setflags(write=False)
    return m


def matrix_macs(shape: tuple, size: Tuple[int, int]) -> int:
    """Multiply-adds of :func:`lanczos_resize` for an image of ``shape``.

    Examples:
        >>> matrix_macs((28, 28), (12, 12))
        13440
    """
    in_h, in_w = shape[:2]
    c = shape[2] if len(shape) == 3 else 1
    h, w = size
    macs = in_h * c * in_w * w if w != in_w else 0
    return macs + (h * in_h * c * w if h != in_h else 0)


def _round_pass(t: np.ndarray, floor: bool = True) -> np.ndarray:
    """Pillow's ``clip8``: floor(t + 0.5) clipped to [0, 255], in place.

    ``floor=False`` leaves the floor to a following cast to uint8 (which
    truncates, the same on values >= 0).
    """
    # Two ufuncs: np.clip's Python wrapper costs several microseconds,
    # more than the whole product on a 28 x 28 image.
    t += 0.5
    np.maximum(t, 0.0, out=t)
    np.minimum(t, 255.0, out=t)
    return np.floor(t, out=t) if floor else t


def lanczos_resize(img: np.ndarray, size: SizeLike) -> np.ndarray:
    """Resize a uint8 image exactly as Pillow's Lanczos does.

    Args:
        img (numpy.ndarray): uint8 image ``(H, W)`` or ``(H, W, C)``, any
            channel count and order (channels are independent).
        size (int | tuple[int, int]): Target ``h`` (square) or ``(h, w)``.
            Enlarging works too (Pillow's rule, no stretched support).

    Returns:
        numpy.ndarray: The ``(h, w[, C])`` uint8 image; ``img`` itself when
        the size does not change.

    Raises:
        TypeError: On an array that is not uint8.
        ValueError: On a wrong rank or a bad size.

    Examples:
        >>> from PIL import Image
        >>> img = np.random.RandomState(0).randint(0, 256, (28, 28, 3),
        ...                                        dtype=np.uint8)
        >>> out = lanczos_resize(img, 12)
        >>> ref = np.asarray(Image.fromarray(img).resize(
        ...     (12, 12), Image.Resampling.LANCZOS))
        >>> out.shape, bool((out == ref).all())
        ((12, 12, 3), True)
    """
    if not isinstance(img, np.ndarray) or img.dtype != np.uint8:
        raise TypeError(f'expected a uint8 numpy.ndarray, got '
                        f'{getattr(img, "dtype", type(img).__name__)}')
    h, w = to_size_pair(size)
    if (h, w) == image_hw(img):
        return img
    return resize_unchecked(img, h, w)


def resize_unchecked(img: np.ndarray,
                     h: int,
                     w: int,
                     box: Optional[Tuple[float, float, float, float]] = None
                     ) -> np.ndarray:
    """:func:`lanczos_resize` on arguments the caller has checked.

    ``box`` is Pillow's ``(left, top, right, bottom)`` sub-pixel source
    region (``Image.resize(..., box=box)``); None for the whole image.
    """
    in_h, in_w = img.shape[:2]
    left, top, right, bottom = box or (0, 0, in_w, in_h)
    mw = lanczos_matrix(in_w, w, left, right)
    mh = lanczos_matrix(in_h, h, top, bottom)
    # Pillow's test, quirk included: it compares the box's right edge with
    # the output width.
    horizontal = w != in_w or left != 0 or right != w
    vertical = h != in_h or top != 0 or bottom != h
    if img.ndim == 2:
        t = img.astype(np.float64)
        if horizontal:
            t = _round_pass(t @ mw.T, floor=vertical)
        if vertical:
            t = _round_pass(mh @ t, floor=False)
        return t.astype(np.uint8)
    c = img.shape[2]
    # (H, C, W) rows so that each pass is one 2-D BLAS product.
    t = img.transpose(0, 2, 1).astype(np.float64)
    if horizontal:
        t = _round_pass(t.reshape(in_h * c, in_w) @ mw.T, floor=vertical)
    if vertical:
        t = _round_pass(mh @ t.reshape(in_h, c * w), floor=False)
    return t.reshape(h, c, w).transpose(0, 2, 1).astype(np.uint8)


def pillow_lanczos(img: np.ndarray,
                   h: int,
                   w: int,
                   box: Optional[Tuple[float, float, float, float]] = None
                   ) -> np.ndarray:
    """Pillow's Lanczos result by the cheaper of the two equal routes.

    ``box`` is Pillow's sub-pixel source region ``(left, top, right,
    bottom)``; None for the whole image.

    Dense products when :func:`matrix_macs` is at most
    ``MATRIX_MAX_MACS``, else Pillow itself (grey or 3-channel images;
    other channel counts always take the products). Arguments are not
    checked; ``img`` is uint8 ``(H, W)`` or ``(H, W, C)``.

    Examples:
        >>> img = np.zeros((300, 400, 3), np.uint8)
        >>> pillow_lanczos(img, 96, 128).shape
        (96, 128, 3)
    """
    if box is None and (h, w) == img.shape[:2]:
        return img
    if matrix_macs(img.shape, (h, w)) <= MATRIX_MAX_MACS or (
            img.ndim == 3 and img.shape[2] != 3):
        return resize_unchecked(img, h, w, box)
    from PIL import Image
    # np.array, not asarray: a view of PIL's buffer is read-only and later
    # in-place steps (RandomErasing, Cutout) write into the image.
    return np.array(
        Image.fromarray(img).resize((w, h), Image.Resampling.LANCZOS,
                                    box=box))


def lanczos_resize_torch(imgs, size: SizeLike, dtype=None):
    """Pillow's Lanczos on a batch ``(..., H, W)`` tensor, on its device.

    With ``dtype=torch.float64`` (the default) the result equals Pillow's
    bit for bit (see the module docstring); ``torch.float32`` is faster on
    accelerators and stays within one grey level of Pillow on real photos.

    Args:
        imgs (torch.Tensor): ``(..., H, W)`` with values in [0, 255], e.g.
            a uint8 ``(N, C, H, W)`` batch.
        size (int | tuple[int, int]): Target ``h`` or ``(h, w)``.
        dtype (torch.dtype, optional): Compute type. Defaults to float64.

    Returns:
        torch.Tensor: ``(..., h, w)`` uint8, on ``imgs.device``; ``imgs``
        itself when the size does not change.

    Examples:
        >>> import torch
        >>> x = torch.randint(0, 256, (2, 3, 28, 28), dtype=torch.uint8)
        >>> y = lanczos_resize_torch(x, 12)
        >>> y.shape, y.dtype
        (torch.Size([2, 3, 12, 12]), torch.uint8)
        >>> ref = lanczos_resize(x[1].permute(1, 2, 0).numpy(), 12)
        >>> bool((y[1].permute(1, 2, 0).numpy() == ref).all())
        True
    """
    import torch
    dtype = torch.float64 if dtype is None else dtype
    in_h, in_w = image_hw(imgs)
    h, w = to_size_pair(size)
    if (h, w) == (in_h, in_w):
        return imgs
    t = imgs.to(dtype)
    if w != in_w:
        mw = torch.tensor(lanczos_matrix(in_w, w).T, device=t.device)
        t = torch.matmul(t, mw.to(dtype)).add_(0.5).floor_().clamp_(0, 255)
    if h != in_h:
        mh = torch.tensor(lanczos_matrix(in_h, h), device=t.device)
        t = torch.matmul(mh.to(dtype), t).add_(0.5).floor_().clamp_(0, 255)
    return t.to(torch.uint8)
