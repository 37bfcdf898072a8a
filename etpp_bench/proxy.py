"""The stage-size search's proxies over a :class:`~etpp_bench.campaign.
Campaign`: the hook each proxy trains with, the checks before training, one
proxy per schedule, and the search's summary and snippet.
``tools/search_curriculum.py`` reads the recipe and drives the search."""
import copy
import os
import os.path as osp
import time
from dataclasses import dataclass
from typing import (Any, Callable, Dict, Mapping, Optional, Sequence,
                    Tuple)

from mmengine.config import Config

from etpp_bench.cache import cache_key
from etpp_bench.campaign import Campaign
from etpp_bench.recipe import Recipe
from etpp_bench.runs import plain_number, read_metric
from etpp_mm.attach import CurriculumOptions, attach_curriculum
from etpp_mm.attach.pipeline import find_transforms
from etpp_mm.curriculum import (SearchResult, SearchSpace, build_plan,
                                format_plan, format_snippet, format_trials,
                                max_runs, monotone_schedules, schedule_name,
                                schedule_stages, schedule_with, stage_rows)


@dataclass
class ProxySearch:
    """The recipe and what the search sets in its hook.

    Args:
        recipe (Recipe): the recipe searched.
        hook_args (dict): arguments of its own hook that every proxy keeps.
        size_divisor (int): stage sizes are multiples of it.
        target_budget (float): the budget written into the snippet.
        full_size (int): the recipe's square train size.
    """
    recipe: Recipe
    hook_args: dict
    size_divisor: int
    target_budget: float
    full_size: int = 0

    def hook_cfg(self, schedule: Sequence[int], budget: float,
                 magnitudes: Optional[Sequence[float]]) -> Dict[str, Any]:
        """The hook of a proxy (or of the snippet) running ``schedule``."""
        return dict(
            type='EfficientTrainHook',
            mode='etpp',
            stages=stage_rows(schedule, magnitudes),
            budget=budget,
            size_divisor=self.size_divisor,
            **self.hook_args)


def check_schedules(search: ProxySearch, space: SearchSpace, budget: float,
                    magnitudes: Optional[Sequence[float]],
                    names: Mapping[str, str]) -> None:
    """Resolve the hook of every stage-0 schedule on the real train
    pipeline: whatever the hook would refuse fails here, before training."""
    if magnitudes is not None and not find_transforms(
            search.recipe.train_pipeline(),
            lambda t: type(t).__name__ == 'RandAugment'):
        raise ValueError(f"{names['magnitudes']} schedules RandAugment, "
                         'which is not in the train pipeline: remove '
                         f"{names['magnitudes']}")
    for size in space.candidates:
        schedule = schedule_with(space, [], size)
        try:
            options = CurriculumOptions.from_hook_cfg(
                search.hook_cfg(schedule, budget, magnitudes))
            attach_curriculum([search.recipe.train_pipeline()],
                              search.recipe.epochs, options)
        except (TypeError, ValueError) as err:
            raise ValueError(f'the proxy schedule {schedule_name(schedule)} '
                             f"at {names['budget']} {budget} cannot run: {err}") \
                from err


def proxy_compute_range(search, space, budget, magnitudes):
    """Least and most compute a proxy can spend: stages run whole epochs
    (the hook truncates), so a small budget is met only roughly."""
    spent = [
        build_plan(
            schedule_stages(schedule, magnitudes), 'etpp',
            search.recipe.epochs, (search.full_size, ) * 2,
            budget).equivalent_epochs
        for schedule in monotone_schedules(space)
    ]
    return min(spent), max(spent)


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


def write_snippet(out, config, search, schedule, budget, magnitudes,
                  comment):
    """A config inheriting the recipe (by a path relative to ``out``) with
    the schedule's EfficientTrainHook."""
    out_dir = osp.dirname(osp.abspath(out))
    base = osp.relpath(osp.abspath(config), out_dir)
    if not base.startswith('.'):
        base = './' + base
    snippet = format_snippet(schedule, budget, base, search.size_divisor,
                             magnitudes, search.hook_args, comment)
    os.makedirs(out_dir, exist_ok=True)
    with open(out, 'w') as f:
        f.write(snippet + '\n')


def proxy_evaluator(campaign: Campaign, search: ProxySearch,
                    template: Config, settings: Mapping[str, Any],
                    budget: float, magnitudes: Optional[Sequence[float]],
                    train: Callable[[str, str], None],
                    metric: str) -> Callable[[Sequence[int]], float]:
    """The evaluator of :func:`~etpp_mm.curriculum.greedy_search`: a
    schedule's held-out ``metric``, from the campaign's cache or by
    training ``template`` with the schedule's hook; ``train(config_path,
    run_dir)`` trains one proxy and raises if it fails. What each call
    found is in the evaluator's ``details``, by schedule."""
    details = {}

    def evaluate(schedule):
        key = cache_key(schedule, settings)
        plan = build_plan(
            schedule_stages(schedule, magnitudes), 'etpp',
            search.recipe.epochs, (search.full_size, ) * 2, budget)

        def train_proxy(run_dir):
            proxy = copy.deepcopy(template)
            proxy.work_dir = run_dir
            proxy.custom_hooks = list(search.recipe.other_hooks) + [
                search.hook_cfg(schedule, budget, magnitudes)
            ]
            config_path = osp.join(run_dir, 'proxy_config.py')
            proxy.dump(config_path)
            start = time.time()
            train(config_path, run_dir)
            return dict(
                schedule=list(schedule),
                settings=settings,
                score=read_metric(run_dir, metric),
                seconds=round(time.time() - start, 1),
                epochs='+'.join(str(stage.epochs) for stage in plan.stages),
                equivalent_epochs=round(plan.equivalent_epochs, 3))

        entry, cached = campaign.run(key, f'{schedule_name(schedule)}_{key}',
                                     train_proxy)
        details[schedule] = dict(entry, source='cached' if cached else 'new')
        return entry['score']

    evaluate.details = details
    return evaluate


def progress_printer(say: Callable[[str], None],
                     details: Mapping[Sequence[int], Mapping[str, Any]],
                     num_stages: int, metric: str) -> Callable:
    """The ``report`` of :func:`~etpp_mm.curriculum.greedy_search`: one
    line per proxy, with what ``details`` (the evaluator's) says of it."""

    def report(trial, best, total):
        entry = details[trial.schedule]
        how = 'cached' if entry['source'] == 'cached' else \
            f"{entry['seconds']:.0f} s"
        say(f'[run {trial.index}/{total}] stage {trial.stage + 1}/'
            f'{num_stages - 1}  {schedule_name(trial.schedule)}  '
            f'{metric} {trial.score:.2f}  ({how}, epochs '
            f"{entry['epochs']})  best so far {best.score:.2f} "
            f'({schedule_name(best.schedule)})')

    return report


def write_result(args: Any, say: Callable[[str], None],
                 search: ProxySearch, space: SearchSpace,
                 result: SearchResult, reference: Optional[float],
                 proxy: Tuple[str, float, int],
                 magnitudes: Optional[Sequence[float]]) -> str:
    """Write the schedule found as a config (``args.out``, by default in
    ``args.work_dir``) whose header says how it was found, print its plan
    at the target budget and return the file's path.

    Args:
        args: the search's options (``config``, ``out``, ``work_dir``,
            ``metric``, ``seed``, ``cfg_options``).
        proxy (tuple): the proxy's images (text), budget and batch size.
    """
    proxy_text, budget, batch = proxy
    recipe = search.recipe
    out = args.out or osp.join(args.work_dir, 'searched_stages.py')
    comment = [
        'EfficientTrain++ stage sizes found by tools/search_curriculum.py '
        f'for {args.config}: {space.num_stages} stages of equal compute, '
        f"candidate sizes {', '.join(map(str, space.candidates))} px. "
        f'Proxy: {proxy_text}, {budget} equivalent epochs, batch {batch}, '
        f'seed {args.seed}; held-out {args.metric} {result.score:.2f}' +
        ('' if reference is None else
         f' (all stages at {space.full_size} px: {reference:.2f})') + '.'
    ]
    if args.cfg_options:
        comment.append('Searched with --cfg-options ' + ' '.join(
            f'{k}={v}' for k, v in args.cfg_options.items()) + '.')
    comment.append(
        'Train this file as it is, or copy custom_hooks into a config that '
        'inherits the recipe. budget: equivalent full-size epochs of the '
        f'real training (the recipe runs {recipe.epochs}).')
    target_budget = plain_number(search.target_budget)
    write_snippet(out, args.config, search, result.schedule, target_budget,
                  magnitudes, comment)
    plan = build_plan(
        schedule_stages(result.schedule, magnitudes), 'etpp', recipe.epochs,
        (search.full_size, ) * 2, target_budget, search.size_divisor)
    say(f'\nthe found schedule at --target-budget {target_budget}:')
    say(format_plan(plan))
    say(f'snippet written to {out}')
    return out


def describe_search(say: Callable[[str], None], args: Any,
                    search: ProxySearch, space: SearchSpace,
                    magnitudes: Optional[Sequence[float]], budget: float,
                    available: int, batch: int) -> str:
    """Print what the search will do (``args``: the search's options);
    return how the proxies' images are described."""
    say(f'recipe: {args.config} ({search.full_size} px, {search.recipe.epochs} '
        'epochs)')
    say(f'search: {space.num_stages} stages of equal compute, candidate '
        f"sizes {', '.join(map(str, space.candidates))}, size divisor "
        f'{search.size_divisor}' +
        ('' if magnitudes is None else f', RandAugment magnitudes '
         f"{', '.join(map(str, magnitudes))}"))
    proxy_text = (f'{args.train_images} train + {args.heldout_images} '
                  'held-out images of the train split')
    say(f'proxy: {proxy_text} ({available}), budget {budget} equivalent '
        f'epochs, batch {batch}, seed {args.seed}, metric {args.metric}')
    low, high = proxy_compute_range(search, space, budget, magnitudes)
    say(f'each proxy spends {low:.2f}-{high:.2f} equivalent epochs (stages '
        'run whole epochs)')
    if low < 0.9 * budget:
        say('note: that is coarse; a larger --budget with fewer '
            '--train-images costs the same and splits finer')
    say(f'at most {max_runs(space)} proxy runs; work dir {args.work_dir}')
    return proxy_text


def proxy_settings(args: Any, search: ProxySearch, budget: float,
                   magnitudes: Optional[Sequence[float]]) -> Dict[str, Any]:
    """Every proxy setting that changes a result, for the cache keys."""
    return dict(
        recipe=search.recipe.fingerprint(), train_images=args.train_images,
        heldout_images=args.heldout_images, budget=budget, seed=args.seed,
        batch_size=args.batch_size, magnitudes=magnitudes,
        metric=args.metric, hook_args=search.hook_args)
