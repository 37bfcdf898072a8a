# ResNet-50 with EfficientTrain++ (default table: 96, 96, 160 x 4, 224 x 4) at
# budget 200 equivalent epochs, on MMPretrain's 300-epoch RSB-A2 recipe
# (LAMB, Mixup/CutMix, RandAugment 'timm_increasing' with 2 ops,
# magnitude 7 and std 0.5; the preset's magnitudes 0..9 are scaled to end at
# the recipe's 7: 0, 0.78, ..., 7; magnitude='paper' keeps 0..9). 1.5x less
# compute than the recipe: 217 real epochs at 96, 157 at 160, 80 at 224.
_base_ = 'mmpretrain::resnet/resnet50_8xb256-rsb-a2-300e_in1k.py'
custom_imports = dict(imports=['etpp_mm'], allow_failed_imports=False)
custom_hooks = [
    dict(
        type='EfficientTrainHook',
        preset='etpp',
        budget=200,
        validation='stage_size',
        # the recipe's drop-path 0.05 is for 300 epochs: scaled by budget/200
        drop_path_reference_budget=200)
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
