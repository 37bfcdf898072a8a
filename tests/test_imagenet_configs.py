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


def supervised(path):
    return Config.fromfile(path).get('val_cfg') is not None


SUPERVISED = [p for p in CONFIGS if supervised(p)]


def test_the_pre_training_configs_are_the_self_supervised_ones():
    # MAE and MoCo v3 pre-train without a val loop; the rest validate
    assert sorted(osp.basename(p).split('_')[0]
                  for p in set(CONFIGS) - set(SUPERVISED)) == [
                      'mae', 'mocov3', 'mocov3']
    assert len(SUPERVISED) == 4


@pytest.mark.parametrize('path', SUPERVISED, ids=osp.basename)
def test_supervised_configs_validate_at_the_stage_size(path):
    cfg = Config.fromfile(path)
    hook = next(h for h in cfg.custom_hooks
                if h['type'] == 'EfficientTrainHook')
    assert hook['validation'] == 'stage_size'
