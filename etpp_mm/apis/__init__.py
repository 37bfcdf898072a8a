from .plan import (ConfigCurriculum, curriculum_of_config, iters_per_epoch_of,
                   lr_at_recipe_steps)

__all__ = [
    'ConfigCurriculum', 'curriculum_of_config', 'iters_per_epoch_of',
    'lr_at_recipe_steps'
]
