"""The shipped ImageNet configs fit a long run on a real disk."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config

from conftest import ROOT

CONFIGS = sorted(glob.glob(osp.join(ROOT, 'configs', 'imagenet', '*.py')))


def test_there_are_imagenet_configs():
    assert len(CONFIGS) >= 7


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_keeps_a_bounded_number_of_checkpoints(path):
    cfg = Config.fromfile(path)
    keep = cfg.default_hooks.checkpoint.get('max_keep_ckpts')
    assert isinstance(keep, int) and 0 < keep <= 5, keep
    if cfg.get('val_cfg') is not None:  # pre-training recipes have none
        assert cfg.train_cfg.val_interval > 1


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_supervised_configs_validate_at_the_stage_size(path):
    cfg = Config.fromfile(path)
    if cfg.get('val_cfg') is None:  # pre-training recipes
        return
    hook = next(h for h in cfg.custom_hooks
                if h['type'] == 'EfficientTrainHook')
    assert hook['validation'] == 'stage_size'
