"""Seconds per training step of a recipe's model, by input size and batch.

A curriculum saves wall time only where a small step costs less than a
large one; on CPUs and at small sizes a step does not shrink with its
pixels, and a larger batch (early large batch) is what restores the saving.
This module times real ``train_step`` calls (forward, backward, optimizer)
of a config's classifier on random images, on the CPU or a GPU, every
(size, batch) pair interleaved round by round so that the ratios are taken
side by side.
"""
import copy
import functools
import time
from dataclasses import dataclass
from typing import Callable, List, Sequence, Tuple, Union

import torch
from mmengine.config import Config
from mmengine.model import revert_sync_batchnorm
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from etpp_bench.timing import interleaved_timings
from etpp_mm.analysis.flops import input_channels, prepare_model_cfg
from etpp_mm.analysis.plan import plain_optim_wrapper_cfg
from etpp_mm.models import adapt_to_any_size

SizeBatch = Tuple[int, int]


@dataclass
class StepTime:
    """Median seconds of one step at ``size`` x ``size`` with ``batch``."""
    size: int
    batch: int
    seconds: float

    @property
    def per_sample(self) -> float:
        return self.seconds / self.batch

    @property
    def rate(self) -> float:
        """Samples per second."""
        return self.batch / self.seconds


def step_at(times: Sequence[StepTime], size: int, batch: int) -> StepTime:
    """The step of ``times`` at ``size`` and ``batch``.

    Example:
        >>> step_at([StepTime(28, 8, 0.4), StepTime(12, 8, 0.1)], 12, 8).rate
        80.0
    """
    return next(t for t in times if t.size == size and t.batch == batch)


class TrainStep:
    """One real training step of ``cfg.model`` (an MMPretrain classifier)
    with the recipe's optimizer, on random images: ``step(size, batch)``.

    Args:
        cfg (Config): the recipe.
        device (str | torch.device): where the model trains; random inputs
            are made there. Default: ``'cpu'``.
        adapt_model (bool): make the model take every stage size first, as
            ``EfficientTrainHook(adapt_model=True)`` does before training
            (Swin's window follows the size). Default: False.
    """

    def __init__(self,
                 cfg: Config,
                 device: Union[str, torch.device] = 'cpu',
                 adapt_model: bool = False):
        init_default_scope(cfg.get('default_scope', 'mmpretrain'))
        model_cfg, _ = prepare_model_cfg(cfg)
        # as MMEngine's Runner: the top-level data preprocessor (batch
        # augments such as Mixup/CutMix, num_classes) joins the model
        if cfg.get('data_preprocessor', None) is not None:
            model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
        self.device = torch.device(device)
        # one process, as MMEngine's Runner without a launcher: SyncBN
        # would wait for a process group
        self.model = revert_sync_batchnorm(MODELS.build(model_cfg))
        if adapt_model:
            adapt_to_any_size(self.model)
        # BaseModel.to also points the data preprocessor at the device
        self.model.to(self.device)
        self.model.train()
        # a GPU trains as the recipe says (AMP included); AmpOptimWrapper
        # refuses to build without one
        self.wrapper_cfg = copy.deepcopy(cfg.optim_wrapper) \
            if self.device.type == 'cuda' else plain_optim_wrapper_cfg(cfg)
        self.optim_wrapper = build_optim_wrapper(
            self.model, copy.deepcopy(self.wrapper_cfg))
        self.channels = input_channels(cfg)
        self.classes = (model_cfg.get('head', None)
                        or {}).get('num_classes', 10)

    def __call__(self, size: int, batch: int) -> None:
        data = dict(
            inputs=torch.randint(
                0, 256, (batch, self.channels, size, size),
                dtype=torch.uint8,
                device=self.device),
            data_samples=[
                DataSample().set_gt_label(i % self.classes)
                for i in range(batch)
            ])
        self.train_on(data)

    def train_on(self, data: dict) -> None:
        """One step on a loaded batch (the loader's output); returns once
        the device has finished it, so a timer around it times the work and
        not its queueing."""
        self.model.train_step(data, self.optim_wrapper)
        if self.device.type == 'cuda':
            torch.cuda.synchronize(self.device)


def time_steps(step: Callable[[int, int], None],
               pairs: Sequence[SizeBatch],
               rounds: int = 3,
               steps: int = 3,
               warmup: int = 1,
               clock: Callable[[], float] = time.perf_counter
               ) -> List[StepTime]:
    """Median seconds per step for each ``(size, batch)`` pair.

    Every round times ``steps`` steps of each pair in turn (after
    ``warmup`` untimed steps of each pair), so a slow spell of a shared
    machine falls on all pairs alike (:func:`~etpp_bench.timing.
    interleaved_timings`).

    Example:
        >>> calls = []
        >>> times = iter(range(100))
        >>> result = time_steps(lambda s, b: calls.append((s, b)),
        ...                     [(12, 4), (28, 1)], rounds=2, steps=1,
        ...                     warmup=0, clock=lambda: next(times))
        >>> calls
        [(12, 4), (28, 1), (12, 4), (28, 1)]
        >>> [(t.size, t.batch, t.seconds) for t in result]
        [(12, 4, 1.0), (28, 1, 1.0)]
    """
    medians = interleaved_timings(
        {pair: functools.partial(step, *pair)
         for pair in pairs},
        rounds,
        number=steps,
        warmup=warmup,
        clock=clock).medians
    return [StepTime(size, batch, medians[(size, batch)])
            for size, batch in pairs]


def format_step_table(times: Sequence[StepTime], full_size: int,
                      base_batch: int) -> str:
    """A Markdown table: seconds per step and per sample, and both as
    ratios to the full-size step at the recipe's batch.

    Example:
        >>> print(format_step_table([StepTime(28, 8, 0.4),
        ...                          StepTime(12, 8, 0.1),
        ...                          StepTime(12, 32, 0.32)], 28, 8))
        | size | batch | s/step | step vs full size | s/sample | sample vs full size | pixels vs full size |
        |---|---|---|---|---|---|---|
        | 28 | 8 | 0.4000 | 1.00x | 0.05000 | 1.00x | 1.00x |
        | 12 | 8 | 0.1000 | 0.25x | 0.01250 | 0.25x | 0.18x |
        | 12 | 32 | 0.3200 | 0.80x | 0.01000 | 0.20x | 0.18x |
    """
    reference = step_at(times, full_size, base_batch)
    lines = [
        '| size | batch | s/step | step vs full size | s/sample | '
        'sample vs full size | pixels vs full size |',
        '|---|---|---|---|---|---|---|',
    ]
    for t in times:
        lines.append(
            f'| {t.size} | {t.batch} | {t.seconds:.4f} | '
            f'{t.seconds / reference.seconds:.2f}x | {t.per_sample:.5f} | '
            f'{t.per_sample / reference.per_sample:.2f}x | '
            f'{(t.size / full_size) ** 2:.2f}x |')
    return '\n'.join(lines)


def scaled_pairs(sizes: Sequence[int], full_size: int, base_batch: int,
                 scales: Sequence[int]) -> List[SizeBatch]:
    """``(size, batch)`` pairs: every size at the recipe's batch, and each
    reduced size also at ``batch x scale`` for each scale that keeps the
    pixels per batch at most the full-size batch's.

    Example:
        >>> scaled_pairs([28, 20, 12], 28, 8, [2, 4, 5])
        [(28, 8), (20, 8), (12, 8), (12, 16), (12, 32), (12, 40)]
    """
    pairs = []
    for size in sizes:
        pairs.append((size, base_batch))
        if size == full_size:
            continue
        for scale in scales:
            if scale > 1 and scale * size * size <= full_size * full_size:
                pairs.append((size, base_batch * scale))
    return pairs
