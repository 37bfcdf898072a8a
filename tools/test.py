"""Test a checkpoint: MMPretrain's ``tools/test.py`` with ``etpp_mm`` imported.

Example::

    python tools/test.py CONFIG work_dirs/NAME/epoch_8.pth
"""
import sys

import etpp_mm  # noqa: F401  registers components before the config is read
from etpp_mm.utils.launcher import init_cpu_distributed, load_mmpretrain_tool

if __name__ == '__main__':
    sys.argv += init_cpu_distributed(sys.argv)  # torchrun without CUDA
    load_mmpretrain_tool('test').main()
