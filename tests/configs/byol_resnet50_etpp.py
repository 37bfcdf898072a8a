# A recipe this project ships nothing for: MMPretrain's BYOL gains the
# curriculum from custom_imports and the hook alone.
_base_ = 'mmpretrain::byol/byol_resnet50_16xb256-coslr-200e_in1k.py'
custom_imports = dict(imports=['etpp_mm'], allow_failed_imports=False)
custom_hooks = [dict(type='EfficientTrainHook', preset='etpp', budget=200)]
