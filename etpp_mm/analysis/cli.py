"""Command-line pieces shared by the analysis tools."""
import argparse
import contextlib
import logging
import os
import sys
import warnings
from typing import Iterator, Optional, Sequence

from mmengine.config import Config, DictAction
from mmengine.logging import MMLogger


def positive_int(text: str) -> int:
    """An ``argparse`` type for counts: refuses zero, negatives and
    non-integers with a message naming the value.

    Example:
        >>> positive_int('4')
        4
        >>> positive_int('0')
        Traceback (most recent call last):
        ...
        argparse.ArgumentTypeError: must be a positive int, got '0'
    """
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(
            f'must be a positive int, got {text!r}')
    return value


class ConfigArgumentParser(argparse.ArgumentParser):
    """A parser that refuses a ``config`` path that is not a file, in one
    line (exit code 2, no traceback)."""

    def parse_args(self, args=None, namespace=None):
        parsed = super().parse_args(args, namespace)
        config = getattr(parsed, 'config', None)
        if config is not None and not os.path.isfile(config):
            self.exit(
                2, f'{self.prog}: error: config file {config!r} does not '
                'exist\n')
        return parsed


def config_arg_parser(description: str) -> argparse.ArgumentParser:
    """A parser with the arguments every curriculum tool takes: the config,
    ``--json``, ``--iters-per-epoch`` and ``--cfg-options``.

    Example:
        >>> parser = config_arg_parser('Print the plan')
        >>> parser.parse_args([__file__, '--iters-per-epoch', '4']).json
        False
        >>> parser.parse_args(['missing.py'])
        Traceback (most recent call last):
        ...
        SystemExit: 2
    """
    parser = ConfigArgumentParser(description=description)
    parser.add_argument('config', help='config file with EfficientTrainHook')
    parser.add_argument('--json', action='store_true', help='print JSON')
    parser.add_argument(
        '--iters-per-epoch',
        type=positive_int,
        help='train iterations per epoch (default: count them by building '
        'the train dataset)')
    add_cfg_options(parser)
    return parser


def add_cfg_options(parser: argparse.ArgumentParser) -> None:
    """``--cfg-options key=value ...``, read as ``tools/train.py`` reads it
    (MMEngine's ``DictAction``), for :func:`load_config`."""
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, as in tools/train.py')


def load_config(args: argparse.Namespace) -> Config:
    """The config named by ``args.config`` with ``--cfg-options`` merged.

    The analysis tools step the config's LR schedulers without training, so
    PyTorch's warning about ``scheduler.step()`` before ``optimizer.step()``
    says nothing here and is hidden.
    """
    warnings.filterwarnings(
        'ignore',
        message=r'Detected call of `scheduler\.step\(\)` before',
        category=UserWarning,
        module=r'mmengine\.optim\.scheduler')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    return cfg


def parse_cfg_options(raw: Optional[Sequence[str]]) -> dict:
    """``--cfg-options`` strings as MMEngine's ``DictAction`` reads them,
    for a tool that also passes the raw strings on to ``tools/train.py``.

    Example:
        >>> parse_cfg_options(['train_cfg.max_epochs=2', 'a.b=x'])
        {'train_cfg.max_epochs': 2, 'a.b': 'x'}
    """
    namespace = argparse.Namespace(options=None)
    if raw:
        DictAction([], 'options')(None, namespace, raw)
    return namespace.options or {}


@contextlib.contextmanager
def logs_to_stderr() -> Iterator[None]:
    """Send what is printed inside, MMEngine's log lines included, to
    stderr, so that stdout carries the tool's own output alone (pure JSON
    with ``--json``).

    Example:
        >>> import io
        >>> from contextlib import redirect_stderr
        >>> err = io.StringIO()
        >>> with redirect_stderr(err), logs_to_stderr():
        ...     print('a log line')
        >>> err.getvalue()
        'a log line\\n'
    """
    # loggers created inside take sys.stdout (now stderr) for their
    # handlers; those created before are pointed at stderr for the while
    moved = []
    for logger in MMLogger._instance_dict.values():
        for handler in logger.handlers:
            if isinstance(handler, logging.StreamHandler) \
                    and handler.stream is sys.stdout:
                moved.append(handler)
                handler.setStream(sys.stderr)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        for handler in moved:
            handler.setStream(sys.stdout)
