"""Known, harmless third-party warnings that would otherwise open the output
of every tool.

Imported by ``etpp_mm/__init__.py`` before anything heavy, so the tools
(which all import ``etpp_mm`` first) start with their own lines. Each filter
names one message and where it comes from; anything else still shows.
"""
import warnings

# (message regex, module regex) of UserWarnings that say nothing about a run
KNOWN_WARNINGS = (
    # mmcv-lite has no compiled ops; MMPretrain's classifiers, MAE and MoCo
    # do not use this one
    (r'Fail to import ``MultiScaleDeformableAttention``',
     r'mmcv\.cnn\.bricks\.transformer'),
    # MMEngine 0.10 resolves `mmpretrain::` config paths with pkg_resources
    # (hence setuptools<81); the warning is about setuptools' future
    (r'pkg_resources is deprecated as an API', r''),
    # MMPretrain's FashionMNIST wraps a read-only buffer that it never writes
    (r'The given NumPy array is not writable', r'mmpretrain\.datasets\.mnist'),
)


def filter_known_warnings() -> None:
    """Hide the warnings listed in :data:`KNOWN_WARNINGS`.

    Example:
        >>> import warnings
        >>> filter_known_warnings()
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter('default')
        ...     filter_known_warnings()
        ...     warnings.warn('pkg_resources is deprecated as an API.')
        ...     warnings.warn('something else')
        >>> [str(w.message) for w in caught]
        ['something else']
    """
    for message, module in KNOWN_WARNINGS:
        warnings.filterwarnings(
            'ignore', message=message, category=UserWarning, module=module)
