# The README's example: MMPretrain's Swin-T ImageNet recipe + the hook.
_base_ = 'mmpretrain::swin_transformer/swin-tiny_16xb64_in1k.py'
custom_imports = dict(imports=['etpp_mm'], allow_failed_imports=False)
custom_hooks = [dict(type='EfficientTrainHook', preset='etpp', budget=200)]
