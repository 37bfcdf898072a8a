"""Evaluation of pre-trained backbones (pure PyTorch)."""
from .knn import knn_predict, pooled_features

__all__ = ['knn_predict', 'pooled_features']
