"""RecipeSchedules without a Runner: real MMEngine schedulers on a tiny
torch optimizer, moved along compute time, and the two warm-up rules."""
import pytest
import torch
from mmengine.optim import OptimWrapper
from mmengine.optim.scheduler import (CosineAnnealingLR, LinearLR,
                                      ReduceOnPlateauLR)

from etpp_mm.curriculum import (Stage, build_plan, official_warmup_fraction,
                                preset_stages, recipe_step_of)
from etpp_mm.hooks import RecipeSchedules

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


def recipe_lr_curve():
    """The recipe's own schedulers stepped as MMEngine's ParamSchedulerHook
    does (after each iteration, or after each epoch), the LR read before
    each recipe iteration."""
    reference_wrapper = optimizer()
    per_iter, per_epoch = recipe_schedulers(reference_wrapper)
    recipe_lrs = []
    for done in range(1, 4 * ITERS + 1):
        recipe_lrs.append(lr(reference_wrapper))
        per_iter.step()
        if done % ITERS == 0:
            per_epoch.step()
    return recipe_lrs


def test_schedulers_follow_compute_not_iterations():
    messages = []
    wrapper = optimizer()
    schedulers = recipe_schedulers(wrapper)
    schedules = RecipeSchedules(plan(), ITERS, log=messages.append)
    schedules.wrap(schedulers)
    assert [repr(s) for s in schedulers] == [
        'ComputeClocked(LinearLR)', 'ComputeClocked(CosineAnnealingLR)'
    ]
    assert "traverse the recipe's 4 epochs" in messages[0]
    assert "warm-up: the recipe's 25.0% of the compute" in messages[1]
    recipe_lrs = recipe_lr_curve()
    assert len(set(recipe_lrs)) > 5  # a curve, not a constant

    fractions = [i / 40 for i in range(40)]
    seen = []
    for fraction in fractions:
        schedules.move_to(fraction)
        for scheduler in schedulers:
            scheduler.step()  # what ParamSchedulerHook does: nothing now
        seen.append(lr(wrapper))
        # f of the compute: f of the recipe's 20 iterations, rounded down
        assert schedules.recipe_step == int(fraction * 20 + 1e-9)
    assert seen == pytest.approx(
        [recipe_lrs[int(f * 20 + 1e-9)] for f in fractions])


def test_official_warmup_ends_where_the_authors_scripts_do():
    """A 300-epoch recipe warming up for 20 epochs, ET++ at budget 200:
    ResNet's table warms up for 20 real epochs of its 96 px stage, whose
    script runs int(200 * (224/96)**2) = 1088 epochs at 96 px (1.84% of the
    compute); DeiT's warms up for 20% of the compute."""
    iters = 3

    def schedules_of(preset, warmup):
        mode, stages = preset_stages(preset, full_size=(224, 224))
        curriculum = build_plan(stages, mode, 300, (224, 224), budget=200)
        wrapper = optimizer()
        schedulers = [
            LinearLR(wrapper, start_factor=0.01, by_epoch=False, begin=0,
                     end=20 * iters),
            CosineAnnealingLR(wrapper, T_max=280 * iters, by_epoch=False,
                              begin=20 * iters, end=300 * iters),
        ]
        schedules = RecipeSchedules(curriculum, iters, warmup, preset)
        schedules.wrap(schedulers)
        return schedules

    # the authors' arithmetic, from their scripts
    resnet_end = 20 / int(200 * 224**2 / 96**2)
    deit_end = 0.2
    for preset, end in (('etpp', resnet_end), ('etpp_deit', deit_end)):
        official = schedules_of(preset, 'official')
        recipe_end, target = official.warmup_ends
        assert recipe_end == pytest.approx(20 / 300)
        assert target == pytest.approx(end, rel=1e-3)
        # the warm-up's last recipe iteration is reached at that compute
        assert official.step_at(target) == 20 * iters
        assert official.step_at(target * 0.999) < 20 * iters
        assert official.step_at(0.5 * target) == pytest.approx(
            10 * iters, abs=1)
        assert official.step_at(1.0) == 300 * iters
        # after the warm-up the rest of the recipe's curve is stretched
        # over the rest of the compute
        middle = (1 + target) / 2
        assert official.step_at(middle) == pytest.approx(160 * iters,
                                                         abs=1)
    recipe = schedules_of('etpp', 'recipe')
    assert recipe.warmup_ends is None
    assert recipe.step_at(20 / 300) == 20 * iters
    assert official_warmup_fraction('etpp', 200, (96 / 224)**2, 20) == \
        pytest.approx(resnet_end, rel=1e-3)


def test_resume_takes_up_the_same_schedule():
    wrapper = optimizer()
    schedulers = recipe_schedulers(wrapper)
    schedules = RecipeSchedules(plan(), ITERS)
    schedules.wrap(schedulers)
    schedules.move_to(0.6)
    states = [s.state_dict() for s in schedulers]

    resumed_wrapper = optimizer()
    resumed = recipe_schedulers(resumed_wrapper)
    resumed_schedules = RecipeSchedules(plan(), ITERS)
    resumed_schedules.wrap(resumed)
    for scheduler, state in zip(resumed, states):
        scheduler.load_state_dict(state)  # goes to the wrapped scheduler
    resumed_wrapper.param_groups[0]['lr'] = lr(wrapper)
    resumed_schedules.recipe_step = schedules.recipe_step
    schedules.move_to(0.8)
    resumed_schedules.move_to(0.8)
    assert resumed_schedules.recipe_step == recipe_step_of(0.8, 4, ITERS)
    assert lr(resumed_wrapper) == pytest.approx(lr(wrapper))


def test_wrapping_twice_and_dicts_of_lists():
    wrapper = optimizer()
    schedulers = dict(main=recipe_schedulers(wrapper))
    schedules = RecipeSchedules(plan(), ITERS)
    schedules.wrap(schedulers)
    schedules.wrap(schedulers)  # already clocked: left alone
    assert len(schedules.schedulers) == 2
    assert all(
        repr(s).startswith('ComputeClocked') for s in schedulers['main'])


def test_metric_driven_scheduler_is_refused():
    wrapper = optimizer()
    schedulers = [ReduceOnPlateauLR(wrapper, monitor='loss')]
    with pytest.raises(ValueError, match='ReduceOnPlateauLR'):
        RecipeSchedules(plan(), ITERS).wrap(schedulers)


def test_no_schedulers_is_a_no_op():
    schedules = RecipeSchedules(plan(), ITERS, log=print)
    schedules.wrap([])
    schedules.move_to(0.7)
    assert schedules.schedulers == [] and schedules.recipe_step == 0
