"""Reduced-size JPEG decoding fused with RandomResizedCrop."""
import numpy as np
import pytest
from mmcv.transforms import LoadImageFromFile
from mmpretrain.datasets.transforms import RandomResizedCrop
from mmpretrain.registry import TRANSFORMS
from PIL import Image

from etpp_mm.ops.lanczos import resize_unchecked
from etpp_mm.ops.reduced_decode import (choose_reduction, crop_for_resize,
                                        decode_jpeg, jpeg_size, reduced_box)
from etpp_mm.transforms import LoadImageAndRandomResizedCrop

skdata = pytest.importorskip('skimage.data')


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp('jpegs')
    out = {}
    for name in ('astronaut', 'coffee', 'chelsea'):
        img = Image.fromarray(getattr(skdata, name)()).convert('RGB')
        if name == 'chelsea':  # 451 x 300: up to >= 400 px
            img = img.resize((601, 400), Image.Resampling.LANCZOS)
        out[name] = str(root / f'{name}.jpg')
        img.save(out[name], quality=90)
    out['png'] = str(root / 'coffee.png')
    Image.open(out['coffee']).save(out['png'])
    return out


def full_path(path, scale, seed, **kwargs):
    """LoadImageFromFile + RandomResizedCrop (pillow Lanczos)."""
    np.random.seed(seed)
    results = LoadImageFromFile()(dict(img_path=path))
    crop = RandomResizedCrop(
        scale, interpolation='lanczos', backend='pillow', **kwargs)
    return crop(results)


def fused(path, scale, seed, **kwargs):
    np.random.seed(seed)
    return LoadImageAndRandomResizedCrop(scale, **kwargs)(dict(img_path=path))


def lanczos_resize_box(img, out, box):
    return resize_unchecked(img, out[0], out[1], box)


def psnr(a, b):
    err = a.astype(np.float64) - b
    return 10 * np.log10(255.0**2 / max(np.mean(err**2), 1e-10))


def test_header_size_is_the_decoded_size(files):
    for name in ('astronaut', 'coffee', 'chelsea'):
        with open(files[name], 'rb') as f:
            buf = f.read()
        full = decode_jpeg(buf)
        assert jpeg_size(buf) == full.shape[:2]
        for factor in (2, 4, 8):
            # libjpeg's scaled sizes are ceil(dim / factor).
            assert decode_jpeg(buf, factor).shape[:2] == tuple(
                -(-d // factor) for d in full.shape[:2])
    with open(files['png'], 'rb') as f:
        assert jpeg_size(f.read()) is None


@pytest.mark.parametrize('kwargs', [{}, dict(crop_ratio_range=(0.5, 1.0))])
def test_same_box_and_random_stream_as_random_resized_crop(files, kwargs):
    """Same seed, same file: the same box from the same random draws."""
    with open(files['coffee'], 'rb') as f:
        full = decode_jpeg(f.read())
    ref = RandomResizedCrop(96, **kwargs)
    ours = LoadImageAndRandomResizedCrop(96, **kwargs)
    for seed in range(50):
        np.random.seed(seed)
        box = ref.rand_crop_params(full)
        after = np.random.random()
        fused(files['coffee'], 96, seed, **kwargs)
        assert np.random.random() == after  # no extra or missing draws
        np.random.seed(seed)
        assert ours.rand_crop_params(np.broadcast_to(np.uint8(0),
                                                     full.shape[:2])) == box


def test_fallback_to_the_centre_crop_matches():
    """max_attempts=0 forces MMPretrain's central-crop fall-back."""
    shape = np.broadcast_to(np.uint8(0), (400, 900))
    ours = LoadImageAndRandomResizedCrop(64, max_attempts=0)
    assert ours.rand_crop_params(shape) == RandomResizedCrop(
        64, max_attempts=0).rand_crop_params(np.zeros((400, 900), np.uint8))


@pytest.mark.parametrize(
    'box,out,factor',
    [((0, 0, 400, 600), (96, 96), 4), ((0, 0, 400, 600), (32, 32), 8),
     ((0, 0, 400, 600), (224, 224), 1), ((0, 0, 400, 600), (200, 200), 2),
     ((13, 7, 100, 90), (12, 12), 4), ((13, 7, 100, 90), (12, 11), 8),
     ((1, 1, 95, 95), (48, 48), 1), ((0, 0, 96, 96), (48, 48), 2),
     ((5, 9, 30, 400), (20, 20), 1)])
def test_reduction_choice(box, out, factor):
    assert choose_reduction(box, out) == factor


def test_box_mapping_is_exact_and_big_enough():
    rng = np.random.default_rng(0)
    for _ in range(2000):
        H, W = rng.integers(64, 900, 2)
        bh, bw = rng.integers(1, H + 1), rng.integers(1, W + 1)
        box = (rng.integers(0, H - bh + 1), rng.integers(0, W - bw + 1), bh,
               bw)
        out = tuple(rng.integers(8, 257, 2))
        factor = choose_reduction(box, out)
        left, top, right, bottom = reduced_box(box, factor)
        np.testing.assert_allclose(
            (top, left, bottom, right),
            np.array([box[0], box[1], box[0] + bh, box[1] + bw]) / factor)
        assert bottom <= -(-H // factor) and right <= -(-W // factor)
        if factor > 1:
            assert bottom - top >= out[0] and right - left >= out[1]
        if factor < 8:  # the next reduction would be too small
            assert bh < out[0] * 2 * factor or bw < out[1] * 2 * factor


def test_crop_for_resize_changes_nothing(files):
    """Resampling a sub-pixel box from the cut equals doing it on the whole
    reduced image (Pillow's own box resize as the reference)."""
    with open(files['coffee'], 'rb') as f:
        img = decode_jpeg(f.read(), 4)  # 100 x 150
    for box, out in [((10.25, 3.5, 90.75, 60.0), (20, 30)),
                     ((0.0, 0.0, 150.0, 100.0), (50, 70)),
                     ((120.5, 70.25, 149.0, 99.5), (12, 12))]:
        cut, sub = crop_for_resize(img, box, out)
        ours = lanczos_resize_box(np.ascontiguousarray(cut), out, sub)
        ref = np.asarray(
            Image.fromarray(img).resize(out[::-1], Image.Resampling.LANCZOS,
                                        box=box))
        assert np.abs(ours.astype(int) - ref).max() <= 1


@pytest.mark.parametrize('name', ['astronaut', 'coffee', 'chelsea'])
@pytest.mark.parametrize('scale', [32, 96, (64, 48)])
def test_close_to_the_full_decode(files, name, scale):
    """Measured 35-45 dB over these seeds; floor 32."""
    scores = []
    for seed in range(8):
        ref = full_path(files[name], scale, seed)
        out = fused(files[name], scale, seed)
        assert out['img'].shape == ref['img'].shape
        assert out['img_shape'] == ref['img_shape']
        assert out['ori_shape'] == ref['ori_shape']
        scores.append(psnr(out['img'], ref['img']))
    assert min(scores) > 32, scores


def test_png_falls_back_to_the_full_path(files):
    for seed in range(5):
        ref = full_path(files['png'], (80, 100), seed)
        out = fused(files['png'], (80, 100), seed)
        np.testing.assert_array_equal(out['img'], ref['img'])
        assert out['ori_shape'] == ref['ori_shape'] == (400, 600)


def test_grayscale_and_settable_scale(files):
    load = TRANSFORMS.build(
        dict(
            type='LoadImageAndRandomResizedCrop',
            scale=64,
            color_type='grayscale'))
    assert load(dict(img_path=files['astronaut']))['img'].shape == (64, 64)
    load.scale = (20, 30)
    assert load(dict(img_path=files['astronaut']))['img'].shape == (20, 30)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="color_type='unchanged'"):
        LoadImageAndRandomResizedCrop(64, color_type='unchanged')
    with pytest.raises(ValueError,
                       match='LoadImageAndRandomResizedCrop.scale'):
        LoadImageAndRandomResizedCrop(0)
