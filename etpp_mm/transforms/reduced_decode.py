"""Loading fused with ``RandomResizedCrop``: JPEGs decoded at reduced size.

With ``LoadImageFromFile`` then ``RandomResizedCrop`` every image is decoded
at full size although most of its pixels are cropped away or averaged down.
Here the crop box is drawn from the JPEG header's size first, so the
decoder can skip to 1/2, 1/4 or 1/8 size whenever the box still holds the
output size there (see :mod:`etpp_mm.ops.reduced_decode`).
"""
from typing import Optional

import mmcv
import numpy as np
from mmengine import fileio
from mmpretrain.datasets.transforms import RandomResizedCrop
from mmpretrain.registry import TRANSFORMS

from ..ops.lanczos import pillow_lanczos
from ..ops.reduced_decode import (COLOR_TYPES, choose_reduction,
                                  crop_for_resize, decode_jpeg, jpeg_size,
                                  reduced_box)
from ..ops.size import to_size_pair


@TRANSFORMS.register_module()
class LoadImageAndRandomResizedCrop(RandomResizedCrop):
    """``LoadImageFromFile`` + ``RandomResizedCrop`` with a reduced decode.

    The crop box is drawn by MMPretrain's own
    ``RandomResizedCrop.rand_crop_params`` from the image size alone, so with
    the same NumPy random state it is the box ``RandomResizedCrop`` would
    draw on the fully decoded image (the header size is the decoded size).
    A JPEG is then decoded at the largest reduction in 8, 4, 2 that keeps
    the box at least ``scale`` pixels; the box is mapped onto it at
    sub-pixel precision (divided by the factor) and resampled with Pillow's
    Lanczos over that region (:func:`etpp_mm.ops.lanczos.pillow_lanczos`).
    At factor 1 the output equals the two-transform path's (with
    ``backend='pillow', interpolation='lanczos'``) bit for bit. With
    another ``interpolation``/``backend`` the image is decoded at full size
    and resized by ``mmcv.imresize`` exactly as ``RandomResizedCrop`` does
    (a curriculum keeps the recipe's filter at full size). Other
    formats, and JPEGs with an EXIF rotation, are decoded at full size as
    ``LoadImageFromFile`` does, then cropped the same way.

    Required Keys:

    - img_path

    Added Keys:

    - img
    - img_shape (``img.shape``, as ``RandomResizedCrop`` sets it)
    - ori_shape (full-image ``(H, W)``)

    Args:
        scale (int | tuple[int, int]): Output ``(h, w)`` (or ``h`` for a
            square). A public attribute, so a curriculum can change it.
        crop_ratio_range (tuple[float, float]): As ``RandomResizedCrop``.
            Defaults to (0.08, 1.0).
        aspect_ratio_range (tuple[float, float]): As ``RandomResizedCrop``.
            Defaults to (3/4, 4/3).
        max_attempts (int): As ``RandomResizedCrop``. Defaults to 10.
        color_type (str): ``'color'`` (BGR) or ``'grayscale'``, as
            ``LoadImageFromFile``. Defaults to ``'color'``.
        backend_args (dict, optional): File backend arguments of
            ``mmengine.fileio.get``. Defaults to None.
        interpolation (str): As ``RandomResizedCrop``; only ``'lanczos'``
            with ``backend='pillow'`` allows reduced decoding. Defaults to
            ``'lanczos'``.
        backend (str): As ``RandomResizedCrop``. Defaults to ``'pillow'``.

    Examples:
        >>> import os, tempfile
        >>> from PIL import Image
        >>> from skimage import data
        >>> path = os.path.join(tempfile.mkdtemp(), 'coffee.jpg')
        >>> Image.fromarray(data.coffee()).save(path, quality=90)
        >>> load = TRANSFORMS.build(
        ...     dict(type='LoadImageAndRandomResizedCrop', scale=96))
        >>> out = load(dict(img_path=path))
        >>> out['img'].shape, out['ori_shape']
        ((96, 96, 3), (400, 600))
        >>> load.scale = (32, 48)  # what a curriculum does
        >>> load(dict(img_path=path))['img_shape']
        (32, 48, 3)
    """

    def __init__(self,
                 scale,
                 crop_ratio_range=(0.08, 1.0),
                 aspect_ratio_range=(3. / 4., 4. / 3.),
                 max_attempts: int = 10,
                 color_type: str = 'color',
                 backend_args: Optional[dict] = None,
                 interpolation: str = 'lanczos',
                 backend: str = 'pillow'):
        to_size_pair(scale, f'{type(self).__name__}.scale')
        super().__init__(
            scale,
            crop_ratio_range=crop_ratio_range,
            aspect_ratio_range=aspect_ratio_range,
            max_attempts=max_attempts,
            interpolation=interpolation,
            backend=backend)
        if color_type not in COLOR_TYPES:
            raise ValueError(
                f'{type(self).__name__}: color_type={color_type!r} is not '
                f'supported, expected one of {COLOR_TYPES}')
        self.color_type = color_type
        self.backend_args = backend_args

    def transform(self, results: dict) -> dict:
        """Load, crop and resize ``results['img_path']``.

        Args:
            results (dict): Needs ``'img_path'``.

        Returns:
            dict: ``results`` with ``img``, ``img_shape`` and ``ori_shape``.
        """
        out_h, out_w = to_size_pair(self.scale, f'{type(self).__name__}.scale')
        buf = fileio.get(results['img_path'], backend_args=self.backend_args)
        ori_hw = jpeg_size(buf)
        factor = 1
        if ori_hw is None:
            img = mmcv.imfrombytes(buf, flag=self.color_type, backend='cv2')
            assert img is not None, \
                f'failed to load image: {results["img_path"]}'
            ori_hw = img.shape[:2]
            top, left, bh, bw = self.rand_crop_params(img)
        else:
            # rand_crop_params reads only the shape: a broadcast scalar
            # stands for the image without allocating it.
            box = self.rand_crop_params(np.broadcast_to(np.uint8(0), ori_hw))
            top, left, bh, bw = box
            if self._lanczos():
                factor = choose_reduction(box, (out_h, out_w))
            img = decode_jpeg(buf, factor, self.color_type)
        if not self._lanczos():
            crop = img[top:top + bh, left:left + bw]
            img = mmcv.imresize(
                crop, (out_w, out_h),
                interpolation=self.interpolation,
                backend=self.backend)
        elif factor == 1:
            crop = img[top:top + bh, left:left + bw]
            img = pillow_lanczos(np.ascontiguousarray(crop), out_h, out_w)
        else:
            cut, sub_box = crop_for_resize(img, reduced_box(box, factor),
                                           (out_h, out_w))
            img = pillow_lanczos(
                np.ascontiguousarray(cut), out_h, out_w, box=sub_box)
        results['img'] = img
        results['img_shape'] = img.shape
        results['ori_shape'] = tuple(ori_hw)
        return results

    def _lanczos(self) -> bool:
        return (self.interpolation, self.backend) == ('lanczos', 'pillow')

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(scale={self.scale}, '
                f'crop_ratio_range={self.crop_ratio_range}, '
                f'aspect_ratio_range={self.aspect_ratio_range}, '
                f'max_attempts={self.max_attempts}, '
                f'color_type={self.color_type!r}, '
                f'interpolation={self.interpolation!r}, '
                f'backend={self.backend!r})')
