"""Prepare the data folders the shipped configs read.

Fashion-MNIST is read by MMPretrain's own ``FashionMNIST`` dataset, which
wants the four IDX files *extracted* in its ``data_root``. The files come
from Debian's ``dataset-fashion-mnist`` package or from a folder you give.

Example::

    apt-get install -y dataset-fashion-mnist
    python tools/prepare_data.py fashion-mnist            # -> data/fashion_mnist
    python tools/prepare_data.py fashion-mnist --source ~/downloads/fmnist
"""
import argparse
import gzip
import hashlib
import os
import os.path as osp
import shutil
import sys

DEBIAN_FOLDER = '/usr/share/datasets/fashion-mnist'
INSTALL_HINT = 'apt-get install -y dataset-fashion-mnist'

# MD5 of the *extracted* IDX files (the archives are recompressed by some
# distributors, so their own checksums differ while the content does not).
FASHION_MNIST_MD5 = {
    'train-images-idx3-ubyte': 'f4a8712d7a061bf5bd6d2ca38dc4d50a',
    'train-labels-idx1-ubyte': '9018921c3c673c538a1fc5bad174d6f9',
    't10k-images-idx3-ubyte': '8181f5470baa50b63fa0f6fddb340f0a',
    't10k-labels-idx1-ubyte': '15d484375f8d13e6eb1aabb0c3f46965',
}


def md5sum(path):
    digest = hashlib.md5()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('dataset', choices=['fashion-mnist'])
    parser.add_argument(
        '--source',
        default=DEBIAN_FOLDER,
        help=f'folder with the IDX files (default: {DEBIAN_FOLDER})')
    parser.add_argument(
        '--out',
        default='data/fashion_mnist',
        help='data_root of the configs (default: data/fashion_mnist)')
    args = parser.parse_args(argv)
    try:
        prepare_fashion_mnist(args.source, args.out)
    except (FileNotFoundError, ValueError) as err:
        sys.exit(f'error: {err}')


if __name__ == '__main__':
    main()
