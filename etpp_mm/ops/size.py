"""Validation of target sizes shared by the low-frequency operators."""
import numbers
from typing import Optional, Sequence, Tuple, Union

import numpy as np
import torch

SizeLike = Union[int, Sequence[int]]


def _is_int(value) -> bool:
    # ``bool`` is an ``Integral`` subclass, but ``size=True`` is a bug in the
    # caller, never a request for a 1x1 image.
    return (isinstance(value, numbers.Integral)
            and not isinstance(value, (bool, np.bool_)))


def to_size_pair(size: SizeLike, name: str = 'size') -> Tuple[int, int]:
    """Normalise a target size to an ``(h, w)`` pair of positive ints.

    Args:
        size (int | Sequence[int]): One int for a square target, or a pair
            ``(h, w)``. NumPy integers are accepted, bools and floats are not.
        name (str): How the argument is called in error messages.
            Defaults to ``'size'``.

    Returns:
        tuple[int, int]: ``(h, w)`` as Python ints.

    Raises:
        TypeError: If ``size`` is not an int or a pair of ints.
        ValueError: If the pair has the wrong length or a value is not
            positive.

    Example:
        >>> to_size_pair(160)
        (160, 160)
        >>> to_size_pair((96, 128))
        (96, 128)
    """
    if isinstance(size, np.ndarray) and size.ndim == 0:
        size = size.item()
    if _is_int(size):
        pair = (size, size)
    elif isinstance(size, (tuple, list, np.ndarray)):
        pair = tuple(size.tolist() if isinstance(size, np.ndarray) else size)
        if len(pair) != 2:
            raise ValueError(f'{name} must be an int or a pair (h, w), '
                             f'got {size!r} with {len(pair)} values')
        for value in pair:
            if not _is_int(value):
                raise TypeError(f'{name} must hold ints, got {size!r} '
                                f'({type(value).__name__} value {value!r})')
    else:
        raise TypeError(f'{name} must be an int or a pair (h, w) of ints, '
                        f'got {size!r} of type {type(size).__name__}')
    if min(pair) <= 0:
        raise ValueError(f'{name} must be positive, got {size!r}')
    return int(pair[0]), int(pair[1])


class SettableSize:
    """Mixin giving a class a ``size`` that may be reassigned at any time.

    The curriculum moves live transforms and preprocessors from stage to
    stage by assigning ``obj.size``; every assignment is checked and
    normalised here, naming the class in errors.

    Example:
        >>> class Shrink(SettableSize):
        ...     pass
        >>> shrink = Shrink()
        >>> shrink.size is None
        True
        >>> shrink.size = 96
        >>> shrink.size
        (96, 96)
        >>> shrink.size = (0, 8)
        Traceback (most recent call last):
        ...
        ValueError: Shrink.size must be positive, got (0, 8)
    """
    _size: Optional[Tuple[int, int]] = None

    @property
    def size(self) -> Optional[Tuple[int, int]]:
        """The target ``(h, w)``, or None for full size."""
        return self._size

    @size.setter
    def size(self, value: Optional[SizeLike]) -> None:
        self._size = None if value is None else to_size_pair(
            value, f'{type(self).__name__}.size')


def check_fits(size_hw: Tuple[int, int],
               image_hw: Tuple[int, int],
               name: str = 'size') -> None:
    """Check that a target size is not larger than the image.

    The low-frequency operators only shrink: keeping more frequencies than
    the image has is not defined.

    Args:
        size_hw (tuple[int, int]): Target ``(h, w)``.
        image_hw (tuple[int, int]): Image ``(H, W)``.
        name (str): How the size is called in error messages.
            Defaults to ``'size'``.

    Raises:
        ValueError: If ``h > H`` or ``w > W``.

    Example:
        >>> check_fits((160, 160), (224, 224))
        >>> check_fits((256, 160), (224, 224))
        Traceback (most recent call last):
        ...
        ValueError: size=(256, 160) is larger than the image size (224, 224)
    """
    size_hw = tuple(int(v) for v in size_hw)
    image_hw = tuple(int(v) for v in image_hw)
    if size_hw[0] > image_hw[0] or size_hw[1] > image_hw[1]:
        raise ValueError(f'{name}={size_hw} is larger than the image size '
                         f'{image_hw}')


def image_hw(img) -> Tuple[int, int]:
    """Return ``(H, W)`` of an image, checking its rank.

    Args:
        img (numpy.ndarray | torch.Tensor): A NumPy image ``(H, W)`` or
            ``(H, W, C)`` (the layout of MMPretrain pipelines), or a tensor
            ``(..., H, W)`` (the layout of model inputs).

    Returns:
        tuple[int, int]: ``(H, W)``.

    Raises:
        ValueError: If the rank does not fit, naming the shape.
        TypeError: If ``img`` is neither an array nor a tensor.

    Example:
        >>> image_hw(np.zeros((224, 200, 3)))
        (224, 200)
        >>> image_hw(torch.zeros(8, 3, 96, 96))
        (96, 96)
    """
    if isinstance(img, torch.Tensor):
        if img.ndim < 2:
            raise ValueError(f'expected a tensor of shape (..., H, W), got '
                             f'shape {tuple(img.shape)}')
        return int(img.shape[-2]), int(img.shape[-1])
    if isinstance(img, np.ndarray):
        if img.ndim not in (2, 3):
            raise ValueError(f'expected an image of shape (H, W) or '
                             f'(H, W, C), got shape {img.shape}')
        return int(img.shape[0]), int(img.shape[1])
    raise TypeError(f'expected a numpy.ndarray or torch.Tensor, got '
                    f'{type(img).__name__}')


def scaled_view_size(view_hw: Tuple[int, int], size_hw: Tuple[int, int],
                     first_hw: Tuple[int, int]) -> Tuple[int, int]:
    """The size of one view of a multi-view sample when its first view
    goes from ``first_hw`` to ``size_hw``: every view shrinks by the same
    ratio, so views made at other sizes keep their proportions (BEiT's
    tokenizer copy at half the size stays at half).

    Example:
        >>> scaled_view_size((112, 112), (96, 96), (224, 224))
        (48, 48)
        >>> scaled_view_size((224, 224), (96, 96), (224, 224))
        (96, 96)
    """
    return tuple(
        max(1, round(v * s / f))
        for v, s, f in zip(view_hw, size_hw, first_hw))
