"""Run a training script (``tools/train.py``) so that an error shows where
it was raised, even when MMEngine hides it.

MMEngine's ``Runner.call_hook`` re-raises a ``TypeError`` of any hook as
``TypeError(f'{e} in {hook}') from None``: Python then prints only the
re-raise, in MMEngine's code. This runner prints the hidden exception's
traceback first, after the line ``HIDDEN_CAUSE``, then the usual one.

Usage::

    python -m etpp_bench.zoo_train tools/train.py CONFIG --work-dir DIR
"""
import runpy
import sys
import traceback

HIDDEN_CAUSE = 'Hidden cause (re-raised "from None"):'


def print_hidden_causes(exc_type, exc, tb) -> None:
    """``sys.excepthook`` that also prints a context hidden by ``raise ...
    from None``.

    Example:
        >>> import io, contextlib
        >>> try:
        ...     try:
        ...         1 / 0
        ...     except ZeroDivisionError as e:
        ...         raise TypeError(f'{e} in <hook>') from None
        ... except TypeError as e:
        ...     err = io.StringIO()
        ...     with contextlib.redirect_stderr(err):
        ...         print_hidden_causes(type(e), e, e.__traceback__)
        >>> lines = err.getvalue().splitlines()
        >>> lines[0], lines[-1]
        ('Hidden cause (re-raised "from None"):', 'TypeError: division by \
zero in <hook>')
        >>> 'ZeroDivisionError: division by zero' in lines
        True
    """
    hidden = exc.__context__ if exc.__suppress_context__ else None
    if hidden is not None:
        print(HIDDEN_CAUSE, file=sys.stderr)
        traceback.print_exception(type(hidden), hidden,
                                  hidden.__traceback__)
    traceback.print_exception(exc_type, exc, tb)


def main(argv=None) -> None:
    """Run ``argv[0]`` as ``__main__`` with ``argv`` as its arguments."""
    argv = list(sys.argv[1:] if argv is None else argv)
    sys.argv = argv
    sys.excepthook = print_hidden_causes
    runpy.run_path(argv[0], run_name='__main__')


if __name__ == '__main__':
    main()
