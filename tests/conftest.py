import json
import os
import os.path as osp
import subprocess
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TESTS = osp.join(ROOT, 'tests')
FMNIST_ROOT = osp.join(ROOT, 'data', 'fashion_mnist')

if TESTS not in sys.path:  # the probes the test configs import
    sys.path.insert(0, TESTS)


@pytest.fixture(scope='session')
def fmnist_root():
    """Real Fashion-MNIST in data/fashion_mnist (prepared if missing)."""
    sys.path.insert(0, osp.join(ROOT, 'tools'))
    from prepare_data import DEBIAN_FOLDER, prepare_fashion_mnist
    prepare_fashion_mnist(DEBIAN_FOLDER, FMNIST_ROOT)
    return FMNIST_ROOT


# Real photos shipped with scikit-image, two per class.
PHOTOS = {'astronaut': 0, 'coffee': 0, 'chelsea': 1, 'rocket': 1}


@pytest.fixture(scope='session')
def photo_folder(tmp_path_factory):
    """A tiny ImageNet-layout folder (train/ and val/ with meta/*.txt) of
    real photos, read by MMPretrain's own ImageNet dataset."""
    from PIL import Image
    from skimage import data
    root = tmp_path_factory.mktemp('photos')
    for split in ('train', 'val'):
        lines = []
        for name, label in PHOTOS.items():
            folder = root / split / f'class{label}'
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(getattr(data, name)()).convert('RGB').save(
                folder / f'{name}.jpg', quality=90)
            lines.append(f'class{label}/{name}.jpg {label}')
        (root / 'meta').mkdir(exist_ok=True)
        (root / 'meta' / f'{split}.txt').write_text('\n'.join(lines) + '\n')
    return str(root)


def run_tool(args, cwd=ROOT, check=True, timeout=600, env=None):
    """Run a project tool in a fresh interpreter, tests/ on PYTHONPATH."""
    full_env = dict(os.environ)
    full_env['PYTHONPATH'] = os.pathsep.join(
        [TESTS, ROOT, full_env.get('PYTHONPATH', '')])
    full_env.update(env or {})
    proc = subprocess.run(
        args,
        cwd=cwd,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f'{args} failed ({proc.returncode}):\n'
                             f'{proc.stdout[-6000:]}')
    return proc


def train(config, work_dir, *extra, check=True, env=None):
    return run_tool([
        sys.executable,
        osp.join(ROOT, 'tools', 'train.py'), config, '--work-dir',
        str(work_dir), *extra
    ],
                    check=check,
                    env=env)


@pytest.fixture(scope='session')
def tiny_run(tmp_path_factory, fmnist_root):
    """``tests/configs/fmnist_tiny.py`` trained once through
    ``tools/train.py`` (the default tiny run several tests read): its work
    dir. Tests read it; one that resumes or writes copies it first."""
    work_dir = tmp_path_factory.mktemp('tiny_run')
    train(osp.join(TESTS, 'configs', 'fmnist_tiny.py'), work_dir)
    return work_dir


def load_probe(work_dir, rank=0):
    with open(osp.join(str(work_dir), f'probe_{rank}.json')) as f:
        saved = json.load(f)
    train_records = {int(k): v for k, v in saved['train'].items()}
    return train_records, saved['val_sizes']
