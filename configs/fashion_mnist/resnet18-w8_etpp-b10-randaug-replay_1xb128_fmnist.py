# A loader-bound variant of the main job: the Fashion-MNIST recipe with
# RandAugment (2 ops, magnitude std 0.5; the preset schedules its magnitude
# 0..9) under ET++ at budget 10, loading in the main process. On 2 CPU cores
# the 12 px stages then wait on the pipeline, and replay reuses each loaded
# batch twice there.
_base_ = ['./resnet18-w8_etpp-b10_1xb128_fmnist.py']
# timm's 'increasing' ops that work on one-channel images (AutoContrast,
# Equalize, Contrast and ColorTransform need colour), with its ranges.
greyscale_policies = [
    dict(type='Rotate', magnitude_key='angle', magnitude_range=(0, 30)),
    dict(
        type='Shear',
        magnitude_key='magnitude',
        magnitude_range=(0, 0.3),
        direction='horizontal'),
    dict(
        type='Shear',
        magnitude_key='magnitude',
        magnitude_range=(0, 0.3),
        direction='vertical'),
    dict(
        type='Translate',
        magnitude_key='magnitude',
        magnitude_range=(0, 0.45),
        direction='horizontal'),
    dict(
        type='Translate',
        magnitude_key='magnitude',
        magnitude_range=(0, 0.45),
        direction='vertical'),
    dict(type='Brightness', magnitude_key='magnitude',
         magnitude_range=(0, 0.9)),
    dict(type='Sharpness', magnitude_key='magnitude',
         magnitude_range=(0, 0.9)),
    dict(type='Posterize', magnitude_key='bits', magnitude_range=(8, 4)),
    dict(type='Solarize', magnitude_key='thr', magnitude_range=(256, 0)),
]
train_pipeline = [
    dict(type='RandomCrop', crop_size=28, padding=2),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(
        type='RandAugment',
        policies=greyscale_policies,
        num_policies=2,
        total_level=10,
        magnitude_level=9,
        magnitude_std=0.5,
        hparams=dict(pad_val=0)),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
custom_hooks = [
    dict(
        type='EfficientTrainHook',
        preset='etpp',
        budget=10,
        size_divisor=4,
        replay=dict(factors={12: 2}, buffer_samples=4096)),
]
