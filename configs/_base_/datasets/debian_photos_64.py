# Debian photos (docs/debian_photos.md): 26 classes, one per photograph that
# Debian ships as a desktop background, 200 train and 50 val crops each
# (shorter side 80-96 px, JPEG), read by MMPretrain's CustomDataset from
# the class folders. The ImageNet recipe's pipeline at 64 px instead of 224
# (MMPretrain's imagenet_bs64_swin_224.py): RandomResizedCrop, flip,
# RandAugment (timm's increasing policies), RandomErasing; tests resize the
# shorter side to 73 (64 * 256 / 224) and take the centre 64.
# Fill data/debian_photos with `python tools/prepare_data.py debian-photos`.
dataset_type = 'CustomDataset'
data_root = 'data/debian_photos'
data_preprocessor = dict(
    num_classes=26,
    # ImageNet's RGB statistics, as the ImageNet recipes
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True)

bgr_mean = data_preprocessor['mean'][::-1]
bgr_std = data_preprocessor['std'][::-1]

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='RandomResizedCrop',
        scale=64,
        backend='pillow',
        interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    # Magnitude 6 of 10, as ResNet-50 RSB-A3 (MMPretrain's shortest ResNet
    # recipe): a small model trained for 15 epochs. The sizes of Translate
    # are fractions of the image, so they need no scaling to 64 px.
    dict(
        type='RandAugment',
        policies='timm_increasing',
        num_policies=2,
        total_level=10,
        magnitude_level=6,
        magnitude_std=0.5,
        hparams=dict(
            pad_val=[round(x) for x in bgr_mean], interpolation='bicubic')),
    dict(
        type='RandomErasing',
        erase_prob=0.25,
        mode='rand',
        min_area_ratio=0.02,
        max_area_ratio=1 / 3,
        fill_color=bgr_mean,
        fill_std=bgr_std),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='ResizeEdge',
        scale=73,
        edge='short',
        backend='pillow',
        interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=64),
    dict(type='PackInputs'),
]

# One loader process beside the trainer, kept across epochs, sending
# stacked batches (as configs/_base_/datasets/fashion_mnist.py).
train_dataloader = dict(
    batch_size=64,
    num_workers=1,
    persistent_workers=True,
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix='train',
        pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True),
)
val_dataloader = dict(
    batch_size=128,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix='val',
        pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
val_evaluator = dict(type='Accuracy', topk=(1, 5))
test_dataloader = val_dataloader
test_evaluator = val_evaluator
