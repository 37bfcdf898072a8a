"""Print the EfficientTrain curriculum a config will run.

Per stage: input size, scheduled parameters (RandAugment magnitude...),
span of compute, real epochs (fractional for ET++: a stage ends where its
share of the budget ends), batch multiple (with ``batch_scale``),
iterations and the LR at the stage's start; then the totals (real epochs,
equivalent full-resolution epochs, theoretical speed-up over the recipe).

Example::

    python tools/analysis/print_curriculum.py \
        configs/fashion_mnist/resnet18-w8_etpp-b10_1xb128_fmnist.py
    python tools/analysis/print_curriculum.py CONFIG --json \
        --cfg-options 'custom_hooks.0.budget=100' | python -m json.tool

Log lines go to stderr: stdout carries the plan alone (pure JSON with
``--json``).
"""
import json
import sys

from etpp_mm.analysis import curriculum_of_config
from etpp_mm.analysis.cli import (config_arg_parser, load_config,
                                  logs_to_stderr)
from etpp_mm.curriculum import format_plan, plan_rows, plan_totals


def parse_args(argv=None):
    return config_arg_parser(
        'Print the EfficientTrain curriculum of a config').parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        with logs_to_stderr():
            result = curriculum_of_config(load_config(args),
                                          args.iters_per_epoch)
    except (RuntimeError, ValueError) as err:
        sys.exit(f'error: {err}')
    if args.json:
        rows = plan_rows(result.plan, result.iters_per_epoch,
                         result.lr_starts, result.batch_scales)
        keys = ('size', 'magnitude', 'compute_start', 'compute_end',
                'epochs', 'batch_scale', 'iters', 'lr_start')
        print(
            json.dumps(
                dict(
                    stages=[{k: row[k] for k in keys} for row in rows],
                    **plan_totals(result.plan)),
                indent=2))
    else:
        print(
            format_plan(result.plan, result.iters_per_epoch,
                        result.lr_starts, result.batch_scales))


if __name__ == '__main__':
    main()
