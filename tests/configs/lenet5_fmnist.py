# MMPretrain's own LeNet-5 MNIST recipe, unchanged but for the data: a
# subset of real Fashion-MNIST (same file format as MNIST).
_base_ = 'mmpretrain::lenet/lenet5_mnist.py'
custom_imports = dict(imports=['etpp_mm'], allow_failed_imports=False)
train_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        type='FashionMNIST', data_prefix='data/fashion_mnist', indices=512))
val_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        type='FashionMNIST', data_prefix='data/fashion_mnist', indices=128))
test_dataloader = val_dataloader
