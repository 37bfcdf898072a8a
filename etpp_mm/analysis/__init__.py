"""What the analysis tools need, without training: a config's curriculum,
its FLOPs and the command-line helpers of the tools."""
from .plan import (ConfigCurriculum, curriculum_of_config, iters_per_epoch_of,
                   lr_at_recipe_steps)

__all__ = [
    'ConfigCurriculum', 'curriculum_of_config', 'iters_per_epoch_of',
    'lr_at_recipe_steps'
]
