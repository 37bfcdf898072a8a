"""Name the sample behind a failure of the train pipeline, and whether the
file or the curriculum is at fault.

A corrupt or unreadable image fails deep inside a transform (``cv2.error``,
``AssertionError``...) with nothing saying which file it was. The
:class:`GuardedPipeline` wraps a dataset's pipeline, without changing the
dataset class, and re-raises any failure as :class:`SampleError` naming the
dataset index and the file (``img_path`` of the data info). Given the
recipe's own pipeline (a copy made before the curriculum edited it) and
the dataset, it runs the recipe on a failing sample, fetched again, and
blames the file only when the recipe fails on it too: nothing is kept per
sample for it.
"""
from typing import Any, Optional, Sequence

from .pipeline import leaf_datasets


class SampleError(RuntimeError):
    """A train sample could not be made; the message names it.

    Attributes:
        blames_sample (bool | None): whether the recipe's own pipeline
            fails on the sample too (``None``: not tried).
    """

    def __init__(self, message: str, blames_sample: Optional[bool] = None):
        super().__init__(message)
        self.blames_sample = blames_sample


def describe_sample(data_info: Any) -> str:
    """``'dataset index 3 (data/x/a.jpg)'`` from a data info dict.

    Example:
        >>> describe_sample(dict(sample_idx=3, img_path='data/a.jpg'))
        'dataset index 3 (data/a.jpg)'
    """
    if not isinstance(data_info, dict):
        return 'a sample'
    index = data_info.get('sample_idx', '?')
    path = data_info.get('img_path')
    return f'dataset index {index}' + (f' ({path})' if path else '')


class GuardedPipeline:
    """A train pipeline that names the sample it failed on.

    Args:
        pipeline (Compose): the dataset's pipeline, run unchanged; its
            ``transforms`` stay reachable (and editable) through the guard.
        seeder (EpochSeeder, optional): seeds a DataLoader worker at its
            first sample of each epoch.
        recipe (Compose, optional): the recipe's pipeline before the
            curriculum changed it, run on a failing sample to tell a bad
            file from a failing curriculum step.
        source (BaseDataset, optional): the dataset the pipeline belongs
            to, whose ``get_data_info`` gives the failing sample again for
            ``recipe``.

    Example:
        >>> from mmcv.transforms import Compose
        >>> guard = GuardedPipeline(Compose([lambda r: r['missing']]))
        >>> guard(dict(sample_idx=7, img_path='a.jpg'))
        Traceback (most recent call last):
        ...
        etpp_mm.attach.data_guard.SampleError: the train pipeline fails on \
dataset index 7 (a.jpg): KeyError: 'missing'. Fix or remove that file, or \
the transform named in the traceback
        >>> class Photos:
        ...     def get_data_info(self, index):
        ...         return dict(sample_idx=index, img_path='a.jpg')
        >>> guard.recipe = Compose([lambda r: r])  # the recipe makes it
        >>> guard.source = Photos()
        >>> guard(dict(sample_idx=7, img_path='a.jpg'))
        Traceback (most recent call last):
        ...
        etpp_mm.attach.data_guard.SampleError: the train pipeline fails on \
dataset index 7 (a.jpg) with the curriculum's steps, while the recipe's \
own pipeline makes that sample: KeyError: 'missing'. The file is fine: the \
step at fault is in the traceback; EfficientTrainHook.augment_at='full' \
runs the recipe's steps as they are (then the low-frequency step)
    """

    def __init__(self,
                 pipeline: Any,
                 seeder: Optional[Any] = None,
                 recipe: Optional[Any] = None,
                 source: Optional[Any] = None):
        self.pipeline = pipeline
        self.seeder = seeder
        self.recipe = recipe
        self.source = source

    @property
    def transforms(self):
        return self.pipeline.transforms

    def __call__(self, data: Any) -> Any:
        if self.seeder is not None:
            self.seeder.seed_worker()
        try:
            return self.pipeline(data)
        except SampleError:
            raise
        except Exception as error:
            raise self._error(error, data) from error

    def _error(self, error: Exception, data: Any) -> SampleError:
        sample = describe_sample(data)
        what = f'{type(error).__name__}: {error}'
        tried = self._recipe_makes(data)
        if tried is True:
            return SampleError(
                f'the train pipeline fails on {sample} with the '
                "curriculum's steps, while the recipe's own pipeline makes "
                f'that sample: {what}. The file is fine: the step at fault '
                "is in the traceback; EfficientTrainHook.augment_at='full' "
                "runs the recipe's steps as they are (then the "
                'low-frequency step)', blames_sample=False)
        return SampleError(
            f'the train pipeline fails on {sample}: {what}. Fix or remove '
            'that file, or the transform named in the traceback',
            blames_sample=None if tried is None else True)

    def _recipe_makes(self, data: Any) -> Optional[bool]:
        """Whether the recipe's pipeline makes the sample (``None``: not
        tried, without a recipe or a way to fetch the sample again)."""
        index = data.get('sample_idx') if isinstance(data, dict) else None
        if self.recipe is None or self.source is None or index is None:
            return None
        try:
            # the data info as the dataset gives it: the failed run edited
            # its own copy
            self.recipe(self.source.get_data_info(index))
        except Exception:
            return False
        return True

    def __getattr__(self, name: str) -> Any:
        if name in ('pipeline', 'seeder', 'recipe', 'source'):  # unpickling
            raise AttributeError(name)
        return getattr(self.pipeline, name)

    def __repr__(self) -> str:
        return f'{type(self).__name__}({self.pipeline!r})'


def guard_pipelines(dataset: Any,
                    seeder: Optional[Any] = None,
                    recipes: Optional[Sequence[Any]] = None) -> None:
    """Wrap the pipeline of every leaf dataset of ``dataset`` (once).

    Args:
        dataset: the train dataset (wrappers followed).
        seeder (EpochSeeder, optional): see :class:`GuardedPipeline`.
        recipes (list[Compose], optional): the recipe's pipelines, one per
            leaf dataset in :func:`~.pipeline.leaf_datasets` order.
    """
    leaves = leaf_datasets(dataset)
    recipes = list(recipes) if recipes is not None else [None] * len(leaves)
    for leaf, recipe in zip(leaves, recipes):
        pipeline = getattr(leaf, 'pipeline', None)
        if isinstance(pipeline, GuardedPipeline):
            pipeline.seeder = seeder
            pipeline.recipe, pipeline.source = recipe, leaf
        elif pipeline is not None:
            leaf.pipeline = GuardedPipeline(pipeline, seeder, recipe, leaf)
