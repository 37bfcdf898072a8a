"""Benchmark an EfficientTrain++ curriculum against its recipe, side by side.

One invocation trains the plain recipe (the baseline) and the recipe with
``EfficientTrainHook`` (``--preset``, ``--size-divisor``, ``--hook-options``)
at each of ``--budgets``, plus each ``--variant LABEL BUDGET [KEY=VALUE..]``
with hook arguments of its own, and, as a control, the plain recipe
shortened to each of ``--shortened`` epochs (``train_cfg.max_epochs`` and
the ``param_scheduler`` compressed, as a user shortens a recipe: see
``etpp_bench/shorten.py``), once per seed of ``--seeds``, seed-major with
the variants interleaved, so drift of the machine falls on every variant
alike; all get the same environment (``--threads`` sets
``OMP_NUM_THREADS``).

Each run is a separate ``tools/train.py`` process on a config written into
its own folder (``runs/<variant>_s<seed>_<key>/run_config.py``: the recipe
through ``_base_`` plus ``custom_imports``, the hook and the seed;
``command.txt`` reruns it by hand). Measured per run: the wall time of the
process, start to end, and ``--metric`` of its last validation (read from
``vis_data/scalars.json``) or, with ``--knn`` (self-supervised recipes),
the weighted k-NN top-1 of its last checkpoint, computed afterwards.
Finished runs are cached in ``--work-dir``/benchmark_cache.json, keyed by
the variant, the seed and every setting that changes the result (recipe
and ``--cfg-options``, threads, validation, k-NN settings, machine): the
same command resumes and skips them. A run that fails is reported with its
log and not cached.

The Markdown report (``--report``) gives the command, date, machine, a
table of the variants (budget, epochs, top-1 mean, spread and per seed,
wall time, measured and theoretical speed-up, top-1 against the baseline),
the target's verdict and the Pareto front of mean top-1 against mean wall
time; ``--plot`` draws top-1 against wall time, the recipe at full length
and shortened as one line.

Example::

    python tools/benchmark.py \\
        configs/fashion_mnist/resnet18-w8_1xb128_fmnist.py \\
        --budgets 10 7.5 --seeds 0 1 --preset etpp --size-divisor 4 \\
        --variant stage 10 augment_at=stage batch_scale=auto \\
        --shortened 10 \\
        --work-dir work_dirs/benchmark_fmnist --report docs/benchmark_fmnist.md
"""
import argparse
import copy
import dataclasses
import os.path as osp
import shlex
import sys

import etpp_mm  # first: it hides known third-party warnings
from etpp_mm.analysis import curriculum_of_config
from etpp_mm.analysis.cli import load_config, parse_cfg_options
from mmpretrain.registry import HOOKS

# etpp_bench, the benchmark harness, is not installed with etpp_mm: it is
# imported from the checkout this tool belongs to
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from etpp_bench.campaign import (Campaign, Printer,  # noqa: E402
                                 run_environment)
from etpp_bench.compare import (TRAIN_DIR, train_runs,  # noqa: E402
                                write_outputs)
from etpp_bench.knn import (add_knn_arguments, check_knn_recipe,  # noqa: E402
                            knn_settings, score_metric)
from etpp_bench.machine import machine_info  # noqa: E402
from etpp_bench.recipe import Recipe  # noqa: E402
from etpp_bench.runs import (OUTPUT_FILE, plain_number,  # noqa: E402
                             train_in_process)
from etpp_bench.shorten import (check_shortened,  # noqa: E402
                                describe_change, shorten_schedule)
from etpp_bench.variants import (check_benchmark_input,  # noqa: E402
                                 hook_arguments, labelled_variants,
                                 make_variants, run_config_text)

TRAIN_SCRIPT = osp.join(osp.dirname(osp.abspath(__file__)), 'train.py')
CACHE_FILE = 'benchmark_cache.json'
LOG_FILE = 'benchmark.log'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Train a recipe and the recipe with EfficientTrainHook '
        'at several budgets, for several seeds, and report top-1 and wall '
        'time side by side')
    parser.add_argument(
        'config', help='the recipe config (without EfficientTrainHook)')
    parser.add_argument(
        '--budgets',
        nargs='*',
        type=float,
        default=[],
        help='curriculum budgets in equivalent full-size epochs, one '
        'variant each (e.g. 10 for 2/3 of a 15-epoch recipe)')
    parser.add_argument(
        '--hook-options',
        nargs='+',
        default=[],
        metavar='KEY=VALUE',
        help='more EfficientTrainHook arguments for the variants of '
        '--budgets, e.g. augment_at=stage batch_scale=auto (a value holding '
        'a dict is a Python literal, as in --variant)')
    parser.add_argument(
        '--variant',
        nargs='+',
        action='append',
        default=[],
        metavar='LABEL BUDGET [KEY=VALUE',
        help='one more curriculum variant, named "LABEL bBUDGET", with its '
        'own EfficientTrainHook arguments (repeatable), e.g. --variant '
        'stage 10 augment_at=stage batch_scale=auto; a value holding a dict '
        "is a Python literal: \"stages=[{'share': 0.5, 'size': 12}, ...]\" "
        "replaces the preset's table")
    parser.add_argument(
        '--shortened',
        nargs='+',
        type=float,
        default=[],
        metavar='EPOCHS',
        help='also train the plain recipe shortened to EPOCHS epochs (whole, '
        'below its max_epochs), its param_scheduler compressed alike, one '
        'variant "recipe eEPOCHS" each, e.g. --shortened 10 12')
    parser.add_argument(
        '--seeds',
        nargs='*',
        type=int,
        default=[0],
        help='randomness.seed of the runs, the same for every variant '
        '(default: 0)')
    parser.add_argument(
        '--preset',
        default='etpp',
        help='EfficientTrainHook preset of the curriculum (default: etpp)')
    parser.add_argument(
        '--size-divisor',
        type=int,
        default=1,
        help='EfficientTrainHook size_divisor: stage sizes are multiples of '
        'it (default: 1)')
    parser.add_argument(
        '--metric',
        help='key of the val evaluator read from the last validation '
        '(default: accuracy/top1; knn/top1 with --knn)')
    parser.add_argument(
        '--threads',
        type=int,
        help='OMP_NUM_THREADS of every run (default: left as the calling '
        'environment has it)')
    parser.add_argument(
        '--final-val-only',
        action='store_true',
        help='validate once, after the last epoch, instead of as the recipe '
        'does (a curriculum runs more, cheaper epochs, and validating '
        'after each one would count in its wall time)')
    parser.add_argument(
        '--work-dir',
        help='folder of the runs, the cache and the log (default: '
        'work_dirs/benchmark_<config name>)')
    parser.add_argument(
        '--report',
        help='Markdown report to write (default: <work-dir>/benchmark.md)')
    parser.add_argument(
        '--plot',
        help='PNG of top-1 against wall time (default: '
        '<work-dir>/benchmark.png)')
    parser.add_argument(
        '--dry-run',
        action='store_true',
        help='check the input, print the runs and their plans, train '
        'nothing')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        help='override settings of the recipe for every run, as in '
        'tools/train.py (passed on to it)')
    add_knn_arguments(parser)
    return parser.parse_args(argv)


def train_run(config_path, run_dir, env, extra_args):
    """One training process (the tests count the calls): MMEngine's work
    dir is ``run_dir/train``, its console output
    ``run_dir/train_output.log``."""
    return train_in_process(TRAIN_SCRIPT, config_path,
                            osp.join(run_dir, TRAIN_DIR), env, extra_args,
                            osp.join(run_dir, OUTPUT_FILE))


def read_recipe(args):
    """The recipe, refused here if the benchmark cannot run it."""
    if not osp.isfile(args.config):
        raise ValueError(f'config {args.config!r} not found')
    options = parse_cfg_options(args.cfg_options)
    for key in options:
        if key.split('.')[0] == 'randomness' and 'seed' in key:
            raise ValueError(f'--cfg-options {key} would override the seeds: '
                             'give them with --seeds')
    recipe = Recipe(args.config,
                    load_config(argparse.Namespace(
                        config=args.config, cfg_options=options)))
    if recipe.hook is not None:
        raise ValueError(
            f'{args.config} already has an EfficientTrainHook in '
            'custom_hooks, but the baseline must be the plain recipe: give '
            'the config it inherits instead (the benchmark adds the hook '
            'itself, from --preset, --budgets and --size-divisor)')
    recipe.require_epochs('the benchmark needs an epoch-based recipe')
    if args.knn:
        check_knn_recipe(recipe, args)
    else:
        recipe.require_validation('the benchmark scores the last validation '
                                  'of each run (or give --knn)')
    recipe.iters_per_epoch  # builds the train dataset: fails before training
    return recipe


def plan_variants(recipe, variants):
    """The variants with their real epochs and theoretical speed-ups (and
    the shortened recipes with their compressed schedules), and the full
    size (``None`` without curricula); a curriculum the hook would refuse,
    or a schedule that cannot be compressed, fails here, before
    training."""
    planned, full_size = [], None
    for variant in variants:
        if variant.is_baseline:
            planned.append(
                dataclasses.replace(variant, real_epochs=recipe.epochs))
            continue
        if variant.is_shortened:
            schedule = shorten_schedule(recipe.param_scheduler, recipe.epochs,
                                        variant.shortened,
                                        recipe.iters_per_epoch)
            variant = dataclasses.replace(
                variant,
                real_epochs=variant.shortened,
                theoretical_speedup=recipe.epochs / variant.shortened,
                param_scheduler=tuple(schedule))
            # Refuses, before training, a schedule a config cannot hold.
            run_config_text(recipe.path, variant, 0)
            planned.append(variant)
            continue
        cfg = copy.deepcopy(recipe.cfg)
        cfg.custom_hooks = list(recipe.other_hooks) + [variant.hook_cfg()]
        try:
            HOOKS.build(variant.hook_cfg())  # every argument, not only plans
            plan = curriculum_of_config(cfg, recipe.iters_per_epoch).plan
        except ValueError as err:
            raise ValueError(
                f'{variant.name} (--preset {variant.preset} --size-divisor '
                f'{variant.size_divisor}, hook arguments '
                f'{dict(variant.hook_options)}) cannot run on this recipe: '
                f'{err}') from err
        full_size = plan.full_size[0]  # the hook logs the height
        planned.append(
            dataclasses.replace(variant, real_epochs=plan.total_epochs,
                                theoretical_speedup=plan.speedup))
    return planned, full_size


def run_settings(recipe, args, env, machine):
    """What changes a run's result or time, for its cache key."""
    return dict(
        recipe=recipe.fingerprint(),
        omp_num_threads=env.get('OMP_NUM_THREADS'),
        final_val_only=args.final_val_only,
        etpp_mm=etpp_mm.__version__, **knn_settings(args),
        # Wall times from another machine would not compare.
        machine={k: machine[k] for k in ('cpu', 'logical_cpus', 'gpu')})


def benchmark(args, say, command):
    budgets = [plain_number(b) for b in args.budgets]
    args.metric = score_metric(args)
    labelled = labelled_variants(args.variant)
    once = list(dict.fromkeys(b for _, b, _ in labelled))  # one check each
    check_benchmark_input(budgets or once, args.seeds, args.preset,
                          args.size_divisor, args.threads)
    check_shortened(args.shortened)
    recipe = read_recipe(args)
    check_shortened(args.shortened, recipe.epochs)
    variants, full_size = plan_variants(
        recipe,
        make_variants(budgets, args.preset, args.size_divisor,
                      hook_arguments(args.hook_options, '--hook-options'),
                      labelled,
                      args.shortened))
    env = run_environment(args.threads)
    machine = machine_info()
    campaign = Campaign(args.work_dir, CACHE_FILE, LOG_FILE, say)
    if not args.dry_run:
        campaign.open(command)  # only now: bad input leaves nothing behind
    say(f'recipe: {args.config} ({recipe.epochs} epochs, '
        f'{recipe.iters_per_epoch} iterations each)')
    for variant in variants:
        say(f'  {variant.name}: {variant.real_epochs} real epochs, '
            f'theoretical speed-up {variant.theoretical_speedup:.2f}x')
        if variant.is_shortened:
            say('    ' + describe_change(recipe.param_scheduler,
                                         variant.param_scheduler,
                                         recipe.epochs, variant.shortened))
    say(f"seeds {', '.join(map(str, args.seeds))}: "
        f'{len(variants) * len(args.seeds)} runs; OMP_NUM_THREADS '
        f"{env.get('OMP_NUM_THREADS', 'unset')}; work dir {args.work_dir}")
    if args.dry_run:
        return dict(new_runs=0, cached_runs=0, failed=[], report=None)
    # A lambda: the tests replace this module's train_run.
    runs = train_runs(args, campaign, recipe, variants,
                      run_settings(recipe, args, env, machine), env,
                      lambda *a: train_run(*a), TRAIN_SCRIPT)
    out = write_outputs(args, command, recipe, variants, full_size, runs,
                        machine, env, say)
    counts, failed = campaign.counts, runs.failed
    say(f"{counts['new_runs']} runs trained, {counts['cached_runs']} taken "
        f"from {campaign.cache_path}; report {out['report']}, plot "
        f"{out['plot']}")
    if failed:
        raise RuntimeError(
            f'{len(failed)} of {len(runs.order)} runs failed (not cached: the '
            'same command trains them again): ' + '; '.join(
                f'{variant} seed {seed}, log {log}'
                for variant, seed, log in failed))
    return dict(counts, failed=failed, **out)


def main(argv=None):
    if argv is None:
        argv = sys.argv[1:]
    args = parse_args(argv)
    if args.work_dir is None:
        name = osp.splitext(osp.basename(args.config))[0]
        args.work_dir = osp.join('work_dirs', f'benchmark_{name}')
    tool = osp.relpath(osp.abspath(__file__))
    command = shlex.join(['python', tool, *argv])
    try:
        return benchmark(args, Printer(), command)
    except (ValueError, RuntimeError) as err:
        sys.exit(f'error: {err}')
    except KeyboardInterrupt:
        sys.exit('interrupted: the same command resumes the benchmark from '
                 f'{osp.join(args.work_dir, CACHE_FILE)}')


if __name__ == '__main__':
    main()
