"""What a benchmark's runs measured: each run's result, each variant's
summary over the seeds against the baseline, the verdict on the target, and
the time per iteration by input size.
"""
import os.path as osp
import statistics
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from etpp_bench.runs import read_scalars
from etpp_bench.variants import Number, Variant

# The target a curriculum should meet at 2/3 of the recipe's compute: top-1
# at most 0.3 points below the baseline's mean, 1.3x faster in wall time.
TARGET_FRACTION = 2 / 3
TARGET_MAX_DROP = 0.3
TARGET_MIN_SPEEDUP = 1.3
# Budgets are floats from the command line: 2/3 of 15 epochs is given as
# 10, 2/3 of 10 as 6.666667.
_BUDGET_TOLERANCE = 1e-5
# Comparisons with the target's thresholds forgive float noise only.
_EPSILON = 1e-9


@dataclass(frozen=True)
class RunResult:
    """What one finished run measured.

    Args:
        variant (str): the variant's name.
        seed (int): ``randomness.seed`` of the run.
        seconds (float): wall time of the training process, start to end.
        score (float): the metric of its last validation (top-1 in %).
        run_dir (str): its folder, for the report.
    """
    variant: str
    seed: int
    seconds: float
    score: float
    run_dir: str = ''


def result_of(entry: Mapping[str, Any], metric: str,
              work_dir: str) -> RunResult:
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

    Args:
        variants (sequence of Variant): the baseline and the curricula, in
            report order.
        seeds (sequence of int): the seeds asked for; a variant with fewer
            finished runs is summarised over those and marked incomplete.
        results (sequence of RunResult): finished runs, in any order;
            others' variants and seeds are ignored.

    Returns:
        list[VariantSummary]: one per variant, in the order of ``variants``.

    Example:
        >>> from etpp_bench.variants import make_variants
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

    Args:
        summaries (sequence of VariantSummary): from :func:`summarize`.
        recipe_epochs (int): the recipe's ``train_cfg.max_epochs``.
        fraction, max_drop, min_speedup (float): the target: budget as a
            fraction of the recipe's epochs, allowed top-1 drop in points,
            least measured speed-up.

    Returns:
        TargetCheck: ``met`` is ``None`` without a budget at ``fraction`` or
            with runs missing on either side.

    Example:
        >>> from etpp_bench.variants import make_variants
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
    goal = (f'at budget {format_number(fraction * recipe_epochs)} '
            f"({_fraction_text(fraction)} of the recipe's "
            f'{format_number(recipe_epochs)} epochs), top-1 at most '
            f'{max_drop:g} points below the baseline mean and a measured '
            f'speed-up of at least {min_speedup:g}x')
    target_budget = fraction * recipe_epochs
    baseline = next((s for s in summaries if s.variant.is_baseline), None)
    candidates = [
        s for s in summaries if s.variant.is_curriculum and abs(
            s.variant.budget - target_budget) <= _BUDGET_TOLERANCE *
        max(1.0, target_budget)
    ]
    if not candidates:
        return TargetCheck(
            None, f'Not evaluated: no budget in this benchmark is '
            f'{format_number(target_budget)} (target: {goal}).')
    # Several variants at the target budget (e.g. other hook settings):
    # each is judged; the target is met when one of them meets it.
    checks = [
        _judge(c, baseline, max_drop, min_speedup, goal) for c in candidates
    ]
    verdicts = [c.met for c in checks]
    met = None if None in verdicts else any(verdicts)
    return TargetCheck(met, ' '.join(c.text for c in checks))


def _judge(candidate: VariantSummary, baseline: Optional[VariantSummary],
           max_drop: float, min_speedup: float, goal: str) -> TargetCheck:
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


def format_number(value: Number) -> str:
    return f'{value:.4g}' if not float(value).is_integer() \
        else str(int(value))


@dataclass(frozen=True)
class SizeTiming:
    """Mean logged time per training iteration at one input size and batch.

    ``windows`` is the number of logged records averaged: MMEngine's
    ``time`` and ``data_time`` are each a mean over the logger's window of
    iterations. ``batch``: samples per iteration and process (``None``
    where unknown).
    """
    size: int
    windows: int
    seconds: float
    data_seconds: float
    batch: Optional[int] = None

    @property
    def step_seconds(self) -> float:
        """Time of the iteration outside data loading (the model step)."""
        return self.seconds - self.data_seconds


def iteration_times_by_size(records: Sequence[Mapping[str, Any]],
                            full_size: int,
                            batch: Optional[int] = None) -> List[SizeTiming]:
    """Mean ``time`` and ``data_time`` of a run's training records per input
    size and batch, smallest first.

    Training records are those with ``'iter'``; their size is the hook's
    ``curriculum/size`` (the plain recipe logs none: ``full_size``), their
    batch the hook's ``curriculum/batch`` (logged with ``batch_scale``),
    else ``batch``, the recipe's.

    Example:
        >>> records = [dict(iter=100, time=0.1, data_time=0.05,
        ...                 **{'curriculum/size': 12, 'curriculum/batch': 64}),
        ...            dict(iter=200, time=0.2, data_time=0.04,
        ...                 **{'curriculum/size': 28}),
        ...            dict(step=2, time=0.3, data_time=0.0)]  # a validation
        >>> [(t.size, t.batch, t.windows, round(t.step_seconds, 2))
        ...  for t in iteration_times_by_size(records, 28, batch=16)]
        [(12, 64, 1, 0.05), (28, 16, 1, 0.16)]
    """
    grouped: Dict[Tuple[int, Optional[int]], List[Tuple[float, float]]] = {}
    for record in records:
        if 'iter' not in record or 'time' not in record:
            continue
        size = int(record.get('curriculum/size', full_size))
        samples = record.get('curriculum/batch', batch)
        key = (size, None if samples is None else int(samples))
        grouped.setdefault(key, []).append(
            (float(record['time']), float(record.get('data_time', 0.0))))
    return [
        SizeTiming(size, len(values),
                   statistics.fmean(v[0] for v in values),
                   statistics.fmean(v[1] for v in values), samples)
        for (size, samples), values in sorted(
            grouped.items(), key=lambda item: (item[0][0], item[0][1] or 0))
    ]


def timings_by_variant(variants: Sequence[Variant],
                       results: Sequence[RunResult],
                       full_size: int,
                       train_dir: str,
                       batch: Optional[int] = None
                       ) -> Optional[List[Tuple[str, List[SizeTiming]]]]:
    """Per variant with runs, its time per iteration by input size and batch
    (``batch``: the recipe's), from the MMEngine logs in
    ``<run_dir>/<train_dir>``; ``None`` when a run's log is gone (e.g. a
    cached run whose folder was deleted)."""
    timings = []
    for variant in variants:
        records = []
        for result in results:
            if result.variant != variant.name:
                continue
            try:
                records += read_scalars(osp.join(result.run_dir, train_dir))
            except RuntimeError:
                return None
        if records:
            timings.append(
                (variant.name,
                 iteration_times_by_size(records, full_size, batch)))
    return timings
