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

TINY = osp.join(ROOT, 'tests', 'configs', 'fmnist_tiny.py')
# The plan of fmnist_tiny.py: 3 stages (12, 20, 28 px) over 10 real epochs.
TINY_EPOCH_SIZES = [12] * 6 + [20] * 2 + [28] * 2


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
    assert len(records) == 40  # 10 epochs x 4 iterations
    for it, record in records.items():
        epoch_size = TINY_EPOCH_SIZES[it // 4]
        stage = [12, 20, 28].index(epoch_size)
        # every sample of every batch, the first of a stage included
        assert record['sizes'] == [[epoch_size, epoch_size]], it
        assert record['stamps'] == [stage], it
        assert record['scalar_size'] == epoch_size
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
    for index, (size, epoch) in enumerate([(12, 1), (20, 7), (28, 9)]):
        assert (f'curriculum stage {index + 1}/3 from epoch {epoch}: size '
                f'{size}x{size}') in log
    assert ('curriculum finished: 10 real epochs, 4.1 equivalent full-size '
            "epochs against the recipe's 4 (0.97x less compute") in log
    scalars_path = osp.join(log_dir, 'vis_data', 'scalars.json')
    with open(scalars_path) as f:
        scalars = [json.loads(line) for line in f if line.strip()]
    train = [s for s in scalars if 'curriculum/size' in s]
    assert len(train) == 40  # log interval 1
    assert [s['curriculum/size'] for s in train[::4]] == TINY_EPOCH_SIZES
    assert train[-1]['curriculum/StampLevel.level'] == 2
    assert 0.9 < train[-1]['curriculum/compute'] < 1


def test_training_length_comes_from_the_plan(tmp_path, fmnist_root):
    cfg = tiny_cfg(tmp_path, fmnist_root)
    runner = Runner.from_cfg(cfg)
    assert runner.max_epochs == 4  # the recipe
    runner.train()
    assert runner.max_epochs == 10 and runner.iter == 40
    assert osp.isfile(osp.join(str(tmp_path), 'epoch_10.pth'))


def _first_iter_at(records, fraction):
    return min(it for it, r in records.items() if r['compute'] >= fraction)


@pytest.mark.parametrize('schedule,recipe_epochs,extra', [
    ('recipe_schedule_deit.py', 300, {}),  # warm-up + cosine
    ('recipe_schedule_resnet.py', 100, {}),  # multi-step
    # the samples-counted clock of early large batch, at batch x1
    ('recipe_schedule_deit.py', 300, dict(batch_scale=1)),
])
def test_lr_follows_compute_progress(tmp_path, fmnist_root, schedule,
                                     recipe_epochs, extra):
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
            size_divisor=4,
            **extra),
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
        [[s, s] if s < 28 else None
         for s in TINY_EPOCH_SIZES for _ in range(4)]))


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


def test_plan_tool_prints_the_plan_the_hook_runs(tmp_path, fmnist_root):
    proc = run_tool([
        'python', 'tools/analysis/print_curriculum.py', TINY, '--json',
        '--cfg-options', f'train_dataloader.dataset.data_root={fmnist_root}'
    ])
    plan = json.loads(proc.stdout[proc.stdout.index('{'):])
    assert [s['size'] for s in plan['stages']] == [[12, 12], [20, 20],
                                                   [28, 28]]
    assert [s['epochs'] for s in plan['stages']] == [6, 2, 2]
    assert [s['iters'] for s in plan['stages']] == [24, 8, 8]
    assert plan['total_epochs'] == 10
    assert plan['stages'][0]['compute_start'] == 0
    assert plan['stages'][-1]['compute_end'] == pytest.approx(1)
    assert plan['speedup'] == pytest.approx(4 / plan['equivalent_epochs'])

    # the LR the tool predicts at each stage start is the LR training uses
    cfg = tiny_cfg(tmp_path, fmnist_root)
    run(cfg)
    records, _ = load_probe(tmp_path)
    for stage, first_iter in zip(plan['stages'], (0, 24, 32)):
        assert stage['lr_start'] == pytest.approx(records[first_iter]['lr'],
                                                  rel=1e-6)

    text = run_tool([
        'python', 'tools/analysis/print_curriculum.py', TINY,
        '--iters-per-epoch', '4', '--cfg-options',
        'custom_hooks.0.budget=2'
    ]).stdout
    assert 'total: 5 real epochs' in text


def test_plan_tool_on_an_imagenet_recipe():
    """Swin-T's MMPretrain recipe, budget 200: the paper's 454 epochs, and
    the LR at 60% of compute where the official schedule has it (~0.41x
    peak), not where an iteration-based cosine would (~0.08x)."""
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
    assert by_size == {96: 217, 160: 157, 224: 80}
    assert plan['total_epochs'] == 454
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
    assert val_sizes == [[s, s] for s in TINY_EPOCH_SIZES]
    log, vals = _val_logs(runner, tmp_path)
    assert [v['curriculum/val_size'] for v in vals] == TINY_EPOCH_SIZES
    assert 'validation at 12x12 (curriculum stage 1/3)' in log
    assert 'validation at 20x20 (curriculum stage 2/3)' in log
    assert 'validation at 28x28 (curriculum stage 3/3)' in log


def test_validation_only_once_at_full_size(tmp_path, fmnist_root):
    cfg = tiny_cfg(tmp_path, fmnist_root)
    cfg.train_cfg.val_interval = 1
    hook_cfg(cfg)['validation'] = 'full_size_only'
    runner = run(cfg)
    _, val_sizes = load_probe(tmp_path)
    assert val_sizes == [[28, 28], [28, 28]]  # epochs 9 and 10
    log, vals = _val_logs(runner, tmp_path)
    assert 'validation from epoch 9 on' in log
    assert [v['step'] for v in vals] == [9, 10]
    assert [v['curriculum/val_size'] for v in vals] == [28, 28]
