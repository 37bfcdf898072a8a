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
