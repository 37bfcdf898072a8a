from .clock import Clock
from .efficient_train_hook import EfficientTrainHook
from .epoch_clock import EpochClock
from .recipe_schedules import RecipeSchedules
from .replay_control import ReplayControl
from .sample_clock import SampleClock

__all__ = [
    'Clock', 'EfficientTrainHook', 'EpochClock', 'RecipeSchedules',
    'ReplayControl', 'SampleClock'
]
