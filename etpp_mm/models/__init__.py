"""Model-side components, registered in ``mmpretrain.registry.MODELS`` on
import."""
from .data_preprocessor import LowFrequencyDataPreprocessor

__all__ = ['LowFrequencyDataPreprocessor']
