# A small, fast recipe on real Fashion-MNIST images for the integration
# tests: 64 training images, 4 iterations per epoch, ResNet-18 at width 4.
_base_ = ['../../configs/fashion_mnist/resnet18-w8_1xb128_fmnist.py']
custom_imports = dict(imports=['etpp_mm', 'probes'], allow_failed_imports=False)
# half the recipe's width: the tests are about the curriculum
model = dict(
    backbone=dict(stem_channels=4, base_channels=4),
    head=dict(in_channels=32))
data_root = 'data/fashion_mnist'
train_pipeline = [
    dict(type='RandomCrop', crop_size=28, padding=2),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='StampLevel', level=-1),
    dict(type='PackInputs', meta_keys=('sample_idx', 'stamp')),
]
# the loader of the tests: main process, MMEngine's per-sample collate
# (what the hook's collate and replay settings start from)
train_dataloader = dict(
    batch_size=16,
    num_workers=0,
    persistent_workers=False,
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(data_root=data_root, indices=64, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root=data_root, indices=32))
test_dataloader = val_dataloader
train_cfg = dict(max_epochs=4, val_interval=100)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=1),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=2))
env_cfg = dict(dist_cfg=dict(backend='gloo'))
custom_hooks = [
    dict(
        type='EfficientTrainHook',
        stages=[
            dict(share=0.3, size=12, params=dict(StampLevel=dict(level=0))),
            dict(share=0.3, size=20, params=dict(StampLevel=dict(level=1))),
            dict(share=0.4, size=28, params=dict(StampLevel=dict(level=2))),
        ],
        budget=4),
    dict(type='ProbeHook'),
]
