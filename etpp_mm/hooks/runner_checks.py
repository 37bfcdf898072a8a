"""Checks of the runner around ``EfficientTrainHook`` (its options are
checked by :class:`~etpp_mm.attach.CurriculumOptions`).

Each error names the config key, the value and what to change, and is
raised before the first iteration: the recipe's train loop when the runner
that builds the hook is known, a second curriculum hook and a changed plan
on resume before training.
"""
import inspect
from typing import Any, Optional

from etpp_mm.curriculum.checks import plan_differences

KEY = 'EfficientTrainHook'


def building_runner() -> Optional[Any]:
    """The MMEngine ``Runner`` whose constructor is building the calling
    hook, or ``None`` when the hook is built outside a runner.

    MMEngine builds the train loop and then the parameter schedulers before
    the first hook method runs, and a schedule that does not fit the loop
    fails there with MMEngine's own message; the runner that builds the hook
    is the only earlier place where the recipe's ``train_cfg`` is known.
    """
    from mmengine.runner import Runner
    frame = inspect.currentframe()
    while frame is not None:
        candidate = frame.f_locals.get('self')
        if isinstance(candidate, Runner):
            return candidate
        frame = frame.f_back
    return None


def check_epoch_based_loop(train_cfg: Any) -> None:
    """Refuse an iteration-based ``train_cfg`` (or built train loop): the
    curriculum's stages, and the plan that sets the training length, are
    counted in epochs.

    Example:
        >>> check_epoch_based_loop(dict(by_epoch=True, max_epochs=4))
        >>> check_epoch_based_loop(dict(type='IterBasedTrainLoop',
        ...                             max_iters=10))
        Traceback (most recent call last):
        ...
        TypeError: EfficientTrainHook needs an epoch-based train loop \
(train_cfg=dict(by_epoch=True, max_epochs=...)), got \
train_cfg.type='IterBasedTrainLoop': change train_cfg (and any \
param_scheduler written for iterations)
    """
    from mmengine.runner import BaseLoop, EpochBasedTrainLoop
    if isinstance(train_cfg, BaseLoop):
        if isinstance(train_cfg, EpochBasedTrainLoop):
            return
        train_cfg = dict(type=type(train_cfg).__name__)
    if not isinstance(train_cfg, dict):
        return
    loop_type = train_cfg.get('type')
    if loop_type is None and train_cfg.get('by_epoch', True):
        return
    name = loop_type if isinstance(loop_type, str) else \
        getattr(loop_type, '__name__', None)
    if name == 'EpochBasedTrainLoop':
        return
    got = f'train_cfg.type={name!r}' if loop_type is not None else \
        'train_cfg.by_epoch=False'
    raise TypeError(
        f'{KEY} needs an epoch-based train loop (train_cfg=dict('
        f'by_epoch=True, max_epochs=...)), got {got}: change train_cfg '
        '(and any param_scheduler written for iterations)')


def check_train_loop_of_runner() -> None:
    """:func:`check_epoch_based_loop` on the ``train_cfg`` of the runner
    building the hook, if any (before MMEngine builds the schedulers)."""
    runner = building_runner()
    train_cfg = getattr(runner, '_train_loop', None)
    check_epoch_based_loop(train_cfg)


def is_training_run(runner: Any) -> bool:
    """Whether ``runner`` is training (``Runner.train()``), not only
    testing or validating a checkpoint.

    MMEngine calls ``before_run`` for ``test()`` and ``val()`` too, and its
    ``train_loop`` property builds the train loop (and the train set) on
    first use; ``train()`` builds it before ``before_run``, the others never
    do, so the unbuilt loop tells them apart without building it.

    Example:
        >>> class TestOnly:
        ...     _train_loop = dict(by_epoch=True, max_epochs=300)
        >>> is_training_run(TestOnly())
        False
    """
    from mmengine.runner import BaseLoop
    return isinstance(getattr(runner, '_train_loop', None), BaseLoop)


def check_single_hook(runner: Any, hook_type: type) -> None:
    """Refuse a second curriculum hook: both would drive the same
    transforms and contradict each other."""
    found = [h for h in runner.hooks if isinstance(h, hook_type)]
    if len(found) > 1:
        raise ValueError(
            f'custom_hooks holds {len(found)} {hook_type.__name__}s: they '
            'would drive the same transforms and fight over the stage. '
            'Keep one EfficientTrainHook in custom_hooks')


def check_resumed_plan(loaded: Optional[dict], current: dict) -> None:
    """Refuse to resume a checkpoint trained with another plan, naming the
    fields that differ."""
    if loaded is None or loaded == current:
        return
    fields = plan_differences(loaded, current)
    raise ValueError(
        'the checkpoint being resumed was trained with another curriculum '
        f'plan ({"; ".join(fields[:8])}'
        f'{"; ..." if len(fields) > 8 else ""}): restore the '
        'EfficientTrainHook arguments, train_cfg.max_epochs or train size '
        'of that run, or start a new work_dir')
