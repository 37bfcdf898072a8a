# MoCo v3 pre-training on Fashion-MNIST (labels unused): the ResNet-18 of
# the main job (CIFAR stem, width 8, 28 px greyscale), MMPretrain's MoCo v3
# with a small projector and predictor, two views (crop, flip, brightness
# jitter, blur), LARS, 30 epochs. Evaluate with
# `python tools/analysis/knn_eval.py CONFIG CHECKPOINT`.
_base_ = [
    '../_base_/datasets/fashion_mnist_ssl.py',
    '../_base_/schedules/fmnist_ssl_coslr.py',
]
temperature = 0.2
model = dict(
    type='MoCoV3',
    base_momentum=0.01,
    data_preprocessor={{_base_.data_preprocessor}},
    backbone=dict(
        type='ResNet_CIFAR',
        depth=18,
        in_channels=1,
        stem_channels=8,
        base_channels=8,
        out_indices=(3, ),
        zero_init_residual=False),
    neck=dict(
        type='NonLinearNeck',
        in_channels=64,
        hid_channels=256,
        out_channels=64,
        num_layers=2,
        with_bias=False,
        with_last_bn=True,
        with_last_bn_affine=False,
        with_last_bias=False,
        with_avg_pool=True),
    head=dict(
        type='MoCoV3Head',
        predictor=dict(
            type='NonLinearNeck',
            in_channels=64,
            hid_channels=256,
            out_channels=64,
            num_layers=2,
            with_bias=False,
            with_last_bn=False,
            with_last_bn_affine=False,
            with_last_bias=False,
            with_avg_pool=False),
        loss=dict(type='CrossEntropyLoss', loss_weight=2 * temperature),
        temperature=temperature))

view_pipeline = [
    dict(type='RandomResizedCrop', scale=28, crop_ratio_range=(0.3, 1.)),
    dict(
        type='RandomApply',
        transforms=[
            # brightness only: mmcv's contrast needs three channels
            dict(type='ColorJitter', brightness=0.4, backend='cv2')
        ],
        prob=0.8),
    dict(
        type='RandomApply',
        transforms=[dict(type='GaussianBlur', magnitude_range=(0.1, 1.0),
                         magnitude_std='inf', prob=1.0)],
        prob=0.2),
    dict(type='RandomFlip', prob=0.5),
]
train_pipeline = [
    dict(type='MultiView', num_views=2, transforms=[view_pipeline]),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

optim_wrapper = dict(
    optimizer=dict(type='LARS', lr=1.2, weight_decay=1e-6, momentum=0.9),
    paramwise_cfg=dict(
        custom_keys={
            'bn': dict(decay_mult=0, lars_exclude=True),
            'bias': dict(decay_mult=0, lars_exclude=True),
            'downsample.1': dict(decay_mult=0, lars_exclude=True),
        }))
