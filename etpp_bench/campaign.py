"""A campaign: training runs under one work dir, each in its own folder and
process, with a log of every invocation, a result cache that the same
command resumes from, and progress lines with an ETA."""
import os
import os.path as osp
import shutil
import statistics
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from etpp_bench.cache import ResultCache


class Printer:
    """Print, and append a copy to a log file once ``path`` is set.

    Example:
        >>> say = Printer()
        >>> say('hello')
        hello
    """

    def __init__(self, path: Optional[str] = None):
        self.path = path

    def __call__(self, text: str = '') -> None:
        print(text, flush=True)
        if self.path is not None:
            with open(self.path, 'a') as f:
                f.write(text + '\n')


class Campaign:
    """The runs of one work dir, trained one at a time.

    Nothing is written before :meth:`open`: bad input found before it
    leaves nothing behind.

    Args:
        work_dir (str): folder of the runs (``runs/<name>``), the cache and
            the log.
        cache_file (str): the cache's file name in ``work_dir``.
        log_file (str): the log's file name in ``work_dir``.
        say (Printer): prints progress; :meth:`open` attaches the log.

    Example:
        >>> import tempfile
        >>> campaign = Campaign(tempfile.mkdtemp(), 'cache.json', 'log.txt',
        ...                     Printer())
        >>> campaign.open()
        >>> train = lambda run_dir: dict(score=90.0)
        >>> campaign.run('k', 'first', train)
        ({'score': 90.0, 'run_dir': 'runs/first'}, False)
        >>> campaign.run('k', 'first', train)[1], campaign.counts
        (True, {'new_runs': 1, 'cached_runs': 1})
    """

    def __init__(self, work_dir: str, cache_file: str, log_file: str,
                 say: Printer):
        self.work_dir = work_dir
        self.cache_path = osp.join(work_dir, cache_file)
        self.log_path = osp.join(work_dir, log_file)
        self.say = say
        self.counts = dict(new_runs=0, cached_runs=0)
        self._cache: Optional[ResultCache] = None
        # Runs that failed in this invocation are not cached but must not
        # count as still to train.
        self._attempted = set()

    def open(self, command: str = '') -> None:
        """Create the work dir and append this invocation to its log."""
        os.makedirs(self.work_dir, exist_ok=True)
        self.say.path = self.log_path
        with open(self.log_path, 'a') as f:
            f.write(f"=== {time.strftime('%Y-%m-%d %H:%M:%S')}" +
                    (f' {command}' if command else '') + '\n')

    @property
    def cache(self) -> ResultCache:
        if self._cache is None:
            self._cache = ResultCache(self.cache_path)
        return self._cache

    def pending(self, key: str) -> bool:
        """Whether the run still needs training in this invocation."""
        return self.cache.get(key) is None and key not in self._attempted

    def run(self, key: str, name: str,
            train: Callable[[str], Optional[Dict[str, Any]]]
            ) -> Tuple[Optional[Dict[str, Any]], bool]:
        """One run: ``(entry, True)`` when the cache has ``key``, else
        ``(entry, False)`` with the entry ``train(run_dir)`` returns for a
        fresh folder ``runs/<name>``; that entry is cached with its folder
        relative to the work dir (``None``: the run failed, nothing is
        cached)."""
        entry = self.cache.get(key)
        if entry is not None:
            self.counts['cached_runs'] += 1
            return entry, True
        run_dir = osp.join(self.work_dir, 'runs', name)
        # Whatever is there is an interrupted attempt: start it afresh.
        shutil.rmtree(run_dir, ignore_errors=True)
        os.makedirs(run_dir)
        entry = train(run_dir)
        self._attempted.add(key)
        if entry is not None:
            # Relative: the work dir may move.
            entry = dict(entry, run_dir=osp.join('runs', name))
            self.cache.put(key, entry)
            self.counts['new_runs'] += 1
        return entry, False


def run_environment(threads: Optional[int]) -> Dict[str, str]:
    """The same environment for every run: this one, with
    ``OMP_NUM_THREADS`` set to ``threads`` when given."""
    env = dict(os.environ)
    if threads is not None:
        env['OMP_NUM_THREADS'] = str(threads)
    return env


def eta_seconds(pending: Sequence[Any], results: Sequence[Any],
                variants: Sequence[Any]) -> Optional[float]:
    """Estimated wall time of the ``pending`` runs from the finished ones.

    A variant with finished runs is estimated by their mean. One without
    is estimated from all finished runs, each scaled to a baseline run by
    its theoretical speed-up, divided by the variant's theoretical
    speed-up. ``None`` until a run has finished.

    Args:
        pending (sequence of Variant): the variant of each run still to
            train.
        results (sequence of RunResult): finished runs (cached ones
            included: same machine, same settings).
        variants (sequence of Variant): all variants, for the theoretical
            speed-ups of finished runs.

    Example:
        >>> from etpp_bench.summary import RunResult
        >>> from etpp_bench.variants import Variant
        >>> base = Variant('baseline')
        >>> b10 = Variant('etpp b10', 10, 'etpp', theoretical_speedup=1.5)
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
