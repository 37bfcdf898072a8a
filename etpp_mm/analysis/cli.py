"""Command-line pieces shared by the analysis tools."""
import argparse
from typing import Optional, Sequence

from mmengine.config import Config, DictAction


def config_arg_parser(description: str) -> argparse.ArgumentParser:
    """A parser with the arguments every curriculum tool takes: the config,
    ``--json``, ``--iters-per-epoch`` and ``--cfg-options``.

    Example:
        >>> parser = config_arg_parser('Print the plan')
        >>> parser.parse_args(['cfg.py', '--iters-per-epoch', '4']).json
        False
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('config', help='config file with EfficientTrainHook')
    parser.add_argument('--json', action='store_true', help='print JSON')
    parser.add_argument(
        '--iters-per-epoch',
        type=int,
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
    """The config named by ``args.config`` with ``--cfg-options`` merged."""
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
