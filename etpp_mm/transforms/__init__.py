"""Data-pipeline transforms, registered in ``mmpretrain.registry.TRANSFORMS``
on import."""
from .crop_resize import RandomCropResize
from .low_frequency import (FourierCrop, LowFrequencyDownsample,
                            LowFrequencyTransform)
from .reduced_decode import LoadImageAndRandomResizedCrop
from .stage_sync import CurriculumStageSync, SharedStageIndex

__all__ = [
    'LowFrequencyTransform', 'FourierCrop', 'LowFrequencyDownsample',
    'CurriculumStageSync', 'SharedStageIndex', 'LoadImageAndRandomResizedCrop',
    'RandomCropResize'
]
