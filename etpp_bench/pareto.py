"""Which variants of a benchmark are worth their wall time: the Pareto front
of mean score against mean wall time."""
from typing import List, Optional, Sequence

from etpp_bench.summary import VariantSummary


def dominated_by(summaries: Sequence[VariantSummary]) -> List[Optional[str]]:
    """Per summary, the name of a variant that beats it on the Pareto front
    of mean score (higher is better) against mean wall time (lower is
    better), or ``None`` when none does (it is on the front, or has no
    runs).

    A variant beats another when it is at least as fast and scores at
    least as high, and is strictly better in one of the two. Of several,
    the fastest is named.

    Example:
        >>> from etpp_bench.summary import summarize, RunResult
        >>> from etpp_bench.variants import make_variants
        >>> variants = make_variants([10, 7.5], 'etpp', shortened=[10])
        >>> [v.name for v in variants]
        ['baseline', 'recipe e10', 'etpp b10', 'etpp b7.5']
        >>> results = [RunResult('baseline', 0, 150, 92.0),
        ...            RunResult('recipe e10', 0, 100, 91.6),
        ...            RunResult('etpp b10', 0, 105, 91.5),
        ...            RunResult('etpp b7.5', 0, 80, 91.0)]
        >>> dominated_by(summarize(variants, [0], results))
        [None, None, 'recipe e10', None]
    """
    points = [(s.seconds_mean, s.score_mean) if s.scores else None
              for s in summaries]
    beaten = []
    for point in points:
        winners = [] if point is None else [
            (other, summary.variant.name)
            for other, summary in zip(points, summaries)
            if other is not None and other[0] <= point[0]
            and other[1] >= point[1] and other != point
        ]
        beaten.append(min(winners)[1] if winners else None)
    return beaten

