"""The compute clock of every ET++ run, counted in samples x pixels: the
pure schedule (exact shares at any budget, early large batch, gradient
accumulation), LR rule and ETA model, and real training (workers, resume
with another process count)."""
import json
import os
import os.path as osp
import re
import sys

import pytest

from conftest import ROOT, load_probe, run_tool, train
from mmengine.config import Config

from etpp_mm.analysis import lr_at_recipe_steps
from etpp_mm.curriculum import (SampleSchedule, StageEta, build_plan,
                                lr_factor, lr_rule_for, preset_stages,
                                recipe_step_of, stage_batch_scales)

TINY = osp.join(ROOT, 'tests', 'configs', 'fmnist_tiny_batch.py')
KILLED = osp.join(ROOT, 'tests', 'configs', 'fmnist_tiny_batch_killed.py')


def etpp_plan(recipe_epochs=18):
    mode, stages = preset_stages('etpp', full_size=(224, 224))
    return build_plan(stages, mode, recipe_epochs, (224, 224))


@pytest.mark.parametrize('samples,batch', [(1000, 32), (333, 7)])
def test_compute_equals_the_plan_at_every_stage_boundary(samples, batch):
    plan = etpp_plan()
    scales = stage_batch_scales('auto', [s.size for s in plan.stages],
                                plan.full_size)
    assert scales[0] > 1
    schedule = SampleSchedule(plan, scales)
    done, previous = 0.0, None
    for batches in schedule.run(0.0, samples, batch):
        for stage, count in batches:
            if stage != previous and previous is not None:
                # the stage's share ends here, not at an epoch end: within
                # one batch of the previous stage
                step = batch * scales[previous] * plan.stages[
                    previous].cost / samples
                assert -1e-9 <= done - schedule.bounds[previous] < step
            assert count <= batch * scales[stage]
            done += count * plan.stages[stage].cost / samples
            previous = stage
    # the ten equal shares of 18 epochs: 1.8 equivalent epochs each
    assert schedule.bounds[:2] == pytest.approx([1.8, 3.6])
    assert -1e-9 <= done - plan.budget < batch * plan.stages[-1].cost / samples


@pytest.mark.parametrize('scale', [None, 'auto'])
def test_every_stage_gets_its_share_on_a_short_budget(scale):
    """Budget 1.5 of a 300-epoch recipe (a first try on a small folder):
    all ten stages run, each spending its tenth of the budget within one
    batch, and the run spends the budget within one batch."""
    mode, stages = preset_stages('etpp', full_size=(224, 224))
    plan = build_plan(stages, mode, 300, (224, 224), budget=1.5)
    sizes = [s.size for s in plan.stages]
    scales = stage_batch_scales(scale or 1, sizes, plan.full_size)
    schedule = SampleSchedule(plan, scales)
    samples, batch = 100, 2
    spent = schedule.stage_shares(schedule.run(0.0, samples, batch), samples)
    for index, (stage, amount) in enumerate(zip(plan.stages, spent)):
        one_batch = batch * scales[index] * stage.cost / samples
        assert abs(amount - 0.15) <= one_batch + 1e-9, (index, amount)
    assert abs(sum(spent) - 1.5) <= batch / samples + 1e-9
    # the plan table's real epochs are the shares' exact spans
    assert plan.stages[0].epochs == pytest.approx(0.15 * (224 / 96)**2)


def test_accumulation_follows_the_doubled_batch_curve():
    """accumulative_counts=2 at batch b plans the optimizer steps of batch
    2b: the same stage and compute at every step, each step's iterations
    in one stage, every epoch whole steps."""
    plan = etpp_plan()
    scales = stage_batch_scales('auto', [s.size for s in plan.stages],
                                plan.full_size)
    doubled = SampleSchedule(plan, scales).run(0.0, 1000, 64)
    accumulated = SampleSchedule(plan, scales, accumulate=2).run(
        0.0, 1000, 32)
    assert len(doubled) == len(accumulated)
    for big, small in zip(doubled, accumulated):
        assert len(small) == 2 * len(big)
        steps = [small[i:i + 2] for i in range(0, len(small), 2)]
        for (stage, count), step in zip(big, steps):
            assert [s for s, _ in step] == [stage, stage]
            assert sum(c for _, c in step) == count
    # an epoch ending with fewer samples than iterations of a step: the
    # step before takes them
    tail = SampleSchedule(plan, [1] * 10, accumulate=4).epoch(0.0, 41, 10)[0]
    assert [c for _, c in tail] == [10, 10, 10, 11]


def test_resume_continues_the_same_schedule_with_another_epoch_size():
    plan = etpp_plan()
    schedule = SampleSchedule(plan, [2] * 10)
    epochs = schedule.run(0.0, 1000, 32)
    # after 7 epochs of one process, continue with 2 (half the samples each)
    done = 0.0
    for _ in range(7):
        _, done = schedule.epoch(done, 1000, 32)
    rest = schedule.run(done, 500, 32)
    assert sum(len(e) for e in rest) > 0
    assert schedule.stage_at(done) == epochs[7][0][0]
    assert [b[0] for b in rest[-1]][-1] == 9


@pytest.mark.parametrize('name,rule,factor', [('SGD', 'linear', 4.0),
                                              ('LARS', 'linear', 4.0),
                                              ('AdamW', 'sqrt', 2.0),
                                              ('Adam', 'sqrt', 2.0),
                                              ('Lamb', 'sqrt', 2.0)])
def test_lr_rule_per_optimizer_type(name, rule, factor):
    assert lr_rule_for(name) == rule
    assert lr_factor(4, lr_rule_for(name)) == factor
    assert lr_factor(4, lr_rule_for(name, 'none')) == 1.0


def test_bad_batch_scale_and_lr_rule_name_the_key():
    with pytest.raises(ValueError, match='batch_scale gives a multiple for '
                       'size 13'):
        stage_batch_scales({13: 2}, [(12, 12), (28, 28)], (28, 28))
    with pytest.raises(ValueError, match='lr_scaling'):
        lr_rule_for('Adagradish2', 'cubic')
    with pytest.raises(ValueError, match="set EfficientTrainHook.lr_scal"):
        lr_rule_for('Shampoo')
    with pytest.raises(ValueError, match="needs an ET\\+\\+"):
        mode, stages = preset_stages('et', full_size=(224, 224))
        SampleSchedule(build_plan(stages, mode, 10, (224, 224)), [1] * 4)


def test_eta_model_prices_unseen_sizes_from_the_measured_ones():
    eta = StageEta([(12, 12), (20, 20), (28, 28)])
    assert eta.remaining([10, 10, 10]) is None
    for _ in range(20):
        eta.observe(0, 64, 0.32)
    assert eta.measured_stages() == [0]
    # one size measured: 20 and 28 px at 12 px's seconds per image
    assert eta.seconds_per_sample(1) == pytest.approx(0.005)
    assert eta.seconds_per_sample(2) == pytest.approx(0.005)
    eta.observe(2, 16, 0.16)
    # 144 px at 0.005 s, 784 px at 0.01 s: 400 px on their line
    assert eta.seconds_per_sample(1) == pytest.approx(0.005 + 0.005 * 256 /
                                                      640)
    assert eta.remaining([0, 0, 100]) == pytest.approx(1.0)
    # a larger size measured cheaper (a larger batch at the small one): no
    # line down, the nearest measured size's rate
    cheap = StageEta([(12, 12), (20, 20), (28, 28)])
    cheap.observe(0, 10, 0.1)
    cheap.observe(1, 10, 0.05)
    assert cheap.seconds_per_sample(2) == pytest.approx(0.005)


def _batches(records):
    return [(r['size'][0], r['batch'], r['lr']) for _, r in
            sorted(records.items())]


def test_workers_see_each_batch_stage_and_kill_resume_replays_it(
        tmp_path, fmnist_root):
    """Persistent workers, a stage change mid-run with batch x4/x2, then
    a run killed with SIGKILL and resumed: same (size, batch, LR)."""
    opts = ['train_dataloader.num_workers=2',
            'train_dataloader.persistent_workers=True']
    whole = tmp_path / 'whole'
    train(TINY, whole, '--cfg-options', *opts)
    expected, _ = load_probe(whole)
    seq = _batches(expected)
    assert {(s, b) for s, b, _ in seq} == {(12, 64), (20, 32), (28, 16)}
    for it, r in expected.items():
        stage = [12, 20, 28].index(r['size'][0])
        assert r['sizes'] == [r['size']] and r['stamps'] == [stage], it
    # SGD, linear rule: each iteration's LR is the recipe's scheduled LR at
    # the same compute (warm-up + cosine over its 4 epochs of 4 iterations)
    # times the stage's batch multiple
    recipe = Config.fromfile(TINY)
    its = sorted(expected)
    steps = [recipe_step_of(expected[i]['compute'], 4, 4) for i in its]
    recipe_lrs = lr_at_recipe_steps(recipe, steps, 4)
    scale = {12: 4, 20: 2, 28: 1}
    for it, recipe_lr in zip(its, recipe_lrs):
        r = expected[it]
        assert r['lr'] == pytest.approx(scale[r['size'][0]] * recipe_lr), it
    assert len(set(recipe_lrs)) > 3  # the schedule moved
    # the plan tool's LR at the first stage's start is the LR training
    # used there, its batch multiple included
    plan = json.loads(run_tool([
        sys.executable, osp.join(ROOT, 'tools', 'analysis',
                                 'print_curriculum.py'), TINY, '--json',
        '--iters-per-epoch', '4'
    ]).stdout)
    assert [s['batch_scale'] for s in plan['stages']] == [4, 2, 1]
    assert plan['stages'][0]['lr_start'] == pytest.approx(expected[0]['lr'])
    assert expected[0]['lr'] == pytest.approx(4 * recipe_lrs[0])

    parts = tmp_path / 'parts'
    proc = train(KILLED, parts, '--cfg-options', *opts, check=False)
    assert proc.returncode != 0
    train(TINY, parts, '--resume', '--cfg-options', *opts)
    resumed, _ = load_probe(parts)
    assert _batches(resumed) == seq


def _launch(config, procs, work_dir, *extra):
    env = {'OMP_NUM_THREADS': '1', 'PORT': str(29500 + os.getpid() % 1000)}
    if procs == 1:
        return train(config, work_dir, *extra, env=env, check=False)
    return run_tool(['bash', osp.join(ROOT, 'tools', 'dist_train.sh'),
                     config, str(procs), '--work-dir', str(work_dir), *extra],
                    env=env, check=False)


PLAIN = osp.join(ROOT, 'tests', 'configs', 'fmnist_tiny.py')
# fmnist_tiny.py with a third hook that stops it: made a SIGKILL below
PLAIN_STOPPED = osp.join(ROOT, 'tests', 'configs',
                         'fmnist_tiny_interrupted.py')


@pytest.mark.parametrize('first,second', [(1, 2), (2, 1)])
def test_resume_with_another_process_count_continues_the_curve(
        tmp_path, fmnist_root, first, second):
    """The recipe's batch (no batch_scale), trained with ``first``
    processes, killed with SIGKILL, resumed with ``second``: the compute
    curve continues where the checkpoint left it, each iteration has the
    size and LR of the uninterrupted curve at its compute, and the run ends
    at the budget (iterations per epoch differ between the two parts)."""
    proc = _launch(PLAIN_STOPPED, first, tmp_path, '--cfg-options',
                   'custom_hooks.2.type=KillAtIter',
                   'custom_hooks.2.at_iter=' + ('8' if first == 1 else '6'))
    assert proc.returncode != 0
    before, _ = load_probe(tmp_path)
    proc = _launch(PLAIN, second, tmp_path, '--resume')
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert 'samples-counted curriculum' in proc.stdout
    after, _ = load_probe(tmp_path)
    resumed_at = int(re.search(r'resumed epoch: \d+, iter: (\d+)',
                               proc.stdout).group(1))
    # killed at an epoch start: the resumed run starts where the last
    # batch of the first part left the compute (per process: 64 / first
    # samples an epoch, budget 4 equivalent epochs)
    last = before[resumed_at - 1]
    step = last['batch'] * (last['size'][0] / 28)**2 / (64 / first) / 4
    assert after[resumed_at]['compute'] == pytest.approx(
        last['compute'] + step, abs=1e-9)
    epoch = after[resumed_at]['epoch']
    its = sorted(after)
    computes = [after[i]['compute'] for i in its]
    assert computes == sorted(computes)
    # size and LR of the uninterrupted curve: the stage whose share holds
    # the compute (0.3 / 0.3 / 0.4), and the recipe's scheduled LR at the
    # same compute (warm-up + cosine over its 4 epochs, whose iterations
    # per epoch are those of the first part, kept by its checkpoint)
    recipe = Config.fromfile(PLAIN)
    ipe = 4 // first
    recipe_lrs = lr_at_recipe_steps(
        recipe, [recipe_step_of(c, 4, ipe) for c in computes], ipe)
    for it, compute, recipe_lr in zip(its, computes, recipe_lrs):
        r = after[it]
        size = 12 if compute < 0.3 - 1e-9 else 20 if compute < 0.6 - 1e-9 \
            else 28
        assert r['size'] == [size, size], it
        assert r['lr'] == pytest.approx(recipe_lr), it
        if it >= resumed_at:  # the new process count's batches
            assert r['epoch'] >= epoch
            assert r['batch'] == min(16, 64 // second)
    assert {after[i]['size'][0] for i in its if i >= resumed_at} >= {20, 28}
    assert 'curriculum finished' in proc.stdout
    done = float(re.search(r'([\d.]+) equivalent full-size epochs',
                           proc.stdout).group(1))
    # the budget (4), overshot by less than one full-size batch
    assert 3.95 <= done < 4 + 16 / (64 / second) + 0.05


def test_eta_rate_follows_the_last_iterations_of_each_size():
    """A machine that gets twice as slow: the rate is that of the last
    ``window`` iterations, not the run's average; stages of one size share
    their measurements."""
    eta = StageEta([(12, 12), (28, 28), (12, 12)], window=10)
    for _ in range(30):
        eta.observe(0, 100, 1.0)
    for _ in range(10):
        eta.observe(2, 100, 2.0)
    assert eta.seconds_per_sample(0) == pytest.approx(0.02)
    assert eta.seconds_per_sample(2) == pytest.approx(0.02)
    assert eta.measured_stages(40) == [0, 2]
    assert eta.remaining([50, 0, 50]) == pytest.approx(2.0)


def test_precise_bn_runs_on_the_stage_loader():
    """MMPretrain's PreciseBNHook sizes its pass from the train loader's
    batch_size, which PyTorch reports as None for a loader on a batch
    sampler: the stage loader reports the recipe's, and the hook's BN
    update runs through the stage batches (RegNet's recipe has the hook)."""
    import torch
    from mmengine.dataset import default_collate
    from mmpretrain.engine.hooks.precise_bn_hook import update_bn_stats
    from mmpretrain.registry import MODELS
    from mmpretrain.structures import DataSample
    from torch.utils.data import DataLoader

    from etpp_mm.data import StageHolder, stage_loader

    class Images(torch.utils.data.Dataset):
        def __len__(self):
            return 8

        def __getitem__(self, index):
            size = (16, 32)[holder.get()]
            return dict(inputs=torch.rand(3, size, size) * 255,
                        data_samples=DataSample().set_gt_label(0))

    holder = StageHolder()
    recipe = DataLoader(Images(), batch_size=2, collate_fn=default_collate)
    loader = stage_loader(recipe, holder)
    assert recipe.batch_size == loader.batch_size == 2
    loader.batch_sampler.set_batches([(0, 4), (1, 2), (1, 2)])
    model = MODELS.build(dict(
        type='ImageClassifier',
        data_preprocessor=dict(type='ClsDataPreprocessor'),
        backbone=dict(type='ResNet', depth=18),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=2, in_channels=512)))
    model.train()
    before = model.backbone.bn1.running_mean.clone()
    update_bn_stats(model, loader, num_samples=6, logger='silent')
    assert not torch.equal(model.backbone.bn1.running_mean, before)


@pytest.mark.parametrize('samples,first', [(60000, 5), (20000, 4),
                                           (3000, 1)])
def test_auto_batch_keeps_a_floor_of_optimizer_steps(samples, first):
    """batch_scale='auto' at batch 128: Fashion-MNIST's 469 steps an epoch
    take x5 at 96/224 of the side; 157 steps only x4 and 24 none, so no
    epoch of a stage falls below AUTO_MIN_STEPS_PER_EPOCH steps; the cap
    is logged with the numbers a user needs to override it."""
    from torch.utils.data import DataLoader

    from etpp_mm.curriculum.batching import AUTO_MIN_STEPS_PER_EPOCH
    from etpp_mm.hooks import SampleClock
    plan = etpp_plan(15)  # 96 px twice, 160 px four times, 224 px
    expected = [first] * 2 + [1] * 8
    messages = []
    clock = SampleClock(plan, 'auto', log=messages.append)
    loader = DataLoader(range(samples), batch_size=128)
    clock.install(loader, [], align_to_epochs=False)
    assert clock.scales == expected
    steps = -(-samples // 128)
    for scale in clock.scales:
        assert scale == 1 or steps / scale >= AUTO_MIN_STEPS_PER_EPOCH
    capped = [m for m in messages if m.startswith("batch_scale='auto'")]
    if first < 5:
        assert capped == [
            f"batch_scale='auto': x{first} (not x5) at 96x96, so "
            f'that an epoch keeps at least {AUTO_MIN_STEPS_PER_EPOCH} '
            f'optimizer steps (the recipe has {steps}); set batch_scale to '
            'a dict {size: multiple} to choose others'
        ]
    else:
        assert capped == []
    # the floor counts optimizer steps: 313 iterations of 64 are 157 steps
    # of 2 iterations (x4), 313 steps of 1 (x5)
    for accumulate, scale in ((2, 4), (1, 5)):
        accumulated = SampleClock(plan, 'auto', accumulate=accumulate)
        accumulated.install(DataLoader(range(20000), batch_size=64), [],
                            False)
        assert accumulated.scales == [scale] * 2 + [1] * 8
