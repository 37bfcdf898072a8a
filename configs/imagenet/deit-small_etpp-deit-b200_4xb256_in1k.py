# DeiT-S with EfficientTrain++ (DeiT table: 96, 96, 160 x 4, 192, 192,
# 224, 224) at budget 200 on MMPretrain's 300-epoch DeiT-S recipe. Sizes are
# multiples of the patch size; MMPretrain's VisionTransformer interpolates
# its position embeddings to the patch grid on every forward, so the
# learnt 14 x 14 table is kept at full size throughout (nothing is resized
# in the optimizer state at stage changes).
_base_ = 'mmpretrain::deit/deit-small_4xb256_in1k.py'
custom_imports = dict(imports=['etpp_mm'], allow_failed_imports=False)
custom_hooks = [
    dict(
        type='EfficientTrainHook',
        preset='etpp_deit',
        budget=200,
        validation='stage_size',
        size_divisor=16,
        # MMPretrain's DeiT-S recipe has no drop-path (rate 0): set
        # model.backbone.drop_path_rate=0.1 for the DeiT paper's value.
        drop_path_reference_budget=200)
]
# The curriculum runs 469.0 real epochs: validate every 10 (and after
# the last), keep the last 3 checkpoints and the best one. Validation runs
# at the current stage's size ('stage_size'): at 96 px its model compute is
# under a fifth of a full-size one, and it reads how the model does at the
# size it is trained at (at 224 a 96 px stage reads low): progress can be
# watched from the start. Full-size stages validate as the recipe does (and
# give the best checkpoint, usually the latest of them).
train_cfg = dict(val_interval=10)
default_hooks = dict(
    checkpoint=dict(interval=1, max_keep_ckpts=3, save_best='auto'))
