# EfficientTrain++ on Fashion-MNIST: the 15-epoch recipe of
# resnet18-w8_1xb128_fmnist.py at 2/3 of its compute (budget 10 equivalent
# epochs). Preset sizes scale from 224 to the native 28 px: 96 -> 12,
# 160 -> 20, 224 -> 28. The stage-sized data path (augment_at='auto', the
# default) and early large batch (x5 at 12 px, the LR x5 for SGD), the
# setting of docs/benchmark_fmnist.md's 'stage' variants.
_base_ = ['./resnet18-w8_1xb128_fmnist.py']
custom_hooks = [
    dict(
        type='EfficientTrainHook',
        preset='etpp',
        budget=10,
        size_divisor=4,
        batch_scale='auto'),
]
