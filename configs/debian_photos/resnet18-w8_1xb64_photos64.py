# Baseline recipe: ResNet-18 (CIFAR stem, width 8) on Debian photos at 64 px
# with the ImageNet recipe's augmentation, 15 epochs, batch 64.
_base_ = [
    'mmpretrain::_base_/default_runtime.py',
    '../_base_/models/resnet18-w8_cifar-stem_photos.py',
    '../_base_/datasets/debian_photos_64.py',
    '../_base_/schedules/fmnist_sgd_coslr.py',
]
custom_imports = dict(imports=['etpp_mm'], allow_failed_imports=False)
# The Fashion-MNIST recipe's SGD (Nesterov, weight decay 5e-4), 1-epoch
# warm-up and cosine decay over 15 epochs, its LR 0.1 at batch 128 scaled
# linearly to batch 64.
optim_wrapper = dict(optimizer=dict(lr=0.05))
auto_scale_lr = dict(base_batch_size=64)
