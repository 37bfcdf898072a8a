"""Exact low-frequency (Fourier) cropping.

The operator of EfficientTrain (ICCV 2023): keep the central ``h x w`` block
of an image's centred 2-D spectrum and transform it back at ``h x w``.

Frequency convention
--------------------
Along an axis of length ``n`` cropped to ``m``, the kept frequencies are the
integers ``k`` with ``-floor(m/2) <= k <= ceil(m/2) - 1``. This is the block
``F[c - m//2 : c - m//2 + m]`` of ``np.fft.fftshift(F)`` with ``c = n // 2``
(the DC index after ``fftshift``), for every parity of ``n`` and ``m``. For
odd ``m`` the block is symmetric; for even ``m`` it holds ``-m/2`` (the
output's Nyquist frequency) but not ``+m/2``. Taking the real part of the
inverse is then the same as keeping both ``+-m/2`` at half weight, so the
result does not depend on which of the two was picked.

The same convention holds for NumPy arrays and torch tensors.
"""
from typing import Tuple

import numpy as np
import torch

from .size import SizeLike, check_fits, image_hw, to_size_pair

_NUMPY_FFT_OUT = np.lib.NumpyVersion(np.__version__) >= '2.0.0'


def _kept_frequencies(m: int) -> np.ndarray:
    """Kept frequencies for a crop to ``m``, in ``np.fft`` order."""
    return np.r_[0:m - m // 2, -(m // 2):0]


def _crop_spectrum(x, h: int, w: int, ops):
    """Fourier crop of the last two axes of the real float array ``x``.

    ``ops`` abstracts over NumPy and torch so that both run one algorithm.
    Instead of the full centred spectrum it transforms along W with a real
    FFT, drops the columns that are not kept before the (complex) transform
    along H, and goes back with an inverse real FFT. ``norm='forward'`` puts
    the whole ``1 / (H*W)`` on the forward transforms, which is exactly the
    DC-preserving ``(h*w) / (H*W)`` factor of the definition.

    The inverse real FFT needs a Hermitian half-spectrum, but the kept block
    of an even crop is not Hermitian: its Nyquist row/column holds ``-h/2``
    only. The real part of the inverse of a block ``Y`` is the inverse of its
    Hermitian part ``(Y[k] + conj(Y[-k])) / 2``, which for a real image is
    ``(F[k] + F[mu(k)]) / 2`` with ``mu`` mapping ``-m/2`` to ``+m/2`` on each
    axis and leaving every other frequency alone. Only the Nyquist row and
    column differ from a plain copy of ``F``; they are fixed below.
    """
    big_h, big_w = x.shape[-2:]
    half_w = w // 2 + 1
    spec = ops.rfft(x)[..., :half_w]
    spec = ops.fft_rows(spec)
    top = h - h // 2
    block = ops.cat(spec[..., :top, :], spec[..., big_h - h // 2:, :])
    if h % 2 == 0 and h < big_h:
        nyquist_row = spec[..., big_h - h // 2, :] + spec[..., h // 2, :]
        block[..., h // 2, :] = nyquist_row / 2
    if w % 2 == 0 and w < big_w:
        # The last column of the half-spectrum stands for -w/2, which the
        # real FFT does not store: F[k, -w/2] = conj(F[-k, +w/2]).
        rows = _kept_frequencies(h)
        mu_rows = rows.copy()
        if h % 2 == 0:
            mu_rows[h // 2] = h // 2
        col = spec[..., w // 2]
        negative = ops.conj(col[..., ops.index(-rows % big_h, x)])
        positive = col[..., ops.index(mu_rows % big_h, x)]
        block[..., w // 2] = (negative + positive) / 2
    return ops.irfft(ops.ifft_rows(block), w)


class _NumpyOps:
    """NumPy side of :func:`_crop_spectrum`.

    The complex transforms write into their input where NumPy allows it
    (``out=``, NumPy >= 2): fewer large temporaries to allocate and fault in.
    """

    @staticmethod
    def rfft(x):
        return np.fft.rfft(x, axis=-1, norm='forward')

    @staticmethod
    def fft_rows(x):
        if _NUMPY_FFT_OUT:
            return np.fft.fft(x, axis=-2, norm='forward', out=x)
        return np.fft.fft(x, axis=-2, norm='forward')

    @staticmethod
    def ifft_rows(x):
        if _NUMPY_FFT_OUT:
            return np.fft.ifft(x, axis=-2, norm='forward', out=x)
        return np.fft.ifft(x, axis=-2, norm='forward')

    @staticmethod
    def irfft(x, n):
        return np.fft.irfft(x, n=n, axis=-1, norm='forward')

    @staticmethod
    def cat(a, b):
        return np.concatenate((a, b), axis=-2)

    @staticmethod
    def conj(x):
        return np.conj(x)

    @staticmethod
    def index(idx, like):
        return idx


class _TorchOps:
    """Torch side of :func:`_crop_spectrum` (any device)."""

    @staticmethod
    def rfft(x):
        return torch.fft.rfft(x, dim=-1, norm='forward')

    @staticmethod
    def fft_rows(x):
        return torch.fft.fft(x, dim=-2, norm='forward')

    @staticmethod
    def ifft_rows(x):
        return torch.fft.ifft(x, dim=-2, norm='forward')

    @staticmethod
    def irfft(x, n):
        return torch.fft.irfft(x, n=n, dim=-1, norm='forward')

    @staticmethod
    def cat(a, b):
        return torch.cat((a, b), dim=-2)

    @staticmethod
    def conj(x):
        return torch.conj(x)

    @staticmethod
    def index(idx, like):
        return torch.as_tensor(idx, device=like.device)


def _numpy_work_dtype(dtype: np.dtype) -> np.dtype:
    if dtype == np.bool_ or dtype.kind not in 'uif':
        raise TypeError(f'expected an integer or float image, got dtype '
                        f'{dtype}')
    if dtype.kind in 'ui':
        # float32 is exact for 8/16-bit values and the result is rounded.
        return np.dtype(np.float32 if dtype.itemsize <= 2 else np.float64)
    return np.dtype(np.float32 if dtype.itemsize < 4 else dtype)


def _numpy_round_into_range(out: np.ndarray, dtype: np.dtype) -> None:
    """Prepare a float result, in place, for a cast to ``dtype``."""
    if dtype.kind in 'ui':
        # Ringing can leave the integer range; wrapping around would be
        # far worse than clipping.
        info = np.iinfo(dtype)
        np.rint(out, out=out)
        np.clip(out, info.min, info.max, out=out)


def _numpy_cast_back(out: np.ndarray, dtype: np.dtype) -> np.ndarray:
    _numpy_round_into_range(out, dtype)
    return out.astype(dtype, order='C', copy=False)


def _torch_work_dtype(dtype: torch.dtype) -> torch.dtype:
    if dtype == torch.bool or dtype.is_complex:
        raise TypeError(f'expected an integer or float tensor, got dtype '
                        f'{dtype}')
    if not dtype.is_floating_point:
        return torch.float32 if dtype.itemsize <= 2 else torch.float64
    # cuFFT only takes half precision for power-of-two sizes, and bfloat16
    # not at all; float32 also keeps the rounding error down.
    return torch.float32 if dtype.itemsize < 4 else dtype


def _torch_cast_back(out: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    if not dtype.is_floating_point:
        info = torch.iinfo(dtype)
        out = out.round_().clamp_(info.min, info.max)
    return out.to(dtype)


def _prepare(img, size: SizeLike) -> Tuple[Tuple[int, int], bool]:
    """Validate the image and size; return ``(h, w)`` and whether the
    operator is the identity."""
    img_hw = image_hw(img)
    size_hw = to_size_pair(size)
    check_fits(size_hw, img_hw)
    return size_hw, size_hw == img_hw


def fourier_crop(img, size: SizeLike):
    """Crop an image's spectrum to its ``h x w`` lowest frequencies.

    Equivalent to: 2-D DFT per channel, keep the central ``h x w`` block of
    the ``fftshift``-ed spectrum, inverse DFT at ``h x w``, multiply by
    ``(h*w) / (H*W)`` and take the real part. The output has the input's
    mean and holds the information of the image filtered by the ideal
    square low-pass mask (see :func:`fourier_low_pass`), except, for even
    sizes, the sine part of the Nyquist frequency that a real ``h x w``
    image cannot hold. Kept frequencies along an axis cropped to ``m``:
    ``-floor(m/2) <= k <= ceil(m/2) - 1``, so a crop is centred on the DC
    term as ``np.fft.fftshift`` places it.

    Args:
        img (numpy.ndarray | torch.Tensor): A NumPy image ``(H, W)`` or
            ``(H, W, C)``, or a tensor ``(..., H, W)`` on any device (e.g. a
            batch ``(N, C, H, W)``).
        size (int | tuple[int, int]): Target ``h`` (square) or ``(h, w)``,
            at most the image size.

    Returns:
        numpy.ndarray | torch.Tensor: The ``h x w`` image, same type, layout
        and dtype as ``img``. Integer results are rounded and clipped to
        the dtype's range (ringing leaves ``[0, 255]``); float results are
        not clipped. Half precision is computed in float32. When ``size``
        equals the image size, ``img`` itself is returned.

    Raises:
        ValueError: On a wrong rank, a non-positive size or a size larger
            than the image.
        TypeError: On a non-integer size, or a bool/complex image.

    Examples:
        >>> import numpy as np
        >>> img = np.random.randint(0, 256, (224, 224, 3), dtype=np.uint8)
        >>> fourier_crop(img, 160).shape
        (160, 160, 3)
        >>> import torch
        >>> fourier_crop(torch.rand(8, 3, 224, 224), (96, 128)).shape
        torch.Size([8, 3, 96, 128])
    """
    (h, w), identity = _prepare(img, size)
    if identity:
        return img
    if isinstance(img, torch.Tensor):
        x = img.to(_torch_work_dtype(img.dtype))
        out = _crop_spectrum(x, h, w, _TorchOps)
        return _torch_cast_back(out, img.dtype)
    work_dtype = _numpy_work_dtype(img.dtype)
    if img.ndim == 2:
        out = _crop_spectrum(img.astype(work_dtype), h, w, _NumpyOps)
        return _numpy_cast_back(out, img.dtype)
    out = np.empty((h, w, img.shape[2]), dtype=img.dtype)
    # One channel at a time: the temporaries of a 224 x 224 channel fit in
    # a core's cache, those of a whole image do not (2-3x slower).
    for c in range(img.shape[2]):
        channel = _crop_spectrum(img[..., c].astype(work_dtype), h, w,
                                 _NumpyOps)
        _numpy_round_into_range(channel, img.dtype)
        out[..., c] = channel
    return out


def _dropped_frequencies(n: int, m: int) -> slice:
    """Indices, in ``np.fft`` order, of the frequencies that a crop from
    ``n`` to ``m`` drops."""
    return slice(m - m // 2, n - m // 2)


def fourier_low_pass(img, size: SizeLike):
    """Filter an image with the ideal low-pass mask of :func:`fourier_crop`.

    Keeps the same frequencies as ``fourier_crop(img, size)`` but returns
    the image at full size: ``Re(ifft2(fft2(img) * mask))``. Meant for tests
    and visualisation, so it is written plainly rather than fast. For odd
    ``h`` and ``w``, zero-padding the spectrum of the crop back to ``H x W``
    reproduces this image exactly; for even sizes the two differ only on the
    ``+-h/2`` rows and ``+-w/2`` columns of the spectrum, because the real
    ``h x w`` crop cannot store the sine part of its Nyquist frequency.

    Args:
        img (numpy.ndarray | torch.Tensor): As for :func:`fourier_crop`.
        size (int | tuple[int, int]): As for :func:`fourier_crop`.

    Returns:
        numpy.ndarray | torch.Tensor: The filtered ``H x W`` image, with the
        dtype rules of :func:`fourier_crop`.

    Examples:
        >>> import numpy as np
        >>> img = np.random.rand(224, 224)
        >>> fourier_low_pass(img, 160).shape
        (224, 224)
    """
    (h, w), identity = _prepare(img, size)
    if identity:
        return img
    big_h, big_w = image_hw(img)
    rows = _dropped_frequencies(big_h, h)
    cols = _dropped_frequencies(big_w, w)
    if isinstance(img, torch.Tensor):
        spec = torch.fft.fft2(img.to(_torch_work_dtype(img.dtype)))
        spec[..., rows, :] = 0
        spec[..., :, cols] = 0
        out = torch.fft.ifft2(spec).real
        return _torch_cast_back(out, img.dtype)
    axes = (0, 1)
    spec = np.fft.fft2(img.astype(_numpy_work_dtype(img.dtype)), axes=axes)
    spec[rows] = 0
    spec[:, cols] = 0
    out = np.fft.ifft2(spec, axes=axes).real
    return _numpy_cast_back(out, img.dtype)
