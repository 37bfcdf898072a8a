"""Show the same training images at every input size of a config's
curriculum.

Reads the config's ``EfficientTrainHook``, takes the first images of its
train dataset through the config's test pipeline (so they are at the
recipe's full size, without random augmentation), and applies the hook's own
low-frequency step (Lanczos down-sampling, or the exact Fourier crop for
``low_frequency='fourier'``/``'device'``) at each distinct stage size. One
row per size, one column per image; every panel is drawn at the same extent,
so a smaller image shows as coarser pixels of the same picture.

Example::

    python tools/visualization/show_stage_images.py \\
        configs/fashion_mnist/resnet18-w8_etpp-b10_1xb128_fmnist.py \\
        --out docs/images/stage_images_fmnist.png
"""
import copy
import sys
from typing import List, Tuple

import matplotlib

matplotlib.use('Agg')  # files only, no display needed

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from mmpretrain.registry import DATASETS  # noqa: E402

import etpp_mm  # noqa: E402,F401  registers the transforms and the hook
from etpp_mm.analysis import curriculum_of_config  # noqa: E402
from etpp_mm.analysis.cli import config_arg_parser, load_config  # noqa: E402
from etpp_mm.analysis.plan import dataset_cfg_with_pipeline  # noqa: E402


def parse_args(argv=None):
    parser = config_arg_parser(
        'Show the same train images at every stage size of a curriculum')
    parser.add_argument(
        '--num-images', type=int, default=6, help='images per row')
    parser.add_argument(
        '--out', default='stage_images.png', help='PNG file to write')
    parser.add_argument('--dpi', type=int, default=100)
    args = parser.parse_args(argv)
    if args.num_images < 1:
        parser.error(f'--num-images must be at least 1, got '
                     f'{args.num_images}')
    return args


def size_spans(plan) -> List[Tuple[Tuple[int, int], str]]:
    """Each distinct stage size in training order, with the stages and the
    share of compute it covers.

    Example:
        >>> from etpp_mm.curriculum import build_plan, preset_stages
        >>> mode, stages = preset_stages('etpp', (28, 28), size_divisor=4)
        >>> plan = build_plan(stages, mode, 15, (28, 28), budget=10,
        ...                   size_divisor=4)
        >>> [size for size, _ in size_spans(plan)]
        [(12, 12), (20, 20), (28, 28)]
    """
    rows = []
    for index, stage in enumerate(plan.stages):
        begin = plan.compute_fraction(stage.begin_epoch)
        end = plan.compute_fraction(stage.begin_epoch + stage.epochs)
        if rows and rows[-1][0] == stage.size:
            rows[-1][1].append(index + 1)
            rows[-1][3] = end
        else:
            rows.append([stage.size, [index + 1], begin, end])
    labels = []
    for size, stages, begin, end in rows:
        which = (f'stage {stages[0]}' if len(stages) == 1 else
                 f'stages {stages[0]}-{stages[-1]}')
        labels.append((tuple(size), f'{size[0]}x{size[1]} px\n{which}\n'
                       f'compute {100 * begin:.0f}-{100 * end:.0f}%'))
    return labels


def full_size_images(cfg, count: int) -> List[np.ndarray]:
    """The first ``count`` train images after the test pipeline (without
    its final packing), as NumPy arrays."""
    dataset_cfg = dataset_cfg_with_pipeline(cfg.train_dataloader.dataset)
    test_dataset = cfg.get('test_dataloader', None) or cfg.val_dataloader
    pipeline = [
        copy.deepcopy(t) for t in test_dataset['dataset']['pipeline']
        if t['type'] not in ('PackInputs', 'PackClsInputs')
    ]
    dataset_cfg = dict(dataset_cfg, pipeline=pipeline, indices=count)
    dataset = DATASETS.build(dataset_cfg)
    return [np.asarray(dataset[i]['img']) for i in range(len(dataset))]


def draw(images, rows, step, title, out, dpi):
    grey = images[0].ndim == 2 or images[0].shape[-1] == 1
    fig, axes = plt.subplots(
        len(rows),
        len(images),
        figsize=(1.6 * len(images) + 1.2, 1.6 * len(rows) + 0.6),
        squeeze=False)
    for r, (size, label) in enumerate(rows):
        for c, img in enumerate(images):
            ax = axes[r, c]
            shown = step.apply(img, size) if tuple(img.shape[:2]) != size \
                else img
            if grey:
                ax.imshow(
                    np.squeeze(shown), cmap='gray', vmin=0, vmax=255,
                    interpolation='nearest')
            else:  # MMPretrain pipelines carry BGR
                ax.imshow(shown[..., ::-1], interpolation='nearest')
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r, 0].set_ylabel(label, fontsize=8)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(out, dpi=dpi)
    plt.close(fig)


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args)
    try:  # curriculum_of_config also sets the default scope
        result = curriculum_of_config(cfg, args.iters_per_epoch or 1)
        images = full_size_images(cfg, args.num_images)
    except (OSError, RuntimeError, ValueError) as err:
        sys.exit(f'error: {err}')
    plan = result.plan
    title = (f'{args.config}\nthe same train images at each stage size '
             f'({plan.mode}, {plan.total_epochs} real epochs)')
    draw(images, size_spans(plan), result.resolver.low_frequency_step(),
         title, args.out, args.dpi)
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
