"""FLOPs speed-up estimate (pure arithmetic and tool) and the picture tool."""
import importlib.util
import json
import os.path as osp
import sys

import pytest
from conftest import ROOT, run_tool
from PIL import Image

from etpp_mm.curriculum import Stage, build_plan
from etpp_mm.curriculum.flops import plan_compute, sizes_of_plan

ESTIMATE = osp.join(ROOT, 'tools', 'analysis', 'estimate_speedup.py')
SHOW = osp.join(ROOT, 'tools', 'visualization', 'show_frequency_crop.py')
CONFIGS = osp.join(ROOT, 'tests', 'configs')


def _hand_plan():
    # etpp, budget 10 of a 20-epoch recipe at 8x8: half the budget at 4x4
    # (cost 1/4: 20 real epochs), half at 8x8 (5 real epochs).
    return build_plan([Stage(0.5, (4, 4)), Stage(0.5, (8, 8))],
                      'etpp',
                      recipe_epochs=20,
                      full_size=(8, 8),
                      budget=10)


def test_plan_compute_exact_numbers():
    plan = _hand_plan()
    assert [s.epochs for s in plan.stages] == [20, 5]
    assert sizes_of_plan(plan) == [(8, 8), (4, 4)]
    # Fixed cost 40 on top of 1 FLOP per pixel: small sizes are dearer than
    # their pixels say.
    result = plan_compute(plan, {(4, 4): 56.0, (8, 8): 104.0, (2, 2): 1.0})
    assert [s.compute for s in result.stages] == [20 * 56.0, 5 * 104.0]
    assert result.stages[0].relative_flops == pytest.approx(56 / 104)
    assert result.stages[0].pixel_cost == 0.25
    assert result.plan_compute == 1640.0
    assert result.recipe_compute == 2080.0
    assert result.equivalent_epochs == pytest.approx(1640 / 104)
    assert result.speedup == pytest.approx(2080 / 1640)
    assert result.pixel_speedup == pytest.approx(2.0)


def test_plan_compute_needs_every_size():
    plan = _hand_plan()
    with pytest.raises(KeyError, match=r'\(4, 4\)'):
        plan_compute(plan, {(8, 8): 104.0})
    with pytest.raises(ValueError, match='positive'):
        plan_compute(plan, {(8, 8): 104.0, (4, 4): 0.0})


def _estimate(config):
    proc = run_tool([
        sys.executable, ESTIMATE,
        osp.join(CONFIGS, config), '--json', '--iters-per-epoch', '1251'
    ])
    # Only JSON on stdout: the tracer's warnings are silenced.
    return json.loads(proc.stdout[proc.stdout.index('{'):])


def test_estimate_resnet50_etpp_near_paper():
    out = _estimate(
        osp.join(ROOT, 'configs', 'imagenet',
                 'resnet50_etpp-b200_8xb256-rsb-a2_in1k.py'))
    assert 1.45 <= out['flops_speedup'] <= 1.55
    assert out['pixel_speedup'] == pytest.approx(1.5, abs=0.005)
    assert out['recipe_epochs'] == 300
    assert [s['size'] for s in out['stages']][:2] == [[96, 96], [96, 96]]
    # ResNet-50 at 224: about 4.1 GFLOPs (multiply-adds) per image.
    assert 4.0 < out['full_gflops'] < 4.2


def test_estimate_resnet50_et_near_paper():
    out = _estimate('resnet50_et.py')
    assert 1.50 <= out['flops_speedup'] <= 1.56
    assert [s['epochs'] for s in out['stages']] == [60] * 5


def test_picture_tool_writes_png(tmp_path):
    out = tmp_path / 'grid.png'
    run_tool([
        sys.executable, SHOW, '--skimage', 'camera', '--sizes', '96',
        '--dpi', '50', '--out',
        str(out)
    ])
    with Image.open(out) as img:
        # 2 columns (original + 96) x 6 rows (3 methods x image/spectrum),
        # 2.2 inches each, at 50 dpi.
        assert img.format == 'PNG'
        assert img.size == (220, 660)


def test_picture_tool_refuses_unknown_photo():
    # In-process: a second interpreter would cost seconds for an error path.
    spec = importlib.util.spec_from_file_location('show_frequency_crop',
                                                  SHOW)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    with pytest.raises(ValueError, match='no_such_photo'):
        tool.load_image(skimage_name='no_such_photo')
    # A wide photo is resized and centre-cropped to 224 x 224.
    assert tool.load_image(skimage_name='chelsea').shape == (224, 224, 3)


def test_plot_tool_writes_the_curriculum_png(tmp_path, fmnist_root):
    out = tmp_path / 'plan.png'
    proc = run_tool([
        sys.executable,
        osp.join(ROOT, 'tools', 'analysis', 'plot_curriculum.py'),
        osp.join(CONFIGS, 'fmnist_tiny.py'), '--iters-per-epoch', '4',
        '--dpi', '40', '--out',
        str(out)
    ])
    assert f'wrote {out}' in proc.stdout
    with Image.open(out) as img:
        assert img.format == 'PNG'
        assert img.size == (400, 300)  # 10 x 7.5 inches at 40 dpi


def _load_tool(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def test_stage_images_show_each_size_with_the_hooks_operator(
        tmp_path, fmnist_root):
    from mmengine.config import Config

    from etpp_mm.analysis import curriculum_of_config
    from etpp_mm.ops import fourier_crop, low_frequency_downsample
    path = osp.join(ROOT, 'tools', 'visualization', 'show_stage_images.py')
    tool = _load_tool(path, 'show_stage_images')
    config = osp.join(CONFIGS, 'fmnist_tiny.py')
    cfg = Config.fromfile(config)
    result = curriculum_of_config(cfg, 4)
    spans = tool.size_spans(result.plan)
    first_use = []
    for stage in result.plan.stages:
        if tuple(stage.size) not in first_use:
            first_use.append(tuple(stage.size))
    assert [size for size, _ in spans] == first_use
    assert spans[0][1].split('\n')[2].startswith('compute 0-')
    assert spans[-1][1].endswith('-100%')

    images = tool.full_size_images(cfg, 3)
    assert [(img.shape, img.dtype.name) for img in images] == \
        [((28, 28), 'uint8')] * 3
    small = result.resolver.low_frequency_step().apply(images[0], (12, 12))
    assert (small == low_frequency_downsample(images[0], 12)).all()
    result.resolver.low_frequency = 'fourier'
    small = result.resolver.low_frequency_step().apply(images[0], (12, 12))
    assert (small == fourier_crop(images[0], 12)).all()

    out = tmp_path / 'stages.png'
    proc = run_tool([
        sys.executable, path, config, '--num-images', '2', '--dpi', '40',
        '--out',
        str(out)
    ])
    assert f'wrote {out}' in proc.stdout
    with Image.open(out) as img:
        # (1.6 x 2 + 1.2) x (1.6 x rows + 0.6) inches at 40 dpi
        assert img.size == (176, round(40 * (1.6 * len(spans) + 0.6)))
