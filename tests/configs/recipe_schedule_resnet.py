# ResNet-50's ImageNet schedule as MMPretrain ships it: SGD, steps at
# epochs 30/60/90 of 100.
_base_ = 'mmpretrain::_base_/schedules/imagenet_bs256.py'
