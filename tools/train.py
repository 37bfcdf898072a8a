"""Train a model: MMPretrain's ``tools/train.py`` with ``etpp_mm`` imported.

Same arguments as MMPretrain's launcher (``--work-dir``, ``--resume``,
``--amp``, ``--no-validate``, ``--auto-scale-lr``, ``--cfg-options``,
``--launcher``...). Importing ``etpp_mm`` first registers its components and
lets ``--resume`` load checkpoints with weights-only loading on torch >= 2.6.

Example::

    python tools/train.py configs/fashion_mnist/resnet18-w8_etpp-b10_1xb128_fmnist.py
    python tools/train.py CONFIG --resume          # latest checkpoint of work_dir
"""
import sys

import etpp_mm  # noqa: F401  registers components before the config is read
from etpp_mm.utils.launcher import init_cpu_distributed, load_mmpretrain_tool

if __name__ == '__main__':
    sys.argv += init_cpu_distributed(sys.argv)  # torchrun without CUDA
    load_mmpretrain_tool('train').main()
