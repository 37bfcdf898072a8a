# MAE pre-training of ViT-B/16 with EfficientTrain++ (default table) at
# budget 200 on MMPretrain's 300-epoch MAE recipe: 1.5x less compute.
# MAE's encoder and decoder add fixed-size position embeddings; their
# resolution-adaptive variants resize them to each stage's patch grid
# (6 x 6 at 96, 10 x 10 at 160); the mask ratio stays 0.75 and the
# reconstruction target is the stage-size image. The recipe has no
# RandAugment, so only the size follows the curriculum.
_base_ = 'mmpretrain::mae/mae_vit-base-p16_8xb512-amp-coslr-300e_in1k.py'
custom_imports = dict(imports=['etpp_mm'], allow_failed_imports=False)
model = dict(
    backbone=dict(type='ResolutionAdaptiveMAEViT'),
    neck=dict(type='ResolutionAdaptiveMAEPretrainDecoder'))
custom_hooks = [
    dict(
        type='EfficientTrainHook', preset='etpp', budget=200, size_divisor=16)
]
