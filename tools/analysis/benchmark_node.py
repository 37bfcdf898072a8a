"""Benchmark a curriculum's stages on this node and recommend settings.

For every stage size of a config's EfficientTrainHook plan, on this
machine's CPU or GPU: the training step by input size and batch (random
inputs; the recipe's batch and the batch ``batch_scale='auto'`` would use),
the train loader with its configured workers, and both together; each size
classed as step-bound or loader-bound, and ``batch_scale``, ``replay`` and
``num_workers`` recommended with a reason each; the recipe's optimizer
step alone in each implementation torch has for it (loop, ``foreach``,
``fused``) and the fastest recommended. Prints a Markdown report
(and writes it with ``--report``). Reference: docs/gpu_node.md.

Example::

    OMP_NUM_THREADS=1 python tools/analysis/benchmark_node.py \\
        configs/fashion_mnist/resnet18-w8_etpp-b10_1xb128_fmnist.py \\
        --report work_dirs/node_fmnist.md
"""
import os
import os.path as osp
import platform
import shlex
import sys
import time

import mmengine
import mmpretrain
import torch
from mmengine.config import DictAction

import etpp_mm
from etpp_mm.analysis.cli import (ConfigArgumentParser, add_cfg_options,
                                  load_config, logs_to_stderr, positive_int)

# etpp_bench, the benchmark harness, is not installed with etpp_mm: it is
# imported from the checkout this tool belongs to
sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from etpp_bench.machine import machine_info  # noqa: E402
from etpp_bench.node import (NodeBenchmark, format_stage_table,  # noqa: E402
                             hook_of)
from etpp_bench.node_advice import config_lines, format_advice  # noqa: E402
from etpp_bench.optimizer_time import (  # noqa: E402
    format_optimizer_table, recommend_optimizer)
from etpp_bench.step_time import format_step_table  # noqa: E402


def parse_args(argv=None):
    parser = ConfigArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='an MMPretrain config')
    parser.add_argument(
        '--device',
        choices=('auto', 'cpu', 'cuda'),
        default='auto',
        help='where the model trains (auto: the first GPU if there is one)')
    parser.add_argument(
        '--batches',
        type=positive_int,
        nargs='+',
        default=[],
        help="more batches to time the step at, at the reduced sizes where "
        "their pixels do not exceed the full-size batch's: multiples of "
        "the recipe's batch")
    parser.add_argument(
        '--procs',
        type=positive_int,
        default=None,
        help='training processes on this node (one per GPU), whose loaders '
        'share its CPU cores (default: the GPUs on cuda, 1 on the CPU)')
    parser.add_argument(
        '--hook',
        nargs='+',
        action=DictAction,
        help='EfficientTrainHook options: added to the config\'s entry, or '
        'the entry when the config has none (e.g. preset=etpp budget=200)')
    parser.add_argument('--rounds',
                        type=positive_int,
                        default=3,
                        help='interleaved rounds of every measurement')
    parser.add_argument('--steps',
                        type=positive_int,
                        default=3,
                        help='timed steps per (size, batch) and round')
    parser.add_argument('--loader-batches',
                        type=positive_int,
                        default=20,
                        help='timed loader batches per size and round')
    parser.add_argument('--e2e-batches',
                        type=positive_int,
                        default=10,
                        help='timed training batches (loader and step) per '
                        'size and round')
    parser.add_argument(
        '--warmup',
        type=int,
        default=None,
        help='untimed batches before each loader and end-to-end window '
        '(default: the batches the workers prefetch, plus one)')
    parser.add_argument('--report', help='also write the report here')
    add_cfg_options(parser)
    return parser.parse_args(argv)


def pick_device(choice):
    if choice == 'auto':
        return 'cuda' if torch.cuda.is_available() else 'cpu'
    if choice == 'cuda' and not torch.cuda.is_available():
        raise SystemExit('--device cuda: torch sees no GPU here')
    return choice


def header(args, bench, device, machine):
    """The report's labelled lines: what ran, where, on what."""
    threads = torch.get_num_threads()
    env = os.environ.get('OMP_NUM_THREADS', 'unset')
    load = machine['load']
    machine_text = (f"{machine['cpu']}, {machine['logical_cpus']} logical "
                    f"CPUs ({machine['usable_cpus']} usable), "
                    f"{machine['gpu'] or 'no GPU'}")
    if load is not None:
        machine_text += f'; 1-min load average {load:.2f} at the start'
    if device == 'cuda':
        device_text = (f'cuda:0 ({torch.cuda.get_device_name(0)}), steps '
                       'synchronised before each clock read')
    else:
        device_text = f'cpu, {threads} torch thread(s)'
    device_text += f' (OMP_NUM_THREADS={env})'
    plan = bench.plan
    counts = {}
    for stage in plan.stages:
        counts[stage.size[0]] = counts.get(stage.size[0], 0) + 1
    sizes = ', '.join(f'{size} px x {n}' for size, n in counts.items())
    hook = ', '.join(f'{k}={v!r}' for k, v in bench.hook.items()
                     if k != 'type')
    return [
        ('Command', '`' + shlex.join(['python'] + sys.argv) + '`'),
        ('Date', time.strftime('%Y-%m-%d %H:%M %Z')),
        ('Machine', machine_text),
        ('Device', device_text),
        ('Software', f'Python {platform.python_version()}, torch '
         f'{torch.__version__}, mmengine {mmengine.__version__}, '
         f'mmpretrain {mmpretrain.__version__}, etpp_mm '
         f'{etpp_mm.__version__}'),
        ('Recipe', f'`{args.config}`: batch {bench.base} per process, '
         f'{bench.workers} loader worker(s), {bench.collate}, '
         f'{len(bench.dataset)} train samples, {bench.procs} training '
         f'process(es) on the node; {bench.steps_per_epoch} optimizer '
         'steps per epoch'),
        ('Curriculum', f'EfficientTrainHook({hook}): stages {sizes} '
         f'(budget {plan.budget:g}); replay off while measuring'),
    ]


def optimizer_section(bench, times, optimizer_times):
    option, why = recommend_optimizer(optimizer_times,
                                      bench.smallest_step(times))
    return [
        '## The optimizer step', '',
        'The recipe\'s optimizer alone, on its model\'s parameters with '
        'random gradients, in each implementation torch has for it; it '
        'does not shrink with the stage size.', '',
        format_optimizer_table(optimizer_times), '', f'- {why}.'
    ] + ([f'- Train with `--cfg-options {option}`.'] if option else []) + ['']


def report(args, bench, times, advice, workers, lines, optimizer_times):
    rates = bench.rates
    text = [f'# Node benchmark: `{osp.basename(args.config)}`', '']
    text += [f'- {label}: {value}' for label, value in lines]
    text += [
        '', '## Step time by input size and batch', '',
        f'Real training steps on random inputs; median of {args.rounds} '
        f'interleaved rounds of {args.steps} step(s), after one untimed '
        'step of each pair. Ratios to the full-size step at the recipe\'s '
        'batch.', '',
        format_step_table(times, bench.full, bench.base), '',
        '## Per stage size: step, loader and both together', '',
        'At the batch the recipe, as configured, trains each size at. '
        'Loader: the recipe\'s dataset, curriculum pipelines, collate and '
        f'{bench.workers} worker(s), alone' +
        (f', with {bench.procs - 1} more loaders running (the node\'s '
         'other processes)' if bench.procs > 1 else '') +
        '. End to end: the same loader feeding real training steps. '
        f'Medians of {args.rounds} interleaved rounds of '
        f'{args.loader_batches} (loader) and {args.e2e_batches} (end to '
        'end) batches. Expected: the slower of step and loader with '
        'workers, their sum of times without. Overhead: per-sample step '
        'cost at the recipe\'s batch over its pixel share.', '',
        format_stage_table(rates, times, advice, bench.full,
                           bench.workers), '', '## Recommended settings', '',
        format_advice(advice, bench.base, workers,
                      bench.workers), '', '```python',
        config_lines(advice, bench.base, workers[0]), '```', ''
    ] + optimizer_section(bench, times, optimizer_times)
    return '\n'.join(text)


def main(argv=None):
    args = parse_args(argv)
    device = pick_device(args.device)
    procs = args.procs or (torch.cuda.device_count()
                           if device == 'cuda' else 1)
    machine = machine_info()

    def log(message):
        print(message, file=sys.stderr, flush=True)

    with logs_to_stderr():
        cfg = load_config(args)
        try:  # a missing hook, a bad option, workers to share: one line
            bench = NodeBenchmark(cfg, hook_of(cfg, args.hook), device, procs,
                                  log)
        except ValueError as error:
            raise SystemExit(f'{args.config}: {error}')
        odd = [b for b in args.batches if b % bench.base]
        if odd:
            raise SystemExit(f'--batches {odd}: not multiples of the '
                             f"recipe's batch {bench.base}")
        times = bench.time_steps(args.batches, args.rounds, args.steps)
        optimizer_times = bench.time_optimizer(args.rounds)
        bench.measure_rates(args.loader_batches, args.e2e_batches, args.rounds,
                            args.warmup)
        cores = max(1, machine['usable_cpus'] // procs)
        step_cores = 1 if device == 'cuda' else torch.get_num_threads()
        advice, workers = bench.advise(times, cores, step_cores)
    text = report(args, bench, times, advice, workers,
                  header(args, bench, device, machine), optimizer_times)
    print(text)
    if args.report:
        os.makedirs(osp.dirname(osp.abspath(args.report)), exist_ok=True)
        with open(args.report, 'w') as f:
            f.write(text)


if __name__ == '__main__':
    sys.exit(main())
