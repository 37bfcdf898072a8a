"""Compatibility fixes for the pinned stack, applied only where the installed
version needs them.

mmcv 2.2's ``adjust_hue`` shifts the hue channel by ``np.uint8(factor * 255)``;
NumPy 2 refuses to convert a negative number to ``uint8``, so every
``ColorJitter`` with ``hue > 0`` (MoCo v3, BYOL, SimCLR...) crashes on about
half of its images. The replacement below keeps mmcv's arithmetic (the shift
truncated toward zero and wrapped modulo 256, as NumPy 1 did) and both
backends, and is installed only if mmcv's own function fails that way.
"""
from functools import partial
from typing import Any

import cv2
import mmcv
import mmcv.image
import mmcv.image.photometric as photometric
import numpy as np
from PIL import Image


# mmcv's own function, kept before any replacement
MMCV_ADJUST_HUE = photometric.adjust_hue


def hue_shift(hue_factor: float) -> np.uint8:
    """The uint8 shift of mmcv's ``adjust_hue`` under NumPy 1.

    Example:
        >>> int(hue_shift(-0.07)), int(hue_shift(0.07))
        (239, 17)
    """
    return np.uint8(int(hue_factor * 255) % 256)


def adjust_hue(img: np.ndarray,
               hue_factor: float,
               backend: str = None) -> np.ndarray:
    """mmcv's ``adjust_hue`` (same arguments and results) for NumPy 2."""
    if backend is None:
        backend = photometric.imread_backend  # what mmcv's own would use
    if backend not in ('cv2', 'pillow'):
        raise ValueError(f'backend: {backend} is not supported.')
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f'hue_factor:{hue_factor} is not in [-0.5, 0.5].')
    if not (isinstance(img, np.ndarray) and img.ndim in (2, 3)):
        raise TypeError('img should be ndarray with dim=[2 or 3].')
    shift = hue_shift(hue_factor)
    if backend == 'pillow':
        assert img.dtype == np.uint8, 'Pillow backend only support uint8 type'
        hsv = Image.fromarray(img[..., ::-1], mode='RGB').convert('HSV')
        h, s, v = hsv.split()
        # uint8 addition wraps around the hue circle
        h = Image.fromarray(np.asarray(h, dtype=np.uint8) + shift, 'L')
        rgb = Image.merge('HSV', (h, s, v)).convert('RGB')
        return np.array(rgb, dtype=img.dtype)[..., ::-1]
    dtype = img.dtype
    h, s, v = cv2.split(
        cv2.cvtColor(img.astype(np.uint8), cv2.COLOR_BGR2HSV_FULL))
    h = h.astype(np.uint8) + shift
    bgr = cv2.cvtColor(cv2.merge([h, s, v]), cv2.COLOR_HSV2BGR_FULL)
    return bgr.astype(dtype)


def _mmcv_hue_is_broken() -> bool:
    try:
        MMCV_ADJUST_HUE(np.zeros((1, 1, 3), np.uint8), -0.1, backend='cv2')
    except OverflowError:
        return True
    return False


def fix_mmcv_adjust_hue() -> bool:
    """Install :func:`adjust_hue` in mmcv if mmcv's fails under NumPy 2.

    Returns whether the replacement is in place.
    """
    if mmcv.adjust_hue is adjust_hue:
        return True
    if not _mmcv_hue_is_broken():
        return False
    # mmpretrain calls it as ``mmcv.adjust_hue``; patch every public alias.
    for module in (mmcv, mmcv.image, photometric):
        module.adjust_hue = adjust_hue
    return True


def drop_collate_scope(loader: Any) -> bool:
    """Remove the ``_scope_`` keyword MMEngine 0.10 binds to a loader's
    ``collate_fn``; returns whether there was one.

    A config inheriting ``mmpretrain::...`` gets ``_scope_='mmpretrain'``
    added to every dict with a ``type``, ``collate_fn=dict(type=
    'default_collate')`` included (MAE, MoCo, BYOL, SimCLR...), and the
    runner passes it on to the function: the first batch fails with
    ``default_collate() got an unexpected keyword argument '_scope_'``.

    Example:
        >>> from functools import partial
        >>> from torch.utils.data import DataLoader
        >>> from mmengine.dataset import default_collate
        >>> loader = DataLoader([1, 2], collate_fn=partial(
        ...     default_collate, _scope_='mmpretrain'))
        >>> drop_collate_scope(loader), loader.collate_fn.keywords
        (True, {})
    """
    collate_fn = getattr(loader, 'collate_fn', None)
    if not isinstance(collate_fn, partial) or \
            '_scope_' not in collate_fn.keywords:
        return False
    keywords = {k: v for k, v in collate_fn.keywords.items() if k != '_scope_'}
    loader.collate_fn = partial(collate_fn.func, *collate_fn.args, **keywords)
    return True
