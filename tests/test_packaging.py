"""Installing etpp-mm keeps the environment's MMCV flavour, and its wheel
ships the library without the repository's benchmark harness.

Real ``pip`` in a fresh virtual environment (no system site-packages);
full MMCV cannot be built here, so a stub distribution named ``mmcv`` stands
in for it: only its metadata matters to the choice ``setup.py`` makes.
"""
import glob
import json
import os
import os.path as osp
import re
import shutil
import subprocess
import sys
import venv
import zipfile

import pytest

from conftest import ROOT

PROJECT_FILES = ('setup.py', 'setup.cfg', 'pyproject.toml', 'README.md',
                 'LICENSE')
STUB_SETUP = ("from setuptools import setup\n"
              "setup(name='mmcv', version='2.2.0')\n")
REPORT = ('import importlib.metadata as m, json\n'
          "names = {d.metadata['Name'] for d in m.distributions()}\n"
          "print(json.dumps({'requires': m.requires('etpp-mm'),\n"
          "                  'mmcv': m.version('mmcv')\n"
          "                  if 'mmcv' in names else None}))\n")


def run(args, **kwargs):
    env = {k: v for k, v in os.environ.items()
           if k not in ('PYTHONPATH', 'ETPP_MMCV')}
    proc = subprocess.run(args, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=300,
                          **kwargs)
    return proc


def check(proc):
    assert proc.returncode == 0, proc.stdout[-4000:]
    return proc.stdout


@pytest.fixture(scope='module')
def project_copy(tmp_path_factory):
    """The project's packaging files, package and benchmark harness (beside
    the package, as in the checkout), outside the source tree (so no build
    output lands there)."""
    root = tmp_path_factory.mktemp('project')
    for name in PROJECT_FILES:
        shutil.copy(osp.join(ROOT, name), root / name)
    for package in ('etpp_mm', 'etpp_bench'):
        shutil.copytree(osp.join(ROOT, package), root / package,
                        ignore=shutil.ignore_patterns('__pycache__'))
    return root


def fresh_venv(path):
    venv.create(path, with_pip=True, system_site_packages=False)
    python = str(path / 'bin' / 'python')
    check(run([python, '-m', 'pip', 'install', '-q', 'setuptools>=64,<81',
               'wheel']))
    return python


def report(python):
    return json.loads(check(run([python, '-c', REPORT])))


def mmcv_requirements(requires):
    """Names of the MMCV flavours among the requirements."""
    names = [re.match(r'[A-Za-z0-9_.-]+', r).group() for r in requires]
    return [name for name in names if name.startswith('mmcv')]


def test_existing_full_mmcv_is_kept(tmp_path, project_copy):
    python = fresh_venv(tmp_path / 'venv')
    stub = tmp_path / 'mmcv_stub'
    stub.mkdir()
    (stub / 'setup.py').write_text(STUB_SETUP)
    check(run([python, '-m', 'pip', 'install', '-q', '--no-deps',
               '--no-build-isolation', str(stub)]))
    # pip's default isolated build: setup.py must still see the target's mmcv
    check(run([python, '-m', 'pip', 'install', '-q', '--no-deps', '-e',
               str(project_copy)]))
    found = report(python)
    assert found['mmcv'] == '2.2.0'
    assert mmcv_requirements(found['requires']) == ['mmcv']
    # the resolver's view: mmcv is satisfied, the rest is merely missing
    problems = run([python, '-m', 'pip', 'check']).stdout
    assert 'etpp-mm' in problems and 'torch' in problems
    assert 'mmcv' not in problems


def test_without_mmcv_it_asks_for_mmcv_lite(tmp_path, project_copy):
    python = fresh_venv(tmp_path / 'venv')
    check(run([python, '-m', 'pip', 'install', '-q', '--no-deps',
               '--no-build-isolation', '-e', str(project_copy)]))
    found = report(python)
    assert found['mmcv'] is None
    assert mmcv_requirements(found['requires']) == ['mmcv-lite']
    assert 'mmcv-lite' in run([python, '-m', 'pip', 'check']).stdout


def test_a_wrong_forced_choice_names_the_variable(project_copy):
    env = dict(os.environ, ETPP_MMCV='mmcv-full')
    proc = subprocess.run([sys.executable, 'setup.py', '--name'],
                          cwd=project_copy, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    assert proc.returncode != 0
    assert "ETPP_MMCV='mmcv-full'" in proc.stdout


def test_the_wheel_leaves_the_benchmark_harness_out(tmp_path, project_copy):
    # this interpreter's setuptools: a wheel built offline, in seconds
    check(run([sys.executable, '-m', 'pip', 'wheel', '-q', '--no-deps',
               '--no-build-isolation', '-w', str(tmp_path),
               str(project_copy)]))
    [wheel] = glob.glob(str(tmp_path / 'etpp_mm-*.whl'))
    names = zipfile.ZipFile(wheel).namelist()
    assert 'etpp_mm/__init__.py' in names
    assert 'etpp_mm/curriculum/__init__.py' in names
    shipped = [n for n in names
               if n.startswith(('etpp_bench/', 'etpp_mm/bench/'))]
    assert shipped == []
