"""MMPretrain's padded ``RandomCrop``, the low-frequency Lanczos resize and
a horizontal ``RandomFlip`` in one step (``augment_at='stage'``)."""
from typing import Optional, Sequence, Union

import numpy as np

from mmcv.transforms import BaseTransform
from mmpretrain.registry import TRANSFORMS

from ..ops.crop_resize import (fill_value, four_sides, padded_crop,
                               padded_crop_resize, random_crop_box)
from ..ops.size import SettableSize, SizeLike, check_fits, to_size_pair


@TRANSFORMS.register_module()
class RandomCropResize(SettableSize, BaseTransform):
    """``RandomCrop``, ``LowFrequencyDownsample`` and a horizontal
    ``RandomFlip``, fused.

    Draws the crop window with the same NumPy calls, in the same order, as
    MMPretrain's ``RandomCrop`` (the same seed gives the same window) and
    resizes the padded window to ``size`` with Pillow's Lanczos without
    building the padded image (:mod:`etpp_mm.ops.crop_resize`). The output
    equals ``RandomCrop`` then ``LowFrequencyDownsample(size)`` bit for bit;
    with ``size`` None or the crop's size it is the ``RandomCrop`` output.
    Padding is constant (``pad_val``), as ``RandomCrop.padding`` always is;
    ``pad_if_needed`` is taken with ``padding_mode='constant'`` only.

    With ``flip_prob`` set, a following ``RandomFlip(prob=flip_prob,
    direction='horizontal')`` is folded in: the flip is drawn with the same
    NumPy call as ``RandomFlip`` after the crop's (the same seed flips the
    same images) and costs nothing (the horizontal pass's weights are read
    in reverse). On tiny images this saves the flip step's whole per-image
    cost, which is most of what it costs there.

    Required Keys:

    - img

    Modified Keys:

    - img
    - img_shape (the image's shape, as ``RandomCrop`` sets it)

    Added Keys (with ``flip_prob`` only, as ``RandomFlip`` adds them):

    - flip
    - flip_direction

    Args:
        crop_size (int | tuple[int, int]): as ``RandomCrop``.
        padding (int | tuple, optional): as ``RandomCrop``.
        pad_if_needed (bool): as ``RandomCrop``. Defaults to False.
        pad_val (Number | tuple): as ``RandomCrop``. Defaults to 0.
        padding_mode (str): must be ``'constant'`` when ``pad_if_needed``
            (it only applies there). Defaults to ``'constant'``.
        size (int | tuple[int, int], optional): output size, settable; None
            keeps the crop's size. Defaults to None.
        flip_prob (float, optional): probability of a horizontal flip, as
            ``RandomFlip.prob``; None for no flip. Defaults to None.

    Example:
        >>> import numpy as np
        >>> from mmpretrain.registry import TRANSFORMS
        >>> step = TRANSFORMS.build(dict(type='RandomCropResize',
        ...                              crop_size=28, padding=2, size=12))
        >>> img = np.zeros((28, 28), dtype=np.uint8)
        >>> step(dict(img=img))['img'].shape
        (12, 12)
        >>> flipping = TRANSFORMS.build(dict(
        ...     type='RandomCropResize', crop_size=2, flip_prob=1.))
        >>> flipping(dict(img=np.array([[1, 2], [3, 4]], np.uint8)))['img']
        array([[2, 1],
               [4, 3]], dtype=uint8)
    """

    def __init__(self,
                 crop_size: Union[int, Sequence[int]],
                 padding=None,
                 pad_if_needed: bool = False,
                 pad_val: Union[int, float, Sequence] = 0,
                 padding_mode: str = 'constant',
                 size: Optional[SizeLike] = None,
                 flip_prob: Optional[float] = None):
        self.crop_size = to_size_pair(crop_size, 'RandomCropResize.crop_size')
        if pad_if_needed and padding_mode != 'constant':
            raise ValueError(
                'RandomCropResize pads with pad_val only: '
                f"padding_mode={padding_mode!r} with pad_if_needed=True is "
                "not supported; set padding_mode='constant'")
        self.padding = padding
        self.pad_if_needed = pad_if_needed
        self.pad_val = pad_val
        self.padding_mode = padding_mode
        self.size = size
        if flip_prob is not None and not 0. <= flip_prob <= 1.:
            raise ValueError('RandomCropResize.flip_prob must be in [0, 1], '
                             f'got {flip_prob!r}')
        self.flip_prob = flip_prob
        if flip_prob is not None:
            # RandomFlip draws np.random.choice(['horizontal', None],
            # p=[prob, 1 - prob]): one uniform sample against the
            # normalised cumulative p, which this threshold reproduces.
            cdf = np.cumsum([flip_prob, 1. - flip_prob])
            self._flip_below = float(cdf[0] / cdf[-1])
        self._fills = {}
        self._sides = (object(), None)  # (padding seen, its four sides)

    @classmethod
    def from_random_crop(cls, crop, flip=None) -> 'RandomCropResize':
        """The fused step of a live ``RandomCrop`` (and the horizontal
        ``RandomFlip`` after it, see :meth:`can_fold`), same arguments."""
        return cls(crop.crop_size, crop.padding, crop.pad_if_needed,
                   crop.pad_val, crop.padding_mode,
                   flip_prob=None if flip is None else float(flip.prob))

    @staticmethod
    def can_fold(flip) -> bool:
        """Whether ``flip`` is a ``RandomFlip`` this step can fold in: one
        horizontal direction, a single probability (what MMPretrain's
        recipes use)."""
        return type(flip).__name__ == 'RandomFlip' and \
            flip.direction == 'horizontal' and \
            isinstance(flip.prob, float)

    def transform(self, results: dict) -> dict:
        """Crop (and resize) ``results['img']``.

        Args:
            results (dict): Needs ``'img'``.

        Returns:
            dict: ``results``, updated in place.
        """
        img = results['img']
        if img.ndim == 3 and img.shape[2] == 1 and (
                self.padding is not None or self.pad_if_needed):
            img = img[..., 0]  # cv2's padding drops a single channel
        if self._sides[0] is not self.padding:
            self._sides = (self.padding, four_sides(self.padding))
        box = random_crop_box(img.shape[:2], self.crop_size,
                              self._sides[1], self.pad_if_needed)
        key = (img.dtype.str, img.shape[2:])
        fill = self._fills.get(key)
        if fill is None:
            fill = self._fills[key] = fill_value(self.pad_val, img)
        flip = False
        if self.flip_prob is not None:
            flip = np.random.random_sample() < self._flip_below
            results['flip'] = flip
            results['flip_direction'] = 'horizontal' if flip else None
        size = self.size
        if size is None or size == box[2:]:
            img = padded_crop(img, box, fill, flip)
        else:
            if size[0] > box[2] or size[1] > box[3]:
                check_fits(size, box[2:], name='RandomCropResize.size')
            img = padded_crop_resize(img, box, size, fill, flip)
        results['img'] = img
        results['img_shape'] = img.shape
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(crop_size={self.crop_size}, '
                f'padding={self.padding}, pad_if_needed={self.pad_if_needed}'
                f', pad_val={self.pad_val}, size={self.size}'
                f', flip_prob={self.flip_prob})')
