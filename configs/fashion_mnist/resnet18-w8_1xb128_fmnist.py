# Baseline recipe: the narrow CIFAR-stem ResNet-18 on Fashion-MNIST, 12 epochs.
_base_ = [
    'mmpretrain::_base_/default_runtime.py',
    '../_base_/models/resnet18_cifar_narrow_fmnist.py',
    '../_base_/datasets/fashion_mnist.py',
    '../_base_/schedules/fmnist_sgd_coslr.py',
]
custom_imports = dict(imports=['etpp_mm'], allow_failed_imports=False)
