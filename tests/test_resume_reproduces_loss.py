"""A deterministic run killed with SIGKILL mid-stage and resumed has the
loss of the uninterrupted run at every iteration: the augmentations' random
streams are seeded from (seed, epoch, rank, worker) at each epoch."""
import glob
import json
import os.path as osp
import signal

import pytest

from conftest import ROOT, train

CONFIGS = osp.join(ROOT, 'tests', 'configs')


def losses(work_dir):
    """Loss per iteration from every run's vis_data/scalars.json."""
    found = {}
    for path in sorted(glob.glob(osp.join(str(work_dir), '*', 'vis_data',
                                          'scalars.json'))):
        with open(path) as f:
            for line in f:
                record = json.loads(line)
                if 'loss' in record:
                    found[record['step']] = record['loss']
    return found


@pytest.mark.parametrize('workers', [0, 1])
def test_killed_and_resumed_run_has_the_same_loss(tmp_path, fmnist_root,
                                                  workers):
    options = ('--cfg-options', f'train_dataloader.num_workers={workers}',
               f'train_dataloader.persistent_workers={bool(workers)}')
    whole = tmp_path / 'whole'
    train(osp.join(CONFIGS, 'fmnist_tiny_seeded.py'), whole, *options)
    expected = losses(whole)
    assert sorted(expected) == list(range(1, 44))

    parts = tmp_path / 'parts'
    proc = train(osp.join(CONFIGS, 'fmnist_tiny_killed.py'), parts,
                 *options, check=False)
    assert proc.returncode == -signal.SIGKILL
    assert max(losses(parts)) == 26  # iterations 1..26 logged, then killed
    out = train(osp.join(CONFIGS, 'fmnist_tiny_seeded.py'), parts,
                '--resume', *options).stdout
    assert 'resumed epoch: 6, iter: 24' in out
    resumed = losses(parts)
    assert sorted(resumed) == list(range(1, 44))
    assert resumed == expected
