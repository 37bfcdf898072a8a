"""Sweep MMPretrain's model zoo: train each config alone and with
``EfficientTrainHook`` for a few iterations on a folder of photos, and
report which the curriculum trains at its planned sizes.

Per config, two ``tools/train.py`` processes on a config written beside
its log (``OUT/runs/<family>/<config>/{recipe,curriculum}/``): the recipe
for 2 iterations, then the recipe with the hook at a budget whose plan
gives each of its stages an iteration or more (3 equivalent epochs of 8
photos at batch 2: about 30 iterations). Both keep the recipe's model,
optimizer, schedules, hooks and train pipeline, on a ``CustomDataset`` of
photos, batch 2, no workers, no validation, plain ``OptimWrapper`` for
AMP, no pretrained weights. A probe hook records the input size of every
iteration; it is compared with the plan table and stage changes the hook
logs. Statuses: ``trains``, ``refused``, ``fails``, ``recipe fails``,
``timeout``, ``memory``.

Trained: configs with ``train_dataloader``, ``train_cfg`` and an optimizer
whose model is not one of MMPretrain's multimodal models (BLIP, LLaVA...:
trained on text too).

Writes ``OUT/zoo_sweep.json`` (after every config: ``--resume`` continues
it) and ``OUT/zoo_sweep.md``; ``--reclassify`` reads the saved runs again
without training. A recipe whose iteration-based schedule starts beyond
300 epochs of 4 iterations (ShuffleNet's, at iteration 5000) needs more
photos: ``--images 48``.

Example::

    OMP_NUM_THREADS=1 python tools/analysis/check_recipes.py \
        --one-per-family --out work_dirs/zoo_sweep
    python tools/analysis/check_recipes.py --families resnet,deit \
        --configs 'resnet18_8xb32*' --timeout 100 --out work_dirs/zoo_rn
"""
import argparse
import json
import os
import os.path as osp
import shlex
import sys
import threading
import time

import etpp_mm  # noqa: F401  first: it hides known third-party warnings

# etpp_bench, the benchmark harness, is not installed with etpp_mm: it is
# imported from the checkout this tool belongs to
sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
from etpp_bench.zoo import (SweepSettings, run_sweep,  # noqa: E402
                            select_configs, status_counts)
from etpp_bench.zoo_config import zoo_config_root  # noqa: E402

RESULTS = 'zoo_sweep.json'
REPORT = 'zoo_sweep.md'
RULE = ('configs with train_dataloader, train_cfg and an optimizer, model '
        'not one of MMPretrain\'s multimodal models (BLIP, LLaVA, ...: '
        'trained on text too); _base_ left out')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Train MMPretrain configs alone and with '
        'EfficientTrainHook for a few iterations on photos, and report '
        'which train at the planned stage sizes')
    parser.add_argument(
        '--families', help='comma-separated config folders, e.g. '
        'resnet,swin_transformer (default: all)')
    parser.add_argument(
        '--configs',
        help='only configs whose family/file.py matches this pattern '
        '(fnmatch; a plain string matches anywhere)')
    parser.add_argument(
        '--one-per-family',
        action='store_true',
        help='only the first trained config of each family, by name')
    parser.add_argument(
        '--timeout',
        type=float,
        default=150,
        help='seconds each training process may take (default: 150)')
    parser.add_argument(
        '--max-memory-gb',
        type=float,
        default=8,
        help='resident memory a training process may take (default: 8)')
    parser.add_argument(
        '--out',
        default='work_dirs/zoo_sweep',
        help='folder of the results, logs and photos '
        '(default: work_dirs/zoo_sweep)')
    parser.add_argument(
        '--jobs',
        type=int,
        default=1,
        help='configs swept at a time (default: 1)')
    parser.add_argument(
        '--threads',
        type=int,
        default=1,
        help='OMP_NUM_THREADS of each training process (default: 1)')
    parser.add_argument(
        '--images',
        type=int,
        default=8,
        help='photos of the train set, 2 per batch (default: 8)')
    parser.add_argument(
        '--budget',
        type=float,
        help='EfficientTrainHook budget (default: 10 stages x 1.2 '
        'full-size iterations / iterations per epoch: 3.0 for 8 photos)')
    parser.add_argument(
        '--hook-options',
        nargs='+',
        default=[],
        metavar='KEY=VALUE',
        help='more EfficientTrainHook arguments (Python literals), e.g. '
        'size_divisor=32')
    parser.add_argument(
        '--time-limit',
        type=float,
        help='minutes for the whole sweep: no config starts after them')
    parser.add_argument(
        '--resume',
        action='store_true',
        help=f'keep the results already in OUT/{RESULTS}')
    parser.add_argument(
        '--reclassify',
        action='store_true',
        help=f'train nothing: classify the runs of OUT/{RESULTS} again from '
        'their logs and probes, and rewrite the results and the report')
    parser.add_argument(
        '--list',
        action='store_true',
        help='print the selected configs and exit')
    return parser.parse_args(argv)


def hook_options(pairs):
    """``KEY=VALUE`` strings as a dict, values read as Python literals."""
    import ast
    options = {}
    for pair in pairs:
        key, _, value = pair.partition('=')
        try:
            options[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            options[key] = value
    return options


def checkout():
    """The commit of this checkout, and whether ``etpp_mm/`` differs from
    it (the runs import the working tree)."""
    import subprocess
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

    def git(*args):
        try:
            return subprocess.run(['git', '-C', root, *args],
                                  capture_output=True, text=True,
                                  timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ''

    commit = git('rev-parse', '--short', 'HEAD') or 'unknown commit'
    changed = git('status', '--porcelain', '--', 'etpp_mm')
    return f"commit {commit}{', etpp_mm/ changed' if changed else ''}"


def header(args, command, seconds, settings):
    import mmengine
    import mmpretrain
    import torch

    from etpp_bench.machine import machine_info
    from etpp_bench.report import format_duration
    machine = machine_info()
    gpu = machine['gpu'] or 'no GPU'
    options = ', '.join(f'{k}={v!r}' for k, v in
                        settings.hook_options.items())
    return dict(
        title='MMPretrain model-zoo sweep with EfficientTrainHook',
        date=time.strftime('%Y-%m-%d %H:%M %Z'),
        versions=(f'MMPretrain {mmpretrain.__version__}, MMEngine '
                  f'{mmengine.__version__}, torch {torch.__version__}, '
                  f'etpp_mm {etpp_mm.__version__} ({checkout()})'),
        machine=(f"{machine['cpu']}, {machine['usable_cpus']} usable "
                 f'cores, {gpu}; {settings.threads} thread(s) per run, '
                 f'{args.jobs} run(s) at a time'),
        command=f'`{command}`',
        settings=(f'{settings.images} photos in 2 classes (random '
                  '256-320 px crops of scikit-image photos), batch '
                  f'{settings.batch_size}; recipe run '
                  f'{settings.recipe_iters} iterations; curriculum run '
                  f'EfficientTrainHook(budget={settings.hook_budget():g}'
                  f"{', ' + options if options else ''}); "
                  f'{settings.timeout:g} s and {settings.max_memory_gb:g} '
                  'GB per run'),
        rule=RULE,
        duration=format_duration(seconds))


def reclassify(out):
    """Classify the saved runs of ``out`` again and rewrite the results
    and the report (header kept)."""
    from etpp_bench.zoo import result_of_runs
    from etpp_bench.zoo_report import format_report
    path = osp.join(out, RESULTS)
    with open(path) as f:
        saved = json.load(f)
    for result in saved['results']:
        result.update(result_of_runs(osp.join(out, result['run_dir'])))
    with open(path, 'w') as f:
        json.dump(saved, f, indent=1)
    with open(osp.join(out, REPORT), 'w') as f:
        f.write(
            format_report(saved['header'], saved['results'],
                          saved['not_trained'], saved['not_run']))
    counts = status_counts(saved['results'])
    print(', '.join(f'{k}: {v}' for k, v in counts.items()))


def main(argv=None):
    args = parse_args(argv)
    if args.jobs < 1:
        sys.exit('error: --jobs must be at least 1')
    families = [f for f in (args.families or '').split(',') if f]
    entries = select_configs(zoo_config_root(), families, args.configs,
                             args.one_per_family)
    trained = [e for e in entries if e.skip is None]
    not_trained = [dict(config=e.name, why=e.skip) for e in entries
                   if e.skip is not None]
    if args.list:
        for entry in trained:
            print(entry.name)
        return
    if not trained:
        sys.exit('error: no config selected is trained (see --list)')
    os.makedirs(args.out, exist_ok=True)
    settings = SweepSettings(
        out=osp.abspath(args.out),  # the runs start in the repository root
        images=args.images,
        budget=args.budget,
        hook_options=hook_options(args.hook_options),
        timeout=args.timeout,
        max_memory_gb=args.max_memory_gb,
        threads=args.threads)
    command = shlex.join(['python', 'tools/analysis/check_recipes.py'] +
                         (sys.argv[1:] if argv is None else list(argv)))
    results_path = osp.join(args.out, RESULTS)
    done, spent = {}, 0.0
    if args.reclassify:
        return reclassify(args.out)
    if args.resume and osp.isfile(results_path):
        with open(results_path) as f:
            saved = json.load(f)
        done = {r['config']: r for r in saved['results']}
        spent = saved.get('seconds', 0.0)
    start = time.perf_counter()
    deadline = None if args.time_limit is None else \
        start + 60 * args.time_limit
    results = dict(done)

    todo = [e for e in trained if e.name not in done]
    lock = threading.Lock()  # with --jobs, results come from threads

    def save(result=None):
        with lock:
            write(result)

    def write(result):
        if result is not None:
            results[result['config']] = result
            count = sum(e.name in results for e in todo)
            print(f"[{count}/{len(todo)}] {result['config']}: "
                  f"{result['status']} ({result['seconds']:.0f} s) "
                  f"{result['message']}", flush=True)
        # the sweep's order; results of earlier selections (--resume) kept
        ordered = sorted(results.values(),
                         key=lambda r: (r['group'], r['family'], r['config']))
        seconds = spent + time.perf_counter() - start
        not_run = [e.name for e in trained if e.name not in results]
        with open(results_path, 'w') as f:
            json.dump(
                dict(
                    header=header(args, command, seconds, settings),
                    seconds=seconds,
                    results=ordered,
                    not_run=not_run,
                    not_trained=not_trained),
                f,
                indent=1)
        from etpp_bench.zoo_report import format_report
        with open(osp.join(args.out, REPORT), 'w') as f:
            f.write(
                format_report(
                    header(args, command, seconds, settings), ordered,
                    not_trained, not_run))

    for index in range(0, len(todo), args.jobs):
        if deadline is not None and time.perf_counter() > deadline:
            print('time limit reached: '
                  f'{len(todo) - index} configs not run', flush=True)
            break
        run_sweep(todo[index:index + args.jobs], settings, on_result=save,
                  jobs=args.jobs)
    save()
    counts = status_counts(list(results.values()))
    print(', '.join(f'{k}: {v}' for k, v in counts.items()))
    print(f'report: {osp.join(args.out, REPORT)}')


if __name__ == '__main__':
    main()
