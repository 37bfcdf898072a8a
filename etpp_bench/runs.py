"""Trainings as separate ``tools/train.py`` processes, for the tools that
train many configs and compare them (``tools/search_curriculum.py``,
``tools/benchmark.py``).

Each training runs in a fresh interpreter in its own folder: nothing (random
state, caches, threads, memory) is shared between runs, a crash ends one run
only, and every folder can be rerun by hand. Results are read back from
MMEngine's ``vis_data/scalars.json`` (``LocalVisBackend``).
"""
import glob
import hashlib
import json
import os.path as osp
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence

from mmengine.config import Config


# What a training process prints goes here, in its run folder.
OUTPUT_FILE = 'train_output.log'
# Keys of a validation record that time the loop rather than score it.
_TIMING_KEYS = ('data_time', 'time')


def plain_number(value: float):
    """Whole floats as ints, for readable configs, names and stable keys.

    Example:
        >>> plain_number(10.0), plain_number(7.5)
        (10, 7.5)
    """
    return int(value) if float(value).is_integer() else value


def config_fingerprint(cfg: Config) -> str:
    """A short hash of a config's content: it changes whenever the config
    (or a ``--cfg-options`` merged into it) changes.

    Example:
        >>> a = config_fingerprint(Config(dict(lr=0.1)))
        >>> a == config_fingerprint(Config(dict(lr=0.2))), len(a)
        (False, 12)
    """
    text = json.dumps(cfg.to_dict(), sort_keys=True, default=str)
    return hashlib.sha1(text.encode('utf-8')).hexdigest()[:12]


@dataclass(frozen=True)
class TrainingProcess:
    """How one ``tools/train.py`` process ended.

    Args:
        returncode (int): its exit status (0: trained).
        seconds (float): wall time from its start to its end.
        output (str): the file holding its console output.
    """
    returncode: int
    seconds: float
    output: str


def train_in_process(train_script: str,
                     config_path: str,
                     work_dir: str,
                     env: Optional[Mapping[str, str]] = None,
                     extra_args: Sequence[str] = (),
                     output: Optional[str] = None) -> TrainingProcess:
    """Train ``config_path`` into ``work_dir`` with ``train_script`` in a
    new interpreter; its console output goes to ``output`` (default:
    ``work_dir/train_output.log``).

    The wall time counts the whole process (interpreter start, imports,
    data loading, training, validation, checkpoints): what a user waits for.
    """
    output = output or osp.join(work_dir, OUTPUT_FILE)
    with open(output, 'w') as f:
        start = time.perf_counter()
        proc = subprocess.run([
            sys.executable, train_script, config_path, '--work-dir', work_dir,
            *extra_args
        ],
                              stdout=f,
                              stderr=subprocess.STDOUT,
                              env=None if env is None else dict(env))
        seconds = time.perf_counter() - start
    return TrainingProcess(proc.returncode, seconds, output)


def command_text(train_script: str,
                 config_path: str,
                 work_dir: str,
                 extra_args: Sequence[str] = (),
                 threads: Optional[int] = None) -> str:
    """The shell line that reruns one training by hand (``command.txt``).

    Example:
        >>> command_text('train.py', 'run/c.py', 'run/train', threads=1)
        'OMP_NUM_THREADS=1 python train.py run/c.py --work-dir run/train\\n'
    """
    prefix = '' if threads is None else f'OMP_NUM_THREADS={threads} '
    return prefix + shlex.join([
        'python',
        osp.relpath(train_script), config_path, '--work-dir', work_dir,
        *extra_args
    ]) + '\n'


def output_tail(path: str, chars: int = 3000) -> str:
    """The last ``chars`` characters of a text file ('' if unreadable)."""
    try:
        with open(path, errors='replace') as f:
            return f.read()[-chars:]
    except OSError:
        return ''


def read_scalars(run_dir: str) -> List[Dict[str, Any]]:
    """Every record of the newest ``vis_data/scalars.json`` under
    ``run_dir`` (one MMEngine run: one timestamped folder)."""
    files = sorted(
        glob.glob(osp.join(run_dir, '*', 'vis_data', 'scalars.json')))
    if not files:
        raise RuntimeError(f'no vis_data/scalars.json under {run_dir}')
    with open(files[-1]) as f:
        return [json.loads(line) for line in f if line.strip()]


def read_metric(run_dir: str, metric: str) -> float:
    """The last value of ``metric`` logged by the run in ``run_dir``."""
    value, keys = None, set()
    for record in read_scalars(run_dir):
        keys.update(record)
        if metric in record:
            value = record[metric]
    if value is None:
        raise RuntimeError(
            f'the run in {run_dir} logged no {metric!r} (logged: '
            f'{sorted(keys)}): choose --metric among the val evaluator\'s '
            'keys')
    return float(value)


def last_val_record(run_dir: str) -> Dict[str, Any]:
    """The metrics of the run's last validation, and its epoch as
    ``'step'``.

    MMEngine logs train records with ``'iter'`` and ``'epoch'`` and
    validation records without them, so the last record without ``'iter'``
    is the final validation; its timing keys are dropped.
    """
    records = [r for r in read_scalars(run_dir) if 'iter' not in r]
    if not records:
        raise RuntimeError(f'the run in {run_dir} logged no validation')
    return {
        k: v
        for k, v in records[-1].items() if k not in _TIMING_KEYS
    }
