"""Evaluation of pre-trained backbones: the weighted k-NN vote on frozen
features (``knn``, pure PyTorch) and its run on a checkpoint built from its
config (``frozen``)."""
from .frozen import (KNN_DATASETS, build_labelled_set, check_knn_datasets,
                     extract_features, knn_top1_of_checkpoint)
from .knn import knn_predict, pooled_features

__all__ = [
    'KNN_DATASETS', 'build_labelled_set', 'check_knn_datasets',
    'extract_features', 'knn_predict', 'knn_top1_of_checkpoint',
    'pooled_features'
]
