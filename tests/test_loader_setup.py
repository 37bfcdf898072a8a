"""EfficientTrainHook(collate=...): the train loader's collate function,
with real DataLoader workers on real Fashion-MNIST."""
import functools
import os.path as osp
import uuid

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import default_collate, pseudo_collate
from mmengine.hooks import Hook
from mmengine.runner import Runner
from torch.utils.data import DataLoader

from conftest import ROOT
from etpp_mm.hooks import EfficientTrainHook
from etpp_mm.attach.loader_setup import collate_name, setup_collate


class BatchKinds(Hook):
    """Records what each training iteration's batch inputs are."""

    def __init__(self):
        self.kinds = []

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        inputs = data_batch['inputs']
        self.kinds.append(tuple(inputs.shape) if isinstance(
            inputs, torch.Tensor) else type(inputs).__name__)


def train(tmp_path, fmnist_root, workers, **hook_args):
    cfg = Config.fromfile(osp.join(ROOT, 'tests', 'configs',
                                   'fmnist_tiny.py'))
    cfg.work_dir = str(tmp_path)
    cfg.experiment_name = uuid.uuid4().hex
    for key in ('train_dataloader', 'val_dataloader'):
        cfg[key].dataset.data_root = fmnist_root
    cfg.test_dataloader = cfg.val_dataloader
    cfg.train_dataloader.update(num_workers=workers,
                                persistent_workers=workers > 0)
    cfg.train_cfg.max_epochs = 2
    cfg.custom_hooks[0].update(augment_at='stage', budget=2, **hook_args)
    runner = Runner.from_cfg(cfg)
    kinds = BatchKinds()
    runner.register_hook(kinds)
    runner.train()
    return runner, kinds.kinds


def test_workers_get_the_stacked_collate_and_training_runs(
        tmp_path, fmnist_root):
    runner, kinds = train(tmp_path, fmnist_root, workers=2)
    assert collate_name(runner.train_dataloader.collate_fn) == \
        'default_collate'
    # budget 2 in batches of 16 of 64 images: 14 at 12 px reach 0.6, 5 at
    # 20 px 1.2, 3 at 28 px 2 (stages end mid-epoch where their shares end)
    sizes = [12] * 14 + [20] * 5 + [28] * 3
    # every batch one (16, 1, h, w) tensor, at its stage's size
    assert kinds == [(16, 1, s, s) for s in sizes] and len(kinds) >= 4


def test_recipe_keeps_the_per_sample_list(tmp_path, fmnist_root):
    runner, kinds = train(tmp_path, fmnist_root, workers=2,
                          collate='recipe')
    assert collate_name(runner.train_dataloader.collate_fn) == \
        'pseudo_collate'
    assert kinds and set(kinds) == {'list'}


def test_auto_leaves_a_main_process_loader_alone(tmp_path, fmnist_root):
    runner, kinds = train(tmp_path, fmnist_root, workers=0)
    assert set(kinds) == {'list'}


class Cls(torch.nn.Module):

    def __init__(self):
        super().__init__()
        from mmpretrain.models import ClsDataPreprocessor
        self.data_preprocessor = ClsDataPreprocessor()


@pytest.mark.parametrize('collate, workers, model, switched', [
    (pseudo_collate, 2, Cls(), True),
    (functools.partial(pseudo_collate), 2, Cls(), True),
    (pseudo_collate, 0, Cls(), False),  # no workers to gain from
    (pseudo_collate, 2, torch.nn.Linear(1, 1), False),  # unknown inputs
    (lambda batch: batch, 2, Cls(), False),  # the recipe's own function
    (default_collate, 2, Cls(), False),  # already stacked
])
def test_auto_rule(collate, workers, model, switched):
    from mmcv.transforms import Compose
    from mmengine.registry import init_default_scope
    init_default_scope('mmpretrain')
    loader = DataLoader([1], collate_fn=collate, num_workers=workers)
    fixed = Compose([dict(type='RandomCrop', crop_size=8),
                     dict(type='PackInputs')])
    messages = []
    assert setup_collate(loader, 'auto', model, [fixed],
                         messages.append) is switched
    assert (loader.collate_fn is default_collate) == (
        switched or collate is default_collate)
    assert len(messages) == switched
    # a pipeline of unknown output size cannot stack
    loose = Compose([dict(type='RandomFlip', prob=0.5),
                     dict(type='PackInputs')])
    loader.collate_fn = collate
    assert not setup_collate(loader, 'auto', model, [loose], print)


def test_bad_collate_is_refused_naming_the_setting():
    with pytest.raises(ValueError, match=r"EfficientTrainHook.collate='x'"):
        EfficientTrainHook(collate='x')
