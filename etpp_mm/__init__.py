"""EfficientTrain++ for MMPretrain.

Importing the package registers its transforms, data preprocessor and hooks
into MMPretrain's registries, lets ``--resume`` load MMEngine checkpoints
with torch's weights-only loading, and (on NumPy 2) replaces mmcv 2.2's
``adjust_hue``, which crashes on negative hue shifts. It also hides a few
known, harmless third-party warnings (:mod:`etpp_mm.known_warnings`). In a
config::

    custom_imports = dict(imports=['etpp_mm'], allow_failed_imports=False)
    custom_hooks = [dict(type='EfficientTrainHook', preset='etpp', budget=200)]
"""
from .known_warnings import filter_known_warnings

filter_known_warnings()  # before mmcv, mmengine and mmpretrain are imported

from .utils import (  # noqa: E402  isort: skip
    allow_mmengine_checkpoints, fix_mmcv_adjust_hue)
from .version import __version__  # noqa: E402  isort: skip

from . import ops  # noqa: E402,F401  isort: skip
from . import transforms  # noqa: E402,F401  isort: skip
from . import models  # noqa: E402,F401  isort: skip
from . import hooks  # noqa: E402,F401  isort: skip

allow_mmengine_checkpoints()
fix_mmcv_adjust_hue()

__all__ = ['__version__', 'allow_mmengine_checkpoints']
