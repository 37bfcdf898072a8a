"""Data-side systems techniques: replay of loaded samples (pure PyTorch)."""
from .replay import (AUTO, AutoReplayFactor, ReplayBuffer, ReplayLoader,
                     balancing_replay_factor, replay_buffer_bytes,
                     replay_factors, sample_nbytes, to_compact)
from .replay_fifo import stacks_tensors

__all__ = [
    'AUTO', 'AutoReplayFactor', 'ReplayBuffer', 'ReplayLoader',
    'balancing_replay_factor', 'replay_buffer_bytes', 'replay_factors',
    'sample_nbytes', 'stacks_tensors', 'to_compact'
]
