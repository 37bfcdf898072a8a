"""k-NN top-1 of a checkpoint's frozen backbone, from its config: the model
and the labelled sets are built the MMPretrain way, the vote is
:func:`~etpp_mm.evaluation.knn.knn_predict`. Used by
``tools/analysis/knn_eval.py`` and by ``tools/benchmark.py --knn``."""
from typing import Any, Dict, Optional, Tuple

import torch
from mmengine.config import Config
from mmengine.dataset import default_collate
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint
from mmpretrain.models import SelfSupDataPreprocessor
from mmpretrain.registry import DATASETS, MODELS
from torch.utils.data import DataLoader

from .knn import knn_predict, pooled_features

# The config keys of the labelled sets: references, then images to classify.
KNN_DATASETS = ('knn_train_dataset', 'knn_test_dataset')


def check_knn_datasets(cfg: Config, name: str) -> None:
    """Raise ``ValueError`` unless ``cfg`` has both labelled sets (set, not
    ``None``).

    Example:
        >>> cfg = Config(dict(knn_train_dataset=dict(type='FashionMNIST'),
        ...                   knn_test_dataset=None))
        >>> check_knn_datasets(cfg, 'r.py')
        Traceback (most recent call last):
        ...
        ValueError: r.py has no knn_test_dataset: add the labelled dataset \
(with a test-time pipeline) to evaluate on
    """
    for key in KNN_DATASETS:
        if not cfg.get(key, None):
            raise ValueError(f'{name} has no {key}: add the labelled dataset '
                             '(with a test-time pipeline) to evaluate on')


def build_labelled_set(cfg: Config, key: str, images: Optional[int] = None):
    """The dataset ``cfg[key]``, its first ``images`` images when given."""
    dataset_cfg = dict(cfg[key])
    if images is not None:
        dataset_cfg['indices'] = images
    return DATASETS.build(dataset_cfg)


@torch.no_grad()
def extract_features(model: torch.nn.Module, dataset,
                     batch_size: int = 256) -> Tuple[torch.Tensor,
                                                     torch.Tensor]:
    """One pooled feature per image of ``dataset`` (through the model's
    data preprocessor and ``extract_feat``), and the labels."""
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


def knn_top1_of_checkpoint(cfg: Config,
                           checkpoint: str,
                           k: int = 20,
                           temperature: float = 0.07,
                           train_images: Optional[int] = None,
                           test_images: Optional[int] = None,
                           batch_size: int = 256) -> Dict[str, Any]:
    """Weighted k-NN top-1 (in %) of the backbone in ``checkpoint``.

    Args:
        cfg (Config): the pre-training config: its ``model``, and the
            labelled sets ``knn_train_dataset`` (references) and
            ``knn_test_dataset`` (classified).
        checkpoint (str): the checkpoint file.
        k (int): neighbours that vote.
        temperature (float): votes weigh ``exp(similarity / temperature)``.
        train_images, test_images (int, optional): the first N images of
            each set (default: all).
        batch_size (int): images per forward pass.

    Returns:
        dict: ``checkpoint``, ``epoch`` (from its meta, ``None`` if it does
        not say), ``k``, ``temperature``, ``train_images`` and
        ``test_images`` (the counts used) and ``top1``.
    """
    check_knn_datasets(cfg, cfg.filename or 'the config')
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    model = MODELS.build(cfg.model)
    loaded = load_checkpoint(model, checkpoint, map_location='cpu',
                             logger=None)
    model.eval()
    train_set = build_labelled_set(cfg, KNN_DATASETS[0], train_images)
    test_set = build_labelled_set(cfg, KNN_DATASETS[1], test_images)
    train_features, train_labels = extract_features(model, train_set,
                                                    batch_size)
    test_features, test_labels = extract_features(model, test_set,
                                                  batch_size)
    predictions = knn_predict(
        train_features,
        train_labels,
        test_features,
        k=k,
        temperature=temperature,
        num_classes=len(train_set.metainfo.get('classes', ())) or None)
    top1 = 100.0 * (predictions == test_labels).float().mean().item()
    epoch = (loaded.get('meta') or {}).get('epoch') \
        if isinstance(loaded, dict) else None
    return dict(
        checkpoint=checkpoint,
        epoch=epoch,
        k=k,
        temperature=temperature,
        train_images=len(train_set),
        test_images=len(test_set),
        top1=top1)
