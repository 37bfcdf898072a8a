"""Is each curriculum stage bound by the data loader or by the model?

For every stage size of a config's curriculum, measures on this machine:

- the data loader alone: images/s of the train loader (its workers, its
  pipeline at the stage's size), with replay off;
- the model step alone: images/s of ``train_step`` (forward, backward,
  optimizer) repeated on one loaded batch;

and prints whether the stage is loader-bound and the replay factor that
balances it (``ceil(load time / step time)``). With ``--compare-replay R``
it then trains the smallest stage without replay and with replay factor R
in each mode of ``--replay-modes`` (``whole``, ``mix``) side by side
(alternating rounds of one stream of batches, in one process) and reports
the throughputs and their ratios to no replay: the measured effect of
replay, not a model of it. ``--photos N`` trains on N JPEG photos (made
once from scikit-image's samples) through the config's own train pipeline
instead of its dataset.

Example::

    python tools/analysis/benchmark_pipeline.py \\
        configs/fashion_mnist/resnet18-w8_etpp-b10_1xb128_fmnist.py \\
        --batches 20 --compare-replay 2 --replay-modes whole mix
"""
import argparse
import itertools
import json
import os
import os.path as osp
import sys

import torch
from mmengine.runner import Runner

import etpp_mm  # noqa: F401  registers the hook and transforms
from etpp_mm.analysis.cli import (add_cfg_options, load_config,
                                  logs_to_stderr)
from etpp_mm.data import (REPLAY_MODES, WHOLE, ReplayLoader,
                          balancing_replay_factor)
from etpp_mm.hooks import EfficientTrainHook, SampleClock

# etpp_bench, the benchmark harness, is not installed with etpp_mm: it is
# imported from the checkout this tool belongs to
sys.path.insert(
    0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from etpp_bench.loader_bench import make_jpeg_folder  # noqa: E402
from etpp_bench.timing import interleaved_timings  # noqa: E402
from etpp_bench.zoo_config import photo_dataset  # noqa: E402


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
        help='also train the smallest stage without replay and with '
        'replay R side by side')
    parser.add_argument(
        '--replay-modes',
        nargs='+',
        default=[WHOLE],
        choices=REPLAY_MODES,
        help='replay modes compared with no replay (default: whole)')
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
    parser.add_argument(
        '--photos',
        type=int,
        default=None,
        metavar='N',
        help="train on N JPEG photos through the config's train pipeline "
        'instead of its dataset')
    parser.add_argument(
        '--photo-repeat',
        type=int,
        default=10,
        help='times each photo is listed in an epoch (long epochs, as on '
        'ImageNet: the loader restarts at every epoch)')
    parser.add_argument(
        '--photo-dir',
        default='work_dirs/benchmark_photos',
        help='where the photos are written (reused)')
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
    if args.photos:
        cfg.train_dataloader.dataset = photo_train_set(cfg, args)
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


def photo_train_set(cfg, args):
    """A ``CustomDataset`` of ``args.photos`` JPEGs (random crops of
    scikit-image's photos, 300 px or more a side, about 400 x 350 on
    average, as ImageNet's) with the config's train pipeline, each photo
    listed ``args.photo_repeat`` times."""
    root = osp.abspath(args.photo_dir)
    paths = make_jpeg_folder(
        osp.join(root, 'images'), count=args.photos, min_side=300)
    ann_file = osp.join(root, f'train_{args.photos}x{args.photo_repeat}.txt')
    with open(ann_file, 'w') as f:
        for path in paths * args.photo_repeat:
            f.write(f'images/{osp.basename(path)} 0\n')
    dataset = photo_dataset(cfg, root, args.photos * args.photo_repeat)
    dataset.update(ann_file=ann_file, with_label=True)
    return dataset


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
    images = 0
    for batch in itertools.islice(loader, batches):
        model.train_step(batch, runner.optim_wrapper)
        images += batch_images(batch)
    return images


def endless(loader):
    """``loader``'s batches, epoch after epoch."""
    while True:
        yield from loader


def compare_replay(runner, hook, loop, stage, factor, args):
    """Images/s of training at ``stage`` without replay and with replay
    ``factor`` in each of ``args.replay_modes``, in interleaved rounds.

    Every variant trains from one stream of batches, so the loader's
    workers run on between rounds and no round pays for starting them or
    for batches prefetched and dropped; a round trains a whole number of
    loaded batches' iterations and the factor and mode change between
    rounds, at a loaded batch."""
    raw = loop.dataloader
    enter_stage(hook, raw, stage)
    sampler = getattr(raw, 'batch_sampler', None)
    if getattr(sampler, 'batches', None):  # whole loaded batches an epoch
        batches = sampler.batches
        sampler.set_batches(batches[:max(factor, len(batches) // factor *
                                         factor)])
    probe = next(iter(raw))
    buffer_samples = args.buffer_samples or 8 * batch_images(probe)
    replay = ReplayLoader(raw, capacity=buffer_samples, seed=0)
    variants = {'1': (1, WHOLE)}
    for mode in args.replay_modes:
        variants[str(factor) if mode == WHOLE else f'{factor} {mode}'] = (
            factor, mode)
    steps = -(-args.batches // factor) * factor
    stream = endless(replay)
    images = {name: [] for name in variants}

    def train_with(name):

        def train():
            replay.factor, replay.mode = variants[name]
            images[name].append(train_batches(runner, stream, steps))

        return train

    # a short warm-up, then rounds (in alternating order), so drift on a
    # noisy machine hits every variant
    for name in variants:
        replay.factor, replay.mode = variants[name]
        train_batches(runner, stream, factor)
    seconds = interleaved_timings({name: train_with(name)
                                   for name in variants},
                                  args.rounds,
                                  warmup=0,
                                  alternate=True).samples
    rates = {
        name: [n / s for n, s in zip(images[name], seconds[name])]
        for name in variants
    }
    speedups = {
        name: sum(rates[name]) / sum(rates['1'])
        for name in variants if name != '1'
    }
    return {
        'stage': stage + 1,
        'size': list(hook.plan.stages[stage].size),
        'buffer_samples': buffer_samples,
        'steps_per_round': steps,
        'images_per_s': {
            name: sum(v) / len(v)
            for name, v in rates.items()
        },
        'rounds': rates,
        # the first mode's, against no replay
        'speedup': next(iter(speedups.values())),
        'speedups': speedups,
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
        load_average=list(os.getloadavg()),
        stages=rows)
    if args.photos:
        result['photos'] = dict(files=args.photos, repeat=args.photo_repeat)
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
        rates = rep['images_per_s']
        print(f'training at stage {rep["stage"]} '
              f'({"x".join(map(str, rep["size"]))}), '
              f'{args.rounds} alternating rounds of {rep["steps_per_round"]} '
              f'batches, buffer {rep["buffer_samples"]} samples: no replay '
              f'{rates["1"]:.0f} img/s, ' + ', '.join(
                  f'replay {name} {rates[name]:.0f} img/s '
                  f'({speedup:.2f}x)'
                  for name, speedup in rep['speedups'].items()))


if __name__ == '__main__':
    main()
