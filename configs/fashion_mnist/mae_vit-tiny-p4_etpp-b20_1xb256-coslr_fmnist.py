# MAE on Fashion-MNIST under EfficientTrain++ at budget 20 (2/3 of the
# 30-epoch recipe's compute): 12 -> 20 -> 28 px, multiples of the patch
# size 4 (3 x 3, 5 x 5, then 7 x 7 patches, 75% of each grid masked). Set
# custom_hooks.0.budget=30 for the recipe's own compute.
_base_ = ['./mae_vit-tiny-p4_1xb256-coslr-30e_fmnist.py']
custom_hooks = [
    dict(type='EfficientTrainHook', preset='etpp', budget=20, size_divisor=4)
]
