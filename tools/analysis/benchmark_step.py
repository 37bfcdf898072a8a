"""Seconds per training step of a recipe's classifier by size and batch.

Times real training steps (forward, backward, optimizer) on random images
at every stage size of the curriculum, at the recipe's batch and at larger
batches that keep the pixels per batch at most the full-size batch's (early
large batch), all interleaved round by round, and prints the ratios to the
full-size step. Set ``OMP_NUM_THREADS`` for steady numbers on a shared CPU.

Example::

    OMP_NUM_THREADS=1 python tools/analysis/benchmark_step.py \
        configs/fashion_mnist/resnet18-w8_1xb128_fmnist.py \
        --sizes 28 20 12 --scales 2 4 5
    OMP_NUM_THREADS=1 python tools/analysis/benchmark_step.py \
        mmpretrain::resnet/resnet50_8xb32_in1k.py --sizes 224 160 96 \
        --batch 8 --scales 2 4
"""
import argparse
import os
import os.path as osp
import sys

import torch

from etpp_mm.analysis.cli import (add_cfg_options, load_config,
                                  logs_to_stderr, positive_int)

# etpp_bench, the benchmark harness, is not installed with etpp_mm: it is
# imported from the checkout this tool belongs to
sys.path.insert(
    0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from etpp_bench.step_time import (TrainStep,  # noqa: E402
                                  format_step_table, scaled_pairs,
                                  time_steps)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='a config of an MMPretrain classifier')
    parser.add_argument(
        '--sizes',
        type=positive_int,
        nargs='+',
        required=True,
        help='input sizes; the first is the full size')
    parser.add_argument(
        '--batch',
        type=positive_int,
        default=None,
        help="the recipe's batch per process (default: the config's)")
    parser.add_argument(
        '--scales',
        type=positive_int,
        nargs='*',
        default=[],
        help='batch multiples to try at reduced sizes')
    parser.add_argument('--rounds', type=positive_int, default=3)
    parser.add_argument('--steps', type=positive_int, default=3)
    add_cfg_options(parser)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    with logs_to_stderr():
        cfg = load_config(args)
        batch = args.batch or cfg.train_dataloader.batch_size
        step = TrainStep(cfg)
        pairs = scaled_pairs(args.sizes, args.sizes[0], batch, args.scales)
        times = time_steps(step, pairs, rounds=args.rounds, steps=args.steps)
    print(f'{args.config}: median of {args.rounds} interleaved rounds of '
          f'{args.steps} steps, {torch.get_num_threads()} torch thread(s) '
          f"(OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')})")
    print(format_step_table(times, args.sizes[0], batch))


if __name__ == '__main__':
    sys.exit(main())
