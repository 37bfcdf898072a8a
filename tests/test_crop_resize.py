"""RandomCropResize: MMPretrain's padded RandomCrop and the Lanczos step in
one, on real Fashion-MNIST and scikit-image photos."""
import numpy as np
import pytest
from mmcv.transforms import Compose
from mmengine.registry import init_default_scope
from mmpretrain.registry import TRANSFORMS
from skimage import data as skdata

from etpp_mm.ops.crop_resize import four_sides, random_crop_box
from etpp_mm.transforms import RandomCropResize
from test_stage_sizing import drive, names, resolve


@pytest.fixture(scope='module')
def fmnist(fmnist_root):
    init_default_scope('mmpretrain')
    from mmpretrain.datasets import FashionMNIST
    dataset = FashionMNIST(data_root=fmnist_root, split='train', indices=60,
                           pipeline=[])
    return [dataset[i]['img'] for i in range(len(dataset))]


def colour():
    return np.asarray(skdata.astronaut())[100:160, 180:230].copy()


CROPS = [
    dict(crop_size=28, padding=2),
    dict(crop_size=24, padding=(3, 1)),
    dict(crop_size=(26, 30), padding=(1, 2, 4, 0), pad_val=7),
    dict(crop_size=34, pad_if_needed=True, pad_val=200),
    dict(crop_size=20),
]


def recipe_crop(cfg):
    return TRANSFORMS.build(dict(type='RandomCrop', **cfg))


@pytest.mark.parametrize('cfg', CROPS)
def test_the_crop_box_is_randomcrops_for_many_seeds(cfg):
    import mmcv
    crop = recipe_crop(cfg)
    img = np.zeros((28, 28), np.uint8)
    padded = mmcv.impad(img, padding=four_sides(cfg.get('padding')))
    boxes = []
    for seed in range(200):
        np.random.seed(seed)
        box = random_crop_box((28, 28), crop.crop_size, cfg.get('padding'),
                              crop.pad_if_needed)
        after = np.random.randint(1 << 30)
        np.random.seed(seed)
        if crop.pad_if_needed:  # RandomCrop pads by half the shortfall
            extra = [(c - s + 1) // 2 for c, s in zip(crop.crop_size,
                                                      img.shape)]
            padded = mmcv.impad(img, padding=(extra[1], extra[0]) * 2)
        offset_h, offset_w, th, tw = crop.rand_crop_params(padded)
        # the same window, and the same draws consumed
        assert np.random.randint(1 << 30) == after
        top = offset_h - (padded.shape[0] - 28) // 2 if crop.pad_if_needed \
            else offset_h - four_sides(cfg.get('padding'))[1]
        left = offset_w - (padded.shape[1] - 28) // 2 if \
            crop.pad_if_needed else offset_w - four_sides(
                cfg.get('padding'))[0]
        assert box == (top, left, th, tw)
        boxes.append(box[:2])
    assert len(set(boxes)) > 1 or cfg.get('crop_size') == 34


@pytest.mark.parametrize('cfg', CROPS)
def test_without_a_size_it_is_randomcrop_bit_for_bit(cfg, fmnist):
    crop = recipe_crop(cfg)
    fused = RandomCropResize.from_random_crop(crop)
    images = fmnist[:30] + [colour(), colour()[..., :1]]
    for seed, img in enumerate(images):
        np.random.seed(seed)
        ref = crop(dict(img=img.copy()))
        np.random.seed(seed)
        out = fused(dict(img=img.copy()))
        assert out['img'].dtype == ref['img'].dtype
        assert out['img'].shape == ref['img'].shape
        assert out['img_shape'] == ref['img_shape']
        assert (out['img'] == ref['img']).all(), seed
        fused.size = ref['img'].shape[:2]  # the full size: the same
        np.random.seed(seed)
        assert (fused(dict(img=img.copy()))['img'] == ref['img']).all()
        fused.size = None


@pytest.mark.parametrize('size', [12, 20, (12, 20)])
@pytest.mark.parametrize('cfg', CROPS[:3])
def test_at_a_stage_it_equals_randomcrop_then_lanczos(cfg, size, fmnist):
    # Stronger than a PSNR floor: the folded padding rows give Pillow's
    # sums exactly, so the output is bit-identical.
    crop = recipe_crop(cfg)
    down = TRANSFORMS.build(dict(type='LowFrequencyDownsample', size=size))
    fused = RandomCropResize.from_random_crop(crop)
    fused.size = size
    for seed, img in enumerate(fmnist + [colour()]):
        np.random.seed(seed)
        ref = down(crop(dict(img=img.copy())))['img']
        np.random.seed(seed)
        out = fused(dict(img=img.copy()))['img']
        assert out.shape == ref.shape and (out == ref).all(), seed


@pytest.mark.parametrize('prob', [0.5, 0.3])
@pytest.mark.parametrize('size', [None, 12, (12, 20)])
@pytest.mark.parametrize('cfg', CROPS[:4])
def test_a_folded_flip_is_randomflip_after_it_bit_for_bit(
        cfg, size, prob, fmnist):
    crop, flip = recipe_crop(cfg), TRANSFORMS.build(
        dict(type='RandomFlip', prob=prob, direction='horizontal'))
    steps = [crop, flip]
    if size is not None:
        steps.append(
            TRANSFORMS.build(dict(type='LowFrequencyDownsample', size=size)))
    reference = Compose(steps)
    assert RandomCropResize.can_fold(flip)
    fused = RandomCropResize.from_random_crop(crop, flip)
    fused.size = size
    flips = []
    for seed, img in enumerate(fmnist + [colour()]):
        np.random.seed(seed)
        ref = reference(dict(img=img.copy()))
        after = np.random.randint(1 << 30)
        np.random.seed(seed)
        out = fused(dict(img=img.copy()))
        # the same draws consumed: later steps see the same stream
        assert np.random.randint(1 << 30) == after
        assert out['flip'] == ref['flip']
        assert out['flip_direction'] == ref['flip_direction']
        assert out['img'].shape == ref['img'].shape
        assert (out['img'] == ref['img']).all(), seed
        flips.append(out['flip'])
    assert 0 < sum(flips) < len(flips)


@pytest.mark.parametrize('flip', [
    dict(prob=0.5, direction='vertical'),
    dict(prob=[0.3, 0.2], direction=['horizontal', 'vertical']),
    dict(prob=0.5, direction='diagonal'),
])
def test_other_flips_are_not_folded(flip):
    flip = TRANSFORMS.build(dict(type='RandomFlip', **flip))
    assert not RandomCropResize.can_fold(flip)
    assert not RandomCropResize.can_fold(None)
    with pytest.raises(ValueError, match='flip_prob must be in'):
        RandomCropResize(8, flip_prob=1.5)


def test_non_constant_padding_if_needed_is_refused_naming_it():
    with pytest.raises(ValueError, match="padding_mode='reflect'.*constant"):
        RandomCropResize(32, pad_if_needed=True, padding_mode='reflect')
    with pytest.raises(TypeError, match='uint8'):
        RandomCropResize(8, size=4)(dict(img=np.zeros((8, 8), np.float32)))


STAGES = [dict(share=0.5, size=12), dict(share=0.5, size=28)]


def test_stage_order_replaces_the_recipes_randomcrop(fmnist):
    steps = [dict(type='RandomCrop', crop_size=28, padding=2),
             dict(type='RandomFlip', prob=0.5), dict(type='PackInputs')]
    pipeline, resolved, messages = resolve(steps, 'stage', stages=STAGES)
    # the flip after the crop is folded in
    assert names(pipeline) == ['RandomCropResize', 'PackInputs']
    assert pipeline.transforms[0].flip_prob == 0.5
    assert resolved.plan.full_size == (28, 28)
    assert any(m.startswith('replaced RandomCrop(') and
               'and RandomFlip(prob=0.5' in m for m in messages)
    reference, full, _ = resolve(steps, 'full', stages=STAGES)
    index, ref_index = drive(resolved, 0), drive(full, 0)
    for stage, size in ((0, 12), (1, 28)):
        index.set(stage)
        ref_index.set(stage)
        for seed, img in enumerate(fmnist[:20]):
            np.random.seed(seed)
            out = pipeline(dict(img=img.copy()))
            np.random.seed(seed)
            ref = reference(dict(img=img.copy()))
            assert tuple(out['inputs'].shape) == (1, size, size)
            assert (out['inputs'] == ref['inputs']).all()
            assert out['data_samples'].flip == ref['data_samples'].flip


def test_a_flip_the_stages_schedule_stays_a_step():
    steps = [dict(type='RandomCrop', crop_size=28, padding=2),
             dict(type='RandomFlip', prob=0.5), dict(type='PackInputs')]
    stages = [dict(STAGES[0], params=dict(RandomFlip=dict(prob=0.2))),
              dict(STAGES[1], params=dict(RandomFlip=dict(prob=0.5)))]
    pipeline, resolved, _ = resolve(steps, 'stage', stages=stages)
    assert names(pipeline) == ['RandomCropResize', 'RandomFlip',
                               'PackInputs']
    assert pipeline.transforms[0].flip_prob is None
    flip = pipeline.transforms[1]
    assert any(t is flip and [p['prob'] for p in params] == [0.2, 0.5]
               for t, params in resolved.targets[0][1])


def test_a_translating_crop_after_a_resize_is_fused():
    pipeline, resolved, _ = resolve([
        dict(type='Resize', scale=(28, 28)),
        dict(type='RandomCrop', crop_size=28, padding=4),
        dict(type='PackInputs')
    ], 'stage', stages=STAGES)
    assert names(pipeline) == ['Resize', 'RandomCropResize', 'PackInputs']
    drive(resolved, 0)
    out = pipeline(dict(img=colour()))
    assert tuple(out['inputs'].shape) == (3, 12, 12)


@pytest.mark.parametrize('kwargs, crop', [
    (dict(low_frequency='fourier'), dict(padding=2)),
    (dict(interpolation='bicubic'), dict(padding=2)),
    ({}, dict(crop_size=32, pad_if_needed=True, padding_mode='edge')),
])
def test_other_steps_and_modes_stay_unfused(kwargs, crop):
    crop = {'crop_size': 28, **crop}
    pipeline, _, messages = resolve(
        Compose([dict(type='RandomCrop', **crop), dict(type='PackInputs')]),
        'stage', stages=STAGES, **kwargs)
    assert names(pipeline)[0] == 'RandomCrop'
    assert 'RandomCropResize' not in names(pipeline)
    if 'padding_mode' in crop:
        assert any('only constant padding is fused' in m for m in messages)
