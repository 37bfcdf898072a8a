"""The dry run before training: every stage's data, every size's model.

A few train samples are made at every stage of the plan, full-size stages
included, so that a stage parameter the transform cannot take fails now,
naming the stage key and value, and an unreadable sample fails naming its
dataset index and file. Then the model's loss runs once at each stage size
(:mod:`.model_check`). The generators are restored afterwards, so training
is the same with or without the dry run.
"""
from typing import Any, Callable, List, Optional

from .data_guard import SampleError, describe_sample
from .model_check import check_model_at_sizes
from .random_state import preserved_rng


def failing_transform(error: BaseException, names) -> Optional[Any]:
    """The innermost transform, among those whose type name is in
    ``names``, on the traceback of ``error`` or of the errors it chains."""
    found = None
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        tb = error.__traceback__
        while tb is not None:
            owner = tb.tb_frame.f_locals.get('self')
            if type(owner).__name__ in names:
                found = owner
            tb = tb.tb_next
        if found is not None:
            return found
        error = error.__cause__ or error.__context__
    return None


def stage_key(resolver: Any, index: int) -> str:
    """The setting behind stage ``index``'s params, for messages.

    Example:
        >>> from types import SimpleNamespace
        >>> stage_key(SimpleNamespace(stages=[{}], preset=None), 0)
        'EfficientTrainHook.stages[0].params'
        >>> stage_key(SimpleNamespace(stages=None, preset='etpp'), 2)
        "EfficientTrainHook.preset='etpp' (stage 3) params"
    """
    if resolver.stages is not None:
        return f'EfficientTrainHook.stages[{index}].params'
    return f'EfficientTrainHook.preset={resolver.preset!r} ' \
        f'(stage {index + 1}) params'


def _data_info(dataset: Any, index: int) -> Any:
    try:
        return dataset.get_data_info(index)
    except Exception:  # datasets without data infos
        return dict(sample_idx=index)


def make_stage_samples(plan: Any, resolver: Any, dataset: Any,
                       apply_stage: Callable[[int], None],
                       count: int) -> List[list]:
    """``count`` train samples at every stage of ``plan``.

    Raises ``ValueError``: for a failure inside a transform the failing
    stage schedules, naming ``stages[i].params.Type.name`` and the value;
    for any other failure, naming the dataset index and file, and blaming
    the curriculum's steps instead of the file when the recipe's own
    pipeline makes that sample (see :class:`~.data_guard.GuardedPipeline`).
    """
    samples = []
    for index, planned in enumerate(plan.stages):
        params = planned.stage.params
        apply_stage(index)
        stage_samples = []
        for i in range(count):
            try:
                stage_samples.append(dataset[i])
            except Exception as error:
                owner = failing_transform(error, params)
                size = 'x'.join(map(str, planned.size))
                cause = error.__cause__ if isinstance(
                    error, SampleError) and error.__cause__ else error
                what = f'{type(cause).__name__}: {cause}'
                if owner is not None:
                    name = type(owner).__name__
                    values = ', '.join(f'{name}.{k}={v!r}'
                                       for k, v in params[name].items())
                    raise ValueError(
                        f'{stage_key(resolver, index)}: {values} fails in '
                        f'the train pipeline at stage {index + 1} ({size}): '
                        f'{what}. Change that value') from error
                sample = describe_sample(_data_info(dataset, i))
                if getattr(error, 'blames_sample', None) is False:
                    raise ValueError(
                        f'the train pipeline fails before training, on '
                        f'{sample} at stage {index + 1} ({size}), with the '
                        "curriculum's steps, while the recipe's own "
                        f'pipeline makes that sample: {what}. The file is '
                        'fine: the step at fault is in the traceback; '
                        "EfficientTrainHook.augment_at='full' runs the "
                        "recipe's steps as they are (then the low-frequency "
                        'step)') from error
                raise ValueError(
                    f'the train data fails before training, on {sample} at '
                    f'stage {index + 1} ({size}): {what}. Fix or remove that '
                    'sample (a data failure, not a model one)') from error
        samples.append(stage_samples)
    return samples


def dry_run(model: Any, plan: Any, resolver: Any, dataset: Any,
            collate: Callable[[list], Any], apply_stage: Callable[[int],
                                                                  None],
            count: int = 2, check_model: bool = True,
            log: Optional[Callable[[str], None]] = None) -> None:
    """Make ``count`` samples at every stage and, if ``check_model``, run
    the model's loss at the first stage of each size."""
    with preserved_rng():
        samples = make_stage_samples(plan, resolver, dataset, apply_stage,
                                     count)
    if not check_model:
        return
    first_of_size = {}
    for index, stage in enumerate(plan.stages):
        first_of_size.setdefault(stage.size, index)

    def describe(index):
        size = plan.stages[index].size
        return f'stage {index + 1} size {size[0]}x{size[1]}'

    check_model_at_sizes(model, sorted(first_of_size.values()),
                         lambda index: collate(samples[index]), describe,
                         log=log)
