"""Is each curriculum stage bound by the data loader or by the model?

For every stage size of a config's curriculum, measures on this machine:

- the data loader alone: images/s of the train loader (its workers, its
  pipeline at the stage's size), with replay off;
- the model step alone: images/s of ``train_step`` (forward, backward,
  optimizer) repeated on one loaded batch;

and prints whether the stage is loader-bound and the replay factor that
balances it (``ceil(load time / step time)``). With ``--compare-replay R``
it then trains the smallest stage with replay factor 1 and R side by side
(alternating rounds, in one process) and reports both throughputs and their
ratio: the measured effect of replay, not a model of it.

Example::

    python tools/analysis/benchmark_pipeline.py \\
        configs/fashion_mnist/resnet18-w8_etpp-b10_1xb128_fmnist.py \\
        --batches 20 --compare-replay 2
"""
import argparse
import json
import os.path as osp
import sys

import torch
from mmengine.runner import Runner

import etpp_mm  # noqa: F401  registers the hook and transforms
from etpp_mm.analysis.cli import (add_cfg_options, load_config,
                                  logs_to_stderr)
from etpp_mm.data import ReplayLoader, balancing_replay_factor
from etpp_mm.hooks import EfficientTrainHook, SampleClock

# etpp_bench, the benchmark harness, is not installed with etpp_mm: it is
# imported from the checkout this tool belongs to
sys.path.insert(
    0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from etpp_bench.timing import interleaved_timings  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(
        description='Data loader against model step throughput per '
        'curriculum stage')
    parser.add_argument('config', help='config file with EfficientTrainHook')
    parser.add_argument(
        '--batches',
        type=int,
        default=20,
        help='timed batches per measurement (after one warm-up batch)')
    parser.add_argument(
        '--compare-replay',
        type=int,
        metavar='R',
        help='also train the smallest stage with replay 1 and R side by side')
    parser.add_argument(
        '--rounds',
        type=int,
        default=2,
        help='alternating rounds of the replay comparison')
    parser.add_argument(
        '--buffer-samples',
        type=int,
        default=None,
        help='FIFO size for --compare-replay (default: 8 batches)')
    parser.add_argument('--json', action='store_true', help='print JSON')
    parser.add_argument(
        '--work-dir',
        default=None,
        help='where MMEngine may write its logs (default: '
        'work_dirs/benchmark_pipeline)')
    add_cfg_options(parser)
    return parser.parse_args()


def build(args):
    """A runner with the curriculum applied to its train pipeline."""
    cfg = load_config(args)
    cfg.work_dir = args.work_dir or osp.join('work_dirs',
                                             'benchmark_pipeline')
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    cfg.test_dataloader = cfg.test_cfg = cfg.test_evaluator = None
    cfg.param_scheduler = None  # the LR does not change a step's cost
    cfg.load_from, cfg.resume = None, False
    runner = Runner.from_cfg(cfg)
    hooks = [h for h in runner.hooks if isinstance(h, EfficientTrainHook)]
    if not hooks:
        raise SystemExit(f'{args.config} has no EfficientTrainHook in '
                         'custom_hooks')
    hook = hooks[0]
    # replay is measured separately below
    hook.options = hook.options.replace(replay=None, check_model=False)
    runner.optim_wrapper = runner.build_optim_wrapper(runner.optim_wrapper)
    loop = runner.train_loop  # builds the train loader
    hook.before_run(runner)
    return runner, hook, loop


def first_stage_of_each_size(plan):
    firsts = {}
    for index, stage in enumerate(plan.stages):
        firsts.setdefault(tuple(stage.size), index)
    return sorted(firsts.values(), key=lambda i: plan.stages[i].size[0])


def enter_stage(hook, loader, stage):
    """Point the pipelines at ``stage``; on an ET++ run's clock the
    loader's batch sampler takes an epoch of that stage's batches, which
    the hook hands it at each epoch in training."""
    hook.apply_stage(stage)
    sampler = getattr(loader, 'batch_sampler', None)
    clock = hook.clock
    if isinstance(clock, SampleClock) and hasattr(sampler, 'set_batches'):
        size = clock.batch * clock.scales[stage]
        count = max(1, len(loader.dataset) // size)
        sampler.set_batches([(stage, size)] * count)


def time_loader(loader, batches):
    """Seconds per batch of iterating ``loader`` (one warm-up batch)."""
    iterator = iter(loader)
    last = []

    def fetch():
        nonlocal iterator
        try:
            batch = next(iterator)
        except StopIteration:
            iterator = iter(loader)
            batch = next(iterator)
        last[:] = [batch]

    timings = interleaved_timings({'load': fetch}, 1, number=batches)
    return timings.medians['load'], last[0]


def time_steps(runner, batch, steps):
    """Seconds per ``train_step`` on one batch (one warm-up step)."""
    model = runner.model
    model.train()
    return interleaved_timings(
        {'step': lambda: model.train_step(batch, runner.optim_wrapper)},
        1,
        number=steps).medians['step']


def batch_images(batch):
    inputs = batch['inputs']
    if isinstance(inputs, torch.Tensor):
        return inputs.shape[0]
    return len(inputs) if not isinstance(inputs[0], (list, tuple)) else \
        len(inputs[0])


def train_batches(runner, loader, batches):
    """Load and train ``batches`` batches from ``loader``; their images."""
    model = runner.model
    model.train()
    images, done = 0, 0
    while done < batches:
        for batch in loader:
            model.train_step(batch, runner.optim_wrapper)
            images += batch_images(batch)
            done += 1
            if done == batches:
                break
    return images


def compare_replay(runner, hook, loop, stage, factor, args):
    raw = loop.dataloader
    enter_stage(hook, raw, stage)
    probe = next(iter(raw))
    buffer_samples = args.buffer_samples or 8 * batch_images(probe)
    replay = ReplayLoader(raw, capacity=buffer_samples, seed=0)
    images = {1: [], factor: []}

    def train_with(r):

        def train():
            replay.factor = r
            images[r].append(train_batches(runner, replay, args.batches))

        return train

    # a short warm-up, then rounds, so drift on a noisy machine hits both
    replay.factor = factor
    train_batches(runner, replay, 2)
    seconds = interleaved_timings(
        {r: train_with(r) for r in images}, args.rounds, warmup=0).samples
    rates = {
        r: [n / s for n, s in zip(images[r], seconds[r])]
        for r in images
    }
    return {
        'stage': stage + 1,
        'size': list(hook.plan.stages[stage].size),
        'buffer_samples': buffer_samples,
        'images_per_s': {
            str(r): sum(v) / len(v)
            for r, v in rates.items()
        },
        'rounds': {str(r): v
                   for r, v in rates.items()},
        'speedup': (sum(rates[factor]) / sum(rates[1])),
    }


def measure(args):
    """Loader and model speed at the first stage of each size."""
    runner, hook, loop = build(args)
    plan = hook.plan
    loader = loop.dataloader
    workers = getattr(loader, 'num_workers', 0)
    rows = []
    for stage in first_stage_of_each_size(plan):
        enter_stage(hook, loader, stage)
        load_s, batch = time_loader(loader, args.batches)
        step_s = time_steps(runner, batch, args.batches)
        images = batch_images(batch)
        # with workers, loading overlaps the step; without, they add up
        bound = 'loader' if load_s > step_s else 'model'
        rows.append(
            dict(
                stage=stage + 1,
                size=list(plan.stages[stage].size),
                loader_images_per_s=images / load_s,
                model_images_per_s=images / step_s,
                bound=bound,
                balancing_replay=balancing_replay_factor(load_s, step_s)))
    result = dict(
        config=args.config,
        batch_size=images,
        num_workers=workers,
        threads=torch.get_num_threads(),
        stages=rows)
    if args.compare_replay:
        smallest = first_stage_of_each_size(plan)[0]
        result['replay'] = compare_replay(runner, hook, loop, smallest,
                                          args.compare_replay, args)
    return result


def main():
    args = parse_args()
    with logs_to_stderr():
        result = measure(args)
    images, workers = result['batch_size'], result['num_workers']
    rows = result['stages']
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f'{args.config}: batch {images}, {workers} loader workers, '
          f'{result["threads"]} torch threads')
    print('stage  size     loader img/s  model img/s  bound   balancing '
          'replay')
    for row in rows:
        size = 'x'.join(map(str, row['size']))
        print(f'{row["stage"]:<6} {size:<8} '
              f'{row["loader_images_per_s"]:>12.0f}  '
              f'{row["model_images_per_s"]:>11.0f}  {row["bound"]:<7} '
              f'{row["balancing_replay"]}')
    if 'replay' in result:
        rep = result['replay']
        r = str(args.compare_replay)
        print(f'training at stage {rep["stage"]} '
              f'({"x".join(map(str, rep["size"]))}), '
              f'{args.rounds} alternating rounds of {args.batches} batches, '
              f'buffer {rep["buffer_samples"]} samples: replay 1 '
              f'{rep["images_per_s"]["1"]:.0f} img/s, replay {r} '
              f'{rep["images_per_s"][r]:.0f} img/s -> '
              f'{rep["speedup"]:.2f}x')


if __name__ == '__main__':
    main()
