"""The benchmark's plot: score against wall time, per run and per
variant."""
import os
from typing import Sequence

from etpp_bench.summary import VariantSummary


def plot_runs(summaries: Sequence[VariantSummary],
              path: str,
              metric: str = 'top-1',
              title: str = '') -> None:
    """Draw the score against wall time into a PNG: one small marker per
    run, and per variant its mean with error bars spanning its runs
    (min-max on both axes); the plain recipe at full length and each
    shortened recipe as one line of squares through their means, beside
    the curricula's circles.

    Example:
        >>> import os, tempfile
        >>> from etpp_bench.summary import RunResult, summarize
        >>> from etpp_bench.variants import make_variants
        >>> variants = make_variants([10], 'etpp', shortened=[10])
        >>> results = [RunResult('baseline', 0, 150, 92.0),
        ...            RunResult('recipe e10', 0, 100, 91.6),
        ...            RunResult('etpp b10', 0, 105, 91.5)]
        >>> path = os.path.join(tempfile.mkdtemp(), 'plot.png')
        >>> plot_runs(summarize(variants, [0], results), path)
        >>> open(path, 'rb').read(4)
        b'\x89PNG'
    """
    # The Agg canvas directly: no pyplot, so no global backend to set and
    # no figure left open.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 4.8), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    _plot_recipe_line(axes, summaries)
    for index, summary in enumerate(summaries):
        if not summary.scores:
            continue
        color = f'C{index % 10}'
        minutes = [s / 60 for s in summary.seconds]
        axes.scatter(minutes, summary.scores, s=18, color=color, alpha=0.5)
        x, y = summary.seconds_mean / 60, summary.score_mean
        plain = summary.variant.is_baseline or summary.variant.is_shortened
        speedup = '' if summary.measured_speedup is None or \
            summary.variant.is_baseline else \
            f', {summary.measured_speedup:.2f}x faster'
        axes.errorbar(
            x,
            y,
            xerr=[[x - min(minutes)], [max(minutes) - x]],
            yerr=[[y - summary.score_min], [summary.score_max - y]],
            fmt='s' if plain else 'o',
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


def _plot_recipe_line(axes, summaries: Sequence[VariantSummary]) -> None:
    """The plain recipe's means, full length and shortened, joined by a
    line in order of length and marked with their epochs."""
    recipe = [
        s for s in summaries
        if s.scores and (s.variant.is_baseline or s.variant.is_shortened)
    ]
    if not any(s.variant.is_shortened for s in recipe):
        return
    # The full recipe is the longest whatever its epochs (unknown before
    # planning).
    recipe.sort(key=lambda s: s.variant.shortened or float('inf'))
    axes.plot([s.seconds_mean / 60 for s in recipe],
              [s.score_mean for s in recipe],
              '--',
              color='0.4',
              linewidth=1,
              label='the recipe, full length and shortened')
    for summary in recipe:
        epochs = summary.variant.shortened or summary.variant.real_epochs
        axes.annotate('full' if epochs is None else f'{epochs} ep',
                      (summary.seconds_mean / 60, summary.score_mean),
                      textcoords='offset points',
                      xytext=(6, -12),
                      fontsize=8,
                      color='0.3')
