# MoCo v3 on Fashion-MNIST under EfficientTrain++ at budget 20 (2/3 of the
# 30-epoch recipe's compute): both views get the low-frequency step, 12 ->
# 20 -> 28 px. The recipe has no RandAugment, so only the size follows the
# curriculum.
_base_ = ['./mocov3_resnet18-w8_1xb256-coslr-30e_fmnist.py']
custom_imports = dict(imports=['etpp_mm'], allow_failed_imports=False)
custom_hooks = [
    dict(type='EfficientTrainHook', preset='etpp', budget=20, size_divisor=4)
]
