"""A data preprocessor that Fourier-crops normalised batches on the device.

This is how EfficientTrain (ICCV 2023) applied its exact low-frequency crop:
on whole normalised batches on the GPU, before Mixup/CutMix. Because Mixup
must see the cropped images, the wrapped preprocessor's batch augmentations
are held back during its own forward and applied after the crop.
"""
from typing import Optional, Union

import torch
from mmengine.model import BaseDataPreprocessor
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import nn

from ..ops import fourier_crop
from ..ops.size import SettableSize, SizeLike


@MODELS.register_module()
class LowFrequencyDataPreprocessor(SettableSize, BaseDataPreprocessor):
    """Wrap a data preprocessor and Fourier-crop its training batches.

    In ``forward(data, training=True)`` with ``size`` set, the order is:
    the wrapped preprocessor (casting, normalisation, one-hot labels) with
    its ``batch_augments`` disabled, then :func:`etpp_mm.ops.fourier_crop`
    of ``inputs`` (a tensor ``(N, C, H, W)``, or a list of them for
    multi-view self-supervised inputs), then the wrapped preprocessor's
    ``batch_augments`` (Mixup/CutMix) on the cropped batch. Evaluation
    batches are never cropped.

    Args:
        preprocessor (dict | nn.Module): The wrapped data preprocessor, as a
            config for ``mmpretrain.registry.MODELS`` or a module.
        size (int | tuple[int, int] | None): Target ``h`` (square) or
            ``(h, w)``; None leaves batches at full size. Settable after
            construction (the curriculum hook does so). Defaults to None.
        batch_augments (dict, optional): Only so that MMPretrain classifiers,
            which pass their ``train_cfg`` here, keep working: it is handed
            to a ``preprocessor`` config that has no ``batch_augments`` of
            its own. Defaults to None.

    Example:
        >>> import torch
        >>> from mmpretrain.registry import MODELS
        >>> pre = MODELS.build(dict(
        ...     type='LowFrequencyDataPreprocessor',
        ...     preprocessor=dict(type='ClsDataPreprocessor',
        ...                       mean=[123.675, 116.28, 103.53],
        ...                       std=[58.395, 57.12, 57.375]),
        ...     size=160))
        >>> data = dict(inputs=torch.randint(0, 256, (4, 3, 224, 224),
        ...                                  dtype=torch.uint8))
        >>> pre(data, training=True)['inputs'].shape
        torch.Size([4, 3, 160, 160])
        >>> pre(data, training=False)['inputs'].shape
        torch.Size([4, 3, 224, 224])
    """

    def __init__(self,
                 preprocessor: Union[dict, nn.Module],
                 size: Optional[SizeLike] = None,
                 batch_augments: Optional[dict] = None):
        super().__init__()
        if isinstance(preprocessor, dict):
            preprocessor = dict(preprocessor)
            if batch_augments is not None:
                preprocessor.setdefault('batch_augments', batch_augments)
            preprocessor = MODELS.build(preprocessor)
        elif not isinstance(preprocessor, nn.Module):
            raise TypeError(f'preprocessor must be a config dict or an '
                            f'nn.Module, got {type(preprocessor).__name__}')
        elif batch_augments is not None:
            raise ValueError('batch_augments can only be passed on with a '
                             'preprocessor config; set it on the wrapped '
                             'preprocessor module instead')
        self.preprocessor = preprocessor
        self.size = size

    def _apply(self, fn, *args, **kwargs):
        # ``to``/``cuda``/``cpu`` only update ``_device`` on the module they
        # are called on, but the wrapped preprocessor casts data to its own
        # ``device``, so pass ours down.
        module = super()._apply(fn, *args, **kwargs)
        for child in self.preprocessor.modules():
            if isinstance(child, BaseDataPreprocessor):
                child._device = self._device
        return module

    def forward(self, data: dict, training: bool = False) -> dict:
        """Run the wrapped preprocessor, crop, then batch-augment.

        Args:
            data (dict): Data from the data loader.
            training (bool): Whether this is a training batch. Only training
                batches are cropped and batch-augmented.

        Returns:
            dict: ``inputs`` and ``data_samples``, as the wrapped
            preprocessor returns them.
        """
        augments = getattr(self.preprocessor, 'batch_augments', None)
        if augments is not None:
            self.preprocessor.batch_augments = None
        try:
            data = self.preprocessor(data, training)
        finally:
            if augments is not None:
                self.preprocessor.batch_augments = augments
        if not training:
            return data

        size = self.size
        if size is not None:
            inputs = data['inputs']
            if isinstance(inputs, torch.Tensor):
                data['inputs'] = fourier_crop(inputs, size)
            else:
                data['inputs'] = [fourier_crop(view, size) for view in inputs]
        if augments is not None:
            self._batch_augment(data, augments)
        return data

    @staticmethod
    def _batch_augment(data: dict, augments) -> None:
        """Apply Mixup/CutMix as ``ClsDataPreprocessor`` does: to the inputs
        and the stacked one-hot ``gt_score`` of the data samples."""
        samples = data.get('data_samples')
        if not samples or not isinstance(samples[0], DataSample) \
                or 'gt_score' not in samples[0]:
            # ClsDataPreprocessor also skips batch augments without scores.
            return
        scores = torch.stack([sample.gt_score for sample in samples])
        data['inputs'], scores = augments(data['inputs'], scores)
        for sample, score in zip(samples, scores):
            sample.set_gt_score(score)
