"""The model-zoo sweep: train MMPretrain's own configs, each alone and with
``EfficientTrainHook``, for a few iterations on a folder of photos, and
record which of them the curriculum trains at its planned sizes.

Per config (:func:`sweep_one`): two ``tools/train.py`` processes (through
:mod:`etpp_bench.zoo_train`), one after the other, each under a time and
memory limit: the recipe alone for two iterations, then the recipe with the
hook at a budget whose plan gives every stage an iteration or more.
``ZooInputProbe`` records the size each iteration fed the model;
:mod:`etpp_bench.zoo_check` compares it with the plan the hook logged and
gives the status.

Used by ``tools/analysis/check_recipes.py``.
"""
import dataclasses
import json
import os
import os.path as osp
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Dict, List, Optional, Sequence

from etpp_bench.zoo_check import STATUSES, classify, error_origin
from etpp_bench.zoo_config import (iters_per_epoch, model_group,
                                   sweep_budget, sweep_config,
                                   why_not_trained, zoo_configs)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TRAIN_SCRIPT = osp.join(ROOT, 'tools', 'train.py')
GROUP_NAMES = ('ConvNets and MLPs', 'attention models (ViT, Swin, ...)',
               'self-supervised')


@dataclasses.dataclass
class ZooEntry:
    """One config of the zoo: ``name`` is ``family/file.py``; ``skip`` says
    why the sweep does not train it (None: it does); ``group`` is
    :func:`~etpp_bench.zoo_config.model_group`.

    Example:
        >>> ZooEntry('resnet', '/zoo/resnet/r18.py', 'resnet/r18.py').skip
    """
    family: str
    path: str
    name: str
    group: int = 0
    skip: Optional[str] = None


@dataclasses.dataclass
class SweepSettings:
    """How each config runs.

    Attributes:
        out: folder of the results, run logs and the photos.
        photos: the photo folder (default ``out/photos_<images>``).
        images: photos of the train set.
        batch_size: batch of both runs.
        recipe_iters: iterations of the recipe run.
        budget: the hook's budget; None: :func:`~etpp_bench.zoo_config.
            sweep_budget` of ``images / batch_size`` iterations per epoch.
        hook_options: more ``EfficientTrainHook`` arguments.
        timeout: seconds each run may take.
        max_memory_gb: resident memory a run may take.
        threads: ``OMP_NUM_THREADS`` of the runs.

    Example:
        >>> SweepSettings(out='sweep').hook_budget()  # 8 photos, batch 2
        3.0
    """
    out: str
    photos: Optional[str] = None
    images: int = 8
    batch_size: int = 2
    recipe_iters: int = 2
    budget: Optional[float] = None
    hook_options: Dict[str, Any] = dataclasses.field(default_factory=dict)
    timeout: float = 150.0
    max_memory_gb: float = 8.0
    threads: int = 1

    def hook_budget(self) -> float:
        """``budget``, or the one that gives each stage of the ET++ plan
        an iteration or more."""
        if self.budget is not None:
            return self.budget
        return sweep_budget(iters_per_epoch(self.images, self.batch_size))


def select_configs(root: str,
                   families: Optional[Sequence[str]] = None,
                   pattern: Optional[str] = None,
                   one_per_family: bool = False) -> List[ZooEntry]:
    """The zoo's configs the sweep considers, in the order it runs them:
    ConvNets and MLPs, then attention models, then self-supervised ones
    (:func:`~etpp_bench.zoo_config.model_group`), by family and name.

    Args:
        root: the zoo's config folder (``zoo_config_root()``).
        families: only these families (folder names).
        pattern: only configs whose ``family/file.py`` matches this
            ``fnmatch`` pattern (``*`` added on both sides when it has no
            wildcard).
        one_per_family: only the first config of each family (sorted by
            name) that the sweep trains.

    Returns:
        The entries; those the sweep does not train have ``skip`` set (with
        ``one_per_family``, only for families with no trained config).

    Example:
        >>> import os, tempfile
        >>> root = tempfile.mkdtemp()
        >>> recipe = ("model = dict(type='ImageClassifier', backbone=dict("
        ...     "type='ResNet', depth=18))\\ntrain_dataloader = dict("
        ...     "batch_size=2)\\ntrain_cfg = dict(max_epochs=1)\\n"
        ...     "optim_wrapper = dict(optimizer=dict(type='SGD'))\\n")
        >>> for name, text in [('resnet/b.py', recipe), ('resnet/a.py', ''),
        ...                    ('resnet/c.py', recipe)]:
        ...     os.makedirs(osp.join(root, 'resnet'), exist_ok=True)
        ...     with open(osp.join(root, name), 'w') as f:
        ...         _ = f.write(text)
        >>> [(e.name, e.skip) for e in select_configs(root)]
        ... # doctest: +NORMALIZE_WHITESPACE
        [('resnet/b.py', None), ('resnet/c.py', None),
         ('resnet/a.py', 'no train_dataloader, train_cfg or optimizer')]
        >>> [e.name for e in select_configs(root, one_per_family=True)]
        ['resnet/b.py']
    """
    import fnmatch

    from mmengine import Config
    if pattern and not any(c in pattern for c in '*?['):
        pattern = f'*{pattern}*'
    chosen, done = [], set()
    for family, path in zoo_configs(root):
        name = f'{family}/{osp.basename(path)}'
        if families and family not in families:
            continue
        if pattern and not fnmatch.fnmatch(name, pattern):
            continue
        if one_per_family and family in done:
            continue
        entry = ZooEntry(family, path, name)
        try:
            cfg = Config.fromfile(path)
            entry.skip = why_not_trained(cfg)
            entry.group = model_group(cfg) if entry.skip is None else 0
        except Exception as err:  # a config MMEngine cannot read
            entry.skip = f'does not load: {type(err).__name__}: ' + \
                str(err).splitlines()[0][:200]
        if one_per_family:
            if entry.skip is not None:
                # kept only if the family has no trained config at all
                chosen = [e for e in chosen if e.family != family] + [entry]
                continue
            chosen = [e for e in chosen if e.family != family]
            done.add(family)
        chosen.append(entry)
    return sorted(chosen, key=lambda e: (e.skip is not None, e.group,
                                         e.family, e.name))


def run_environment(threads: int) -> Dict[str, str]:
    """The environment of a training process: the repository on
    ``PYTHONPATH`` (for ``etpp_bench.zoo_probe``), ``threads`` BLAS/OpenMP
    threads, no GPU."""
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        p for p in (ROOT, env.get('PYTHONPATH', '')) if p)
    env.update(
        OMP_NUM_THREADS=str(threads),
        MKL_NUM_THREADS=str(threads),
        CUDA_VISIBLE_DEVICES='')
    return env


def resident_gb(pid: int) -> float:
    """Resident memory of a process in GB (0 once it is gone)."""
    try:
        with open(f'/proc/{pid}/status') as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return 0.0


def run_limited(args: Sequence[str], log_path: str, timeout: float,
                max_memory_gb: float, env: Dict[str, str]
                ) -> Dict[str, Any]:
    """Run ``args`` with stdout and stderr into ``log_path``, killed (with
    its process group) after ``timeout`` seconds or above
    ``max_memory_gb`` of resident memory.

    Returns:
        ``{'returncode', 'stopped': None, 'timeout' or 'memory',
        'seconds'}``.

    Example:
        >>> import tempfile
        >>> log = osp.join(tempfile.mkdtemp(), 'log.txt')
        >>> run = run_limited([sys.executable, '-c', 'print(1)'], log, 30,
        ...                   4, dict(os.environ))
        >>> run['returncode'], run['stopped'], open(log).read()
        (0, None, '1\\n')
        >>> run_limited([sys.executable, '-c', 'import time; '
        ...              'time.sleep(30)'], log, 0.5, 4,
        ...             dict(os.environ))['stopped']
        'timeout'
    """
    start = time.perf_counter()
    stopped = None
    with open(log_path, 'w') as log:
        proc = subprocess.Popen(
            list(args),
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=ROOT,
            start_new_session=True)
        while proc.poll() is None:
            if time.perf_counter() - start > timeout:
                stopped = 'timeout'
            elif resident_gb(proc.pid) > max_memory_gb:
                stopped = 'memory'
            if stopped:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                break
            time.sleep(0.25)
    return dict(
        returncode=proc.returncode,
        stopped=stopped,
        seconds=round(time.perf_counter() - start, 1))


def train_run(cfg_dict: dict, run_dir: str,
              settings: SweepSettings) -> Dict[str, Any]:
    """Dump ``cfg_dict`` to ``run_dir/config.py`` and train it with
    ``tools/train.py`` in a temporary work dir; the log goes to
    ``run_dir/log.txt``, the probe to ``run_dir/probe.json``.

    Returns:
        :func:`run_limited`'s result with ``log`` (the text) and
        ``records`` (the probe's iterations); the former is also saved as
        ``run_dir/run.json``.
    """
    from mmengine import Config
    os.makedirs(run_dir, exist_ok=True)
    config_path = osp.join(run_dir, 'config.py')
    Config(cfg_dict).dump(config_path)
    log_path = osp.join(run_dir, 'log.txt')
    work_dir = tempfile.mkdtemp(prefix='zoo_work_')
    try:
        run = run_limited([
            sys.executable, '-m', 'etpp_bench.zoo_train', TRAIN_SCRIPT,
            config_path, '--work-dir', work_dir
        ], log_path, settings.timeout, settings.max_memory_gb,
                          run_environment(settings.threads))
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    with open(osp.join(run_dir, 'run.json'), 'w') as f:
        json.dump(run, f)
    return read_run(run_dir)


def read_run(run_dir: str) -> Dict[str, Any]:
    """A run as :func:`train_run` left it in ``run_dir``: ``run.json``
    with ``log`` (``log.txt``) and ``records`` (``probe.json``, empty if
    the run recorded no iteration)."""
    with open(osp.join(run_dir, 'run.json')) as f:
        run = json.load(f)
    with open(osp.join(run_dir, 'log.txt'), errors='replace') as f:
        run['log'] = f.read()
    run['records'] = []
    probe = osp.join(run_dir, 'probe.json')
    if osp.isfile(probe):
        with open(probe) as f:
            run['records'] = json.load(f)['iterations']
    return run


def sweep_one(entry: ZooEntry, settings: SweepSettings) -> Dict[str, Any]:
    """Train ``entry``'s recipe alone, then with the hook (unless the
    recipe run was stopped for time or memory), and classify the config.

    The curriculum run is made after a recipe that fails too: whether the
    hook fails the same way tells the zoo's problems from the hook's.

    Returns:
        The result: ``config``, ``family``, ``group``, ``budget``,
        ``run_dir`` (under ``settings.out``) and what
        :func:`result_of_runs` reads from the runs.
    """
    from mmengine import Config
    cfg = Config.fromfile(entry.path)
    run_root = osp.join(settings.out, 'runs', entry.name[:-3])
    budget = settings.hook_budget()
    shutil.rmtree(run_root, ignore_errors=True)
    for curriculum in (False, True):
        run_dir = osp.join(run_root, 'curriculum' if curriculum else 'recipe')
        cfg_dict = sweep_config_dict(cfg, settings, run_dir, curriculum,
                                     budget)
        if train_run(cfg_dict, run_dir, settings)['stopped']:
            break
    result = dict(
        config=entry.name,
        family=entry.family,
        group=entry.group,
        budget=budget,
        run_dir=osp.relpath(run_root, settings.out))
    result.update(result_of_runs(run_root))
    return result


def result_of_runs(run_root: str) -> Dict[str, Any]:
    """What a config's runs in ``run_root`` (``recipe/``, and
    ``curriculum/`` if it was made) give: ``status`` and ``message``
    (:func:`~etpp_bench.zoo_check.classify`), ``origin`` (where the error
    reported was raised), ``seconds`` (both runs), ``recipe_seconds``,
    ``curriculum_seconds``, ``recipe_size`` (what the recipe fed) and
    ``iterations`` (of the curriculum run).

    Reading the saved runs again gives the result again: ``--reclassify``
    applies a changed classifier to a finished sweep this way.
    """
    recipe = read_run(osp.join(run_root, 'recipe'))
    curriculum_dir = osp.join(run_root, 'curriculum')
    curriculum = read_run(curriculum_dir) if osp.isfile(
        osp.join(curriculum_dir, 'run.json')) else None
    status, message = classify(recipe, curriculum)
    failed = recipe if recipe['returncode'] != 0 or curriculum is None \
        else curriculum
    recipe_records = recipe['records']
    return dict(
        status=status,
        message=message,
        origin=error_origin(failed['log']) if status != 'trains' else None,
        seconds=round(
            recipe['seconds'] + (curriculum or {}).get('seconds', 0), 1),
        recipe_seconds=recipe['seconds'],
        curriculum_seconds=(curriculum or {}).get('seconds'),
        recipe_size=recipe_records[0]['sizes'][0]
        if recipe_records and recipe_records[0]['sizes'] else None,
        iterations=len((curriculum or {}).get('records') or []))


def sweep_config_dict(cfg: Any, settings: SweepSettings, run_dir: str,
                      curriculum: bool, budget: float) -> dict:
    """:func:`~etpp_bench.zoo_config.sweep_config` with the settings'
    photos, batch and hook options, the probe writing into ``run_dir``."""
    return sweep_config(
        cfg,
        settings.photos,
        osp.join(run_dir, 'probe.json'),
        curriculum,
        images=settings.images,
        batch_size=settings.batch_size,
        budget=budget,
        hook_options=settings.hook_options,
        recipe_iters=settings.recipe_iters)


def run_sweep(entries: Sequence[ZooEntry],
              settings: SweepSettings,
              done: Optional[Dict[str, Dict[str, Any]]] = None,
              on_result: Optional[Callable[[Dict[str, Any]], None]] = None,
              jobs: int = 1) -> List[Dict[str, Any]]:
    """Sweep the trained ``entries`` (``jobs`` at a time), skipping those
    in ``done`` (results by config name, kept as they are).

    ``on_result`` is called with each new result as it comes (in the
    order runs end); the list returned follows ``entries``.
    """
    from etpp_bench.zoo_photos import make_photo_folder
    if settings.photos is None:
        settings.photos = osp.join(settings.out, f'photos_{settings.images}')
    make_photo_folder(settings.photos, settings.images)
    done = dict(done or {})
    todo = [e for e in entries if e.skip is None and e.name not in done]

    def one(entry):
        result = sweep_one(entry, settings)
        if on_result is not None:
            on_result(result)
        return result

    if jobs > 1:
        with ThreadPoolExecutor(jobs) as pool:
            results = list(pool.map(one, todo))
    else:
        results = [one(entry) for entry in todo]
    done.update((r['config'], r) for r in results)
    return [done[e.name] for e in entries if e.name in done]


def status_counts(results: Sequence[Dict[str, Any]]) -> Dict[str, int]:
    """Configs per status, every status listed.

    Example:
        >>> status_counts([dict(status='trains'), dict(status='fails'),
        ...                dict(status='trains')])
        ... # doctest: +NORMALIZE_WHITESPACE
        {'trains': 2, 'refused': 0, 'fails': 1, 'recipe fails': 0,
         'timeout': 0, 'memory': 0}
    """
    return {s: sum(r['status'] == s for r in results) for s in STATUSES}


def failures_by_cause(results: Sequence[Dict[str, Any]]
                      ) -> List[Dict[str, Any]]:
    """Results not ``trains``, grouped by status and message (the first
    error line), the largest groups first, with the places the errors were
    raised (``origins``, in order of appearance).

    Example:
        >>> failures_by_cause([
        ...     dict(config='a.py', status='fails', message='E: x',
        ...          origin='m.py:3 (f)'),
        ...     dict(config='b.py', status='trains', message=''),
        ...     dict(config='c.py', status='fails', message='E: x')])
        ... # doctest: +NORMALIZE_WHITESPACE
        [{'status': 'fails', 'message': 'E: x', 'origins': ['m.py:3 (f)'],
          'configs': ['a.py', 'c.py']}]
    """
    groups: Dict[Any, Dict[str, list]] = {}
    for result in results:
        if result['status'] == 'trains':
            continue
        group = groups.setdefault((result['status'], result['message']),
                                  dict(origins=[], configs=[]))
        group['configs'].append(result['config'])
        origin = result.get('origin')
        if origin and origin not in group['origins']:
            group['origins'].append(origin)
    return [
        dict(status=status, message=message, **group)
        for (status, message), group in sorted(
            groups.items(), key=lambda kv: (-len(kv[1]['configs']), kv[0]))
    ]
