"""ComputeClock without a Runner: real MMEngine schedulers on a tiny torch
optimizer, moved along compute time."""
import pytest
import torch
from mmengine.optim import OptimWrapper
from mmengine.optim.scheduler import (CosineAnnealingLR, LinearLR,
                                      ReduceOnPlateauLR)

from etpp_mm.curriculum import Stage, build_plan, recipe_step_at
from etpp_mm.hooks import ComputeClock

ITERS = 5  # iterations per real epoch


def plan():
    # 4 recipe epochs; at budget 4 the quarter-pixel stage runs 8 real
    # epochs and the full-size stage 2: 10 real epochs in all.
    return build_plan([Stage(0.5, 8), Stage(0.5, 16)], 'etpp',
                      recipe_epochs=4, full_size=16)


def optimizer():
    model = torch.nn.Linear(2, 1)
    return OptimWrapper(torch.optim.SGD(model.parameters(), lr=1.0))


def recipe_schedulers(wrapper):
    # warm-up per iteration, then a cosine stepped once per epoch
    return [
        LinearLR(wrapper, start_factor=0.1, by_epoch=False, begin=0,
                 end=ITERS),
        CosineAnnealingLR(wrapper, T_max=3, by_epoch=True, begin=1, end=4),
    ]


def lr(wrapper):
    return wrapper.param_groups[0]['lr']


def test_schedulers_follow_compute_not_iterations():
    messages = []
    wrapper = optimizer()
    schedulers = recipe_schedulers(wrapper)
    clock = ComputeClock(plan(), ITERS, log=messages.append)
    clock.wrap(schedulers)
    assert [repr(s) for s in schedulers] == [
        'ComputeClocked(LinearLR)', 'ComputeClocked(CosineAnnealingLR)'
    ]
    assert 'over 10 real epochs' in messages[0]

    # The reference: the recipe's own schedulers stepped as MMEngine's
    # ParamSchedulerHook does (after each iteration, or after each epoch),
    # the LR read before each recipe iteration.
    reference_wrapper = optimizer()
    per_iter, per_epoch = recipe_schedulers(reference_wrapper)
    recipe_lrs = []
    for done in range(1, 4 * ITERS + 1):
        recipe_lrs.append(lr(reference_wrapper))
        per_iter.step()
        if done % ITERS == 0:
            per_epoch.step()
    assert len(set(recipe_lrs)) > 5  # a curve, not a constant

    seen = []
    for iteration in range(10 * ITERS):
        clock.advance(iteration)
        for scheduler in schedulers:
            scheduler.step()  # what ParamSchedulerHook does: nothing now
        seen.append(lr(wrapper))
        assert clock.recipe_step == recipe_step_at(clock.plan, iteration,
                                                   ITERS)
    expected = [
        recipe_lrs[recipe_step_at(clock.plan, i, ITERS)]
        for i in range(10 * ITERS)
    ]
    assert seen == pytest.approx(expected)
    # the low-resolution half of the compute covers 8 of 10 real epochs,
    # and half of the recipe's iterations
    assert clock.recipe_step == 4 * ITERS - 1
    assert recipe_step_at(clock.plan, 8 * ITERS, ITERS) == 2 * ITERS
    assert clock.compute_done(8 * ITERS) == pytest.approx(2.0)
    assert clock.compute_fraction(10 * ITERS) == pytest.approx(1.0)


def test_resume_takes_up_the_same_schedule():
    wrapper = optimizer()
    schedulers = recipe_schedulers(wrapper)
    clock = ComputeClock(plan(), ITERS)
    clock.wrap(schedulers)
    for iteration in range(23):
        clock.advance(iteration)
    states = [s.state_dict() for s in schedulers]

    resumed_wrapper = optimizer()
    resumed = recipe_schedulers(resumed_wrapper)
    resumed_clock = ComputeClock(plan(), ITERS)
    resumed_clock.wrap(resumed)
    for scheduler, state in zip(resumed, states):
        scheduler.load_state_dict(state)  # goes to the wrapped scheduler
    resumed_wrapper.param_groups[0]['lr'] = lr(wrapper)
    resumed_clock.resume(23)
    assert resumed_clock.recipe_step == clock.recipe_step
    clock.advance(23)
    resumed_clock.advance(23)
    lr_at_23 = lr(wrapper)
    assert lr(resumed_wrapper) == pytest.approx(lr_at_23)


def test_wrapping_twice_and_dicts_of_lists():
    wrapper = optimizer()
    schedulers = dict(main=recipe_schedulers(wrapper))
    clock = ComputeClock(plan(), ITERS)
    clock.wrap(schedulers)
    clock.wrap(schedulers)  # already clocked: left alone
    assert len(clock.schedulers) == 2
    assert all(
        repr(s).startswith('ComputeClocked') for s in schedulers['main'])


def test_metric_driven_scheduler_is_refused():
    wrapper = optimizer()
    schedulers = [ReduceOnPlateauLR(wrapper, monitor='loss')]
    with pytest.raises(ValueError, match='ReduceOnPlateauLR'):
        ComputeClock(plan(), ITERS).wrap(schedulers)


def test_no_schedulers_is_a_no_op():
    clock = ComputeClock(plan(), ITERS, log=print)
    clock.wrap([])
    clock.resume(7)
    clock.advance(7)
    assert clock.schedulers == [] and clock.recipe_step == 0
