"""Self-supervised pre-training on Fashion-MNIST under the curriculum, and
the k-NN evaluation of its backbone, through the project's tools."""
import json
import os.path as osp
import sys

import pytest
import torch
from conftest import ROOT, run_tool, train

from etpp_mm.evaluation import knn_predict, pooled_features

MOCO = osp.join(ROOT, 'configs', 'fashion_mnist',
                'mocov3_resnet18-w8_etpp-b20_1xb256-coslr_fmnist.py')
MAE = osp.join(ROOT, 'configs', 'fashion_mnist',
               'mae_vit-tiny-p4_etpp-b20_1xb256-coslr_fmnist.py')
KNN = osp.join(ROOT, 'tools', 'analysis', 'knn_eval.py')


def test_knn_votes_by_similarity_weight():
    train = torch.tensor([[1., 0.], [0., 1.], [0., 1.]])
    labels = torch.tensor([0, 1, 1])
    # one very close neighbour of class 0 outweighs two far ones of class 1
    # at a low temperature, not at a high one
    test = torch.tensor([[1., 0.05]])
    assert knn_predict(train, labels, test, k=3, temperature=0.05) == 0
    assert knn_predict(train, labels, test, k=3, temperature=100.) == 1
    with pytest.raises(ValueError, match='k must be'):
        knn_predict(train, labels, test, k=4)
    assert pooled_features(torch.ones(2, 5, 7)).shape == (2, 7)


@pytest.mark.parametrize(
    'config, inserted',
    [
        # the default data path: each view's resized crop makes the stage
        # size itself
        (MOCO, 'RandomResizedCrop outputs each stage size'),
        (MAE, 'RandomResizedCrop outputs each stage size'),
    ],
    ids=['mocov3', 'mae'])
def test_ssl_pretraining_with_the_curriculum_and_knn(tmp_path, fmnist_root,
                                                     config, inserted):
    work_dir = tmp_path / 'ssl'
    out = train(config, work_dir, '--cfg-options', 'custom_hooks.0.budget=1',
                'train_dataloader.dataset.indices=64',
                'train_dataloader.batch_size=16',
                'default_hooks.checkpoint.interval=1').stdout
    assert inserted in out
    assert 'size 12x12' in out and 'size 28x28' in out
    checkpoint = osp.join(str(work_dir), 'epoch_2.pth')
    assert osp.isfile(checkpoint)
    proc = run_tool([
        sys.executable, KNN, config, checkpoint, '--json', '--k', '5',
        '--train-images', '200', '--test-images', '100'
    ])
    result = json.loads(proc.stdout[proc.stdout.index('{\n'):])
    assert result['train_images'] == 200 and result['test_images'] == 100
    assert 10.0 < result['top1'] <= 100.0  # above chance for 10 classes
