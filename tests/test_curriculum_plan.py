"""The stage tables and the epoch/compute arithmetic (pure functions)."""
import math

import pytest

from etpp_mm.curriculum import (Stage, advance_schedulers, build_plan,
                                format_plan, preset_stages, recipe_step_of,
                                scale_size, stage_table, stages_from_dicts)

FULL = (224, 224)


def etpp_plan(budget, recipe_epochs=300, preset='etpp'):
    mode, stages = preset_stages(preset, FULL)
    return build_plan(stages, mode, recipe_epochs, FULL, budget)


def epochs_by_size(plan):
    totals = {}
    for stage in plan.stages:
        totals[stage.size[0]] = totals.get(stage.size[0], 0) + stage.epochs
    return totals


def test_etpp_budget_200_matches_the_papers_arithmetic():
    """Each tenth of 200 equivalent epochs: 20 x (224/96)^2 = 108.9 real
    epochs at 96, 39.2 at 160, 20 at 224; the authors' scripts truncate
    the cumulative counts (108, 109, 39, 40, 39, 39, 20 x 4: 454), the
    plan keeps them exact so every stage gets its share."""
    plan = etpp_plan(200)
    assert [s.epochs for s in plan.stages] == pytest.approx(
        [200 / 10 * (224 / 96)**2] * 2 + [20 * (224 / 160)**2] * 4 +
        [20] * 4)
    assert epochs_by_size(plan) == pytest.approx(
        {96: 217.78, 160: 156.8, 224: 80}, abs=0.01)
    assert [math.floor(s.end_epoch + 1e-9) for s in plan.stages] == [
        108, 217, 256, 296, 335, 374, 394, 414, 434, 454]
    assert plan.total_epochs == 455  # the last one partial
    assert plan.equivalent_epochs == pytest.approx(200, abs=1e-9)
    assert plan.speedup == pytest.approx(1.5, abs=1e-9)


def test_etpp_budget_100_matches_the_papers_arithmetic():
    totals = epochs_by_size(etpp_plan(100))
    assert totals[96] == pytest.approx(108.89, abs=0.01)
    assert totals[160] == pytest.approx(78.4)  # 4 x 19.6 epochs
    assert totals[224] == pytest.approx(40)


def test_et_preset_splits_recipe_epochs_and_costs_195_9():
    mode, stages = preset_stages('et', FULL)
    plan = build_plan(stages, mode, 300, FULL)
    assert mode == 'et'
    assert [s.epochs for s in plan.stages] == [60] * 5
    assert plan.total_epochs == 300
    assert plan.equivalent_epochs == pytest.approx(195.9, abs=0.05)
    assert plan.speedup == pytest.approx(1.53, abs=0.01)


def test_same_cost_as_recipe_is_the_default_budget():
    plan = etpp_plan(None)
    assert plan.budget == 300
    assert plan.equivalent_epochs == pytest.approx(300, abs=1e-9)


@pytest.mark.parametrize('preset,sizes', [
    ('etpp_convnext', [160] * 6 + [224] * 4),
    ('etpp_deit', [96, 96, 160, 160, 160, 160, 192, 192, 224, 224]),
])
def test_other_presets_sizes_and_magnitudes(preset, sizes):
    mode, stages = preset_stages(preset, FULL)
    assert mode == 'etpp'
    assert [s.size[0] for s in stages] == sizes
    assert [s.params['RandAugment']['magnitude_level']
            for s in stages] == list(range(10))


def test_preset_sizes_scale_to_the_recipe_size_and_divisor():
    assert scale_size(96, (28, 28), 4) == (12, 12)
    assert scale_size(160, (28, 28), 4) == (20, 20)
    assert scale_size(192, (28, 28), 4) == (24, 24)
    assert scale_size(224, (28, 28), 4) == (28, 28)
    assert scale_size(96, (384, 384), 32) == (160, 160)
    # never below one multiple, never above the full size
    assert scale_size(8, (28, 28), 4) == (4, 4)
    assert scale_size(96, (32, 48), 1) == (14, 21)


def test_compute_fraction_and_stage_lookup():
    plan = etpp_plan(200)
    assert plan.compute_fraction(0) == 0
    assert plan.compute_fraction(plan.total_epochs) == pytest.approx(1)
    # the 96 stages hold 20% of compute in 217.8 of 454.6 epochs
    assert plan.compute_fraction(217.78) == pytest.approx(0.2, abs=1e-4)
    assert plan.stage_index_at(0) == 0
    assert plan.stage_index_at(108) == 0  # the first ends at 108.9
    assert plan.stage_index_at(109) == 1
    assert plan.stage_index_at(454) == 9
    assert plan.stage_index_at(10_000) == 9


def test_recipe_step_follows_compute_not_iterations():
    plan = etpp_plan(200)
    ipe = 10
    total_recipe = 300 * ipe
    # 60% of the real epochs: an iteration-based mapping would be at 60%
    # of the recipe's schedule; compute is far behind
    fraction = plan.compute_fraction(plan.stages[-1].end_epoch * 0.6)
    assert fraction < 0.35
    assert recipe_step_of(fraction, 300, ipe) == int(fraction * total_recipe)
    assert recipe_step_of(1.0, 300, ipe) == total_recipe


def test_advance_schedulers_replays_iter_and_epoch_steps():
    calls = []

    class Recorder:

        def __init__(self, name, by_epoch):
            self.name, self.by_epoch = name, by_epoch

        def step(self):
            calls.append(self.name)

    schedulers = [Recorder('it', False), Recorder('ep', True)]
    assert advance_schedulers(schedulers, 0, 7, epoch_length=3) == 7
    assert calls.count('it') == 7 and calls.count('ep') == 2
    # iteration 3 ends an epoch: the epoch step comes after the iter step
    assert calls[:4] == ['it', 'it', 'it', 'ep']
    with pytest.raises(ValueError, match='back'):
        advance_schedulers(schedulers, 7, 6, epoch_length=3)


@pytest.mark.parametrize('kwargs,match', [
    (dict(budget=0), 'budget must be a positive'),
    (dict(budget=-5), 'budget must be a positive'),
    (dict(budget=float('nan')), 'budget must be a positive'),
    (dict(budget=True), 'budget must be a positive'),
    (dict(budget=float('inf')), 'budget must be a positive'),
])
def test_bad_budget(kwargs, match):
    mode, stages = preset_stages('etpp', FULL)
    with pytest.raises(ValueError, match=match):
        build_plan(stages, mode, 300, FULL, **kwargs)


def test_a_tiny_budget_keeps_every_stage():
    """No whole epoch is needed: 0.01 equivalent epochs still plan all ten
    stages at their shares (the clock ends them mid-epoch)."""
    plan = etpp_plan(0.01)
    assert all(s.epochs > 0 for s in plan.stages)
    assert plan.total_epochs == 1
    assert plan.equivalent_epochs == pytest.approx(0.01)


def test_bad_stage_tables_name_the_value_and_key():
    with pytest.raises(ValueError, match=r'sum to 1.*0\.5, 0\.4'):
        build_plan([Stage(0.5, (20, 20)), Stage(0.4, (28, 28))], 'etpp', 10,
                   (28, 28))
    with pytest.raises(ValueError, match=r'stages\[1\]\.size \(32, 32\).*'
                       r'larger than the train size \(28, 28\)'):
        build_plan([Stage(0.5, (20, 20)), Stage(0.5, (32, 32))], 'etpp', 10,
                   (28, 28))
    with pytest.raises(ValueError, match=r'stages\[0\]\.size \(18, 18\).*'
                       'size_divisor=4'):
        build_plan([Stage(0.5, (18, 18)), Stage(0.5, (28, 28))], 'etpp', 10,
                   (28, 28), size_divisor=4)
    with pytest.raises(ValueError, match=r'stages\[0\]\.share'):
        build_plan([Stage(0, (20, 20)), Stage(1, (28, 28))], 'etpp', 10,
                   (28, 28))
    with pytest.raises(ValueError, match="mode must be one of"):
        build_plan([Stage(1, (28, 28))], 'fast', 10, (28, 28))
    with pytest.raises(ValueError, match='budget=5 applies to'):
        build_plan([Stage(1, (28, 28))], 'et', 10, (28, 28), budget=5)


def test_user_tables_from_config_dicts():
    rows = [
        dict(share=0.25, size=12),
        dict(share=0.75, size=(28, 28),
             params={'RandAugment': {'magnitude_level': 9}}),
    ]
    mode, stages, from_preset = stage_table(None, rows, None, (28, 28))
    assert (mode, from_preset) == ('etpp', False)
    assert [s.size for s in stages] == [(12, 12), (28, 28)]
    with pytest.raises(ValueError, match=r"stages\[0\] has unknown keys "
                       r"\['epochs'\]"):
        stages_from_dicts([dict(share=1, size=28, epochs=3)])
    with pytest.raises(ValueError, match=r'stages\[0\]\.params must map'):
        stages_from_dicts([dict(share=1, size=28, params={'x': 1})])
    with pytest.raises(ValueError, match="unknown preset 'fast'"):
        stage_table('fast', None, None, (28, 28))
    with pytest.raises(ValueError, match='exactly one of'):
        stage_table('etpp', rows, None, (28, 28))
    with pytest.raises(ValueError, match="contradicts preset 'et'"):
        stage_table('et', None, 'etpp', (28, 28))


def test_format_plan_lists_every_stage_and_the_totals():
    text = format_plan(etpp_plan(200), iters_per_epoch=10)
    lines = text.splitlines()
    assert len(lines) == 12  # header, 10 stages, totals
    assert lines[1].split()[:2] == ['1', '96x96']
    assert '1089' in lines[1]  # 108.9 epochs x 10 iterations
    assert lines[-1].startswith(
        'total: 454.58 real epochs = 200.0 equivalent')
    assert lines[-1].endswith('speed-up 1.50x')
