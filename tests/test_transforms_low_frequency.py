"""The low-frequency transforms, alone and inside an MMPretrain pipeline."""
import copy
import pickle

import numpy as np
import pytest
from mmcv.transforms import Compose
from mmengine.registry import init_default_scope
from mmpretrain.registry import TRANSFORMS
from PIL import Image

import etpp_mm.transforms  # noqa: F401  registers the transforms
import mmpretrain.datasets  # noqa: F401  registers MMPretrain's transforms
from etpp_mm.ops import fourier_crop, low_frequency_downsample
from etpp_mm.transforms import (FourierCrop, LowFrequencyDownsample,
                                LowFrequencyTransform)

skdata = pytest.importorskip('skimage.data')


@pytest.fixture(scope='module')
def img():
    """A real RGB photo, 300 x 451 as scikit-image ships it."""
    return np.ascontiguousarray(skdata.chelsea())


@pytest.fixture(scope='module')
def img224(img):
    resized = Image.fromarray(img).resize((224, 224), Image.Resampling.BICUBIC)
    return np.asarray(resized)


@pytest.fixture(autouse=True, scope='module')
def mmpretrain_scope():
    init_default_scope('mmpretrain')


@pytest.mark.parametrize('cls', [FourierCrop, LowFrequencyDownsample])
def test_build_from_config(cls, img224):
    transform = TRANSFORMS.build(dict(type=cls.__name__, size=160))
    assert isinstance(transform, cls)
    assert isinstance(transform, LowFrequencyTransform)
    assert transform.size == (160, 160)
    results = transform(dict(img=img224, img_shape=(224, 224)))
    assert results['img'].shape == (160, 160, 3)
    assert results['img'].dtype == np.uint8
    assert results['img_shape'] == (160, 160)


def test_outputs_equal_the_ops(img224):
    out = FourierCrop(size=(96, 128))(dict(img=img224))['img']
    np.testing.assert_array_equal(out, fourier_crop(img224, (96, 128)))
    down = LowFrequencyDownsample(size=(96, 128), interpolation='bicubic')
    np.testing.assert_array_equal(
        down(dict(img=img224))['img'],
        low_frequency_downsample(img224, (96, 128), 'bicubic'))


@pytest.mark.parametrize('cls', [FourierCrop, LowFrequencyDownsample])
def test_size_none_passes_through(cls, img224):
    transform = cls()
    assert transform.size is None
    results = dict(img=img224, img_shape=(224, 224))
    out = transform(results)
    assert out['img'] is img224
    assert out['img_shape'] == (224, 224)


@pytest.mark.parametrize('cls', [FourierCrop, LowFrequencyDownsample])
def test_setting_size_on_a_live_instance(cls, img224):
    transform = cls(size=None)
    transform.size = 96  # what the curriculum hook does between stages
    assert transform.size == (96, 96)
    assert transform(dict(img=img224))['img'].shape == (96, 96, 3)
    transform.size = (160, 192)
    assert transform(dict(img=img224))['img_shape'] == (160, 192)
    transform.size = None
    assert transform(dict(img=img224))['img'] is img224
    with pytest.raises(ValueError, match=rf'{cls.__name__}\.size.*got 0'):
        transform.size = 0


def test_grayscale_images(img224):
    gray = np.ascontiguousarray(img224[..., 0])
    for transform in (FourierCrop(100), LowFrequencyDownsample(100)):
        results = transform(dict(img=gray))
        assert results['img'].shape == (100, 100)
        assert results['img_shape'] == (100, 100)


@pytest.mark.parametrize('cls', [FourierCrop, LowFrequencyDownsample])
def test_error_names_transform_size_and_image(cls, img224):
    transform = cls(size=256)
    with pytest.raises(ValueError) as info:
        transform(dict(img=img224))
    message = str(info.value)
    assert cls.__name__ in message
    assert '(256, 256)' in message and '(224, 224)' in message


@pytest.mark.parametrize('size,error', [(0, ValueError), (160.0, TypeError),
                                        ('160', TypeError), (True, TypeError),
                                        ((1, 2, 3), ValueError)])
def test_bad_sizes_at_construction(size, error):
    with pytest.raises(error, match='FourierCrop.size') as info:
        FourierCrop(size=size)
    assert repr(size) in str(info.value)


def test_bad_interpolation():
    with pytest.raises(ValueError, match="'area'"):
        LowFrequencyDownsample(size=160, interpolation='area')


def test_repr():
    assert repr(FourierCrop(160)) == 'FourierCrop(size=(160, 160))'
    assert repr(FourierCrop()) == 'FourierCrop(size=None)'
    assert repr(LowFrequencyDownsample((96, 128))) == (
        "LowFrequencyDownsample(size=(96, 128), interpolation='lanczos')")


@pytest.mark.parametrize('cls', [FourierCrop, LowFrequencyDownsample])
def test_copy_and_pickle_keep_the_size(cls):
    """Data-loader workers receive copies of the pipeline."""
    transform = cls(size=128)
    for clone in (copy.deepcopy(transform),
                  pickle.loads(pickle.dumps(transform))):
        assert clone.size == (128, 128)
        clone.size = 64
        assert clone.size == (64, 64)
    assert transform.size == (128, 128)


@pytest.mark.parametrize('name', ['LowFrequencyDownsample', 'FourierCrop'])
def test_inside_an_mmpretrain_pipeline(name, img):
    pipeline = Compose([
        dict(type='RandomResizedCrop', scale=224, backend='pillow'),
        dict(type='RandomFlip', prob=0.5),
        dict(type=name, size=160),
        dict(type='PackInputs'),
    ])
    packed = pipeline(dict(img=img))
    assert tuple(packed['inputs'].shape) == (3, 160, 160)
    assert packed['data_samples'].img_shape == (160, 160)

    low_frequency = pipeline.transforms[2]
    assert type(low_frequency).__name__ == name
    low_frequency.size = (96, 128)
    assert tuple(pipeline(dict(img=img))['inputs'].shape) == (3, 96, 128)
    low_frequency.size = None
    assert tuple(pipeline(dict(img=img))['inputs'].shape) == (3, 224, 224)
