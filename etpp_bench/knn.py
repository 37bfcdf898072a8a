"""The benchmark's k-NN score (``tools/benchmark.py --knn``): each run's
last checkpoint scored by weighted k-NN top-1 on frozen features, for
self-supervised recipes, which have no validation loop to read a score
from.

The score is computed in the benchmark's process after the training
process has ended, so it is not part of the run's wall time, and it is
cached with the run: a rerun reads it back instead of computing it again.
"""
import argparse
import glob
import os.path as osp
import re
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple

from etpp_bench.runs import last_val_record
from etpp_mm.analysis.cli import (load_config, parse_cfg_options,
                                  positive_int)
from etpp_mm.evaluation import check_knn_datasets, knn_top1_of_checkpoint

KNN_METRIC = 'knn/top1'
DEFAULT_METRIC = 'accuracy/top1'
# What MMEngine's CheckpointHook writes: the path of the newest checkpoint.
LAST_CHECKPOINT = 'last_checkpoint'


def add_knn_arguments(parser: argparse.ArgumentParser) -> None:
    """The benchmark's ``--knn`` options.

    Example:
        >>> parser = argparse.ArgumentParser()
        >>> add_knn_arguments(parser)
        >>> args = parser.parse_args(['--knn', '--knn-test-images', '200'])
        >>> args.knn, args.knn_k, args.knn_train_images, args.knn_test_images
        (True, 20, None, 200)
    """
    parser.add_argument(
        '--knn',
        action='store_true',
        help='score each run by the weighted k-NN top-1 of its last '
        'checkpoint on frozen features (metric knn/top1; for '
        'self-supervised recipes: the config needs knn_train_dataset and '
        'knn_test_dataset), computed after the run, outside its wall time')
    parser.add_argument(
        '--knn-train-images',
        type=positive_int,
        help='k-NN references: the first N images of knn_train_dataset '
        '(default: all)')
    parser.add_argument(
        '--knn-test-images',
        type=positive_int,
        help='k-NN images classified: the first N of knn_test_dataset '
        '(default: all)')
    parser.add_argument(
        '--knn-k', type=positive_int, default=20,
        help='neighbours that vote (default: 20)')
    parser.add_argument(
        '--knn-temperature', type=float, default=0.07,
        help='votes weigh exp(similarity / T) (default: 0.07)')


def score_metric(args: Any) -> str:
    """The metric the report reads: ``--metric`` when given, else
    ``knn/top1`` with ``--knn`` and ``accuracy/top1`` without.

    Example:
        >>> score_metric(argparse.Namespace(metric=None, knn=True))
        'knn/top1'
        >>> score_metric(argparse.Namespace(metric='accuracy/top5', knn=True))
        'accuracy/top5'
    """
    if args.metric is not None:
        return args.metric
    return KNN_METRIC if args.knn else DEFAULT_METRIC


def check_knn_recipe(recipe: Any, args: Any) -> None:
    """Refuse, before training, a k-NN benchmark that could not score its
    runs: no labelled sets, no checkpoint of the last epoch, bad k-NN
    settings, or ``--final-val-only`` on a recipe without a validation loop
    (nothing to move to the end: the k-NN score is taken after the last
    epoch anyway).

    Args:
        recipe (Recipe): the recipe read (``name``, ``cfg``).
        args: the benchmark's options (``knn_k``, ``knn_temperature``,
            ``knn_train_images``, ``final_val_only``).
    """
    cfg = recipe.cfg
    check_knn_datasets(cfg, recipe.name)
    checkpoint = (cfg.get('default_hooks', None) or {}).get('checkpoint')
    if not checkpoint or checkpoint.get('save_last', True) is False or \
            checkpoint.get('by_epoch', True) is False:
        raise ValueError(
            f'--knn scores the checkpoint of the last epoch, but '
            f'default_hooks.checkpoint of {recipe.name} is {checkpoint!r}: '
            "keep a CheckpointHook with by_epoch=True and save_last=True "
            '(its interval may be anything, -1 included)')
    if args.knn_train_images is not None and \
            args.knn_k > args.knn_train_images:
        raise ValueError(f'--knn-k {args.knn_k} is more than the '
                         f'--knn-train-images {args.knn_train_images} '
                         'references: lower one or raise the other')
    if not args.knn_temperature > 0:
        raise ValueError('--knn-temperature must be positive, got '
                         f'{args.knn_temperature}')
    has_val = cfg.get('val_dataloader', None) and cfg.get(
        'val_evaluator', None)
    if args.final_val_only and not has_val:
        raise ValueError(
            f'--final-val-only: {recipe.name} has no validation loop '
            '(val_dataloader/val_evaluator); with --knn the score is taken '
            'from the last checkpoint, after training: drop --final-val-only')


def knn_settings(args: Any) -> Dict[str, Any]:
    """The k-NN settings for the runs' cache key (empty without ``--knn``,
    so that the keys of other benchmarks do not change).

    Example:
        >>> knn_settings(argparse.Namespace(knn=False))
        {}
        >>> knn_settings(argparse.Namespace(
        ...     knn=True, knn_k=20, knn_temperature=0.07,
        ...     knn_train_images=None, knn_test_images=200))['knn']['k']
        20
    """
    if not args.knn:
        return {}
    return dict(knn=dict(
        k=args.knn_k,
        temperature=args.knn_temperature,
        train_images=args.knn_train_images,
        test_images=args.knn_test_images))


def find_last_checkpoint(work_dir: str) -> str:
    """The newest checkpoint of a run's MMEngine work dir: the one its
    ``last_checkpoint`` file names (looked for in ``work_dir`` too, in case
    the folder moved), else the ``epoch_*.pth`` of the highest epoch.

    Example:
        >>> import os, tempfile
        >>> folder = tempfile.mkdtemp()
        >>> for name in ('epoch_5.pth', 'epoch_30.pth', 'epoch_10.pth'):
        ...     open(os.path.join(folder, name), 'w').close()
        >>> os.path.basename(find_last_checkpoint(folder))
        'epoch_30.pth'
    """
    marker = osp.join(work_dir, LAST_CHECKPOINT)
    if osp.isfile(marker):
        with open(marker) as f:
            named = f.read().strip()
        for path in (named, osp.join(work_dir, osp.basename(named))):
            if named and osp.isfile(path):
                return path
    epochs = []
    for path in glob.glob(osp.join(work_dir, 'epoch_*.pth')):
        match = re.fullmatch(r'epoch_(\d+)\.pth', osp.basename(path))
        if match:
            epochs.append((int(match.group(1)), path))
    if not epochs:
        raise RuntimeError(
            f'no checkpoint in {work_dir} (no {LAST_CHECKPOINT} file, no '
            'epoch_*.pth): the run must keep default_hooks.checkpoint')
    return max(epochs)[1]


def knn_score(args: Any, run_dir: str, train_dir: str,
              config_path: str) -> Dict[str, Any]:
    """The k-NN top-1 of the run's last checkpoint (see
    :func:`~etpp_mm.evaluation.knn_top1_of_checkpoint`), its config being
    the run's config with the benchmark's ``--cfg-options``, as
    ``tools/train.py`` read it; the checkpoint's path is given relative to
    ``run_dir``."""
    checkpoint = find_last_checkpoint(train_dir)
    cfg = load_config(argparse.Namespace(
        config=config_path, cfg_options=parse_cfg_options(args.cfg_options)))
    result = knn_top1_of_checkpoint(
        cfg, checkpoint, args.knn_k, args.knn_temperature,
        args.knn_train_images, args.knn_test_images)
    result['checkpoint'] = osp.relpath(checkpoint, run_dir)
    return result


def run_scores(args: Any, run_dir: str, train_dir: str, config_path: str
               ) -> Tuple[Dict[str, Any], Optional[Dict[str, Any]]]:
    """A finished run's scores: its last validation record and, with
    ``--knn``, ``knn/top1`` added to it (a recipe without a validation
    loop has no record: the k-NN score alone) and the k-NN details.

    Raises:
        RuntimeError: without ``--knn``, when the run logged no validation;
            with it, when no checkpoint is found.
    """
    if not args.knn:
        return last_val_record(train_dir), None
    try:
        record = last_val_record(train_dir)
    except RuntimeError:
        record = {}  # no validation loop (self-supervised recipes)
    knn = knn_score(args, run_dir, train_dir, config_path)
    record[KNN_METRIC] = knn['top1']
    return record, knn


def scored_epoch(entry: Mapping[str, Any]) -> Tuple[str, Any]:
    """What a cache entry's score was taken from, and at which epoch.

    Example:
        >>> scored_epoch(dict(val=dict(step=4)))
        ('the last validation', 4)
        >>> scored_epoch(dict(val={}, knn=dict(epoch=2)))
        ('the k-NN checkpoint', 2)
    """
    if entry.get('knn') is not None:
        return 'the k-NN checkpoint', entry['knn'].get('epoch')
    return 'the last validation', entry['val'].get('step')


def knn_score_text(args: Any, entries: Sequence[Mapping[str, Any]]) -> str:
    """The report's line on the k-NN score: k, T and the image counts (those
    the runs used, else those asked for).

    Example:
        >>> args = argparse.Namespace(knn_k=20, knn_temperature=0.07,
        ...                           knn_train_images=500,
        ...                           knn_test_images=None)
        >>> knn_score_text(args, [])[:46]
        'weighted k-NN top-1 (`knn/top1`, in %): k = 20'
        >>> '500 reference images' in knn_score_text(args, [])
        True
    """
    def count(key, asked):
        used = sorted({e['knn'][key] for e in entries if e.get('knn')})
        if used:
            return '/'.join(f'{n:,}' for n in used)
        return 'all' if asked is None else f'{asked:,}'

    return (
        f'weighted k-NN top-1 (`{KNN_METRIC}`, in %): k = {args.knn_k}, '
        f'T = {args.knn_temperature:g} (cosine similarity, votes weighted by '
        f'exp(sim / T)), {count("train_images", args.knn_train_images)} '
        'reference images (the first of knn_train_dataset), '
        f'{count("test_images", args.knn_test_images)} test images (the '
        "first of knn_test_dataset); the backbone's frozen features from "
        "each run's last checkpoint, computed after the run, outside its "
        'wall time')


def knn_score_note() -> str:
    """The sentence under the report's table on what the score is."""
    return (f'{KNN_METRIC}: weighted k-NN top-1 of the last checkpoint of '
            'each run on frozen features, in % (settings above).')
