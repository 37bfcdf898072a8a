"""What a campaign needs from a recipe config, read without training."""
import copy
import os.path as osp
from functools import cached_property
from typing import Any, Dict, List, Optional, Sequence

from mmcv.transforms import Compose
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpretrain.registry import DATASETS

from etpp_bench.runs import config_fingerprint
from etpp_mm.analysis import iters_per_epoch_of
from etpp_mm.analysis.plan import dataset_cfg_with_pipeline, find_hook_cfgs


class Recipe:
    """A recipe config as the campaigns read it: its hooks, epochs,
    datasets, pipelines and what its run configs must repeat.

    Args:
        path (str): the config file, as the user named it (for messages).
        cfg (Config): the config loaded, options merged.

    Example:
        >>> cfg = Config(dict(train_cfg=dict(max_epochs=3),
        ...                   custom_hooks=[dict(type='EMAHook')]))
        >>> recipe = Recipe('r.py', cfg)
        >>> recipe.epochs, recipe.hook, recipe.imports
        (3, None, ['etpp_mm'])
    """

    def __init__(self, path: str, cfg: Config):
        init_default_scope(cfg.get('default_scope', 'mmpretrain'))
        self.name = path
        self.path = osp.abspath(path)
        self.cfg = cfg
        self.hook, self.other_hooks = find_hook_cfgs(cfg)
        train_cfg = cfg.get('train_cfg', None) or {}
        self.epochs = train_cfg.get('max_epochs')
        self.val_interval = train_cfg.get('val_interval', 1)
        imports = list((cfg.get('custom_imports', None)
                        or {}).get('imports', []))
        self.imports = imports + [m for m in ['etpp_mm'] if m not in imports]
        visualizer = cfg.get('visualizer', None) or {}
        self.visualizer_type = visualizer.get('type', 'UniversalVisualizer')
        if not isinstance(self.visualizer_type, str):
            self.visualizer_type = 'UniversalVisualizer'
        # Plain data for run configs (other hooks, e.g. EMA, are kept).
        self.plain_hooks = list(cfg.to_dict().get('custom_hooks', None) or [])
        # Plain data, for the schedule of a shortened recipe.
        self.param_scheduler = cfg.to_dict().get('param_scheduler', None)

    def require_epochs(self, why: str) -> None:
        """Raise ``ValueError`` unless ``train_cfg.max_epochs`` is an int."""
        if not isinstance(self.epochs, int):
            raise ValueError(
                f'{self.name} has no train_cfg.max_epochs: {why}')

    def require_validation(self, why: str) -> None:
        """Raise ``ValueError`` unless the recipe validates."""
        if not self.cfg.get('val_dataloader', None) or not self.cfg.get(
                'val_evaluator', None):
            raise ValueError(
                f'{self.name} has no val_dataloader/val_evaluator: {why}')

    def hook_args(self, set_by_caller: Sequence[str]) -> Dict[str, Any]:
        """The arguments of the recipe's own ``EfficientTrainHook`` other
        than ``set_by_caller`` (empty without a hook)."""
        return {
            k: v
            for k, v in (self.hook or {}).items() if k not in set_by_caller
        }

    @property
    def train_dataset(self) -> Dict[str, Any]:
        """The innermost train dataset config (wrappers dropped), copied."""
        return copy.deepcopy(
            dict(dataset_cfg_with_pipeline(self.cfg.train_dataloader.dataset)))

    def train_pipeline(self) -> Compose:
        return Compose(self.train_dataset['pipeline'])

    @property
    def val_pipeline(self) -> List[Any]:
        return copy.deepcopy(
            dataset_cfg_with_pipeline(
                self.cfg.val_dataloader.dataset)['pipeline'])

    @property
    def val_split(self) -> Optional[str]:
        """The val dataset's ``split``, if there is one and it tells."""
        loader = self.cfg.get('val_dataloader', None)
        try:
            return dataset_cfg_with_pipeline(loader.dataset).get('split') \
                if loader else None
        except ValueError:
            return None

    def fingerprint(self) -> str:
        """Changes whenever the recipe (or an option merged into it)
        changes."""
        return config_fingerprint(self.cfg)

    @cached_property
    def iters_per_epoch(self) -> int:
        """Train iterations per epoch, counted by building the dataset."""
        try:
            return iters_per_epoch_of(self.cfg)
        except (OSError, RuntimeError, ValueError, KeyError) as err:
            raise RuntimeError(
                f'cannot build the train dataset of {self.name} '
                f'({type(err).__name__}: {err}): check '
                'train_dataloader.dataset (or --cfg-options)') from err

    def train_split_length(self) -> int:
        """Images in the train split, every index of it (no pipeline)."""
        dataset = dict(self.train_dataset, pipeline=[])
        dataset.pop('indices', None)
        try:
            return len(DATASETS.build(dataset))
        except (OSError, RuntimeError) as err:
            raise RuntimeError(
                f'cannot build the train dataset ({type(err).__name__}: '
                f'{err}): check train_dataloader.dataset') from err

    def proxy_cfg(self,
                  train_indices: Sequence[int],
                  heldout_indices: Sequence[int],
                  seed: int,
                  batch_size: Optional[int] = None) -> Config:
        """The recipe on ``train_indices`` of the train split, scored once,
        at the end, on its ``heldout_indices`` through the val pipeline;
        the LR scaled linearly to ``batch_size`` when given."""
        proxy = copy.deepcopy(self.cfg)
        recipe_batch = proxy.train_dataloader.batch_size
        if batch_size is not None and batch_size != recipe_batch:
            proxy.train_dataloader.batch_size = batch_size
            scaling = proxy.get('auto_scale_lr', None) or {}
            if not scaling.get('enable', False):
                # MMEngine's linear scaling, from the batch the recipe's LR
                # is given for (a recipe that scales keeps its own base).
                proxy.auto_scale_lr = dict(
                    enable=True, base_batch_size=recipe_batch)
        train_dataset = dict(self.train_dataset, indices=train_indices)
        # The same split as the training images (never the test split),
        # seen through the recipe's val pipeline.
        heldout_dataset = dict(
            self.train_dataset,
            indices=heldout_indices,
            pipeline=self.val_pipeline)
        proxy.train_dataloader.dataset = train_dataset
        proxy.val_dataloader.dataset = heldout_dataset
        proxy.train_cfg.pop('dynamic_intervals', None)
        # Validation runs after the last epoch only (MMEngine always
        # validates then); earlier ones would cost time and score nothing.
        proxy.train_cfg.val_interval = 10**9
        proxy.train_cfg.val_begin = 1
        proxy.default_hooks.checkpoint = dict(
            type='CheckpointHook', interval=-1, save_last=False)
        visualizer = proxy.get('visualizer', None) or dict(
            type='UniversalVisualizer')
        # The score is read from vis_data/scalars.json; nothing goes to
        # remote loggers.
        visualizer['vis_backends'] = [dict(type='LocalVisBackend')]
        proxy.visualizer = visualizer
        proxy.randomness = dict(
            proxy.get('randomness', None) or {}, seed=seed)
        proxy.resume = False
        return proxy
