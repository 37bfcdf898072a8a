"""The model-zoo sweep (``tools/analysis/check_recipes.py``): two of
MMPretrain's own configs, a ConvNet and a ViT, train with the curriculum at
every planned size through the tool; the classifier reads canned logs."""
import json
import os.path as osp
import sys

import pytest
from conftest import ROOT, run_tool

from etpp_bench.zoo_check import (FAILS, RECIPE_FAILS, REFUSED, TIMEOUT,
                                  TRAINS, classify, plan_table,
                                  stage_changes)

TOOL = osp.join(ROOT, 'tools', 'analysis', 'check_recipes.py')
CONFIGS = ['resnet/resnet18_8xb32_in1k.py', 'deit/deit-tiny_4xb256_in1k.py']

PLAN = '''2026/12/04 23:17:16 - mmengine - INFO - EfficientTrain curriculum:
stage  size     params  compute      epochs  iters  lr
1      96x96    -       0.000-0.500  1.63    2      -
2      224x224  -       0.500-1.000  0.30    1      -
total: 1.93 real epochs = 1.0 equivalent epochs (recipe 100)
'''
STAGES = ('curriculum stage 1/2 from epoch 1, iteration 1: size 96x96, '
          'batch 2 x 1, LR x 1 (compute 0.0% done)\n'
          'curriculum stage 2/2 from epoch 2, iteration 3: size 224x224, '
          'batch 2 x 1, LR x 1 (compute 50.0% done)\n')
TRACEBACK = ('Traceback (most recent call last):\n'
             '  File "tools/train.py", line 20, in <module>\n'
             '    main()\n'
             '{}\n  more of the message\n')
HOOK_CRASH = ("TypeError: unsupported operand type(s) for /: 'float' and "
              "'str' in <etpp_mm.hooks.efficient_train_hook."
              'EfficientTrainHook object at 0x7f632e15ecd0>')


def records(*sizes):
    return [dict(iteration=i + 1, epoch=1, sizes=[[s, s]])
            for i, s in enumerate(sizes)]


def run(returncode=0, log='', fed=(), stopped=None):
    return dict(returncode=returncode, stopped=stopped, log=log,
                records=records(*fed))


RECIPE_OK = run(fed=(224, 224))


@pytest.mark.parametrize(
    'recipe,curriculum,status,message',
    [
        (RECIPE_OK, run(log=PLAN + STAGES, fed=(96, 96, 224)), TRAINS,
         '2 stages: 96, 224 px; 3 iterations'),
        # the third iteration fed its stage's size one stage late
        (RECIPE_OK, run(log=PLAN + STAGES, fed=(96, 96, 96, 224)), FAILS,
         'iteration 3 fed 96x96, its stage plans 224x224 (1 of 4 '
         'iterations off)'),
        (RECIPE_OK, run(log=PLAN + STAGES.splitlines()[0], fed=(96, 96)),
         FAILS, 'stage 2/2 never started'),
        (RECIPE_OK,
         run(1, TRACEBACK.format('ValueError: EfficientTrainHook cannot '
                                 'train at stage 1 size 14x14')),
         REFUSED, 'ValueError: EfficientTrainHook cannot train at stage 1 '
         'size 14x14'),
        # an error of the same kind once training ran is a failure
        (RECIPE_OK,
         run(1, PLAN + STAGES + TRACEBACK.format(
             'RuntimeError: shape mismatch'), fed=(96,)),
         FAILS, 'RuntimeError: shape mismatch'),
        (RECIPE_OK, run(1, TRACEBACK.format('KeyError: oops')), FAILS,
         'KeyError: oops'),
        # MMEngine's re-raise of a hook's TypeError names the hook: a crash
        (RECIPE_OK, run(1, TRACEBACK.format(HOOK_CRASH)), FAILS,
         HOOK_CRASH),
        (run(1, TRACEBACK.format('OSError: no network')), None,
         RECIPE_FAILS, 'OSError: no network'),
        (RECIPE_OK, run(None, PLAN + STAGES, fed=(96, 96), stopped=TIMEOUT),
         TIMEOUT, 'curriculum run stopped at iteration 2, stage 2/2, sizes '
         'as planned so far'),
    ],
    ids=['trains', 'late size', 'stage missing', 'refused', 'fails later',
         'fails at start', 'hook crash', 'recipe fails', 'timeout'])
def test_classify_canned_runs(recipe, curriculum, status, message):
    assert classify(recipe, curriculum) == (status, message)


def test_the_tool_sweeps_two_configs_at_their_planned_sizes(tmp_path):
    """resnet18 and deit-tiny: both ``trains``; every iteration of the
    curriculum run fed the size of the stage the log names, every stage of
    the plan started, from 96 px to the recipe's 224."""
    out = tmp_path / 'sweep'
    proc = run_tool([
        sys.executable, TOOL, '--configs', 'resnet/resnet18_8xb32_*',
        '--out', str(out), '--timeout', '120'
    ])
    assert 'resnet/resnet18_8xb32_in1k.py: trains' in proc.stdout
    run_tool([
        sys.executable, TOOL, '--configs', CONFIGS[1], '--out',
        str(out), '--timeout', '120', '--resume'
    ])
    with open(out / 'zoo_sweep.json') as f:
        saved = json.load(f)
    assert [r['config'] for r in saved['results']] == CONFIGS
    for result in saved['results']:
        assert result['status'] == TRAINS, result
        assert result['recipe_size'] == [224, 224]
        recipe = out / result['run_dir'] / 'recipe' / 'probe.json'
        assert len(json.loads(recipe.read_text())['iterations']) == 2
        run_dir = out / result['run_dir'] / 'curriculum'
        log = (run_dir / 'log.txt').read_text()
        plan = plan_table(log)
        changes = stage_changes(log)
        assert [c['stage'] for c in changes] == list(range(1, 11))
        assert [c['size'] for c in changes] == [r['size'] for r in plan]
        assert plan[0]['size'] == (96, 96) and plan[-1]['size'] == (224,
                                                                    224)
        fed = json.loads((run_dir / 'probe.json').read_text())['iterations']
        assert len(fed) == result['iterations'] >= 10
        for record in fed:
            stage = [c for c in changes
                     if c['iteration'] <= record['iteration']][-1]
            assert record['sizes'] == [list(stage['size'])]
    report = (out / 'zoo_sweep.md').read_text()
    assert '| trains | 2 |' in report
    assert f'| `{CONFIGS[0]}` | resnet | trains |' in report
