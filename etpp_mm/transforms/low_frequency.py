"""Data-pipeline transforms that keep only an image's low frequencies.

The curriculum changes the target size during training by assigning
``transform.size = (h, w)`` on the live pipeline instances, so every
transform reads ``self.size`` when it is called, never a value cached at
construction.
"""
from typing import Optional, Tuple

from mmcv.transforms import BaseTransform
from mmpretrain.registry import TRANSFORMS

from ..ops import fourier_crop, low_frequency_downsample
from ..ops.downsample import check_interpolation
from ..ops.size import (SettableSize, SizeLike, check_fits, image_hw,
                        scaled_view_size)


class LowFrequencyTransform(SettableSize, BaseTransform):
    """Base class of transforms that shrink ``results['img']`` to ``size``.

    Subclasses implement :meth:`apply`, the operator on one image.

    Args:
        size (int | tuple[int, int] | None): Target ``h`` (square) or
            ``(h, w)``. ``None`` passes the image through at full size.
            Settable after construction; ints are normalised to pairs.
            Defaults to None.
    """

    def __init__(self, size: Optional[SizeLike] = None):
        self.size = size

    def apply(self, img, size: Tuple[int, int]):
        """Shrink one image to ``size``; implemented by subclasses."""
        raise NotImplementedError

    def transform(self, results: dict) -> dict:
        """Shrink ``results['img']`` and update ``results['img_shape']``.

        Args:
            results (dict): Needs ``'img'``, a NumPy array ``(H, W)`` or
                ``(H, W, C)``, or a list of them (views made together, the
                first at the train size: each shrinks by the first's
                ratio).

        Returns:
            dict: ``results``, updated in place.
        """
        size = self.size
        if size is None:
            return results
        img = results['img']
        name = f'{type(self).__name__}.size'
        if isinstance(img, (list, tuple)):
            # views made by one transform (BEiT's image and its tokenizer's
            # copy): the first is the train size, all shrink by its ratio
            first = image_hw(img[0])
            check_fits(size, first, name=name)
            results['img'] = [
                self.apply(view, scaled_view_size(image_hw(view), size,
                                                  first)) for view in img
            ]
        else:
            check_fits(size, image_hw(img), name=name)
            results['img'] = self.apply(img, size)
        results['img_shape'] = size
        return results


@TRANSFORMS.register_module()
class FourierCrop(LowFrequencyTransform):
    """Exact low-frequency crop of the image (EfficientTrain, ICCV 2023).

    Keeps the central ``h x w`` block of the centred spectrum; see
    :func:`etpp_mm.ops.fourier_crop`. uint8 images stay uint8 (rounded and
    clipped). About 3x the CPU cost of :class:`LowFrequencyDownsample`.

    Required Keys:

    - img

    Modified Keys:

    - img
    - img_shape

    Args:
        size (int | tuple[int, int] | None): The crop's ``(h, w)`` (an int
            for a square), None to keep the full spectrum. Defaults to None.

    Example:
        >>> import numpy as np
        >>> from mmpretrain.registry import TRANSFORMS
        >>> crop = TRANSFORMS.build(dict(type='FourierCrop', size=160))
        >>> img = np.zeros((224, 224, 3), dtype=np.uint8)
        >>> crop(dict(img=img))['img'].shape
        (160, 160, 3)
        >>> crop.size = 96  # what the curriculum hook does
        >>> crop(dict(img=img))['img_shape']
        (96, 96)
    """

    def apply(self, img, size: Tuple[int, int]):
        return fourier_crop(img, size)

    def __repr__(self) -> str:
        return f'{type(self).__name__}(size={self.size})'


@TRANSFORMS.register_module()
class LowFrequencyDownsample(LowFrequencyTransform):
    """Anti-aliased down-sampling of the image (the released ET++ recipe).

    A pillow-equal resize (Lanczos by default, as two matrix products)
    after the full-size augmentations;
    it approximates :class:`FourierCrop` to about 32 dB PSNR at 224 -> 160.
    See :func:`etpp_mm.ops.low_frequency_downsample`.

    Required Keys:

    - img (uint8)

    Modified Keys:

    - img
    - img_shape

    Args:
        size (int | tuple[int, int] | None): Target size, None for full
            size. Defaults to None.
        interpolation (str): Pillow filter: ``'lanczos'``, ``'bicubic'``,
            ``'bilinear'``, ``'box'``, ``'hamming'`` or ``'nearest'``.
            Defaults to ``'lanczos'``.

    Example:
        >>> import numpy as np
        >>> from mmpretrain.registry import TRANSFORMS
        >>> down = TRANSFORMS.build(
        ...     dict(type='LowFrequencyDownsample', size=(96, 128)))
        >>> img = np.zeros((224, 224, 3), dtype=np.uint8)
        >>> down(dict(img=img))['img'].shape
        (96, 128, 3)
    """

    def __init__(self,
                 size: Optional[SizeLike] = None,
                 interpolation: str = 'lanczos'):
        super().__init__(size)
        self.interpolation = check_interpolation(interpolation)

    def apply(self, img, size: Tuple[int, int]):
        if img.shape[:2] == size:  # full size: skip the op's checks
            return img
        return low_frequency_downsample(img, size, self.interpolation)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(size={self.size}, '
                f'interpolation={self.interpolation!r})')
