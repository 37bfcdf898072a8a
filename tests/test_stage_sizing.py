"""augment_at='stage': the recipe's crop outputs the stage size, later
steps run small, on MMPretrain's own pipelines, real photos and real
Fashion-MNIST training."""
import os.path as osp
import uuid

import numpy as np
import pytest
from mmcv.transforms import Compose
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from PIL import Image
from skimage import data as skdata

from conftest import ROOT, load_probe
from etpp_mm.attach import CurriculumOptions, CurriculumResolver, quiet
from etpp_mm.transforms import CurriculumStageSync, SharedStageIndex
from test_pipeline_control import real_pipeline

PHOTOS = ('astronaut', 'coffee', 'chelsea', 'rocket', 'hubble_deep_field')
TWO_STAGES = [dict(share=0.5, size=96), dict(share=0.5, size=224)]


def resolver_of(log=quiet, **options):
    """The resolver of the hook options ``options``."""
    return CurriculumResolver(CurriculumOptions(**options), log)


def photo(name):
    return np.asarray(getattr(skdata, name)())[..., :3].copy()


def drive(resolved, stage):
    index = SharedStageIndex(stage)
    for pipeline, targets in resolved.targets:
        pipeline.transforms.insert(0, CurriculumStageSync(index, targets))
    return index


def resolve(steps, augment_at, stages=TWO_STAGES, **kwargs):
    init_default_scope('mmpretrain')
    pipeline = steps if isinstance(steps, Compose) else Compose(steps)
    messages = []
    resolver = resolver_of(
        stages=stages, augment_at=augment_at, log=messages.append, **kwargs)
    return pipeline, resolver.resolve([pipeline], 10), messages


def names(pipeline):
    return [type(t).__name__ for t in pipeline.transforms]


@pytest.mark.parametrize('crop', [
    dict(type='RandomResizedCrop', scale=224),
    dict(type='EfficientNetRandomCrop', scale=224),
    # no attempt succeeds: the size-dependent centre-crop fallback
    dict(type='EfficientNetRandomCrop', scale=224, max_attempts=0),
])
def test_the_crop_box_is_the_same_at_both_orders(crop):
    full, _, _ = resolve([dict(crop), dict(type='PackInputs')], 'full')
    stage, resolved, _ = resolve([dict(crop), dict(type='PackInputs')],
                                 'stage')
    assert names(stage) == [crop['type'], 'PackInputs']  # no extra step
    drive(resolved, 0)
    stage.transforms[0].sync()
    ours, recipe = stage.transforms[1], full.transforms[0]
    assert tuple(ours.scale) == (96, 96) and tuple(recipe.scale) == (224, 224)
    assert (ours.interpolation, ours.backend) == ('lanczos', 'pillow')
    for name in PHOTOS:
        img = photo(name)
        for seed in range(5):
            np.random.seed(seed)
            box = ours.rand_crop_params(img)
            np.random.seed(seed)
            assert box == recipe.rand_crop_params(img), (name, seed)


def psnr(a, b):
    err = a.astype(np.float64) - b.astype(np.float64)
    return 10 * np.log10(255.0**2 / max(np.mean(err**2), 1e-10))


@pytest.mark.parametrize('stage,size,median,lowest', [
    (0, 96, 50, 26),  # measured: median 53.4 dB, lowest 28.5 dB
    (5, 160, 40, 29),  # magnitude 5; measured: 43.1 dB, lowest 31.9 dB
])
def test_both_orders_give_nearly_the_same_images_on_real_photos(
        stage, size, median, lowest):
    """Swin's train pipeline (RandAugment, RandomErasing) at both orders
    with the same seeds: same crop box and augmentation draws, so the
    images differ only by where the resampling happens."""
    outputs = {}
    for order in ('full', 'stage'):
        pipeline = real_pipeline('imagenet_swin_pipeline.py')
        _, resolved, _ = resolve(pipeline, order, stages=None,
                                 preset='etpp', budget=6)
        drive(resolved, stage)
        outputs[order] = []
        for name in PHOTOS:
            for seed in range(4):
                np.random.seed(seed)
                out = pipeline(dict(img=photo(name)))['inputs'].numpy()
                outputs[order].append(out)
    values = [psnr(a, b) for a, b in zip(outputs['full'], outputs['stage'])]
    assert all(a.shape == (3, size, size) for a in outputs['stage'])
    assert np.median(values) > median and min(values) > lowest, values


def test_fixed_size_crops_get_the_step_right_after_them():
    pipeline, resolved, messages = resolve([
        dict(type='CenterCrop', crop_size=28),
        dict(type='RandomFlip', prob=0.5),
        dict(type='Cutout', shape=8),
        dict(type='PackInputs')
    ], 'stage', stages=[dict(share=0.5, size=12), dict(share=0.5, size=28)])
    assert names(pipeline) == [
        'CenterCrop', 'LowFrequencyDownsample', 'RandomFlip', 'Cutout',
        'PackInputs'
    ]
    assert resolved.plan.full_size == (28, 28)
    assert any('after CenterCrop' in m for m in messages)
    drive(resolved, 0)
    out = pipeline(dict(img=photo('astronaut')[:40, :40]))
    assert tuple(out['inputs'].shape) == (3, 12, 12)
    cutout = pipeline.transforms[4]
    assert cutout.shape == 3  # 8 px at 28 -> 3 px at 12


def test_a_blur_radius_scales_with_the_stage_as_in_the_papers_order():
    # MoCo v3's view: the blur radius is in pixels. Blurring the stage-size
    # image by the scaled radius approximates blurring the full-size one
    # and shrinking it; the recipe's radius would blur 2.3x more at 12 px.
    from PIL import ImageFilter
    stages = [dict(share=0.5, size=12), dict(share=0.5, size=28)]
    view = [dict(type='RandomResizedCrop', scale=28),
            dict(type='RandomApply', prob=1.,
                 transforms=[dict(type='GaussianBlur', prob=1.,
                                  magnitude_range=(0.1, 2.0),
                                  magnitude_std='inf')])]
    pipeline, resolved, messages = resolve(
        [dict(type='MultiView', num_views=1, transforms=[view]),
         dict(type='PackInputs')], 'stage', stages=stages)
    assert 'scaled with the stage: GaussianBlur' in messages
    drive(resolved, 0)
    img = np.asarray(skdata.camera())[100:300, 100:300].copy()
    pipeline(dict(img=img.copy()))
    view = next(t for t in pipeline.transforms
                if type(t).__name__ == 'MultiView')
    blur = view.pipelines[0].transforms[1].transforms.transforms[0]
    assert blur.magnitude_range == pytest.approx((0.1 * 12 / 28, 2 * 12 / 28))

    steps = [dict(type='RandomResizedCrop', scale=28),
             dict(type='GaussianBlur', radius=1.4, prob=1.),
             dict(type='PackInputs')]
    stage, resolved, _ = resolve(steps, 'stage', stages=stages)
    full, ref_resolved, _ = resolve(steps, 'full', stages=stages)
    crop_only, crop_resolved, _ = resolve(steps[::2], 'stage', stages=stages)
    for r in (resolved, ref_resolved, crop_resolved):
        drive(r, 0)
    scaled, recipe_radius = [], []
    for seed in range(8):
        outs = []
        for p in (stage, full, crop_only):
            np.random.seed(seed)
            outs.append(p(dict(img=img.copy()))['inputs'][0].numpy())
        out, ref, small = outs
        assert stage.transforms[2].radius == pytest.approx(0.6)
        unscaled = np.asarray(Image.fromarray(small).filter(
            ImageFilter.GaussianBlur(radius=1.4)))
        scaled.append(psnr(out, ref))
        recipe_radius.append(psnr(unscaled, ref))
    assert np.median(scaled) > np.median(recipe_radius) + 3


def test_pixel_parameters_after_the_resized_crop_scale_with_the_stage():
    pipeline, resolved, messages = resolve([
        dict(type='RandomResizedCrop', scale=224, backend='pillow',
             interpolation='bicubic'),
        dict(type='RandomCrop', crop_size=224, padding=(8, 4, 8, 4)),
        dict(type='Cutout', magnitude_range=(0, 56)),
        dict(type='RandomErasing', erase_prob=1.0),
        dict(type='PackInputs')
    ], 'stage', stages=[dict(share=0.5, size=(112, 96)),
                        dict(share=0.5, size=224)])
    assert 'LowFrequencyDownsample' not in names(pipeline)
    assert 'scaled with the stage: RandomCrop, Cutout' in messages
    index = drive(resolved, 0)
    out = pipeline(dict(img=photo('coffee')))
    assert tuple(out['inputs'].shape) == (3, 112, 96)
    crop, pad, cutout = pipeline.transforms[1:4]
    # (left, top, right, bottom): widths x 96/224, heights x 112/224
    assert pad.crop_size == (112, 96) and pad.padding == (3, 2, 3, 2)
    assert cutout.magnitude_range == (0, 28)
    index.set(1)
    out = pipeline(dict(img=photo('coffee')))
    assert tuple(out['inputs'].shape) == (3, 224, 224)
    # the recipe's own filter and parameters at full size
    assert (crop.interpolation, crop.backend) == ('bicubic', 'pillow')
    assert pad.padding == (8, 4, 8, 4) and cutout.magnitude_range == (0, 56)


def test_load_and_crop_are_fused_and_full_size_is_the_recipe(tmp_path):
    path = str(tmp_path / 'chelsea.jpg')
    Image.fromarray(skdata.chelsea()).resize((600, 400)).save(
        path, quality=90)
    recipe = [
        dict(type='LoadImageFromFile'),
        dict(type='RandomResizedCrop', scale=224, backend='pillow',
             interpolation='bicubic'),
        dict(type='PackInputs')
    ]
    full, _, _ = resolve(recipe, 'full')
    stage, resolved, messages = resolve(recipe, 'stage')
    assert names(stage) == ['LoadImageAndRandomResizedCrop', 'PackInputs']
    assert any(m.startswith('replaced LoadImageFromFile + RandomResized')
               for m in messages)
    assert resolved.plan.full_size == (224, 224)
    index = drive(resolved, 1)
    for seed in range(3):
        np.random.seed(seed)
        ours = stage(dict(img_path=path))['inputs']
        np.random.seed(seed)
        theirs = full(dict(img_path=path))['inputs']
        assert (ours == theirs).all()  # bit for bit at full size
    index.set(0)
    assert tuple(stage(dict(img_path=path))['inputs'].shape) == (3, 96, 96)


@pytest.mark.parametrize('kwargs,steps,match', [
    (dict(augment_at='sideways'), None, r"augment_at='sideways': choose"),
    (dict(augment_at='stage', low_frequency='device'), None,
     r"set augment_at='full' or another low_frequency"),
    (dict(augment_at='stage'),
     [dict(type='LowFrequencyDownsample'), dict(type='PackInputs')],
     r"already has LowFrequencyDownsample.*set augment_at='full'"),
])
def test_bad_orders_are_refused_naming_the_setting(kwargs, steps, match):
    with pytest.raises(ValueError, match=match):
        resolve(steps or [dict(type='RandomResizedCrop', scale=224),
                          dict(type='PackInputs')], stages=TWO_STAGES,
                **kwargs)


def test_fashion_mnist_trains_at_stage_size(tmp_path, fmnist_root):
    cfg = Config.fromfile(osp.join(ROOT, 'tests', 'configs',
                                   'fmnist_tiny.py'))
    cfg.work_dir = str(tmp_path)
    cfg.experiment_name = uuid.uuid4().hex
    cfg.train_dataloader.dataset.data_root = fmnist_root
    cfg.val_dataloader.dataset.data_root = fmnist_root
    cfg.test_dataloader = cfg.val_dataloader
    cfg.train_cfg.max_epochs = 2
    cfg.custom_hooks[0].update(augment_at='stage', budget=2)
    runner = Runner.from_cfg(cfg)
    runner.train()
    pipeline = runner.train_dataloader.dataset.pipeline
    # the recipe's RandomFlip is folded into the fused crop
    assert names(pipeline)[:2] == ['CurriculumStageSync', 'RandomCropResize']
    assert 'RandomFlip' not in names(pipeline)
    records, _ = load_probe(tmp_path)
    sizes = [records[it]['sizes'] for it in sorted(records)]
    # budget 2 in batches of 16 of 64 images: 14 at 12 px reach 0.6, 5 at
    # 20 px 1.2, 3 at 28 px 2
    plan_sizes = [12] * 14 + [20] * 5 + [28] * 3
    assert sizes == [[[s, s]] for s in plan_sizes]
    assert set(plan_sizes) == {12, 20, 28}
