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
import os
import os.path as osp
import sys

from etpp_mm.analysis.cli import add_cfg_options, load_config
from etpp_mm.curriculum import (PRESET_BASE_SIZE, check_budget,
                                check_magnitudes, check_proxy, greedy_search,
                                scale_size, search_space, split_indices)
from etpp_mm.attach.resolver import train_size

# etpp_bench, the benchmark harness, is not installed with etpp_mm: it is
# imported from the checkout this tool belongs to
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from etpp_bench.campaign import Campaign, Printer  # noqa: E402
from etpp_bench.proxy import (ProxySearch, check_schedules,  # noqa: E402
                              describe_search, print_summary,
                              progress_printer, proxy_evaluator,
                              proxy_settings, write_result)
from etpp_bench.recipe import Recipe  # noqa: E402
from etpp_bench.runs import (output_tail, plain_number,  # noqa: E402
                             train_in_process)

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
# The options that set the search's arguments, named in its errors.
OPTION_NAMES = dict(
    candidates='--sizes',
    num_stages='--num-stages',
    size_divisor='--size-divisor',
    magnitudes='--magnitudes',
    train_images='--train-images',
    heldout_images='--heldout-images',
    budget='--budget')


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


def read_search(args):
    """The recipe and the search's hook settings (options, else its hook)."""
    recipe = Recipe(args.config, load_config(args))
    recipe.require_epochs('the search plans its proxies in epochs')
    hook = recipe.hook or {}
    search = ProxySearch(
        recipe, recipe.hook_args(SEARCH_HOOK_KEYS), args.size_divisor
        if args.size_divisor is not None else hook.get('size_divisor', 1),
        args.target_budget if args.target_budget is not None else
        hook.get('budget') or recipe.epochs)
    if args.full_size is not None:
        search.hook_args['full_size'] = args.full_size
    recipe.require_validation(
        'the held-out images are scored with its val pipeline and '
        'evaluator, so the config needs both')
    search.full_size = recipe_train_size(
        recipe, search.hook_args.get('full_size'))
    return search


def recipe_train_size(recipe, given):
    """The recipe's square train size: ``given``, or read from the train
    pipeline by the hook's own rule."""
    size = train_size(recipe.train_pipeline(), given or None,
                      key='--full-size')
    if size[0] != size[1]:
        raise ValueError(
            f'the train size {size} is not square: the search handles '
            'square sizes only')
    return size[0]


def run_proxy(config_path, run_dir, threads):
    """Train one proxy in its own process, output in its folder."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    proc = train_in_process(TRAIN_SCRIPT, config_path, run_dir, env)
    if proc.returncode != 0:
        raise RuntimeError(
            f'the proxy run in {run_dir} failed (exit {proc.returncode}); '
            f'end of {proc.output}:\n{output_tail(proc.output)}')


def check_input(args, search):
    """Everything the search can refuse, before anything is written."""
    sizes = args.sizes if args.sizes is not None else [
        scale_size(size, (search.full_size, ) * 2, search.size_divisor,
                   PRESET_BASE_SIZE)[0] for size in DEFAULT_SIZES_AT_224
    ]
    space = search_space(sizes, args.num_stages, search.full_size,
                         search.size_divisor, OPTION_NAMES)
    magnitudes = None if args.magnitudes is None else \
        [plain_number(m) for m in args.magnitudes]
    check_magnitudes(magnitudes, space.num_stages, OPTION_NAMES)
    budget = plain_number(args.budget)
    check_proxy(args.train_images, args.heldout_images, budget,
                names=OPTION_NAMES)
    if args.batch_size is not None and args.batch_size < 1:
        raise ValueError(
            f'--batch-size must be a positive int, got {args.batch_size}')
    if args.threads < 1:
        raise ValueError(f'--threads must be >= 1, got {args.threads}')
    check_budget(plain_number(search.target_budget), key='--target-budget')
    check_schedules(search, space, budget, magnitudes, OPTION_NAMES)
    available = search.recipe.train_split_length()
    check_proxy(args.train_images, args.heldout_images, budget, available,
                OPTION_NAMES)
    return space, magnitudes, budget, available


def search(args, say):
    found = read_search(args)
    space, magnitudes, budget, available = check_input(args, found)
    batch = args.batch_size or found.recipe.cfg.train_dataloader.batch_size
    campaign = Campaign(args.work_dir, CACHE_FILE, LOG_FILE, say)
    if not args.dry_run:
        campaign.open()  # only now: bad input leaves nothing behind
    proxy_text = describe_search(say, args, found, space, magnitudes,
                                 budget, available, batch)
    if args.dry_run:
        return dict(new_runs=0, cached_runs=0, result=None, out=None)

    template = found.recipe.proxy_cfg(
        *split_indices(available, args.train_images, args.heldout_images,
                       args.seed), args.seed, args.batch_size)
    # A lambda: the tests replace this module's run_proxy.
    evaluate = proxy_evaluator(
        campaign, found, template,
        proxy_settings(args, found, budget, magnitudes), budget, magnitudes,
        lambda path, run_dir: run_proxy(path, run_dir, args.threads),
        args.metric)

    result = greedy_search(
        space, evaluate,
        progress_printer(say, evaluate.details, space.num_stages,
                         args.metric))
    reference = print_summary(say, result, evaluate.details, space,
                              args.metric)
    counts = campaign.counts
    say(f"{counts['new_runs']} proxy runs trained, {counts['cached_runs']} "
        f'taken from {campaign.cache_path}')
    out = write_result(args, say, found, space, result, reference,
                       (proxy_text, budget, batch), magnitudes)
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
