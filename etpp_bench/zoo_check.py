"""What the model-zoo sweep reads from a run: the curriculum's plan and
stage changes in the log, the error that stopped it, whether every stage
ran at its planned size, and the status of the recipe.

Statuses: ``trains`` (the recipe and the curriculum train, every stage at
its planned size), ``refused`` (the curriculum run stopped before its first
iteration with an error naming ``EfficientTrainHook`` or a config key),
``fails`` (any other error of the curriculum run, or a size off the plan),
``recipe fails`` (the recipe alone fails on this machine), ``timeout`` and
``memory`` (a run stopped by the sweep: too long, or too much memory).
"""
import re
from typing import Any, Dict, List, Optional, Sequence, Tuple

from etpp_bench.zoo_train import HIDDEN_CAUSE

TRAINS = 'trains'
REFUSED = 'refused'
FAILS = 'fails'
RECIPE_FAILS = 'recipe fails'
TIMEOUT = 'timeout'
MEMORY = 'memory'
STATUSES = (TRAINS, REFUSED, FAILS, RECIPE_FAILS, TIMEOUT, MEMORY)

STAGE_LINE = re.compile(r'curriculum stage (\d+)/(\d+) from epoch (\d+), '
                        r'iteration (\d+): size (\d+)x(\d+)')
PLAN_TITLE = 'EfficientTrain curriculum:'
SIZE = re.compile(r'^(\d+)x(\d+)$')
# an exception line closing a traceback: "ValueError: ...", "KeyError"
EXCEPTION_LINE = re.compile(r'^([A-Za-z_][\w.]*(?:Error|Exception|Exit|'
                            r'Interrupt|Warning))\b(:.*)?$')
# a config key in a message, e.g. "train_cfg.type=" or "model.backbone"
CONFIG_KEY = re.compile(r'\b(?:model|train_cfg|train_dataloader|'
                        r'optim_wrapper|param_scheduler|custom_hooks|'
                        r'default_hooks|data_preprocessor|train_pipeline)'
                        r'(?:\.\w+)+')


# MMEngine's Runner.call_hook re-raises a hook's TypeError with this suffix
HOOK_WRAPPER = re.compile(r' in <[\w.]+ object at 0x[0-9a-fA-F]+>\s*$')


def plan_table(log: str) -> List[Dict[str, Any]]:
    """The stages of the plan table the hook logs before training:
    ``[{'stage': 1, 'size': (96, 96), 'iters': 8}, ...]`` (``iters`` None
    when the table has no count); empty when the log has no table.

    Example:
        >>> log = '''x - INFO - EfficientTrain curriculum:
        ... stage  size   params  compute      epochs  iters  lr
        ... 1      12x12  -       0.000-0.500  5.44    171    -
        ... 2      28x28  -       0.500-1.000  1       157    -
        ... total: 6.44 real epochs = 2.0 equivalent epochs (recipe 15)'''
        >>> plan_table(log)  # doctest: +NORMALIZE_WHITESPACE
        [{'stage': 1, 'size': (12, 12), 'iters': 171},
         {'stage': 2, 'size': (28, 28), 'iters': 157}]
    """
    lines = log.splitlines()
    starts = [i for i, line in enumerate(lines) if line.endswith(PLAN_TITLE)]
    if not starts:
        return []
    header = re.split(r'\s{2,}', lines[starts[-1] + 1].strip())
    rows = []
    for line in lines[starts[-1] + 2:]:
        cells = re.split(r'\s{2,}', line.strip())
        if len(cells) != len(header) or not cells[0].isdigit():
            break
        row = dict(zip(header, cells))
        height, width = SIZE.match(row['size']).groups()
        iters = row.get('iters', '-')
        rows.append(
            dict(
                stage=int(row['stage']),
                size=(int(height), int(width)),
                iters=int(iters) if iters.isdigit() else None))
    return rows


def stage_changes(log: str) -> List[Dict[str, Any]]:
    """The hook's stage-change lines, in order: ``{'stage', 'stages',
    'epoch', 'iteration', 'size'}`` (stage, epoch and iteration from 1).

    Example:
        >>> stage_changes('... - curriculum stage 2/10 from epoch 3, '
        ...     'iteration 9: size 160x160, batch 2 x 1, LR x 1 (compute '
        ...     '10.0% done)')  # doctest: +NORMALIZE_WHITESPACE
        [{'stage': 2, 'stages': 10, 'epoch': 3, 'iteration': 9,
          'size': (160, 160)}]
    """
    changes = []
    for match in STAGE_LINE.finditer(log):
        stage, stages, epoch, iteration, height, width = map(
            int, match.groups())
        changes.append(
            dict(
                stage=stage,
                stages=stages,
                epoch=epoch,
                iteration=iteration,
                size=(height, width)))
    return changes


def first_error(log: str) -> Optional[str]:
    """The first line of the exception that ended the last traceback of
    ``log``, or None when there is none.

    Example:
        >>> first_error('Traceback (most recent call last):\\n'
        ...     '  File "x.py", line 1, in <module>\\n    f()\\n'
        ...     'ValueError: EfficientTrainHook needs a size\\n'
        ...     'second line of the message\\n')
        'ValueError: EfficientTrainHook needs a size'
        >>> first_error('all fine') is None
        True
    """
    lines = log.splitlines()
    starts = [i for i, line in enumerate(lines)
              if line.startswith('Traceback (most recent call last)')]
    if not starts:
        return None
    for line in lines[starts[-1] + 1:]:
        if line and not line[0].isspace() and EXCEPTION_LINE.match(line):
            return line.strip()
    # an exception class of another name: the first line that is no frame
    for line in lines[starts[-1] + 1:]:
        if line and not line[0].isspace():
            return line.strip()
    return None


FRAME = re.compile(r'^\s+File "(.+)", line (\d+), in (\S+)')


def error_origin(log: str) -> Optional[str]:
    """Where the error that ended the run was raised: the innermost frame
    of the last traceback, or of the hidden cause that
    :mod:`etpp_bench.zoo_train` printed before it, as ``path:line
    (function)`` with site-packages and the repository left out of the
    path; None without a traceback.

    Example:
        >>> error_origin('Traceback (most recent call last):\\n'
        ...     '  File "/r/lib/python3.11/site-packages/mmengine/runner.py",'
        ...     ' line 9, in train\\n    x()\\n'
        ...     '  File "/work/etpp_mm/hooks/a.py", line 42, in before_run\\n'
        ...     '    y()\\nTypeError: bad')
        'etpp_mm/hooks/a.py:42 (before_run)'
    """
    lines = log.splitlines()
    marks = [i for i, line in enumerate(lines) if line == HIDDEN_CAUSE]
    starts = [i for i, line in enumerate(lines)
              if line.startswith('Traceback (most recent call last)')]
    if not starts:
        return None
    start = starts[-1]
    if marks and marks[-1] < start:
        # the traceback right after the mark is the hidden cause
        start = min(i for i in starts if i > marks[-1])
    frame = None
    for line in lines[start + 1:]:
        match = FRAME.match(line)
        if match:
            frame = match.groups()
        elif line and not line[0].isspace():
            break
    if frame is None:
        return None
    path, number, function = frame
    return f'{short_path(path)}:{number} ({function})'


def short_path(path: str) -> str:
    """``path`` from the package it belongs to: installed packages and
    the standard library without their folder, this repository's from its
    root.

    Example:
        >>> short_path('/usr/lib/python3.11/site-packages/torch/hub.py')
        'torch/hub.py'
        >>> short_path('/usr/lib/python3.11/urllib/request.py')
        'urllib/request.py'
        >>> short_path('/work/main/etpp_mm/hooks/a.py')
        'etpp_mm/hooks/a.py'
    """
    # the last one: site-packages lies inside lib/pythonX.Y
    matches = list(
        re.finditer(r'(?:site|dist)-packages/|/lib/python\d+\.\d+/', path))
    if matches:
        return path[matches[-1].end():]
    for package in ('/etpp_mm/', '/etpp_bench/', '/tools/'):
        if package in path:
            return package[1:] + path.rsplit(package, 1)[1]
    return path


def is_refusal(message: Optional[str]) -> bool:
    """Whether an error message is the hook's refusal: it names
    ``EfficientTrainHook`` or a config key.

    MMEngine's own wrapping of a ``TypeError`` raised in a hook (``... in
    <etpp_mm.hooks.efficient_train_hook.EfficientTrainHook object at
    0x...>``) names the hook that crashed, not a refusal: it is left out.

    Example:
        >>> is_refusal("TypeError: EfficientTrainHook needs an epoch-based "
        ...            "train loop, got train_cfg.type='IterBasedTrainLoop'")
        True
        >>> is_refusal("ValueError: model.backbone.img_size is fixed")
        True
        >>> is_refusal("TypeError: unsupported operand type(s) for /: "
        ...            "'float' and 'str' in <etpp_mm.hooks.efficient_train_"
        ...            "hook.EfficientTrainHook object at 0x7f63>")
        False
        >>> is_refusal('RuntimeError: shape mismatch')
        False
    """
    if not message:
        return False
    message = HOOK_WRAPPER.sub('', message)
    return 'EfficientTrainHook' in message or bool(CONFIG_KEY.search(message))


def size_mismatches(records: Sequence[Dict[str, Any]],
                    changes: Sequence[Dict[str, Any]]
                    ) -> List[Tuple[int, Any, Any]]:
    """``(iteration, fed size, planned size)`` of every recorded iteration
    whose input is not its stage's size.

    The fed size is the largest image of the batch (multi-view pipelines
    also feed smaller views, e.g. SwAV's local crops); the planned size is
    that of the last stage change at or before the iteration. Iterations
    before the first stage change have no planned size and count as off.

    Example:
        >>> changes = [dict(iteration=1, size=(96, 96)),
        ...            dict(iteration=3, size=(160, 160))]
        >>> records = [dict(iteration=1, sizes=[[96, 96]]),
        ...            dict(iteration=2, sizes=[[96, 96], [40, 40]]),
        ...            dict(iteration=3, sizes=[[96, 96]])]
        >>> size_mismatches(records, changes)
        [(3, (96, 96), (160, 160))]
    """
    off = []
    for record in records:
        iteration = record['iteration']
        planned = None
        for change in changes:
            if change['iteration'] <= iteration:
                planned = tuple(change['size'])
        fed = tuple(record['sizes'][0]) if record['sizes'] else None
        if fed != planned:
            off.append((iteration, fed, planned))
    return off


def check_stages(log: str,
                 records: Sequence[Dict[str, Any]]) -> Optional[str]:
    """Why the curriculum run did not run every stage at its planned size,
    or None when it did.

    Every stage of the plan table with planned iterations must have started
    at its size, and each iteration the probe recorded must have fed the
    size of its stage (:func:`size_mismatches`).

    Example:
        >>> log = '''EfficientTrain curriculum:
        ... stage  size   params  compute      epochs  iters  lr
        ... 1      12x12  -       0.000-0.500  5.44    1      -
        ... 2      28x28  -       0.500-1.000  1       1      -
        ... total: ...
        ... curriculum stage 1/2 from epoch 1, iteration 1: size 12x12
        ... curriculum stage 2/2 from epoch 1, iteration 2: size 28x28'''
        >>> check_stages(log, [dict(iteration=1, sizes=[[12, 12]]),
        ...                    dict(iteration=2, sizes=[[28, 28]])])
        >>> check_stages(log, [dict(iteration=1, sizes=[[12, 12]]),
        ...                    dict(iteration=2, sizes=[[12, 12]])])
        'iteration 2 fed 12x12, its stage plans 28x28 (1 of 2 iterations off)'
    """
    plan = plan_table(log)
    changes = stage_changes(log)
    if not plan:
        return 'no plan table in the log'
    if not records:
        return 'no training iteration recorded'
    started = {c['stage']: tuple(c['size']) for c in changes}
    for row in plan:
        if row['iters'] == 0:
            continue
        if row['stage'] not in started:
            return f"stage {row['stage']}/{len(plan)} never started"
        if started[row['stage']] != row['size']:
            return (f"stage {row['stage']} started at "
                    f"{_size_text(started[row['stage']])}, planned "
                    f"{_size_text(row['size'])}")
    off = size_mismatches(records, changes)
    if off:
        iteration, fed, planned = off[0]
        return (f'iteration {iteration} fed {_size_text(fed)}, its stage '
                f'plans {_size_text(planned)} ({len(off)} of '
                f'{len(records)} iterations off)')
    return None


def _size_text(size: Any) -> str:
    return 'nothing' if size is None else f'{size[0]}x{size[1]}'


def run_status(returncode: Optional[int], stopped: Optional[str]) -> str:
    """The status of one run from how it ended: ``stopped`` is
    ``'timeout'`` or ``'memory'`` when the sweep stopped it.

    Example:
        >>> run_status(0, None), run_status(1, None), run_status(None,
        ...                                                      'timeout')
        ('trains', 'fails', 'timeout')
    """
    if stopped:
        return stopped
    return TRAINS if returncode == 0 else FAILS


def classify(recipe: Dict[str, Any],
             curriculum: Optional[Dict[str, Any]]) -> Tuple[str, str]:
    """``(status, message)`` of a config from its two runs.

    Each run is ``{'returncode', 'stopped', 'log', 'records'}``
    (``records``: what ``ZooInputProbe`` wrote); ``curriculum`` is None
    when it was not made. A recipe that fails gives ``recipe fails`` with
    its error, followed by what the curriculum run gave.

    Example:
        >>> ok = dict(returncode=0, stopped=None, log='', records=[
        ...     dict(iteration=1, sizes=[[224, 224]])])
        >>> refused = dict(returncode=1, stopped=None, records=[], log=(
        ...     'Traceback (most recent call last):\\n  File "t.py"\\n'
        ...     'TypeError: EfficientTrainHook needs an epoch-based loop'))
        >>> classify(ok, dict(ok, log='curriculum stage 1/1 from epoch 1, '
        ...     'iteration 1: size 224x224\\n' + PLAN_TITLE + '\\nstage  size'
        ...     '\\n1      224x224'))
        ('trains', '1 stages: 224 px; 1 iterations')
        >>> classify(ok, refused)
        ('refused', 'TypeError: EfficientTrainHook needs an epoch-based loop')
        >>> classify(dict(ok, returncode=1, log='Traceback (most recent '
        ...     'call last):\\nOSError: no network'), refused)
        ... # doctest: +NORMALIZE_WHITESPACE
        ('recipe fails', 'OSError: no network; with the hook: refused:
          TypeError: EfficientTrainHook needs an epoch-based loop')
    """
    if recipe.get('stopped'):
        return recipe['stopped'], f"recipe run: {recipe['stopped']}"
    if recipe['returncode'] != 0:
        message = first_error(recipe['log']) or \
            f"exit code {recipe['returncode']}"
        if curriculum is not None:
            status, more = curriculum_status(curriculum)
            message += f"; with the hook: {status}{': ' if more else ''}" \
                f'{more}'
        return RECIPE_FAILS, message
    if curriculum is None:
        return FAILS, 'no curriculum run'
    return curriculum_status(curriculum)


def curriculum_status(curriculum: Dict[str, Any]) -> Tuple[str, str]:
    """``(status, message)`` of the curriculum run alone (as if its
    recipe trained); see :func:`classify`."""
    error = first_error(curriculum['log'])
    records = curriculum.get('records') or []
    if curriculum.get('stopped'):
        reached = max((r['iteration'] for r in records), default=0)
        changes = stage_changes(curriculum['log'])
        stage = f", stage {changes[-1]['stage']}/{changes[-1]['stages']}" \
            if changes else ''
        # what ran before the stop is checked all the same
        off = size_mismatches(records, changes) if changes else []
        sizes = f', {len(off)} iterations off the planned size' if off \
            else ', sizes as planned so far' if changes else ''
        return curriculum['stopped'], (f'curriculum run stopped at '
                                       f'iteration {reached}{stage}{sizes}')
    if curriculum['returncode'] != 0:
        message = error or f"exit code {curriculum['returncode']}"
        if not records and is_refusal(error):
            return REFUSED, message
        return FAILS, message
    wrong = check_stages(curriculum['log'], records)
    if wrong:
        return FAILS, wrong
    return TRAINS, trained_text(curriculum['log'], records)


def trained_text(log: str, records: Sequence[Dict[str, Any]]) -> str:
    """What a curriculum run that trained ran: stages, sizes in order,
    iterations.

    Example:
        >>> trained_text('curriculum stage 1/2 from epoch 1, iteration 1: '
        ...     'size 96x96\\ncurriculum stage 2/2 from epoch 2, iteration '
        ...     '5: size 224x224', [dict(iteration=i) for i in range(1, 7)])
        '2 stages: 96, 224 px; 6 iterations'
    """
    sizes = []
    for change in stage_changes(log):
        height, width = change['size']
        text = str(height) if height == width else f'{height}x{width}'
        if not sizes or sizes[-1] != text:
            sizes.append(text)
    stages = len({c['stage'] for c in stage_changes(log)})
    return (f"{stages} stages: {', '.join(sizes)} px; {len(records)} "
            'iterations')
