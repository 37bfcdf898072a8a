"""Every shipped ImageNet recipe, and two MMPretrain recipes this project
ships nothing for, train through ``tools/train.py`` at their smallest and
full stage sizes, on a folder of real photos.

The budget is cut so the plan runs a few iterations of two images (one
epoch each), from the smallest size to the full size (stages end where
their shares end, so a short budget reaches every size whose share holds
an iteration); the models are MMPretrain's real architectures, unshrunk.
"""
import glob
import json
import math
import os.path as osp
import re

import pytest
from conftest import ROOT, train
from mmengine import Config

IMAGENET = osp.join(ROOT, 'configs', 'imagenet')
TEST_CONFIGS = osp.join(ROOT, 'tests', 'configs')

# (config, index of the hook in custom_hooks, a budget whose plan reaches
#  the full size in iterations of the whole data, smallest size)
RECIPES = [
    (osp.join(IMAGENET, 'resnet50_etpp-b200_8xb256-rsb-a2_in1k.py'), 0, 1,
     96),
    (osp.join(IMAGENET, 'deit-small_etpp-deit-b200_4xb256_in1k.py'), 0, 1,
     96),
    (osp.join(IMAGENET, 'swin-tiny_etpp-b200_16xb64_in1k.py'), 0, 1, 96),
    (osp.join(IMAGENET,
              'convnext-tiny_etpp-convnext-b200_32xb128_in1k.py'), 1, 1.5,
     160),
    (osp.join(IMAGENET,
              'mae_vit-base-p16_etpp-b200_8xb512-amp-coslr_in1k.py'), 0, 1,
     96),
    (osp.join(IMAGENET,
              'mocov3_resnet50_etpp-b200_8xb512-amp-coslr_in1k.py'), 0, 1,
     96),
    (osp.join(IMAGENET,
              'mocov3_vit-small-p16_etpp-b200_16xb256-amp-coslr_in1k.py'), 0,
     1, 96),
    # not shipped: custom_imports + the hook only
    (osp.join(TEST_CONFIGS, 'byol_resnet50_etpp.py'), 0, 1, 96),
    (osp.join(TEST_CONFIGS, 'regnetx-400mf_etpp.py'), 0, 1, 96),
]


def small_data_config(tmp_path, config, photos, extra='', images=2):
    """``config`` on ``images`` photos, two per batch, a log line per
    iteration, no checkpoints; AMP (GPU only) becomes plain fp32."""
    cfg = Config.fromfile(config)
    lines = [
        f'_base_ = [{config!r}]',
        'train_dataloader = dict(batch_size=2, num_workers=0, '
        'persistent_workers=False, '
        f'dataset=dict(data_root={photos!r}, indices={images}))',
        'default_hooks = dict(logger=dict(interval=1), '
        'checkpoint=dict(interval=1000, save_last=False))',
    ]
    if cfg.get('val_dataloader'):
        lines += [
            'val_dataloader = dict(batch_size=2, num_workers=0, '
            'persistent_workers=False, '
            f'dataset=dict(data_root={photos!r}, indices=2))',
            'test_dataloader = val_dataloader',
        ]
    if cfg.optim_wrapper.get('type') == 'AmpOptimWrapper':
        lines.append("optim_wrapper = dict(_delete_=True, type='OptimWrapper',"
                     ' optimizer={{_base_.optim_wrapper.optimizer}})')
    path = tmp_path / ('small_' + osp.basename(config))
    path.write_text('\n'.join(lines) + '\n' + extra)
    return cfg, str(path)


def train_records(work_dir):
    """The per-iteration scalars MMEngine wrote (LoggerHook interval 1)."""
    (path, ) = glob.glob(osp.join(str(work_dir), '*', 'vis_data',
                                  'scalars.json'))
    with open(path) as f:
        return [json.loads(line) for line in f if '"loss"' in line]


@pytest.mark.parametrize(
    'config,hook_index,budget,smallest',
    RECIPES,
    ids=[osp.basename(r[0])[:-3] for r in RECIPES])
def test_recipe_trains_at_smallest_and_full_size(tmp_path, photo_folder,
                                                 config, hook_index, budget,
                                                 smallest):
    cfg, small = small_data_config(tmp_path, config, photo_folder)
    hook = cfg.custom_hooks[hook_index]
    assert hook['type'] == 'EfficientTrainHook'
    work_dir = tmp_path / 'work'
    out = train(small, work_dir, '--cfg-options',
                f'custom_hooks.{hook_index}.budget={budget}').stdout

    assert f'model check passed at stage 1 size {smallest}x{smallest}' in out
    assert 'curriculum finished' in out
    if hook.get('drop_path_reference_budget'):
        assert f'drop-path scaled by budget {budget:g} / 200' in out
    records = train_records(work_dir)
    sizes = [r['curriculum/size'] for r in records]
    assert sizes[0] == smallest and sizes[-1] == 224
    assert all(math.isfinite(r['loss']) for r in records)


def readme_first_snippet():
    with open(osp.join(ROOT, 'README.md')) as f:
        return re.search(r'```python\n(.*?)```', f.read(), re.S).group(1)


def test_the_readme_first_snippet_trains_as_written(tmp_path, photo_folder):
    """The README's first snippet (MMPretrain's own Swin-T recipe and the
    hook line) trains from 96 to 224 px on real photos with no model edit;
    with adapt_model=False the dry run refuses, naming the fix."""
    snippet = tmp_path / 'readme_snippet.py'
    snippet.write_text(readme_first_snippet())
    assert "_base_ = 'mmpretrain::swin_transformer/" in snippet.read_text()
    _, small = small_data_config(tmp_path, str(snippet), photo_folder)
    out = train(small, tmp_path / 'work', '--cfg-options',
                'custom_hooks.0.budget=1').stdout
    assert ('backbone: SwinTransformer -> ResolutionAdaptiveSwinTransformer'
            in out)
    sizes = [r['curriculum/size'] for r in train_records(tmp_path / 'work')]
    assert sizes == [96, 96, 160, 224]  # budget 1 in iterations of 2 photos
    refused = train(small, tmp_path / 'refused', '--cfg-options',
                    'custom_hooks.0.budget=1',
                    'custom_hooks.0.adapt_model=False', check=False)
    assert refused.returncode != 0
    assert ("Known fix: model.backbone.type='ResolutionAdaptiveSwin"
            'Transformer\'' in refused.stdout)


MAE = RECIPES[4][0]
SMALL_MAE = """
model = dict(
    backbone=dict(arch=dict(_delete_=True, embed_dims=64, num_layers=2,
                            num_heads=4,
                            feedforward_channels=128)),
    neck=dict(embed_dim=64, decoder_embed_dim=32, decoder_depth=1,
              decoder_num_heads=2))
"""


def test_mae_reconstruction_loss_decreases_across_stage_changes(
        tmp_path, photo_folder):
    """A small ViT of the MAE recipe on the four photos: 96 px, then 160,
    then 224; the loss (normalised pixels, so comparable across sizes)
    falls over the run."""
    _, small = small_data_config(
        tmp_path, MAE, photo_folder, extra=SMALL_MAE, images=4)
    work_dir = tmp_path / 'work'
    out = train(small, work_dir, '--cfg-options', 'custom_hooks.0.budget=6',
                'randomness.seed=0').stdout
    assert 'stage 3/10 from epoch' in out  # the first 160 px stage
    records = train_records(work_dir)
    sizes = [r['curriculum/size'] for r in records]
    assert {96, 160, 224} <= set(sizes)
    losses = [r['loss'] for r in records]
    first, last = losses[:4], losses[-4:]
    assert sum(last) / 4 < 0.8 * sum(first) / 4, losses


def test_model_that_cannot_take_a_stage_size_fails_before_training(
        tmp_path, photo_folder):
    _, small = small_data_config(
        tmp_path,
        MAE,
        photo_folder,
        extra=SMALL_MAE + "model['backbone']['type'] = 'MAEViT'\n")
    proc = train(
        small,
        tmp_path / 'work',
        '--cfg-options',
        'custom_hooks.0.budget=1',
        # the hook would turn MMPretrain's MAEViT into the variant itself
        'custom_hooks.0.adapt_model=False',
        check=False)
    assert proc.returncode != 0
    assert ('MAE(backbone=MAEViT, neck=ResolutionAdaptiveMAEPretrainDecoder,'
            ' head=MAEPretrainHead) cannot train at stage 1 size 96x96'
            in proc.stdout)
    assert "model.backbone.type='ResolutionAdaptiveMAEViT'" in proc.stdout
    assert 'Epoch(train)' not in proc.stdout
