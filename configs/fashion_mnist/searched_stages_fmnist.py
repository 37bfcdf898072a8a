# EfficientTrain++ stage sizes found by tools/search_curriculum.py for
# configs/fashion_mnist/resnet18-w8_1xb128_fmnist.py: 4 stages of equal
# compute, candidate sizes 12, 16, 20, 24, 28 px. Proxy: 2000 train + 2000
# held-out images of the train split, 4 equivalent epochs, batch 32, seed 0;
# held-out accuracy/top1 74.25 (all stages at 28 px: 55.70).
# Train this file as it is, or copy custom_hooks into a config that inherits
# the recipe. budget: equivalent full-size epochs of the real training (the
# recipe runs 15).
_base_ = ['./resnet18-w8_1xb128_fmnist.py']
custom_imports = dict(imports=['etpp_mm'], allow_failed_imports=False)
custom_hooks = [
    dict(
        type='EfficientTrainHook',
        mode='etpp',
        stages=[
            dict(share=0.25, size=12),
            dict(share=0.25, size=16),
            dict(share=0.25, size=28),
            dict(share=0.25, size=28),
        ],
        size_divisor=4,
        budget=10),
]
