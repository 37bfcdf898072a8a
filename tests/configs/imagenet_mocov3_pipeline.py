# MMPretrain's MoCo v3 ImageNet data settings (two MultiView views).
_base_ = 'mmpretrain::_base_/datasets/imagenet_bs512_mocov3.py'
