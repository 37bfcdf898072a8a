# MoCo v3 pre-training of ResNet-50 with EfficientTrain++ (default table)
# at budget 200 on MMPretrain's 300-epoch MoCo v3 recipe. Both views get
# the low-frequency step (at the end of each MultiView branch). The recipe
# has no RandAugment, so only the size follows the curriculum.
_base_ = 'mmpretrain::mocov3/mocov3_resnet50_8xb512-amp-coslr-300e_in1k.py'
custom_imports = dict(imports=['etpp_mm'], allow_failed_imports=False)
custom_hooks = [
    dict(
        type='EfficientTrainHook', preset='etpp', budget=200, size_divisor=32)
]
