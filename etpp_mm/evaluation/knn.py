"""Weighted k-nearest-neighbour classification of frozen features, the
usual quick probe of self-supervised backbones (pure PyTorch)."""
from typing import Optional

import torch
import torch.nn.functional as F


def knn_predict(train_features: torch.Tensor,
                train_labels: torch.Tensor,
                test_features: torch.Tensor,
                k: int = 20,
                temperature: float = 0.07,
                num_classes: Optional[int] = None,
                chunk_size: int = 1024) -> torch.Tensor:
    """Predict a class for each test feature from its ``k`` nearest train
    features by cosine similarity, each neighbour voting with weight
    ``exp(similarity / temperature)``.

    Example:
        >>> import torch
        >>> train = torch.tensor([[1., 0.], [0.9, 0.1], [0., 1.], [0.1, 1.]])
        >>> labels = torch.tensor([0, 0, 1, 1])
        >>> knn_predict(train, labels, torch.tensor([[1., 0.2], [0.2, 1.]]),
        ...             k=2).tolist()
        [0, 1]
    """
    if k < 1 or k > len(train_features):
        raise ValueError(f'k must be in [1, {len(train_features)}] (the '
                         f'number of train features), got {k}')
    if temperature <= 0:
        raise ValueError(f'temperature must be positive, got {temperature}')
    num_classes = num_classes or int(train_labels.max()) + 1
    train = F.normalize(train_features.float(), dim=1)
    predictions = []
    for start in range(0, len(test_features), chunk_size):
        test = F.normalize(test_features[start:start + chunk_size].float(),
                           dim=1)
        similarity, index = (test @ train.t()).topk(k, dim=1)
        votes = torch.zeros(len(test), num_classes)
        votes.scatter_add_(1, train_labels[index],
                           (similarity / temperature).exp())
        predictions.append(votes.argmax(dim=1))
    return torch.cat(predictions)


def pooled_features(outputs) -> torch.Tensor:
    """One vector per image from a backbone's outputs (MMPretrain returns a
    tuple; the last stage is used): feature maps are averaged over space,
    token sequences over tokens.

    Example:
        >>> import torch
        >>> pooled_features((torch.ones(2, 8, 3, 3), )).shape
        torch.Size([2, 8])
    """
    if isinstance(outputs, (tuple, list)):
        outputs = outputs[-1]
    if isinstance(outputs, (tuple, list)):  # e.g. (patch tokens, cls token)
        outputs = outputs[-1]
    if outputs.dim() == 4:
        return outputs.mean(dim=(2, 3))
    if outputs.dim() == 3:
        return outputs.mean(dim=1)
    return outputs
