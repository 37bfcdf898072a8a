# A recipe this project ships nothing for: MMPretrain's RegNetX-400MF gains
# the curriculum from custom_imports and the hook alone.
_base_ = 'mmpretrain::regnet/regnetx-400mf_8xb128_in1k.py'
custom_imports = dict(imports=['etpp_mm'], allow_failed_imports=False)
custom_hooks = [dict(type='EfficientTrainHook', preset='etpp', budget=200)]
