# DeiT/Swin's ImageNet schedule as MMPretrain ships it: AdamW, 20 warm-up
# epochs (iteration-based), cosine to epoch 300.
_base_ = 'mmpretrain::_base_/schedules/imagenet_bs1024_adamw_swin.py'
