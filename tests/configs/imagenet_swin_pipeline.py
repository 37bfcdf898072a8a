# MMPretrain's Swin/DeiT ImageNet data settings (RandAugment, RandomErasing).
_base_ = 'mmpretrain::_base_/datasets/imagenet_bs64_swin_224.py'
