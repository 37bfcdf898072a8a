# EfficientTrain++ on Fashion-MNIST: the 12-epoch recipe of
# resnet18-narrow_1xb128_fmnist.py at 2/3 of its compute (budget 8
# equivalent epochs). Preset sizes scale from 224 to the native 28 px:
# 96 -> 12, 160 -> 20, 224 -> 28.
_base_ = ['./resnet18-narrow_1xb128_fmnist.py']
custom_hooks = [
    dict(type='EfficientTrainHook', preset='etpp', budget=8, size_divisor=4),
]
