"""Decode a JPEG at 1/2, 1/4 or 1/8 size when the crop allows it.

A JPEG decoder can skip most of the inverse DCT and produce the image at
``ceil(H / f) x ceil(W / f)`` for ``f`` in 2, 4, 8 (itself a low-pass
down-scaling). When a random crop of ``bh x bw`` pixels will be resized to
``h x w`` anyway, decoding at the largest ``f`` that keeps the crop at
least ``h x w`` pixels costs a fraction of the full decode and of the
resize, and the small output sizes of the early curriculum stages let ``f``
grow.
"""
import io
from typing import Optional, Tuple

import cv2
import numpy as np

REDUCTIONS: Tuple[int, ...] = (8, 4, 2)
_FLAGS = {
    'color': {
        1: cv2.IMREAD_COLOR,
        2: cv2.IMREAD_REDUCED_COLOR_2,
        4: cv2.IMREAD_REDUCED_COLOR_4,
        8: cv2.IMREAD_REDUCED_COLOR_8
    },
    'grayscale': {
        1: cv2.IMREAD_GRAYSCALE,
        2: cv2.IMREAD_REDUCED_GRAYSCALE_2,
        4: cv2.IMREAD_REDUCED_GRAYSCALE_4,
        8: cv2.IMREAD_REDUCED_GRAYSCALE_8
    },
}
COLOR_TYPES = tuple(_FLAGS)
_EXIF_ORIENTATION = 0x0112


def jpeg_size(buf: bytes) -> Optional[Tuple[int, int]]:
    """``(H, W)`` of a JPEG from its header, without decoding it.

    Args:
        buf (bytes): The file's bytes.

    Returns:
        tuple[int, int] | None: The size, or None when ``buf`` is not a
        JPEG or carries an EXIF rotation (the decoder would rotate the
        pixels, so header coordinates would not be image coordinates).

    Examples:
        >>> jpeg_size(b'\\x89PNG\\r\\n') is None
        True
    """
    if not buf.startswith(b'\xff\xd8\xff'):
        return None
    from PIL import Image
    with Image.open(io.BytesIO(buf)) as im:  # reads the header only
        if im.format != 'JPEG':
            return None
        if im.getexif().get(_EXIF_ORIENTATION, 1) != 1:
            return None
        w, h = im.size
    return h, w


def reduced_box(box: Tuple[int, int, int, int],
                factor: int) -> Tuple[float, float, float, float]:
    """Map a crop box onto the image decoded at ``1 / factor``.

    Reduced pixel ``k`` is the average of full pixels ``[k f, (k + 1) f)``,
    so full coordinate ``x`` is ``x / f`` there. The box is kept at sub-pixel
    precision: rounding it to whole reduced pixels would shift the crop by
    up to half a reduced pixel, which costs 5-10 dB against the full-decode
    path on detailed photos.

    Args:
        box (tuple[int, int, int, int]): ``(top, left, height, width)`` in
            full-image pixels, as ``RandomResizedCrop.rand_crop_params``
            returns it.
        factor (int): 1, 2, 4 or 8.

    Returns:
        tuple[float, float, float, float]: Pillow's ``box``, ``(left, top,
        right, bottom)``, in reduced-image pixels.

    Examples:
        >>> reduced_box((10, 21, 300, 203), 4)
        (5.25, 2.5, 56.0, 77.5)
    """
    top, left, bh, bw = box
    return (left / factor, top / factor, (left + bw) / factor,
            (top + bh) / factor)


def choose_reduction(box: Tuple[int, int, int, int],
                     out_hw: Tuple[int, int],
                     reductions: Tuple[int, ...] = REDUCTIONS) -> int:
    """The largest decode reduction that keeps the crop at least ``out_hw``.

    Args:
        box (tuple[int, int, int, int]): ``(top, left, height, width)`` in
            full-image pixels.
        out_hw (tuple[int, int]): The size the crop is resized to.
        reductions (tuple[int, ...]): Candidates, largest first.

    Returns:
        int: A factor ``f`` from ``reductions`` with ``height / f >= h`` and
        ``width / f >= w``, or 1 (full decode).

    Examples:
        >>> choose_reduction((0, 0, 400, 300), (96, 96))
        2
        >>> choose_reduction((0, 0, 400, 300), (32, 32))
        8
        >>> choose_reduction((0, 0, 150, 300), (96, 96))
        1
    """
    _, _, bh, bw = box
    h, w = out_hw
    for factor in reductions:
        if bh >= h * factor and bw >= w * factor:
            return factor
    return 1


def crop_for_resize(img: np.ndarray, box: Tuple[float, float, float, float],
                    out_hw: Tuple[int, int]):
    """Cut ``img`` down to what a Lanczos resize of ``box`` can read.

    Pillow's windows reach ``3 * max(box_len / out, 1)`` pixels (plus one
    for rounding) beyond the box; the dense matrices of
    :func:`etpp_mm.ops.lanczos.lanczos_resize` would otherwise span the
    whole image. Image edges clip the windows the same way either way.

    Args:
        img (numpy.ndarray): ``(H, W)`` or ``(H, W, C)``.
        box (tuple[float, float, float, float]): ``(left, top, right,
            bottom)``.
        out_hw (tuple[int, int]): The resize's output ``(h, w)``.

    Returns:
        tuple: The cut image (a view) and ``box`` relative to it.

    Examples:
        >>> img = np.zeros((100, 150, 3), np.uint8)
        >>> box = (50.5, 10.0, 90.5, 50.0)  # 40 x 40 -> 20 x 20: margin 7
        >>> cut, sub_box = crop_for_resize(img, box, (20, 20))
        >>> cut.shape, sub_box
        ((54, 55, 3), (7.5, 7.0, 47.5, 47.0))
    """
    left, top, right, bottom = box
    h, w = out_hw
    my = int(np.ceil(3 * max((bottom - top) / h, 1))) + 1
    mx = int(np.ceil(3 * max((right - left) / w, 1))) + 1
    y0, x0 = max(int(top) - my, 0), max(int(left) - mx, 0)
    y1 = min(int(np.ceil(bottom)) + my, img.shape[0])
    x1 = min(int(np.ceil(right)) + mx, img.shape[1])
    return img[y0:y1, x0:x1], (left - x0, top - y0, right - x0, bottom - y0)


def decode_jpeg(buf: bytes,
                factor: int = 1,
                color_type: str = 'color') -> np.ndarray:
    """Decode JPEG bytes with OpenCV at ``1 / factor`` size.

    Args:
        buf (bytes): The file's bytes.
        factor (int): 1, 2, 4 or 8. Defaults to 1.
        color_type (str): ``'color'`` (BGR, as ``mmcv.imfrombytes``) or
            ``'grayscale'``. Defaults to ``'color'``.

    Returns:
        numpy.ndarray: uint8 ``(ceil(H/f), ceil(W/f)[, 3])``.

    Raises:
        ValueError: On an unknown factor or colour type, or undecodable
            bytes.
    """
    if color_type not in _FLAGS:
        raise ValueError(f'color_type={color_type!r} is not supported, '
                         f'expected one of {COLOR_TYPES}')
    if factor not in _FLAGS[color_type]:
        raise ValueError(f'factor={factor!r} is not supported, expected one '
                         f'of {tuple(_FLAGS[color_type])}')
    img = cv2.imdecode(
        np.frombuffer(buf, np.uint8), _FLAGS[color_type][factor])
    if img is None:
        raise ValueError('cv2.imdecode could not decode the bytes')
    return img
