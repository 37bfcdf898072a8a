"""The node benchmark: where a curriculum's small stages lose their time on
this machine, and the settings that win it back.

For every distinct stage size of a recipe's curriculum it measures

- the training step alone (:mod:`etpp_bench.step_time`: random inputs, the
  recipe's model and optimizer) at the recipe's batch, at the batch
  ``batch_scale='auto'`` would use and at any batches asked for;
- the train loader alone (:mod:`etpp_bench.loader_bench`: the recipe's
  dataset, pipelines driven by the curriculum, collate and workers), at the
  batch the recipe as configured uses at that size;
- both together: the same loader feeding real training steps, the batches
  of a training run without the hook's bookkeeping around them;

and, from those rates, recommends per stage a batch multiple
(``batch_scale``), a replay factor and the loader's workers, each with its
reason (:mod:`etpp_bench.node_advice`: pure functions of the measured rates);
and times the recipe's optimizer step alone in each implementation torch
has for it (:mod:`etpp_bench.optimizer_time`), recommending the fastest.
"""
import copy
import functools
from dataclasses import dataclass
from typing import Any, Callable, List, Optional, Sequence, Tuple

from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from etpp_bench.loader_bench import (DrivenStages, busy_loaders,
                                     first_stage_of_each_size,
                                     images_per_second, sampling_loader)
from etpp_bench.node_advice import (StageAdvice, batches_to_time,
                                    expected_rate, rate_text,
                                    recommend_stage, recommend_workers)
from etpp_bench.optimizer_time import OptimizerTime, time_optimizers
from etpp_bench.step_time import StepTime, TrainStep, step_at, time_steps
from etpp_bench.timing import interleaved_samples
from etpp_mm.attach import CurriculumOptions, train_pipelines
from etpp_mm.attach.loader_setup import collate_name, setup_collate
from etpp_mm.curriculum.batching import stage_batch_scales
from etpp_mm.models import LowFrequencyDataPreprocessor
from etpp_mm.utils import drop_collate_scope

HOOK = 'EfficientTrainHook'


@dataclass
class StageRates:
    """What was measured at one stage size.

    Attributes:
        size (int): the stage's side.
        stage (int): the plan's first stage of that size.
        batch (int): the batch the recipe as configured uses there.
        loader (float): images/s of the loader per training process.
        end_to_end (float): images/s of the loader feeding the step.
    """
    size: int
    stage: int
    batch: int
    loader: float = 0.0
    end_to_end: float = 0.0


def hook_of(cfg: Config, overrides: Optional[dict] = None) -> dict:
    """The config's ``EfficientTrainHook`` entry with ``overrides``, or one
    made of ``overrides`` alone when the config has none.

    Example:
        >>> cfg = Config(dict(custom_hooks=[dict(type=HOOK, budget=10)]))
        >>> hook_of(cfg, dict(batch_scale='auto'))
        {'type': 'EfficientTrainHook', 'budget': 10, 'batch_scale': 'auto'}
        >>> hook_of(Config(dict()), None)
        Traceback (most recent call last):
        ...
        ValueError: the config has no EfficientTrainHook: give its options \
with --hook (e.g. --hook preset=etpp budget=200)
    """
    hooks = [
        dict(h) for h in cfg.get('custom_hooks', None) or []
        if h.get('type') == HOOK
    ]
    if not hooks and not overrides:
        raise ValueError(f'the config has no {HOOK}: give its options with '
                         '--hook (e.g. --hook preset=etpp budget=200)')
    hook = hooks[0] if hooks else dict(type=HOOK)
    hook.update(overrides or {})
    return hook


class NodeBenchmark:
    """A recipe's step, loader and both together at each stage size.

    Args:
        cfg (Config): the recipe (with ``--cfg-options`` merged).
        hook (dict): its ``EfficientTrainHook`` entry (:func:`hook_of`).
        device (str): where the model trains.
        procs (int): training processes on the node (one per GPU): their
            loaders share the CPU cores, so the loader is measured with as
            many loading at once.
        log (callable): progress lines.
    """

    def __init__(self,
                 cfg: Config,
                 hook: dict,
                 device: str = 'cpu',
                 procs: int = 1,
                 log: Callable[[str], Any] = print):
        self.cfg, self.hook, self.procs, self.log = cfg, hook, procs, log
        options = CurriculumOptions.from_hook_cfg(hook).replace(replay=None)
        self.options = options
        init_default_scope(cfg.get('default_scope', 'mmpretrain'))
        self.step = TrainStep(cfg, device, adapt_model=options.adapt_model)
        loader_cfg = copy.deepcopy(cfg.train_dataloader)
        self.base = loader_cfg['batch_size']
        self.workers = loader_cfg.get('num_workers', 0)
        if procs > 1 and self.workers == 0:
            raise ValueError('several training processes share the node '
                             'only through loader workers: set '
                             'train_dataloader.num_workers > 0 or procs 1')
        self.pin_memory = self.step.device.type == 'cuda' and \
            loader_cfg.get('pin_memory', False)
        self.prefetch = loader_cfg.get('prefetch_factor', None) or 2
        # its dataset and collate are what is used: its workers never start
        loader_cfg['persistent_workers'] = False
        recipe_loader = Runner.build_dataloader(loader_cfg)
        drop_collate_scope(recipe_loader)
        self.dataset = recipe_loader.dataset
        pipelines = train_pipelines(self.dataset)
        setup_collate(recipe_loader, options.collate, self.step.model,
                      pipelines, log)
        self.collate_fn = recipe_loader.collate_fn
        self.stages = DrivenStages(pipelines,
                                   options,
                                   cfg.train_cfg.max_epochs,
                                   model=self.step.model)
        plan = self.plan = self.stages.plan
        self.full = plan.full_size[0]
        self.preprocessor = None
        if options.low_frequency == 'device':
            model = self.step.model
            model.data_preprocessor = LowFrequencyDataPreprocessor(
                preprocessor=model.data_preprocessor)
            self.preprocessor = model.data_preprocessor
        sizes = [s.size for s in plan.stages]
        accumulate = cfg.optim_wrapper.get('accumulative_counts', 1)
        iters = -(-len(self.dataset) // (procs * self.base))
        self.steps_per_epoch = -(-iters // accumulate)
        auto = stage_batch_scales('auto', sizes, plan.full_size,
                                  self.steps_per_epoch)
        configured = stage_batch_scales(options.batch_scale or 1, sizes,
                                        plan.full_size, self.steps_per_epoch)
        self.rates = []
        self.auto = {}
        for stage in first_stage_of_each_size(plan):
            size = sizes[stage][0]
            self.auto[size] = auto[stage]
            self.rates.append(
                StageRates(size, stage, self.base * configured[stage]))

    @property
    def collate(self) -> str:
        return collate_name(self.collate_fn)

    def _set_stage(self, rates: StageRates) -> None:
        self.stages.set(rates.stage)
        if self.preprocessor is not None:
            self.preprocessor.size = None if rates.size == self.full \
                else self.plan.stages[rates.stage].size

    def time_steps(self,
                   extra: Sequence[int] = (),
                   rounds: int = 3,
                   steps: int = 3) -> List[StepTime]:
        """The step table: every size at the batches of
        :func:`batches_to_time`, random inputs, interleaved rounds."""
        pairs = []
        for r in sorted(self.rates, key=lambda r: -r.size):
            scale = r.batch // self.base
            for batch in batches_to_time(self.base, self.auto[r.size], scale,
                                         extra, r.size, self.full):
                pairs.append((r.size, batch))
        if self.preprocessor is not None:
            self.preprocessor.size = None  # random inputs come stage-sized
        self.log(f'timing the step: {len(pairs)} (size, batch) pairs, '
                 f'{rounds} rounds of {steps} steps')
        return time_steps(self.step, pairs, rounds=rounds, steps=steps)

    def time_optimizer(self,
                       rounds: int = 3,
                       steps: int = 5) -> List[OptimizerTime]:
        """The recipe's optimizer step alone, in each implementation torch
        has for it (:func:`time_optimizers`)."""
        self.log(f'timing the optimizer step: {rounds} rounds of {steps} '
                 'steps per implementation')
        return time_optimizers(self.step.model, self.step.wrapper_cfg,
                               rounds, steps)

    def smallest_step(self, times: Sequence[StepTime]) -> float:
        """Seconds of a step at the smallest stage size, at the batch the
        recipe as configured trains it at."""
        small = min(self.rates, key=lambda r: r.size)
        return step_at(times, small.size, small.batch).seconds

    def _loader(self, rates: StageRates, batches: int, seed: int):
        return sampling_loader(self.dataset, rates.batch, batches,
                               self.workers, self.collate_fn, seed,
                               self.pin_memory, self.prefetch)

    def _rate(self, rates: StageRates, batches: int, warmup: int,
              consume: Optional[Callable[[Any], Any]]) -> float:
        self._set_stage(rates)
        # the other processes' loaders, seeded apart, outlast the measured
        # one (or are made again)
        with busy_loaders(
                lambda i: self._loader(rates, 2 * (batches + warmup), i),
                self.procs - 1):
            loader = self._loader(rates, batches + warmup, 0)
            kwargs = {} if consume is None else dict(consume=consume)
            return images_per_second(iter(loader), warmup, **kwargs)

    def measure_rates(self,
                      loader_batches: int = 20,
                      e2e_batches: int = 10,
                      rounds: int = 3,
                      warmup: Optional[int] = None) -> None:
        """Fill :attr:`rates`: the loader alone, then loader and step
        together, each stage size once a round, medians over rounds.

        By default the clock starts after the batches the workers
        prefetch, and one more: a loader slower than the step would
        otherwise look faster by the batches it had ready.
        """
        if warmup is None:
            warmup = self.prefetch * self.workers + 1
        for what, batches, consume in (('loader', loader_batches, None),
                                       ('end_to_end', e2e_batches,
                                        self.step.train_on)):
            self.log(f'timing {what.replace("_", " ")}: {rounds} rounds of '
                     f'{batches} batches after {warmup} warm-up batch(es) '
                     f'at each of {len(self.rates)} sizes')
            medians = interleaved_samples(
                {
                    r.size:
                    functools.partial(self._rate, r, batches, warmup, consume)
                    for r in self.rates
                },
                rounds,
                alternate=True).medians
            for r in self.rates:
                setattr(r, what, medians[r.size])

    def advise(self, times: Sequence[StepTime], cores: int,
               step_cores: int) -> Tuple[List[StageAdvice], Tuple[int, str]]:
        """:func:`recommend_stage` at every size, then
        :func:`recommend_workers`."""
        full_rate = step_at(times, self.full, self.base).rate
        advice = []
        for r in self.rates:
            step_rates = {t.batch: t.rate for t in times if t.size == r.size}
            advice.append(
                recommend_stage(r.size, self.full, self.base, step_rates,
                                full_rate, r.loader, r.batch, self.workers))
        needed = {
            a.size: step_at(times, a.size, a.scale * self.base).rate
            for a in advice
        }
        loaders = {r.size: r.loader for r in self.rates}
        return advice, recommend_workers(self.workers, loaders, needed, cores,
                                         step_cores)


def format_stage_table(rates: Sequence[StageRates], times: Sequence[StepTime],
                       advice: Sequence[StageAdvice], full: int,
                       workers: int) -> str:
    """A Markdown table: per stage size the step, the loader and both
    together at the configured batch, what the two alone lead one to
    expect, and which bounds the stage.

    Example:
        >>> times = [StepTime(28, 8, 0.008), StepTime(12, 8, 0.002)]
        >>> rates = [StageRates(12, 0, 8, 2000.0, 1900.0),
        ...          StageRates(28, 2, 8, 2000.0, 950.0)]
        >>> advice = [StageAdvice(12, 'loader', 1.36, 1, 2, 4000.0),
        ...           StageAdvice(28, 'step', 1.0, 1, 1, 1000.0)]
        >>> print(format_stage_table(rates, times, advice, 28, 1))
        ... # doctest: +NORMALIZE_WHITESPACE
        | size | pixels vs full size | batch | step img/s | loader img/s | \
end to end img/s | expected img/s | overhead | bound |
        |---|---|---|---|---|---|---|---|---|
        | 12 | 0.18x | 8 | 4000 | 2000 | 1900 | 2000 | 1.36x | loader |
        | 28 | 1.00x | 8 | 1000 | 2000 | 950 | 1000 | 1.00x | step |
    """
    by_size = {a.size: a for a in advice}
    lines = [
        '| size | pixels vs full size | batch | step img/s | loader img/s '
        '| end to end img/s | expected img/s | overhead | bound |',
        '|---|---|---|---|---|---|---|---|---|',
    ]
    for r in rates:
        step = step_at(times, r.size, r.batch).rate
        a = by_size[r.size]
        lines.append(
            f'| {r.size} | {(r.size / full)**2:.2f}x | {r.batch} | '
            f'{rate_text(step)} | {rate_text(r.loader)} | '
            f'{rate_text(r.end_to_end)} | '
            f'{rate_text(expected_rate(step, r.loader, 1, workers))} | '
            f'{a.overhead:.2f}x | {a.bound} |')
    return '\n'.join(lines)
