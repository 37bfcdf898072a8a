"""The Debian photos set (tools/prepare_data.py debian-photos): built from
the installed packages' photographs, byte-identical from run to run,
refused with the install command when a package is missing or differs,
and read by MMPretrain's CustomDataset through the recipe's pipelines."""
import hashlib
import os
import os.path as osp
import shutil
import sys

import pytest
from conftest import ROOT, run_tool

from etpp_bench.debian_photos import (MANIFEST, MARGIN_SHARE, PACKAGES,
                                      PHOTOS, build_photo_set,
                                      install_command, overlaps, sample_crop,
                                      val_blocks)

PREPARE = osp.join(ROOT, 'tools', 'prepare_data.py')
RECIPE = osp.join(ROOT, 'configs', 'debian_photos',
                  'resnet18-w8_1xb64_photos64.py')
TRAIN, VAL = 4, 2  # crops per class: a reduced set, a few seconds to build


def checksums(folder):
    """Each file's MD5 by its path relative to ``folder``."""
    sums = {}
    for parent, _, names in os.walk(folder):
        for name in names:
            path = osp.join(parent, name)
            with open(path, 'rb') as f:
                sums[osp.relpath(path, folder)] = hashlib.md5(
                    f.read()).hexdigest()
    return sums


def prepare(*args, check=True):
    return run_tool([sys.executable, PREPARE, 'debian-photos', *args],
                    check=check)


@pytest.fixture(scope='module')
def small_set(tmp_path_factory):
    """A reduced set made by the command, from the installed packages."""
    out = str(tmp_path_factory.mktemp('photos') / 'debian_photos')
    prepare('--train-per-class', str(TRAIN), '--val-per-class', str(VAL),
            '--out', out)
    return out


def test_the_command_makes_the_same_files_twice(small_set, tmp_path):
    from PIL import Image
    again = build_photo_set(
        '/', str(tmp_path / 'again'), TRAIN, VAL, log=lambda line: None)
    first, second = checksums(small_set), checksums(again)
    assert first == second
    names = sorted(photo.name for photo in PHOTOS)
    for split, count in (('train', TRAIN), ('val', VAL)):
        assert sorted(os.listdir(osp.join(small_set, split))) == names
        for name in names:
            files = sorted(os.listdir(osp.join(small_set, split, name)))
            assert files == [f'{name}_{k:04d}.jpg' for k in range(count)]
    with Image.open(osp.join(small_set, 'val', 'wine', 'wine_0001.jpg')) as im:
        assert im.format == 'JPEG' and im.mode == 'RGB'
        assert 80 <= min(im.size) <= 96
    # the same request again leaves the folder as it is
    proc = prepare('--train-per-class', str(TRAIN), '--val-per-class',
                   str(VAL), '--out', small_set)
    assert 'already built' in proc.stdout
    assert checksums(small_set) == first


@pytest.mark.parametrize('size', [(1440, 960), (960, 1440), (1200, 960),
                                  (1707, 960)])
def test_no_val_crop_comes_near_a_train_crop(size):
    """Val crops lie in the val blocks, train crops keep the margin from
    them, at the photos' aspect ratios (3:2 both ways, 5:4, 16:9)."""
    import numpy as np
    margin = int(round(min(size) * MARGIN_SHARE))
    blocks = val_blocks(*size)
    train_rng, val_rng = (np.random.default_rng([0, 0, s]) for s in (0, 1))
    train = [sample_crop(train_rng, 'train', *size)[0] for _ in range(200)]
    val = [sample_crop(val_rng, 'val', *size)[0] for _ in range(50)]
    for box in val:
        assert sum(b[0] <= box[0] and box[2] <= b[2] and b[1] <= box[1]
                   and box[3] <= b[3] for b in blocks) == 1
        grown = (box[0] - margin, box[1] - margin, box[2] + margin,
                 box[3] + margin)
        assert not any(overlaps(grown, other) for other in train)
    assert {(box[2] - box[0]) * (box[3] - box[1]) > 0 for box in train} == {
        True
    }


def test_a_missing_package_is_refused_with_its_install_command(tmp_path):
    empty = tmp_path / 'empty'
    empty.mkdir()
    proc = prepare('--source', str(empty), '--out', str(tmp_path / 'out'),
                   check=False)
    assert proc.returncode != 0
    assert f'`{install_command(PACKAGES)}`' in proc.stdout
    assert not osp.exists(tmp_path / 'out')
    # only one package there: the command names the other one alone
    partial = tmp_path / 'partial'
    for photo in PHOTOS:
        if photo.package == 'mate-backgrounds':
            os.makedirs(partial / osp.dirname(photo.path), exist_ok=True)
            os.symlink(osp.join('/', photo.path), partial / photo.path)
    proc = prepare('--source', str(partial), '--out', str(tmp_path / 'out'),
                   check=False)
    assert proc.returncode != 0
    assert '`apt-get install -y lomiri-wallpapers-16.04`' in proc.stdout


def test_another_package_version_is_refused(tmp_path):
    source = tmp_path / 'source'
    for photo in PHOTOS:
        os.makedirs(source / osp.dirname(photo.path), exist_ok=True)
        os.symlink(osp.join('/', photo.path), source / photo.path)
    changed = PHOTOS[3]
    os.remove(source / changed.path)
    shutil.copy(osp.join('/', PHOTOS[4].path), source / changed.path)
    proc = prepare('--source', str(source), '--out', str(tmp_path / 'out'),
                   check=False)
    assert proc.returncode != 0
    assert f'expected {changed.md5}' in proc.stdout
    assert f'mate-backgrounds={PACKAGES["mate-backgrounds"]}' in proc.stdout


def test_a_foreign_folder_is_not_overwritten(tmp_path):
    out = tmp_path / 'out'
    out.mkdir()
    (out / 'mine.txt').write_text('keep')
    proc = prepare('--train-per-class', '1', '--val-per-class', '1',
                   '--out', str(out), check=False)
    assert proc.returncode != 0 and 'holds other files' in proc.stdout
    assert os.listdir(out) == ['mine.txt']


def test_the_recipe_reads_the_set(small_set):
    """MMPretrain's CustomDataset with the recipe's own pipelines."""
    from mmengine.config import Config
    from mmpretrain.registry import DATASETS
    from mmpretrain.utils import register_all_modules
    register_all_modules()
    cfg = Config.fromfile(RECIPE)
    assert cfg.model.head.num_classes == len(PHOTOS)
    assert cfg.data_preprocessor.num_classes == len(PHOTOS)
    assert osp.isfile(osp.join(small_set, MANIFEST))
    names = sorted(photo.name for photo in PHOTOS)
    for loader, count in ((cfg.train_dataloader, TRAIN),
                          (cfg.val_dataloader, VAL)):
        dataset_cfg = loader.dataset.copy()
        dataset_cfg.data_root = small_set
        dataset = DATASETS.build(dataset_cfg)
        assert len(dataset) == len(PHOTOS) * count
        assert list(dataset.CLASSES) == names
        sample = dataset[len(dataset) - 1]
        assert tuple(sample['inputs'].shape) == (3, 64, 64)
        label = int(sample['data_samples'].gt_label)
        assert label == names.index('yellowflower')  # the last folder
