"""Advance a recipe's parameter schedulers along the recipe's own clock.

MMEngine steps iteration-based schedulers after every iteration and
epoch-based ones after every epoch. To traverse the recipe's curves in
compute time, the curriculum hook moves a scheduler set from one recipe
iteration to a later one, replaying exactly the calls a plain run of the
recipe would have made in between. Duck-typed: a scheduler is anything with
a ``by_epoch`` attribute and a ``step()`` method.
"""
from typing import Iterable


def advance_schedulers(schedulers: Iterable, from_step: int, to_step: int,
                       epoch_length: int) -> int:
    """Replay the recipe's scheduler calls from ``from_step`` to ``to_step``.

    Args:
        schedulers: the recipe's schedulers, in the recipe's order.
        from_step: recipe iterations already completed.
        to_step: recipe iterations completed afterwards (``>= from_step``).
        epoch_length: recipe iterations per epoch.

    Returns:
        int: the new position, ``to_step``.

    Example:
        >>> class Counter:
        ...     def __init__(self, by_epoch): self.by_epoch, self.n = by_epoch, 0
        ...     def step(self): self.n += 1
        >>> per_iter, per_epoch = Counter(False), Counter(True)
        >>> advance_schedulers([per_iter, per_epoch], 0, 25, epoch_length=10)
        25
        >>> per_iter.n, per_epoch.n
        (25, 2)
    """
    if to_step < from_step:
        raise ValueError(f'cannot move schedulers back from step {from_step} '
                         f'to {to_step}')
    schedulers = list(schedulers)
    per_iter = [s for s in schedulers if not s.by_epoch]
    per_epoch = [s for s in schedulers if s.by_epoch]
    for step in range(from_step + 1, to_step + 1):
        for scheduler in per_iter:
            scheduler.step()
        if step % epoch_length == 0:
            for scheduler in per_epoch:
                scheduler.step()
    return to_step
