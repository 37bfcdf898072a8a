"""Per-image cost of train pipelines at each curriculum stage, with the
augmentation at full size (the papers' order) and at the stage size, side
by side.

Runs the train pipelines of the Swin-T and ResNet-50 RSB-A2 ImageNet
configs (MMPretrain's recipes, RandAugment included) on a folder of JPEGs
made from scikit-image's photos, and the Fashion-MNIST recipe's on real
Fashion-MNIST images, as ``EfficientTrainHook`` drives them. Rounds are
interleaved (both orders, every size, each round) and medians reported, so
a busy machine slows all of them alike. Run it single-threaded, as a data
loader worker runs::

    OMP_NUM_THREADS=1 python tools/analysis/benchmark_loader.py
"""
import argparse
import json
import os.path as osp
import sys

from mmengine.config import Config
from mmengine.registry import init_default_scope

import etpp_mm  # noqa: F401  registers the transforms
from etpp_mm.analysis.cli import logs_to_stderr

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# etpp_bench, the benchmark harness, is not installed with etpp_mm: it is
# imported from the checkout this tool belongs to
sys.path.insert(0, ROOT)
from etpp_bench.loader_bench import (compare_orders,  # noqa: E402
                                     make_jpeg_folder)

RECIPES = {
    'swin-t': 'configs/imagenet/swin-tiny_etpp-b200_16xb64_in1k.py',
    'resnet50-a2': 'configs/imagenet/resnet50_etpp-b200_8xb256-rsb-a2_in1k.py',
    'fmnist': 'configs/fashion_mnist/resnet18-w8_etpp-b10_1xb128_fmnist.py',
}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--recipes', nargs='+', default=list(RECIPES),
                        choices=list(RECIPES))
    parser.add_argument('--jpegs', type=int, default=100,
                        help='JPEGs in the generated folder')
    parser.add_argument('--fmnist-images', type=int, default=2000)
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--jpeg-dir', default='work_dirs/loader_jpegs',
                        help='where the JPEG folder is written (reused)')
    parser.add_argument('--fmnist-root', default='data/fashion_mnist')
    parser.add_argument('--json', action='store_true', help='print JSON')
    return parser.parse_args()


def recipe(name):
    cfg = Config.fromfile(osp.join(ROOT, RECIPES[name]))
    hook = next(h for h in cfg.custom_hooks
                if h['type'] == 'EfficientTrainHook')
    return cfg, cfg.train_dataloader.dataset.pipeline, dict(hook)


def fmnist_samples(cfg, root, count):
    from mmpretrain.registry import DATASETS
    dataset_cfg = dict(cfg.train_dataloader.dataset)
    dataset_cfg.update(data_root=root, pipeline=[], indices=count)
    dataset = DATASETS.build(dataset_cfg)
    return [dataset[i] for i in range(len(dataset))]


def main():
    args = parse_args()
    init_default_scope('mmpretrain')
    results = {}
    with logs_to_stderr():
        paths = None
        for name in args.recipes:
            cfg, steps, hook = recipe(name)
            if name == 'fmnist':
                samples = fmnist_samples(cfg, args.fmnist_root,
                                         args.fmnist_images)
            else:
                paths = paths or make_jpeg_folder(args.jpeg_dir, args.jpegs)
                samples = [dict(img_path=p) for p in paths]
            results[name] = compare_orders(
                steps, hook, samples, args.rounds,
                log=lambda m, n=name: print(f'{n}: {m}', flush=True))
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print('| recipe | size | full order us/img | ratio | stage order us/img '
          '| ratio | PSNR median / 5th pct (dB) |')
    print('|---|---|---:|---:|---:|---:|---|')
    for name, result in results.items():
        for row in result['rows']:
            size = 'x'.join(map(str, row['size']))
            if row['psnr_median'] is None:
                quality = 'identical'
            else:
                quality = (f'{row["psnr_median"]:.1f} / '
                           f'{row["psnr_p5"]:.1f}')
                if row['identical']:
                    quality += f' ({row["identical"]} identical)'
            print(f'| {name} | {size} | {row["full_us"]:.0f} | '
                  f'{row["full_ratio"]:.2f}x | {row["stage_us"]:.0f} | '
                  f'{row["stage_ratio"]:.2f}x | {quality} |')
    print(f'{args.rounds} interleaved rounds, medians; ratios to the '
          "papers' order at full size")


if __name__ == '__main__':
    main()
