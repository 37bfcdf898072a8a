"""The tools' output starts with their own lines: known third-party warnings
are hidden and ``--json`` puts JSON alone on stdout."""
import json
import os
import os.path as osp
import subprocess
import sys
import warnings

from conftest import ROOT, TESTS

from etpp_mm.known_warnings import filter_known_warnings

PRINT = osp.join(ROOT, 'tools', 'analysis', 'print_curriculum.py')
# builds an MMPretrain optimizer wrapper, which logs on MMEngine's logger
MAE = osp.join(ROOT, 'configs', 'fashion_mnist',
               'mae_vit-tiny-p4_etpp-b20_1xb256-coslr_fmnist.py')


def run_separately(args):
    env = dict(os.environ, PYTHONPATH=f'{TESTS}{os.pathsep}{ROOT}')
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=300, check=True)


def test_print_curriculum_json_is_pure_json(fmnist_root):
    proc = run_separately([PRINT, MAE, '--json'])
    plan = json.loads(proc.stdout)
    assert plan['stages'][0]['size'] == [12, 12]
    assert 'mmengine - INFO' in proc.stderr  # the log went to stderr


def test_tool_output_has_no_known_third_party_warnings(fmnist_root):
    proc = run_separately([PRINT, MAE])
    output = proc.stdout + proc.stderr
    for noise in ('MultiScaleDeformableAttention',
                  'pkg_resources is deprecated', 'scheduler.step()',
                  'NumPy array is not writable'):
        assert noise not in output
    assert proc.stdout.startswith('stage  size')


def test_other_warnings_still_show():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('default')
        filter_known_warnings()
        warnings.warn('Fail to import ``MultiScaleDeformableAttention``')
        warnings.warn('pkg_resources is deprecated as an API.')
        warnings.warn('an unknown problem')
    # the mmcv filter is tied to mmcv's module, this test module is not it
    assert [str(w.message) for w in caught] == [
        'Fail to import ``MultiScaleDeformableAttention``',
        'an unknown problem'
    ]
