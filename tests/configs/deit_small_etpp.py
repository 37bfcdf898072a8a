# MMPretrain's DeiT-S ImageNet recipe + ET++ (DeiT table) at budget 200;
# sizes are multiples of the patch size.
_base_ = 'mmpretrain::deit/deit-small_4xb256_in1k.py'
custom_imports = dict(imports=['etpp_mm'], allow_failed_imports=False)
custom_hooks = [
    dict(
        type='EfficientTrainHook',
        preset='etpp_deit',
        budget=200,
        size_divisor=16)
]
