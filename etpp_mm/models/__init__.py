"""Model-side components, registered in ``mmpretrain.registry.MODELS`` on
import."""
from .adapt import adapt_to_any_size
from .data_preprocessor import LowFrequencyDataPreprocessor
from .drop_path import scale_drop_path, scale_drop_path_by_budget
from .efficientformer import ResolutionAdaptiveAttentionWithBias
from .mae import (ResolutionAdaptiveMAEHiViT,
                  ResolutionAdaptiveMAEPretrainDecoder,
                  ResolutionAdaptiveMAEViT)
from .swin import ResolutionAdaptiveSwinTransformer

__all__ = [
    'LowFrequencyDataPreprocessor', 'ResolutionAdaptiveMAEViT',
    'ResolutionAdaptiveMAEHiViT',
    'ResolutionAdaptiveMAEPretrainDecoder', 'ResolutionAdaptiveSwinTransformer',
    'ResolutionAdaptiveAttentionWithBias', 'scale_drop_path',
    'scale_drop_path_by_budget', 'adapt_to_any_size'
]
