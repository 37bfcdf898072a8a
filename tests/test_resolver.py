"""CurriculumResolver without a Runner: real MMPretrain transforms in real
Compose pipelines, resolved into plans, driven on a real photo."""
import numpy as np
import pytest
from mmcv.transforms import Compose
from mmengine.config import Config
from mmengine.registry import init_default_scope
from PIL import Image
from skimage import data as skdata

from conftest import ROOT
from etpp_mm.analysis import curriculum_of_config
from etpp_mm.attach import (CurriculumOptions, CurriculumResolver,
                            attach_curriculum, quiet)
from etpp_mm.hooks import EfficientTrainHook
from etpp_mm.attach.resolver import train_size
from etpp_mm.transforms import (CurriculumStageSync, FourierCrop,
                                LowFrequencyDownsample, SharedStageIndex)

RECIPE = f'{ROOT}/configs/fashion_mnist/resnet18-w8_etpp-b10_1xb128_fmnist.py'


def resolver_of(log=quiet, **options):
    """The resolver of the hook options ``options``."""
    return CurriculumResolver(CurriculumOptions(**options), log)


def pipeline(*steps):
    init_default_scope('mmpretrain')
    return Compose(list(steps) + [dict(type='PackInputs')])


def image(size=64):
    return np.asarray(Image.fromarray(skdata.astronaut()).resize(
        (size, size)))


def test_plan_and_targets_drive_a_real_pipeline():
    messages = []
    train = pipeline(
        dict(type='RandomResizedCrop', scale=64, backend='pillow'),
        dict(type='RandAugment', policies='timm_increasing', num_policies=2,
             total_level=10, magnitude_level=9))
    resolver = resolver_of(
        stages=[dict(share=0.5, size=32,
                     params={'RandAugment': {'magnitude_level': 2}}),
                dict(share=0.5, size=(48, 64))],
        budget=6, augment_at='full', log=messages.append)
    resolved = resolver.resolve([train], recipe_epochs=10)
    plan = resolved.plan
    assert plan.full_size == (64, 64)
    assert [(s.size, s.epochs) for s in plan.stages] == [((32, 32), 12),
                                                         ((48, 64), 4)]
    names = [type(t).__name__ for t in train.transforms]
    assert names == ['RandomResizedCrop', 'RandAugment',
                     'LowFrequencyDownsample', 'PackInputs']
    assert messages == [
        'inserted LowFrequencyDownsample(size=None, '
        "interpolation='lanczos') into the train pipeline before PackInputs"
    ]
    [(driven, targets)] = resolved.targets
    assert driven is train
    values = {type(t).__name__: v for t, v in targets}
    # The second stage sets nothing: RandAugment keeps stage 1's magnitude.
    assert values['RandAugment'] == [{'magnitude_level': 2}] * 2
    assert values['LowFrequencyDownsample'] == [{'size': (32, 32)},
                                                {'size': (48, 64)}]

    index = SharedStageIndex(0)
    train.transforms.insert(0, CurriculumStageSync(index, targets))
    assert train(dict(img=image()))['inputs'].shape[-2:] == (32, 32)
    assert train.transforms[2].magnitude_level == 2
    index.set(1)
    assert train(dict(img=image()))['inputs'].shape[-2:] == (48, 64)


def test_existing_step_is_kept_and_logged():
    messages = []
    train = pipeline(dict(type='RandomCrop', crop_size=28),
                     dict(type='FourierCrop'))
    resolver = resolver_of(preset='et', log=messages.append)
    resolved = resolver.resolve([train], recipe_epochs=4)
    assert sum(isinstance(t, FourierCrop) for t in train.transforms) == 1
    assert messages[0].startswith('using the low-frequency step')
    # RandAugment is scheduled by the preset but missing: off, not an error
    assert resolved.dropped == ['RandAugment']


@pytest.mark.parametrize('kind, expected', [('downsample',
                                             LowFrequencyDownsample),
                                            ('fourier', FourierCrop),
                                            ('device', FourierCrop)])
def test_low_frequency_step_of_each_kind(kind, expected):
    step = resolver_of(low_frequency=kind,
                              interpolation='bicubic').low_frequency_step()
    assert type(step) is expected
    out = step(dict(img=image(64)))
    assert out['img'].shape == (64, 64, 3)  # size None: untouched
    step.size = 24
    assert step(dict(img=image(64)))['img'].shape == (24, 24, 3)


def test_device_mode_inserts_nothing_and_refuses_a_pipeline_step():
    train = pipeline(dict(type='RandomCrop', crop_size=28))
    resolver_of(low_frequency='device').resolve([train], 4)
    assert [type(t).__name__ for t in train.transforms] == [
        'RandomCrop', 'PackInputs'
    ]
    with pytest.raises(ValueError, match="low_frequency='device'"):
        resolver_of(low_frequency='device').resolve(
            [pipeline(dict(type='RandomCrop', crop_size=28),
                      dict(type='FourierCrop'))], 4)


@pytest.mark.parametrize('kwargs, words', [
    (dict(preset='nope'), ['nope', 'EfficientTrainHook.preset']),
    (dict(low_frequency='fft'), ['fft', 'EfficientTrainHook.low_frequency']),
    (dict(size_divisor=0), ['EfficientTrainHook.size_divisor', '0']),
    (dict(size_divisor=True), ['EfficientTrainHook.size_divisor', 'True']),
    (dict(budget=-1), ['EfficientTrainHook.budget', '-1']),
    (dict(full_size=(28, 28, 3)), ['EfficientTrainHook.full_size']),
    (dict(stages=[dict(share=1, size=28, speed=2)]), ['speed']),
])
def test_bad_arguments_fail_on_construction(kwargs, words):
    with pytest.raises((TypeError, ValueError)) as info:
        resolver_of(**kwargs)
    for word in words:
        assert word in str(info.value)


def test_pipeline_problems_fail_in_resolve():
    stages = [dict(share=0.5, size=12,
                   params={'RandAugment': {'magnitude_level': 1}}),
              dict(share=0.5, size=28)]
    with pytest.raises(ValueError, match="schedules 'RandAugment'"):
        resolver_of(stages=stages).resolve(
            [pipeline(dict(type='RandomCrop', crop_size=28))], 4)
    with pytest.raises(ValueError, match='set EfficientTrainHook.full_size'):
        resolver_of(preset='et').resolve(
            [pipeline(dict(type='RandomFlip', prob=0.5))], 4)


def test_train_size_rule():
    crop = pipeline(dict(type='RandomResizedCrop', scale=(24, 32)))
    assert train_size(crop) == (24, 32)  # MMPretrain's crop scale: (h, w)
    assert train_size(crop, 28) == (28, 28)  # a given size wins
    with pytest.raises(ValueError, match='set --full-size'):
        train_size(pipeline(), key='--full-size')
    with pytest.raises(ValueError, match='--full-size must be positive'):
        train_size(crop, (0, 4), key='--full-size')


def test_hook_and_config_give_the_resolver_plan():
    """The hook and the analysis tools share one resolution."""
    init_default_scope('mmpretrain')  # MMPretrain's transforms, run alone
    cfg = Config.fromfile(RECIPE)
    hook_cfg = dict(next(h for h in cfg.custom_hooks
                         if h['type'] == 'EfficientTrainHook'))
    hook_cfg.pop('type')
    resolver = CurriculumResolver.from_hook_cfg(hook_cfg)
    expected = resolver.resolve(
        [Compose(cfg.train_dataloader.dataset.pipeline)],
        cfg.train_cfg.max_epochs).plan
    # the etpp table at budget 10 of the recipe's 15 epochs at 28 px: each
    # tenth is 1 equivalent epoch, (28/12)^2 = 5.44 real ones at 12 px
    assert (expected.mode, expected.budget, expected.recipe_epochs,
            expected.full_size) == ('etpp', 10, 15, (28, 28))
    assert [s.size[0] for s in expected.stages] == [12] * 2 + [20] * 4 + \
        [28] * 4
    assert [round(s.epochs, 2) for s in expected.stages] == \
        [5.44] * 2 + [1.96] * 4 + [1.0] * 4
    from_config = curriculum_of_config(cfg, iters_per_epoch=10)
    assert from_config.plan == expected
    assert isinstance(from_config.resolver, CurriculumResolver)
    hook = EfficientTrainHook(**hook_cfg)
    from_hook = attach_curriculum([Compose(cfg.train_dataloader.dataset.pipeline)], cfg.train_cfg.max_epochs, hook.options).plan
    assert from_hook == expected


def _randaugment(level):
    return dict(type='RandAugment', policies='timm_increasing',
                num_policies=2, total_level=10, magnitude_level=level)


def test_preset_magnitudes_end_at_the_recipes_own():
    messages = []
    train = pipeline(dict(type='RandomResizedCrop', scale=64),
                     _randaugment(7))
    resolved = resolver_of(preset='et', log=messages.append).resolve(
        [train], recipe_epochs=10)
    levels = [s.stage.params['RandAugment']['magnitude_level']
              for s in resolved.plan.stages]
    assert levels == [0.78, 2.33, 3.89, 5.44, 7]
    assert "RandAugment magnitude scaled to the recipe's 7" in messages[-1]
    # the live transform is driven with the same values
    randaug = train.transforms[1]
    (_, values), = [t for t in resolved.targets[0][1] if t[0] is randaug]
    assert [v['magnitude_level'] for v in values] == levels
    # the papers' absolute schedule
    paper = resolver_of(preset='et', magnitude='paper').resolve(
        [pipeline(dict(type='RandomResizedCrop', scale=64),
                  _randaugment(7))], recipe_epochs=10)
    assert [s.stage.params['RandAugment']['magnitude_level']
            for s in paper.plan.stages] == [1, 3, 5, 7, 9]
    with pytest.raises(ValueError, match=r"magnitude='papers'.*'paper'"):
        resolver_of(magnitude='papers')


@pytest.mark.parametrize('name, last', [
    ('resnet50_etpp-b200_8xb256-rsb-a2_in1k.py', 7),
    ('deit-small_etpp-deit-b200_4xb256_in1k.py', 9),
    ('swin-tiny_etpp-b200_16xb64_in1k.py', 9),
])
def test_shipped_imagenet_plans_end_at_the_recipes_magnitude(name, last):
    cfg = Config.fromfile(f'{ROOT}/configs/imagenet/{name}')
    recipe = [t for t in cfg.train_dataloader.dataset.pipeline
              if t['type'] == 'RandAugment'][0]['magnitude_level']
    assert recipe == last  # MMPretrain's own recipe value
    plan = curriculum_of_config(cfg, iters_per_epoch=10).plan
    levels = [s.stage.params['RandAugment']['magnitude_level']
              for s in plan.stages]
    assert levels[0] == 0 and levels[-1] == last
    assert levels == sorted(levels)
