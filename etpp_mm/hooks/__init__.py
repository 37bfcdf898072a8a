from .compute_clock import ComputeClock
from .efficient_train_hook import EfficientTrainHook
from .replay_control import ReplayControl
from .resolver import CurriculumResolver, ResolvedCurriculum

__all__ = [
    'EfficientTrainHook', 'CurriculumResolver', 'ResolvedCurriculum',
    'ComputeClock', 'ReplayControl'
]
