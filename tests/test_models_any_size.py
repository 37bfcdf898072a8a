"""Models at every stage size: MAE's resolution-adaptive variants,
drop-path scaling, and the compatibility fixes the SSL recipes need."""
import numpy as np
import pytest
import torch
from mmcv.cnn.bricks import DropPath
from mmpretrain.models.necks import MAEPretrainDecoder
from mmpretrain.models.selfsup import MAEViT
from mmpretrain.registry import MODELS, TRANSFORMS

import etpp_mm  # noqa: F401  registers the variants
from etpp_mm.models import (ResolutionAdaptiveMAEPretrainDecoder,
                            ResolutionAdaptiveMAEViT,
                            ResolutionAdaptiveSwinTransformer, scale_drop_path)
from etpp_mm.models.swin import (relative_position_index,
                                 resize_relative_position_bias)
from etpp_mm.utils import compat

SMALL_VIT = dict(
    embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64)


def small_mae(backbone_type, neck_type):
    return MODELS.build(
        dict(
            type='MAE',
            backbone=dict(
                type=backbone_type, arch=SMALL_VIT, patch_size=16,
                mask_ratio=0.75),
            neck=dict(
                type=neck_type,
                patch_size=16,
                in_chans=3,
                embed_dim=32,
                decoder_embed_dim=16,
                decoder_depth=1,
                decoder_num_heads=2,
                mlp_ratio=4.),
            head=dict(
                type='MAEPretrainHead',
                norm_pix=True,
                patch_size=16,
                loss=dict(type='PixelReconstructionLoss', criterion='L2'))))


def test_variants_equal_mmpretrain_at_the_configured_size():
    torch.manual_seed(0)
    ours = small_mae('ResolutionAdaptiveMAEViT',
                     'ResolutionAdaptiveMAEPretrainDecoder')
    theirs = small_mae('MAEViT', 'MAEPretrainDecoder')
    ours.init_weights()
    theirs.load_state_dict(ours.state_dict())
    images = torch.rand(2, 3, 224, 224)
    torch.manual_seed(1)
    latent, mask, ids_restore = ours.backbone(images)
    pred = ours.neck(latent, ids_restore)
    torch.manual_seed(1)
    latent_ref, mask_ref, ids_ref = theirs.backbone(images)
    pred_ref = theirs.neck(latent_ref, ids_ref)
    assert torch.equal(mask, mask_ref) and torch.equal(ids_restore, ids_ref)
    assert torch.allclose(latent, latent_ref, atol=1e-6)
    assert torch.allclose(pred, pred_ref, atol=1e-6)


def test_mmpretrain_mae_fails_below_its_size_and_the_variant_trains():
    theirs = small_mae('MAEViT', 'MAEPretrainDecoder')
    with pytest.raises(RuntimeError):
        theirs.backbone(torch.rand(2, 3, 96, 96))

    model = small_mae('ResolutionAdaptiveMAEViT',
                      'ResolutionAdaptiveMAEPretrainDecoder')
    model.init_weights()
    for size in (96, 160, 224):
        images = torch.rand(2, 3, size, size)
        latent, mask, ids_restore = model.backbone(images)
        patches = (size // 16)**2
        assert mask.shape == (2, patches)
        assert int(mask[0].sum()) == patches - int(patches * 0.25)
        assert latent.shape[1] == 1 + int(patches * 0.25)  # cls + visible
        pred = model.neck(latent, ids_restore)
        assert pred.shape == (2, patches, 16 * 16 * 3)
        # the target is the stage-size image, patchified by MMPretrain
        loss = model.loss(images, [])['loss']
        assert torch.isfinite(loss)
        loss.backward()
        assert model.backbone.patch_embed.projection.weight.grad is not None
        model.zero_grad()


def test_position_embeddings_are_interpolated_not_cut():
    vit = ResolutionAdaptiveMAEViT(arch=SMALL_VIT, patch_size=16)
    vit.init_weights()
    table = vit.pos_embed[0, 1:].reshape(14, 14, -1)
    seen = {}
    original_masking = vit.random_masking

    def record(tokens, ratio):
        seen['tokens'] = tokens
        return original_masking(tokens, ratio)

    vit.random_masking = record
    with torch.no_grad():
        vit(torch.zeros(1, 3, 112, 112))  # a 7 x 7 grid
    bias = vit.patch_embed.projection.bias
    used = (seen['tokens'][0] - bias).reshape(7, 7, -1)
    # patch (i, j) of the 7 x 7 grid covers patches 2i..2i+1, 2j..2j+1 of
    # the 14 x 14 one: its embedding is near their mean, far from the crop
    block_means = table.reshape(7, 2, 7, 2, -1).mean((1, 3))
    crop = table[:7, :7]
    assert (used - block_means).norm() < 0.5 * (used - crop).norm()


def test_decoder_refuses_non_square_grids():
    decoder = ResolutionAdaptiveMAEPretrainDecoder(
        num_patches=196, embed_dim=32, decoder_embed_dim=16, decoder_depth=1,
        decoder_num_heads=2)
    with pytest.raises(ValueError, match='square'):
        decoder(torch.rand(1, 3, 32), torch.arange(24).unsqueeze(0))


def test_scale_drop_path_keeps_each_backbone_depth_rule():
    swin = MODELS.build(
        dict(type='SwinTransformer', arch='tiny', drop_path_rate=0.2))
    before = [m.drop_prob for m in swin.modules() if isinstance(m, DropPath)]
    changed = scale_drop_path(swin, 0.5)
    after = [m.drop_prob for m in swin.modules() if isinstance(m, DropPath)]
    assert len(changed) == len(before) > 10
    assert max(before) == pytest.approx(0.2)
    assert after == pytest.approx([b / 2 for b in before])
    with pytest.raises(ValueError):
        scale_drop_path(swin, -1)


def test_hue_fix_keeps_mmcv_results_and_handles_negative_shifts():
    rng = np.random.default_rng(0)
    image = (rng.random((24, 24, 3)) * 255).astype(np.uint8)
    for backend in ('pillow', 'cv2'):
        for factor in (0.0, 0.05, 0.3, 0.5):  # mmcv's own works here
            assert np.array_equal(
                compat.adjust_hue(image, factor, backend=backend),
                compat.MMCV_ADJUST_HUE(image, factor, backend=backend))
        # -f shifts the other way round the circle: undoes +f up to the
        # HSV round trip's rounding
        there = compat.adjust_hue(image, 0.2, backend=backend)
        back = compat.adjust_hue(there, -0.2, backend=backend)
        assert np.abs(back.astype(int) - image.astype(int)).mean() < 6
    assert int(compat.hue_shift(-0.07)) == 256 - 17


def test_colorjitter_with_hue_runs_in_mmpretrain_pipelines():
    jitter = TRANSFORMS.build(
        dict(
            type='ColorJitter',
            brightness=0.4,
            contrast=0.4,
            saturation=0.2,
            hue=0.1))
    image = (np.random.default_rng(1).random((32, 32, 3)) * 255).astype(
        np.uint8)
    np.random.seed(0)
    for _ in range(20):  # about half the draws are negative hue shifts
        assert jitter(dict(img=image.copy()))['img'].shape == image.shape


def test_variants_are_registered_for_configs():
    assert MODELS.get('ResolutionAdaptiveMAEViT') is ResolutionAdaptiveMAEViT
    assert issubclass(ResolutionAdaptiveMAEViT, MAEViT)
    assert issubclass(ResolutionAdaptiveMAEPretrainDecoder,
                      MAEPretrainDecoder)


def small_swin(backbone_type):
    return MODELS.build(
        dict(
            type=backbone_type,
            arch=dict(embed_dims=16, depths=[2, 2, 2, 2],
                      num_heads=[1, 2, 2, 2]),
            img_size=224,
            drop_path_rate=0.0))


def test_swin_variant_is_mmpretrains_swin_at_224():
    torch.manual_seed(0)
    ours = small_swin('ResolutionAdaptiveSwinTransformer')
    ours.init_weights()
    theirs = small_swin('SwinTransformer')
    theirs.load_state_dict(ours.state_dict())  # same keys both ways
    ours.eval(), theirs.eval()
    images = torch.rand(2, 3, 224, 224)
    with torch.no_grad():
        assert torch.allclose(ours(images)[0], theirs(images)[0], atol=1e-6)
    from mmpretrain.models.utils.attention import WindowMSA
    assert torch.equal(
        WindowMSA(8, (7, 7), 1).relative_position_index,
        relative_position_index(7))


def test_swin_variant_shrinks_the_window_with_the_input():
    swin = small_swin('ResolutionAdaptiveSwinTransformer')
    assert [swin.window_for((s, s)) for s in (96, 160, 192, 224)] == \
        [3, 5, 6, 7]
    with pytest.raises(AssertionError, match='pad_small_map'):
        small_swin('SwinTransformer')(torch.rand(1, 3, 96, 96))
    for size in (96, 160):
        out = swin(torch.rand(2, 3, size, size))[0]
        assert out.shape[-1] == size // 32  # no padded feature map
        out.sum().backward()
        table = swin.stages[0].blocks[0].attn.w_msa \
            .relative_position_bias_table
        assert table.grad is not None and table.grad.abs().sum() > 0
        swin.zero_grad()
    # the window is set per forward: back at 224 it is 7 again
    swin(torch.rand(1, 3, 224, 224))
    assert swin.stages[0].blocks[1].attn.window_size == 7
    assert swin.stages[0].blocks[1].attn.shift_size == 3


def test_bias_table_is_interpolated_over_offsets():
    # a bias linear in the offset stays linear, spanning the same range
    offsets = torch.arange(-6, 7, dtype=torch.float32)
    dy, dx = torch.meshgrid(offsets, offsets, indexing='ij')
    table = (dy + 2 * dx).reshape(-1, 1)
    small = resize_relative_position_bias(table, 7, 3).reshape(5, 5)
    assert small[2, 2] == pytest.approx(0.0, abs=1e-5)  # centre: offset 0
    assert small[0, 0] < small[2, 2] < small[4, 4]
    assert torch.equal(resize_relative_position_bias(table, 7, 7), table)


def test_built_mmpretrain_models_are_adapted_in_place():
    """MMPretrain's Swin, MAEViT and MAE decoder, built as a config builds
    them, become their variants in place: the same parameter objects (an
    optimizer built on them keeps them), the variants' outputs at 96 px,
    MMPretrain's at the configured size; a padded Swin is kept."""
    from etpp_mm.models import adapt_to_any_size
    torch.manual_seed(0)
    swin = small_swin('SwinTransformer')
    swin.init_weights()
    reference = small_swin('ResolutionAdaptiveSwinTransformer')
    reference.load_state_dict(swin.state_dict())
    swin.eval(), reference.eval()
    images = torch.rand(2, 3, 224, 224)
    with torch.no_grad():
        before = swin(images)[0]
    parameters = [id(p) for p in swin.parameters()]
    holder = torch.nn.Module()
    holder.backbone = swin
    assert adapt_to_any_size(holder) == [
        'backbone: SwinTransformer -> ResolutionAdaptiveSwinTransformer'
    ]
    assert [id(p) for p in swin.parameters()] == parameters
    assert list(swin.state_dict()) == list(reference.state_dict())
    small = torch.rand(2, 3, 96, 96)
    with torch.no_grad():
        assert torch.equal(swin(images)[0], before)  # at 224: unchanged
        assert torch.allclose(swin(small)[0], reference(small)[0], atol=1e-6)

    padded = MODELS.build(
        dict(type='SwinTransformer', arch=dict(
            embed_dims=16, depths=[2, 2, 2, 2], num_heads=[1, 2, 2, 2]),
             pad_small_map=True))
    assert adapt_to_any_size(padded) == []
    assert type(padded).__name__ == 'SwinTransformer'

    mae = small_mae('MAEViT', 'MAEPretrainDecoder')
    mae.init_weights()
    assert adapt_to_any_size(mae) == [
        'backbone: MAEViT -> ResolutionAdaptiveMAEViT',
        'neck: MAEPretrainDecoder -> ResolutionAdaptiveMAEPretrainDecoder'
    ]
    assert torch.isfinite(mae.loss(torch.rand(2, 3, 96, 96), [])['loss'])


def test_efficientformer_attention_reads_its_biases_for_smaller_grids():
    """EfficientFormer's attention becomes the variant in place: at the
    configured 7 x 7 grid it is MMPretrain's exactly; a 3 x 3 grid takes,
    for each pair of tokens, the bias MMPretrain learnt for their offset
    (the same pair placed in the 7 x 7 grid); the whole backbone trains at
    96 px."""
    from mmpretrain.models.backbones.efficientformer import \
        AttentionWithBias
    from etpp_mm.models import adapt_to_any_size
    torch.manual_seed(0)
    attention = AttentionWithBias(16, num_heads=2, key_dim=4, resolution=7)
    with torch.no_grad():
        attention.attention_biases.normal_()
    tokens = torch.rand(2, 49, 16)
    reference = attention(tokens)
    holder = torch.nn.Module()
    holder.attn = attention
    assert adapt_to_any_size(holder) == [
        'attn: AttentionWithBias -> ResolutionAdaptiveAttentionWithBias'
    ]
    assert torch.equal(attention(tokens), reference)
    index = attention.bias_index(9)
    full = attention.attention_bias_idxs
    place = [r * 7 + c for r in range(3) for c in range(3)]
    assert torch.equal(index, full[place][:, place])
    with pytest.raises(ValueError, match='8x8 token grid does not fit the '
                       'configured 7x7'):
        attention.bias_index(8 * 8)

    model = MODELS.build(dict(
        type='ImageClassifier',
        backbone=dict(type='EfficientFormer', arch='l1'),
        neck=dict(type='GlobalAveragePooling', dim=1),
        head=dict(type='EfficientFormerClsHead', in_channels=448,
                  num_classes=2)))
    images = torch.rand(2, 3, 96, 96)
    with pytest.raises(Exception):
        model(images, mode='tensor')  # MMPretrain's: 7x7 biases only
    assert adapt_to_any_size(model)[0].endswith(
        'AttentionWithBias -> ResolutionAdaptiveAttentionWithBias')
    out = model(images, mode='tensor')
    out = out[0] if isinstance(out, tuple) else out
    assert torch.isfinite(out).all()


def test_shifted_window_attentions_pad_small_maps():
    """DaViT's shifted-window attention refuses a feature map smaller than
    its window; adapted, it pads the map (MMPretrain's pad_small_map) and
    the backbone runs at 96 px, logged once for all of them."""
    from etpp_mm.models import adapt_to_any_size
    backbone = MODELS.build(dict(type='DaViT', arch='t'))
    images = torch.rand(1, 3, 96, 96)
    with pytest.raises(AssertionError, match='pad_small_map'):
        backbone(images)
    changes = adapt_to_any_size(backbone)
    assert len(changes) == 1 and 'pad_small_map=True' in changes[0]
    assert backbone(images)[-1].shape[-1] == 3
    assert adapt_to_any_size(backbone) == []


def test_model_check_restores_models_that_remake_buffers_per_size():
    """Swin v2 re-makes its coordinate tables and drops them from its state
    dict, EVA-02's rotary tables follow the input: the model check at a
    smaller size restores every tensor as it was, where a state-dict round
    trip failed ('Missing key(s)', 'size mismatch')."""
    from mmpretrain.structures import DataSample
    from etpp_mm.attach.model_check import check_model_at_sizes
    from etpp_mm.models import adapt_to_any_size
    swin_v2 = dict(type='SwinTransformerV2', img_size=64, window_size=4,
                   arch=dict(embed_dims=16, depths=[1, 1, 1, 1],
                             num_heads=[1, 1, 1, 1],
                             extra_norm_every_n_blocks=0))
    eva02 = dict(type='ViTEVA02', arch=dict(
        embed_dims=16, num_layers=1, num_heads=2, feedforward_channels=32),
        img_size=64, patch_size=16)
    pool = dict(type='GlobalAveragePooling')
    for backbone, neck, channels in ((swin_v2, pool, 128),
                                     (eva02, None, 16)):
        torch.manual_seed(0)
        model = MODELS.build(dict(
            type='ImageClassifier', backbone=backbone, neck=neck,
            head=dict(type='LinearClsHead', num_classes=2,
                      in_channels=channels)))
        adapt_to_any_size(model)
        before = {k: v.clone() for k, v in model.state_dict().items()}
        buffers = {k: v.shape for k, v in model.named_buffers()}

        def batch(stage):
            size = (32, 64)[stage]
            return dict(inputs=torch.rand(2, 3, size, size),
                        data_samples=[DataSample().set_gt_label(0)] * 2)

        check_model_at_sizes(model, [0, 1], batch, lambda s: f'stage {s}')
        after = model.state_dict()
        assert list(after) == list(before)
        assert all(torch.equal(after[k], before[k]) for k in before)
        assert {k: v.shape for k, v in model.named_buffers()} == buffers


def _small_vit(backbone_type, **extra):
    return MODELS.build(dict(
        type=backbone_type, arch=dict(embed_dims=16, num_layers=1,
                                      num_heads=2, feedforward_channels=32),
        img_size=64, patch_size=16, **extra))


def test_beit_relative_position_bias_reads_smaller_grids():
    """BEiT's shared relative position bias, swapped in place: MMPretrain's
    exactly at the configured 4 x 4 grid; a 2 x 2 input reads, for each
    pair of patches, the bias of their offset in the 4 x 4 grid (class
    token rows kept); the pre-training backbone runs at 32 px."""
    from etpp_mm.models import adapt_to_any_size
    torch.manual_seed(0)
    backbone = _small_vit('BEiTPretrainViT', use_shared_rel_pos_bias=True,
                          use_rel_pos_bias=False)
    with torch.no_grad():
        backbone.rel_pos_bias.relative_position_bias_table.normal_()
    reference = backbone.rel_pos_bias()
    mask = torch.zeros(1, 4, 4, dtype=torch.bool)
    full = backbone(torch.rand(1, 3, 64, 64), mask)[0]
    assert adapt_to_any_size(backbone) == [
        'rel_pos_bias: RelativePositionBias -> '
        'ResolutionAdaptiveRelativePositionBias'
    ]
    assert torch.equal(backbone.rel_pos_bias(), reference)
    small = backbone(torch.rand(1, 3, 32, 32), mask[:, :2, :2])[0]
    assert small.shape == (1, 5, 16) and full.shape == (1, 17, 16)
    place = [0, 1, 2, 5, 6]  # class token, then patches (0,0) (0,1) (1,0)..
    assert torch.equal(backbone.rel_pos_bias(),
                       reference[:, place][:, :, place])
    assert adapt_to_any_size(backbone) == []  # hook registered once
    assert len(backbone._forward_pre_hooks) == 1


def test_maskfeat_and_cae_parts_follow_the_patch_grid():
    """MaskFeat's ViT and CAE's encoder add the position embedding of the
    configured grid; swapped in place they read it resized to the input's
    grid (the parameter itself at the configured grid). MaskFeat's HOG
    target groups the same cells per patch as MMPretrain's at 224 px and
    any grid below; CAE's neck takes its mask-token count from the
    masked positions."""
    from mmpretrain.models.necks import CAENeck
    from mmpretrain.models.selfsup.maskfeat import HOGGenerator
    from etpp_mm.models import adapt_to_any_size
    torch.manual_seed(0)
    for kind, extra in (('MaskFeatViT', {}), ('CAEPretrainViT',
                                               dict(layer_scale_init_value=0.1))):
        vit = _small_vit(kind, **extra)
        vit.init_weights()
        adapt_to_any_size(vit)
        assert type(vit).__name__ == f'ResolutionAdaptive{kind}'
        mask = torch.zeros(1, 16, dtype=torch.bool)
        mask[:, :4] = True
        vit(torch.rand(1, 3, 64, 64), mask)
        assert vit.pos_embed is vit._parameters['pos_embed']
        assert vit.num_patches == 16
        out = vit(torch.rand(1, 3, 32, 32), mask[:, :4] & False)
        assert vit.pos_embed.shape == (1, 5, 16) and vit.num_patches == 4
        assert out.shape[-1] == 16

    hog = HOGGenerator(nbins=9, pool=8, gaussian_window=16)
    images = torch.rand(2, 3, 224, 224)
    reference = hog(images)
    holder = torch.nn.Module()
    holder.backbone = _small_vit('MaskFeatViT')
    holder.target_generator = hog
    assert 'target_generator: HOGGenerator -> ' \
        'ResolutionAdaptiveHOGGenerator' in adapt_to_any_size(holder)
    assert torch.equal(hog(images), reference)
    assert hog(torch.rand(2, 3, 96, 96)).shape == (2, 36, 108)

    neck = CAENeck(num_classes=8, embed_dims=16, regressor_depth=1,
                   decoder_depth=1, num_heads=2, mask_tokens_num=75,
                   layer_scale_init_value=0.1)
    holder = torch.nn.Module()
    holder.neck = neck
    adapt_to_any_size(holder)
    logits, latent = neck(torch.rand(2, 22, 16), torch.rand(2, 14, 16),
                          torch.rand(2, 22, 16))
    assert latent.shape == (2, 14, 16) and neck.mask_token_num == 14


def test_hivit_attention_reads_its_biases_for_smaller_grids():
    """HiViT's main-stage attention, swapped in place: MMPretrain's exactly
    at the configured 14 x 14 grid (with and without a token mask); the
    whole backbone then runs at 96 px, where MMPretrain's refuses."""
    from mmpretrain.models.backbones.hivit import Attention
    from etpp_mm.models import adapt_to_any_size
    torch.manual_seed(0)
    attention = Attention(input_size=14, dim=32, num_heads=4)
    with torch.no_grad():
        attention.relative_position_bias_table.normal_()
    tokens, keep = torch.rand(2, 196, 32), torch.ones(2, 196)
    keep[:, :5] = 0
    reference = [attention(tokens, True), attention(tokens, True, keep)]
    holder = torch.nn.Module()
    holder.attn = attention
    assert adapt_to_any_size(holder) == [
        'attn: Attention -> ResolutionAdaptiveHiViTAttention'
    ]
    assert torch.equal(attention(tokens, True), reference[0])
    assert torch.equal(attention(tokens, True, keep), reference[1])

    backbone = MODELS.build(dict(type='HiViT', arch='tiny', img_size=224,
                                 rpe=True))
    images = torch.rand(1, 3, 96, 96)
    with pytest.raises(RuntimeError, match='must match the size'):
        backbone(images)
    adapt_to_any_size(backbone)
    assert backbone(images)[-1].shape[-2:] == (6, 6)


def test_mae_hivit_masks_the_input_patches_at_any_size():
    """MMPretrain's MAE with HiViT draws its mask over the configured 196
    patches and fails at 96 px; the variant, swapped in place, draws the
    same masks at 224 px from the same random state and 36-patch masks at
    96 px, where the whole MAE loss runs."""
    from mmpretrain.models.selfsup import MAEHiViT
    from etpp_mm.models import adapt_to_any_size
    torch.manual_seed(0)
    vit = MAEHiViT(arch='tiny', img_size=224)
    vit.init_weights()
    images = torch.rand(2, 3, 224, 224)
    torch.manual_seed(1)
    reference = vit(images)
    with pytest.raises(RuntimeError):
        vit(torch.rand(1, 3, 96, 96))
    holder = torch.nn.Module()
    holder.backbone = vit
    changes = adapt_to_any_size(holder)
    assert changes[0] == 'backbone: MAEHiViT -> ResolutionAdaptiveMAEHiViT'
    assert changes[1].startswith(
        '10 x Attention -> ResolutionAdaptiveHiViTAttention (backbone.')
    torch.manual_seed(1)
    assert all(torch.equal(a, b) for a, b in zip(vit(images), reference))
    latent, mask, _ = vit(torch.rand(2, 3, 96, 96))
    assert mask.shape == (2, 36) and int(mask.sum()) == 2 * 27
