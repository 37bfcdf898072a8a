"""Anti-aliased down-sampling: how close it is to the exact crop."""
import mmcv
import numpy as np
import pytest
from PIL import Image

from etpp_mm.ops import fourier_crop, low_frequency_downsample

skdata = pytest.importorskip('skimage.data')


def photo(name: str, size: int = 224) -> np.ndarray:
    """A real RGB photo from scikit-image, resized to ``size`` x ``size``."""
    img = Image.fromarray(getattr(skdata, name)())
    return np.asarray(img.resize((size, size), Image.Resampling.BICUBIC))


def psnr(img: np.ndarray, ref: np.ndarray) -> float:
    err = img.astype(np.float64) - ref
    return float(10 * np.log10(255.0**2 / np.mean(err**2)))


@pytest.fixture(scope='module')
def astronaut():
    return photo('astronaut')


@pytest.mark.parametrize('size,min_db', [(96, 22), (160, 30), (192, 35)])
def test_lanczos_is_close_to_the_exact_crop(astronaut, size, min_db):
    exact = fourier_crop(astronaut.astype(np.float64), size)
    lanczos = psnr(low_frequency_downsample(astronaut, size), exact)
    nearest = psnr(low_frequency_downsample(astronaut, size, 'nearest'), exact)
    assert lanczos > min_db
    assert lanczos > nearest + 1


def test_lanczos_beats_the_other_filters_when_shrinking_a_little(astronaut):
    exact = fourier_crop(astronaut.astype(np.float64), 192)
    scores = {
        mode: psnr(low_frequency_downsample(astronaut, 192, mode), exact)
        for mode in ('lanczos', 'bicubic', 'bilinear', 'box', 'nearest')
    }
    assert max(scores, key=scores.get) == 'lanczos'


def test_high_frequencies_are_filtered_not_aliased():
    """Stripes above the target's Nyquist frequency (80 cycles at 160) must
    fade: pillow widens its filters when shrinking. Nearest neighbour and
    OpenCV's Lanczos alias them into strong low-frequency stripes."""
    cols = np.arange(224)
    stripes = 128 + 100 * np.cos(2 * np.pi * 105 * cols / 224)  # std 70
    img = np.repeat(stripes[None, :], 224, axis=0).astype(np.uint8)
    assert low_frequency_downsample(img, 160).std() < 10
    for mode in ('bicubic', 'bilinear'):
        assert low_frequency_downsample(img, 160, mode).std() < 20
    assert low_frequency_downsample(img, 160, 'nearest').std() > 50
    cv2_lanczos = mmcv.imresize(
        img, (160, 160), interpolation='lanczos', backend='cv2')
    assert cv2_lanczos.std() > 40


@pytest.mark.parametrize('shape', [(224, 224), (224, 224, 3), (200, 180, 1),
                                   (224, 224, 4), (64, 64, 2)])
def test_layouts_and_channels(shape):
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, shape, dtype=np.uint8)
    out = low_frequency_downsample(img, (50, 60))
    assert out.dtype == np.uint8
    assert out.shape == (50, 60) + shape[2:]
    if len(shape) == 3:
        # Channels are filtered independently (no alpha premultiplying).
        for c in range(shape[2]):
            np.testing.assert_array_equal(
                out[..., c],
                low_frequency_downsample(
                    np.ascontiguousarray(img[..., c]), (50, 60)))


def test_uses_mmcv_pillow_resize(astronaut):
    for mode in ('lanczos', 'bicubic', 'hamming', 'box'):
        np.testing.assert_array_equal(
            low_frequency_downsample(astronaut, (96, 128), mode),
            mmcv.imresize(
                astronaut, (128, 96), interpolation=mode, backend='pillow'))


def test_full_size_returns_input(astronaut):
    assert low_frequency_downsample(astronaut, 224) is astronaut


@pytest.mark.parametrize('mode', ['area', 'LANCZOS', 'cubic', None])
def test_unknown_interpolation(astronaut, mode):
    with pytest.raises(ValueError, match='interpolation') as info:
        low_frequency_downsample(astronaut, 160, mode)
    assert repr(mode) in str(info.value) and "'lanczos'" in str(info.value)


@pytest.mark.parametrize('size,error', [(0, ValueError), (-1, ValueError),
                                        (160.0, TypeError), ('160', TypeError),
                                        (False, TypeError),
                                        ((160, 160, 160), ValueError)])
def test_bad_sizes(astronaut, size, error):
    with pytest.raises(error) as info:
        low_frequency_downsample(astronaut, size)
    assert repr(size) in str(info.value)


def test_size_larger_than_image(astronaut):
    with pytest.raises(ValueError, match=r'\(160, 256\).*\(224, 224\)'):
        low_frequency_downsample(astronaut, (160, 256))


def test_wrong_rank_and_dtype():
    with pytest.raises(ValueError, match=r'\(2, 32, 32, 3\)'):
        low_frequency_downsample(np.zeros((2, 32, 32, 3), np.uint8), 16)
    with pytest.raises(ValueError, match=r'\(32,\)'):
        low_frequency_downsample(np.zeros(32, np.uint8), 16)
    with pytest.raises(TypeError, match='float32'):
        low_frequency_downsample(np.zeros((32, 32, 3), np.float32), 16)
