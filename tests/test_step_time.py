"""The step-time benchmark: real training steps of a recipe's model."""
import sys

from conftest import ROOT, run_tool
from mmengine.config import Config

from etpp_bench.step_time import TrainStep, scaled_pairs


def test_train_step_updates_the_model_at_every_size_and_batch():
    step = TrainStep(
        Config.fromfile(
            f'{ROOT}/configs/fashion_mnist/resnet18-w8_1xb128_fmnist.py'))
    weight = step.model.backbone.conv1.weight
    for size, batch in scaled_pairs([28, 12], 28, 4, [2, 5]):
        before = weight.detach().clone()
        step(size, batch)
        assert not before.equal(weight.detach()), (size, batch)


def test_tool_prints_one_row_per_size_and_batch():
    out = run_tool([
        sys.executable, 'tools/analysis/benchmark_step.py',
        'configs/fashion_mnist/resnet18-w8_1xb128_fmnist.py', '--sizes', '28',
        '12', '--batch', '8', '--scales', '4', '--rounds', '1', '--steps',
        '1'
    ],
                   env=dict(OMP_NUM_THREADS='1')).stdout
    rows = [line for line in out.splitlines() if line.startswith('| ')]
    assert rows[0].startswith('| size | batch |')
    cells = [[c.strip() for c in r.strip('|').split('|')] for r in rows[1:]]
    assert [(c[0], c[1]) for c in cells] == [('28', '8'), ('12', '8'),
                                             ('12', '32')]
    assert cells[0][3] == '1.00x' and cells[0][5] == '1.00x'
    assert [c[6] for c in cells] == ['1.00x', '0.18x', '0.18x']


def test_eta_accuracy_tool_reads_a_log(tmp_path):
    """Predictions against the time left, and the point from which every
    size has been measured."""
    lines = [
        '12/01 06:00:00 - mmengine - INFO - Epoch(train) [1][5/5]  '
        'curriculum/size: 12  curriculum/eta_seconds: 300.0',
        '12/01 06:01:00 - mmengine - INFO - Epoch(train) [2][5/5]  '
        'curriculum/size: 20  curriculum/eta_seconds: 130.0',
        '12/01 06:02:00 - mmengine - INFO - Epoch(train) [3][5/5]  '
        'curriculum/size: 28  curriculum/eta_seconds: 66.0',
        '12/01 06:03:00 - mmengine - INFO - Epoch(train) [4][5/5]  '
        'curriculum/size: 28  curriculum/eta_seconds: 1.0',
    ]
    log = tmp_path / 'train_output.log'
    log.write_text('\n'.join(lines) + '\n')
    out = run_tool([sys.executable, 'tools/analysis/eta_accuracy.py',
                    str(log)]).stdout
    assert '300 /     180  1.67' in out
    assert '66 /      60  1.10  <- every size measured' in out
    assert 'once every size is measured: 1.10-1.10' in out
