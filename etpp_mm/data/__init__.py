"""Data-side systems techniques: replay of loaded samples, batches that
carry their curriculum stage (pure PyTorch)."""
from .replay import (AUTO, MIX, REPLAY_MODES, WHOLE, AutoReplayFactor,
                     ReplayBuffer, ReplayLoader, balancing_replay_factor,
                     fresh_chunks, replay_buffer_bytes, replay_factors,
                     sample_nbytes, to_compact)
from .replay_fifo import stacks_tensors
from .stage_batch import (StageBatchSampler, StageDataset, StageHolder,
                          stage_loader)

__all__ = [
    'AUTO', 'MIX', 'REPLAY_MODES', 'WHOLE', 'AutoReplayFactor',
    'ReplayBuffer', 'ReplayLoader', 'balancing_replay_factor',
    'fresh_chunks', 'replay_buffer_bytes', 'replay_factors', 'sample_nbytes',
    'stacks_tensors', 'to_compact', 'StageBatchSampler', 'StageDataset',
    'StageHolder', 'stage_loader'
]
