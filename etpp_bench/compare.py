"""The side-by-side benchmark over a :class:`~etpp_bench.campaign.
Campaign`: every (seed, variant) run in run order, then the report and the
plot. ``tools/benchmark.py`` reads the recipe and plans the variants."""
import os
import os.path as osp
import time
from dataclasses import dataclass
from typing import (Any, Callable, Dict, List, Mapping, Optional, Sequence,
                    Tuple)

import torch

from etpp_bench.campaign import Campaign, eta_seconds
from etpp_bench.knn import (knn_score_note, knn_score_text, run_scores,
                            scored_epoch)
from etpp_bench.plot import plot_runs
from etpp_bench.recipe import Recipe
from etpp_bench.report import (format_pareto_table, format_progress,
                               format_report, format_results_table,
                               format_timing_table, header_lines)
from etpp_bench.runs import command_text
from etpp_bench.summary import (RunResult, check_target, result_of, summarize,
                                timings_by_variant)
from etpp_bench.variants import (Variant, run_cfg_options, run_config_text,
                                 run_key, run_order)

RUN_CONFIG = 'run_config.py'
# MMEngine's work dir inside a run folder: MMEngine dumps the merged config
# there under the config's own name, which would overwrite run_config.py.
TRAIN_DIR = 'train'


@dataclass
class BenchmarkRuns:
    """The runs in run order, their results, the failed ones as
    ``(variant, seed, log)``, and the cache entries of the finished ones."""
    order: List[Tuple[int, Variant]]
    results: List[RunResult]
    failed: List[Tuple[str, int, str]]
    entries: List[Dict[str, Any]]


def train_runs(args: Any, campaign: Campaign, recipe: Recipe,
               variants: Sequence[Variant], settings: Mapping[str, Any],
               env: Mapping[str, str], train_run: Callable,
               train_script: str) -> BenchmarkRuns:
    """Every run in run order, taken from the campaign's cache or trained.

    Args:
        args: the benchmark's options (``seeds``, ``metric``, ``threads``,
            ``final_val_only``, ``cfg_options``, ``knn`` and the k-NN
            settings: see :mod:`etpp_bench.knn`).
        campaign (Campaign): the work dir, opened.
        recipe (Recipe): the recipe.
        variants (sequence of Variant): the sides, planned.
        settings (dict): what changes a run's result, for its cache key.
        env (dict): the runs' environment.
        train_run (callable): ``train_run(config_path, run_dir, env,
            extra_args)`` trains one run and returns its
            :class:`~etpp_bench.runs.TrainingProcess`.
        train_script (str): ``tools/train.py``, for ``command.txt``.
    """
    order = run_order(variants, args.seeds)
    keys = [run_key(v, s, settings) for s, v in order]
    results, failed, entries = [], [], []

    def eta(start):
        """Wall time of the runs from ``start`` on still to train."""
        todo = [v for (_, v), k in zip(order[start:], keys[start:])
                if campaign.pending(k)]
        return eta_seconds(todo, results, variants) if todo else None

    for index, ((seed, variant), key) in enumerate(zip(order, keys), 1):

        def say(event, seconds=None, score=None, eta=None, detail=''):
            campaign.say(
                format_progress(index, len(order), event, variant.name, seed,
                                seconds, score, eta, args.metric, detail))

        def train(run_dir):
            options = run_cfg_options(args.cfg_options, variant)
            extra_args = ['--cfg-options', *options] if options else []
            config_path = osp.join(run_dir, RUN_CONFIG)
            with open(config_path, 'w') as f:
                f.write(run_config_text(
                    recipe.path, variant, seed, recipe.imports,
                    recipe.plain_hooks, recipe.visualizer_type,
                    args.final_val_only))
            with open(osp.join(run_dir, 'command.txt'), 'w') as f:
                f.write(command_text(train_script, config_path,
                                     osp.join(run_dir, TRAIN_DIR),
                                     extra_args, args.threads))
            say('start', eta=eta(index - 1))
            load = os.getloadavg()[0] if hasattr(os, 'getloadavg') else None
            proc = train_run(config_path, run_dir, env, extra_args)
            record, knn, problem = None, None, f'exit {proc.returncode}'
            if proc.returncode == 0:
                try:  # the k-NN score (--knn): after the timed process
                    record, knn = run_scores(args, run_dir,
                                             osp.join(run_dir, TRAIN_DIR),
                                             config_path)
                    problem = None
                except (RuntimeError, ValueError, OSError) as err:
                    problem = str(err)
            if problem is not None:
                failed.append((variant.name, seed, proc.output))
                say('FAILED', proc.seconds, None, eta=eta(index),
                    detail=f'({problem}) log: {proc.output}')
                return None
            # Cached before the metric is looked up: a wrong --metric is
            # then fixed by rerunning with the right one, without training.
            entry = dict(variant=variant.name, seed=seed,
                         settings=dict(settings, **variant.identity()),
                         seconds=round(proc.seconds, 2), val=record,
                         load=load, finished=time.strftime('%Y-%m-%d %H:%M'))
            return entry if knn is None else dict(entry, knn=knn)

        entry, cached = campaign.run(key, f'{variant.folder}_s{seed}_{key}',
                                     train)
        if entry is None:
            continue
        result = result_of(entry, args.metric, campaign.work_dir)
        results.append(result)
        entries.append(entry)
        if cached:
            say('cached', result.seconds, result.score,
                detail=result.run_dir)
            continue
        say('done', result.seconds, result.score, eta=eta(index))
        source, epoch = scored_epoch(entry)
        if epoch != variant.real_epochs:
            # The report's epochs come from the plan; say so if the run was
            # scored at another epoch.
            campaign.say(f'  note: {source} was at epoch {epoch}, the plan '
                         f'has {variant.real_epochs} epochs')
    return BenchmarkRuns(order, results, failed, entries)


def write_outputs(args: Any, command: str, recipe: Recipe,
                  variants: Sequence[Variant], full_size: Optional[int],
                  runs: BenchmarkRuns, machine: Mapping[str, Any],
                  env: Mapping[str, str], say: Callable) -> Dict[str, Any]:
    """Print the table and the verdict, write the report and the plot
    (``args.report``, ``args.plot``, by default in ``args.work_dir``)."""
    order, results, failed, entries = (runs.order, runs.results,
                                       runs.failed, runs.entries)
    summaries = summarize(variants, args.seeds, results)
    target = check_target(summaries, recipe.epochs)
    timings = None if full_size is None else timings_by_variant(
        variants, results, full_size, TRAIN_DIR,
        recipe.cfg.train_dataloader.batch_size)
    say()
    say(format_results_table(summaries, args.metric))
    say()
    say(format_pareto_table(summaries, args.metric))
    say()
    say(target.text)
    report = args.report or osp.join(args.work_dir, 'benchmark.md')
    plot = args.plot or osp.join(args.work_dir, 'benchmark.png')
    name = osp.splitext(osp.basename(args.config))[0]
    shortened = any(v.is_shortened for v in variants)
    plot_runs(summaries, plot, args.metric,
              f'{name}: {args.preset} against the recipe'
              + (', full and shortened' if shortened else '') + ', seeds '
              f"{', '.join(map(str, args.seeds))}")
    threads = args.threads or torch.get_num_threads()
    text = format_report(
        f'EfficientTrain++ against its recipe: `{name}`',
        header_lines(args, command, recipe, variants, machine, threads, env,
                     entries,
                     knn_score_text(args, entries) if args.knn else None),
        summaries, order, results, target, args.metric, failed,
        osp.relpath(osp.abspath(plot), osp.dirname(osp.abspath(report))),
        format_timing_table(timings, full_size) if timings else '',
        knn_score_note() if args.knn else None)
    os.makedirs(osp.dirname(osp.abspath(report)), exist_ok=True)
    with open(report, 'w') as f:
        f.write(text)
    return dict(summaries=summaries, target=target, report=report,
                plot=plot)
