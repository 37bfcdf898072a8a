# Baseline recipe: ResNet-18 (CIFAR stem, width 8) on Fashion-MNIST, 15 epochs.
_base_ = [
    'mmpretrain::_base_/default_runtime.py',
    '../_base_/models/resnet18-w8_cifar-stem_fmnist.py',
    '../_base_/datasets/fashion_mnist.py',
    '../_base_/schedules/fmnist_sgd_coslr.py',
]
custom_imports = dict(imports=['etpp_mm'], allow_failed_imports=False)
