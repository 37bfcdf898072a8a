# Self-supervised pre-training on Fashion-MNIST: MMPretrain's default
# runtime, 30 epochs with no validation loop, a 2-epoch linear warm-up and a
# cosine decay stepped per iteration, checkpoints every 5 epochs. The
# method's config gives the optimizer (``optim_wrapper.optimizer``).
_base_ = ['mmpretrain::_base_/default_runtime.py']
optim_wrapper = dict(type='OptimWrapper')
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-4,
        by_epoch=True,
        begin=0,
        end=2,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=28,
        by_epoch=True,
        begin=2,
        end=30,
        convert_to_iter_based=True)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=30)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='CheckpointHook', interval=5, max_keep_ckpts=2))
randomness = dict(seed=0)
env_cfg = dict(dist_cfg=dict(backend='gloo'))
