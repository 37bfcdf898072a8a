# The Fashion-MNIST model (ResNet-18, CIFAR-style stem, width 8) for small
# RGB photos (64 px: 8x8 features after the last stage), 26 classes
# (Debian photos).
_base_ = ['./resnet18-w8_cifar-stem_fmnist.py']
model = dict(
    backbone=dict(in_channels=3), head=dict(num_classes=26, topk=(1, 5)))
