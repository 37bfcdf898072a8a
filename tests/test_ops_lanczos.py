"""The matrix Lanczos equals Pillow's Lanczos on real images."""
import os.path as osp

import numpy as np
import pytest
import torch
from PIL import Image

from etpp_mm.ops import (lanczos_matrix, lanczos_resize, lanczos_resize_torch,
                         low_frequency_downsample)
from etpp_mm.ops.lanczos import MATRIX_MAX_MACS, matrix_macs

skdata = pytest.importorskip('skimage.data')

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def pil_lanczos(img, h, w):
    return np.asarray(
        Image.fromarray(img).resize((w, h), Image.Resampling.LANCZOS))


def max_diff(a, b):
    return int(np.abs(a.astype(np.int16) - b.astype(np.int16)).max())


@pytest.fixture(scope='module')
def photos():
    out = {n: getattr(skdata, n)() for n in ('astronaut', 'coffee', 'chelsea')}
    out['astronaut224'] = pil_lanczos(out['astronaut'], 224, 224)
    out['coffee400x300'] = pil_lanczos(out['coffee'], 300, 400)
    out['camera_grey'] = skdata.camera()
    return out


@pytest.fixture(scope='module')
def fmnist(fmnist_root):
    from mmpretrain.datasets.mnist import read_image_file
    imgs = read_image_file(osp.join(fmnist_root, 't10k-images-idx3-ubyte'))
    return imgs[:200].numpy()


SIZES = [(12, 12), (20, 20), (96, 96), (160, 160), (96, 128), (71, 53)]


@pytest.mark.parametrize('name', [
    'astronaut', 'coffee', 'chelsea', 'astronaut224', 'coffee400x300',
    'camera_grey'
])
def test_equals_pillow_on_photos(photos, name):
    img = photos[name]
    in_h, in_w = img.shape[:2]
    # Also one axis unchanged (Pillow skips that pass) and enlarging.
    sizes = SIZES + [(in_h, in_w // 2), (in_h // 3, in_w), (in_h + 7, 30)]
    for h, w in sizes:
        assert max_diff(lanczos_resize(img, (h, w)), pil_lanczos(img, h,
                                                                 w)) == 0


def test_equals_pillow_on_fashion_mnist(fmnist):
    for h, w in [(12, 12), (20, 20), (14, 9)]:
        for img in fmnist:
            ref = pil_lanczos(img, h, w)
            np.testing.assert_array_equal(lanczos_resize(img, (h, w)), ref)


def test_sub_pixel_box_equals_pillow(photos):
    from etpp_mm.ops.lanczos import resize_unchecked
    img = photos['coffee']
    for box, (h, w) in [((10.3, 20.7, 333.1, 250.0), (40, 60)),
                        ((0, 0, 600, 400), (96, 96)),
                        ((100.5, 0.25, 101.5, 399.0), (30, 7))]:
        ref = np.asarray(
            Image.fromarray(img).resize((w, h), Image.Resampling.LANCZOS,
                                        box=box))
        assert max_diff(resize_unchecked(img, h, w, box), ref) == 0


def test_any_channel_count_is_per_channel(photos):
    img = photos['astronaut224']
    rgba = np.concatenate([img, img[..., :2]], axis=-1)  # 5 channels
    out = lanczos_resize(rgba, (50, 60))
    for c in range(5):
        np.testing.assert_array_equal(
            out[..., c], pil_lanczos(np.ascontiguousarray(rgba[..., c]), 50,
                                     60))


def test_matrix_is_cached_read_only_and_normalised():
    m = lanczos_matrix(224, 96)
    assert m is lanczos_matrix(224, 96)
    assert not m.flags.writeable
    # 22-bit fixed point: rows sum to 1 within the rounding of each tap.
    assert np.abs(m.sum(axis=1) - 1).max() <= m.shape[1] * 2.0**-23
    # Support 3 * 224/96 = 7 input pixels each side of the centre.
    assert ((m != 0).sum(axis=1) <= 2 * 7 + 1).all()


def test_torch_batches_match_pillow(photos):
    imgs = [pil_lanczos(photos[n], 224, 224) for n in ('coffee', 'chelsea')]
    batch = torch.from_numpy(np.stack(imgs)).permute(0, 3, 1, 2)
    exact = lanczos_resize_torch(batch, (96, 128))
    fast = lanczos_resize_torch(batch, (96, 128), dtype=torch.float32)
    for i, img in enumerate(imgs):
        ref = pil_lanczos(img, 96, 128)
        assert max_diff(exact[i].permute(1, 2, 0).numpy(), ref) == 0
        assert max_diff(fast[i].permute(1, 2, 0).numpy(), ref) <= 1
    assert lanczos_resize_torch(batch, 224) is batch


def test_downsample_picks_the_cheaper_equal_path(photos):
    small = photos['astronaut'][::16, ::16]  # 32 x 32 x 3
    big = photos['astronaut224']
    assert matrix_macs(small.shape, (12, 12)) <= MATRIX_MAX_MACS
    assert matrix_macs(big.shape, (160, 160)) > MATRIX_MAX_MACS
    for img, size in ((small, 12), (big, 160)):
        np.testing.assert_array_equal(
            low_frequency_downsample(img, size), pil_lanczos(img, size, size))


def test_full_size_and_bad_input(photos):
    img = photos['chelsea']
    assert lanczos_resize(img, img.shape[:2]) is img
    with pytest.raises(TypeError, match='float32'):
        lanczos_resize(img.astype(np.float32), 12)
    with pytest.raises(ValueError, match='positive'):
        lanczos_resize(img, (0, 12))
    with pytest.raises(ValueError, match='in_size=0'):
        lanczos_matrix(0, 3)
