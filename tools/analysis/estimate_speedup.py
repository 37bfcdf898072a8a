"""Estimate a curriculum's speed-up from the model's real FLOPs.

Builds the config's model, counts with MMEngine's complexity analysis the
FLOPs of one image at the full size and at each stage size, and compares
the curriculum (sum over stages of real epochs x FLOPs(size)) with the
recipe (its epochs x FLOPs(full size)). The pixel-proportional figure of
``print_curriculum.py`` is printed beside it.

Example::

    python tools/analysis/estimate_speedup.py \
        configs/imagenet/resnet50_etpp-b200_8xb256-rsb-a2_in1k.py --iters-per-epoch 1251
    python tools/analysis/estimate_speedup.py CONFIG --json \
        --iters-per-epoch 1251 --cfg-options 'custom_hooks.0.budget=100'
"""
import json
import sys

from etpp_mm.analysis import curriculum_of_config
from etpp_mm.analysis.cli import (config_arg_parser, load_config,
                                  logs_to_stderr)
from etpp_mm.analysis.flops import (build_model_for_flops, flops_at_sizes,
                                input_channels)
from etpp_mm.curriculum.flops import plan_compute, sizes_of_plan


def parse_args(argv=None):
    return config_arg_parser(
        'Estimate the FLOPs speed-up of the EfficientTrain curriculum of a '
        'config over its recipe').parse_args(argv)


def _size_str(size):
    return f'{size[0]}x{size[1]}'


def to_json(result, notes):
    return dict(
        stages=[
            dict(
                size=list(s.size),
                epochs=s.epochs,
                gflops=s.flops / 1e9,
                relative_flops=s.relative_flops,
                pixel_cost=s.pixel_cost) for s in result.stages
        ],
        full_gflops=result.full_flops / 1e9,
        recipe_epochs=result.recipe_epochs,
        flops_equivalent_epochs=result.equivalent_epochs,
        flops_speedup=result.speedup,
        pixel_speedup=result.pixel_speedup,
        notes=notes)


def format_result(result, notes):
    lines = [f'note: {note}' for note in notes]
    lines.append(f'{"stage":>5} {"size":>9} {"epochs":>6} {"GFLOPs":>8} '
                 f'{"FLOPs/full":>10} {"pixels/full":>11}')
    for index, s in enumerate(result.stages):
        lines.append(f'{index:>5} {_size_str(s.size):>9} {s.epochs:>6.2f} '
                     f'{s.flops / 1e9:>8.3f} {s.relative_flops:>10.4f} '
                     f'{s.pixel_cost:>11.4f}')
    lines += [
        f'recipe: {result.recipe_epochs} epochs at '
        f'{result.full_flops / 1e9:.3f} GFLOPs per image',
        f'curriculum: {result.equivalent_epochs:.1f} full-size epochs of '
        'FLOPs',
        f'speed-up (FLOPs):  {result.speedup:.3f}x',
        f'speed-up (pixels): {result.pixel_speedup:.3f}x',
    ]
    return '\n'.join(lines)


def main(argv=None):
    args = parse_args(argv)
    try:
        with logs_to_stderr():
            cfg = load_config(args)
            plan = curriculum_of_config(cfg, args.iters_per_epoch).plan
            model, notes = build_model_for_flops(cfg)
            flops = flops_at_sizes(model, sizes_of_plan(plan),
                                   input_channels(cfg))
    except (RuntimeError, ValueError, KeyError) as err:
        sys.exit(f'error: {err}')
    result = plan_compute(plan, flops)
    if args.json:
        print(json.dumps(to_json(result, notes), indent=2))
    else:
        print(format_result(result, notes))


if __name__ == '__main__':
    main()
