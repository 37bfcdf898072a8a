"""The device-side Fourier crop, wrapped around MMPretrain preprocessors."""
import numpy as np
import pytest
import torch
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import etpp_mm.models  # noqa: F401  registers the preprocessor
import mmpretrain.models  # noqa: F401  registers MMPretrain's models
from etpp_mm.models import LowFrequencyDataPreprocessor
from etpp_mm.ops import fourier_crop

MEAN = [123.675, 116.28, 103.53]
STD = [58.395, 57.12, 57.375]
NUM_CLASSES = 10


def cls_preprocessor(**kwargs) -> dict:
    return dict(
        type='ClsDataPreprocessor',
        mean=MEAN,
        std=STD,
        to_rgb=True,
        num_classes=NUM_CLASSES,
        **kwargs)


def mixup_preprocessor() -> dict:
    return cls_preprocessor(
        batch_augments=dict(augments=[dict(type='Mixup', alpha=0.8)]))


def make_batch(n: int = 4, size: int = 64, seed: int = 0) -> dict:
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.randint(
        0, 256, (n, 3, size, size), dtype=torch.uint8, generator=generator)
    samples = [DataSample().set_gt_label(i % NUM_CLASSES) for i in range(n)]
    return dict(inputs=inputs, data_samples=samples)


def normalised(inputs: torch.Tensor) -> torch.Tensor:
    mean = torch.tensor(MEAN).view(-1, 1, 1)
    std = torch.tensor(STD).view(-1, 1, 1)
    return (inputs.flip(1).float() - mean) / std


class RecordingAugment:
    """Stands in for Mixup/CutMix: records what it is given, then delegates
    to the real batch augmentation."""

    def __init__(self, augment):
        self.augment = augment
        self.seen = []

    def __call__(self, inputs, scores):
        self.seen.append((inputs.clone(), scores.clone()))
        return self.augment(inputs, scores)


def test_build_and_size_attribute():
    pre = MODELS.build(
        dict(
            type='LowFrequencyDataPreprocessor',
            preprocessor=cls_preprocessor(),
            size=32))
    assert isinstance(pre, LowFrequencyDataPreprocessor)
    assert type(pre.preprocessor).__name__ == 'ClsDataPreprocessor'
    assert pre.size == (32, 32)
    pre.size = (24, 40)
    assert pre.size == (24, 40)
    pre.size = None
    assert pre.size is None
    with pytest.raises(ValueError, match='LowFrequencyDataPreprocessor.size'):
        pre.size = -2


def test_without_batch_augments_equals_crop_of_normalised_batch():
    pre = LowFrequencyDataPreprocessor(cls_preprocessor(), size=40)
    data = make_batch()
    out = pre(dict(data), training=True)
    expected = fourier_crop(normalised(data['inputs']), 40)
    torch.testing.assert_close(out['inputs'], expected)


def test_crop_happens_before_mixup():
    pre = LowFrequencyDataPreprocessor(mixup_preprocessor(), size=40)
    inner = pre.preprocessor
    recorder = RecordingAugment(inner.batch_augments)
    inner.batch_augments = recorder
    data = make_batch()
    out = pre(dict(data), training=True)

    # The augmentation saw the cropped normalised batch and one-hot scores.
    (seen_inputs, seen_scores), = recorder.seen
    torch.testing.assert_close(seen_inputs,
                               fourier_crop(normalised(data['inputs']), 40))
    torch.testing.assert_close(
        seen_scores.float(),
        torch.eye(NUM_CLASSES)[torch.arange(4) % NUM_CLASSES])
    # ... and its outputs are what the model gets.
    assert out['inputs'].shape == (4, 3, 40, 40)
    scores = torch.stack([s.gt_score for s in out['data_samples']])
    assert scores.shape == (4, NUM_CLASSES)
    # The wrapped preprocessor gets its augmentation back.
    assert inner.batch_augments is recorder


def test_real_mixup_mixes_the_labels_of_cropped_images():
    pre = MODELS.build(
        dict(
            type='LowFrequencyDataPreprocessor',
            preprocessor=mixup_preprocessor(),
            size=(32, 48)))
    torch.manual_seed(0)
    np.random.seed(0)
    out = pre(make_batch(n=8), training=True)
    assert out['inputs'].shape == (8, 3, 32, 48)
    scores = torch.stack([s.gt_score for s in out['data_samples']])
    torch.testing.assert_close(scores.sum(dim=1), torch.ones(8))
    # Mixed labels: most rows hold two classes, not a one-hot vector.
    assert (scores.max(dim=1).values < 1).sum() >= 4


def test_eval_batches_are_neither_cropped_nor_mixed():
    pre = LowFrequencyDataPreprocessor(mixup_preprocessor(), size=32)
    data = make_batch()
    out = pre(dict(data), training=False)
    torch.testing.assert_close(out['inputs'], normalised(data['inputs']))
    for i, sample in enumerate(out['data_samples']):
        assert int(sample.gt_label) == i % NUM_CLASSES
        assert 'gt_score' not in sample or sample.gt_score.max() == 1


def test_size_none_still_applies_mixup():
    pre = LowFrequencyDataPreprocessor(mixup_preprocessor(), size=None)
    recorder = RecordingAugment(pre.preprocessor.batch_augments)
    pre.preprocessor.batch_augments = recorder
    out = pre(make_batch(), training=True)
    assert out['inputs'].shape == (4, 3, 64, 64)
    assert len(recorder.seen) == 1


def test_batch_augments_restored_when_the_wrapped_one_fails():
    pre = LowFrequencyDataPreprocessor(mixup_preprocessor(), size=32)
    augments = pre.preprocessor.batch_augments
    with pytest.raises(Exception):
        pre(dict(inputs='not a tensor'), training=True)
    assert pre.preprocessor.batch_augments is augments


def test_selfsup_multi_view_list_is_cropped_per_view():
    pre = LowFrequencyDataPreprocessor(
        dict(type='SelfSupDataPreprocessor', mean=MEAN, std=STD, to_rgb=True),
        size=24)
    views = [make_batch(seed=s)['inputs'] for s in (1, 2)]
    data = dict(inputs=views, data_samples=[DataSample() for _ in range(4)])
    out = pre(data, training=True)
    assert isinstance(out['inputs'], list) and len(out['inputs']) == 2
    for view, cropped in zip(views, out['inputs']):
        torch.testing.assert_close(cropped, fourier_crop(normalised(view), 24))
    assert [v.shape[-2:] for v in pre(data)['inputs']] == [(64, 64)] * 2


def test_accepts_a_module_and_propagates_the_device():
    inner = MODELS.build(cls_preprocessor())
    pre = LowFrequencyDataPreprocessor(inner, size=16)
    assert pre.preprocessor is inner
    # The wrapped preprocessor casts data to its own ``device``.
    pre.to(torch.device('meta'))
    assert inner.device == torch.device('meta')
    other = LowFrequencyDataPreprocessor(cls_preprocessor())
    other.preprocessor._device = torch.device('meta')
    other.cpu()
    assert other.preprocessor.device == torch.device('cpu')
    with pytest.raises(ValueError, match='batch_augments'):
        LowFrequencyDataPreprocessor(inner, batch_augments=dict(augments=[]))
    with pytest.raises(TypeError, match='preprocessor'):
        LowFrequencyDataPreprocessor('ClsDataPreprocessor')


def test_image_classifier_passes_its_train_cfg_through():
    model = MODELS.build(
        dict(
            type='ImageClassifier',
            backbone=dict(type='ResNet', depth=18),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(
                type='LinearClsHead', num_classes=NUM_CLASSES,
                in_channels=512),
            data_preprocessor=dict(
                type='LowFrequencyDataPreprocessor',
                preprocessor=cls_preprocessor(),
                size=32),
            train_cfg=dict(augments=[dict(type='CutMix', alpha=1.0)])))
    pre = model.data_preprocessor
    assert isinstance(pre, LowFrequencyDataPreprocessor)
    assert pre.preprocessor.batch_augments is not None
    out = pre(make_batch(), training=True)
    assert out['inputs'].shape == (4, 3, 32, 32)
