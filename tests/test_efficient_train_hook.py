"""EfficientTrainHook on real MMPretrain training with real Fashion-MNIST
images: stage switching in (persistent) workers, compute-time LR, logging,
bad input, plan tool."""
import json
import math
import os.path as osp
import uuid

import pytest
from mmengine.config import Config, ConfigDict
from mmengine.runner import Runner

from conftest import ROOT, load_probe, run_tool

from etpp_mm.analysis import lr_at_recipe_steps
from etpp_mm.curriculum import recipe_step_of

TINY = osp.join(ROOT, 'tests', 'configs', 'fmnist_tiny.py')
# The plan of fmnist_tiny.py: 3 stages (12, 20, 28 px) taking 0.3, 0.3,
# 0.4 of 4 equivalent epochs, counted per batch of 16 of its 64 images:
# a 12 px batch costs 16 / 64 x (12/28)^2 = 0.0459 equivalent epochs, so
# 27 batches reach 1.2; 10 batches of 20 px (0.1276) reach 2.4; 6 of 28 px
# (0.25) reach 4. 43 iterations, 4 an epoch: stages end mid-epoch.
TINY_ITER_SIZES = [12] * 27 + [20] * 10 + [28] * 6
# The size in force at the end of each of the 11 epochs (validation).
TINY_EPOCH_END_SIZES = [12] * 6 + [20] * 3 + [28] * 2


def tiny_cfg(tmp_path, fmnist_root, **options):
    cfg = Config.fromfile(TINY)
    cfg.work_dir = str(tmp_path)
    cfg.experiment_name = uuid.uuid4().hex  # runners of one process differ
    cfg.train_dataloader.dataset.data_root = fmnist_root
    cfg.val_dataloader.dataset.data_root = fmnist_root
    cfg.test_dataloader = cfg.val_dataloader
    cfg.merge_from_dict(options)
    return cfg


def hook_cfg(cfg):
    return next(h for h in cfg.custom_hooks
                if h['type'] == 'EfficientTrainHook')


def run(cfg):
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner


def test_stages_reach_persistent_workers_through_a_concat_dataset(
        tmp_path, fmnist_root):
    cfg = tiny_cfg(tmp_path, fmnist_root)
    leaf = cfg.train_dataloader.dataset
    cfg.train_dataloader.dataset = ConfigDict(
        type='ConcatDataset',
        datasets=[{**leaf, 'indices': 32}, {**leaf, 'indices': 32}])
    cfg.train_dataloader.num_workers = 2
    cfg.train_dataloader.persistent_workers = True
    runner = run(cfg)

    records, val_sizes = load_probe(tmp_path)
    assert len(records) == 43  # 11 epochs of 4 iterations, the last of 3
    for it, record in records.items():
        size = TINY_ITER_SIZES[it]
        stage = [12, 20, 28].index(size)
        # every sample of every batch, the first of a stage included (the
        # 20 px stage starts at the last batch of epoch 7)
        assert record['sizes'] == [[size, size]], it
        assert record['stamps'] == [stage], it
        assert record['scalar_size'] == size
    # validation stays at full resolution, its pipeline untouched
    assert val_sizes and all(size == [28, 28] for size in val_sizes)
    val_pipeline = runner.val_dataloader.dataset.pipeline.transforms
    assert [type(t).__name__ for t in val_pipeline] == ['PackInputs']


def test_stage_changes_are_logged_and_reach_the_json_log(tmp_path,
                                                        fmnist_root):
    cfg = tiny_cfg(tmp_path, fmnist_root)
    hook_cfg(cfg)['augment_at'] = 'full'  # the papers' order, logged
    runner = run(cfg)
    log_dir = osp.join(str(tmp_path), runner.timestamp)
    with open(osp.join(log_dir, f'{runner.timestamp}.log')) as f:
        log = f.read()
    assert 'inserted LowFrequencyDownsample' in log
    assert 'before PackInputs' in log
    for index, (size, epoch, it) in enumerate([(12, 1, 1), (20, 7, 28),
                                               (28, 10, 38)]):
        assert (f'curriculum stage {index + 1}/3 from epoch {epoch}, '
                f'iteration {it}: size {size}x{size}') in log
    # the budget, overshot by part of the last 28 px batch
    assert ('curriculum finished: 11 real epochs, 4.02 equivalent full-size '
            "epochs (100.4% of the plan's 4) against the recipe's 4 (1.00x "
            'less compute') in log
    assert 'curriculum ETA: predicted total' in log
    scalars_path = osp.join(log_dir, 'vis_data', 'scalars.json')
    with open(scalars_path) as f:
        scalars = [json.loads(line) for line in f if line.strip()]
    train = [s for s in scalars if 'curriculum/size' in s]
    assert len(train) == 43  # log interval 1
    assert [s['curriculum/size'] for s in train] == TINY_ITER_SIZES
    assert all('curriculum/eta_seconds' in s for s in train[1:])
    assert train[-1]['curriculum/StampLevel.level'] == 2
    assert 0.9 < train[-1]['curriculum/compute'] < 1


def test_training_length_comes_from_the_plan(tmp_path, fmnist_root):
    cfg = tiny_cfg(tmp_path, fmnist_root)
    runner = Runner.from_cfg(cfg)
    assert runner.max_epochs == 4  # the recipe
    runner.train()
    assert runner.max_epochs == 11 and runner.iter == 43
    assert osp.isfile(osp.join(str(tmp_path), 'epoch_11.pth'))


def _first_iter_at(records, fraction):
    return min(it for it, r in records.items() if r['compute'] >= fraction)


@pytest.mark.parametrize('schedule,recipe_epochs', [
    ('recipe_schedule_deit.py', 300),  # warm-up + cosine
    ('recipe_schedule_resnet.py', 100),  # multi-step
])
def test_lr_follows_compute_progress(tmp_path, fmnist_root, schedule,
                                     recipe_epochs):
    """At compute fractions 0.1/0.2/0.6/0.9 the LR equals the recipe's LR
    at the same fraction of its own schedule (one iteration per epoch)."""
    recipe = Config.fromfile(osp.join(ROOT, 'tests', 'configs', schedule))

    def with_recipe_schedule(cfg):
        cfg.optim_wrapper = recipe.optim_wrapper
        cfg.param_scheduler = recipe.param_scheduler
        cfg.train_cfg = recipe.train_cfg
        cfg.train_cfg.val_interval = 10_000
        # one iteration per epoch, on 16 images
        cfg.train_dataloader.batch_size = 16
        cfg.train_dataloader.dataset.indices = 16
        cfg.default_hooks.logger.interval = 50
        cfg.default_hooks.checkpoint.interval = 10_000
        return cfg

    base = with_recipe_schedule(
        tiny_cfg(tmp_path / 'recipe', fmnist_root))
    base.custom_hooks = [dict(type='ProbeHook')]
    run(base)
    recipe_records, _ = load_probe(tmp_path / 'recipe')
    assert len(recipe_records) == recipe_epochs

    cfg = with_recipe_schedule(tiny_cfg(tmp_path / 'etpp', fmnist_root))
    cfg.custom_hooks = [
        dict(
            type='EfficientTrainHook',
            preset='etpp',
            budget=recipe_epochs * 2 / 3,
            size_divisor=4),
        dict(type='ProbeHook')
    ]
    run(cfg)
    records, _ = load_probe(tmp_path / 'etpp')
    assert len(records) > 1.4 * recipe_epochs  # low-res stages run longer

    for fraction in (0.1, 0.2, 0.6, 0.9):
        it = _first_iter_at(records, fraction)
        compute = records[it]['compute']
        recipe_it = math.floor(compute * recipe_epochs + 1e-9)
        assert abs(recipe_it / recipe_epochs - fraction) <= 2 / recipe_epochs
        recipe_lr = recipe_records[recipe_it]['lr']
        assert records[it]['lr'] == pytest.approx(recipe_lr, rel=0.01), (
            fraction, it, recipe_it)
    if schedule == 'recipe_schedule_deit.py':
        # the porting trap: an iteration-based cosine would have decayed
        # much further at 60% of the compute
        it = _first_iter_at(records, 0.6)
        naive = recipe_records[int(it / len(records) * recipe_epochs)]['lr']
        assert records[it]['lr'] > 2 * naive


def test_device_side_exact_crop(tmp_path, fmnist_root):
    cfg = tiny_cfg(tmp_path, fmnist_root)
    hook_cfg(cfg)['low_frequency'] = 'device'
    runner = run(cfg)
    records, _ = load_probe(tmp_path)
    # the loader delivers full-size images; the preprocessor crops them
    assert all(r['sizes'] == [[28, 28]] for r in records.values())
    model = runner.model
    assert type(model.data_preprocessor).__name__ == \
        'LowFrequencyDataPreprocessor'
    assert all(r['device_size'] == expected for r, expected in zip(
        (records[i] for i in sorted(records)),
        [[s, s] if s < 28 else None for s in TINY_ITER_SIZES]))


@pytest.mark.parametrize('hook_update,pipeline,train_cfg,match', [
    (dict(stages=[dict(share=0.5, size=12),
                  dict(share=0.5, size=32)]), None, None,
     r'stages\[1\]\.size \(32, 32\) is larger than the train size'),
    (dict(stages=[dict(share=0.5, size=12),
                  dict(share=0.5, size=28)], size_divisor=8), None, None,
     r'stages\[0\]\.size \(12, 12\) is not divisible by size_divisor=8'),
    (dict(stages=[dict(share=0.5, size=12),
                  dict(share=0.4, size=28)]), None, None,
     r'shares of stages must sum to 1'),
    (dict(stages=[dict(share=1, size=28,
                       params=dict(RandAugment=dict(magnitude_level=1)))]),
     None, None, r"schedules 'RandAugment', which is not in the train "
     r'pipeline \(train_dataloader.dataset.pipeline\)'),
    (dict(stages=[dict(share=1, size=28,
                       params=dict(StampLevel=dict(strength=1)))]),
     None, None, r"StampLevel has no parameter 'strength'"),
    (dict(), [dict(type='RandomCrop', crop_size=28)], None,
     'has no place for the low-frequency step'),
    (dict(), None, dict(type='IterBasedTrainLoop',
                        max_iters=10),
     'needs an epoch-based train loop'),
    (dict(low_frequency='device'), [
        dict(type='LowFrequencyDownsample', size=12),
        dict(type='PackInputs')
    ], None, "low_frequency='device' crops the batch"),
    (dict(full_size=None), [
        dict(type='RandomFlip', prob=0.5),
        dict(type='PackInputs')
    ], None, 'set EfficientTrainHook.full_size'),
])
def test_bad_input_fails_before_training(tmp_path, fmnist_root, hook_update,
                                         pipeline, train_cfg, match):
    cfg = tiny_cfg(tmp_path, fmnist_root)
    hook_cfg(cfg).update(hook_update)
    if pipeline is not None:
        cfg.train_dataloader.dataset.pipeline = pipeline
    if train_cfg is not None:
        cfg.train_cfg = train_cfg
        cfg.param_scheduler = []  # the recipe's are by epoch
    with pytest.raises((ValueError, TypeError), match=match):
        # an iteration-based loop is refused when the runner is built
        Runner.from_cfg(cfg).train()
    assert not osp.exists(osp.join(str(tmp_path), 'probe_0.json'))


@pytest.mark.parametrize('update,match', [
    (dict(preset='fast'), "unknown preset 'fast'"),
    (dict(budget=0), 'budget must be a positive number'),
    (dict(budget=-3), 'budget must be a positive number'),
    (dict(low_frequency='gpu'), "low_frequency='gpu'"),
    (dict(size_divisor=0), 'size_divisor must be a positive int'),
    (dict(stages=[dict(share=1, size=0)]), r'stages\[0\]\.size'),
])
def test_bad_hook_arguments_fail_when_the_runner_is_built(
        tmp_path, fmnist_root, update, match):
    cfg = tiny_cfg(tmp_path, fmnist_root)
    hook = hook_cfg(cfg)
    hook.update(update)
    if 'preset' in update:
        hook.pop('stages')
    with pytest.raises(ValueError, match=match):
        Runner.from_cfg(cfg)


def test_plan_tool_prints_the_plan_the_hook_runs(fmnist_root, tiny_run):
    proc = run_tool([
        'python', 'tools/analysis/print_curriculum.py', TINY, '--json',
        '--cfg-options', f'train_dataloader.dataset.data_root={fmnist_root}'
    ])
    plan = json.loads(proc.stdout[proc.stdout.index('{'):])
    assert [s['size'] for s in plan['stages']] == [[12, 12], [20, 20],
                                                   [28, 28]]
    # 0.3 x 4 x (28/12)^2 = 6.53, 0.3 x 4 x (28/20)^2 = 2.35, 0.4 x 4
    assert [s['epochs'] for s in plan['stages']] == pytest.approx(
        [6.5333, 2.352, 1.6], abs=1e-4)
    assert [s['iters'] for s in plan['stages']] == [26, 9, 6]
    assert plan['total_epochs'] == 11
    assert plan['stages'][0]['compute_start'] == 0
    assert plan['stages'][-1]['compute_end'] == pytest.approx(1)
    assert plan['speedup'] == pytest.approx(4 / plan['equivalent_epochs'])

    # the LR the tool predicts at each stage start is the LR training uses
    records, _ = load_probe(tiny_run)
    # (at the batch within which the stage's share begins: iterations 26
    # and 36 span compute 0.3 and 0.6; the stage's own first batch follows)
    for stage, first_iter in zip(plan['stages'], (0, 26, 36)):
        assert stage['lr_start'] == pytest.approx(records[first_iter]['lr'],
                                                  rel=1e-6)

    text = run_tool([
        'python', 'tools/analysis/print_curriculum.py', TINY,
        '--iters-per-epoch', '4', '--cfg-options',
        'custom_hooks.0.budget=2'
    ]).stdout
    assert 'total: 5.24 real epochs' in text


def test_plan_tool_on_an_imagenet_recipe():
    """Swin-T's MMPretrain recipe, budget 200: the paper's ~454 epochs
    (unrounded: stages end where their share ends), iterations per stage
    that carry equal shares of the compute, and the LR at 60% of compute
    where the official schedule has it (~0.41x peak), not where an
    iteration-based cosine would (~0.08x)."""
    config = osp.join(ROOT, 'configs', 'imagenet',
                      'swin-tiny_etpp-b200_16xb64_in1k.py')
    proc = run_tool([
        'python', 'tools/analysis/print_curriculum.py', config, '--json',
        '--iters-per-epoch', '1251'
    ])
    plan = json.loads(proc.stdout[proc.stdout.index('{'):])
    by_size = {}
    for stage in plan['stages']:
        by_size[stage['size'][0]] = by_size.get(stage['size'][0],
                                                0) + stage['epochs']
    assert by_size == pytest.approx({96: 217.78, 160: 156.8, 224: 80},
                                    abs=0.01)
    assert plan['real_epochs'] == pytest.approx(454.58, abs=0.01)
    shares = [s['iters'] * (s['size'][0] / 224)**2 for s in plan['stages']]
    for share in shares:
        assert share / (sum(shares) / 10) == pytest.approx(1, abs=0.005)
    assert plan['speedup'] == pytest.approx(1.5, abs=0.01)
    assert [s['magnitude'] for s in plan['stages']] == list(range(10))
    peak = 1e-3  # the recipe's AdamW lr
    sixty = next(s for s in plan['stages']
                 if s['compute_start'] >= 0.6 - 1e-3)
    assert sixty['lr_start'] / peak == pytest.approx(0.40, abs=0.02)

    # ImageNet is not on this machine: the tool says what to pass
    proc = run_tool(
        ['python', 'tools/analysis/print_curriculum.py', config], check=False)
    assert proc.returncode != 0
    assert '--iters-per-epoch N' in proc.stdout


def _val_logs(runner, tmp_path):
    log_dir = osp.join(str(tmp_path), runner.timestamp)
    with open(osp.join(log_dir, f'{runner.timestamp}.log')) as f:
        log = f.read()
    with open(osp.join(log_dir, 'vis_data', 'scalars.json')) as f:
        scalars = [json.loads(line) for line in f if line.strip()]
    return log, [s for s in scalars if 'accuracy/top1' in s]


def test_validation_at_each_stage_size(tmp_path, fmnist_root):
    cfg = tiny_cfg(tmp_path, fmnist_root)
    cfg.train_cfg.val_interval = 1
    hook_cfg(cfg)['validation'] = 'stage_size'
    cfg.val_dataloader.num_workers = 1  # the stage reaches val workers
    cfg.val_dataloader.persistent_workers = True
    runner = run(cfg)
    _, val_sizes = load_probe(tmp_path)
    assert val_sizes == [[s, s] for s in TINY_EPOCH_END_SIZES]
    log, vals = _val_logs(runner, tmp_path)
    assert [v['curriculum/val_size'] for v in vals] == TINY_EPOCH_END_SIZES
    assert 'validation at 12x12 (curriculum stage 1/3)' in log
    assert 'validation at 20x20 (curriculum stage 2/3)' in log
    assert 'validation at 28x28 (curriculum stage 3/3)' in log


def test_validation_only_once_at_full_size(tmp_path, fmnist_root):
    cfg = tiny_cfg(tmp_path, fmnist_root)
    cfg.train_cfg.val_interval = 1
    hook_cfg(cfg)['validation'] = 'full_size_only'
    runner = run(cfg)
    _, val_sizes = load_probe(tmp_path)
    # the first 28 px batch is the second of epoch 10 (iteration 38)
    assert val_sizes == [[28, 28], [28, 28]]  # epochs 10 and 11
    log, vals = _val_logs(runner, tmp_path)
    assert 'validation from epoch 10 on' in log
    assert [v['step'] for v in vals] == [10, 11]
    assert [v['curriculum/val_size'] for v in vals] == [28, 28]


def test_accumulation_follows_the_doubled_batch(tmp_path, fmnist_root,
                                                tiny_run):
    """``accumulative_counts=2`` at batch 8 against batch 16: the optimizer
    steps of one see the iterations of the other, with the same size and
    compute; the schedules move once per step, to the recipe's LR at the
    step's compute; MMEngine's accumulation window is sized from the
    curriculum's loop."""
    steps, _ = load_probe(tiny_run)  # batch 16

    accumulated = tiny_cfg(tmp_path / 'accumulated', fmnist_root)
    accumulated.train_dataloader.batch_size = 8
    accumulated.optim_wrapper.accumulative_counts = 2
    runner = run(accumulated)
    records, _ = load_probe(tmp_path / 'accumulated')
    assert len(records) == 2 * len(steps) == 86
    # the recipe at batch 8: warm-up + cosine over 4 epochs of 8 iterations
    recipe_lrs = lr_at_recipe_steps(
        accumulated,
        [recipe_step_of(steps[k]['compute'], 4, 8) for k in sorted(steps)], 8)
    for step, recipe_lr in zip(sorted(steps), recipe_lrs):
        expected = steps[step]
        assert records[2 * step]['compute'] == pytest.approx(
            expected['compute']), step
        for it in (2 * step, 2 * step + 1):
            got = records[it]
            assert got['batch'] == 8, it
            assert got['size'] == expected['size'], it
            assert got['lr'] == pytest.approx(recipe_lr), it
    assert len(set(recipe_lrs)) > 3  # the schedule moved
    wrapper = runner.optim_wrapper
    assert wrapper._max_counts == runner.train_loop.max_iters == 86
    assert wrapper._remainder_counts == 0  # every step has both halves


def test_et_mode_keeps_epoch_stages_and_the_recipe_schedule(tmp_path,
                                                            fmnist_root):
    """The ICCV mode: shares of the recipe's 4 epochs, whole epochs each
    (0.3 / 0.3 / 0.4 -> epochs 1, 2, 3-4), the recipe's own length and
    schedule, the ETA and the closing line; batch_scale needs ET++."""
    cfg = tiny_cfg(tmp_path, fmnist_root)
    hook = hook_cfg(cfg)
    hook.update(mode='et')
    hook.pop('budget')
    runner = run(cfg)
    records, _ = load_probe(tmp_path)
    assert runner.max_epochs == 4 and len(records) == 16
    assert [records[it]['size'][0] for it in sorted(records)] == \
        [12] * 4 + [20] * 4 + [28] * 8
    # the recipe's schedule, not moved: its LR after every recipe iteration
    recipe = Config.fromfile(TINY)
    assert [records[it]['lr'] for it in sorted(records)] == pytest.approx(
        lr_at_recipe_steps(recipe, list(range(16)), 4))
    log, _ = _val_logs(runner, tmp_path)
    assert 'curriculum stage 2/3 from epoch 2: size 20x20' in log
    assert 'curriculum ETA: predicted total' not in log  # under 20 its/size
    assert "equivalent full-size epochs (100.0% of the plan's" in log

    for option in (dict(batch_scale=2), dict(warmup='official')):
        cfg = tiny_cfg(tmp_path / 'refused', fmnist_root)
        hook_cfg(cfg).update(mode='et', **option)
        hook_cfg(cfg).pop('budget')
        name = next(iter(option))
        with pytest.raises(ValueError, match=f'EfficientTrainHook.{name}=.* '
                           'needs an ET\\+\\+'):
            Runner.from_cfg(cfg).train()


@pytest.mark.parametrize('mode', ['test', 'val'])
def test_test_and_val_runs_leave_the_curriculum_alone(tmp_path, fmnist_root,
                                                      mode):
    """``tools/test.py`` (``Runner.test()``) and ``Runner.val()`` of a
    curriculum config: no train set needed for a test (its folder is
    missing; ``val()`` keeps it: MMPretrain's own VisualizationHook reads
    the train loop there), the recipe's schedulers (a single dict without
    ``by_epoch``, as in MMPretrain's ``imagenet_bs256.py``) and eval
    pipelines left alone."""
    cfg = tiny_cfg(tmp_path, fmnist_root)
    if mode == 'test':
        cfg.train_dataloader.dataset.data_root = str(tmp_path / 'no_set')
    cfg.param_scheduler = dict(
        type='MultiStepLR', milestones=[30, 60, 90], gamma=0.1)
    runner = Runner.from_cfg(cfg)
    metrics = getattr(runner, mode)()
    assert 0 <= metrics['accuracy/top1'] <= 100
    loader = getattr(runner, f'{mode}_dataloader')
    assert [type(t).__name__
            for t in loader.dataset.pipeline.transforms] == ['PackInputs']
    assert isinstance(runner.param_schedulers, dict)  # still its config
    log_path = osp.join(str(tmp_path), runner.timestamp,
                        f'{runner.timestamp}.log')
    with open(log_path) as f:
        log = f.read()
    assert 'no training in this run: the curriculum leaves' in log
    assert 'EfficientTrain curriculum' not in log


def test_single_dict_param_scheduler_follows_compute(tmp_path, fmnist_root):
    """MMPretrain's one-dict schedule shape (``imagenet_bs256.py``): built
    as a list by MMEngine, moved along compute: the step at recipe epoch 2
    of 4 falls at half the compute."""
    cfg = tiny_cfg(tmp_path, fmnist_root)
    cfg.param_scheduler = dict(type='MultiStepLR', milestones=[2], gamma=0.1)
    run(cfg)
    records, _ = load_probe(tmp_path)
    for it in sorted(records):
        compute = records[it]['compute']
        # the clock moves the epoch-based step at recipe epoch 2 (of 4)
        expected = 0.01 if compute >= 0.5 else 0.1
        assert records[it]['lr'] == pytest.approx(expected), it


def test_an_optimizer_of_no_known_family_trains_at_the_recipes_batch(
        tmp_path, fmnist_root):
    """Rprop has no LR rule for a larger batch: refused with batch_scale
    (naming lr_scaling), trained at the recipe's batch without it."""
    cfg = tiny_cfg(tmp_path / 'plain', fmnist_root)
    cfg.optim_wrapper = dict(optimizer=dict(type='Rprop', lr=0.01))
    cfg.param_scheduler = []
    run(cfg)
    records, _ = load_probe(tmp_path / 'plain')
    assert len(records) == 43
    assert {r['lr'] for r in records.values()} == {0.01}

    cfg = tiny_cfg(tmp_path / 'scaled', fmnist_root)
    cfg.optim_wrapper = dict(optimizer=dict(type='Rprop', lr=0.01))
    cfg.param_scheduler = []
    hook_cfg(cfg)['batch_scale'] = 2
    with pytest.raises(ValueError, match='no LR rule known for optimizer '
                       'Rprop.*EfficientTrainHook.lr_scaling'):
        Runner.from_cfg(cfg).train()
