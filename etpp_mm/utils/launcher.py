"""Reuse MMPretrain's own command-line launchers.

MMPretrain ships ``tools/train.py`` and ``tools/test.py`` inside its wheel
(``mmpretrain/.mim/tools``). Loading them, rather than copying them, keeps
this project's launchers argument-for-argument identical to MMPretrain's.
"""
import importlib.util
import os.path as osp
from types import ModuleType
from typing import List, Sequence

import mmpretrain
import torch
import torch.distributed as torch_dist


def mmpretrain_tool_path(name: str) -> str:
    """Path of MMPretrain's ``tools/<name>.py``."""
    path = osp.join(
        osp.dirname(mmpretrain.__file__), '.mim', 'tools', f'{name}.py')
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'MMPretrain tool {path} not found: reinstall mmpretrain from a '
            'wheel (pip install mmpretrain==1.2.0), which ships its tools')
    return path


def load_mmpretrain_tool(name: str) -> ModuleType:
    """Import MMPretrain's ``tools/<name>.py`` as a module.

    Example:
        >>> train = load_mmpretrain_tool('train')
        >>> callable(train.main)
        True
    """
    spec = importlib.util.spec_from_file_location(
        f'mmpretrain_tools_{name}', mmpretrain_tool_path(name))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def init_cpu_distributed(argv: Sequence[str]) -> List[str]:
    """Prepare ``--launcher pytorch`` on a machine without CUDA.

    MMEngine 0.10's PyTorch launcher calls ``torch.cuda.set_device`` before
    creating the process group, and wraps the model in DDP with
    ``device_ids=[local_rank]``; both fail without a GPU. When the group
    already exists MMEngine uses it as it is, so it is created here with
    gloo (the CPU backend), and the returned arguments tell the runner to
    wrap the model without device ids.

    Returns:
        list[str]: arguments to append to the launcher's command line
        (empty when nothing was needed).
    """
    launcher = None
    for index, arg in enumerate(argv):
        if arg == '--launcher' and index + 1 < len(argv):
            launcher = argv[index + 1]
        elif arg.startswith('--launcher='):
            launcher = arg.split('=', 1)[1]
    if launcher != 'pytorch' or torch.cuda.is_available() \
            or torch_dist.is_initialized():
        return []
    torch_dist.init_process_group(backend='gloo')
    return ['--cfg-options', 'model_wrapper_cfg.device_ids=None']
