"""The benchmark's text: durations, progress lines and the Markdown report
with its tables."""
import math
import platform
import shlex
import time
from typing import Any, List, Mapping, Optional, Sequence, Tuple

import mmengine
import mmpretrain
import torch

import etpp_mm
from etpp_bench.pareto import dominated_by
from etpp_bench.runs import plain_number
from etpp_bench.shorten import describe_change
from etpp_bench.summary import (RunResult, SizeTiming, TargetCheck,
                                VariantSummary, format_number)
from etpp_bench.variants import Variant


def format_duration(seconds: Optional[float]) -> str:
    """Seconds for a reader: seconds below 2 minutes, then minutes, then
    hours.

    Example:
        >>> [format_duration(s) for s in (42.26, 1500, 9000)]
        ['42.3 s', '25.0 min', '2.50 h']
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

    Example:
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

    Example:
        >>> from etpp_bench.variants import make_variants
        >>> from etpp_bench.summary import summarize
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
            f'shortened to {variant.shortened}' if variant.is_shortened \
            else format_number(variant.budget)
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


def format_timing_table(timings: Sequence[Tuple[str, Sequence[SizeTiming]]],
                        full_size: int) -> str:
    """The Markdown table of seconds per iteration by variant, size and
    batch, with the model step's cost per sample and the pixels relative to
    the full size.

    The step per sample at a reduced size is compared with the variant's
    own at the full size: on hardware where the step is not bound by
    compute at small sizes, it costs more than its share of pixels, and a
    larger batch (``batch_scale``) brings it back down.

    Example:
        >>> t = [SizeTiming(14, 3, 0.15, 0.05, 32),
        ...      SizeTiming(28, 3, 0.15, 0.05, 16)]
        >>> print(format_timing_table([('etpp b10', t)], 28).splitlines()[2])
        | etpp b10 | 14 | 32 | 3 | 0.150 | 0.050 | 0.100 | 0.50x | 0.25x |
    """
    lines = [
        '| variant | input size | batch | logged windows | s/iteration | '
        'data loading s/iteration | model step s/iteration | model step '
        'per sample vs full size | pixels vs full size |',
        '|---|---|---|---|---|---|---|---|---|',
    ]

    def per_sample(t):
        return t.step_seconds / (t.batch or 1)

    for name, per_size in timings:
        full = [t for t in per_size if t.size == full_size]
        full_step = per_sample(full[0]) if full else None
        for t in per_size:
            ratio = 'n/a' if not full_step else \
                f'{per_sample(t) / full_step:.2f}x'
            batch = '?' if t.batch is None else t.batch
            lines.append(
                f'| {name} | {t.size} | {batch} | {t.windows} | '
                f'{t.seconds:.3f} | {t.data_seconds:.3f} | '
                f'{t.step_seconds:.3f} | {ratio} | '
                f'{(t.size / full_size) ** 2:.2f}x |')
    return '\n'.join(lines)


def format_pareto_table(summaries: Sequence[VariantSummary],
                        metric: str = 'top-1') -> str:
    """The Markdown table of each variant's runs (wall time and score per
    seed), its means, and whether it is on the Pareto front, fastest
    first (variants without runs last).

    Example:
        >>> from etpp_bench.variants import make_variants
        >>> from etpp_bench.summary import summarize
        >>> variants = make_variants([10], 'etpp', shortened=[10])
        >>> results = [RunResult('baseline', 0, 150, 92.0),
        ...            RunResult('recipe e10', 0, 100, 91.6),
        ...            RunResult('etpp b10', 0, 105, 91.5)]
        >>> print(format_pareto_table(summarize(variants, [0], results)))
        | variant | runs: wall time, top-1 | wall time mean | top-1 mean | \
on the Pareto front |
        |---|---|---|---|---|
        | recipe e10 | s0 100.0 s, 91.60 | 100.0 s | 91.60 | yes |
        | etpp b10 | s0 105.0 s, 91.50 | 105.0 s | 91.50 | no: \
recipe e10 beats it |
        | baseline | s0 2.5 min, 92.00 | 2.5 min | 92.00 | yes |
    """
    beaten = dominated_by(summaries)
    rows = sorted(
        zip(summaries, beaten),
        key=lambda row: (not row[0].scores, row[0].seconds_mean or 0.0))
    lines = [
        f'| variant | runs: wall time, {metric} | wall time mean | '
        f'{metric} mean | on the Pareto front |',
        '|---|---|---|---|---|',
    ]
    for summary, winner in rows:
        if not summary.scores:
            lines.append(f'| {summary.variant.name} | no finished run | - | '
                         '- | n/a |')
            continue
        runs = '; '.join(
            f's{seed} {format_duration(seconds)}, {score:.2f}'
            for seed, seconds, score in zip(summary.seeds, summary.seconds,
                                            summary.scores))
        front = 'yes' if winner is None else f'no: {winner} beats it'
        lines.append(
            f'| {summary.variant.name} | {runs} | '
            f'{format_duration(summary.seconds_mean)} | '
            f'{summary.score_mean:.2f} | {front} |')
    return '\n'.join(lines)


def format_runs_table(order: Sequence[Tuple[int, Variant]],
                      results: Sequence[RunResult],
                      metric: str = 'top-1') -> str:
    """The Markdown table of every run in run order (missing runs say so).

    Example:
        >>> from etpp_bench.variants import make_variants, run_order
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
                  timing: str = '',
                  score_note: Optional[str] = None) -> str:
    """The Markdown report: the settings, the table of variants, the
    verdict on the target, the Pareto front of score against wall time,
    every run, the failed runs and the plot.

    Args:
        title (str): the first heading.
        header (sequence of (str, str)): labelled lines of settings (command,
            date, machine...).
        failed (sequence of (str, int, str)): ``(variant, seed, log file)`` of
            each run that failed.
        plot (str, optional): the plot's path relative to the report.
        timing (str): A :func:`format_timing_table` table, or ``''`` for none.
        score_note (str, optional): what the score is, under the table
            (default: the metric of the last validation).

    Example:
        >>> from etpp_bench.variants import make_variants, run_order
        >>> from etpp_bench.summary import check_target, summarize
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
        (score_note or f'{metric}: the metric of the last validation of '
         'each run, in %.') + ' Spread: min-max and sample standard '
        'deviation over the seeds. Wall time: the training process from '
        "start to end. Measured speed-up: the baseline's mean wall time "
        "over the variant's (ratio of means). Theoretical speed-up: the "
        "recipe's compute over the curriculum's, counted in pixels (the "
        "plan's `speedup`), or over the shortened recipe's (the ratio of "
        "their epochs).", '',
        '## Target', '', f'**{target.text.split(":", 1)[0]}**:'
        f'{target.text.split(":", 1)[1]}', '',
        f'## Pareto front: {metric} against wall time', '',
        format_pareto_table(summaries, metric), '',
        'On the Pareto front: no other variant beats it, that is has a '
        f'mean wall time as short or shorter and a mean {metric} as high '
        'or higher, one of the two strictly (means over the seeds that '
        'finished; rows in order of mean wall time).', ''
    ]
    if timing:
        lines += [
            '## Time per iteration by input size', '',
            'Means of the `time` and `data_time` MMEngine logs for training '
            'iterations (each a mean over its logging window), all seeds '
            'pooled, by input size and batch per process. Data loading: '
            'waiting for the loader; model step: the rest (forward, '
            'backward, optimizer, hooks).', '', timing, ''
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


def header_lines(args: Any, command: str, recipe: Any,
                 variants: Sequence[Variant], machine: Mapping[str, Any],
                 threads: int, env: Mapping[str, str],
                 entries: Sequence[Mapping[str, Any]],
                 score: Optional[str] = None) -> List[Tuple[str, str]]:
    """The report's labelled lines of settings.

    Args:
        args: the benchmark's options (``config``, ``preset``,
            ``size_divisor``, ``seeds``, ``metric``, ``final_val_only``,
            ``cfg_options``).
        command (str): the command line, for the reader to rerun.
        recipe (Recipe): the recipe read.
        variants (sequence of Variant): the sides, planned.
        machine (dict): :func:`~etpp_bench.machine.machine_info`.
        threads (int): torch threads per run.
        env (dict): the runs' environment.
        entries (sequence of dict): the runs' cache entries.
        score (str, optional): the score's line when it is not the last
            validation's metric (the k-NN score).
    """
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
    curricula = [v for v in variants if v.is_curriculum]
    shortened = [v for v in variants if v.is_shortened]
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
         f'size_divisor={args.size_divisor}) at budgets (equivalent '
         'full-size epochs) ' + ', '.join(
             f'{plain_number(v.budget)} ({v.name}' + ''.join(
                 f', {k}={val!r}' for k, val in v.hook_options) + ')'
             for v in curricula)),
        ('Seeds', ', '.join(map(str, args.seeds)) + ' (randomness.seed, the '
         'same for every variant); runs seed-major, variants interleaved'),
        ('Score', score or f'`{args.metric}` of the last validation, on '
         f'val_dataloader{split}; validation {validation}'),
        ('Wall time', 'each tools/train.py process from start to end '
         '(start-up, data loading, training, validation, checkpoints)'),
    ]
    if shortened:
        lines.append(
            ('Shortened recipes', 'the plain recipe with train_cfg.'
             'max_epochs and every param_scheduler position and length '
             'scaled to the shorter length (rounded, phases kept apart; '
             '--cfg-options setting them are not passed to these runs): ' +
             '; '.join(
                 f'{v.name} (' + describe_change(
                     recipe.param_scheduler, v.param_scheduler or (),
                     recipe.epochs, v.shortened) + ')' for v in shortened)))
    if score and recipe.cfg.get('val_dataloader', None):
        lines.append(('Validation', validation))
    if args.cfg_options:
        lines.append(('Options', 'every run: `--cfg-options ' +
                      shlex.join(args.cfg_options) + '`' +
                      (' (the shortened recipes without those setting '
                       'train_cfg.max_epochs or param_scheduler)'
                       if shortened else '')))
    return lines
