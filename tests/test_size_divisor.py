"""size_divisor='auto': the divisor read from real MMPretrain models, the
model left as it was, and the plan built with it."""
import copy

import pytest
import torch
from mmcv.transforms import Compose
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS
from torch import nn

from conftest import ROOT
from etpp_mm.analysis import curriculum_of_config
from etpp_mm.attach import CurriculumOptions, attach_curriculum
from etpp_mm.attach.model_stride import size_divisor_of, total_stride

RECIPE = (f'{ROOT}/configs/fashion_mnist/'
          'resnet18-w8_etpp-b10_1xb128_fmnist-20k.py')
SMALL_VIT = dict(embed_dims=32, num_layers=1, num_heads=2,
                 feedforward_channels=64)


def build(**cfg):
    init_default_scope('mmpretrain')
    return MODELS.build(cfg)


def crop_pipeline(size):
    init_default_scope('mmpretrain')
    return Compose([dict(type='RandomResizedCrop', scale=size),
                    dict(type='PackInputs')])


def test_resnet_takes_its_total_stride_or_the_power_of_two_below():
    divisor, reason = size_divisor_of(build(type='ResNet', depth=18), 224)
    assert divisor == 32
    assert reason == "ResNet's total stride 32 (its output is 7x7 at 224x224)"
    # 28 px Fashion-MNIST: 32 does not divide 28, 4 does (1 input channel)
    divisor, reason = size_divisor_of(
        build(type='ResNet', depth=18, in_channels=1), 28)
    assert divisor == 4
    assert "ResNet's total stride 32" in reason
    assert '4 is the largest power of two below it' in reason


def test_vit_takes_its_patch_size_and_the_plan_follows():
    vit = build(type='VisionTransformer', arch=SMALL_VIT, patch_size=16,
                img_size=384)
    assert size_divisor_of(vit, 384) == (16, "VisionTransformer's patch "
                                         'size 16')
    messages = []
    attached = attach_curriculum([crop_pipeline(384)], 300,
                                 CurriculumOptions(), messages.append,
                                 model=vit)
    sizes = sorted({s.size for s in attached.plan.stages})
    assert sizes == [(160, 160), (272, 272), (384, 384)]
    assert all(h % 16 == 0 and w % 16 == 0 for h, w in sizes)
    assert messages[0] == (
        "size_divisor='auto': 16 (VisionTransformer's patch size 16; "
        'EfficientTrainHook.size_divisor=N sets it)')
    # an int is used as given: the etpp sizes at 384 without rounding
    plain = attach_curriculum([crop_pipeline(384)], 300,
                              CurriculumOptions(size_divisor=1))
    assert sorted({s.size[0] for s in plain.plan.stages}) == [165, 274, 384]


def test_convnext_pools_but_its_convolutions_give_the_stride():
    convnext = build(type='ConvNeXt', arch='atto')  # pooled (B, C) output
    divisor, reason = size_divisor_of(convnext, 384)
    assert divisor == 32
    assert 'smallest convolution output is 12x12 at 384x384' in reason


def test_the_probe_leaves_the_model_and_the_generators_as_they_were():
    resnet = build(type='ResNet', depth=18)
    resnet.train()
    before = copy.deepcopy(resnet.state_dict())
    size_divisor_of(resnet, 64)
    assert resnet.training
    after = resnet.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    # MAE masks its tokens with the global generator
    mae = build(type='MAEViT', arch=SMALL_VIT, img_size=32, patch_size=4)
    rng = torch.get_rng_state()
    assert size_divisor_of(mae, 32)[0] == 4
    assert torch.equal(torch.get_rng_state(), rng)
    assert mae.training


class NeedsAMask(nn.Module):

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 4)

    def forward(self, x, mask):
        return self.linear(x)


def test_a_model_that_cannot_be_probed_gives_1_and_why():
    divisor, reason = size_divisor_of(NeedsAMask(), 64)
    assert divisor == 1
    assert reason.startswith('NeedsAMask could not be probed: its forward '
                             'of a 1x3x64x64 zero image failed (TypeError')
    messages = []
    plan = attach_curriculum([crop_pipeline(64)], 30, CurriculumOptions(),
                             messages.append, model=NeedsAMask()).plan
    assert messages[0].startswith("size_divisor='auto': 1 (NeedsAMask")
    assert sorted({s.size[0] for s in plan.stages}) == [27, 46, 64]


def test_without_a_model_auto_is_1_and_says_so():
    messages = []
    attach_curriculum([crop_pipeline(64)], 30, CurriculumOptions(),
                      messages.append)
    assert messages[0] == ("size_divisor='auto': 1 (no model to read it "
                           'from; EfficientTrainHook.size_divisor=N sets it)')


def test_own_stage_sizes_are_kept():
    """The divisor also divides your own table's sizes: 'auto' never
    refuses a table an int of 1 accepts."""
    resnet = build(type='ResNet', depth=18, in_channels=1)
    messages = []
    plan = attach_curriculum(
        [crop_pipeline(28)], 6,
        CurriculumOptions(stages=[dict(share=0.5, size=14),
                                  dict(share=0.5, size=28)]),
        messages.append, model=resnet).plan
    assert [s.size[0] for s in plan.stages] == [14, 28]
    assert messages[0].startswith("size_divisor='auto': 2 (")
    assert ("divides the train size 28x28 and your stages' sizes"
            in messages[0])


def test_the_main_job_reads_the_divisor_it_sets():
    """The Fashion-MNIST ResNet-18 (CIFAR stem, stride 8, 1 channel) at
    28 px reads 4, the config's own size_divisor: same plan either way."""
    cfg = Config.fromfile(RECIPE)
    hook = next(h for h in cfg.custom_hooks
                if h['type'] == 'EfficientTrainHook')
    assert hook['size_divisor'] == 4
    explicit = curriculum_of_config(cfg, iters_per_epoch=157).plan
    hook.pop('size_divisor')
    auto = curriculum_of_config(cfg, iters_per_epoch=157).plan
    assert auto == explicit
    assert sorted({s.size[0] for s in auto.stages}) == [12, 20, 28]


def test_total_stride_reads_rounded_feature_maps():
    # ceil at 100 px through a stride-32 network: 50, 25, 13, 7, 4
    assert total_stride(100, 4) == 32
    assert total_stride(384, 24) == 16
    assert total_stride(224, 32) == 7  # a patch size of 7


@pytest.mark.parametrize('value, error', [
    ('x', "size_divisor must be a positive int or 'auto', got 'x'"),
    (0, "size_divisor must be a positive int or 'auto', got 0"),
])
def test_bad_values_are_refused(value, error):
    assert CurriculumOptions().size_divisor == 'auto'
    with pytest.raises(ValueError, match=f'EfficientTrainHook.{error}'):
        CurriculumOptions(size_divisor=value)
