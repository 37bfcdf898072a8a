"""A side-by-side benchmark of an EfficientTrain++ curriculum against its
recipe: which runs to train and in which order, how to key them in a cache,
and how to summarise, judge, report and plot what they measured.

``tools/benchmark.py`` trains the runs (one ``tools/train.py`` process per
run, see :mod:`etpp_mm.bench.runs`); everything here is pure except
:func:`machine_info` (reads the machine) and :func:`plot_runs` (writes a
PNG). A *variant* is the plain recipe (the baseline) or the recipe with an
``EfficientTrainHook`` at one budget; every variant runs once per seed.
"""
import ast
import math
import os
import pprint
import re
import statistics
import subprocess
from dataclasses import dataclass
from typing import (Any, Dict, List, Mapping, Optional, Sequence, Tuple,
                    Union)

from etpp_mm.bench.runs import plain_number
from etpp_mm.curriculum import PRESETS, cache_key, check_budget, preset_stages

BASELINE = 'baseline'
# The target a curriculum should meet at 2/3 of the recipe's compute: top-1
# at most 0.3 points below the baseline's mean, 1.4x faster in wall time.
TARGET_FRACTION = 2 / 3
TARGET_MAX_DROP = 0.3
TARGET_MIN_SPEEDUP = 1.4
# Budgets are floats from the command line: 2/3 of 15 epochs is given as
# 10, 2/3 of 10 as 6.666667.
_BUDGET_TOLERANCE = 1e-5
# Comparisons with the target's thresholds forgive float noise only.
_EPSILON = 1e-9

Number = Union[int, float]


@dataclass(frozen=True)
class Variant:
    """One side of the comparison.

    Parameters
    ----------
    name : str
        ``'baseline'`` or ``'<preset> b<budget>'``.
    budget : float, optional
        Equivalent full-size epochs of the curriculum; ``None`` for the
        baseline (the plain recipe).
    preset : str, optional
        The ``EfficientTrainHook`` preset; ``None`` for the baseline.
    size_divisor : int
        The hook's ``size_divisor``.
    real_epochs : int, optional
        Epochs the run trains (the recipe's, or the plan's).
    theoretical_speedup : float
        Recipe compute over the variant's, counted in pixels (1 for the
        baseline).

    Examples
    --------
    >>> Variant('etpp b7.5', 7.5, 'etpp', 4).folder
    'etpp-b7.5'
    >>> Variant('etpp b10', 10, 'etpp', 4).hook_cfg()['budget']
    10
    """
    name: str
    budget: Optional[Number] = None
    preset: Optional[str] = None
    size_divisor: int = 1
    real_epochs: Optional[int] = None
    theoretical_speedup: float = 1.0

    @property
    def is_baseline(self) -> bool:
        return self.budget is None

    @property
    def folder(self) -> str:
        """The variant's part of a run folder's name."""
        return self.name.replace(' ', '-')

    def hook_cfg(self) -> Dict[str, Any]:
        """The ``EfficientTrainHook`` config of a curriculum variant."""
        if self.is_baseline:
            raise ValueError('the baseline trains the plain recipe: no hook')
        return dict(
            type='EfficientTrainHook',
            preset=self.preset,
            budget=self.budget,
            size_divisor=self.size_divisor)

    def identity(self) -> Dict[str, Any]:
        """What makes the variant's runs differ from the baseline's (for
        cache keys): nothing for the baseline, so changing the preset or
        the size divisor keeps its cached runs."""
        if self.is_baseline:
            return dict(variant=BASELINE)
        return dict(
            variant=self.name,
            preset=self.preset,
            budget=self.budget,
            size_divisor=self.size_divisor)


def make_variants(budgets: Sequence[Number], preset: str,
                  size_divisor: int = 1) -> List[Variant]:
    """The baseline followed by one curriculum variant per budget, in the
    order of ``budgets`` (epochs and speed-ups are filled in later from the
    plans).

    Examples
    --------
    >>> [v.name for v in make_variants([10.0, 7.5], 'etpp', 4)]
    ['baseline', 'etpp b10', 'etpp b7.5']
    """
    variants = [Variant(BASELINE)]
    for budget in budgets:
        budget = plain_number(budget)
        variants.append(
            Variant(f'{preset} b{budget}', budget, preset, size_divisor))
    return variants


def _budgeted_presets() -> List[str]:
    return [p for p in PRESETS if preset_stages(p, (224, 224))[0] == 'etpp']


def check_benchmark_input(budgets: Sequence[Number],
                          seeds: Sequence[int],
                          preset: str,
                          size_divisor: int = 1,
                          threads: Optional[int] = None) -> None:
    """Refuse, before any training, what the benchmark cannot run.

    Raises
    ------
    ValueError
        Naming the value and the command-line option to change.

    Examples
    --------
    >>> check_benchmark_input([10, 7.5], [0, 1], 'etpp', 4)
    >>> check_benchmark_input([10, 0], [0], 'etpp')
    Traceback (most recent call last):
    ...
    ValueError: --budgets must be a positive number of equivalent epochs, got 0
    >>> check_benchmark_input([10], [], 'etpp')
    Traceback (most recent call last):
    ...
    ValueError: --seeds is empty: give at least one seed, e.g. --seeds 0 1
    """
    if not budgets:
        raise ValueError('--budgets is empty: give at least one budget in '
                         'equivalent full-size epochs, e.g. --budgets 10')
    for budget in budgets:
        check_budget(budget, key='--budgets')
    _refuse_repeats(budgets, '--budgets', 'budget')
    if not seeds:
        raise ValueError(
            '--seeds is empty: give at least one seed, e.g. --seeds 0 1')
    for seed in seeds:
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(
                f'--seeds: {seed!r} is not a non-negative int seed')
    _refuse_repeats(seeds, '--seeds', 'seed')
    if preset not in PRESETS:
        raise ValueError(f'unknown --preset {preset!r}: choose one of '
                         f"{', '.join(_budgeted_presets())}")
    if preset not in _budgeted_presets():
        raise ValueError(
            f"--preset {preset!r} splits the recipe's epochs and takes no "
            'budget, and the benchmark compares budgets: choose one of '
            f"{', '.join(_budgeted_presets())}")
    if isinstance(size_divisor, bool) or not isinstance(size_divisor, int) \
            or size_divisor <= 0:
        raise ValueError(
            f'--size-divisor must be a positive int, got {size_divisor!r}')
    if threads is not None and (isinstance(threads, bool)
                                or not isinstance(threads, int)
                                or threads < 1):
        raise ValueError(f'--threads must be an int >= 1, got {threads!r}')


def _refuse_repeats(values: Sequence[Any], option: str, what: str) -> None:
    seen = set()
    for value in values:
        if value in seen:
            # Two runs with the same settings measure nothing new, and the
            # second would only read the first one's cache entry.
            raise ValueError(f'{what} {value!r} appears twice in {option}')
        seen.add(value)


def run_order(variants: Sequence[Variant],
              seeds: Sequence[int]) -> List[Tuple[int, Variant]]:
    """Every ``(seed, variant)`` run, seed-major with the variants
    interleaved, so that drift of the machine (other jobs, heat) during a
    long benchmark falls on all variants alike instead of on whichever
    variant runs last.

    Examples
    --------
    >>> order = run_order(make_variants([10, 7.5], 'etpp'), [0, 1])
    >>> [f'{v.name} s{s}' for s, v in order][:4]
    ['baseline s0', 'etpp b10 s0', 'etpp b7.5 s0', 'baseline s1']
    """
    return [(seed, variant) for seed in seeds for variant in variants]


def run_key(variant: Variant, seed: int, settings: Mapping[str, Any]) -> str:
    """The cache key of one run: the variant, the seed and every setting
    that changes its result or its time (recipe, options, environment,
    machine).

    Examples
    --------
    >>> base, b10 = make_variants([10], 'etpp')
    >>> run_key(base, 0, {'threads': 1}) == run_key(base, 1, {'threads': 1})
    False
    >>> len(run_key(b10, 0, {'threads': 1}))
    16
    """
    # The search's key of (schedule, settings): a benchmark run has no
    # schedule of its own; its variant and seed are settings.
    return cache_key((), dict(settings, seed=seed, **variant.identity()))


@dataclass(frozen=True)
class RunResult:
    """What one finished run measured.

    Parameters
    ----------
    variant : str
        The variant's name.
    seed : int
        ``randomness.seed`` of the run.
    seconds : float
        Wall time of the training process, start to end.
    score : float
        The metric of its last validation (top-1 in %).
    run_dir : str
        Its folder, for the report.
    """
    variant: str
    seed: int
    seconds: float
    score: float
    run_dir: str = ''


@dataclass(frozen=True)
class VariantSummary:
    """A variant's runs over the seeds, compared with the baseline.

    ``score_diff`` is the variant's mean score minus the baseline's mean;
    ``measured_speedup`` the baseline's mean wall time over the variant's
    (a ratio of means). Both are ``None`` while a side has no run.
    """
    variant: Variant
    seeds: Tuple[int, ...]
    scores: Tuple[float, ...]
    seconds: Tuple[float, ...]
    expected_runs: int
    score_diff: Optional[float] = None
    measured_speedup: Optional[float] = None

    @property
    def complete(self) -> bool:
        return len(self.seeds) == self.expected_runs

    @property
    def score_mean(self) -> Optional[float]:
        return statistics.fmean(self.scores) if self.scores else None

    @property
    def score_min(self) -> Optional[float]:
        return min(self.scores) if self.scores else None

    @property
    def score_max(self) -> Optional[float]:
        return max(self.scores) if self.scores else None

    @property
    def score_std(self) -> Optional[float]:
        """Sample standard deviation over the seeds (``None`` below 2)."""
        return statistics.stdev(self.scores) if len(self.scores) > 1 \
            else None

    @property
    def seconds_mean(self) -> Optional[float]:
        return statistics.fmean(self.seconds) if self.seconds else None


def summarize(variants: Sequence[Variant], seeds: Sequence[int],
              results: Sequence[RunResult]) -> List[VariantSummary]:
    """Per variant (in order): its runs in the order of ``seeds``, and its
    score difference and measured speed-up against the baseline.

    The speed-up is the ratio of mean wall times, not the mean of per-seed
    ratios: the question is how long a variant takes on average, and one
    slow run weighs on a ratio of means by its seconds, as it did on the
    machine.

    Parameters
    ----------
    variants : sequence of Variant
        The baseline and the curricula, in report order.
    seeds : sequence of int
        The seeds asked for; a variant with fewer finished runs is
        summarised over those and marked incomplete.
    results : sequence of RunResult
        Finished runs, in any order; others' variants and seeds are
        ignored.

    Returns
    -------
    list of VariantSummary

    Examples
    --------
    >>> variants = make_variants([10], 'etpp')
    >>> results = [RunResult('baseline', 0, 300, 92.0),
    ...            RunResult('baseline', 1, 100, 92.4),
    ...            RunResult('etpp b10', 0, 100, 91.9),
    ...            RunResult('etpp b10', 1, 100, 92.1)]
    >>> base, b10 = summarize(variants, [0, 1], results)
    >>> round(base.score_mean, 2), base.measured_speedup
    (92.2, 1.0)
    >>> round(b10.score_diff, 2), b10.measured_speedup
    (-0.2, 2.0)
    """
    names = {v.name for v in variants}
    by_run = {}
    for result in results:
        if result.variant in names and result.seed in seeds:
            by_run[(result.variant, result.seed)] = result
    plain = []
    for variant in variants:
        done = [by_run[(variant.name, s)] for s in seeds
                if (variant.name, s) in by_run]
        plain.append(
            VariantSummary(variant, tuple(r.seed for r in done),
                           tuple(r.score for r in done),
                           tuple(r.seconds for r in done), len(seeds)))
    baseline = next((s for s in plain if s.variant.is_baseline), None)
    summaries = []
    for summary in plain:
        diff = speedup = None
        if baseline is not None and baseline.scores and summary.scores:
            diff = summary.score_mean - baseline.score_mean
            speedup = baseline.seconds_mean / summary.seconds_mean
        summaries.append(
            VariantSummary(summary.variant, summary.seeds, summary.scores,
                           summary.seconds, summary.expected_runs, diff,
                           speedup))
    return summaries


@dataclass(frozen=True)
class TargetCheck:
    """The verdict on the target and the sentence that explains it.

    ``met`` is ``None`` when the runs cannot tell (no budget at the target
    fraction, or runs missing).
    """
    met: Optional[bool]
    text: str


def check_target(summaries: Sequence[VariantSummary],
                 recipe_epochs: Number,
                 fraction: float = TARGET_FRACTION,
                 max_drop: float = TARGET_MAX_DROP,
                 min_speedup: float = TARGET_MIN_SPEEDUP) -> TargetCheck:
    """Judge the target from the measured numbers: at the budget of
    ``fraction`` of the recipe's epochs, the mean score at most ``max_drop``
    points below the baseline's mean, and a measured speed-up of at least
    ``min_speedup``. A score above the baseline's always passes.

    Parameters
    ----------
    summaries : sequence of VariantSummary
        From :func:`summarize`.
    recipe_epochs : int
        The recipe's ``train_cfg.max_epochs``.
    fraction, max_drop, min_speedup : float
        The target: budget as a fraction of the recipe's epochs, allowed
        top-1 drop in points, least measured speed-up.

    Returns
    -------
    TargetCheck
        ``met`` is ``None`` without a budget at ``fraction`` or with runs
        missing on either side.

    Examples
    --------
    >>> variants = make_variants([10], 'etpp')
    >>> results = [RunResult('baseline', 0, 150, 92.5),
    ...            RunResult('etpp b10', 0, 100, 92.3)]
    >>> check = check_target(summarize(variants, [0], results), 15)
    >>> check.met, check.text.split(':')[0]
    (True, 'Met')
    >>> results[1] = RunResult('etpp b10', 0, 100, 92.1)
    >>> check_target(summarize(variants, [0], results), 15).met
    False
    """
    goal = (f'at budget {_format_number(fraction * recipe_epochs)} '
            f"({_fraction_text(fraction)} of the recipe's "
            f'{_format_number(recipe_epochs)} epochs), top-1 at most '
            f'{max_drop:g} points below the baseline mean and a measured '
            f'speed-up of at least {min_speedup:g}x')
    target_budget = fraction * recipe_epochs
    baseline = next((s for s in summaries if s.variant.is_baseline), None)
    candidate = next(
        (s for s in summaries if not s.variant.is_baseline and abs(
            s.variant.budget - target_budget) <= _BUDGET_TOLERANCE *
         max(1.0, target_budget)), None)
    if candidate is None:
        return TargetCheck(
            None, f'Not evaluated: no budget in this benchmark is '
            f'{_format_number(target_budget)} (target: {goal}).')
    missing = [
        s for s in (baseline, candidate) if s is None or not s.complete
    ]
    if missing:
        sides = ', '.join(
            f'{s.variant.name} ({len(s.seeds)} of {s.expected_runs} seeds)'
            for s in missing if s is not None)
        return TargetCheck(
            None, f'Not evaluated: runs missing for {sides} (target: '
            f'{goal}).')
    diff, speedup = candidate.score_diff, candidate.measured_speedup
    accuracy_ok = diff >= -max_drop - _EPSILON
    speed_ok = speedup >= min_speedup - _EPSILON
    # Three decimals: a value just past a threshold must not print as
    # the threshold itself.
    facts = (f'{candidate.variant.name}: top-1 '
             f'{candidate.score_mean:.2f} against the baseline\'s '
             f'{baseline.score_mean:.2f} ({diff:+.3f} points, '
             + ('within' if accuracy_ok else 'more than') +
             f' {max_drop:g} below), measured speed-up {speedup:.3f}x '
             f"({'>=' if speed_ok else '<'} {min_speedup:g}x)")
    met = accuracy_ok and speed_ok
    return TargetCheck(
        met, f"{'Met' if met else 'Not met'}: {facts}, over "
        f'{len(candidate.seeds)} seed(s) (target: {goal}).')


def _fraction_text(fraction: float) -> str:
    for denominator in range(1, 13):
        numerator = round(fraction * denominator)
        if numerator and abs(numerator / denominator - fraction) < 1e-9:
            return f'{numerator}/{denominator}'
    return f'{fraction:g}'


def _format_number(value: Number) -> str:
    return f'{value:.4g}' if not float(value).is_integer() \
        else str(int(value))


def eta_seconds(pending: Sequence[Variant], results: Sequence[RunResult],
                variants: Sequence[Variant]) -> Optional[float]:
    """Estimated wall time of the ``pending`` runs from the finished ones.

    A variant with finished runs is estimated by their mean. One without
    is estimated from all finished runs, each scaled to a baseline run by
    its theoretical speed-up, divided by the variant's theoretical
    speed-up. ``None`` until a run has finished.

    Parameters
    ----------
    pending : sequence of Variant
        The variant of each run still to train.
    results : sequence of RunResult
        Finished runs (cached ones included: same machine, same settings).
    variants : sequence of Variant
        All variants, for the theoretical speed-ups of finished runs.

    Examples
    --------
    >>> base, b10 = make_variants([10], 'etpp')[0], Variant(
    ...     'etpp b10', 10, 'etpp', theoretical_speedup=1.5)
    >>> done = [RunResult('baseline', 0, 300, 92.0)]
    >>> eta_seconds([b10, base], done, [base, b10])
    500.0
    >>> eta_seconds([b10], [], [base, b10]) is None
    True
    """
    if not results:
        return None
    speedups = {v.name: v.theoretical_speedup for v in variants}
    own: Dict[str, List[float]] = {}
    for result in results:
        own.setdefault(result.variant, []).append(result.seconds)
    baseline_like = statistics.fmean(
        r.seconds * speedups.get(r.variant, 1.0) for r in results)
    total = 0.0
    for variant in pending:
        if variant.name in own:
            total += statistics.fmean(own[variant.name])
        else:
            total += baseline_like / variant.theoretical_speedup
    return total


def format_duration(seconds: Optional[float]) -> str:
    """Seconds for a reader: seconds below 2 minutes, then minutes, then
    hours.

    Examples
    --------
    >>> format_duration(42.26), format_duration(1500), format_duration(9000)
    ('42.3 s', '25.0 min', '2.50 h')
    """
    if seconds is None or not math.isfinite(seconds):
        return '?'
    if seconds < 120:
        return f'{seconds:.1f} s'
    if seconds < 2 * 3600:
        return f'{seconds / 60:.1f} min'
    return f'{seconds / 3600:.2f} h'


def format_progress(index: int,
                    total: int,
                    event: str,
                    variant: str,
                    seed: int,
                    seconds: Optional[float] = None,
                    score: Optional[float] = None,
                    eta: Optional[float] = None,
                    metric: str = 'top-1',
                    detail: str = '') -> str:
    """One progress line: ``[run k/N] event variant seed`` with what is
    known.

    Examples
    --------
    >>> print(format_progress(2, 6, 'done', 'etpp b10', 0, 123.4, 91.234,
    ...                       600))  # doctest: +NORMALIZE_WHITESPACE
    [run 2/6] done    etpp b10  seed 0  wall 2.1 min  top-1 91.23
    ETA 10.0 min
    """
    parts = [f'[run {index}/{total}] {event:<7} {variant}', f'seed {seed}']
    if seconds is not None:
        parts.append(f'wall {format_duration(seconds)}')
    if score is not None:
        parts.append(f'{metric} {score:.2f}')
    if eta is not None:
        parts.append(f'ETA {format_duration(eta)}')
    if detail:
        parts.append(detail)
    return '  '.join(parts)


def _cell(value: Optional[float], spec: str, missing: str = 'n/a') -> str:
    return missing if value is None else format(value, spec)


def format_results_table(summaries: Sequence[VariantSummary],
                         metric: str = 'top-1') -> str:
    """The Markdown table of the variants, one row each.

    Examples
    --------
    >>> variants = make_variants([10], 'etpp')
    >>> results = [RunResult('baseline', 0, 150, 92.5),
    ...            RunResult('etpp b10', 0, 100, 92.3)]
    >>> print(format_results_table(summarize(variants, [0], results))
    ...       .splitlines()[-1])  # doctest: +NORMALIZE_WHITESPACE
    | etpp b10 | 10 | ? | 92.30 | 92.30-92.30 | - | s0 92.30 | -0.20 |
      100.0 s | 1.50x | 1.00x |
    """
    lines = [
        f'| variant | budget | real epochs | {metric} mean | {metric} '
        f'min-max | {metric} std | per seed | {metric} vs baseline mean | '
        'wall time mean | measured speed-up | theoretical speed-up |',
        '|---|---|---|---|---|---|---|---|---|---|---|',
    ]
    for s in summaries:
        variant = s.variant
        budget = 'recipe' if variant.is_baseline else \
            _format_number(variant.budget)
        epochs = '?' if variant.real_epochs is None else \
            str(variant.real_epochs)
        spread = 'n/a' if not s.scores else \
            f'{s.score_min:.2f}-{s.score_max:.2f}'
        per_seed = ', '.join(f's{seed} {score:.2f}'
                             for seed, score in zip(s.seeds, s.scores)) \
            or 'n/a'
        if not s.complete:
            per_seed += f' ({len(s.seeds)} of {s.expected_runs} seeds)'
        diff = 'reference' if variant.is_baseline and s.scores else \
            _cell(s.score_diff, '+.2f')
        lines.append(
            f'| {variant.name} | {budget} | {epochs} | '
            f"{_cell(s.score_mean, '.2f')} | {spread} | "
            f"{_cell(s.score_std, '.2f', '-')} | {per_seed} | {diff} | "
            f"{'n/a' if not s.seconds else format_duration(s.seconds_mean)} | "

            f"{_cell(s.measured_speedup, '.2f')}"
            f"{'' if s.measured_speedup is None else 'x'} | "
            f'{variant.theoretical_speedup:.2f}x |')
    return '\n'.join(lines)


@dataclass(frozen=True)
class SizeTiming:
    """Mean logged time per training iteration at one input size.

    ``windows`` is the number of logged records averaged: MMEngine's
    ``time`` and ``data_time`` are each a mean over the logger's window of
    iterations.
    """
    size: int
    windows: int
    seconds: float
    data_seconds: float

    @property
    def step_seconds(self) -> float:
        """Time of the iteration outside data loading (the model step)."""
        return self.seconds - self.data_seconds


def iteration_times_by_size(records: Sequence[Mapping[str, Any]],
                            full_size: int) -> List[SizeTiming]:
    """Mean ``time`` and ``data_time`` of a run's training records per input
    size, smallest first.

    Training records are those with ``'iter'``; their size is the hook's
    ``curriculum/size`` (the plain recipe logs none: ``full_size``).

    Examples
    --------
    >>> records = [dict(iter=100, time=0.1, data_time=0.05,
    ...                 **{'curriculum/size': 12}),
    ...            dict(iter=200, time=0.2, data_time=0.04,
    ...                 **{'curriculum/size': 28}),
    ...            dict(step=2, time=0.3, data_time=0.0)]  # a validation
    >>> [(t.size, t.windows, round(t.step_seconds, 2))
    ...  for t in iteration_times_by_size(records, 28)]
    [(12, 1, 0.05), (28, 1, 0.16)]
    """
    grouped: Dict[int, List[Tuple[float, float]]] = {}
    for record in records:
        if 'iter' not in record or 'time' not in record:
            continue
        size = int(record.get('curriculum/size', full_size))
        grouped.setdefault(size, []).append(
            (float(record['time']), float(record.get('data_time', 0.0))))
    return [
        SizeTiming(size, len(values),
                   statistics.fmean(v[0] for v in values),
                   statistics.fmean(v[1] for v in values))
        for size, values in sorted(grouped.items())
    ]


def format_timing_table(timings: Sequence[Tuple[str, Sequence[SizeTiming]]],
                        full_size: int) -> str:
    """The Markdown table of seconds per iteration by variant and size, with
    the model step's cost and the pixels relative to the full size.

    The step at a reduced size is compared with the variant's own step at
    the full size: on hardware where the step is not bound by compute at
    small sizes, it costs more than its share of pixels.

    Examples
    --------
    >>> t = [SizeTiming(14, 3, 0.075, 0.05), SizeTiming(28, 3, 0.15, 0.05)]
    >>> print(format_timing_table([('etpp b10', t)], 28).splitlines()[2])
    | etpp b10 | 14 | 3 | 0.075 | 0.050 | 0.025 | 0.25x | 0.25x |
    """
    lines = [
        '| variant | input size | logged windows | s/iteration | data '
        'loading s/iteration | model step s/iteration | step vs full size | '
        'pixels vs full size |',
        '|---|---|---|---|---|---|---|---|',
    ]
    for name, per_size in timings:
        full = [t for t in per_size if t.size == full_size]
        full_step = full[0].step_seconds if full else None
        for t in per_size:
            ratio = 'n/a' if not full_step else \
                f'{t.step_seconds / full_step:.2f}x'
            lines.append(
                f'| {name} | {t.size} | {t.windows} | {t.seconds:.3f} | '
                f'{t.data_seconds:.3f} | {t.step_seconds:.3f} | {ratio} | '
                f'{(t.size / full_size) ** 2:.2f}x |')
    return '\n'.join(lines)


def format_runs_table(order: Sequence[Tuple[int, Variant]],
                      results: Sequence[RunResult],
                      metric: str = 'top-1') -> str:
    """The Markdown table of every run in run order (missing runs say so).

    Examples
    --------
    >>> order = run_order(make_variants([10], 'etpp'), [0])
    >>> print(format_runs_table(order, [RunResult('baseline', 0, 90, 92.5,
    ...                                           'runs/baseline_s0')]))
    | run | seed | variant | wall time | top-1 | folder |
    |---|---|---|---|---|---|
    | 1 | 0 | baseline | 90.0 s | 92.50 | runs/baseline_s0 |
    | 2 | 0 | etpp b10 | - | - | not finished |
    """
    found = {(r.variant, r.seed): r for r in results}
    lines = [
        f'| run | seed | variant | wall time | {metric} | folder |',
        '|---|---|---|---|---|---|',
    ]
    for index, (seed, variant) in enumerate(order, 1):
        result = found.get((variant.name, seed))
        if result is None:
            lines.append(f'| {index} | {seed} | {variant.name} | - | - | '
                         'not finished |')
        else:
            lines.append(
                f'| {index} | {seed} | {variant.name} | '
                f'{format_duration(result.seconds)} | {result.score:.2f} | '
                f'{result.run_dir} |')
    return '\n'.join(lines)


def format_report(title: str,
                  header: Sequence[Tuple[str, str]],
                  summaries: Sequence[VariantSummary],
                  order: Sequence[Tuple[int, Variant]],
                  results: Sequence[RunResult],
                  target: TargetCheck,
                  metric: str = 'top-1',
                  failed: Sequence[Tuple[str, int, str]] = (),
                  plot: Optional[str] = None,
                  timing: str = '') -> str:
    """The Markdown report: the settings, the table of variants, the
    verdict on the target, every run, the failed runs and the plot.

    Parameters
    ----------
    title : str
        The first heading.
    header : sequence of (str, str)
        Labelled lines of settings (command, date, machine...).
    failed : sequence of (str, int, str)
        ``(variant, seed, log file)`` of each run that failed.
    plot : str, optional
        The plot's path relative to the report.
    timing : str
        A :func:`format_timing_table` table, or ``''`` for none.

    Examples
    --------
    >>> variants = make_variants([10], 'etpp')
    >>> results = [RunResult('baseline', 0, 150, 92.5)]
    >>> summaries = summarize(variants, [0], results)
    >>> text = format_report('Benchmark', [('Command', '`python x`')],
    ...     summaries, run_order(variants, [0]), results,
    ...     check_target(summaries, 15),
    ...     failed=[('etpp b10', 0, 'runs/x/train_output.log')])
    >>> print(text.splitlines()[2])
    - **Command**: `python x`
    >>> '**Not evaluated' in text, 'runs/x/train_output.log' in text
    (True, True)
    """
    lines = [f'# {title}', '']
    lines += [f'- **{label}**: {text}' for label, text in header]
    lines += [
        '', '## Results', '',
        format_results_table(summaries, metric), '',
        f'{metric}: the metric of the last validation of each run, in %. '
        'Spread: min-max and sample standard deviation over the seeds. '
        'Wall time: the training process from start to end. Measured '
        "speed-up: the baseline's mean wall time over the variant's (ratio "
        'of means). Theoretical speed-up: the recipe\'s compute over the '
        "curriculum's, counted in pixels (the plan's `speedup`).", '',
        '## Target', '', f'**{target.text.split(":", 1)[0]}**:'
        f'{target.text.split(":", 1)[1]}', ''
    ]
    if timing:
        lines += [
            '## Time per iteration by input size', '',
            'Means of the `time` and `data_time` MMEngine logs for training '
            'iterations (each a mean over its logging window), all seeds '
            'pooled. Data loading: waiting for the loader; model step: the '
            'rest (forward, backward, optimizer, hooks).', '', timing, ''
        ]
    lines += [
        '## Runs', '',
        format_runs_table(order, results, metric), ''
    ]
    if failed:
        lines += [
            '## Failed runs', '',
            'Not cached: the same command trains them again.', ''
        ]
        lines += [
            f'- {variant}, seed {seed}: see `{log}`'
            for variant, seed, log in failed
        ]
        lines.append('')
    if plot:
        lines += [f'![{metric} against wall time]({plot})', '']
    return '\n'.join(lines)


def plot_runs(summaries: Sequence[VariantSummary],
              path: str,
              metric: str = 'top-1',
              title: str = '') -> None:
    """Draw the score against wall time into a PNG: one small marker per
    run, and per variant its mean with error bars spanning its runs
    (min-max on both axes)."""
    # The Agg canvas directly: no pyplot, so no global backend to set and
    # no figure left open.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 4.8), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    for index, summary in enumerate(summaries):
        if not summary.scores:
            continue
        color = f'C{index % 10}'
        minutes = [s / 60 for s in summary.seconds]
        axes.scatter(minutes, summary.scores, s=18, color=color, alpha=0.5)
        x, y = summary.seconds_mean / 60, summary.score_mean
        speedup = '' if summary.measured_speedup is None or \
            summary.variant.is_baseline else \
            f', {summary.measured_speedup:.2f}x faster'
        axes.errorbar(
            x,
            y,
            xerr=[[x - min(minutes)], [max(minutes) - x]],
            yerr=[[y - summary.score_min], [summary.score_max - y]],
            fmt='o',
            markersize=8,
            capsize=4,
            color=color,
            label=f'{summary.variant.name}: {len(summary.scores)} run(s)'
            f'{speedup}')
    axes.set_xlabel('wall time per run (min); large markers: means, bars: '
                    'min-max over the seeds')
    axes.set_ylabel(f'{metric} (%)')
    if title:
        axes.set_title(title, fontsize=10)
    axes.grid(alpha=0.3)
    if axes.get_legend_handles_labels()[0]:
        axes.legend(fontsize=8)
    figure.tight_layout()
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    figure.savefig(path)


def run_config_text(recipe: str,
                    variant: Variant,
                    seed: int,
                    imports: Sequence[str] = ('etpp_mm', ),
                    other_hooks: Sequence[Mapping[str, Any]] = (),
                    visualizer_type: str = 'UniversalVisualizer',
                    final_val_only: bool = False) -> str:
    """The config of one run: it inherits ``recipe`` through ``_base_`` and
    adds the imports, the hook (curriculum variants only) and the seed.

    ``other_hooks`` are the recipe's own ``custom_hooks``: a list in a
    child config replaces the base's, so they are written out again.

    Examples
    --------
    >>> variant = make_variants([10], 'etpp', 4)[1]
    >>> scope = {}
    >>> exec(run_config_text('/r/recipe.py', variant, 1), scope)
    >>> scope['_base_'], scope['custom_hooks'][0]['budget']
    (['/r/recipe.py'], 10)
    >>> scope['randomness']
    {'seed': 1}
    """
    hooks = [dict(h) for h in other_hooks]
    if not variant.is_baseline:
        hooks.append(variant.hook_cfg())
    hooks_text = pprint.pformat(hooks, width=72, sort_dicts=False)
    try:
        ast.literal_eval(hooks_text)
    except (ValueError, SyntaxError) as err:
        raise ValueError(
            "the recipe's custom_hooks hold values that cannot be written "
            f'into a config file ({hooks_text}): give their type as a '
            'string') from err
    lines = [
        f'# Benchmark run: {variant.name}, seed {seed}. The recipe'
        + ('' if variant.is_baseline else ' with EfficientTrainHook')
        + ' and the seed;',
        '# the benchmark passes its --cfg-options to every run alike '
        '(command.txt).',
        f'_base_ = [{recipe!r}]',
        f'custom_imports = dict(imports={list(imports)!r}, '
        'allow_failed_imports=False)',
    ]
    if hooks or not variant.is_baseline:
        lines.append(f'custom_hooks = {hooks_text}')
    lines += [
        f'randomness = dict(seed={seed})',
        '# Scores are read from vis_data/scalars.json; nothing goes to '
        'remote loggers.',
        f'visualizer = dict(type={visualizer_type!r}, '
        "vis_backends=[dict(type='LocalVisBackend')])",
    ]
    if final_val_only:
        lines += [
            '# One validation, after the last epoch (MMEngine always runs '
            'it then):',
            '# each variant pays for it once, whatever its epoch count.',
            'train_cfg = dict(val_interval=10**9)',
        ]
    return '\n'.join(lines) + '\n'


def cpu_model_of(text: str) -> Optional[str]:
    """The CPU model named in ``/proc/cpuinfo`` or ``lscpu`` output.

    Examples
    --------
    >>> cpu_model_of('processor\\t: 0\\nmodel name\\t: AMD EPYC 7B13\\n')
    'AMD EPYC 7B13'
    >>> cpu_model_of('Model name:            Intel(R) Xeon(R)\\n')
    'Intel(R) Xeon(R)'
    """
    match = re.search(r'^\s*model name\s*:\s*(.+?)\s*$', text,
                      re.IGNORECASE | re.MULTILINE)
    return match.group(1) if match else None


def machine_info() -> Dict[str, Any]:
    """The CPU model, core counts, GPU and load of this machine."""
    cpu = None
    try:
        with open('/proc/cpuinfo') as f:
            cpu = cpu_model_of(f.read())
    except OSError:
        pass
    if cpu is None:
        try:
            cpu = cpu_model_of(
                subprocess.run(['lscpu'],
                               capture_output=True,
                               text=True,
                               timeout=10).stdout)
        except (OSError, subprocess.SubprocessError):
            pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    import torch
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() \
        else None
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = None
    return dict(
        cpu=cpu or 'unknown CPU',
        logical_cpus=os.cpu_count(),
        usable_cpus=usable,
        gpu=gpu,
        load=load)
