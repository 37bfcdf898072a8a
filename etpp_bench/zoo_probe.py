"""``ZooInputProbe``: the hook the model-zoo sweep adds to every run, which
records the spatial size of what each train iteration feeds the model.

A config imports it with ``custom_imports=dict(imports=['etpp_bench.
zoo_probe'])`` (the repository root on ``PYTHONPATH``) and lists
``dict(type='ZooInputProbe', path=...)`` in ``custom_hooks``.
"""
import json
import os
import os.path as osp
from typing import Any, List, Optional

from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS


def input_sizes(inputs: Any) -> List[List[int]]:
    """The distinct ``[height, width]`` of every image tensor in
    ``inputs``, largest first.

    ``inputs`` is what the train loader gives: one stacked tensor, a list
    of per-image tensors, or, for multi-view pipelines, a list of views,
    each a tensor or a list of tensors; tensors of fewer than two dimensions
    (none are images) are skipped.

    Args:
        inputs: ``data_batch['inputs']``.

    Returns:
        The sizes, sorted by area, largest first.

    Example:
        >>> import torch
        >>> input_sizes(torch.zeros(2, 3, 96, 96))
        [[96, 96]]
        >>> input_sizes([[torch.zeros(3, 96, 96), torch.zeros(3, 96, 96)],
        ...              [torch.zeros(3, 40, 40)] * 2])
        [[96, 96], [40, 40]]
    """
    found = set()
    stack = [inputs]
    while stack:
        item = stack.pop()
        if hasattr(item, 'shape'):
            if len(item.shape) >= 2:
                found.add(tuple(int(s) for s in item.shape[-2:]))
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return [list(s) for s in sorted(found, key=lambda s: (-s[0] * s[1], s))]


@HOOKS.register_module()
class ZooInputProbe(Hook):
    """Write, before each train iteration, the iteration number (from 1,
    as the curriculum's log lines count), the epoch (from 1) and
    :func:`input_sizes` of the batch to the JSON file ``path``; rewritten
    every iteration, so a run that is killed keeps what it reached.

    Runs after every other hook (``LOWEST``), so it sees the batch the model
    gets.

    With ``stop_after_iters`` it also ends the training after that many
    iterations, in the middle of an epoch if need be, without touching the
    config's ``train_cfg``, whose length the recipe's schedules are built on
    (a warm-up of 20 epochs cannot start in a one-epoch run).

    Args:
        path: the JSON file: ``{"iterations": [{"iteration": 1, "epoch":
            1, "sizes": [[96, 96]]}, ...]}``.
        stop_after_iters: the iterations to train (None: the config's).

    Example:
        >>> import tempfile, torch
        >>> from types import SimpleNamespace
        >>> path = osp.join(tempfile.mkdtemp(), 'probe.json')
        >>> probe = ZooInputProbe(path)
        >>> runner = SimpleNamespace(iter=0, epoch=0)
        >>> probe.before_train_iter(runner, 0,
        ...                         dict(inputs=torch.zeros(2, 3, 8, 6)))
        >>> with open(path) as f:
        ...     json.load(f)
        {'iterations': [{'iteration': 1, 'epoch': 1, 'sizes': [[8, 6]]}]}
    """
    priority = 'LOWEST'

    def __init__(self, path: str, stop_after_iters: Optional[int] = None):
        self.path = path
        self.stop_after_iters = stop_after_iters
        self.records = []

    def after_train_iter(self, runner, batch_idx: int,
                         data_batch: Any = None, outputs: Any = None) -> None:
        if self.stop_after_iters is None or \
                runner.iter + 1 < self.stop_after_iters:
            return
        loop = runner.train_loop
        # MMEngine's loops check stop_training between epochs (iteration-
        # based: between iterations); the epoch's remaining batches are
        # still loaded, but no longer trained on
        loop.stop_training = True
        loop.run_iter = lambda *args, **kwargs: None

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch: Any = None) -> None:
        inputs = data_batch.get('inputs') if isinstance(data_batch,
                                                        dict) else None
        self.records.append(
            dict(
                iteration=runner.iter + 1,
                epoch=runner.epoch + 1,
                sizes=input_sizes(inputs)))
        # written whole through a temporary file: a kill between two
        # iterations never leaves half a JSON document
        os.makedirs(osp.dirname(osp.abspath(self.path)), exist_ok=True)
        partial = self.path + '.part'
        with open(partial, 'w') as f:
            json.dump(dict(iterations=self.records), f)
        os.replace(partial, self.path)
