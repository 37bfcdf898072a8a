"""EfficientTrain++ for MMPretrain.

Importing the package registers its transforms, data preprocessor and hooks
into MMPretrain's registries, and lets ``--resume`` load MMEngine checkpoints
with torch's weights-only loading. In a config::

    custom_imports = dict(imports=['etpp_mm'], allow_failed_imports=False)
    custom_hooks = [dict(type='EfficientTrainHook', preset='etpp', budget=200)]
"""
from .utils import allow_mmengine_checkpoints
from .version import __version__

from . import ops  # noqa: E402,F401  isort: skip
from . import transforms  # noqa: E402,F401  isort: skip
from . import models  # noqa: E402,F401  isort: skip
from . import hooks  # noqa: E402,F401  isort: skip

allow_mmengine_checkpoints()

__all__ = ['__version__', 'allow_mmengine_checkpoints']
