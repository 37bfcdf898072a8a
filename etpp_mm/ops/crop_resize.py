"""A padded random crop and Pillow's Lanczos resize as one step.

MMPretrain's ``RandomCrop(crop_size, padding=p)`` pads the image with a
constant, draws an offset and copies a window out; the low-frequency step
then resizes that window. Here the window is never built: the rows of the
two Lanczos matrices that fall on the padding are summed into a constant
term (padding value times their weights), the others multiply the image
pixels they land on. Every weight is a multiple of ``2**-22`` and so is
every partial sum (see :mod:`.lanczos`), so the result equals pad, crop,
then :func:`~etpp_mm.ops.lanczos.lanczos_resize` bit for bit, for the cost
of two small matrix products on the unpadded image.

Boxes are ``(top, left, height, width)`` in the unpadded image's pixels:
``top``/``left`` are negative where the window starts in the padding.
"""
import functools
import math
from typing import Sequence, Tuple

import numpy as np

from .lanczos import (MATRIX_MAX_MACS, _round_pass, lanczos_matrix,
                      matrix_macs, pillow_lanczos)

Box = Tuple[int, int, int, int]


def four_sides(padding) -> Tuple[int, int, int, int]:
    """``(left, top, right, bottom)`` from ``mmcv.impad``'s padding forms:
    an int, ``(left/right, top/bottom)`` or ``(left, top, right, bottom)``.

    Example:
        >>> four_sides(2), four_sides((4, 1)), four_sides(None)
        ((2, 2, 2, 2), (4, 1, 4, 1), (0, 0, 0, 0))
    """
    if padding is None:
        return (0, 0, 0, 0)
    if type(padding) is tuple and len(padding) == 4 and \
            type(padding[0]) is int:  # already normalised (per image)
        return padding
    if isinstance(padding, (int, np.integer)):
        return (int(padding), ) * 4
    padding = tuple(int(p) for p in padding)
    if len(padding) == 2:
        return padding + padding
    if len(padding) != 4:
        raise ValueError('padding must be an int or a 2 or 4 element '
                         f'sequence, got {padding!r}')
    return padding


def random_crop_box(hw: Tuple[int, int],
                    crop_size: Tuple[int, int],
                    padding=None,
                    pad_if_needed: bool = False) -> Box:
    """The window MMPretrain's ``RandomCrop`` cuts from an ``hw`` image.

    The same NumPy draws in the same order as its ``rand_crop_params`` on
    the padded image (none when the padded image already has the crop's
    size), so a seed gives the same window.

    Args:
        hw (tuple[int, int]): The image's ``(H, W)``.
        crop_size (tuple[int, int]): The crop's ``(h, w)``.
        padding: As ``RandomCrop.padding``; None for none.
        pad_if_needed (bool): As ``RandomCrop.pad_if_needed``.

    Returns:
        tuple: ``(top, left, height, width)`` in the unpadded image.

    Example:
        >>> np.random.seed(0)
        >>> random_crop_box((28, 28), (28, 28), padding=2)
        (2, -2, 28, 28)
    """
    left, top, right, bottom = four_sides(padding)
    h, w = hw[0] + top + bottom, hw[1] + left + right
    target_h, target_w = crop_size
    if pad_if_needed:
        h_pad = math.ceil(max(0, target_h - h) / 2)
        w_pad = math.ceil(max(0, target_w - w) / 2)
        h, w = h + 2 * h_pad, w + 2 * w_pad
        top, left = top + h_pad, left + w_pad
    if (h, w) == (target_h, target_w):
        return -top, -left, h, w
    target_h, target_w = min(h, target_h), min(w, target_w)
    offset_h = np.random.randint(0, h - target_h + 1)
    offset_w = np.random.randint(0, w - target_w + 1)
    return offset_h - top, offset_w - left, target_h, target_w


def _overlap(start: int, length: int, size: int) -> Tuple[int, int]:
    """The image span ``[a, b)`` inside a window ``[start, start +
    length)`` of an axis of ``size`` pixels (``a == b`` when none)."""
    a = min(max(start, 0), size)
    return a, max(a, min(start + length, size))


def padded_crop(img: np.ndarray, box: Box, fill: np.ndarray,
                flip: bool = False) -> np.ndarray:
    """The window ``box`` of ``img`` padded with ``fill`` where it leaves
    the image: what pad-then-crop gives, without the padded copy.

    Args:
        img (numpy.ndarray): ``(H, W)`` or ``(H, W, C)``.
        box (tuple): ``(top, left, height, width)``.
        fill (numpy.ndarray): the padding value, per channel (``(C,)``) or
            a scalar array, of ``img``'s dtype.
        flip (bool): mirror the window left to right. Defaults to False.

    Example:
        >>> img = np.arange(4, dtype=np.uint8).reshape(2, 2)
        >>> padded_crop(img, (-1, 0, 2, 3), np.uint8(9))
        array([[9, 9, 9],
               [0, 1, 9]], dtype=uint8)
    """
    top, left, th, tw = box
    r0, r1 = _overlap(top, th, img.shape[0])
    c0, c1 = _overlap(left, tw, img.shape[1])
    window = img[r0:r1, c0:c1]
    if flip:
        window = window[:, ::-1]
        # the window's columns land mirrored in the output
        c0, c1 = 2 * left + tw - c1, 2 * left + tw - c0
    if (r0, r1, c0, c1) == (top, top + th, left, left + tw):
        return window.copy()
    out = np.empty((th, tw) + img.shape[2:], img.dtype)
    out[...] = fill
    out[r0 - top:r1 - top, c0 - left:c1 - left] = window
    return out


@functools.lru_cache(maxsize=1024)
def _folded(in_size: int, out_size: int, lo: int, hi: int,
            transpose: bool, flip: bool = False
            ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One pass over a window of ``in_size`` pixels whose ``[lo, hi)``
    are image: the image columns of its matrix (contiguous, transposed if
    asked; its output rows reversed to ``flip``), the summed weights of the
    padding and of all columns."""
    # Pillow skips a pass whose size does not change: the identity.
    m = np.eye(in_size) if in_size == out_size else lanczos_matrix(
        in_size, out_size)
    if flip:  # a mirrored output reads the same weights in reverse
        m = m[::-1]
    image = m[:, lo:hi]
    total = m.sum(axis=1)
    pad = total - image.sum(axis=1)
    return np.ascontiguousarray(image.T if transpose else image), pad, total


def padded_crop_resize(img: np.ndarray, box: Box, size: Tuple[int, int],
                       fill: np.ndarray, flip: bool = False) -> np.ndarray:
    """Pillow's Lanczos resize of the padded window ``box`` to ``size``.

    Equal bit for bit to ``lanczos_resize(padded_crop(img, box, fill),
    size)``, mirrored left to right after it when ``flip``. uint8 images
    of few pixels take the folded matrix products; others are cropped
    first and resized by the cheaper route of
    :func:`~etpp_mm.ops.lanczos.pillow_lanczos`.

    Args:
        img (numpy.ndarray): uint8 ``(H, W)`` or ``(H, W, C)``.
        box (tuple): ``(top, left, height, width)``, e.g. from
            :func:`random_crop_box`.
        size (tuple[int, int]): the output ``(h, w)``.
        fill (numpy.ndarray): uint8 padding value, scalar or ``(C,)``.
        flip (bool): mirror the output left to right (the horizontal
            pass's weights in reverse: free). Defaults to False.

    Returns:
        numpy.ndarray: the ``(h, w[, C])`` uint8 image.

    Raises:
        TypeError: on an image that is not uint8 (Pillow's filters).

    Example:
        >>> from etpp_mm.ops import lanczos_resize
        >>> img = np.random.RandomState(0).randint(
        ...     0, 256, (28, 28), dtype=np.uint8)
        >>> box, fill = (-2, 1, 28, 28), np.uint8(0)
        >>> out = padded_crop_resize(img, box, (12, 12), fill)
        >>> ref = lanczos_resize(padded_crop(img, box, fill), 12)
        >>> bool((out == ref).all())
        True
    """
    top, left, th, tw = box
    h, w = size
    if (h, w) == (th, tw):
        return padded_crop(img, box, fill, flip)
    if img.dtype != np.uint8:
        raise TypeError(f'expected a uint8 image, got {img.dtype}')
    if matrix_macs((th, tw) + img.shape[2:], size) > MATRIX_MAX_MACS:
        out = pillow_lanczos(padded_crop(img, box, fill), h, w)
        return np.ascontiguousarray(out[:, ::-1]) if flip else out
    r0, r1 = _overlap(top, th, img.shape[0])
    c0, c1 = _overlap(left, tw, img.shape[1])
    mw, pad_w, sum_w = _folded(tw, w, c0 - left, c1 - left, True, flip)
    mh, pad_h, _ = _folded(th, h, r0 - top, r1 - top, False)
    x = img[r0:r1, c0:c1]
    if img.ndim == 3:  # (rows, C, cols): each pass is one 2-D product
        x = x.transpose(0, 2, 1)
        fill = np.broadcast_to(fill, img.shape[2:])[:, None]
    t = x.astype(np.float64) @ mw
    padded = fill.any()  # a zero padding adds nothing
    if padded and c1 - c0 < tw:
        t += fill * pad_w
    t = _round_pass(t).reshape(r1 - r0, -1)
    out = mh @ t
    if padded and r1 - r0 < th:
        # a row of padding through the horizontal pass, rounded
        pad_row = _round_pass(fill * sum_w).ravel()
        out += pad_h[:, None] * pad_row
    out = _round_pass(out, floor=False)
    if img.ndim == 3:
        return out.reshape(h, -1, w).transpose(0, 2, 1).astype(np.uint8)
    return out.astype(np.uint8)


def fill_value(pad_val, img: np.ndarray) -> np.ndarray:
    """``pad_val`` as the padding ``cv2.copyMakeBorder`` writes into
    ``img`` (what ``mmcv.impad`` uses): a ``(C,)`` or scalar array of its
    dtype.

    Example:
        >>> fill_value(3, np.zeros((2, 2), np.uint8))
        array(3, dtype=uint8)
    """
    import cv2
    probe = np.zeros((1, 1) + img.shape[2:], img.dtype)
    value = tuple(pad_val) if isinstance(pad_val, Sequence) else pad_val
    out = cv2.copyMakeBorder(probe, 1, 0, 0, 0, cv2.BORDER_CONSTANT,
                             value=value)
    return out[0, 0].copy() if img.ndim == 3 else np.array(
        out[0, 0], img.dtype)
