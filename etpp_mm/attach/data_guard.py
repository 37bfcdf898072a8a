"""Name the sample behind a failure of the train pipeline.

A corrupt or unreadable image fails deep inside a transform (``cv2.error``,
``AssertionError``...) with nothing saying which file it was. The
:class:`GuardedPipeline` wraps a dataset's pipeline, without changing the
dataset class, and re-raises any failure as :class:`SampleError` naming the
dataset index and the file (``img_path`` of the data info).
"""
from typing import Any, Optional

from .pipeline import leaf_datasets


class SampleError(RuntimeError):
    """A train sample could not be made; the message names it."""


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

    Example:
        >>> from mmcv.transforms import Compose
        >>> guard = GuardedPipeline(Compose([lambda r: r['missing']]))
        >>> guard(dict(sample_idx=7, img_path='a.jpg'))
        Traceback (most recent call last):
        ...
        etpp_mm.attach.data_guard.SampleError: the train pipeline fails on \
dataset index 7 (a.jpg): KeyError: 'missing'. Fix or remove that file, or \
the transform named in the traceback
    """

    def __init__(self, pipeline: Any, seeder: Optional[Any] = None):
        self.pipeline = pipeline
        self.seeder = seeder

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
            raise SampleError(
                f'the train pipeline fails on {describe_sample(data)}: '
                f'{type(error).__name__}: {error}. Fix or remove that file, '
                'or the transform named in the traceback') from error

    def __getattr__(self, name: str) -> Any:
        if name in ('pipeline', 'seeder'):  # unpickling, before __init__
            raise AttributeError(name)
        return getattr(self.pipeline, name)

    def __repr__(self) -> str:
        return f'{type(self).__name__}({self.pipeline!r})'


def guard_pipelines(dataset: Any, seeder: Optional[Any] = None) -> None:
    """Wrap the pipeline of every leaf dataset of ``dataset`` (once)."""
    for leaf in leaf_datasets(dataset):
        pipeline = getattr(leaf, 'pipeline', None)
        if isinstance(pipeline, GuardedPipeline):
            pipeline.seeder = seeder
        elif pipeline is not None:
            leaf.pipeline = GuardedPipeline(pipeline, seeder)
