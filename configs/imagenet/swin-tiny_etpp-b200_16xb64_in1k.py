# Swin-T with EfficientTrain++ (default table: 96, 96, 160 x 4, 224 x 4) at
# budget 200 on MMPretrain's 300-epoch Swin-T recipe. MMPretrain's Swin
# keeps window 7, larger than the last feature maps at 96 (3 x 3) and 160
# (5 x 5); its resolution-adaptive variant uses the authors' window
# = size // 32 (3, 5, 7) with the relative-position bias table interpolated,
# so no feature map is padded. (With model.backbone.type='SwinTransformer'
# and pad_small_map=True it trains too, at 1.30x instead of 1.5x in FLOPs.)
_base_ = 'mmpretrain::swin_transformer/swin-tiny_16xb64_in1k.py'
custom_imports = dict(imports=['etpp_mm'], allow_failed_imports=False)
model = dict(backbone=dict(type='ResolutionAdaptiveSwinTransformer'))
custom_hooks = [
    dict(
        type='EfficientTrainHook',
        preset='etpp',
        budget=200,
        validation='stage_size',
        size_divisor=32,
        drop_path_reference_budget=200)  # the recipe's 0.2, scaled
]
# The curriculum runs 454.6 real epochs: validate every 10 (and after
# the last), keep the last 3 checkpoints and the best one. Validation runs
# at the current stage's size ('stage_size'): at 96 px its model compute is
# under a fifth of a full-size one, and it reads how the model does at the
# size it is trained at (at 224 a 96 px stage reads low): progress can be
# watched from the start. Full-size stages validate as the recipe does (and
# give the best checkpoint, usually the latest of them).
train_cfg = dict(val_interval=10)
default_hooks = dict(
    checkpoint=dict(interval=1, max_keep_ckpts=3, save_best='auto'))
