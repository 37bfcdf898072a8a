"""The exact Fourier crop against a plain reference, and its properties."""
import itertools

import numpy as np
import pytest
import torch
from PIL import Image

from etpp_mm.ops import (check_fits, fourier_crop, fourier_low_pass,
                         to_size_pair)

skdata = pytest.importorskip('skimage.data')

PHOTOS = ('astronaut', 'coffee', 'chelsea')


def photo(name: str, size: int = 224) -> np.ndarray:
    """A real RGB photo from scikit-image, resized to ``size`` x ``size``."""
    img = Image.fromarray(getattr(skdata, name)())
    return np.asarray(img.resize((size, size), Image.Resampling.BICUBIC))


def reference_crop(img: np.ndarray, size) -> np.ndarray:
    """The textbook definition, complex result (take ``.real``).

    The kept block is centred on the DC term, which ``fftshift`` puts at
    index ``n // 2``; this fixes the convention for odd sizes.
    """
    h, w = to_size_pair(size)
    big_h, big_w = img.shape[:2]
    axes = (0, 1)
    spec = np.fft.fftshift(
        np.fft.fft2(img.astype(np.float64), axes=axes), axes=axes)
    top = big_h // 2 - h // 2
    left = big_w // 2 - w // 2
    block = spec[top:top + h, left:left + w]
    out = np.fft.ifft2(np.fft.ifftshift(block, axes=axes), axes=axes)
    return out * (h * w) / (big_h * big_w)


def zero_pad_spectrum(small: np.ndarray, big_hw) -> np.ndarray:
    """Band-limited upsampling of a real 2-D image by zero-padding its
    spectrum, splitting an even Nyquist bin evenly between +-m/2."""
    h, w = small.shape
    big_h, big_w = big_hw
    spec = np.fft.fft2(small) * (big_h * big_w) / (h * w)

    def pad_axis(spec, axis, n):
        m = spec.shape[axis]
        spec = np.moveaxis(spec, axis, 0)
        out = np.zeros((n, ) + spec.shape[1:], dtype=spec.dtype)
        pos = m - m // 2
        out[:pos] = spec[:pos]
        out[n - m // 2:] = spec[pos:]
        if m % 2 == 0 and m < n:
            out[m // 2] = out[n - m // 2] = spec[m // 2] / 2
        return np.moveaxis(out, 0, axis)

    spec = pad_axis(pad_axis(spec, 0, big_h), 1, big_w)
    return np.fft.ifft2(spec).real


# --------------------------------------------------------------- equality


@pytest.mark.parametrize('big_h,big_w', [(8, 8), (9, 11), (10, 12)])
def test_matches_reference_for_every_parity(big_h, big_w):
    rng = np.random.default_rng(0)
    for channels in (None, 3):
        shape = (big_h, big_w) if channels is None else (big_h, big_w, 3)
        img = rng.random(shape)
        for h, w in itertools.product(
                range(1, big_h + 1), range(1, big_w + 1)):
            expected = reference_crop(img, (h, w)).real
            np.testing.assert_allclose(
                fourier_crop(img, (h, w)), expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize('shape,size', [
    ((64, 64, 3), 32),
    ((64, 64, 3), 33),
    ((65, 63), (32, 41)),
    ((64, 48, 3), (63, 1)),
    ((224, 224, 3), 160),
    ((224, 224), 161),
])
@pytest.mark.parametrize('dtype', [np.float64, np.float32, np.uint8])
def test_random_images_match_reference(shape, size, dtype):
    rng = np.random.default_rng(1)
    img = (rng.random(shape) * 255).astype(dtype)
    out = fourier_crop(img, size)
    expected = reference_crop(img, size).real
    assert out.dtype == dtype
    assert out.shape == expected.shape
    assert out.flags.c_contiguous
    if dtype == np.float64:
        np.testing.assert_allclose(out, expected, rtol=0, atol=1e-9)
    elif dtype == np.float32:
        np.testing.assert_allclose(out, expected, rtol=0, atol=1e-3)
    else:
        # float32 work precision may flip a value sitting on .5.
        rounded = np.clip(np.rint(expected), 0, 255)
        diff = np.abs(out.astype(np.float64) - rounded)
        assert diff.max() <= 1
        assert np.mean(diff > 0) < 1e-3


@pytest.mark.parametrize('name', PHOTOS)
@pytest.mark.parametrize('size', [96, 160, 161, 192, (160, 192)])
def test_photos_match_reference(name, size):
    img = photo(name)
    expected = reference_crop(img, size).real
    np.testing.assert_allclose(
        fourier_crop(img.astype(np.float64), size),
        expected,
        rtol=0,
        atol=1e-9)
    rounded = np.clip(np.rint(expected), 0, 255)
    assert np.abs(fourier_crop(img, size) - rounded).max() <= 1


@pytest.mark.parametrize('size', [96, 161, (160, 97)])
@pytest.mark.parametrize('dtype', [torch.float64, torch.float32])
def test_torch_batch_equals_numpy_per_image(size, dtype):
    batch = np.stack([photo(name) for name in PHOTOS])  # N, H, W, C
    tensor = torch.from_numpy(batch).permute(0, 3, 1, 2).to(dtype)
    out = fourier_crop(tensor, size)
    assert out.dtype == dtype
    atol = 1e-9 if dtype == torch.float64 else 1e-3
    for i in range(len(batch)):
        expected = fourier_crop(batch[i].astype(np.float64), size)
        np.testing.assert_allclose(
            out[i].permute(1, 2, 0).double().numpy(),
            expected,
            rtol=0,
            atol=atol)


def test_torch_accepts_any_leading_dims_and_plain_2d():
    rng = np.random.default_rng(2)
    img = rng.random((2, 2, 3, 20, 18))
    out = fourier_crop(torch.from_numpy(img), (9, 12))
    assert out.shape == (2, 2, 3, 9, 12)
    np.testing.assert_allclose(
        fourier_crop(torch.from_numpy(img[0, 1, 2]), (9, 12)).numpy(),
        out[0, 1, 2].numpy(),
        atol=1e-12)
    np.testing.assert_allclose(
        out[1, 0, 1].numpy(),
        reference_crop(img[1, 0, 1], (9, 12)).real,
        atol=1e-12)


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
@pytest.mark.parametrize('dtype', [torch.float32, torch.float16])
def test_cuda_equals_cpu(dtype):
    batch = torch.rand(4, 3, 224, 224) * 255
    for size in (96, 161, (160, 192)):
        out = fourier_crop(batch.to('cuda', dtype), size)
        assert out.device.type == 'cuda' and out.dtype == dtype
        expected = fourier_crop(batch.to(dtype), size)
        torch.testing.assert_close(
            out.cpu().float(), expected.float(), atol=0.5, rtol=1e-2)


# ------------------------------------------------------------- properties


@pytest.mark.parametrize('size', [96, 160, 161, (100, 150)])
def test_mean_is_preserved(size):
    img = photo('chelsea').astype(np.float64)
    out = fourier_crop(img, size)
    np.testing.assert_allclose(
        out.mean(axis=(0, 1)), img.mean(axis=(0, 1)), rtol=1e-12)
    tensor = torch.from_numpy(img).permute(2, 0, 1).float()
    np.testing.assert_allclose(
        fourier_crop(tensor, size).mean(dim=(1, 2)).numpy(),
        img.mean(axis=(0, 1)),
        rtol=1e-5)


def test_full_size_returns_input():
    img = photo('coffee')
    assert fourier_crop(img, 224) is img
    assert fourier_crop(img, (224, 224)) is img
    tensor = torch.rand(2, 3, 32, 48)
    assert fourier_crop(tensor, (32, 48)) is tensor
    # A full-size crop by the reference is the identity up to float error.
    np.testing.assert_allclose(
        reference_crop(img, 224).real, img, rtol=0, atol=1e-9)


def test_uint8_is_rounded_and_clipped():
    # Hard 0/255 edges ring well outside [0, 255].
    img = np.zeros((64, 64, 3), dtype=np.uint8)
    img[16:48, 16:48] = 255
    expected = reference_crop(img, 40).real
    assert expected.min() < -5 and expected.max() > 260
    out = fourier_crop(img, 40)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, np.clip(np.rint(expected), 0, 255))
    tensor_out = fourier_crop(torch.from_numpy(img).permute(2, 0, 1), 40)
    assert tensor_out.dtype == torch.uint8
    np.testing.assert_array_equal(tensor_out.permute(1, 2, 0).numpy(), out)


def test_float_is_not_clipped():
    img = np.zeros((64, 64), dtype=np.float32)
    img[16:48, 16:48] = 255
    out = fourier_crop(img, 40)
    assert out.dtype == np.float32
    assert out.min() < -5 and out.max() > 260


@pytest.mark.parametrize('dtype', [np.float16, np.float32, np.float64])
def test_numpy_float_dtype_is_kept(dtype):
    img = np.random.default_rng(3).random((32, 32, 3)).astype(dtype)
    assert fourier_crop(img, 17).dtype == dtype


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_torch_half_is_computed_in_float32(dtype):
    tensor = torch.rand(2, 3, 32, 32)
    out = fourier_crop(tensor.to(dtype), 20)
    assert out.dtype == dtype
    expected = fourier_crop(tensor.to(dtype).float(), 20)
    torch.testing.assert_close(out.float(), expected.to(dtype).float())


@pytest.mark.parametrize('size', [(31, 31), (31, 45), (161, 161)])
def test_zero_padding_the_crop_gives_the_low_pass_for_odd_sizes(size):
    img = photo('astronaut')[..., 0].astype(np.float64)
    crop = fourier_crop(img, size)
    np.testing.assert_allclose(
        zero_pad_spectrum(crop, img.shape),
        fourier_low_pass(img, size),
        rtol=0,
        atol=1e-9)


@pytest.mark.parametrize('size', [(160, 160), (96, 161)])
def test_zero_padding_differs_only_on_the_nyquist_lines_for_even_sizes(size):
    """A real h x w image cannot hold the sine part of its Nyquist
    frequency, so only the +-h/2 rows and +-w/2 columns may differ."""
    h, w = size
    img = photo('astronaut')[..., 1].astype(np.float64)
    diff = zero_pad_spectrum(fourier_crop(img, size), img.shape)
    diff -= fourier_low_pass(img, size)
    spec = np.abs(np.fft.fft2(diff))
    nyquist = np.zeros(img.shape, dtype=bool)
    if h % 2 == 0:
        nyquist[[h // 2, -(h // 2)], :] = True
    if w % 2 == 0:
        nyquist[:, [w // 2, -(w // 2)]] = True
    assert spec[~nyquist].max() < 1e-6
    assert spec[nyquist].max() > 1  # the lost sine part is real content


def test_crop_samples_the_low_pass_at_integer_ratios():
    img = photo('coffee').astype(np.float64)
    np.testing.assert_allclose(
        fourier_crop(img, 112),
        fourier_low_pass(img, 112)[::2, ::2],
        rtol=0,
        atol=1e-9)


def test_low_pass_numpy_and_torch_agree():
    img = photo('chelsea').astype(np.float64)
    out = fourier_low_pass(torch.from_numpy(img).permute(2, 0, 1), 97)
    np.testing.assert_allclose(
        out.permute(1, 2, 0).numpy(),
        fourier_low_pass(img, 97),
        rtol=0,
        atol=1e-9)
    assert fourier_low_pass(img, 224) is img


def test_discarded_imaginary_part_is_small_for_even_sizes():
    img = photo('astronaut')
    imag = reference_crop(img, 160).imag
    rms = float(np.sqrt(np.mean(imag**2)))
    assert 0.1 < rms < 3
    # Odd crops keep a symmetric block: nothing is discarded.
    assert np.abs(reference_crop(img, 161).imag).max() < 1e-9


# ------------------------------------------------------------- bad inputs


@pytest.mark.parametrize('size,error', [
    (0, ValueError),
    (-3, ValueError),
    ((160, 0), ValueError),
    (160.0, TypeError),
    ('160', TypeError),
    (True, TypeError),
    ((160, True), TypeError),
    ((160, 160.5), TypeError),
    ((160, ), ValueError),
    ((160, 160, 3), ValueError),
    (None, TypeError),
])
def test_bad_sizes_name_the_value(size, error):
    img = np.zeros((224, 224, 3), dtype=np.uint8)
    with pytest.raises(error, match='size') as info:
        fourier_crop(img, size)
    assert repr(size) in str(info.value)
    with pytest.raises(error):
        fourier_crop(torch.zeros(1, 3, 224, 224), size)


@pytest.mark.parametrize('size', [256, (225, 224), (224, 300)])
def test_size_larger_than_image(size):
    img = np.zeros((224, 224, 3), dtype=np.uint8)
    with pytest.raises(ValueError) as info:
        fourier_crop(img, size)
    message = str(info.value)
    assert str(to_size_pair(size)) in message and '(224, 224)' in message
    with pytest.raises(ValueError, match=r'\(224, 224\)'):
        fourier_crop(torch.zeros(3, 224, 224), size)
    with pytest.raises(ValueError, match=r'\(224, 224\)'):
        fourier_low_pass(img, size)


@pytest.mark.parametrize('img', [
    np.zeros(224),
    np.zeros((2, 224, 224, 3)),
    torch.zeros(224),
])
def test_wrong_rank_names_the_shape(img):
    with pytest.raises(ValueError, match='shape') as info:
        fourier_crop(img, 160)
    assert str(tuple(img.shape)) in str(info.value)


@pytest.mark.parametrize('img', [
    np.zeros((32, 32), dtype=bool),
    np.zeros((32, 32), dtype=np.complex64),
    torch.zeros(32, 32, dtype=torch.bool),
    [[0.0] * 32] * 32,
])
def test_unsupported_image_types(img):
    with pytest.raises(TypeError):
        fourier_crop(img, 16)


def test_to_size_pair():
    assert to_size_pair(160) == (160, 160)
    assert to_size_pair([96, 128]) == (96, 128)
    pair = to_size_pair((np.int64(96), np.uint16(128)))
    assert pair == (96, 128) and all(type(v) is int for v in pair)
    assert to_size_pair(np.int32(7)) == (7, 7)
    assert to_size_pair(np.array([5, 6])) == (5, 6)
    with pytest.raises(ValueError, match=r'FourierCrop\.size.*-1'):
        to_size_pair(-1, name='FourierCrop.size')
    with pytest.raises(TypeError, match='my_size'):
        to_size_pair(np.bool_(True), name='my_size')


def test_check_fits():
    check_fits((224, 160), (224, 224))
    with pytest.raises(ValueError, match=r'crop=\(225, 10\).*\(224, 224\)'):
        check_fits((225, 10), (224, 224), name='crop')
