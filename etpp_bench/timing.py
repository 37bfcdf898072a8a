"""Side-by-side timing: every timed callable runs once per round, in turn.

A shared or busy machine has slow spells; timing the candidates round by
round makes a spell fall on all of them alike, and the median over rounds
leaves out the rounds it spoiled. Every timing tool of the repository
measures through :func:`interleaved_timings`, or, where a measurement
times itself, :func:`interleaved_samples`.
"""
import statistics
import time
from dataclasses import dataclass
from typing import Callable, Dict, Hashable, List, Mapping, Optional


@dataclass
class Timings:
    """Seconds per call of each timed callable, one sample per round.

    Args:
        samples (dict): ``{name: [seconds per call in round 0, ...]}``.
    """
    samples: Dict[Hashable, List[float]]

    @property
    def medians(self) -> Dict[Hashable, float]:
        """``{name: median seconds per call over the rounds}``."""
        return {
            name: statistics.median(values)
            for name, values in self.samples.items()
        }


def interleaved_samples(
        funcs: Mapping[Hashable, Callable[[], float]],
        rounds: int,
        alternate: bool = False,
        after_round: Optional[Callable[[int], object]] = None) -> Timings:
    """Collect one value per round from each named callable, in turn.

    For measurements that time themselves (a rate over a loader's batches
    after its workers have started, say): each callable returns its
    round's value. Rounds interleave the callables as
    :func:`interleaved_timings` does, for the same reason.

    Args:
        funcs (Mapping): ``{name: callable returning the round's value}``.
        rounds (int): rounds.
        alternate (bool): reverse the order in every other round.
            Default: False.
        after_round (callable, optional): called with each round's index
            when that round is done.

    Returns:
        Timings: the values of every callable and their medians.

    Example:
        >>> values = iter([3.0, 10.0, 1.0, 20.0, 2.0, 30.0])
        >>> result = interleaved_samples(
        ...     {'a': lambda: next(values), 'b': lambda: next(values)},
        ...     rounds=3)
        >>> result.samples
        {'a': [3.0, 1.0, 2.0], 'b': [10.0, 20.0, 30.0]}
        >>> result.medians
        {'a': 2.0, 'b': 20.0}
    """
    names = list(funcs)
    samples: Dict[Hashable, List[float]] = {name: [] for name in names}
    for round_ in range(rounds):
        order = names[::-1] if alternate and round_ % 2 else names
        for name in order:
            samples[name].append(funcs[name]())
        if after_round is not None:
            after_round(round_)
    return Timings(samples)


def interleaved_timings(
        funcs: Mapping[Hashable, Callable[[], object]],
        rounds: int,
        number: int = 1,
        warmup: int = 1,
        alternate: bool = False,
        after_round: Optional[Callable[[int], object]] = None,
        clock: Callable[[], float] = time.perf_counter) -> Timings:
    """Time named callables in interleaved rounds.

    Each callable is first called ``warmup`` times untimed (caches, FFT
    plans, lazy imports, allocator pools). Then every round times
    ``number`` calls of each callable in turn; a sample is the round's
    seconds per call.

    Args:
        funcs (Mapping): ``{name: callable without arguments}``; a name
            may be any hashable (a label, a ``(size, batch)`` pair). A
            callable that starts asynchronous work (CUDA) waits for it
            before returning, or its time is not its own.
        rounds (int): timed rounds.
        number (int): calls per callable and round. Default: 1.
        warmup (int): untimed calls of each callable before the first
            round. Default: 1.
        alternate (bool): reverse the order of the callables in every
            other round, so none always runs right after another's
            leftovers (a filled cache, a busy allocator). Default: False.
        after_round (callable, optional): called with each round's index
            when that round is done (progress lines, the next round's
            seed).
        clock (callable): seconds now. Default: ``time.perf_counter``.

    Returns:
        Timings: the samples of every callable and their medians.

    Example:
        >>> calls = []
        >>> ticks = iter(range(100))
        >>> timings = interleaved_timings(
        ...     {'a': lambda: calls.append('a'),
        ...      'b': lambda: calls.append('b')},
        ...     rounds=2, alternate=True, clock=lambda: next(ticks))
        >>> calls  # warm-up, round 0, round 1 (reversed)
        ['a', 'b', 'a', 'b', 'b', 'a']
        >>> timings.samples, timings.medians
        ({'a': [1.0, 1.0], 'b': [1.0, 1.0]}, {'a': 1.0, 'b': 1.0})
    """
    for func in funcs.values():
        for _ in range(warmup):
            func()

    def timed(func):

        def run():
            start = clock()
            for _ in range(number):
                func()
            return (clock() - start) / number

        return run

    return interleaved_samples({name: timed(func)
                                for name, func in funcs.items()},
                               rounds,
                               alternate=alternate,
                               after_round=after_round)
