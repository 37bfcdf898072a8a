"""Real interruption + ``--resume``, and real 2-process training (torchrun,
gloo on CPU), through the project's launchers."""
import os
import os.path as osp

import torch

from conftest import ROOT, load_probe, run_tool, train

CONFIGS = osp.join(ROOT, 'tests', 'configs')
TINY = osp.join(CONFIGS, 'fmnist_tiny.py')
# fmnist_tiny.py on 2 processes (32 images and 2 iterations an epoch each):
# a 12 px batch costs 16 / 32 x (12/28)^2 = 0.092 equivalent epochs, 14
# reach 1.2; 5 of 20 px (0.255) reach 2.4; 3 of 28 px (0.5) reach 4.
TWO_PROCESS_SIZES = [12] * 14 + [20] * 5 + [28] * 3
KEYS = ('size', 'stamps', 'lr', 'compute')


def sequence(records):
    return [{k: records[it][k] for k in KEYS} for it in sorted(records)]


def test_resume_on_a_recipe_config_with_weights_only_loading(
        tmp_path, fmnist_root):
    """MMPretrain's LeNet-5 recipe without curriculum: one epoch, then
    ``--resume`` for a second, with torch.load's weights-only default."""
    assert torch.__version__ >= '2.6'  # where the default is weights-only
    config = osp.join(CONFIGS, 'lenet5_fmnist.py')
    train(config, tmp_path, '--cfg-options', 'train_cfg.max_epochs=1')
    assert osp.isfile(osp.join(str(tmp_path), 'epoch_1.pth'))
    out = train(config, tmp_path, '--resume', '--cfg-options',
                'train_cfg.max_epochs=2').stdout
    assert 'resumed epoch: 1, iter: 4' in out
    assert osp.isfile(osp.join(str(tmp_path), 'epoch_2.pth'))


def test_interrupted_and_resumed_run_replays_the_same_sequence(
        tmp_path, tiny_run):
    expected, _ = load_probe(tiny_run)
    assert len(expected) == 43

    parts = tmp_path / 'parts'
    proc = train(
        osp.join(CONFIGS, 'fmnist_tiny_interrupted.py'), parts, check=False)
    assert proc.returncode != 0
    assert 'interrupted before iteration 26' in proc.stdout
    first, _ = load_probe(parts)
    assert max(first) == 25  # stopped inside epoch 7 (checkpoint: epoch 6)
    out = train(TINY, parts, '--resume').stdout
    assert 'resumed epoch: 6, iter: 24' in out
    resumed, _ = load_probe(parts)
    assert sorted(resumed) == list(range(43))
    assert sequence(resumed) == sequence(expected)


def test_resume_refuses_a_changed_curriculum(tmp_path, fmnist_root):
    proc = train(
        osp.join(CONFIGS, 'fmnist_tiny_interrupted.py'), tmp_path,
        check=False)
    assert proc.returncode != 0
    proc = train(
        TINY, tmp_path, '--resume', '--cfg-options', 'custom_hooks.0.budget=3',
        check=False)
    assert proc.returncode != 0
    assert 'trained with another curriculum plan' in proc.stdout


def test_two_processes_use_the_same_stage_at_every_iteration(
        tmp_path, fmnist_root):
    env = {'OMP_NUM_THREADS': '1', 'PORT': str(29500 + os.getpid() % 1000)}
    run_tool([
        'bash',
        osp.join(ROOT, 'tools', 'dist_train.sh'), TINY, '2', '--work-dir',
        str(tmp_path), '--cfg-options', 'train_dataloader.num_workers=1',
        'train_dataloader.persistent_workers=True'
    ],
             env=env)
    rank0, _ = load_probe(tmp_path, rank=0)
    rank1, _ = load_probe(tmp_path, rank=1)
    # 64 images over 2 ranks, batch 16: 2 iterations per epoch
    assert sorted(rank0) == sorted(rank1) == list(range(22))
    assert sequence(rank0) == sequence(rank1)
    for it, record in rank0.items():
        size = TWO_PROCESS_SIZES[it]
        assert record['sizes'] == [[size, size]]
        assert rank1[it]['sizes'] == [[size, size]]
