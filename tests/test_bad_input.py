"""Every wrong setting of issue 15's table is refused before training (the
data error during training: when it happens), naming the key and value."""
import os.path as osp
import subprocess
import sys

import pytest
from mmcv.transforms import Compose
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from conftest import ROOT
from etpp_mm.curriculum import build_plan, stages_from_dicts
from etpp_mm.attach import CurriculumResolver
from etpp_mm.hooks import EfficientTrainHook
from etpp_mm.hooks.runner_checks import check_resumed_plan
from etpp_mm.attach.data_guard import SampleError
from test_efficient_train_hook import hook_cfg, tiny_cfg

THREE = [dict(share=0.3, size=12), dict(share=0.3, size=20),
         dict(share=0.4, size=28)]


def refused_before_training(cfg, error, match, when='train'):
    if when == 'build':
        with pytest.raises(error, match=match):
            Runner.from_cfg(cfg)
        return
    runner = Runner.from_cfg(cfg)
    with pytest.raises(error, match=match):
        runner.train()
    assert runner.iter == 0
    assert not osp.exists(osp.join(cfg.work_dir, 'probe_0.json'))


@pytest.mark.parametrize('update,match', [
    (dict(preset='etpp', size_divisor=32),
     r"EfficientTrainHook\.size_divisor=32 rounds every reduced stage"),
    (dict(full_size=20), r'EfficientTrainHook\.full_size=\(20, 20\) is '
     'smaller than the 28x28 images'),
    (dict(full_size=64), r'EfficientTrainHook\.full_size=\(64, 64\) is '
     'larger than the 28x28 images'),
    (dict(budget=1000), r'EfficientTrainHook\.budget=1000 is above the '
     r"recipe's own compute .*allow_budget_above_recipe=True"),
    (dict(replay=dict(factors={13: 2}, buffer_samples=64)),
     r'EfficientTrainHook\.replay\.factors.*size 13'),
])
def test_wrong_hook_setting(tmp_path, fmnist_root, update, match):
    cfg = tiny_cfg(tmp_path, fmnist_root)
    hook = hook_cfg(cfg)
    if 'preset' in update:
        hook.pop('stages')
    hook.update(update)
    refused_before_training(cfg, ValueError, match)


def test_budget_above_recipe_when_intended():
    init_default_scope('mmpretrain')
    pipeline = Compose([dict(type='RandomCrop', crop_size=28),
                        dict(type='PackInputs')])
    resolver = CurriculumResolver.from_hook_cfg(
        dict(stages=THREE, budget=1000, allow_budget_above_recipe=True))
    plan = resolver.resolve([pipeline], recipe_epochs=4).plan
    assert plan.budget == 1000 and plan.total_epochs > 1000


def test_two_curriculum_hooks(tmp_path, fmnist_root):
    cfg = tiny_cfg(tmp_path, fmnist_root)
    cfg.custom_hooks.append(dict(hook_cfg(cfg)))
    refused_before_training(
        cfg, ValueError, r'custom_hooks holds 2 EfficientTrainHooks.*Keep '
        'one')


@pytest.mark.parametrize('stage', [2, 0])  # full size, then 12 px
def test_bad_transform_value_in_a_stage(tmp_path, fmnist_root, stage):
    cfg = tiny_cfg(tmp_path, fmnist_root)
    stages = [dict(s) for s in THREE]
    stages[stage]['params'] = dict(RandomFlip=dict(prob='high'))
    hook_cfg(cfg)['stages'] = stages
    refused_before_training(
        cfg, ValueError,
        rf"EfficientTrainHook\.stages\[{stage}\]\.params: "
        r"RandomFlip\.prob='high' fails in the train pipeline at stage "
        rf'{stage + 1}')


def test_check_model_must_be_a_bool(tmp_path, fmnist_root):
    cfg = tiny_cfg(tmp_path, fmnist_root)
    hook_cfg(cfg)['check_model'] = 'no'
    refused_before_training(
        cfg, TypeError, r"EfficientTrainHook\.check_model must be True or "
        r"False, got 'no'", when='build')


def test_iteration_based_recipe_with_epoch_schedulers(tmp_path,
                                                      fmnist_root):
    """The recipe's by-epoch schedulers stay: MMEngine would fail building
    them ('end should be larger than begin') before any hook method."""
    cfg = tiny_cfg(tmp_path, fmnist_root)
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=10)
    assert cfg.param_scheduler
    refused_before_training(
        cfg, TypeError, r"epoch-based train loop .*got "
        r"train_cfg\.type='IterBasedTrainLoop'", when='build')


def image_folder(root):
    """Six real grey images (crops of a photo) in two class folders."""
    from PIL import Image
    from skimage import data
    camera = data.camera()
    for i in range(6):
        folder = root / f'class{i % 2}'
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f'img{i}.png'
        Image.fromarray(camera[i * 40:i * 40 + 32, :32]).save(path)
    return root


def folder_cfg(tmp_path, fmnist_root, corrupt_index, extra=()):
    cfg = tiny_cfg(tmp_path, fmnist_root)
    root = image_folder(tmp_path / 'images')
    cfg.train_dataloader.batch_size = 2
    cfg.train_dataloader.dataset = dict(
        type='CustomDataset', data_root=str(root), with_label=True,
        pipeline=[dict(type='LoadImageFromFile', color_type='grayscale'),
                  dict(type='RandomResizedCrop', scale=28), *extra,
                  dict(type='PackInputs')])
    hook_cfg(cfg)['stages'] = THREE
    runner = Runner.from_cfg(cfg)
    if corrupt_index is None:
        return runner, None
    info = runner.train_dataloader.dataset.get_data_info(corrupt_index)
    with open(info['img_path'], 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n not an image')
    return runner, info['img_path']


def test_corrupt_image_found_by_the_dry_run(tmp_path, fmnist_root):
    runner, path = folder_cfg(tmp_path, fmnist_root, 0)
    with pytest.raises(ValueError) as error:
        runner.train()
    message = str(error.value)
    assert 'the train data fails before training, on dataset index 0' \
        in message and path in message and 'not a model one' in message
    assert runner.iter == 0


def test_corrupt_image_met_during_training(tmp_path, fmnist_root):
    runner, path = folder_cfg(tmp_path, fmnist_root, 4)
    with pytest.raises(SampleError) as error:
        runner.train()
    assert f'dataset index 4 ({path})' in str(error.value)
    assert 'Fix or remove that file' in str(error.value)
    assert error.value.blames_sample is True  # the recipe fails on it too


def test_a_failing_curriculum_step_does_not_blame_the_file(tmp_path,
                                                           fmnist_root):
    """A recipe step that takes only the recipe's size, placed after the
    stage-sized crop: the recipe alone makes every sample, so the dry run
    names the curriculum's steps and the option to change, not the file."""
    import probes  # noqa: F401  registers RequireSize
    runner, path = folder_cfg(tmp_path, fmnist_root, None,
                              extra=[dict(type='RequireSize', size=28)])
    with pytest.raises(ValueError) as error:
        runner.train()
    message = str(error.value)
    assert "while the recipe's own pipeline makes that sample" in message
    assert "EfficientTrainHook.augment_at='full'" in message
    assert 'RequireSize takes 28 px images' in message
    assert 'Fix or remove' not in message and runner.iter == 0


@pytest.mark.parametrize('tool,value', [('estimate_speedup.py', '0'),
                                        ('print_curriculum.py', '-5')])
def test_tools_refuse_non_positive_iters_per_epoch(tool, value):
    proc = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', 'analysis', tool),
         osp.join(ROOT, 'tests', 'configs', 'fmnist_tiny.py'),
         '--iters-per-epoch', value],
        capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2
    assert f"--iters-per-epoch: must be a positive int, got '{value}'" \
        in proc.stderr
    assert 'Traceback' not in proc.stderr


def test_plan_tool_on_a_missing_config():
    proc = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', 'analysis',
                                  'print_curriculum.py'), 'no/such.py'],
        capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "print_curriculum.py: error: config file 'no/such.py' does not exist"
    ]


def test_resume_with_a_changed_plan_names_the_field():
    def summary(middle):
        stages = stages_from_dicts([dict(share=0.3, size=12),
                                    dict(share=0.3, size=middle),
                                    dict(share=0.4, size=28)])
        return build_plan(stages, 'etpp', 4, (28, 28), 4).summary()

    check_resumed_plan(summary(20), summary(20))
    with pytest.raises(ValueError) as error:
        check_resumed_plan(summary(20), summary(24))
    message = str(error.value)
    assert 'stages[1].size: checkpoint [20, 20], now [24, 24]' in message
    assert "'stages'" not in message  # not the plans whole
    assert len(message) < 600


@pytest.mark.parametrize('name, value', [
    ('augment_at', 1), ('magnitude', None), ('validation', True),
    ('batch_scale', 2.5), ('lr_scaling', None), ('collate', 0)])
def test_the_newer_arguments_are_type_checked(name, value):
    with pytest.raises(TypeError) as error:
        EfficientTrainHook(**{name: value})
    assert f'EfficientTrainHook.{name}' in str(error.value)
    assert repr(value) in str(error.value)
