from .checkpoint import allow_mmengine_checkpoints, mmengine_checkpoint_globals
from .compat import drop_collate_scope, fix_mmcv_adjust_hue

__all__ = [
    'allow_mmengine_checkpoints', 'mmengine_checkpoint_globals',
    'fix_mmcv_adjust_hue', 'drop_collate_scope'
]
