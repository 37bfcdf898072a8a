"""k-NN top-1 of a pre-trained backbone (frozen features).

Builds the config's model, loads the checkpoint, extracts one feature per
image with the model's ``extract_feat`` (MAE: the encoder without masking)
on a labelled train set and a labelled test set, pools it (feature maps:
spatial mean; tokens: mean), and classifies every test image by a weighted
vote of its ``k`` nearest train features (cosine similarity, weights
``exp(sim / T)``). The labelled sets are the config's ``knn_train_dataset``
and ``knn_test_dataset`` (dataset configs with a test-time pipeline).

Example::

    python tools/analysis/knn_eval.py \\
        configs/fashion_mnist/mocov3_resnet18-w8_1xb256-coslr-30e_fmnist.py \\
        work_dirs/mocov3_resnet18-w8_1xb256-coslr-30e_fmnist/epoch_30.pth
"""
import argparse
import json
import sys

import etpp_mm  # noqa: F401  isort: skip  first: registers models, quiets
from etpp_mm.analysis.cli import (add_cfg_options, load_config,
                                  logs_to_stderr)
from etpp_mm.evaluation import knn_top1_of_checkpoint


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='k-NN top-1 of a pre-trained backbone')
    parser.add_argument('config', help='the pre-training config')
    parser.add_argument('checkpoint', help='checkpoint to evaluate')
    parser.add_argument('--k', type=int, default=20)
    parser.add_argument('--temperature', type=float, default=0.07)
    parser.add_argument(
        '--train-images',
        type=int,
        default=None,
        help='use the first N images of knn_train_dataset (default: all)')
    parser.add_argument(
        '--test-images',
        type=int,
        default=None,
        help='use the first N images of knn_test_dataset (default: all)')
    parser.add_argument('--batch-size', type=int, default=256)
    parser.add_argument('--json', action='store_true', help='print JSON')
    add_cfg_options(parser)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    with logs_to_stderr():
        cfg = load_config(args)
        try:
            result = knn_top1_of_checkpoint(
                cfg, args.checkpoint, args.k, args.temperature,
                args.train_images, args.test_images, args.batch_size)
        except ValueError as err:
            sys.exit(f'error: {err}')
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"k-NN (k={args.k}, T={args.temperature}) top-1: "
              f"{result['top1']:.2f}% ({result['test_images']} test images, "
              f"{result['train_images']} train images, {args.checkpoint})")


if __name__ == '__main__':
    main()
