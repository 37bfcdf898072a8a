from .efficient_train_hook import EfficientTrainHook
from .epoch_clock import EpochClock
from .recipe_schedules import RecipeSchedules
from .replay_control import ReplayControl
from .resolver import CurriculumResolver, ResolvedCurriculum
from .sample_clock import SampleClock

__all__ = [
    'EfficientTrainHook', 'CurriculumResolver', 'ResolvedCurriculum',
    'EpochClock', 'RecipeSchedules', 'ReplayControl', 'SampleClock'
]
