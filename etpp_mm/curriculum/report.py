"""Tabulate a plan (what the hook logs and what the plan tool prints), a
search's trials, and a searched schedule as a config."""
import textwrap
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from .plan import CurriculumPlan
from .search import Trial, schedule_name, stage_rows


def epochs_text(epochs: float) -> str:
    """Real epochs as a plan prints them: whole, or to 2 decimals.

    Example:
        >>> epochs_text(60), epochs_text(108.8889)
        ('60', '108.89')
    """
    if abs(epochs - round(epochs)) < 1e-9:
        return str(int(round(epochs)))
    return f'{epochs:.2f}'


def plan_rows(plan: CurriculumPlan,
              iters_per_epoch: Optional[int] = None,
              lr_starts: Optional[Sequence[float]] = None,
              batch_scales: Optional[Sequence[int]] = None
              ) -> List[Dict[str, Any]]:
    """One dict per stage: size, scheduled parameters, compute span, real
    epochs (fractional in ``'etpp'`` mode: stages end where their share
    ends), iterations at ``iters_per_epoch`` recipe iterations an epoch
    divided by the stage's batch multiple, and (when given) the LR at the
    stage's start."""
    rows = []
    scales = batch_scales or [1] * len(plan.stages)
    for index, stage in enumerate(plan.stages):
        params = {
            f'{t}.{k}': v
            for t, p in stage.stage.params.items()
            for k, v in p.items()
        }
        iters = None
        if iters_per_epoch is not None:
            iters = int(round(stage.epochs * iters_per_epoch / scales[index]))
        rows.append(
            dict(
                size=list(stage.size),
                magnitude=params.get('RandAugment.magnitude_level'),
                params=params,
                compute_start=plan.compute_fraction(stage.begin_epoch),
                compute_end=plan.compute_fraction(stage.end_epoch),
                epochs=stage.epochs,
                batch_scale=scales[index],
                iters=iters,
                lr_start=None if lr_starts is None else lr_starts[index]))
    return rows


def plan_totals(plan: CurriculumPlan) -> Dict[str, Any]:
    return dict(
        mode=plan.mode,
        total_epochs=plan.total_epochs,
        real_epochs=plan.stages[-1].end_epoch,
        equivalent_epochs=plan.equivalent_epochs,
        recipe_epochs=plan.recipe_epochs,
        speedup=plan.speedup)


def format_plan(plan: CurriculumPlan,
                iters_per_epoch: Optional[int] = None,
                lr_starts: Optional[Sequence[float]] = None,
                batch_scales: Optional[Sequence[int]] = None) -> str:
    """A fixed-width table of the plan with its totals.

    Example:
        >>> from etpp_mm.curriculum import build_plan, preset_stages
        >>> mode, stages = preset_stages('et', (224, 224))
        >>> print(format_plan(build_plan(stages, mode, 300, (224, 224)))
        ...       .splitlines()[-1])
        total: 300 real epochs = 195.9 equivalent epochs (recipe 300), theoretical speed-up 1.53x
        >>> mode, stages = preset_stages('etpp', (224, 224))
        >>> plan = build_plan(stages, mode, 300, (224, 224), budget=200)
        >>> print(format_plan(plan, 1251).splitlines()[1])
        1      96x96    RandAugment.magnitude_level=0  0.000-0.100  108.89  136220  -
    """
    rows = plan_rows(plan, iters_per_epoch, lr_starts, batch_scales)
    header = ['stage', 'size', 'params', 'compute', 'epochs', 'iters', 'lr']
    if any(row['batch_scale'] != 1 for row in rows):
        header.insert(5, 'batch')
    lines = []
    for index, row in enumerate(rows):
        params = ' '.join(f'{k}={v}' for k, v in row['params'].items())
        line = [
            str(index + 1), f"{row['size'][0]}x{row['size'][1]}", params
            or '-', f"{row['compute_start']:.3f}-{row['compute_end']:.3f}",
            epochs_text(row['epochs']), '-' if row['iters'] is None else str(
                row['iters']), '-' if row['lr_start'] is None else
            f"{row['lr_start']:.4g}"
        ]
        if 'batch' in header:
            line.insert(5, f"x{row['batch_scale']}")
        lines.append(line)
    widths = [
        max(len(header[i]), *(len(line[i]) for line in lines))
        for i in range(len(header))
    ]
    fmt = '  '.join('{:<%d}' % w for w in widths)
    out = [fmt.format(*header)] + [fmt.format(*line) for line in lines]
    totals = plan_totals(plan)
    out.append(
        f"total: {epochs_text(totals['real_epochs'])} real epochs = "
        f"{totals['equivalent_epochs']:.1f} equivalent epochs (recipe "
        f"{totals['recipe_epochs']}), theoretical speed-up "
        f"{totals['speedup']:.2f}x")
    return '\n'.join(line.rstrip() for line in out)


def format_trials(trials: Sequence[Trial],
                  chosen: Sequence[int],
                  extra: Optional[Mapping[int, Mapping[str, str]]] = None,
                  score_name: str = 'accuracy') -> str:
    """A fixed-width table of every trial, the chosen schedule marked.

    Args:
        trials: the search's trials.
        chosen: the schedule found.
        extra: more columns per trial index, e.g. ``{1: {'epochs': '8'}}``.
        score_name: header of the score column.

    Example:
        >>> trials = [Trial(1, 0, (12, 28), 80.0), Trial(2, 0, (28, 28), 82.5)]
        >>> print(format_trials(trials, (28, 28)))
        run  stage  schedule  accuracy
        1    1      12-28     80.00
        2    1      28-28     82.50     <- found
    """
    extra = extra or {}
    names: List[str] = []
    for columns in extra.values():
        names += [name for name in columns if name not in names]
    header = ['run', 'stage', 'schedule', score_name] + names
    lines = []
    for trial in trials:
        columns = extra.get(trial.index, {})
        lines.append([
            str(trial.index),
            str(trial.stage + 1),
            schedule_name(trial.schedule), f'{trial.score:.2f}'
        ] + [columns.get(name, '-') for name in names] +
                     (['<- found'] if tuple(trial.schedule) == tuple(chosen)
                      else ['']))
    widths = [
        max([len(header[i])] + [len(line[i]) for line in lines])
        for i in range(len(header))
    ]
    fmt = '  '.join('{:<%d}' % w for w in widths) + '  {}'
    out = [fmt.format(*header, '')] + [fmt.format(*line) for line in lines]
    return '\n'.join(line.rstrip() for line in out)


def format_snippet(schedule: Sequence[int],
                   budget: float,
                   base: Optional[str] = None,
                   size_divisor: int = 1,
                   magnitudes: Optional[Sequence[float]] = None,
                   hook_args: Optional[Mapping[str, Any]] = None,
                   comment: Sequence[str] = ()) -> str:
    """A config file running ``schedule`` with ``EfficientTrainHook``.

    Args:
        schedule: stage sizes in the recipe's pixels.
        budget: equivalent full-size epochs of the training it configures.
        base: path of the recipe relative to the snippet; when given the
            snippet inherits it and can be trained as it is.
        size_divisor: written when not 1.
        magnitudes: RandAugment magnitude per stage, if scheduled.
        hook_args: more hook arguments kept from the recipe's own hook
            (``low_frequency``, ``full_size``...).
        comment: sentences for the header comment, wrapped to fit.

    Example:
        >>> print(format_snippet((12, 20, 28), budget=10))
        custom_imports = dict(imports=['etpp_mm'], allow_failed_imports=False)
        custom_hooks = [
            dict(
                type='EfficientTrainHook',
                mode='etpp',
                stages=[
                    dict(share=0.3333333333333333, size=12),
                    dict(share=0.3333333333333333, size=20),
                    dict(share=0.3333333333333333, size=28),
                ],
                budget=10),
        ]
    """
    lines = [
        f'# {line}' for text in comment for line in textwrap.wrap(text, 77)
    ]
    if base is not None:
        lines.append(f'_base_ = [{base!r}]')
    lines += [
        "custom_imports = dict(imports=['etpp_mm'], "
        'allow_failed_imports=False)',
        'custom_hooks = [',
        '    dict(',
        "        type='EfficientTrainHook',",
        "        mode='etpp',",
        '        stages=[',
    ]
    for row in stage_rows(schedule, magnitudes):
        text = f"            dict(share={row['share']!r}, size={row['size']}"
        if 'params' in row:
            text += f", params={row['params']!r}"
        lines.append(text + '),')
    lines.append('        ],')
    arguments = []
    if size_divisor != 1:
        arguments.append(f'size_divisor={size_divisor}')
    for name, value in (hook_args or {}).items():
        arguments.append(f'{name}={value!r}')
    arguments.append(f'budget={budget!r}')
    lines += [f'        {argument},' for argument in arguments[:-1]]
    lines.append(f'        {arguments[-1]}),')
    lines.append(']')
    return '\n'.join(lines)


def stage_settings(plan: CurriculumPlan,
                   index: int,
                   replay_factor: Union[int, str] = 1,
                   extra: Sequence[str] = ()) -> List[str]:
    """What a stage change line lists: the stage's parameters, ``extra``
    (batch, LR...), then its replay factor.

    Example:
        >>> from etpp_mm.curriculum import Stage, build_plan
        >>> plan = build_plan([Stage(1, 8, {'RandAugment': {'m': 1}})],
        ...                   'et', 4, 8)
        >>> stage_settings(plan, 0, 'auto', ['batch 16 x 1'])
        ['RandAugment.m=1', 'batch 16 x 1', 'replay auto']
    """
    settings = [
        f'{t}.{k}={v}' for t, p in plan.stages[index].stage.params.items()
        for k, v in p.items()
    ] + list(extra)
    if replay_factor == 'auto':  # chosen once the stage is measured
        settings.append('replay auto')
    elif replay_factor > 1:
        settings.append(f'replay x{replay_factor}')
    return settings


def describe_stage(plan: CurriculumPlan, index: int,
                   replay_factor: Union[int, str] = 1) -> str:
    """One line on stage ``index``: where it starts, its size and params.

    Example:
        >>> from etpp_mm.curriculum import Stage, build_plan
        >>> plan = build_plan([Stage(0.5, 8), Stage(0.5, 16)], 'et', 4, 16)
        >>> line = describe_stage(plan, 1, replay_factor=2)
        >>> line.split(': ')
        ['curriculum stage 2/2 from epoch 3', \
'size 16x16, replay x2 (2 epochs, compute 20.0% done)']
    """
    stage = plan.stages[index]
    params = stage_settings(plan, index, replay_factor)
    compute = plan.compute_fraction(stage.begin_epoch)
    return (f'curriculum stage {index + 1}/{len(plan.stages)} from epoch '
            f'{int(stage.begin_epoch) + 1}: size {stage.size[0]}x'
            f'{stage.size[1]}' + ''.join(f', {p}' for p in params) +
            f' ({epochs_text(stage.epochs)} epochs, compute {compute:.1%} '
            'done)')
