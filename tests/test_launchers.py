"""The cluster launchers: MMPretrain's arguments, this project's tools.

``dist_test.sh`` runs for real (2 processes, gloo on CPU); SLURM cannot run
here, so ``srun`` is replaced by a script that records its arguments.
"""
import os
import os.path as osp
import re
import stat
import subprocess
import sys

import pytest

from conftest import ROOT, run_tool

TOOLS = osp.join(ROOT, 'tools')
TINY = osp.join(ROOT, 'tests', 'configs', 'fmnist_tiny.py')
LAUNCHERS = ['dist_train.sh', 'dist_test.sh', 'slurm_train.sh',
             'slurm_test.sh']


@pytest.mark.parametrize('name', LAUNCHERS)
def test_launcher_is_valid_bash(name):
    subprocess.run(['bash', '-n', osp.join(TOOLS, name)], check=True)


def top1(log):
    found = re.findall(r'Epoch\(test\).*accuracy/top1: ([\d.]+)', log)
    assert found, log[-3000:]
    return float(found[-1])


def test_dist_test_with_two_processes_matches_one_process(
        tmp_path, tiny_run):
    ckpt = str(tiny_run / 'epoch_11.pth')  # the last
    # a curriculum config tested where its train set is missing: the hook
    # leaves a test run alone
    no_train_set = ('--cfg-options', 'train_dataloader.dataset.data_root='
                    + str(tmp_path / 'no_train_set'))
    single = run_tool([
        sys.executable,
        osp.join(TOOLS, 'test.py'), TINY, ckpt, '--work-dir',
        str(tmp_path / 'one'), *no_train_set
    ])
    assert 'no training in this run' in single.stdout
    env = {'OMP_NUM_THREADS': '1', 'PORT': str(30500 + os.getpid() % 1000),
           'PYTHON': sys.executable}
    dist = run_tool([
        'bash',
        osp.join(TOOLS, 'dist_test.sh'), TINY, ckpt, '2', '--work-dir',
        str(tmp_path / 'two'), *no_train_set
    ],
                    env=env)
    assert 'Distributed training: True' in dist.stdout
    assert 'GPU number: 2' in dist.stdout
    # 32 validation images split over 2 ranks, then gathered: same metric
    assert top1(dist.stdout) == top1(single.stdout)


@pytest.fixture
def fake_srun(tmp_path):
    """An ``srun`` on PATH that writes its arguments, one per line."""
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    record = tmp_path / 'srun_args.txt'
    script = bin_dir / 'srun'
    script.write_text('#!/usr/bin/env bash\n'
                      f'printf "%s\\n" "$@" > {record}\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    env = {'PATH': f'{bin_dir}{os.pathsep}{os.environ["PATH"]}',
           'GPUS': '16', 'GPUS_PER_NODE': '8', 'SRUN_ARGS': '--qos=low -N2'}
    return env, record


def test_slurm_train_passes_mmpretrain_arguments(fake_srun):
    env, record = fake_srun
    run_tool(['bash', osp.join(TOOLS, 'slurm_train.sh'), 'part', 'job',
              'cfg.py', 'work_dirs/x', '--amp', '--resume'], env=env)
    args = record.read_text().splitlines()
    assert args[:2] == ['-p', 'part']
    for expected in ('--job-name=job', '--gres=gpu:8', '--ntasks=16',
                     '--ntasks-per-node=8', '--qos=low', '-N2'):
        assert expected in args
    tool = args.index(osp.join(TOOLS, 'train.py'))
    assert args[tool + 1:] == [
        'cfg.py', '--work-dir=work_dirs/x', '--launcher=slurm', '--amp',
        '--resume'
    ]


def test_slurm_test_passes_mmpretrain_arguments(fake_srun):
    env, record = fake_srun
    run_tool(['bash', osp.join(TOOLS, 'slurm_test.sh'), 'part', 'job',
              'cfg.py', 'epoch_1.pth', '--out', 'r.pkl'], env=env)
    args = record.read_text().splitlines()
    assert '--ntasks=16' in args
    tool = args.index(osp.join(TOOLS, 'test.py'))
    assert args[tool + 1:] == [
        'cfg.py', 'epoch_1.pth', '--launcher=slurm', '--out', 'r.pkl'
    ]
