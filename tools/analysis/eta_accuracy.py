"""The curriculum ETA of training logs against the time really left.

Example::

    python tools/analysis/eta_accuracy.py \
        work_dirs/benchmark_fmnist20k_stage/runs/stage-b10_s0_*/train_output.log
"""
import argparse
import os.path as osp
import sys

# etpp_bench, the benchmark harness, is not installed with etpp_mm: it is
# imported from the checkout this tool belongs to
sys.path.insert(
    0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from etpp_bench.eta_check import (eta_points,  # noqa: E402
                                  first_with_all_sizes)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('logs', nargs='+', help='MMEngine text logs')
    args = parser.parse_args(argv)
    for path in args.logs:
        with open(path) as f:
            points = eta_points(f)
        print(f'{path}: predicted / real seconds left')
        start = first_with_all_sizes(points)
        for index, p in enumerate(points):
            mark = '  <- every size measured' if index == start else ''
            print(f'  epoch {p.epoch:3d}  {p.size:4d} px  {p.predicted:7.0f} '
                  f'/ {p.real:7.0f}  {p.ratio:.2f}{mark}')
        if start is not None:
            ratios = [p.ratio for p in points[start:]]
            print(f'  once every size is measured: {min(ratios):.2f}-'
                  f'{max(ratios):.2f} (predicted / real)')


if __name__ == '__main__':
    main()
