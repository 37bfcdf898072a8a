"""Benchmark an EfficientTrain++ curriculum against its recipe, side by side.

One invocation trains the plain recipe (the baseline) and the recipe with
``EfficientTrainHook`` (``--preset``, ``--size-divisor``) at each of
``--budgets``, once per seed of ``--seeds`` (``randomness.seed``, the same
seeds for every variant). The runs go seed-major with the variants
interleaved (baseline s0, b10 s0, b7.5 s0, baseline s1, ...), so drift of
the machine falls on every variant alike, and all get the same environment
(``--threads`` sets ``OMP_NUM_THREADS``; by default it is left as it is).

Each run is a separate ``tools/train.py`` process on a config written into
its own folder (``runs/<variant>_s<seed>_<key>/run_config.py``: the recipe
through ``_base_`` plus ``custom_imports``, the hook and the seed;
``command.txt`` reruns it by hand). Measured per run: the wall time of the
process, start to end, and ``--metric`` of its last validation (read from
``vis_data/scalars.json``). Finished runs are cached in
``--work-dir``/benchmark_cache.json, keyed by the variant, the seed and
every setting that changes the result (recipe and ``--cfg-options``,
threads, validation, machine): the same command resumes and skips them. A
run that fails is reported with its log and not cached.

The Markdown report (``--report``) gives the command, date, machine, a
table of the variants (budget, real epochs, top-1 mean, spread and per
seed, wall time, measured and theoretical speed-up, top-1 against the
baseline) and whether the target is met; ``--plot`` draws top-1 against
wall time. The logic is in :mod:`etpp_mm.bench.benchmark`.

Example::

    python tools/benchmark.py \\
        configs/fashion_mnist/resnet18-w8_1xb128_fmnist.py \\
        --budgets 10 7.5 --seeds 0 1 --preset etpp --size-divisor 4 \\
        --work-dir work_dirs/benchmark_fmnist \\
        --report docs/benchmark_fmnist.md \\
        --plot docs/images/benchmark_fmnist.png
"""
import argparse
import copy
import dataclasses
import os
import os.path as osp
import platform
import shlex
import shutil
import sys
import time

import mmengine
import mmpretrain
import torch
from mmengine.config import DictAction

import etpp_mm
from etpp_mm.analysis import curriculum_of_config, iters_per_epoch_of
from etpp_mm.bench.benchmark import (RunResult, check_benchmark_input,
                                    check_target, eta_seconds,
                                    format_progress, format_report,
                                    format_results_table,
                                    format_timing_table,
                                    iteration_times_by_size, machine_info,
                                    make_variants, plot_runs, run_config_text,
                                    run_key, run_order, summarize)
from etpp_mm.analysis.cli import load_config
from etpp_mm.analysis.plan import dataset_cfg_with_pipeline
from etpp_mm.analysis.plan import find_hook_cfgs
from etpp_mm.bench.runs import (Printer, config_fingerprint,
                               last_val_record, plain_number,
                               read_scalars, train_in_process)
from etpp_mm.curriculum import ResultCache

TRAIN_SCRIPT = osp.join(osp.dirname(osp.abspath(__file__)), 'train.py')
CACHE_FILE = 'benchmark_cache.json'
LOG_FILE = 'benchmark.log'
RUN_CONFIG = 'run_config.py'
# MMEngine's work dir inside a run folder: MMEngine dumps the merged config
# there under the config's own name, which would overwrite run_config.py.
TRAIN_DIR = 'train'
OUTPUT_FILE = 'train_output.log'


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
        required=True,
        help='curriculum budgets in equivalent full-size epochs, one '
        'variant each (e.g. 10 for 2/3 of a 15-epoch recipe)')
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
        default='accuracy/top1',
        help='key of the val evaluator read from the last validation '
        '(default: accuracy/top1)')
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
    return parser.parse_args(argv)


def parse_cfg_options(raw):
    """``--cfg-options`` as MMEngine's ``DictAction`` reads them; the raw
    strings are passed on to ``tools/train.py`` unchanged."""
    namespace = argparse.Namespace(options=None)
    if raw:
        DictAction([], 'options')(None, namespace, raw)
    return namespace.options or {}


def train_run(config_path, run_dir, env, extra_args):
    """One training process (the tests count the calls): MMEngine's work
    dir is ``run_dir/train``, its console output
    ``run_dir/train_output.log``."""
    return train_in_process(TRAIN_SCRIPT, config_path,
                            osp.join(run_dir, TRAIN_DIR), env, extra_args,
                            osp.join(run_dir, OUTPUT_FILE))


def result_of(entry, metric, work_dir):
    """A cache entry as a :class:`RunResult` scored by ``metric``."""
    values = entry['val']
    # The cache stores folders relative to the work dir, which may move.
    run_dir = osp.join(work_dir, entry['run_dir'])
    if metric not in values:
        raise ValueError(
            f'the last validation of {run_dir} logged no {metric!r} (it '
            f'logged {sorted(values)}): choose --metric among them; the runs '
            'stay cached')
    return RunResult(entry['variant'], entry['seed'], entry['seconds'],
                     float(values[metric]), run_dir)


class Recipe:
    """What the benchmark needs from the recipe (no training)."""

    def __init__(self, args, options):
        if not osp.isfile(args.config):
            raise ValueError(f'config {args.config!r} not found')
        for key in options:
            if key.split('.')[0] == 'randomness' and 'seed' in key:
                raise ValueError(
                    f'--cfg-options {key} would override the seeds: give '
                    'them with --seeds')
        cfg = load_config(
            argparse.Namespace(config=args.config, cfg_options=options))
        hook, self.hooks = find_hook_cfgs(cfg)
        if hook is not None:
            raise ValueError(
                f'{args.config} already has an EfficientTrainHook in '
                'custom_hooks, but the baseline must be the plain recipe: '
                'give the config it inherits instead (the benchmark adds '
                'the hook itself, from --preset, --budgets and '
                '--size-divisor)')
        train_cfg = cfg.get('train_cfg', None) or {}
        self.epochs = train_cfg.get('max_epochs')
        if not isinstance(self.epochs, int):
            raise ValueError(
                f'{args.config} has no train_cfg.max_epochs: the benchmark '
                'needs an epoch-based recipe')
        if not cfg.get('val_dataloader', None) or not cfg.get(
                'val_evaluator', None):
            raise ValueError(
                f'{args.config} has no val_dataloader/val_evaluator: the '
                'benchmark scores the last validation of each run')
        self.cfg = cfg
        self.path = osp.abspath(args.config)
        self.full_size = None  # known once a curriculum variant is planned
        self.val_interval = train_cfg.get('val_interval', 1)
        try:
            self.val_split = dataset_cfg_with_pipeline(
                cfg.val_dataloader.dataset).get('split')
        except ValueError:
            self.val_split = None
        imports = list((cfg.get('custom_imports', None)
                        or {}).get('imports', []))
        self.imports = imports + [m for m in ['etpp_mm'] if m not in imports]
        visualizer = cfg.get('visualizer', None) or {}
        self.visualizer_type = visualizer.get('type', 'UniversalVisualizer')
        if not isinstance(self.visualizer_type, str):
            self.visualizer_type = 'UniversalVisualizer'
        # Plain data for the run configs (other hooks, e.g. EMA, are kept).
        self.plain_hooks = [
            h for h in cfg.to_dict().get('custom_hooks', None) or []
        ]
        try:
            self.iters_per_epoch = iters_per_epoch_of(cfg)
        except (OSError, RuntimeError, ValueError, KeyError) as err:
            raise RuntimeError(
                f'cannot build the train dataset of {args.config} '
                f'({type(err).__name__}: {err}): check '
                'train_dataloader.dataset (or --cfg-options)') from err

    def plan_variant(self, variant):
        """The variant with its real epochs and theoretical speed-up; a
        curriculum the hook would refuse fails here, before training."""
        if variant.is_baseline:
            return dataclasses.replace(variant, real_epochs=self.epochs)
        cfg = copy.deepcopy(self.cfg)
        cfg.custom_hooks = list(self.hooks) + [variant.hook_cfg()]
        try:
            plan = curriculum_of_config(cfg, self.iters_per_epoch).plan
        except ValueError as err:
            raise ValueError(
                f'--budgets {variant.budget} with --preset {variant.preset} '
                f'--size-divisor {variant.size_divisor} cannot run on this '
                f'recipe: {err}') from err
        # The hook logs curriculum/size as the height
        self.full_size = plan.full_size[0]
        return dataclasses.replace(
            variant,
            real_epochs=plan.total_epochs,
            theoretical_speedup=plan.speedup)


def timing_table(variants, results, full_size):
    """Seconds per iteration by variant and input size, from the runs'
    MMEngine logs; ``''`` when a run's log is gone (e.g. a cached run whose
    folder was deleted)."""
    if full_size is None:
        return ''
    timings = []
    for variant in variants:
        records = []
        for result in results:
            if result.variant != variant.name:
                continue
            try:
                records += read_scalars(osp.join(result.run_dir, TRAIN_DIR))
            except RuntimeError:
                return ''
        if records:
            timings.append(
                (variant.name, iteration_times_by_size(records, full_size)))
    return format_timing_table(timings, full_size) if timings else ''


def run_environment(threads):
    """The same environment for every run."""
    env = dict(os.environ)
    if threads is not None:
        env['OMP_NUM_THREADS'] = str(threads)
    return env


def header_lines(args, command, recipe, variants, machine, threads, env,
                 entries):
    """The report's labelled lines of settings."""
    loads = [e['load'] for e in entries if e.get('load') is not None]
    finished = sorted(e['finished'] for e in entries if 'finished' in e)
    gpu = machine['gpu'] or 'no GPU (every run trains on the CPU)'
    machine_text = (
        f"{machine['cpu']}, {machine['logical_cpus']} logical CPUs "
        f"({machine['usable_cpus']} usable), {threads} torch threads per "
        f"run (OMP_NUM_THREADS {env.get('OMP_NUM_THREADS', 'unset')}), "
        f'{gpu}')
    if loads:
        # Other jobs on the machine slow every run; the interleaved order
        # spreads that over the variants, the load says how much there was.
        machine_text += (f'; 1-min load average at the runs\' starts '
                         f'{min(loads):.2f}-{max(loads):.2f}')
    if args.final_val_only:
        validation = 'once, after the last epoch (--final-val-only)'
    else:
        validation = (
            f'every {recipe.val_interval} epoch(s), as in the recipe: a '
            'curriculum with more real epochs validates more often, and '
            'that counts in its wall time')
    split = '' if recipe.val_split is None else \
        f" (split '{recipe.val_split}')"
    curricula = [v for v in variants if not v.is_baseline]
    lines = [
        ('Command', f'`{command}`'),
        ('Date', f"report written {time.strftime('%Y-%m-%d %H:%M %Z')}" +
         (f'; runs finished {finished[0]} to {finished[-1]}'
          if finished else '')),
        ('Machine', machine_text),
        ('Software', f'Python {platform.python_version()}, torch '
         f'{torch.__version__}, mmengine {mmengine.__version__}, '
         f'mmpretrain {mmpretrain.__version__}, etpp_mm '
         f'{etpp_mm.__version__}'),
        ('Recipe', f'`{args.config}`: {recipe.epochs} epochs of '
         f'{recipe.iters_per_epoch} iterations'),
        ('Curriculum', f"EfficientTrainHook(preset='{args.preset}', "
         f'size_divisor={args.size_divisor}) at budgets ' + ', '.join(
             f'{plain_number(v.budget)}' for v in curricula) +
         ' (equivalent full-size epochs)'),
        ('Seeds', ', '.join(map(str, args.seeds)) + ' (randomness.seed, the '
         'same for every variant); runs seed-major, variants interleaved'),
        ('Score', f'`{args.metric}` of the last validation, on '
         f'val_dataloader{split}; validation {validation}'),
        ('Wall time', 'each tools/train.py process from start to end '
         '(start-up, data loading, training, validation, checkpoints)'),
    ]
    if args.cfg_options:
        lines.append(('Options', 'every run: `--cfg-options ' +
                      shlex.join(args.cfg_options) + '`'))
    return lines


def benchmark(args, say, command):
    budgets = [plain_number(b) for b in args.budgets]
    check_benchmark_input(budgets, args.seeds, args.preset,
                          args.size_divisor, args.threads)
    options = parse_cfg_options(args.cfg_options)
    recipe = Recipe(args, options)
    variants = [
        recipe.plan_variant(v)
        for v in make_variants(budgets, args.preset, args.size_divisor)
    ]
    order = run_order(variants, args.seeds)
    env = run_environment(args.threads)
    machine = machine_info()
    threads = args.threads or torch.get_num_threads()
    settings = dict(
        recipe=config_fingerprint(recipe.cfg),
        omp_num_threads=env.get('OMP_NUM_THREADS'),
        final_val_only=args.final_val_only,
        etpp_mm=etpp_mm.__version__,
        # Wall times from another machine would not compare.
        machine=dict(
            cpu=machine['cpu'],
            logical_cpus=machine['logical_cpus'],
            gpu=machine['gpu']))

    work_dir = args.work_dir
    if not args.dry_run:
        # Only now, so that bad input leaves nothing behind.
        os.makedirs(work_dir, exist_ok=True)
        say.path = osp.join(work_dir, LOG_FILE)
        with open(say.path, 'a') as f:
            f.write(f"=== {time.strftime('%Y-%m-%d %H:%M:%S')} {command}\n")
    say(f'recipe: {args.config} ({recipe.epochs} epochs, '
        f'{recipe.iters_per_epoch} iterations each)')
    for variant in variants:
        say(f'  {variant.name}: {variant.real_epochs} real epochs, '
            f'theoretical speed-up {variant.theoretical_speedup:.2f}x')
    say(f"seeds {', '.join(map(str, args.seeds))}: {len(order)} runs; "
        f"OMP_NUM_THREADS {env.get('OMP_NUM_THREADS', 'unset')}; work dir "
        f'{work_dir}')
    if args.dry_run:
        return dict(new_runs=0, cached_runs=0, failed=[], report=None)

    cache = ResultCache(osp.join(work_dir, CACHE_FILE))
    keys = [run_key(v, s, settings) for s, v in order]
    extra_args = ['--cfg-options', *args.cfg_options] \
        if args.cfg_options else []
    results, failed, entries = [], [], []
    counts = dict(new_runs=0, cached_runs=0)
    attempted = set()

    def eta(start):
        """Wall time of the runs from ``start`` on that still need
        training (not cached, not failed in this invocation)."""
        todo = [
            v for (_, v), k in zip(order[start:], keys[start:])
            if cache.get(k) is None and k not in attempted
        ]
        return eta_seconds(todo, results, variants) if todo else None

    total = len(order)
    for index, ((seed, variant), key) in enumerate(zip(order, keys), 1):
        entry = cache.get(key)
        if entry is not None:
            result = result_of(entry, args.metric, work_dir)
            results.append(result)
            entries.append(entry)
            counts['cached_runs'] += 1
            say(format_progress(index, total, 'cached', variant.name, seed,
                                result.seconds, result.score, None,
                                args.metric, result.run_dir))
            continue
        run_name = f'{variant.folder}_s{seed}_{key}'
        run_dir = osp.join(work_dir, 'runs', run_name)
        # Whatever is there is an interrupted attempt: start it afresh.
        shutil.rmtree(run_dir, ignore_errors=True)
        os.makedirs(run_dir)
        config_path = osp.join(run_dir, RUN_CONFIG)
        with open(config_path, 'w') as f:
            f.write(
                run_config_text(recipe.path, variant, seed, recipe.imports,
                                recipe.plain_hooks, recipe.visualizer_type,
                                args.final_val_only))
        with open(osp.join(run_dir, 'command.txt'), 'w') as f:
            threads_prefix = '' if args.threads is None else \
                f'OMP_NUM_THREADS={args.threads} '
            f.write(threads_prefix + shlex.join([
                'python', osp.relpath(TRAIN_SCRIPT), config_path,
                '--work-dir', osp.join(run_dir, TRAIN_DIR), *extra_args
            ]) + '\n')
        say(format_progress(index, total, 'start', variant.name, seed,
                            eta=eta(index - 1), metric=args.metric))
        load = os.getloadavg()[0] if hasattr(os, 'getloadavg') else None
        attempted.add(key)
        proc = train_run(config_path, run_dir, env, extra_args)
        record, problem = None, None
        if proc.returncode != 0:
            problem = f'exit {proc.returncode}'
        else:
            try:
                record = last_val_record(osp.join(run_dir, TRAIN_DIR))
            except RuntimeError as err:
                problem = str(err)
        if problem is not None:
            failed.append((variant.name, seed, proc.output))
            say(format_progress(index, total, 'FAILED', variant.name, seed,
                                proc.seconds, None, eta(index), args.metric,
                                f'({problem}) log: {proc.output}'))
            continue
        entry = dict(
            variant=variant.name,
            seed=seed,
            settings=dict(settings, **variant.identity()),
            seconds=round(proc.seconds, 2),
            val=record,
            run_dir=osp.join('runs', run_name),
            load=load,
            finished=time.strftime('%Y-%m-%d %H:%M'))
        # Cached before the metric is looked up: a wrong --metric is then
        # fixed by rerunning with the right one, without training again.
        cache.put(key, entry)
        counts['new_runs'] += 1
        entries.append(entry)
        result = result_of(entry, args.metric, work_dir)
        results.append(result)
        say(format_progress(index, total, 'done', variant.name, seed,
                            result.seconds, result.score, eta(index),
                            args.metric))
        if record.get('step') != variant.real_epochs:
            # The report's epochs come from the plan; say so if the run
            # validated last at another epoch.
            say(f"  note: the last validation was at epoch "
                f"{record.get('step')}, the plan has {variant.real_epochs} "
                'epochs')

    summaries = summarize(variants, args.seeds, results)
    target = check_target(summaries, recipe.epochs)
    timing = timing_table(variants, results, recipe.full_size)
    say()
    say(format_results_table(summaries, args.metric))
    say()
    say(target.text)
    report = args.report or osp.join(work_dir, 'benchmark.md')
    plot = args.plot or osp.join(work_dir, 'benchmark.png')
    name = osp.splitext(osp.basename(args.config))[0]
    plot_runs(summaries, plot, args.metric,
              f'{name}: {args.preset} against the recipe, seeds '
              f"{', '.join(map(str, args.seeds))}")
    text = format_report(
        f'EfficientTrain++ against its recipe: `{name}`',
        header_lines(args, command, recipe, variants, machine, threads, env,
                     entries), summaries, order, results, target,
        args.metric, failed,
        osp.relpath(osp.abspath(plot), osp.dirname(osp.abspath(report))),
        timing)
    os.makedirs(osp.dirname(osp.abspath(report)), exist_ok=True)
    with open(report, 'w') as f:
        f.write(text)
    say(f"{counts['new_runs']} runs trained, {counts['cached_runs']} taken "
        f'from {osp.join(work_dir, CACHE_FILE)}; report {report}, plot '
        f'{plot}')
    if failed:
        raise RuntimeError(
            f'{len(failed)} of {total} runs failed (not cached: the same '
            'command trains them again): ' + '; '.join(
                f'{variant} seed {seed}, log {log}'
                for variant, seed, log in failed))
    return dict(
        counts,
        failed=failed,
        summaries=summaries,
        target=target,
        report=report,
        plot=plot)


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
