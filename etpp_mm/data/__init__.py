"""Data-side systems techniques: replay of loaded samples (pure PyTorch)."""
from .replay import (ReplayBuffer, ReplayLoader, balancing_replay_factor,
                     replay_buffer_bytes, replay_factors, sample_nbytes,
                     to_compact)

__all__ = [
    'ReplayBuffer', 'ReplayLoader', 'balancing_replay_factor',
    'replay_buffer_bytes', 'replay_factors', 'sample_nbytes', 'to_compact'
]
