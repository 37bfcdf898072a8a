"""The benchmark of a curriculum against its recipe: the pure parts (run
order, aggregation, speed-ups, the target's verdict, the Pareto front,
report text) on made-up run records, bad input, and the tool on tiny real
Fashion-MNIST trainings (the recipe, shortened and with the curriculum),
resumed from its cache."""
import importlib.util
import json
import os.path as osp

import pytest
from mmengine.config import Config

from conftest import ROOT
from etpp_bench.campaign import eta_seconds
from etpp_bench.pareto import dominated_by
from etpp_bench.plot import plot_runs
from etpp_bench.report import format_report
from etpp_bench.summary import RunResult, check_target, summarize
from etpp_bench.variants import (Variant, check_benchmark_input,
                                 hook_arguments, make_variants,
                                 run_config_text, run_key, run_order)

RECIPE = osp.join(ROOT, 'configs', 'fashion_mnist',
                  'resnet18-w8_1xb128_fmnist.py')
WITH_HOOK = osp.join(ROOT, 'configs', 'fashion_mnist',
                     'resnet18-w8_etpp-b10_1xb128_fmnist.py')


def load_tool():
    spec = importlib.util.spec_from_file_location(
        'benchmark_tool', osp.join(ROOT, 'tools', 'benchmark.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def variants_15():
    """A 15-epoch recipe with budgets 10 (2/3) and 7.5, and made-up
    theoretical speed-ups."""
    base, b10, b75 = make_variants([10, 7.5], 'etpp', 4)
    return [
        base,
        Variant(b10.name, 10, 'etpp', 4, 22, 1.5),
        Variant(b75.name, 7.5, 'etpp', 4, 17, 2.0)
    ]


def records(baseline, b10, b75=None):
    """Made-up runs: per variant a list of (seconds, top-1), seed 0, 1..."""
    out = []
    for name, runs in (('baseline', baseline), ('etpp b10', b10),
                       ('etpp b7.5', b75 or [])):
        out += [
            RunResult(name, seed, seconds, score)
            for seed, (seconds, score) in enumerate(runs)
        ]
    return out


def test_runs_go_seed_major_with_the_variants_interleaved():
    order = run_order(variants_15(), [3, 1])
    assert [(seed, v.name) for seed, v in order] == [
        (3, 'baseline'), (3, 'etpp b10'), (3, 'etpp b7.5'),
        (1, 'baseline'), (1, 'etpp b10'), (1, 'etpp b7.5')
    ]


def test_variants_name_budgets_and_hooks():
    base, b10, b75 = make_variants([10.0, 7.5], 'etpp_deit', 16)
    assert base.is_baseline and base.identity() == {'variant': 'baseline'}
    assert (b10.name, b10.folder, b75.folder) == ('etpp_deit b10',
                                                  'etpp_deit-b10',
                                                  'etpp_deit-b7.5')
    assert b10.hook_cfg() == dict(
        type='EfficientTrainHook',
        preset='etpp_deit',
        budget=10,
        size_divisor=16)
    with pytest.raises(ValueError):
        base.hook_cfg()


def test_cache_keys_separate_runs_and_keep_the_baseline_across_presets():
    settings = dict(recipe='abc', omp_num_threads='1')
    base, b10 = make_variants([10], 'etpp', 4)
    keys = {
        run_key(v, s, settings)
        for v in (base, b10) for s in (0, 1)
    }
    assert len(keys) == 4
    assert run_key(b10, 0, settings) != run_key(
        make_variants([10], 'etpp', 8)[1], 0, settings)
    assert run_key(b10, 0, settings) != run_key(
        b10, 0, dict(settings, omp_num_threads='2'))
    # the baseline does not depend on the curriculum's settings
    assert run_key(base, 0, settings) == run_key(
        make_variants([5], 'etpp_convnext', 32)[0], 0, settings)


def test_summary_takes_means_spreads_and_the_ratio_of_mean_wall_times():
    results = records(
        baseline=[(300, 92.0), (100, 92.4)],
        b10=[(100, 91.9), (100, 92.3)],
        b75=[(60, 91.0), (40, 90.0)])
    # given in any order, reported in the order of the seeds
    base, b10, b75 = summarize(variants_15(), [0, 1], results[::-1])
    assert base.seeds == b10.seeds == (0, 1)
    assert base.scores == (92.0, 92.4)
    assert base.score_mean == pytest.approx(92.2)
    assert (base.score_min, base.score_max) == (92.0, 92.4)
    assert base.score_std == pytest.approx(0.2828427, abs=1e-6)
    assert base.measured_speedup == 1.0 and base.score_diff == 0
    # ratio of means 200 / 100, not the mean of per-seed ratios (2.0 too
    # here) ...
    assert b10.measured_speedup == pytest.approx(2.0)
    assert b10.score_diff == pytest.approx(-0.1)
    # ... which differ for b7.5: 200 / 50 = 4, per seed (5 + 2.5) / 2
    assert b75.measured_speedup == pytest.approx(4.0)
    assert b75.score_diff == pytest.approx(-1.7)
    assert all(s.complete for s in (base, b10, b75))


def test_summary_of_missing_runs():
    results = records(baseline=[(100, 92.0)], b10=[])
    base, b10, b75 = summarize(variants_15(), [0, 1], results)
    assert base.seeds == (0, ) and not base.complete
    assert base.score_std is None
    assert b10.scores == () and b10.score_mean is None
    assert b10.measured_speedup is None and b10.score_diff is None
    # runs of other seeds or variants are ignored
    assert summarize(variants_15(), [1],
                     results)[0].scores == ()


@pytest.mark.parametrize(
    'b10_runs, met, words',
    [
        # 92.0 against 92.2, 1.5x: both in
        ([(100, 91.9), (100, 92.1)], True, ['Met', '-0.200', '1.500x']),
        # exactly at both thresholds
        ([(1500 / 13, 91.8), (1500 / 13, 92.0)], True, ['Met', '1.300x']),
        # better than the baseline always passes the accuracy part
        ([(100, 93.9), (100, 94.1)], True, ['Met', '+1.800']),
        # 0.31 points down
        ([(100, 91.89), (100, 91.89)], False,
         ['Not met', '-0.310', 'more than 0.3']),
        # 1.29x
        ([(116.3, 92.2), (116.3, 92.2)], False, ['Not met', '1.290x', '<']),
        # just below: not rounded up to the threshold
        ([(115.45, 92.2), (115.45, 92.2)], False, ['Not met', '1.299x']),
    ])
def test_target_verdict_is_computed_from_the_numbers(b10_runs, met, words):
    results = records(
        baseline=[(150, 92.1), (150, 92.3)],
        b10=b10_runs,
        b75=[(10, 50.0), (10, 50.0)])  # far off, and not the 2/3 budget
    check = check_target(summarize(variants_15(), [0, 1], results), 15)
    assert check.met is met
    for word in words:
        assert word in check.text
    assert 'etpp b10' in check.text and '2/3' in check.text


def test_target_needs_the_two_thirds_budget_and_every_seed():
    results = records(
        baseline=[(150, 92.1), (150, 92.3)], b10=[(100, 92.2)])
    # one of two seeds of b10 missing: no verdict
    check = check_target(summarize(variants_15(), [0, 1], results), 15)
    assert check.met is None and 'etpp b10 (1 of 2 seeds)' in check.text
    # a 12-epoch recipe: 2/3 is 8, which was not benchmarked
    check = check_target(summarize(variants_15(), [0], results), 12)
    assert check.met is None and 'no budget' in check.text
    assert ' 8 ' in check.text


def test_eta_from_finished_runs():
    variants = variants_15()
    base, b10, b75 = variants
    assert eta_seconds([base, b10], [], variants) is None
    done = records(baseline=[(300, 92.0)], b10=[(220, 92.0)])
    # own means where known; b7.5 from both runs in baseline seconds
    # ((300 + 220 * 1.5) / 2 = 315) over its 2.0x
    assert eta_seconds([base, b10, b75], done,
                       variants) == pytest.approx(300 + 220 + 157.5)


@pytest.mark.parametrize('call, words', [
    (lambda: check_benchmark_input([10, 0], [0], 'etpp'), ['--budgets', '0']),
    (lambda: check_benchmark_input([-2.5], [0], 'etpp'),
     ['--budgets', '-2.5']),
    (lambda: check_benchmark_input([], [0], 'etpp'), ['--budgets', 'empty']),
    (lambda: check_benchmark_input([10], [], 'etpp'), ['--seeds', 'empty']),
    (lambda: check_benchmark_input([10], [0, 0], 'etpp'), ['--seeds', '0']),
    (lambda: check_benchmark_input([10], [-1], 'etpp'), ['--seeds', '-1']),
    (lambda: check_benchmark_input([10, 10.0], [0], 'etpp'),
     ['--budgets', '10']),
    (lambda: check_benchmark_input([10], [0], 'etp'),
     ['--preset', "'etp'", 'etpp_deit']),
    (lambda: check_benchmark_input([10], [0], 'et'),
     ['--preset', "'et'", 'no budget']),
    (lambda: check_benchmark_input([10], [0], 'etpp', 0),
     ['--size-divisor', '0']),
    (lambda: check_benchmark_input([10], [0], 'etpp', 4, 0),
     ['--threads', '0']),
])
def test_bad_input_names_the_value_and_the_option(call, words):
    with pytest.raises(ValueError) as info:
        call()
    for word in words:
        assert word in str(info.value)


def test_run_configs_inherit_the_recipe(tmp_path):
    base, b10 = make_variants([10], 'etpp', 4)
    ema = dict(type='EMAHook', momentum=1e-4)
    for variant, final_val_only in ((base, False), (b10, True)):
        path = tmp_path / f'{variant.folder}.py'
        path.write_text(
            run_config_text(RECIPE, variant, 7, ['etpp_mm', 'probes'], [ema],
                            final_val_only=final_val_only))
        cfg = Config.fromfile(str(path))
        assert cfg.randomness.seed == 7
        assert cfg.randomness.deterministic is False  # the recipe's
        assert cfg.train_cfg.max_epochs == 15  # inherited
        assert cfg.custom_imports.imports == ['etpp_mm', 'probes']
        assert [h['type'] for h in cfg.custom_hooks] == \
            ['EMAHook'] + (['EfficientTrainHook'] if variant is b10 else [])
        assert cfg.visualizer.vis_backends == [dict(type='LocalVisBackend')]
        assert cfg.train_cfg.val_interval == (10**9 if final_val_only else 1)
    assert cfg.custom_hooks[-1] == b10.hook_cfg()
    with pytest.raises(ValueError, match='custom_hooks'):
        run_config_text(RECIPE, b10, 0, other_hooks=[dict(type=Config)])


def test_report_text_and_plot(tmp_path):
    variants = variants_15()
    results = records(
        baseline=[(1500, 92.6), (1560, 92.7)],
        b10=[(1100, 92.5), (1140, 92.4)],
        b75=[(900, 92.0)])
    summaries = summarize(variants, [0, 1], results)
    check = check_target(summaries, 15, min_speedup=1.4)
    text = format_report(
        'Title', [('Command', '`python tools/benchmark.py cfg.py`'),
                  ('Machine', 'AMD EPYC, 2 logical CPUs')],
        summaries,
        run_order(variants, [0, 1]),
        results,
        check,
        'accuracy/top1',
        failed=[('etpp b7.5', 1, 'runs/etpp-b7.5_s1/train_output.log')],
        plot='images/plot.png')
    lines = text.splitlines()
    assert lines[0] == '# Title'
    assert '- **Command**: `python tools/benchmark.py cfg.py`' in lines
    assert '- **Machine**: AMD EPYC, 2 logical CPUs' in lines
    # means 92.65 / 92.45, wall 1530 / 1120 s -> 1.37x: too slow
    assert check.met is False
    assert '**Not met**: etpp b10: top-1 92.45' in text
    assert '1.366x (< 1.4x)' in text
    row = next(line for line in lines if line.startswith('| etpp b10 |'))
    assert row.split(' | ')[1:9] == [
        '10', '22', '92.45', '92.40-92.50', '0.07', 's0 92.50, s1 92.40',
        '-0.20', '18.7 min'
    ]
    assert row.endswith('| 1.37x | 1.50x |')
    row = next(line for line in lines if line.startswith('| etpp b7.5 |'))
    assert '(1 of 2 seeds)' in row and '| - |' in row  # one seed: no std
    assert '| 6 | 1 | etpp b7.5 | - | - | not finished |' in lines
    assert '- etpp b7.5, seed 1: see `runs/etpp-b7.5_s1/train_output.log`' \
        in lines
    assert '![accuracy/top1 against wall time](images/plot.png)' in lines

    png = tmp_path / 'images' / 'plot.png'
    plot_runs(summaries, str(png), 'accuracy/top1', 'made-up runs')
    assert png.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'


def test_shortened_recipes_pareto_front_report_and_plot(tmp_path):
    variants = make_variants([10], 'etpp', 4, shortened=[10, 12])
    assert [v.name for v in variants] == [
        'baseline', 'recipe e12', 'recipe e10', 'etpp b10'
    ]
    short = variants[2]
    assert short.is_shortened and not short.is_baseline
    assert short.folder == 'recipe-e10'
    with pytest.raises(ValueError, match='plain recipe'):
        short.hook_cfg()
    results = [
        RunResult('baseline', 0, 150, 92.0),
        RunResult('recipe e12', 0, 120, 91.6),
        RunResult('recipe e10', 0, 100, 91.9),
        RunResult('etpp b10', 0, 110, 91.9),
        RunResult('baseline', 1, 150, 92.2),
        RunResult('recipe e12', 1, 120, 91.8),
        RunResult('recipe e10', 1, 100, 91.7),
        RunResult('etpp b10', 1, 110, 91.7),
    ]
    summaries = summarize(variants, [0, 1], results)
    # e10 is as good as b10 and faster; e12 is beaten by both (the fastest
    # is named)
    assert dominated_by(summaries) == [None, 'recipe e10', None, 'recipe e10']
    # the target judges curricula only: the shortened recipe at 2/3 of the
    # epochs is a control, not a candidate
    check = check_target(summaries, 15)
    assert check.text.startswith('Met: etpp b10')
    assert 'recipe e10' not in check.text
    text = format_report('Title', [], summaries, run_order(variants, [0, 1]),
                         results, check)
    pareto = text.split('## Pareto front: top-1 against wall time')[1]
    rows = [line for line in pareto.split('\n## ')[0].splitlines()
            if line.startswith('| ')]
    assert rows[1:] == [
        '| recipe e10 | s0 100.0 s, 91.90; s1 100.0 s, 91.70 | 100.0 s | '
        '91.80 | yes |',
        '| etpp b10 | s0 110.0 s, 91.90; s1 110.0 s, 91.70 | 110.0 s | '
        '91.80 | no: recipe e10 beats it |',
        '| recipe e12 | s0 2.0 min, 91.60; s1 2.0 min, 91.80 | 2.0 min | '
        '91.70 | no: recipe e10 beats it |',
        '| baseline | s0 2.5 min, 92.00; s1 2.5 min, 92.20 | 2.5 min | '
        '92.10 | yes |',
    ]
    assert '| recipe e10 | shortened to 10 | ? |' in text
    png = tmp_path / 'plot.png'
    plot_runs(summaries, str(png))
    assert png.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    # the shortened recipe's cache key holds its compressed schedule
    settings = {'threads': 1}
    planned = Variant('recipe e10', shortened=10, param_scheduler=(
        dict(type='MultiStepLR', milestones=[5]), ))
    assert run_key(planned, 0, settings) != run_key(
        Variant('recipe e10', shortened=10, param_scheduler=(
            dict(type='MultiStepLR', milestones=[4]), )), 0, settings)
    assert run_key(variants[0], 0, settings) == run_key(
        make_variants([10], 'etpp')[0], 0, settings)


@pytest.mark.parametrize('config, options, words', [
    (RECIPE, ['--budgets', '0'], ['--budgets', '0']),
    (RECIPE, ['--budgets', '10', '--seeds'], ['--seeds', 'empty']),
    (RECIPE, ['--budgets', '10', '--preset', 'nope'], ['--preset', 'nope']),
    (WITH_HOOK, ['--budgets', '10'],
     ['resnet18-w8_etpp-b10_1xb128_fmnist.py', 'EfficientTrainHook',
      'plain recipe']),
    (RECIPE, ['--budgets', '10', '--cfg-options', 'randomness.seed=3'],
     ['randomness.seed', '--seeds']),
    (RECIPE, ['--variant', 'stage', 'ten'], ['--variant stage ten', "'ten'"]),
    (RECIPE, ['--variant', 'stage', '10', 'batch_scale=huge'],
     ['stage b10', 'batch_scale', 'huge']),
    (RECIPE, ['--budgets', '10', '--hook-options', 'augment_at=sideways'],
     ['etpp b10', 'augment_at', 'sideways']),
    (RECIPE, ['--budgets', '10', '--hook-options', 'stages=[{share: 1}]'],
     ['--hook-options', 'stages=[{share: 1}]', 'Python literal']),
    (RECIPE, ['--variant', 'own', '10', "stages=[{'share': 0.5, 'size': 12}]"],
     ['own b10', 'shares of stages must sum to 1']),
    (RECIPE, ['--budgets', '10', '--shortened', '0'], ['--shortened', '0']),
    (RECIPE, ['--budgets', '10', '--shortened', '15'],
     ['--shortened 15', 'max_epochs (15)']),
    (RECIPE, ['--budgets', '10', '--shortened', '7.5'],
     ['--shortened 7.5', 'whole epochs']),
    # the 1-epoch warm-up and the cosine cannot both fit in one epoch
    (RECIPE, ['--budgets', '10', '--shortened', '1'],
     ['--shortened 1', 'phases']),
])
def test_the_tool_refuses_bad_input_before_training(tmp_path, config,
                                                    options, words):
    refused_before_training(tmp_path, config, options, words)


def refused_before_training(tmp_path, config, options, words):
    """The tool exits naming every one of ``words``, having trained
    nothing and written no work dir."""
    tool = load_tool()

    def no_training(*args):
        raise AssertionError('a run was trained')

    tool.train_run = no_training
    work_dir = tmp_path / 'bench'
    with pytest.raises(SystemExit) as info:
        tool.main([config, *options, '--work-dir', str(work_dir)])
    for word in words:
        assert word in str(info.value)
    assert not work_dir.exists()


def test_tool_trains_tiny_runs_reports_and_resumes_from_its_cache(
        tmp_path, fmnist_root, capsys):
    tool = load_tool()
    trained = []
    real_train_run = tool.train_run

    def counting_train_run(config_path, run_dir, env, extra_args):
        trained.append(osp.basename(run_dir))
        assert env['OMP_NUM_THREADS'] == '1'
        return real_train_run(config_path, run_dir, env, extra_args)

    tool.train_run = counting_train_run
    work_dir = tmp_path / 'bench'
    report = tmp_path / 'docs' / 'bench.md'
    plot = tmp_path / 'docs' / 'images' / 'bench.png'
    # 64 training images in 2 batches, 2 epochs (the curriculum at budget 1:
    # 1.09 epochs at 12 px, 0.78 at 20, 0.4 at 28, in 3 real epochs; the
    # recipe shortened to 1 epoch), a ResNet at half width. One seed:
    # each run costs ~10 s on 2 cores, most of it importing torch and
    # MMPretrain; several seeds are aggregated in the tests above. The
    # recipe's warm-up (1 epoch) and cosine are given by iteration, so that
    # 2 epochs compress to 1: 2 iterations of warm-up become 1.
    argv = [
        RECIPE, '--budgets', '1', '--shortened', '1', '--seeds', '1',
        '--size-divisor', '4', '--threads', '1', '--work-dir',
        str(work_dir), '--report',
        str(report), '--plot',
        str(plot), '--cfg-options',
        f'train_dataloader.dataset.data_root={fmnist_root}',
        f'val_dataloader.dataset.data_root={fmnist_root}',
        'train_dataloader.dataset.indices=64',
        'val_dataloader.dataset.indices=32', 'train_dataloader.batch_size=32',
        'train_cfg.max_epochs=2', 'model.backbone.stem_channels=4',
        'model.backbone.base_channels=4', 'model.head.in_channels=32',
        'default_hooks.checkpoint.interval=-1',
        'param_scheduler.0.by_epoch=False',
        'param_scheduler.0.convert_to_iter_based=False',
        'param_scheduler.0.end=2', 'param_scheduler.1.by_epoch=False',
        'param_scheduler.1.begin=2'
    ]
    first = tool.main(argv)
    printed = capsys.readouterr().out
    assert first['new_runs'] == 3 and first['cached_runs'] == 0
    assert [name.split('_')[:2] for name in trained] == [['baseline', 's1'],
                                                         ['recipe-e1', 's1'],
                                                         ['etpp-b1', 's1']]
    assert '[run 1/3] start   baseline  seed 1' in printed
    assert '[run 1/3] done    baseline  seed 1  wall' in printed
    assert '[run 2/3] start   recipe e1  seed 1  ETA' in printed
    assert '[run 3/3] done    etpp b1  seed 1  wall' in printed
    assert 'note:' not in printed  # each run validated last at its end
    base, e1, b1 = first['summaries']
    assert base.variant.real_epochs == 2
    assert e1.variant.real_epochs == 1
    assert b1.variant.real_epochs == 3
    # exactly the budget: 2 epochs of the recipe against 1
    assert b1.variant.theoretical_speedup == pytest.approx(2.0)
    assert e1.variant.theoretical_speedup == pytest.approx(2.0)
    for summary in (base, e1, b1):
        assert summary.complete and summary.seeds == (1, )
        assert all(0 <= s <= 100 for s in summary.scores)
        assert all(s > 0 for s in summary.seconds)
    # 2/3 of 2 epochs was not benchmarked: the verdict says so
    assert first['target'].met is None

    text = report.read_text()
    assert text.startswith('# EfficientTrain++ against its recipe')
    assert '--budgets 1 --shortened 1 --seeds 1' in text
    assert 'AMD' in text or 'CPU' in text
    assert 'torch threads per run (OMP_NUM_THREADS 1)' in text
    assert "split 'test'" in text
    assert '| etpp b1 | 1 | 3 |' in text
    assert '| recipe e1 | shortened to 1 | 1 |' in text
    assert '- **Shortened recipes**: ' in text
    assert 'recipe e1 (max_epochs 2->1; LinearLR begin 0->0, end 2->1; ' \
        'CosineAnnealingLR begin 2->1, end max_iters)' in text
    # the Pareto table: each variant's run, fastest first, and the front
    pareto = text.split('## Pareto front: accuracy/top1 against wall '
                        'time')[1].split('## ')[0]
    rows = [line for line in pareto.splitlines()
            if line.startswith('| ') and not line.startswith('| variant')]
    assert sorted(row.split(' | ')[0] for row in rows) == \
        ['| baseline', '| etpp b1', '| recipe e1']
    assert all(' | s1 ' in row for row in rows)
    assert any(row.endswith('| yes |') for row in rows)
    assert '![accuracy/top1 against wall time](images/bench.png)' in text
    # seconds per iteration by size, from each run's own MMEngine log
    timing = text.split('## Time per iteration by input size')[1]
    assert '| baseline | 28 |' in timing and '| baseline | 12 |' not in timing
    assert '| etpp b1 | 12 |' in timing and '| etpp b1 | 28 |' in timing
    assert plot.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'

    # each run: its own folder, a config inheriting the recipe, the log
    run_dir = work_dir / 'runs' / trained[2]
    cfg_text = (run_dir / 'run_config.py').read_text()
    assert f"_base_ = ['{RECIPE}']" in cfg_text
    cfg = Config.fromfile(str(run_dir / 'run_config.py'))
    assert cfg.randomness.seed == 1
    assert cfg.custom_hooks[-1]['budget'] == 1
    assert (run_dir / 'command.txt').read_text().startswith(
        'OMP_NUM_THREADS=1 python ')
    assert (run_dir / 'train_output.log').is_file()

    # the shortened recipe: the config MMEngine trained (dumped merged with
    # the --cfg-options) has the compressed schedule and max_epochs
    short_dir = work_dir / 'runs' / trained[1]
    trained_cfg = Config.fromfile(str(short_dir / 'train' / 'run_config.py'))
    assert trained_cfg.train_cfg.max_epochs == 1
    warmup, cosine = trained_cfg.param_scheduler
    assert (warmup.type, warmup.by_epoch, warmup.begin, warmup.end) == \
        ('LinearLR', False, 0, 1)
    assert (cosine.type, cosine.by_epoch, cosine.begin) == \
        ('CosineAnnealingLR', False, 1)
    assert 'end' not in cosine  # up to max_iters, as in the recipe
    assert trained_cfg.model.head.in_channels == 32  # other options kept
    command = (short_dir / 'command.txt').read_text()
    assert 'max_epochs' not in command and 'param_scheduler' not in command
    assert 'model.head.in_channels=32' in command

    # the same command again trains nothing and reports the same numbers
    trained.clear()
    second = tool.main(argv)
    printed = capsys.readouterr().out
    assert trained == []
    assert second['new_runs'] == 0 and second['cached_runs'] == 3
    assert '[run 2/3] cached  recipe e1  seed 1' in printed
    assert '[run 3/3] cached  etpp b1  seed 1' in printed
    assert [s.scores for s in second['summaries']] == \
        [s.scores for s in first['summaries']]
    assert [s.seconds for s in second['summaries']] == \
        [s.seconds for s in first['summaries']]
    assert report.read_text().split('## Results')[1] == \
        text.split('## Results')[1]
    with open(work_dir / 'benchmark_cache.json') as f:
        assert len(json.load(f)['runs']) == 3


def test_several_variants_at_the_target_budget_are_each_judged():
    variants = make_variants([10], 'etpp', 4, None,
                             [('batch', 10, {'batch_scale': 'auto'})])
    results = [
        RunResult('baseline', 0, 150, 92.0),
        RunResult('etpp b10', 0, 140, 92.0),
        RunResult('batch b10', 0, 100, 91.9)
    ]
    check = check_target(summarize(variants, [0], results), 15)
    assert check.met is True
    assert 'Not met: etpp b10' in check.text
    assert 'Met: batch b10' in check.text and '1.500x' in check.text


def test_hook_options_reach_the_run_config_and_the_cache_key():
    base, plain, stage = make_variants(
        [10], 'etpp', 4, None,
        [('stage', 10, {'augment_at': 'stage', 'batch_scale': 'auto'})])
    scope = {}
    exec(run_config_text('/r/recipe.py', stage, 0), scope)
    hook = scope['custom_hooks'][0]
    assert (hook['augment_at'], hook['batch_scale']) == ('stage', 'auto')
    settings = {'threads': 1}
    assert run_key(plain, 0, settings) != run_key(stage, 0, settings)
    # the variants of --budgets keep their keys when no option is given
    assert 'hook_options' not in plain.identity()
    with pytest.raises(ValueError, match="two variants are named 'etpp b10'"):
        make_variants([10], 'etpp', 4, None, [('etpp', 10, {})])


def test_a_variant_with_its_own_stage_table_plans_without_the_preset(
        tmp_path, capsys):
    table = ("stages=[{'share': 0.5, 'size': 12}, "
             "{'share': 0.5, 'size': 28}]")
    load_tool().main([
        RECIPE, '--variant', 'own', '10', table, '--dry-run', '--work-dir',
        str(tmp_path / 'bench')
    ])
    # half the compute at 12 px (0.18x the pixels a sample): 33 epochs
    assert 'own b10: 33 real epochs, theoretical speed-up 1.50x' in \
        capsys.readouterr().out
    _, own = make_variants([], 'etpp', 4, None,
                           [('own', 10, hook_arguments([table], 'own'))])
    scope = {}
    exec(run_config_text('/r/recipe.py', own, 0), scope)
    hook = scope['custom_hooks'][0]
    assert 'preset' not in hook
    assert hook['stages'] == [{'share': 0.5, 'size': 12},
                              {'share': 0.5, 'size': 28}]
