"""The node benchmark's advice: from measured step and loader rates per
stage size, which stages are step-bound or loader-bound, and the
``batch_scale``, replay factors and loader workers that win their time
back, each with its reason. Pure functions of the rates; the measuring is
:mod:`etpp_bench.node`.
"""
import math
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

# The authors' largest replay factor (r=4 at 96 px); a factor beyond it
# repeats each loaded sample so often that accuracy is not known to hold.
MAX_REPLAY = 4
# Per-sample step cost above its pixel share by this much is overhead a
# larger batch may remove; below it, timing noise on a busy machine.
OVERHEAD_BOUND = 1.15
# A larger batch changes the optimisation (LR scaled): recommended only
# when it buys at least this much throughput.
MIN_GAIN = 1.10
# A rate ratio this close above a whole number is noise, not a reason for
# one more replay.
REPLAY_SLACK = 0.1


def rate_text(rate: float) -> str:
    """Images/s to three significant figures at least, no exponent.

    Example:
        >>> rate_text(6470.4), rate_text(135.2), rate_text(7.234)
        ('6470', '135', '7.23')
    """
    if rate >= 100:
        return f'{rate:.0f}'
    return f'{rate:.1f}' if rate >= 10 else f'{rate:.2f}'


def replay_factor(step_rate: float,
                  loader_rate: float,
                  max_factor: int = MAX_REPLAY,
                  slack: float = REPLAY_SLACK) -> int:
    """The replay factor at which the loader feeds the step: the rate
    ratio rounded up (less ``slack``), within ``[1, max_factor]``.

    Args:
        step_rate (float): images/s of the step.
        loader_rate (float): images/s of the loader.
        max_factor (int): the largest factor. Default: 4.
        slack (float): how far above a whole number the ratio may be and
            still round down. Default: 0.1.

    Example:
        >>> replay_factor(3000, 1400), replay_factor(1050, 1000)
        (3, 1)
        >>> replay_factor(9000, 1000), replay_factor(500, 1000)
        (4, 1)
    """
    ratio = step_rate / loader_rate
    return max(1, min(max_factor, math.ceil(ratio - slack)))


def expected_rate(step_rate: float,
                  loader_rate: float,
                  replay: int = 1,
                  workers: int = 1) -> float:
    """Images/s of training fed by a loader: with workers, loading
    overlaps the step and the slower of the two sets the pace; in the main
    process (0 workers) the two add up. Replay ``r`` loads one batch in
    ``r``.

    Example:
        >>> expected_rate(1000, 400), expected_rate(1000, 400, replay=2)
        (400, 800)
        >>> round(expected_rate(1000, 1000, workers=0))
        500
    """
    if workers > 0:
        return min(step_rate, replay * loader_rate)
    return 1 / (1 / step_rate + 1 / (replay * loader_rate))


@dataclass
class StageAdvice:
    """The recommendation for one stage size.

    Attributes:
        size (int): the stage's side.
        bound (str): ``'step'`` or ``'loader'``: the slower of the two at
            the batch the recipe, as configured, uses at this size.
        overhead (float): the per-sample step cost at the recipe's batch,
            relative to the full size's, over the pixel share: 1 where the
            step shrinks with its pixels.
        scale (int): the recommended batch multiple.
        replay (int): the recommended replay factor.
        expected (float): images/s expected with both.
        reasons (dict): ``{'batch_scale': why, 'replay': why}``.
    """
    size: int
    bound: str
    overhead: float
    scale: int
    replay: int
    expected: float
    reasons: Dict[str, str] = field(default_factory=dict)


def recommend_stage(size: int,
                    full_size: int,
                    base_batch: int,
                    step_rates: Dict[int, float],
                    full_rate: float,
                    loader_rate: float,
                    batch: Optional[int] = None,
                    workers: int = 1,
                    max_replay: int = MAX_REPLAY,
                    overhead_bound: float = OVERHEAD_BOUND,
                    min_gain: float = MIN_GAIN) -> StageAdvice:
    """Batch multiple and replay factor for one stage size from its rates.

    Every measured batch that is a multiple of the recipe's is a
    candidate at a reduced size whose step is overhead-bound (per-sample
    cost ``overhead_bound`` times its pixel share or more); each comes
    with the replay factor that lets the loader feed it
    (:func:`replay_factor`), and the expected rate of the pair
    (:func:`expected_rate`). The larger batch with the best expected rate
    is recommended if it beats the recipe's batch by ``min_gain``; the
    replay factor is the chosen batch's.

    Args:
        size (int): the stage's side.
        full_size (int): the recipe's train side.
        base_batch (int): the recipe's batch per process.
        step_rates (dict): ``{batch: images/s}`` of the step at ``size``.
        full_rate (float): images/s of the step at full size and the
            recipe's batch.
        loader_rate (float): images/s of the loader at ``size``, per
            training process.
        batch (int, optional): the batch the recipe as configured uses at
            ``size`` (its ``batch_scale``), for ``bound``; default
            ``base_batch``.
        workers (int): the loader's workers (0: loading in the main
            process, which does not overlap the step).
        max_replay (int): the largest replay factor. Default: 4.
        overhead_bound (float): see above. Default: 1.15.
        min_gain (float): see above. Default: 1.1.

    Returns:
        StageAdvice

    Example:
        >>> # step-bound, overhead-bound, a fast loader: a larger batch
        >>> a = recommend_stage(12, 28, 128, {128: 4000, 640: 5600},
        ...                     full_rate=1000, loader_rate=20000)
        >>> a.bound, round(a.overhead, 2), a.scale, a.replay
        ('step', 1.36, 5, 1)
        >>> # loader-bound, the step shrinks with its pixels: replay
        >>> a = recommend_stage(12, 28, 128, {128: 5400, 640: 5500},
        ...                     full_rate=1000, loader_rate=2000)
        >>> a.bound, a.scale, a.replay, a.expected
        ('loader', 1, 3, 5400)
    """
    batch = batch or base_batch
    share = (size / full_size)**2
    relative = full_rate / step_rates[base_batch]
    overhead = relative / share
    bound = 'loader' if loader_rate < step_rates[batch] else 'step'

    def plan(b):
        r = replay_factor(step_rates[b], loader_rate, max_replay)
        return r, expected_rate(step_rates[b], loader_rate, r, workers)

    base_replay, base_rate = plan(base_batch)
    larger = sorted(b for b in step_rates
                    if b > base_batch and b % base_batch == 0)
    chosen, replay, rate = base_batch, base_replay, base_rate
    best = None
    if size < full_size and overhead >= overhead_bound and larger:
        best = max(larger, key=lambda b: (plan(b)[1], -b))
        best_replay, best_rate = plan(best)
        if best_rate >= min_gain * base_rate:
            chosen, replay, rate = best, best_replay, best_rate
    cost = (f'per-sample step cost {relative:.2f}x the full size\'s for '
            f'{share:.2f}x the pixels ({overhead:.2f}x its share)')
    if size >= full_size:
        why = 'the full size trains at the recipe\'s batch'
    elif overhead < overhead_bound:
        why = f'{cost}: the step shrinks with its pixels'
    elif best is None:
        why = f'{cost}, but no larger batch was measured (--batches)'
    else:
        gains = (f'batch {best} runs the step '
                 f'{step_rates[best] / step_rates[base_batch]:.2f}x faster, '
                 f'training {plan(best)[1] / base_rate:.2f}x faster '
                 'expected')
        why = f'{cost} at batch {base_batch}; {gains}'
        if chosen == base_batch:
            why += (f': under {min_gain:.2f}x, not worth another batch '
                    'and LR')
    reasons = {
        'batch_scale':
        why,
        'replay':
        _replay_reason(step_rates[chosen], loader_rate, chosen, replay,
                       max_replay)
    }
    return StageAdvice(size, bound, overhead, chosen // base_batch, replay,
                       rate, reasons)


def _replay_reason(step_rate, loader_rate, batch, replay, max_replay):
    rates = (f'loader {rate_text(loader_rate)} img/s, step '
             f'{rate_text(step_rate)} img/s '
             f'at batch {batch}')
    if replay == 1:
        return f'the loader keeps up ({rates})'
    capped = ' (capped)' if step_rate / loader_rate > max_replay else ''
    return f'loader-bound ({rates}): {replay} uses per loaded batch{capped}'


def recommend_workers(workers: int,
                      loader_rates: Dict[int, float],
                      needed_rates: Dict[int, float],
                      cores: int,
                      step_cores: int = 1) -> Tuple[int, str]:
    """Loader workers per training process, from the loader's rate with
    the configured workers and the rate each stage's step needs.

    A worker is taken to load ``rate / workers`` images/s (the main
    process, at 0 workers, as one): the estimate the reason gives is to be
    measured again with the recommended count. Cores are those of the
    node per training process, less those its step uses.

    Args:
        workers (int): the configured ``num_workers``.
        loader_rates (dict): ``{size: images/s}`` of the loader.
        needed_rates (dict): ``{size: images/s}`` of the step at the
            recommended batch.
        cores (int): CPU cores per training process.
        step_cores (int): cores the step itself keeps busy (its torch
            threads on a CPU; one on a GPU).

    Returns:
        tuple: ``(workers, reason)``.

    Example:
        >>> recommend_workers(2, {12: 1000, 28: 3000}, {12: 2500, 28: 800},
        ...                   cores=16)[0]
        5
        >>> recommend_workers(2, {12: 1000}, {12: 900}, cores=16)[0]
        2
        >>> recommend_workers(1, {12: 1000}, {12: 2500}, cores=2)[0]
        1
    """
    needs = {
        size:
        math.ceil(needed_rates[size] * max(workers, 1) / loader_rates[size] -
                  REPLAY_SLACK)
        for size in loader_rates
    }
    size = max(needs, key=lambda s: (needs[s], -s))
    need = max(1, needs[size])
    spare = max(1, cores - step_cores)
    gap = (f'at {size} px the loader gives '
           f'{rate_text(loader_rates[size])} img/s with {workers} workers, '
           f'the step takes {rate_text(needed_rates[size])}')
    if workers == 0:
        count = min(need, spare)
        rate = expected_rate(needed_rates[size], loader_rates[size], 1, 0)
        fed = min(needed_rates[size], loader_rates[size] * count)
        return count, (f'loading in the main process adds to every step '
                       f'({gap}); {count} worker(s) loading while it '
                       f'trains: about {fed / rate:.2f}x faster there')
    if need <= workers:
        return workers, (f'the loader keeps up at every stage size with '
                         f'{workers} workers')
    if workers >= spare:
        return workers, (f'{gap}, and no core is spare for another worker '
                         f'({cores} per process, {step_cores} for the '
                         'step): replay covers the gap')
    count = min(need, spare)
    return count, (f'{gap}: {count} workers would give about '
                   f'{rate_text(loader_rates[size] * count / workers)} img/s '
                   '(linear estimate: measure it again with '
                   f'train_dataloader.num_workers={count})')


def batches_to_time(base: int, auto_scale: int, scale: int,
                    extra: Sequence[int], size: int,
                    full_size: int) -> List[int]:
    """The batches the step is timed at for one size: the recipe's and the
    configured multiple's, and at a reduced size also the ``'auto'``
    multiple's and those of ``extra`` whose pixels do not exceed the
    full-size batch's (a step dearer than a full-size one saves nothing).

    Example:
        >>> batches_to_time(128, 5, 1, [256, 1024], 12, 28)
        [128, 256, 640]
        >>> batches_to_time(128, 1, 1, [256], 28, 28)
        [128]
    """
    if size >= full_size:
        return sorted({base, base * scale})
    fitting = [b for b in extra if b * size**2 <= base * full_size**2]
    return sorted({base, base * auto_scale, base * scale, *fitting})


def format_advice(advice: Sequence[StageAdvice], base: int,
                  workers: Tuple[int, str], configured_workers: int) -> str:
    """A Markdown table of the recommended settings, one reason each.

    Example:
        >>> advice = [StageAdvice(12, 'step', 1.4, 5, 1, 5600.0,
        ...                       dict(batch_scale='b', replay='r'))]
        >>> print(format_advice(advice, 128, (1, 'w'), 1))
        | setting | size | value | why |
        |---|---|---|---|
        | batch_scale | 12 | x5 (batch 640) | b |
        | replay | 12 | x1 | r |
        | num_workers | all | 1 (configured: 1) | w |
    """
    lines = ['| setting | size | value | why |', '|---|---|---|---|']
    for a in advice:
        lines.append(f'| batch_scale | {a.size} | x{a.scale} (batch '
                     f'{a.scale * base}) | {a.reasons["batch_scale"]} |')
    for a in advice:
        lines.append(f'| replay | {a.size} | x{a.replay} | '
                     f'{a.reasons["replay"]} |')
    lines.append(f'| num_workers | all | {workers[0]} (configured: '
                 f'{configured_workers}) | {workers[1]} |')
    return '\n'.join(lines)


def config_lines(advice: Sequence[StageAdvice], base: int,
                 workers: int) -> str:
    """The recommended settings as config lines: options of the hook
    (merged into the config's entry) and the loader's workers.

    Example:
        >>> advice = [StageAdvice(12, 'loader', 1.4, 5, 2, 0.0),
        ...           StageAdvice(28, 'step', 1.0, 1, 1, 0.0)]
        >>> print(config_lines(advice, 128, 2))
        # in the config's EfficientTrainHook entry:
        batch_scale={12: 5},
        replay=dict(factors={12: 2}, buffer_samples=5120),
        # and
        train_dataloader = dict(num_workers=2)
    """
    scales = {a.size: a.scale for a in advice if a.scale > 1}
    factors = {a.size: a.replay for a in advice if a.replay > 1}
    lines = ["# in the config's EfficientTrainHook entry:"]
    lines.append(f'batch_scale={scales},' if scales else 'batch_scale=None,')
    if factors:
        # 8 of the largest replayed batches: as benchmark_pipeline.py's
        # comparison; the hook checks its memory before training
        buffer = 8 * max(a.scale * base for a in advice if a.replay > 1)
        lines.append(f'replay=dict(factors={factors}, '
                     f'buffer_samples={buffer}),')
    else:
        lines.append('replay=None,')
    lines += ['# and', f'train_dataloader = dict(num_workers={workers})']
    return '\n'.join(lines)
