# ConvNeXt-T with EfficientTrain++ (ConvNeXt table: 160 x 6, 224 x 4) at
# budget 200 on MMPretrain's 300-epoch ConvNeXt-T recipe, whose EMA hook is
# kept (a config's custom_hooks list replaces its base's).
_base_ = 'mmpretrain::convnext/convnext-tiny_32xb128_in1k.py'
custom_imports = dict(imports=['etpp_mm'], allow_failed_imports=False)
custom_hooks = [
    dict(type='EMAHook', momentum=1e-4, priority='ABOVE_NORMAL'),
    dict(
        type='EfficientTrainHook',
        preset='etpp_convnext',
        budget=200,
        validation='stage_size',
        size_divisor=32,
        drop_path_reference_budget=200),  # the recipe's 0.1, scaled
]
# The curriculum runs 315.2 real epochs: validate every 10 (and after
# the last), keep the last 3 checkpoints and the best one. Validation runs
# at the current stage's size ('stage_size'): at 96 px its model compute is
# under a fifth of a full-size one, and it reads how the model does at the
# size it is trained at (at 224 a 96 px stage reads low): progress can be
# watched from the start. Full-size stages validate as the recipe does (and
# give the best checkpoint, usually the latest of them).
train_cfg = dict(val_interval=10)
default_hooks = dict(
    checkpoint=dict(interval=1, max_keep_ckpts=3, save_best='auto'))
