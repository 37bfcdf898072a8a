from .efficient_train_hook import EfficientTrainHook

__all__ = ['EfficientTrainHook']
