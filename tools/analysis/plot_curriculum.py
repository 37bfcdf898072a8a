"""Plot the EfficientTrain curriculum a config will run.

Draws the input size, the scheduled RandAugment magnitude and the learning
rate, against real epochs (left) and against compute progress (right), into
one PNG. The LR is the recipe's schedule replayed where the hook puts it
(in ET++ mode along compute progress), sampled at every epoch; the recipe's
own LR curve is drawn beside it.

Example::

    python tools/analysis/plot_curriculum.py \\
        configs/fashion_mnist/resnet18-w8_etpp-b10_1xb128_fmnist.py \\
        --out docs/images/curriculum_fmnist.png
"""
import sys

import matplotlib

matplotlib.use('Agg')  # files only, no display

import matplotlib.pyplot as plt  # noqa: E402

from etpp_mm.analysis import curriculum_of_config  # noqa: E402
from etpp_mm.analysis.cli import config_arg_parser, load_config  # noqa: E402
from etpp_mm.analysis.plan import (find_hook_cfgs, lr_at_compute,  # noqa
                                   lr_at_recipe_steps)


def parse_args(argv=None):
    parser = config_arg_parser('Plot the EfficientTrain curriculum of a '
                               'config (size, magnitude, LR)')
    parser.add_argument(
        '--out', default='curriculum.png', help='PNG file to write')
    parser.add_argument('--dpi', type=int, default=100)
    return parser.parse_args(argv)


def curves(cfg, result):
    """Per real epoch boundary: epoch, compute, size, magnitude, LR; and the
    recipe's own LR against its epochs."""
    plan, ipe = result.plan, result.iters_per_epoch
    epochs = list(range(plan.total_epochs + 1))
    compute = [plan.compute_fraction(e) for e in epochs]
    stage_of = [plan.stage_index_at(min(e, plan.total_epochs - 1))
                for e in epochs]
    sizes = [plan.stages[i].size[0] for i in stage_of]
    magnitudes = [
        plan.stages[i].stage.params.get('RandAugment',
                                        {}).get('magnitude_level')
        for i in stage_of
    ]
    if plan.mode == 'etpp':  # the hook's warm-up rule included
        lrs = lr_at_compute(cfg, plan, compute, ipe, find_hook_cfgs(cfg)[0])
    else:
        lrs = lr_at_recipe_steps(cfg, [e * ipe for e in epochs], ipe)
    recipe_epochs = list(range(plan.recipe_epochs + 1))
    recipe_lrs = lr_at_recipe_steps(cfg, [e * ipe for e in recipe_epochs],
                                    ipe)
    return dict(
        epochs=epochs,
        compute=compute,
        sizes=sizes,
        magnitudes=magnitudes,
        lrs=lrs,
        recipe_epochs=recipe_epochs,
        recipe_lrs=recipe_lrs)


def draw(c, title, out, dpi):
    fig, axes = plt.subplots(3, 2, figsize=(10, 7.5), sharex='col')
    has_magnitude = any(m is not None for m in c['magnitudes'])
    for column, (x, label) in enumerate(
        ((c['epochs'], 'real epochs'), (c['compute'],
                                        'compute progress (fraction)'))):
        axes[0, column].step(x, c['sizes'], where='post')
        axes[0, column].set_ylabel('input size (px)')
        if has_magnitude:
            axes[1, column].step(
                x, [m if m is not None else float('nan')
                    for m in c['magnitudes']],
                where='post',
                color='tab:orange')
        else:
            axes[1, column].text(
                0.5,
                0.5,
                'no RandAugment in the train pipeline',
                ha='center',
                va='center',
                transform=axes[1, column].transAxes)
        axes[1, column].set_ylabel('RandAugment magnitude')
        axes[2, column].plot(x, c['lrs'], color='tab:green',
                             label='curriculum')
        axes[2, column].set_ylabel('learning rate')
        axes[2, column].set_xlabel(label)
    # the recipe's LR against its own epochs (left) and its own progress
    # (right): in ET++ mode the right-hand curves coincide
    recipe_progress = [
        e / c['recipe_epochs'][-1] for e in c['recipe_epochs']
    ]
    axes[2, 0].plot(c['recipe_epochs'], c['recipe_lrs'], '--',
                    color='grey', label='recipe')
    axes[2, 1].plot(recipe_progress, c['recipe_lrs'], '--', color='grey',
                    label='recipe (its own progress)')
    for ax in axes[2]:
        ax.legend(loc='upper right', fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(out, dpi=dpi)
    plt.close(fig)


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args)
    try:
        result = curriculum_of_config(cfg, args.iters_per_epoch)
    except (RuntimeError, ValueError) as err:
        sys.exit(f'error: {err}')
    plan = result.plan
    title = (f'{args.config}\n{plan.mode}: {plan.total_epochs} real epochs, '
             f'{plan.equivalent_epochs:.1f} equivalent of the recipe\'s '
             f'{plan.recipe_epochs} ({plan.speedup:.2f}x less compute)')
    draw(curves(cfg, result), title, args.out, args.dpi)
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
