"""The stage-size search: the greedy logic with fake proxies, the cache, the
snippet, bad input, and the tool on tiny real proxies (Fashion-MNIST)."""
import importlib.util
import json
import math
import os
import os.path as osp
import random

import pytest
from mmcv.transforms import Compose
from mmengine.config import Config
from mmengine.registry import init_default_scope

from conftest import ROOT
from etpp_bench.cache import ResultCache, cache_key
from etpp_mm.attach import attach_curriculum
from etpp_mm.analysis import curriculum_of_config
from etpp_mm.curriculum import (SearchSpace, check_budget, check_magnitudes,
                                check_proxy, format_snippet, greedy_search,
                                max_runs, search_space, split_indices)
from etpp_mm.hooks import EfficientTrainHook

RECIPE = osp.join(ROOT, 'configs', 'fashion_mnist',
                  'resnet18-w8_1xb128_fmnist.py')
SPACE = SearchSpace((12, 16, 20, 24, 28), 4, 28)


def load_tool():
    spec = importlib.util.spec_from_file_location(
        'search_curriculum', osp.join(ROOT, 'tools', 'search_curriculum.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


# How the tool names the search's arguments in errors: its options.
OPTIONS = load_tool().OPTION_NAMES


class FakeProxy:
    """Scores a schedule without training; records every call."""

    def __init__(self, score):
        self.score = score
        self.calls = []

    def __call__(self, schedule):
        self.calls.append(schedule)
        return self.score(schedule)


def distance_to(target):
    return FakeProxy(lambda s: -sum(abs(a - b) for a, b in zip(s, target)))


def check_trials_follow_the_greedy_rules(space, result):
    for trial in result.trials:
        schedule, stage = trial.schedule, trial.stage
        assert len(schedule) == space.num_stages
        # earlier stages are the ones already chosen
        assert schedule[:stage] == result.schedule[:stage]
        # later stages at the full size
        assert all(s == space.full_size for s in schedule[stage + 1:])
        # sizes never decrease
        assert list(schedule) == sorted(schedule)
        assert schedule[stage] in space.candidates
    assert result.schedule[-1] == space.full_size
    assert list(result.schedule) == sorted(result.schedule)


def test_greedy_search_keeps_the_best_size_of_each_stage():
    proxy = distance_to((12, 20, 24, 28))
    result = greedy_search(SPACE, proxy)
    assert result.schedule == (12, 20, 24, 28)
    check_trials_follow_the_greedy_rules(SPACE, result)
    # stage 0: every candidate (with the all-28 reference); stage 1: sizes
    # >= 12 but 28, whose schedule is stage 0's winner; stage 2: 20, 24
    assert [t.schedule for t in result.trials] == [
        (12, 28, 28, 28), (16, 28, 28, 28), (20, 28, 28, 28),
        (24, 28, 28, 28), (28, 28, 28, 28),
        (12, 12, 28, 28), (12, 16, 28, 28), (12, 20, 28, 28),
        (12, 24, 28, 28),
        (12, 20, 20, 28), (12, 20, 24, 28),
    ]
    assert [t.stage for t in result.trials] == [0] * 5 + [1] * 4 + [2] * 2
    assert proxy.calls == [t.schedule for t in result.trials]
    assert [size for size, _ in result.choices] == [12, 20, 24]
    assert result.score == 0


def test_keeping_the_full_size_ends_the_search():
    proxy = distance_to((12, 28, 28, 28))
    result = greedy_search(SPACE, proxy)
    assert result.schedule == (12, 28, 28, 28)
    # stage 1 keeps 28 (stage 0's schedule, not trained again); stage 2 has
    # nothing left to try
    assert len(proxy.calls) == 5 + 4
    assert len(set(proxy.calls)) == len(proxy.calls)


@pytest.mark.parametrize('seed', range(5))
def test_each_stage_keeps_the_argmax_and_the_result_is_the_best_trial(seed):
    rng = random.Random(seed)
    scores = {}
    proxy = FakeProxy(lambda s: scores.setdefault(s, rng.uniform(60, 90)))
    totals = []
    result = greedy_search(SPACE, proxy,
                           lambda trial, best, total: totals.append(total))
    check_trials_follow_the_greedy_rules(SPACE, result)
    prefix = []
    for stage, (size, score) in enumerate(result.choices):
        options = {
            s: scores[tuple(prefix) + (s, ) + (28, ) * (3 - stage)]
            for s in SPACE.candidates if s >= (prefix[-1] if prefix else 0)
        }
        assert size == max(options, key=options.get)
        assert score == options[size]
        prefix.append(size)
    assert result.score == max(t.score for t in result.trials)
    # runs: every schedule once, never more than announced
    assert len(proxy.calls) == len(set(proxy.calls)) == len(result.trials)
    assert totals[0] == max_runs(SPACE) == 13
    assert totals == sorted(totals, reverse=True)
    assert len(result.trials) <= totals[-1]


def test_ties_go_to_the_smaller_size_and_nan_never_wins():
    flat = greedy_search(SearchSpace((12, 20, 28), 3, 28), lambda s: 80.0)
    assert flat.schedule == (12, 12, 28)
    nan_small = greedy_search(
        SearchSpace((12, 20, 28), 2, 28),
        lambda s: math.nan if s[0] == 12 else 70.0 + s[0] / 100)
    assert nan_small.schedule == (28, 28)


def test_max_runs_counts_the_worst_case():
    assert max_runs(SPACE) == 5 + 4 + 4
    assert max_runs(SPACE, [24]) == 1 + 1
    assert max_runs(SearchSpace((12, 28), 2, 28)) == 2


def test_search_space_adds_the_full_size_and_sorts():
    space = search_space([20, 12, 20], 3, 28, size_divisor=4)
    assert space == SearchSpace((12, 20, 28), 3, 28)
    # the full size need not be a multiple of the divisor
    assert search_space([16], 2, 30, 8).candidates == (16, 30)


@pytest.mark.parametrize('call, words', [
    (lambda: search_space([32], 4, 28, names=OPTIONS),
     ['32', 'larger', '28', '--sizes']),
    (lambda: search_space([14], 4, 28, 4, names=OPTIONS),
     ['14', 'divisible', '--size-divisor', '4', '--sizes']),
    (lambda: search_space([12], 1, 28, names=OPTIONS),
     ['--num-stages', '>= 2', '1']),
    (lambda: search_space([0], 4, 28, names=OPTIONS), ['0', '--sizes']),
    (lambda: check_budget(0, key='--budget'), ['--budget', '0']),
    (lambda: check_budget(-2.5, key='--budget'), ['--budget', '-2.5']),
    (lambda: check_magnitudes([1, 5], 4, names=OPTIONS),
     ['--magnitudes', '2', '4']),
    (lambda: check_proxy(0, 10, 4, names=OPTIONS), ['--train-images', '0']),
    (lambda: check_proxy(100, 10, 0, names=OPTIONS), ['--budget', '0']),
    (lambda: check_proxy(100, 10, 4, available=105, names=OPTIONS),
     ['--train-images 100', '--heldout-images 10', '105']),
    # without names, the core names its own arguments
    (lambda: search_space([32], 4, 28), ['remove it from candidates']),
    (lambda: search_space([12], 1, 28), ['num_stages must be']),
    (lambda: check_proxy(0, 10, 4), ['train_images must be', '0']),
    (lambda: check_proxy(100, 10, 0), ['budget must be', '0']),
])
def test_bad_input_names_the_value_and_the_option(call, words):
    with pytest.raises(ValueError) as info:
        call()
    for word in words:
        assert word in str(info.value)


def test_split_indices_are_disjoint_seeded_and_random():
    train, held_out = split_indices(1000, 300, 200, seed=3)
    assert len(train) == 300 and len(held_out) == 200
    assert not set(train) & set(held_out)
    assert (train, held_out) == split_indices(1000, 300, 200, seed=3)
    assert (train, held_out) != split_indices(1000, 300, 200, seed=4)
    assert train != list(range(300))  # not just the first images


def test_cache_keys_and_resume_with_a_fake_proxy(tmp_path):
    settings = dict(seed=0, budget=4, train_images=100)
    assert cache_key((12, 28), settings) != cache_key((16, 28), settings)
    assert cache_key((12, 28), settings) != cache_key(
        (12, 28), dict(settings, budget=5))
    path = str(tmp_path / 'cache.json')
    trained = []

    def cached_proxy(proxy):
        cache = ResultCache(path)

        def evaluate(schedule):
            key = cache_key(schedule, settings)
            if cache.get(key) is None:
                trained.append(schedule)
                cache.put(key, dict(score=proxy(schedule)))
            return cache.get(key)['score']

        return evaluate

    first = greedy_search(SPACE, cached_proxy(distance_to((16, 20, 28, 28))))
    assert len(trained) == len(first.trials) == 5 + 3 + 2
    trained.clear()
    again = greedy_search(SPACE, cached_proxy(distance_to((16, 20, 28, 28))))
    assert trained == [] and again == first
    with open(path) as f:
        assert len(json.load(f)['runs']) == 10


def test_snippet_loads_and_the_hook_accepts_its_stages(tmp_path):
    out = tmp_path / 'found.py'
    out.write_text(
        format_snippet((12, 16, 20, 28),
                       budget=10,
                       base=osp.relpath(RECIPE, str(tmp_path)),
                       size_divisor=4,
                       comment=['a comment']) + '\n')
    cfg = Config.fromfile(str(out))
    hook_cfg = cfg.custom_hooks[0]
    assert hook_cfg['type'] == 'EfficientTrainHook'
    assert [s['size'] for s in hook_cfg['stages']] == [12, 16, 20, 28]
    assert cfg.train_cfg.max_epochs == 15  # inherited from the recipe
    plan = curriculum_of_config(cfg, iters_per_epoch=469).plan
    assert [s.size[0] for s in plan.stages] == [12, 16, 20, 28]
    assert plan.equivalent_epochs == pytest.approx(10, abs=1)


def test_snippet_with_magnitudes_drives_randaugment():
    text = format_snippet((12, 28), budget=3, magnitudes=[1, 9])
    scope = {}
    exec(text, scope)  # a config is Python
    init_default_scope('mmpretrain')
    hook_cfg = dict(scope['custom_hooks'][0])
    hook_cfg.pop('type')
    hook = EfficientTrainHook(**hook_cfg)
    pipeline = Compose([
        dict(type='RandomResizedCrop', scale=28),
        dict(
            type='RandAugment',
            policies='timm_increasing',
            num_policies=2,
            total_level=10,
            magnitude_level=9),
        dict(type='PackInputs')
    ])
    plan = attach_curriculum([pipeline], 3, hook.options).plan
    assert [s.stage.params for s in plan.stages] == [
        {'RandAugment': {'magnitude_level': 1}},
        {'RandAugment': {'magnitude_level': 9}},
    ]


@pytest.mark.parametrize('options, words', [
    (['--sizes', '12', '32'], ['32', 'larger', '28', '--sizes']),
    (['--sizes', '14', '--size-divisor', '4'], ['14', '--size-divisor']),
    (['--num-stages', '1'], ['--num-stages']),
    (['--budget', '0'], ['--budget', '0']),
    (['--target-budget', '-1'], ['--target-budget', '-1']),
    (['--magnitudes', '1', '9'], ['--magnitudes']),
    (['--train-images', '59000', '--heldout-images', '2000'],
     ['--train-images 59000', '60000']),
])
def test_the_tool_refuses_bad_input_before_training(tmp_path, fmnist_root,
                                                    options, words):
    tool = load_tool()

    def no_training(*args):
        raise AssertionError('a proxy was trained')

    tool.run_proxy = no_training
    work_dir = tmp_path / 'search'
    argv = [
        RECIPE, '--work-dir',
        str(work_dir), '--cfg-options',
        f'train_dataloader.dataset.data_root={fmnist_root}'
    ]
    with pytest.raises(SystemExit) as info:
        tool.main(argv[:1] + options + argv[1:])
    for word in words:
        assert word in str(info.value)
    assert not work_dir.exists()


def test_dry_run_scales_the_default_sizes_and_trains_nothing(
        tmp_path, fmnist_root, capsys):
    tool = load_tool()
    work_dir = tmp_path / 'search'
    result = tool.main([
        RECIPE, '--dry-run', '--size-divisor', '4', '--work-dir',
        str(work_dir), '--cfg-options',
        f'train_dataloader.dataset.data_root={fmnist_root}'
    ])
    printed = capsys.readouterr().out
    assert result['new_runs'] == 0 and result['result'] is None
    # 96, 128, 160, 192, 224 at 224 px -> multiples of 4 at 28 px
    assert 'candidate sizes 12, 16, 20, 24, 28' in printed
    assert 'at most 13 proxy runs' in printed
    assert 'each proxy spends' in printed
    assert not work_dir.exists()


def test_tool_trains_real_proxies_and_resumes_from_its_cache(
        tmp_path, fmnist_root, capsys):
    tool = load_tool()
    trained = []
    real_run_proxy = tool.run_proxy

    def counting_run_proxy(config_path, run_dir, threads):
        trained.append(run_dir)
        real_run_proxy(config_path, run_dir, threads)

    tool.run_proxy = counting_run_proxy
    work_dir = tmp_path / 'search'
    out = tmp_path / 'found.py'
    argv = [
        RECIPE, '--sizes', '20', '--num-stages', '2', '--train-images', '64',
        '--heldout-images', '64', '--budget', '2', '--batch-size', '32',
        '--target-budget', '10', '--work-dir',
        str(work_dir), '--out',
        str(out), '--cfg-options',
        f'train_dataloader.dataset.data_root={fmnist_root}',
        f'val_dataloader.dataset.data_root={fmnist_root}'
    ]
    first = tool.main(argv)
    printed = capsys.readouterr().out
    assert first['new_runs'] == 2 and first['cached_runs'] == 0
    assert len(trained) == 2
    assert '[run 1/2] stage 1/1  20-28' in printed
    assert '[run 2/2] stage 1/1  28-28' in printed
    assert 'best so far' in printed and 'found schedule' in printed
    scores = {t.schedule: t.score for t in first['result'].trials}
    assert set(scores) == {(20, 28), (28, 28)}
    assert all(0 <= s <= 100 for s in scores.values())

    # the proxy: train split only, disjoint held-out images, val pipeline,
    # the candidate stages, batch and LR scaling
    run_dir = trained[0]
    proxy = Config.fromfile(osp.join(run_dir, 'proxy_config.py'))
    train_set = proxy.train_dataloader.dataset
    held_out = proxy.val_dataloader.dataset
    recipe = Config.fromfile(RECIPE)
    assert train_set.split == held_out.split == 'train'
    assert not held_out.get('test_mode', False)
    assert len(train_set.indices) == len(held_out.indices) == 64
    assert not set(train_set.indices) & set(held_out.indices)
    assert held_out.pipeline == recipe.val_dataloader.dataset.pipeline
    hook = proxy.custom_hooks[-1]
    assert [s['size'] for s in hook['stages']] == [20, 28]
    assert hook['budget'] == 2
    assert proxy.train_dataloader.batch_size == 32
    assert proxy.auto_scale_lr == dict(enable=True, base_batch_size=128)

    # the same command again trains nothing
    snippet = out.read_text()
    trained.clear()
    second = tool.main(argv)
    printed = capsys.readouterr().out
    assert trained == []
    assert second['new_runs'] == 0 and second['cached_runs'] == 2
    assert '(cached' in printed
    assert {t.schedule: t.score
            for t in second['result'].trials} == scores
    assert out.read_text() == snippet
    with open(work_dir / 'search_cache.json') as f:
        assert len(json.load(f)['runs']) == 2
    assert os.path.isfile(work_dir / 'search.log')

    # the snippet inherits the recipe and runs the found schedule
    cfg = Config.fromfile(str(out))
    found = first['result'].schedule
    hook_cfg = cfg.custom_hooks[0]
    assert [s['size'] for s in hook_cfg['stages']] == list(found)
    assert hook_cfg['budget'] == 10
    plan = curriculum_of_config(cfg, iters_per_epoch=469).plan
    assert [s.size[0] for s in plan.stages] == list(found)
