# MAE pre-training on Fashion-MNIST (labels unused): a small ViT (patch 4,
# so 7 x 7 patches at the native 28 px; 6 layers of width 64) with MMPretrain's
# MAE, a 2-layer decoder, 75% masking, normalised-pixel targets, AdamW with
# MAE's betas, 30 epochs. The resolution-adaptive encoder and decoder equal
# MMPretrain's MAEViT/MAEPretrainDecoder at 28 px and also take the
# curriculum's smaller sizes. Evaluate with
# `python tools/analysis/knn_eval.py CONFIG CHECKPOINT`.
_base_ = [
    '../_base_/datasets/fashion_mnist_ssl.py',
    '../_base_/schedules/fmnist_ssl_coslr.py',
]
custom_imports = dict(imports=['etpp_mm'], allow_failed_imports=False)
embed_dims = 64
model = dict(
    type='MAE',
    data_preprocessor={{_base_.data_preprocessor}},
    backbone=dict(
        type='ResolutionAdaptiveMAEViT',
        arch=dict(
            embed_dims=embed_dims,
            num_layers=6,
            num_heads=4,
            feedforward_channels=4 * embed_dims),
        img_size=28,
        patch_size=4,
        # MAEViT has no in_channels argument: it goes to the patch embedding
        patch_cfg=dict(in_channels=1),
        mask_ratio=0.75),
    neck=dict(
        type='ResolutionAdaptiveMAEPretrainDecoder',
        num_patches=49,
        patch_size=4,
        in_chans=1,
        embed_dim=embed_dims,
        decoder_embed_dim=64,
        decoder_depth=2,
        decoder_num_heads=4,
        mlp_ratio=4),
    head=dict(
        type='MAEPretrainHead',
        norm_pix=True,
        patch_size=4,
        in_channels=1,
        loss=dict(type='PixelReconstructionLoss', criterion='L2')),
    init_cfg=[
        dict(type='Xavier', layer='Linear', distribution='uniform'),
        dict(type='Constant', layer='LayerNorm', val=1.0, bias=0.0)
    ])

train_pipeline = [
    dict(
        type='RandomResizedCrop',
        scale=28,
        crop_ratio_range=(0.2, 1.0),
        backend='pillow',
        interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

# MAE's optimizer; the LR is higher than MAE's 1.5e-4 per 256 images, which
# is tuned for 800-1600 ImageNet epochs, not 30 short ones.
optim_wrapper = dict(
    optimizer=dict(
        type='AdamW', lr=1e-3, betas=(0.9, 0.95), weight_decay=0.05),
    paramwise_cfg=dict(
        custom_keys={
            'ln': dict(decay_mult=0.0),
            'bias': dict(decay_mult=0.0),
            'pos_embed': dict(decay_mult=0.),
            'mask_token': dict(decay_mult=0.),
            'cls_token': dict(decay_mult=0.)
        }))
# A 3-epoch warm-up (the base's is 2), then the cosine over the rest.
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-4,
        by_epoch=True,
        begin=0,
        end=3,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=27,
        by_epoch=True,
        begin=3,
        end=30,
        convert_to_iter_based=True)
]
