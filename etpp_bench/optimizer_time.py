"""The recipe's optimizer step alone, in each implementation torch offers
for it: the per-step cost that does not shrink with a stage's pixels.

A small stage's step is cheap in the forward and backward passes, not in
the optimizer, which touches every parameter once a step whatever the
input size. Torch's optimizers come in up to three implementations with
the same arithmetic: a Python loop over the tensors (torch's default on
the CPU), one multi-tensor call per operation (``foreach=True``, the
default on CUDA) and one fused kernel (``fused=True``). MMEngine passes
these keywords through ``optim_wrapper.optimizer``, so switching needs no
code; optimizers outside torch (MMPretrain's ``Lamb`` and ``LARS``) have
one implementation.
"""
import copy
import inspect
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.optim import build_optim_wrapper
from mmengine.registry import OPTIMIZERS

from etpp_bench.timing import interleaved_timings

CONFIGURED = 'as configured'


def implementation_options(optimizer_cfg: dict) -> Dict[str, dict]:
    """The optimizer keywords that select each implementation of the
    recipe's optimizer, ``{name: extra keywords}``: ``'as configured'``
    always, ``'foreach'`` and ``'fused'`` where its class takes them and
    the recipe has not set them already.

    Example:
        >>> implementation_options(dict(type='AdamW', lr=1e-3))
        {'as configured': {}, 'foreach': {'foreach': True}, \
'fused': {'fused': True}}
        >>> implementation_options(dict(type='RMSprop', lr=1e-3))
        {'as configured': {}, 'foreach': {'foreach': True}}
        >>> implementation_options(dict(type='SGD', lr=0.1, fused=True))
        {'as configured': {}}
    """
    options = {CONFIGURED: {}}
    cls = optimizer_class(optimizer_cfg)
    if cls is None:
        return options
    accepted = inspect.signature(cls.__init__).parameters
    if any(optimizer_cfg.get(key) for key in ('foreach', 'fused')):
        return options
    for key in ('foreach', 'fused'):
        if key in accepted:
            options[key] = {key: True}
    return options


def optimizer_class(optimizer_cfg: dict) -> Optional[type]:
    """The class MMEngine's ``OPTIMIZERS`` registry builds for the config
    (MMPretrain's scope included), or None if it has none.

    Example:
        >>> optimizer_class(dict(type='SGD')).__name__
        'SGD'
    """
    kind = optimizer_cfg.get('type')
    if isinstance(kind, type):
        return kind
    return OPTIMIZERS.get(kind) if kind else None


@dataclass
class OptimizerTime:
    """One implementation's optimizer step.

    Attributes:
        name (str): ``'as configured'``, ``'foreach'`` or ``'fused'``.
        option (str): the ``--cfg-options`` setting that selects it (empty
            for the recipe's own).
        seconds (float): median seconds per ``optimizer.step()``, or None
            when it could not run here.
        error (str): why it could not run (else empty).
    """
    name: str
    option: str
    seconds: Optional[float] = None
    error: str = ''


def time_optimizers(model: torch.nn.Module,
                    wrapper_cfg: dict,
                    rounds: int = 3,
                    steps: int = 5) -> List[OptimizerTime]:
    """Time ``optimizer.step()`` of every implementation of the wrapper's
    optimizer on ``model``'s parameters (their data left untouched: each
    implementation steps a copy), random gradients, interleaved rounds.

    Args:
        model (nn.Module): the recipe's model, on its training device.
        wrapper_cfg (dict): the optim wrapper config the model trains with
            (its constructor and ``paramwise_cfg`` make the param groups).
        rounds (int): interleaved rounds. Default: 3.
        steps (int): timed steps per implementation and round. Default: 5.

    Example:
        >>> model = torch.nn.Linear(4, 2)
        >>> cfg = dict(type='OptimWrapper',
        ...            optimizer=dict(type='SGD', lr=0.1, momentum=0.9))
        >>> [(t.name, t.option, t.seconds > 0)
        ...  for t in time_optimizers(model, cfg, rounds=1, steps=1)]
        ... # doctest: +NORMALIZE_WHITESPACE
        [('as configured', '', True),
         ('foreach', 'optim_wrapper.optimizer.foreach=True', True),
         ('fused', 'optim_wrapper.optimizer.fused=True', True)]
    """
    results, steppers = [], {}
    device = next(model.parameters()).device
    for name, extra in implementation_options(
            wrapper_cfg['optimizer']).items():
        option = ' '.join(f'optim_wrapper.optimizer.{k}={v}'
                          for k, v in extra.items())
        result = OptimizerTime(name, option)
        results.append(result)
        cfg = copy.deepcopy(wrapper_cfg)
        cfg['optimizer'].update(extra)
        replica = copy.deepcopy(model)
        generator = torch.Generator(device='cpu').manual_seed(0)
        for param in replica.parameters():
            param.grad = torch.randn(param.shape, generator=generator).to(
                device, param.dtype)
        try:
            optimizer = build_optim_wrapper(replica, cfg).optimizer
            optimizer.step()  # builds its state, and refuses a bad device
        except (RuntimeError, ValueError, TypeError) as error:
            result.error = str(error).split('\n')[0]
            continue
        steppers[name] = _synchronised(optimizer.step, device)
    if steppers:
        medians = interleaved_timings(steppers, rounds, number=steps,
                                      alternate=True).medians
        for result in results:
            result.seconds = medians.get(result.name)
    return results


def _synchronised(step, device: torch.device):
    if device.type != 'cuda':
        return step

    def run():
        step()
        torch.cuda.synchronize(device)

    return run


def recommend_optimizer(times: Sequence[OptimizerTime],
                        small_step: float,
                        min_gain: float = 1.1,
                        min_saving: float = 0.02) -> Tuple[str, str]:
    """The implementation to train with, and why: the fastest that ran,
    if it beats the recipe's own by ``min_gain`` and saves at least
    ``min_saving`` of the smallest stage's step (else the recipe's: a
    change that saves less is not worth a config line).

    Args:
        times (list[OptimizerTime]): from :func:`time_optimizers`.
        small_step (float): seconds of a whole training step at the
            smallest stage and the batch it trains at, to show what the
            optimizer's share of it is.
        min_gain (float): the speed-up over the recipe's implementation
            below which it is kept. Default: 1.1.
        min_saving (float): the share of ``small_step`` a change must save.
            Default: 0.02.

    Returns:
        tuple: the ``--cfg-options`` setting (empty: keep the recipe's) and
        the reason.

    Example:
        >>> times = [OptimizerTime('as configured', '', 0.012),
        ...          OptimizerTime('foreach', 'optim_wrapper.optimizer.'
        ...                        'foreach=True', 0.004),
        ...          OptimizerTime('fused', 'optim_wrapper.optimizer.'
        ...                        'fused=True', 0.002)]
        >>> option, why = recommend_optimizer(times, small_step=0.040)
        >>> option
        'optim_wrapper.optimizer.fused=True'
        >>> print(why)
        fused: 2.0 ms a step against the recipe's 12.0 ms (6.0x faster); \
the recipe's optimizer is 30% of the smallest stage's step (40.0 ms), \
fused 5%
        >>> recommend_optimizer(times[:1], small_step=0.040)[0]
        ''
        >>> print(recommend_optimizer(times, small_step=2.0)[1])
        keep the recipe's optimizer: 12.0 ms a step (foreach 4.0 ms, fused 2.0 ms), 1% of the smallest stage's step (2000.0 ms)
    """
    configured = next(t for t in times if t.name == CONFIGURED)
    if configured.seconds is None:
        return '', f"the recipe's optimizer did not run: {configured.error}"
    share = f'{configured.seconds / small_step:.0%}'
    ran = [t for t in times if t.seconds is not None]
    best = min(ran, key=lambda t: t.seconds)
    gain = configured.seconds / best.seconds
    saving = (configured.seconds - best.seconds) / small_step
    if best is configured or gain < min_gain or saving < min_saving:
        others = ', '.join(f'{t.name} {t.seconds * 1e3:.1f} ms'
                           for t in ran if t is not configured)
        return '', (
            f"keep the recipe's optimizer: {configured.seconds * 1e3:.1f} "
            'ms a step' + (f' ({others})' if others else
                           ', no other implementation in torch') +
            f', {share} of the smallest stage\'s step '
            f'({small_step * 1e3:.1f} ms)')
    return best.option, (
        f'{best.name}: {best.seconds * 1e3:.1f} ms a step against the '
        f"recipe's {configured.seconds * 1e3:.1f} ms ({gain:.1f}x faster); "
        f"the recipe's optimizer is {share} of the smallest stage's step "
        f'({small_step * 1e3:.1f} ms), {best.name} '
        f'{best.seconds / small_step:.0%}')


def format_optimizer_table(times: Sequence[OptimizerTime]) -> str:
    """A Markdown table of :func:`time_optimizers`' results.

    Example:
        >>> print(format_optimizer_table([
        ...     OptimizerTime('as configured', '', 0.012),
        ...     OptimizerTime('fused', 'optim_wrapper.optimizer.fused=True',
        ...                   None, 'fused needs CUDA')]))
        | implementation | setting | ms per step | vs as configured |
        |---|---|---|---|
        | as configured | - | 12.00 | 1.00x |
        | fused | `optim_wrapper.optimizer.fused=True` | - (fused needs \
CUDA) | - |
    """
    base = next(t.seconds for t in times if t.name == CONFIGURED)
    if base is None:
        base = float('nan')
    lines = [
        '| implementation | setting | ms per step | vs as configured |',
        '|---|---|---|---|'
    ]
    for t in times:
        setting = f'`{t.option}`' if t.option else '-'
        if t.seconds is None:
            lines.append(f'| {t.name} | {setting} | - ({t.error}) | - |')
        else:
            lines.append(f'| {t.name} | {setting} | {t.seconds * 1e3:.2f} | '
                         f'{base / t.seconds:.2f}x |')
    return '\n'.join(lines)
