"""Install etpp-mm on top of full MMCV or MMCV-lite, whichever is present.

Everything but the dependencies is in ``setup.cfg``. MMCV's docs say never
to install ``mmcv`` and ``mmcv-lite`` side by side (both provide the ``mmcv``
module, and the second one shadows the first, CUDA ops included), and
``setup.cfg`` cannot say "one or the other", so the choice is made here at
build time: full ``mmcv`` when the target environment already has it,
otherwise ``mmcv-lite`` (pure Python, enough for MMPretrain's classifiers,
MAE and MoCo). ``ETPP_MMCV=mmcv`` or ``ETPP_MMCV=mmcv-lite`` forces it.
"""
import os
import subprocess
import sys

from setuptools import setup

MMCV_VERSIONS = '>=2.0,<2.3'

# pip builds in an isolated environment by default: its own PYTHONPATH hides
# the target's site-packages, so the target interpreter is asked without it.
_PROBE = ('import importlib.metadata as m\n'
          'try:\n'
          "    m.distribution('mmcv')\n"
          'except m.PackageNotFoundError:\n'
          '    raise SystemExit(1)\n')


def full_mmcv_installed() -> bool:
    """Whether the interpreter being installed into has the ``mmcv``
    distribution (full MMCV; ``mmcv-lite`` is a distribution of its own)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ('PYTHONPATH', 'PYTHONNOUSERSITE')
    }
    probe = subprocess.run([sys.executable, '-c', _PROBE], env=env)
    return probe.returncode == 0


def mmcv_requirement() -> str:
    choice = os.environ.get('ETPP_MMCV')
    if choice is None:
        choice = 'mmcv' if full_mmcv_installed() else 'mmcv-lite'
    if choice not in ('mmcv', 'mmcv-lite'):
        raise SystemExit(f'ETPP_MMCV={choice!r}: use ETPP_MMCV=mmcv or '
                         'ETPP_MMCV=mmcv-lite (or leave it unset to keep '
                         'whichever is installed)')
    return choice + MMCV_VERSIONS


setup(install_requires=[
    'torch>=2.0',
    'torchvision',
    'mmengine>=0.10,<0.11',
    mmcv_requirement(),
    'mmpretrain>=1.2,<1.3',
    'numpy',
    'pillow',
    # MMEngine 0.10 resolves `_base_ = 'mmpretrain::...'` (every shipped
    # config) with pkg_resources, which setuptools 81 removed.
    'setuptools<81',
])
