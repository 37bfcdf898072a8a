"""Time the matrix Lanczos against the PIL round trip, side by side.

Both paths resize the same images in interleaved rounds of one run, and
the report gives the median microseconds per image of each, their ratio,
and the cost of ``low_frequency_downsample`` (which picks the faster of the
two equal results). Set ``OMP_NUM_THREADS=1`` for one BLAS thread.

Example::

    OMP_NUM_THREADS=1 PYTHONPATH=$PWD python3 \
        tools/analysis/time_lanczos.py --images 2000 --rounds 5
"""
import argparse
import functools
import os.path as osp
import sys

import mmcv
import numpy as np
from mmpretrain.datasets.mnist import read_image_file

from etpp_mm.ops import lanczos_resize, low_frequency_downsample
from etpp_mm.transforms import LowFrequencyDownsample

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# etpp_bench, the benchmark harness, is not installed with etpp_mm: it is
# imported from the checkout this tool belongs to
sys.path.insert(0, ROOT)
from etpp_bench.timing import interleaved_timings  # noqa: E402


def photo_224() -> np.ndarray:
    from PIL import Image
    from skimage import data
    return np.asarray(
        Image.fromarray(data.astronaut()).resize(
            (224, 224), Image.Resampling.BICUBIC))


def resize_all(fn, imgs, size) -> None:
    for img in imgs:
        fn(img, size)


def per_image_us(paths, imgs, size, rounds) -> dict:
    """Median microseconds per image of each path, in interleaved rounds."""
    medians = interleaved_timings(
        {
            key: functools.partial(resize_all, fn, imgs, size)
            for key, fn in paths.items()
        },
        rounds,
        warmup=0).medians
    return {key: sec / len(imgs) * 1e6 for key, sec in medians.items()}


def pil_path(img, size):
    return mmcv.imresize(
        img, size[::-1], interpolation='lanczos', backend='pillow')


def pass_through(img, size, _t=LowFrequencyDownsample(None)):
    _t.size = size
    return _t(dict(img=img))


def run(cases, rounds):
    paths = dict(
        pil=pil_path, matrix=lanczos_resize, op=low_frequency_downsample)
    for name, imgs, size in cases:
        for img in imgs[:4]:  # same result, and caches warm
            assert (pil_path(img, size) == lanczos_resize(img, size)).all()
        times = per_image_us(paths, imgs, size, rounds)
        pil, mat, op = (times[k] for k in paths)
        print(f'{name:<24} pil {pil:7.1f} us  matrix {mat:7.1f} us  '
              f'pil/matrix {pil / mat:4.1f}x  low_frequency_downsample '
              f'{op:7.1f} us')
    _, imgs, _ = cases[0]
    full = imgs[0].shape[:2]
    us = per_image_us({'pass': pass_through}, imgs, full, rounds)['pass']
    print(f'LowFrequencyDownsample at full size (pass-through): {us:.1f} us')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--data-root', default=osp.join(ROOT, 'data',
                                                        'fashion_mnist'))
    parser.add_argument('--images', type=int, default=2000)
    parser.add_argument('--rounds', type=int, default=5)
    args = parser.parse_args(argv)
    fmnist = read_image_file(
        osp.join(args.data_root, 't10k-images-idx3-ubyte')).numpy()
    fmnist = list(fmnist[:args.images])
    photo = photo_224()
    photos = [photo] * max(1, args.images // 100)
    run([('fashion-mnist 28->12', fmnist, (12, 12)),
         ('fashion-mnist 28->20', fmnist, (20, 20)),
         ('photo 224x224x3 ->160', photos, (160, 160)),
         ('photo 224x224x3 ->96', photos, (96, 96))], args.rounds)


if __name__ == '__main__':
    main()
