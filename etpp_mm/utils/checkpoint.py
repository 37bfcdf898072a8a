"""Let ``--resume`` load MMEngine checkpoints with weights-only loading on.

Since torch 2.6 ``torch.load`` defaults to ``weights_only=True``, which refuses
any global it does not know. MMEngine checkpoints hold, beside tensors, the
message hub's :class:`~mmengine.logging.HistoryBuffer` objects (numpy arrays
inside) and numpy scalars. This module allow-lists exactly those, and nothing
that could run arbitrary code: in particular ``getattr`` is *not* allowed in
general; a stand-in accepts only the ``getattr(HistoryBuffer, name)`` calls
with which a history buffer pickles its statistics methods.
"""
import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer

try:  # numpy >= 2
    from numpy._core import multiarray as _multiarray
except ImportError:  # pragma: no cover - numpy 1.x
    from numpy.core import multiarray as _multiarray

# numpy 2 moved ``numpy.core`` to ``numpy._core``; pickles name the module of
# the numpy that wrote them.
_NUMPY_CORE_MODULES = ('numpy._core.multiarray', 'numpy.core.multiarray')

_NUMPY_DTYPES = (bool, np.int8, np.int16, np.int32, np.int64, np.uint8,
                 np.uint16, np.uint32, np.uint64, np.float16, np.float32,
                 np.float64)


_DEFAULT_STATISTICS = {'min', 'max', 'current', 'mean'}


def _history_buffer_getattr(obj, name):
    """``getattr`` restricted to a history buffer's statistics methods."""
    # The class-level registry is filled lazily by the first instance, so
    # the built-in statistics are named explicitly.
    allowed = _DEFAULT_STATISTICS | set(HistoryBuffer._statistics_methods)
    if obj is HistoryBuffer and name in allowed:
        return getattr(obj, name)
    raise ValueError(
        f'refusing getattr({obj!r}, {name!r}) while loading a checkpoint: '
        'only HistoryBuffer statistics methods are allowed')


def _numpy_core_globals():
    return [(getattr(_multiarray, attr), f'{module}.{attr}')
            for module in _NUMPY_CORE_MODULES
            for attr in ('_reconstruct', 'scalar')]


def mmengine_checkpoint_globals():
    """Return the globals an MMEngine checkpoint needs, for
    :func:`torch.serialization.add_safe_globals`."""
    dtype_classes = {type(np.dtype(t)) for t in _NUMPY_DTYPES}
    return [
        HistoryBuffer,
        np.ndarray,
        np.dtype,
        *sorted(dtype_classes, key=lambda cls: cls.__name__),
        *_numpy_core_globals(),
        (_history_buffer_getattr, 'builtins.getattr'),
        (_history_buffer_getattr, '__builtin__.getattr'),
    ]


def allow_mmengine_checkpoints():
    """Allow-list what MMEngine checkpoints hold for weights-only loading.

    Called when :mod:`etpp_mm` is imported, so both ``tools/train.py`` and
    MMPretrain's own launcher with ``custom_imports=['etpp_mm']`` resume on
    torch >= 2.6 without turning weights-only loading off.

    Example:
        >>> import torch
        >>> from etpp_mm.utils import allow_mmengine_checkpoints
        >>> allow_mmengine_checkpoints()
        >>> ckpt = torch.load('work_dirs/x/epoch_1.pth')  # doctest: +SKIP
    """
    add_safe_globals = getattr(torch.serialization, 'add_safe_globals', None)
    if add_safe_globals is None:  # torch < 2.4 loads everything anyway
        return
    add_safe_globals(mmengine_checkpoint_globals())
