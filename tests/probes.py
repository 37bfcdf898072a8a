"""Instruments for the integration tests: imported by the configs under
``tests/configs`` through ``custom_imports`` (tests/ on PYTHONPATH)."""
import json
import os
import os.path as osp

from mmcv.transforms import BaseTransform
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS, TRANSFORMS


@TRANSFORMS.register_module()
class StampLevel(BaseTransform):
    """Writes its ``level`` into the results, so a test can read, per
    sample, the value a DataLoader worker's copy had."""

    def __init__(self, level=0):
        self.level = level

    def transform(self, results):
        results['stamp'] = self.level
        return results


@TRANSFORMS.register_module()
class RequireSize(BaseTransform):
    """Fails on an image of another size than ``size``: a recipe step that
    only takes the recipe's own size."""

    def __init__(self, size=28):
        self.size = size

    def transform(self, results):
        if results['img'].shape[:2] != (self.size, self.size):
            raise ValueError(f'RequireSize takes {self.size} px images, got '
                             f'{results["img"].shape[:2]}')
        return results


@HOOKS.register_module()
class ProbeHook(Hook):
    """Records, per train iteration, what the model was fed and with which
    LR, and the input sizes of validation; writes ``probe_<rank>.json`` into
    the work dir after every iteration (it survives interruptions)."""
    priority = 'LOWEST'

    def __init__(self, filename='probe'):
        self.filename = filename
        self.records = {}
        self.val_sizes = []

    def _path(self, runner):
        return osp.join(runner.work_dir,
                        f'{self.filename}_{get_rank()}.json')

    def before_run(self, runner):
        path = self._path(runner)
        if osp.isfile(path):  # resumed: keep what the first part recorded
            with open(path) as f:
                saved = json.load(f)
            self.records = saved['train']
            self.val_sizes = saved['val_sizes']

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        inputs = data_batch['inputs']
        samples = data_batch['data_samples']
        stamps = sorted({int(s.metainfo.get('stamp', -9)) for s in samples})
        hub = runner.message_hub
        model = getattr(runner.model, 'module', runner.model)
        device_size = getattr(model.data_preprocessor, 'size', None)
        self.records[str(runner.iter)] = dict(
            epoch=runner.epoch,
            size=list(inputs[0].shape[-2:]),
            batch=len(inputs),
            sizes=sorted({tuple(x.shape[-2:]) for x in inputs}),
            stamps=stamps,
            # per sample, in batch order (fresh and replayed samples)
            indices=[int(s.metainfo.get('sample_idx', -1)) for s in samples],
            device_size=None if device_size is None else list(device_size),
            lr=runner.optim_wrapper.get_lr()['lr'][0],
            scalar_size=self._scalar(hub, 'train/curriculum/size'),
            compute=self._scalar(hub, 'train/curriculum/compute'),
        )

    @staticmethod
    def _scalar(hub, key):
        # runs without the curriculum (recipe baselines) have none
        if key not in hub.log_scalars:
            return None
        return float(hub.get_scalar(key).current())

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        self._dump(runner)

    def before_val_iter(self, runner, batch_idx, data_batch=None):
        self.val_sizes.append(list(data_batch['inputs'][0].shape[-2:]))

    def after_val_epoch(self, runner, metrics=None):
        self._dump(runner)

    def _dump(self, runner):
        os.makedirs(runner.work_dir, exist_ok=True)
        with open(self._path(runner), 'w') as f:
            json.dump(dict(train=self.records, val_sizes=self.val_sizes), f)


class Interrupted(RuntimeError):
    pass


@HOOKS.register_module()
class InterruptAtIter(Hook):
    """Stops training with an exception just before iteration ``at_iter``,
    as a crash or a pre-empted job would."""
    priority = 'LOWEST'

    def __init__(self, at_iter):
        self.at_iter = at_iter

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.iter == self.at_iter:
            raise Interrupted(f'interrupted before iteration {self.at_iter}')


@HOOKS.register_module()
class KillAtIter(Hook):
    """Kills its own process with SIGKILL just before iteration
    ``at_iter``: no exception handler, no clean-up, as ``kill -9`` would."""
    priority = 'LOWEST'

    def __init__(self, at_iter):
        self.at_iter = at_iter

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.iter == self.at_iter:
            os.kill(os.getpid(), 9)
