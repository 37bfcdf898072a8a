"""The hook on MMPretrain's own ImageNet pipelines (RandAugment, MultiView)
and dataset wrappers, driven on a real photo."""
import os.path as osp

import numpy as np
import pytest
from mmcv.transforms import Compose
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpretrain.registry import DATASETS, HOOKS
from PIL import Image
from skimage import data as skdata

from conftest import ROOT
from etpp_mm.attach import CurriculumOptions, attach_curriculum
from etpp_mm.attach.pipeline import iter_transforms, leaf_datasets
from etpp_mm.transforms import CurriculumStageSync, SharedStageIndex

CONFIGS = osp.join(ROOT, 'tests', 'configs')


def real_pipeline(name):
    """An MMPretrain train pipeline, without its file loading step."""
    init_default_scope('mmpretrain')
    cfg = Config.fromfile(osp.join(CONFIGS, name))
    steps = [t for t in cfg.train_pipeline if t['type'] != 'LoadImageFromFile']
    for step in steps:
        for view in step.get('transforms', []) if step['type'] == \
                'MultiView' else []:
            for t in view:
                if t['type'] == 'RandomApply':
                    # mmcv 2.2's hue jitter overflows uint8 under numpy 2
                    # (a negative shift); not what these tests are about
                    t['prob'] = 0.
    return Compose(steps)


def photo():
    image = Image.fromarray(skdata.astronaut()).resize((256, 256))
    return np.asarray(image).copy()


def drive(resolved, stage):
    index = SharedStageIndex(stage)
    syncs = []
    for pipeline, targets in resolved.targets:
        sync = CurriculumStageSync(index, targets)
        pipeline.transforms.insert(0, sync)
        syncs.append(sync)
    return index, syncs


def test_swin_imagenet_pipeline_gets_the_step_and_the_magnitude_schedule():
    pipeline = real_pipeline('imagenet_swin_pipeline.py')
    hook = HOOKS.build(dict(type='EfficientTrainHook', preset='etpp',
                            budget=200, augment_at='full'))
    resolved = attach_curriculum([pipeline], 300, hook.options)
    names = [type(t).__name__ for t in pipeline.transforms]
    # the papers' order: inserted after RandAugment, before RandomErasing
    assert names.index('LowFrequencyDownsample') == \
        names.index('RandomErasing') - 1
    assert names.index('RandAugment') < names.index('LowFrequencyDownsample')
    assert resolved.plan.full_size == (224, 224)
    assert resolved.plan.total_epochs == 455  # 454.6, the last partial

    index, _ = drive(resolved, stage=0)
    randaug = next(t for t in pipeline.transforms
                   if type(t).__name__ == 'RandAugment')
    out = pipeline(dict(img=photo()))
    assert tuple(out['inputs'].shape) == (3, 96, 96)
    assert randaug.magnitude_level == 0
    assert {t.magnitude_level for t in randaug.transforms} == {0}

    index.set(5)  # a 160 stage, magnitude 5
    out = pipeline(dict(img=photo()))
    assert tuple(out['inputs'].shape) == (3, 160, 160)
    assert {t.magnitude_level for t in randaug.transforms} == {5}

    index.set(9)
    out = pipeline(dict(img=photo()))
    assert tuple(out['inputs'].shape) == (3, 224, 224)
    assert randaug.magnitude_level == 9


def test_mocov3_views_each_get_the_low_frequency_step():
    pipeline = real_pipeline('imagenet_mocov3_pipeline.py')
    hook = HOOKS.build(
        dict(type='EfficientTrainHook', preset='etpp', augment_at='full'))
    resolved = attach_curriculum([pipeline], 100, hook.options)
    # no RandAugment in MoCo: the magnitude schedule is off, not an error
    assert resolved.dropped == ['RandAugment']
    multiview = pipeline.transforms[0]
    for view in multiview.pipelines:
        assert type(view.transforms[-1]).__name__ == 'LowFrequencyDownsample'
    index, _ = drive(resolved, stage=0)
    out = pipeline(dict(img=photo()))
    assert [tuple(v.shape) for v in out['inputs']] == [(3, 96, 96)] * 2
    index.set(3)
    out = pipeline(dict(img=photo()))
    assert [tuple(v.shape) for v in out['inputs']] == [(3, 160, 160)] * 2


def test_explicit_step_is_respected_and_driven():
    init_default_scope('mmpretrain')
    pipeline = Compose([
        dict(type='RandomResizedCrop', scale=64, backend='pillow'),
        dict(type='FourierCrop'),
        dict(type='RandomFlip', prob=0.5),
        dict(type='PackInputs'),
    ])
    hook = HOOKS.build(
        dict(type='EfficientTrainHook', stages=[
            dict(share=0.5, size=32), dict(share=0.5, size=64)]))
    resolved = attach_curriculum([pipeline], 10, hook.options)
    names = [type(t).__name__ for t in pipeline.transforms]
    assert names.count('FourierCrop') == 1
    assert 'LowFrequencyDownsample' not in names
    drive(resolved, stage=0)
    assert tuple(pipeline(dict(img=photo()))['inputs'].shape) == (3, 32, 32)


def test_dataset_wrappers_are_followed(fmnist_root):
    init_default_scope('mmpretrain')
    leaf = dict(type='FashionMNIST', data_root=fmnist_root, indices=16,
                pipeline=[dict(type='PackInputs')])
    wrapped = DATASETS.build(
        dict(
            type='ConcatDataset',
            datasets=[
                dict(type='RepeatDataset', times=2, dataset=leaf),
                dict(
                    type='ClassBalancedDataset',
                    oversample_thr=0.1,
                    dataset=leaf),
                leaf,
            ]))
    leaves = leaf_datasets(wrapped)
    assert len(leaves) == 3
    assert all(type(d).__name__ == 'FashionMNIST' for d in leaves)
    hook = HOOKS.build(
        dict(type='EfficientTrainHook', full_size=28, stages=[
            dict(share=0.5, size=12), dict(share=0.5, size=28)]))
    pipelines = [d.pipeline for d in leaves]
    resolved = attach_curriculum(pipelines, 4, hook.options)
    assert len(resolved.targets) == 3
    for pipeline in pipelines:
        assert [type(t).__name__ for t in iter_transforms(pipeline)] == [
            'LowFrequencyDownsample', 'PackInputs'
        ]
    drive(resolved, stage=0)
    sample = wrapped[0]
    assert tuple(sample['inputs'].shape) == (1, 12, 12)


@pytest.mark.parametrize('size', [12, (12, 20)])
def test_user_stage_sizes_may_be_rectangular(size):
    init_default_scope('mmpretrain')
    pipeline = Compose([
        dict(type='RandomCrop', crop_size=28),
        dict(type='PackInputs'),
    ])
    hook = HOOKS.build(
        dict(type='EfficientTrainHook', stages=[
            dict(share=0.5, size=size), dict(share=0.5, size=28)]))
    resolved = attach_curriculum([pipeline], 4, hook.options)
    drive(resolved, stage=0)
    image = np.asarray(Image.fromarray(skdata.camera()).resize((28, 28)))
    out = pipeline(dict(img=image.copy()))
    expected = (size, size) if isinstance(size, int) else size
    assert tuple(out['inputs'].shape[-2:]) == expected


def _read_and_set(index, queue):
    queue.put(index.get())
    index.set(7)


@pytest.mark.parametrize('method', ['fork', 'spawn'])
def test_shared_stage_index_is_one_integer_across_processes(method):
    """The main process's writes reach a worker and back, however the
    worker is started (its fast NumPy view is made in each process)."""
    import torch.multiprocessing as mp

    from etpp_mm.transforms import SharedStageIndex
    context = mp.get_context(method)
    index, queue = SharedStageIndex(3), context.Queue()
    process = context.Process(target=_read_and_set, args=(index, queue))
    process.start()
    seen = queue.get(timeout=60)
    process.join(timeout=60)
    assert (seen, index.get()) == (3, 7)


def _mmpretrain_train_pipeline(config):
    """The train pipeline of an installed MMPretrain config, without its
    file loading step, as live transforms."""
    import mmpretrain
    init_default_scope('mmpretrain')
    cfg = Config.fromfile(osp.join(osp.dirname(mmpretrain.__file__), '.mim',
                                   'configs', config))
    steps = [s for s in cfg.train_dataloader.dataset.pipeline
             if s['type'] != 'LoadImageFromFile']
    return Compose(steps)


@pytest.mark.parametrize('augment_at', ['full', 'stage'])
def test_beit_two_view_pipeline_shrinks_both_views_and_its_mask(augment_at):
    """MMPretrain's BEiT recipe makes a list of two images (224 for the
    model, 112 for its tokenizer) and a 14 x 14 mask of 75 patches: at a
    96 px stage the views are 96 and 48 px (the tokenizer's grid stays the
    model's) and the mask is 6 x 6 with the same share masked."""
    pipeline = _mmpretrain_train_pipeline(
        'beit/beit_beit-base-p16_8xb256-amp-coslr-300e_in1k.py')
    options = CurriculumOptions(preset='etpp', budget=200,
                                size_divisor=16, augment_at=augment_at)
    attached = attach_curriculum([pipeline], 300, options)
    assert [s.size[0] for s in attached.plan.stages][::4] == [96, 160, 224]
    stage = SharedStageIndex(0)
    attached.drive(stage)
    image = np.random.RandomState(0).randint(
        0, 255, (300, 280, 3), np.uint8)
    for index, (size, second, grid, masked) in {
            0: (96, 48, 6, 14), 2: (160, 80, 10, 38),
            9: (224, 112, 14, 75)}.items():
        stage.set(index)
        sample = pipeline(dict(img=image.copy()))
        views = sample['inputs']
        assert [tuple(v.shape[-2:]) for v in views] == [(size, size),
                                                         (second, second)]
        mask = sample['data_samples'].mask
        assert tuple(mask.shape) == (grid, grid)
        assert 0 < int(mask.sum()) <= masked


def test_simmim_mask_needs_stage_sizes_of_its_mask_patches():
    """SimMIM's 192 px recipe masks 32 px patches: its mask follows a stage
    size that is a multiple of 32, which size_divisor='auto' makes them,
    and the plan is refused, naming the setting, when a stage size is
    not."""
    pipeline = _mmpretrain_train_pipeline(
        'simmim/simmim_swin-base-w6_16xb128-amp-coslr-100e_in1k-192px.py')
    with pytest.raises(ValueError, match=r'stage 1 is 84x84: set '
                       r'EfficientTrainHook.size_divisor=32'):
        attach_curriculum([pipeline], 100,
                          CurriculumOptions(size_divisor=4))
    pipeline = _mmpretrain_train_pipeline(
        'simmim/simmim_swin-base-w6_16xb128-amp-coslr-100e_in1k-192px.py')
    messages = []  # 'auto' (the default) makes it a multiple of 32
    attached = attach_curriculum([pipeline], 100, CurriculumOptions(),
                                 messages.append)
    assert "size_divisor='auto': 32" in messages[0]
    stage = SharedStageIndex(0)
    attached.drive(stage)
    image = np.zeros((256, 256, 3), np.uint8)
    sizes = sorted({s.size[0] for s in attached.plan.stages})
    assert sizes == [96, 128, 192]
    for index, planned in enumerate(attached.plan.stages):
        stage.set(index)
        sample = pipeline(dict(img=image.copy()))
        side = planned.size[0]
        assert tuple(sample['inputs'].shape[-2:]) == (side, side)
        # the mask is in model patches (4 px): one entry per patch
        assert tuple(sample['data_samples'].mask.shape) == (side // 4,) * 2
