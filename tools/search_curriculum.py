"""Search the stage sizes of an EfficientTrain++ curriculum on a proxy.

The greedy, computation-constrained search of EfficientTrain++: training is
cut into ``--num-stages`` stages of equal compute under a fixed budget, and
the sizes are chosen one stage at a time. For stage ``k`` (earlier stages
fixed) each candidate size not below stage ``k-1``'s is tried with the later
stages at the full size; a proxy of the recipe is trained with that
schedule and scored on held-out images; the best size is kept. The last
stage is always the full size. The search logic lives in
:mod:`etpp_mm.curriculum.search`; this tool trains the proxies.

The proxy is the recipe itself (model, pipelines, optimizer, LR schedule in
compute time) on ``--train-images`` random images of the train split, for
``--budget`` equivalent full-size epochs, scored with the recipe's val
pipeline and evaluator on ``--heldout-images`` other images of the train
split. The test split is never read; dataset wrappers of the recipe
(RepeatDataset...) are dropped, the proxy reads the innermost dataset
(the first of a ConcatDataset). Each proxy is a plain
``tools/train.py`` run in its own process and folder under ``--work-dir``
(``runs/<schedule>_<key>/proxy_config.py`` reruns it by hand). Results are
cached in ``--work-dir``/search_cache.json, keyed by the schedule and the
proxy settings: running the same command again resumes the search and
trains only what is missing.

The schedule found is written to ``--out`` as a config that inherits the
recipe and adds ``EfficientTrainHook`` with ``stages=[...]`` and
``budget=--target-budget``.

Example::

    python tools/search_curriculum.py \
        configs/fashion_mnist/resnet18-w8_1xb128_fmnist.py \
        --sizes 12 16 20 24 28 --num-stages 4 --size-divisor 4
    python tools/search_curriculum.py CONFIG --dry-run --num-stages 5 \
        --cfg-options train_cfg.max_epochs=30
"""
import argparse
import copy
import os
import os.path as osp
import shutil
import sys
import time

from mmcv.transforms import Compose
from mmengine.registry import init_default_scope
from mmpretrain.registry import DATASETS

from etpp_mm.analysis.cli import add_cfg_options, load_config
from etpp_mm.analysis.plan import dataset_cfg_with_pipeline
from etpp_mm.analysis.plan import find_hook_cfgs
from etpp_mm.bench.runs import (Printer, config_fingerprint,
                               output_tail, plain_number, read_metric,
                               train_in_process)
from etpp_mm.curriculum import (PRESET_BASE_SIZE, ResultCache, build_plan,
                                cache_key, check_budget, check_magnitudes,
                                check_proxy, format_plan, format_snippet,
                                format_trials, greedy_search, max_runs,
                                monotone_schedules, scale_size, schedule_name,
                                schedule_stages, schedule_with, search_space,
                                split_indices, stage_rows)
from etpp_mm.hooks import EfficientTrainHook
from etpp_mm.hooks.pipeline import find_transforms
from etpp_mm.hooks.resolver import train_size

TRAIN_SCRIPT = osp.join(osp.dirname(osp.abspath(__file__)), 'train.py')
# Candidate sizes when --sizes is not given: these sizes of a 224-px recipe,
# scaled to the recipe's own train size (12-28 px for Fashion-MNIST).
DEFAULT_SIZES_AT_224 = (96, 128, 160, 192, 224)
# Hook arguments the search sets itself; any other argument of the
# recipe's own EfficientTrainHook (low_frequency, full_size...) is kept.
SEARCH_HOOK_KEYS = ('type', 'preset', 'stages', 'mode', 'budget',
                    'size_divisor')
CACHE_FILE = 'search_cache.json'
LOG_FILE = 'search.log'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Greedy stage-size search of an EfficientTrain++ '
        'curriculum on a proxy of the recipe (held-out images of the train '
        'split, fixed compute budget)')
    parser.add_argument('config', help='the recipe config')
    parser.add_argument(
        '--sizes',
        nargs='+',
        type=int,
        help='candidate stage sizes in pixels of the recipe (the full size '
        'is always added). Default: 96 128 160 192 224 at 224, scaled to '
        'the train size and rounded to --size-divisor')
    parser.add_argument(
        '--num-stages',
        type=int,
        default=4,
        help='K, stages of equal compute; the last one is the full size '
        '(default: 4)')
    parser.add_argument(
        '--size-divisor',
        type=int,
        help='stage sizes must be multiples of it (default: that of the '
        "recipe's EfficientTrainHook, else 1)")
    parser.add_argument(
        '--magnitudes',
        nargs='+',
        type=float,
        help='RandAugment magnitude_level per stage for every proxy and the '
        "snippet (default: the recipe's own magnitude throughout)")
    parser.add_argument(
        '--full-size',
        type=int,
        help='the train size, when the train pipeline does not tell it')
    proxy = parser.add_argument_group('proxy')
    proxy.add_argument(
        '--train-images',
        type=int,
        default=2000,
        help='random images of the train split each proxy trains on '
        '(default: 2000)')
    proxy.add_argument(
        '--heldout-images',
        type=int,
        default=2000,
        help='other images of the train split each proxy is scored on '
        '(default: 2000)')
    proxy.add_argument(
        '--budget',
        type=float,
        default=4,
        help="each proxy's compute in equivalent full-size epochs of its "
        'train images (default: 4)')
    proxy.add_argument(
        '--batch-size',
        type=int,
        help="each proxy's train batch size, the LR scaled linearly from "
        "the recipe's (default: the recipe's): a small proxy at a large "
        'batch takes few SGD steps')
    proxy.add_argument(
        '--seed',
        type=int,
        default=0,
        help='seed of the image draw and of every proxy (default: 0)')
    proxy.add_argument(
        '--metric',
        default='accuracy/top1',
        help='held-out metric to maximise, a key of the val evaluator '
        '(default: accuracy/top1)')
    proxy.add_argument(
        '--threads',
        type=int,
        default=1,
        help='CPU threads of each proxy process (OMP_NUM_THREADS, default: '
        '1): a small model gains little from more, and threads competing '
        'with other processes for the cores slow training down many '
        'times over')
    parser.add_argument(
        '--target-budget',
        type=float,
        help='budget written into the snippet, in equivalent full-size '
        "epochs of the real training (default: the recipe's "
        'EfficientTrainHook budget, else train_cfg.max_epochs)')
    parser.add_argument(
        '--work-dir',
        help='folder of the proxy runs and the result cache (default: '
        'work_dirs/search_<config name>)')
    parser.add_argument(
        '--out',
        help='config snippet to write (default: <work-dir>/'
        'searched_stages.py)')
    parser.add_argument(
        '--dry-run',
        action='store_true',
        help='check the input, print the search settings, train nothing')
    add_cfg_options(parser)
    return parser.parse_args(argv)


class Recipe:
    """What the search needs from the recipe config (no training)."""

    def __init__(self, cfg, args):
        init_default_scope(cfg.get('default_scope', 'mmpretrain'))
        self.cfg = cfg
        self.hook, self.other_hooks = find_hook_cfgs(cfg)
        hook = self.hook or {}
        self.hook_args = {
            k: v
            for k, v in hook.items() if k not in SEARCH_HOOK_KEYS
        }
        if args.full_size is not None:
            self.hook_args['full_size'] = args.full_size
        self.size_divisor = args.size_divisor if args.size_divisor \
            is not None else hook.get('size_divisor', 1)
        self.recipe_epochs = cfg.train_cfg.max_epochs
        self.target_budget = args.target_budget if args.target_budget \
            is not None else hook.get('budget') or self.recipe_epochs
        self.train_dataset = copy.deepcopy(
            dict(dataset_cfg_with_pipeline(cfg.train_dataloader.dataset)))
        if not cfg.get('val_dataloader', None) or not cfg.get(
                'val_evaluator', None):
            raise ValueError(
                'the recipe has no val_dataloader/val_evaluator: the '
                'held-out images are scored with its val pipeline and '
                'evaluator, so the config needs both')
        self.val_pipeline = copy.deepcopy(
            dataset_cfg_with_pipeline(cfg.val_dataloader.dataset)
            ['pipeline'])
        self.full_size = self._full_size()

    def train_pipeline(self):
        return Compose(copy.deepcopy(self.train_dataset['pipeline']))

    def _full_size(self):
        size = train_size(self.train_pipeline(),
                          self.hook_args.get('full_size'), key='--full-size')
        if size[0] != size[1]:
            raise ValueError(
                f'the train size {size} is not square: the search handles '
                'square sizes only')
        return size[0]

    def hook_cfg(self, schedule, budget, magnitudes):
        return dict(
            type='EfficientTrainHook',
            mode='etpp',
            stages=stage_rows(schedule, magnitudes),
            budget=budget,
            size_divisor=self.size_divisor,
            **self.hook_args)

    def fingerprint(self):
        """Changes whenever the recipe (or --cfg-options) changes."""
        return config_fingerprint(self.cfg)

    def train_split_length(self):
        dataset = dict(self.train_dataset, pipeline=[])
        dataset.pop('indices', None)
        try:
            return len(DATASETS.build(dataset))
        except (OSError, RuntimeError) as err:
            raise RuntimeError(
                f'cannot build the train dataset ({type(err).__name__}: '
                f'{err}): check train_dataloader.dataset') from err


def check_schedules(recipe, space, budget, magnitudes):
    """Resolve the hook of every stage-0 schedule on the real train
    pipeline: whatever the hook would refuse fails here, before training."""
    if magnitudes is not None and not find_transforms(
            recipe.train_pipeline(),
            lambda t: type(t).__name__ == 'RandAugment'):
        raise ValueError('--magnitudes schedules RandAugment, which is not '
                         'in the train pipeline: remove --magnitudes')
    for size in space.candidates:
        schedule = schedule_with(space, [], size)
        # 'priority' belongs to the runner, not to the hook.
        arguments = {
            k: v
            for k, v in recipe.hook_cfg(schedule, budget, magnitudes).items()
            if k not in ('type', 'priority')
        }
        try:
            EfficientTrainHook(**arguments).resolve(
                [recipe.train_pipeline()], recipe.recipe_epochs)
        except (TypeError, ValueError) as err:
            raise ValueError(f'the proxy schedule {schedule_name(schedule)} '
                             f'at --budget {budget} cannot run: {err}') \
                from err


def proxy_config(recipe, train_indices, heldout_indices, seed,
                 batch_size=None):
    """The recipe on a subset of the train split, scored once, at the end,
    on held-out images of the train split through the val pipeline."""
    proxy = copy.deepcopy(recipe.cfg)
    recipe_batch = proxy.train_dataloader.batch_size
    if batch_size is not None and batch_size != recipe_batch:
        proxy.train_dataloader.batch_size = batch_size
        scaling = proxy.get('auto_scale_lr', None) or {}
        if not scaling.get('enable', False):
            # MMEngine's linear scaling, from the batch the recipe's LR is
            # given for (a recipe that scales already keeps its own base).
            proxy.auto_scale_lr = dict(
                enable=True, base_batch_size=recipe_batch)
    train_dataset = dict(recipe.train_dataset, indices=train_indices)
    # The same split as the training images (never the test split), seen
    # through the recipe's val pipeline.
    heldout_dataset = dict(
        recipe.train_dataset,
        indices=heldout_indices,
        pipeline=recipe.val_pipeline)
    proxy.train_dataloader.dataset = train_dataset
    proxy.val_dataloader.dataset = heldout_dataset
    proxy.train_cfg.pop('dynamic_intervals', None)
    # Validation runs after the last epoch only (MMEngine always validates
    # then); earlier ones would cost time and score nothing.
    proxy.train_cfg.val_interval = 10**9
    proxy.train_cfg.val_begin = 1
    proxy.default_hooks.checkpoint = dict(
        type='CheckpointHook', interval=-1, save_last=False)
    visualizer = proxy.get('visualizer', None) or dict(
        type='UniversalVisualizer')
    # The score is read from vis_data/scalars.json; nothing goes to remote
    # loggers.
    visualizer['vis_backends'] = [dict(type='LocalVisBackend')]
    proxy.visualizer = visualizer
    proxy.randomness = dict(proxy.get('randomness', None) or {}, seed=seed)
    proxy.resume = False
    return proxy


def run_proxy(config_path, run_dir, threads):
    """Train one proxy in its own process (nothing shared between runs);
    its console output goes to run_dir/train_output.log."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    proc = train_in_process(TRAIN_SCRIPT, config_path, run_dir, env)
    if proc.returncode != 0:
        raise RuntimeError(
            f'the proxy run in {run_dir} failed (exit {proc.returncode}); '
            f'end of {proc.output}:\n{output_tail(proc.output)}')


def proxy_compute_range(recipe, space, budget, magnitudes):
    """Least and most compute a proxy can spend: stages run whole epochs
    (the hook truncates), so a small budget is met only roughly."""
    spent = [
        build_plan(
            schedule_stages(schedule, magnitudes), 'etpp',
            recipe.recipe_epochs, (recipe.full_size, ) * 2,
            budget).equivalent_epochs
        for schedule in monotone_schedules(space)
    ]
    return min(spent), max(spent)


def _epochs(plan):
    return '+'.join(str(stage.epochs) for stage in plan.stages)


def print_summary(say, result, details, space, metric):
    """The table of every run, the choice of each stage and the schedule
    found; returns the score of the all-full-size reference."""
    extra = {}
    for trial in result.trials:
        entry = details[trial.schedule]
        extra[trial.index] = {
            'real epochs': entry['epochs'],
            'equiv. epochs': f"{entry['equivalent_epochs']:.2f}",
            'seconds': f"{entry['seconds']:.0f}",
            'source': entry['source'],
        }
    say()
    say(format_trials(result.trials, result.schedule, extra, metric))
    say()
    for stage, (size, score) in enumerate(result.choices):
        say(f'stage {stage + 1}: kept {size} px ({metric} {score:.2f})')
    full = (space.full_size, ) * space.num_stages
    reference = next(
        (t.score for t in result.trials if t.schedule == full), None)
    say(f'found schedule: {schedule_name(result.schedule)} ({metric} '
        f'{result.score:.2f}' +
        ('' if reference is None else
         f'; all stages at {space.full_size} px: {reference:.2f}') + ')')
    return reference


def write_snippet(out, config, recipe, schedule, budget, magnitudes,
                  comment):
    """A config inheriting the recipe (by a path relative to ``out``) with
    the schedule's EfficientTrainHook."""
    out_dir = osp.dirname(osp.abspath(out))
    base = osp.relpath(osp.abspath(config), out_dir)
    if not base.startswith('.'):
        base = './' + base
    snippet = format_snippet(schedule, budget, base, recipe.size_divisor,
                             magnitudes, recipe.hook_args, comment)
    os.makedirs(out_dir, exist_ok=True)
    with open(out, 'w') as f:
        f.write(snippet + '\n')


def search(args, say):
    cfg = load_config(args)
    recipe = Recipe(cfg, args)
    sizes = args.sizes if args.sizes is not None else [
        scale_size(size, (recipe.full_size, ) * 2, recipe.size_divisor,
                   PRESET_BASE_SIZE)[0] for size in DEFAULT_SIZES_AT_224
    ]
    space = search_space(sizes, args.num_stages, recipe.full_size,
                         recipe.size_divisor)
    magnitudes = None if args.magnitudes is None else [
        plain_number(m) for m in args.magnitudes
    ]
    check_magnitudes(magnitudes, space.num_stages)
    budget = plain_number(args.budget)
    check_proxy(args.train_images, args.heldout_images, budget)
    if args.batch_size is not None and args.batch_size < 1:
        raise ValueError(
            f'--batch-size must be a positive int, got {args.batch_size}')
    if args.threads < 1:
        raise ValueError(f'--threads must be >= 1, got {args.threads}')
    target_budget = plain_number(recipe.target_budget)
    check_budget(target_budget, key='--target-budget')
    check_schedules(recipe, space, budget, magnitudes)
    available = recipe.train_split_length()
    check_proxy(args.train_images, args.heldout_images, budget, available)

    settings = dict(
        recipe=recipe.fingerprint(),
        train_images=args.train_images,
        heldout_images=args.heldout_images,
        budget=budget,
        seed=args.seed,
        batch_size=args.batch_size,
        magnitudes=magnitudes,
        metric=args.metric,
        hook_args=recipe.hook_args)
    work_dir = args.work_dir
    if not args.dry_run:
        # Only now, so that bad input leaves nothing behind.
        os.makedirs(work_dir, exist_ok=True)
        say.path = osp.join(work_dir, LOG_FILE)
        # The log gathers every invocation (resumed searches too).
        with open(say.path, 'a') as f:
            f.write(f"=== {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
    say(f'recipe: {args.config} ({recipe.full_size} px, '
        f'{recipe.recipe_epochs} epochs)')
    say(f'search: {space.num_stages} stages of equal compute, candidate '
        f"sizes {', '.join(map(str, space.candidates))}, size divisor "
        f'{recipe.size_divisor}' +
        ('' if magnitudes is None else f', RandAugment magnitudes '
         f"{', '.join(map(str, magnitudes))}"))
    say(f'proxy: {args.train_images} train + {args.heldout_images} '
        f'held-out images of the train split ({available}), budget '
        f'{budget} equivalent epochs, batch '
        f'{args.batch_size or cfg.train_dataloader.batch_size}, seed '
        f'{args.seed}, metric {args.metric}')
    low, high = proxy_compute_range(recipe, space, budget, magnitudes)
    say(f'each proxy spends {low:.2f}-{high:.2f} equivalent epochs (stages '
        'run whole epochs)')
    if low < 0.9 * budget:
        say('note: that is coarse; a larger --budget with fewer '
            '--train-images costs the same and splits finer')
    say(f'at most {max_runs(space)} proxy runs; work dir {work_dir}')
    if args.dry_run:
        return dict(new_runs=0, cached_runs=0, result=None, out=None)

    train_indices, heldout_indices = split_indices(available,
                                                   args.train_images,
                                                   args.heldout_images,
                                                   args.seed)
    template = proxy_config(recipe, train_indices, heldout_indices, args.seed,
                            args.batch_size)
    cache = ResultCache(osp.join(work_dir, CACHE_FILE))
    counts = dict(new_runs=0, cached_runs=0)
    details = {}

    def evaluate(schedule):
        key = cache_key(schedule, settings)
        entry = cache.get(key)
        if entry is not None:
            counts['cached_runs'] += 1
            details[schedule] = dict(entry, source='cached')
            return entry['score']
        plan = build_plan(
            schedule_stages(schedule, magnitudes), 'etpp',
            recipe.recipe_epochs, (recipe.full_size, ) * 2, budget)
        run_name = f'{schedule_name(schedule)}_{key}'
        run_dir = osp.join(work_dir, 'runs', run_name)
        # Whatever is there is an interrupted attempt: start it afresh.
        shutil.rmtree(run_dir, ignore_errors=True)
        os.makedirs(run_dir)
        proxy = copy.deepcopy(template)
        proxy.work_dir = run_dir
        proxy.custom_hooks = list(recipe.other_hooks) + [
            recipe.hook_cfg(schedule, budget, magnitudes)
        ]
        config_path = osp.join(run_dir, 'proxy_config.py')
        proxy.dump(config_path)
        start = time.time()
        run_proxy(config_path, run_dir, args.threads)
        score = read_metric(run_dir, args.metric)
        entry = dict(
            schedule=list(schedule),
            settings=settings,
            score=score,
            run_dir=osp.join('runs', run_name),
            seconds=round(time.time() - start, 1),
            epochs=_epochs(plan),
            equivalent_epochs=round(plan.equivalent_epochs, 3))
        cache.put(key, entry)
        counts['new_runs'] += 1
        details[schedule] = dict(entry, source='new')
        return score

    def report(trial, best, total):
        entry = details[trial.schedule]
        how = 'cached' if entry['source'] == 'cached' else \
            f"{entry['seconds']:.0f} s"
        say(f'[run {trial.index}/{total}] stage {trial.stage + 1}/'
            f'{space.num_stages - 1}  {schedule_name(trial.schedule)}  '
            f'{args.metric} {trial.score:.2f}  ({how}, epochs '
            f"{entry['epochs']})  best so far {best.score:.2f} "
            f'({schedule_name(best.schedule)})')

    result = greedy_search(space, evaluate, report)

    reference = print_summary(say, result, details, space, args.metric)
    say(f"{counts['new_runs']} proxy runs trained, {counts['cached_runs']} "
        f'taken from {osp.join(work_dir, CACHE_FILE)}')
    out = args.out or osp.join(work_dir, 'searched_stages.py')
    comment = [
        'EfficientTrain++ stage sizes found by tools/search_curriculum.py '
        f'for {args.config}: {space.num_stages} stages of equal compute, '
        f"candidate sizes {', '.join(map(str, space.candidates))} px. "
        f'Proxy: {args.train_images} train + {args.heldout_images} held-out '
        f'images of the train split, {budget} equivalent epochs, batch '
        f'{args.batch_size or cfg.train_dataloader.batch_size}, seed '
        f'{args.seed}; held-out {args.metric} {result.score:.2f}' +
        ('' if reference is None else
         f' (all stages at {space.full_size} px: {reference:.2f})') + '.'
    ]
    if args.cfg_options:
        comment.append('Searched with --cfg-options ' + ' '.join(
            f'{k}={v}' for k, v in args.cfg_options.items()) + '.')
    comment.append(
        'Train this file as it is, or copy custom_hooks into a config that '
        'inherits the recipe. budget: equivalent full-size epochs of the '
        f'real training (the recipe runs {recipe.recipe_epochs}).')
    write_snippet(out, args.config, recipe, result.schedule, target_budget,
                  magnitudes, comment)
    plan = build_plan(
        schedule_stages(result.schedule, magnitudes), 'etpp',
        recipe.recipe_epochs, (recipe.full_size, ) * 2, target_budget,
        recipe.size_divisor)
    say(f'\nthe found schedule at --target-budget {target_budget}:')
    say(format_plan(plan))
    say(f'snippet written to {out}')
    return dict(counts, result=result, out=out)


def main(argv=None):
    args = parse_args(argv)
    if args.work_dir is None:
        name = osp.splitext(osp.basename(args.config))[0]
        args.work_dir = osp.join('work_dirs', f'search_{name}')
    try:
        return search(args, Printer())
    except (ValueError, RuntimeError) as err:
        sys.exit(f'error: {err}')
    except KeyboardInterrupt:
        sys.exit('interrupted: the same command resumes the search from '
                 f'{osp.join(args.work_dir, CACHE_FILE)}')


if __name__ == '__main__':
    main()
