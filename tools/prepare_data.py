"""Prepare the data folders the shipped configs read.

Fashion-MNIST is read by MMPretrain's own ``FashionMNIST`` dataset, which
wants the four IDX files *extracted* in its ``data_root``. The files come
from Debian's ``dataset-fashion-mnist`` package or from a folder you give.

Debian photos (docs/debian_photos.md) are random crops of 26 photographs
that Debian's ``mate-backgrounds`` and ``lomiri-wallpapers-16.04`` ship as
desktop backgrounds, one class per photograph, in the folder layout of
MMPretrain's ``CustomDataset`` (``etpp_bench/debian_photos.py`` makes them).

Example::

    apt-get install -y dataset-fashion-mnist
    python tools/prepare_data.py fashion-mnist            # -> data/fashion_mnist
    python tools/prepare_data.py fashion-mnist --source ~/downloads/fmnist

    apt-get install -y mate-backgrounds lomiri-wallpapers-16.04
    python tools/prepare_data.py debian-photos        # -> data/debian_photos
    python tools/prepare_data.py debian-photos --train-per-class 20 \
        --val-per-class 5 --out /tmp/photos
"""
import argparse
import gzip
import os
import os.path as osp
import shutil
import sys

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if ROOT not in sys.path:  # etpp_bench lives beside tools/, not in the wheel
    sys.path.insert(0, ROOT)
from etpp_bench.debian_photos import build_photo_set, md5sum  # noqa: E402

DEBIAN_FOLDER = '/usr/share/datasets/fashion-mnist'
INSTALL_HINT = 'apt-get install -y dataset-fashion-mnist'
# per dataset: the default --source and --out
DEFAULTS = {
    'fashion-mnist': (DEBIAN_FOLDER, 'data/fashion_mnist'),
    'debian-photos': ('/', 'data/debian_photos'),
}

# MD5 of the *extracted* IDX files (the archives are recompressed by some
# distributors, so their own checksums differ while the content does not).
FASHION_MNIST_MD5 = {
    'train-images-idx3-ubyte': 'f4a8712d7a061bf5bd6d2ca38dc4d50a',
    'train-labels-idx1-ubyte': '9018921c3c673c538a1fc5bad174d6f9',
    't10k-images-idx3-ubyte': '8181f5470baa50b63fa0f6fddb340f0a',
    't10k-labels-idx1-ubyte': '15d484375f8d13e6eb1aabb0c3f46965',
}


def find_source_file(source, name):
    """Return the path of ``name`` or ``name.gz`` in ``source``, or None."""
    for candidate in (name, name + '.gz'):
        path = osp.join(source, candidate)
        if osp.isfile(path):
            return path
    return None


def prepare_fashion_mnist(source, out_dir):
    """Extract and verify the Fashion-MNIST IDX files into ``out_dir``."""
    missing = [
        name for name in FASHION_MNIST_MD5
        if find_source_file(source, name) is None
    ]
    if missing:
        raise FileNotFoundError(
            f'Fashion-MNIST files {missing} not found in {source!r}. '
            f'Install them with `{INSTALL_HINT}` or pass --source FOLDER '
            'holding the four *-idx?-ubyte(.gz) files.')
    os.makedirs(out_dir, exist_ok=True)
    for name, expected in FASHION_MNIST_MD5.items():
        target = osp.join(out_dir, name)
        if osp.isfile(target) and md5sum(target) == expected:
            print(f'ok       {target}')
            continue
        src = find_source_file(source, name)
        opener = gzip.open if src.endswith('.gz') else open
        with opener(src, 'rb') as fin, open(target + '.part', 'wb') as fout:
            shutil.copyfileobj(fin, fout)
        actual = md5sum(target + '.part')
        if actual != expected:
            os.remove(target + '.part')
            raise ValueError(f'checksum mismatch for {src}: md5 {actual} of '
                             f'the extracted file, expected {expected}')
        os.replace(target + '.part', target)
        print(f'written  {target}')


def prepare_debian_photos(source, out_dir, train_per_class=200,
                          val_per_class=50, seed=0):
    """Build the Debian photos set (``etpp_bench/debian_photos.py``).

    Args:
        source: the root the Debian packages are installed (``/``) or
            unpacked under.
        out_dir: the set's folder, the configs' ``data_root``.
        train_per_class: train crops per photograph.
        val_per_class: val crops per photograph.
        seed: the seed of every crop.

    Returns:
        ``out_dir``.
    """
    return build_photo_set(source, out_dir, train_per_class, val_per_class,
                           seed)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('dataset', choices=list(DEFAULTS))
    parser.add_argument(
        '--source',
        help=f'fashion-mnist: folder with the IDX files (default: '
        f'{DEBIAN_FOLDER}); debian-photos: root the Debian packages are '
        'installed or unpacked under (default: /)')
    parser.add_argument(
        '--out',
        help='data_root of the configs (default: data/fashion_mnist, '
        'data/debian_photos)')
    parser.add_argument(
        '--train-per-class',
        type=int,
        default=200,
        help='debian-photos: train crops per photograph (default: 200)')
    parser.add_argument(
        '--val-per-class',
        type=int,
        default=50,
        help='debian-photos: val crops per photograph (default: 50)')
    parser.add_argument(
        '--seed',
        type=int,
        default=0,
        help='debian-photos: seed of the crops (default: 0)')
    args = parser.parse_args(argv)
    default_source, default_out = DEFAULTS[args.dataset]
    source = args.source or default_source
    out = args.out or default_out
    try:
        if args.dataset == 'fashion-mnist':
            prepare_fashion_mnist(source, out)
        else:
            prepare_debian_photos(source, out, args.train_per_class,
                                  args.val_per_class, args.seed)
    except (FileNotFoundError, FileExistsError, ValueError) as err:
        sys.exit(f'error: {err}')


if __name__ == '__main__':
    main()
