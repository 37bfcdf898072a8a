"""The node benchmark: the tool end to end on the Fashion-MNIST main job's
config (a data subset, one loader worker, few steps), and its
recommendations from made-up rates where the answer is known."""
import re
import sys

import pytest
from conftest import run_tool
from mmengine.config import Config

from etpp_bench.node import hook_of
from etpp_bench.node_advice import (expected_rate, recommend_stage,
                                    recommend_workers, replay_factor)
from etpp_bench.optimizer_time import (OptimizerTime, implementation_options,
                                       recommend_optimizer, time_optimizers)

CONFIG = 'configs/fashion_mnist/resnet18-w8_etpp-b10_1xb128_fmnist.py'
NUMBER = re.compile(r'^\d+(\.\d+)?x?$')


def table_after(text, heading):
    """The cells of the first Markdown table under ``heading``."""
    table = []
    for line in text.split(heading, 1)[1].splitlines():
        if line.startswith('|'):
            table.append([c.strip() for c in line.strip('|').split('|')])
        elif table:
            break
    header, _, *body = table
    return header, body


def test_tool_reports_every_stage_size_with_numbers(tmp_path, fmnist_root):
    report = tmp_path / 'node.md'
    out = run_tool([
        sys.executable, 'tools/analysis/benchmark_node.py', CONFIG, '--device',
        'cpu', '--batches', '256', '--rounds', '1', '--steps', '1',
        '--loader-batches', '3', '--e2e-batches', '2', '--warmup', '1',
        '--report',
        str(report), '--cfg-options',
        f'train_dataloader.dataset.data_root={fmnist_root}',
        'train_dataloader.dataset.indices=512',
        'train_dataloader.num_workers=1', 'train_dataloader.batch_size=64'
    ],
                   env=dict(OMP_NUM_THREADS='1')).stdout
    text = report.read_text()
    assert out.rstrip().endswith(text.rstrip())  # progress lines before
    assert 'AMD' in text or 'CPUs' in text  # the machine is described
    assert '- Device: cpu, 1 torch thread(s) (OMP_NUM_THREADS=1)' in text

    header, rows = table_after(text, '## Step time by input size and batch')
    assert header[:2] == ['size', 'batch']
    pairs = [(r[0], r[1]) for r in rows]
    # the recipe's batch at every size, --batches where its pixels do not
    # exceed the full-size batch's (at 12 px, not at 20)
    assert pairs == [('28', '64'), ('20', '64'), ('12', '64'), ('12', '256')]
    assert all(NUMBER.match(c) for r in rows for c in r)
    assert rows[0][3] == '1.00x' and rows[0][5] == '1.00x'
    assert [r[6] for r in rows] == ['1.00x', '0.51x', '0.18x', '0.18x']

    header, rows = table_after(text, '## Per stage size')
    assert header[-1] == 'bound' and 'loader img/s' in header
    assert [r[0] for r in rows] == ['12', '20', '28']
    assert all(NUMBER.match(c) for r in rows for c in r[:-1])
    assert all(float(c.rstrip('x')) > 0 for r in rows for c in r[3:7])
    assert {r[-1] for r in rows} <= {'step', 'loader'}

    header, rows = table_after(text, '## Recommended settings')
    settings = [(r[0], r[1]) for r in rows]
    for size in ('12', '20', '28'):
        assert ('batch_scale', size) in settings
        assert ('replay', size) in settings
    assert ('num_workers', 'all') in settings
    assert all(r[3] for r in rows)  # a reason each
    assert 'train_dataloader = dict(num_workers=' in text

    # the recipe's SGD in its three implementations, timed here
    header, rows = table_after(text, '## The optimizer step')
    assert [r[0] for r in rows] == ['as configured', 'foreach', 'fused']
    assert rows[2][1] == '`optim_wrapper.optimizer.fused=True`'
    assert all(float(r[2]) > 0 for r in rows) and rows[0][3] == '1.00x'
    assert "of the smallest stage's step" in text


# Made-up rates (images/s) at 12 px of a 28 px recipe, batch 128; the
# full-size step runs 1000 img/s, so 12 px at its pixel share (0.18x the
# cost per sample) would run 5444 img/s.
FULL_RATE = 1000


def test_step_bound_overhead_recommends_a_larger_batch():
    advice = recommend_stage(12,
                             28,
                             128, {
                                 128: 3000,
                                 640: 5000
                             },
                             FULL_RATE,
                             loader_rate=50000,
                             workers=2)
    assert advice.bound == 'step'
    assert advice.overhead == pytest.approx(1.81, abs=0.01)
    assert (advice.scale, advice.replay) == (5, 1)
    assert advice.expected == 5000
    assert 'batch 640 runs the step 1.67x faster' in \
        advice.reasons['batch_scale']
    assert advice.reasons['replay'].startswith('the loader keeps up')


def test_loader_bound_recommends_replay_not_a_larger_batch():
    # the step shrinks with its pixels: no reason for a larger batch
    advice = recommend_stage(12,
                             28,
                             128, {
                                 128: 5300,
                                 640: 5400
                             },
                             FULL_RATE,
                             loader_rate=2700,
                             workers=2)
    assert advice.bound == 'loader'
    assert (advice.scale, advice.replay) == (1, 2)
    assert advice.reasons['replay'].startswith('loader-bound')
    assert 'shrinks with its pixels' in advice.reasons['batch_scale']


def test_replay_is_capped_at_four():
    advice = recommend_stage(12,
                             28,
                             128, {128: 5300},
                             FULL_RATE,
                             loader_rate=500,
                             workers=2)
    assert (advice.scale, advice.replay) == (1, 4)
    assert advice.reasons['replay'].endswith('(capped)')
    assert replay_factor(5300, 500) == 4
    assert replay_factor(5300, 500, max_factor=8) == 8


def test_a_larger_batch_the_loader_cannot_feed_is_not_recommended():
    # overhead-bound, but the loader gives less than the recipe's batch
    # takes even with the largest replay: the larger batch gains nothing
    advice = recommend_stage(12,
                             28,
                             128, {
                                 128: 3000,
                                 640: 5000
                             },
                             FULL_RATE,
                             loader_rate=600,
                             workers=2)
    assert advice.bound == 'loader'
    assert (advice.scale, advice.replay) == (1, 4)
    assert advice.reasons['batch_scale'].endswith(
        'training 1.00x faster expected: under 1.10x, not worth another '
        'batch and LR')


def test_overhead_and_a_slow_loader_recommend_both():
    advice = recommend_stage(12,
                             28,
                             128, {
                                 128: 3000,
                                 640: 5000
                             },
                             FULL_RATE,
                             loader_rate=1300,
                             workers=2)
    assert (advice.scale, advice.replay) == (5, 4)
    assert advice.expected == 5000


def test_the_full_size_keeps_the_recipes_batch():
    advice = recommend_stage(28,
                             28,
                             128, {
                                 128: 1000,
                                 256: 1500
                             },
                             FULL_RATE,
                             loader_rate=50000)
    assert (advice.scale, advice.replay, advice.overhead) == (1, 1, 1.0)


def test_expected_rate_with_and_without_workers():
    assert expected_rate(1000, 500, replay=1, workers=2) == 500
    assert expected_rate(1000, 500, replay=2, workers=2) == 1000
    assert expected_rate(1000, 1000, workers=0) == pytest.approx(500)


def test_workers_follow_the_most_demanding_stage_and_the_cores():
    loaders, needed = {12: 1000, 28: 4000}, {12: 3000, 28: 1000}
    count, reason = recommend_workers(2, loaders, needed, cores=16)
    assert count == 6 and 'at 12 px' in reason and 'num_workers=6' in reason
    count, reason = recommend_workers(2, loaders, needed, cores=4)
    assert count == 3  # one core stays with the training step
    count, reason = recommend_workers(2, loaders, needed, cores=3)
    assert count == 2 and 'replay covers the gap' in reason
    assert recommend_workers(2, loaders, {12: 900, 28: 900}, cores=16)[0] \
        == 2
    count, reason = recommend_workers(0, {12: 4000}, {12: 1000}, cores=2)
    assert count == 1 and 'main process' in reason


def test_hook_options_from_the_config_or_the_command_line():
    cfg = Config(
        dict(custom_hooks=[
            dict(type='CustomHook'),
            dict(type='EfficientTrainHook', preset='etpp', budget=10)
        ]))
    assert hook_of(cfg,
                   dict(batch_scale='auto')) == dict(type='EfficientTrainHook',
                                                     preset='etpp',
                                                     budget=10,
                                                     batch_scale='auto')
    assert hook_of(Config(dict()),
                   dict(budget=200)) == dict(type='EfficientTrainHook',
                                             budget=200)
    with pytest.raises(ValueError, match='--hook'):
        hook_of(Config(dict()), None)


def test_optimizer_implementations_leave_the_model_untouched():
    # MMPretrain's Lamb has no other implementation; AdamW's three run
    import torch
    from mmengine.registry import init_default_scope
    init_default_scope('mmpretrain')
    assert list(implementation_options(dict(type='Lamb', lr=1e-3))) == [
        'as configured'
    ]
    model = torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.BatchNorm1d(8))
    before = [p.detach().clone() for p in model.parameters()]
    cfg = dict(type='OptimWrapper',
               optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05),
               paramwise_cfg=dict(norm_decay_mult=0.0))
    times = time_optimizers(model, cfg, rounds=2, steps=2)
    assert [t.name for t in times] == ['as configured', 'foreach', 'fused']
    assert all(t.seconds > 0 and not t.error for t in times)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
    assert all(p.grad is None for p in model.parameters())


def test_an_implementation_that_cannot_run_is_reported_not_raised():
    # torch before 2.4 refused fused=True for CPU tensors, in these words
    import torch

    class CudaOnlyFusedSGD(torch.optim.SGD):

        def __init__(self, params, lr, foreach=None, fused=None):
            if fused:
                raise RuntimeError('`fused=True` requires all the params to '
                                   'be floating point Tensors of supported '
                                   "devices: ['cuda']\nmore")
            super().__init__(params, lr, foreach=foreach)

    cfg = dict(type='OptimWrapper',
               optimizer=dict(type=CudaOnlyFusedSGD, lr=0.1))
    times = time_optimizers(torch.nn.Linear(4, 2), cfg, 1, 1)
    assert [(t.name, t.seconds is None) for t in times] == [
        ('as configured', False), ('foreach', False), ('fused', True)
    ]
    assert times[2].error == ('`fused=True` requires all the params to be '
                              "floating point Tensors of supported devices: "
                              "['cuda']")
    option, why = recommend_optimizer(times, small_step=1.0)
    assert option in ('', 'optim_wrapper.optimizer.foreach=True')


def test_the_optimizer_is_kept_unless_another_is_clearly_faster():
    ms = 1e-3
    configured = OptimizerTime('as configured', '', 10 * ms)
    close = OptimizerTime('fused', 'optim_wrapper.optimizer.fused=True',
                          9.5 * ms)
    failed = OptimizerTime('foreach', 'optim_wrapper.optimizer.foreach=True',
                           None, 'no CUDA')
    option, why = recommend_optimizer([configured, close, failed], 50 * ms)
    assert option == ''
    assert why.startswith("keep the recipe's optimizer: 10.0 ms a step")
    assert '20% of the smallest stage' in why
    fast = OptimizerTime('fused', 'optim_wrapper.optimizer.fused=True',
                         2 * ms)
    option, why = recommend_optimizer([configured, fast], 50 * ms)
    assert option == 'optim_wrapper.optimizer.fused=True'
    assert '5.0x faster' in why
