# MoCo v3 pre-training of ViT-S/16 with EfficientTrain++ (DeiT table) at
# budget 200 on MMPretrain's 300-epoch MoCo v3 recipe. MoCoV3ViT
# interpolates its fixed position embeddings to the patch grid on every
# forward; both views get the low-frequency step.
_base_ = 'mmpretrain::mocov3/mocov3_vit-small-p16_16xb256-amp-coslr-300e_in1k.py'
custom_imports = dict(imports=['etpp_mm'], allow_failed_imports=False)
custom_hooks = [
    dict(
        type='EfficientTrainHook',
        preset='etpp_deit',
        budget=200,
        size_divisor=16)
]
