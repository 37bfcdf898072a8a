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
import torch
from mmengine.dataset import default_collate
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint
from mmpretrain.models import SelfSupDataPreprocessor
from mmpretrain.registry import DATASETS, MODELS
from torch.utils.data import DataLoader

from etpp_mm.analysis.cli import (add_cfg_options, load_config,
                                  logs_to_stderr)
from etpp_mm.evaluation import knn_predict, pooled_features


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


def build_dataset(cfg, key, images):
    if key not in cfg:
        sys.exit(f'error: {cfg.filename} has no {key}: add the labelled '
                 'dataset (with a test-time pipeline) to evaluate on')
    dataset_cfg = dict(cfg[key])
    if images is not None:
        dataset_cfg['indices'] = images
    return DATASETS.build(dataset_cfg)


@torch.no_grad()
def extract(model, dataset, batch_size):
    features, labels = [], []
    loader = DataLoader(
        dataset, batch_size=batch_size, collate_fn=default_collate)
    self_supervised = isinstance(model.data_preprocessor,
                                 SelfSupDataPreprocessor)
    for batch in loader:
        if self_supervised:  # it takes a list of views: here one
            batch = dict(batch, inputs=[batch['inputs']])
        data = model.data_preprocessor(batch, training=False)
        inputs = data['inputs']
        if self_supervised:
            inputs = inputs[0]
        features.append(pooled_features(model.extract_feat(inputs)))
        labels += [int(s.gt_label) for s in batch['data_samples']]
    return torch.cat(features), torch.tensor(labels)


def main(argv=None):
    args = parse_args(argv)
    with logs_to_stderr():
        cfg = load_config(args)
        init_default_scope(cfg.get('default_scope', 'mmpretrain'))
        model = MODELS.build(cfg.model)
        load_checkpoint(
            model, args.checkpoint, map_location='cpu', logger=None)
        model.eval()
        train_set = build_dataset(cfg, 'knn_train_dataset',
                                  args.train_images)
        test_set = build_dataset(cfg, 'knn_test_dataset', args.test_images)
        train_features, train_labels = extract(model, train_set,
                                               args.batch_size)
        test_features, test_labels = extract(model, test_set,
                                             args.batch_size)
        predictions = knn_predict(
            train_features,
            train_labels,
            test_features,
            k=args.k,
            temperature=args.temperature,
            num_classes=len(train_set.metainfo.get('classes', ())) or None)
    top1 = 100.0 * (predictions == test_labels).float().mean().item()
    result = dict(
        checkpoint=args.checkpoint,
        k=args.k,
        temperature=args.temperature,
        train_images=len(train_set),
        test_images=len(test_set),
        top1=top1)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f'k-NN (k={args.k}, T={args.temperature}) top-1: {top1:.2f}% '
              f'({len(test_set)} test images, {len(train_set)} train '
              f'images, {args.checkpoint})')


if __name__ == '__main__':
    main()
