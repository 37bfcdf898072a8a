"""Per-image cost of a train pipeline as the curriculum drives it, at both
augmentation orders, measured side by side; and the images/s of a recipe's
train loader, its workers included, at a curriculum stage.

Used by ``tools/analysis/benchmark_loader.py`` and
``tools/analysis/benchmark_node.py``; the functions take live pipelines,
datasets and samples, so they work on any recipe.
"""
import contextlib
import copy
import functools
import os
import os.path as osp
import threading
import time
from typing import (Any, Callable, Dict, Iterator, List, Optional, Sequence,
                    Tuple)

import numpy as np
import torch
from mmcv.transforms import Compose
from torch.utils.data import DataLoader, RandomSampler

from etpp_bench.timing import interleaved_timings
from etpp_mm.attach import CurriculumOptions, attach_curriculum
from etpp_mm.transforms import SharedStageIndex

# Colour photos shipped with scikit-image, all at least 300 px a side.
PHOTOS = ('astronaut', 'coffee', 'chelsea', 'rocket', 'hubble_deep_field',
          'immunohistochemistry', 'retina', 'cat', 'coins', 'camera')


def make_jpeg_folder(root: str, count: int = 200, min_side: int = 400,
                     seed: int = 0,
                     size: Optional[Tuple[int, int]] = None) -> List[str]:
    """Write ``count`` JPEGs (PIL quality 90) made from scikit-image photos
    by random rescales, crops and flips; every side at least ``min_side``.

    Args:
        root (str): the folder (created if missing).
        count (int): the number of images.
        min_side (int): the shortest side of a crop.
        seed (int): seed of the rescales, crops and flips.
        size (tuple, optional): ``(width, height)`` of every crop instead
            of random sides from ``min_side`` up (ImageNet's photos average
            about 400 x 350).

    Returns:
        list[str]: the file paths (reused when already written).
    """
    from PIL import Image
    from skimage import data
    rng = np.random.RandomState(seed)
    if size is not None:
        min_side = max(size)
    os.makedirs(root, exist_ok=True)
    sources = []
    for name in PHOTOS:
        img = Image.fromarray(np.asarray(getattr(data, name)()))
        sources.append(img.convert('RGB'))
    paths = []
    for index in range(count):
        path = osp.join(root, f'img{index:04d}.jpg')
        paths.append(path)
        src = sources[index % len(sources)]
        # rescale so the short side is 1.0-1.6x min_side, then crop
        short = min(src.size)
        factor = min_side * rng.uniform(1.0, 1.6) / short
        scaled = tuple(max(min_side, int(s * factor)) for s in src.size)
        if osp.isfile(path):
            continue
        img = src.resize(scaled, Image.Resampling.BICUBIC)
        if size is None:
            w = rng.randint(min_side, scaled[0] + 1)
            h = rng.randint(min_side, scaled[1] + 1)
        else:
            w, h = size
        x = rng.randint(0, scaled[0] - w + 1)
        y = rng.randint(0, scaled[1] - h + 1)
        img = img.crop((x, y, x + w, y + h))
        if rng.rand() < 0.5:
            img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        img.save(path, quality=90)
    return paths


class DrivenStages:
    """Live train pipelines with a curriculum attached and driven, as
    ``EfficientTrainHook`` attaches and drives them.

    Args:
        pipelines (list[Compose]): the pipelines (edited in place).
        options (CurriculumOptions): the hook's options.
        recipe_epochs (int): the recipe's ``max_epochs``.
        model (nn.Module, optional): read by ``size_divisor='auto'``.

    Attributes:
        attached (AttachedCurriculum): the plan and what it drives.
        index (SharedStageIndex): the stage, read in every loader worker.
    """

    def __init__(self, pipelines: Sequence[Any], options: CurriculumOptions,
                 recipe_epochs: int, model: Optional[Any] = None):
        self.attached = attach_curriculum(pipelines, recipe_epochs, options,
                                          model=model)
        self.index = SharedStageIndex(0)
        self._syncs = self.attached.drive(self.index)

    @property
    def plan(self):
        return self.attached.plan

    def set(self, stage: int) -> None:
        """Switch to ``stage``: in this process at once, in workers started
        or running from now on at their next sample."""
        self.index.set(stage)
        for sync in self._syncs:
            sync.sync()


def driven_pipeline(steps: Sequence[dict], hook_cfg: dict,
                    augment_at: str, recipe_epochs: int = 300):
    """A train pipeline edited and driven as ``EfficientTrainHook`` does.

    Returns:
        tuple: ``(pipeline, plan, stage_index)``; ``stage_index.set(i)``
        switches the pipeline to stage ``i``.
    """
    pipeline = Compose(copy.deepcopy(list(steps)))
    options = CurriculumOptions.from_hook_cfg(hook_cfg).replace(
        augment_at=augment_at)
    driven = DrivenStages([pipeline], options, recipe_epochs)
    return pipeline, driven.plan, driven.index


def first_stage_of_each_size(plan) -> List[int]:
    firsts: Dict[tuple, int] = {}
    for index, stage in enumerate(plan.stages):
        firsts.setdefault(tuple(stage.size), index)
    return sorted(firsts.values(), key=lambda i: plan.stages[i].size[0])


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB of two uint8-range images (inf when equal).

    Example:
        >>> round(psnr(np.zeros(4), np.full(4, 255.)), 1)
        0.0
    """
    err = np.mean((a.astype(np.float64) - b.astype(np.float64))**2)
    return float('inf') if err == 0 else float(
        10 * np.log10(255.0**2 / err))


def _run(pipeline: Callable, samples: Sequence[dict],
         seed: int) -> List[Any]:
    np.random.seed(seed)
    return [pipeline(dict(sample)) for sample in samples]


def compare_orders(steps: Sequence[dict], hook_cfg: dict,
                   samples: Sequence[dict], rounds: int = 3,
                   log: Callable[[str], Any] = lambda m: None) -> dict:
    """Microseconds per image at each stage size, both orders, interleaved.

    Each round times every ``(size, order)`` pair once over all
    ``samples`` (same seed for both orders, so the crop boxes and the
    augmentation draws agree), every other round in reverse order;
    medians over rounds are reported. PSNR compares the two orders'
    outputs of the first round sample by sample.

    Returns:
        dict: ``{'rows': [{size, full_us, stage_us, full_ratio, stage_ratio,
        psnr_median, psnr_p5}], 'rounds': rounds, 'images': n}``, ratios
        to the papers' order at full size.
    """
    driven = {
        order: driven_pipeline(steps, hook_cfg, order)
        for order in ('full', 'stage')
    }
    plan = driven['full'][1]
    stages = first_stage_of_each_size(plan)
    # the round's seed: both orders draw the same crop boxes and augments
    seed = [0]
    firsts: Dict[tuple, List[Any]] = {}
    values: Dict[int, List[float]] = {}

    def timed(stage, order):
        pipeline, _, index = driven[order]

        def run():
            index.set(stage)
            outs = _run(pipeline, samples, seed[0])
            if seed[0] == 0:
                firsts[(stage, order)] = outs

        return run

    def round_done(round_):
        if round_ == 0:  # PSNR outside the timed calls
            for stage in stages:
                values[stage] = [
                    psnr(a['inputs'].numpy(), b['inputs'].numpy())
                    for a, b in zip(firsts.pop((stage, 'full')),
                                    firsts.pop((stage, 'stage')))
                ]
        seed[0] = round_ + 1
        log(f'round {round_ + 1}/{rounds} done')

    _run(driven['full'][0], samples[:4], 0)  # warm-up: caches, imports
    medians = interleaved_timings(
        {(stage, order): timed(stage, order)
         for stage in stages for order in ('full', 'stage')},
        rounds,
        warmup=0,
        alternate=True,
        after_round=round_done).medians
    times = {
        key: seconds / len(samples) * 1e6
        for key, seconds in medians.items()
    }
    full_stage = stages[-1]
    base = times[(full_stage, 'full')]
    rows = []
    for stage in stages:
        full_us = times[(stage, 'full')]
        stage_us = times[(stage, 'stage')]
        finite = [v for v in values[stage] if np.isfinite(v)]
        rows.append(
            dict(
                size=list(plan.stages[stage].size),
                full_us=full_us,
                stage_us=stage_us,
                full_ratio=full_us / base,
                stage_ratio=stage_us / base,
                identical=len(values[stage]) - len(finite),
                psnr_median=float(np.median(finite)) if finite else None,
                psnr_p5=float(np.percentile(finite, 5)) if finite else None))
    return dict(rows=rows, rounds=rounds, images=len(samples))


def _seed_worker(seed: int, worker_id: int) -> None:
    # forked workers would otherwise all draw the same augmentations
    np.random.seed(seed + worker_id)


def sampling_loader(dataset: Any,
                    batch: int,
                    batches: int,
                    workers: int,
                    collate_fn: Callable,
                    seed: int = 0,
                    pin_memory: bool = False,
                    prefetch_factor: Optional[int] = None) -> DataLoader:
    """A loader of exactly ``batches`` batches of ``batch`` samples drawn
    at random (with replacement) from ``dataset``: a measurement of any
    length on a dataset of any size, with no epoch end restarting the
    workers inside it.

    Args:
        dataset: the recipe's train dataset (pipelines included).
        batch (int): samples per batch.
        batches (int): batches in all.
        workers (int): loader worker processes (0: the main process).
        collate_fn (callable): the recipe's collate function.
        seed (int): seed of the draws and of the workers' NumPy.
        pin_memory (bool): page-locked batches, for a GPU.
        prefetch_factor (int, optional): batches each worker loads ahead
            (torch's default, 2, if None).

    Example:
        >>> loader = sampling_loader(list(range(3)), 4, 2, 0,
        ...                          torch.utils.data.default_collate)
        >>> [b.shape[0] for b in loader]
        [4, 4]
    """
    sampler = RandomSampler(dataset,
                            replacement=True,
                            num_samples=batch * batches,
                            generator=torch.Generator().manual_seed(seed))
    return DataLoader(dataset,
                      batch_size=batch,
                      sampler=sampler,
                      num_workers=workers,
                      collate_fn=collate_fn,
                      pin_memory=pin_memory,
                      drop_last=True,
                      prefetch_factor=prefetch_factor if workers else None,
                      worker_init_fn=functools.partial(_seed_worker, seed))


def batch_images(batch: Any) -> int:
    """Samples in a collated batch: stacked (a tensor) or per sample (a
    list, MMEngine's ``pseudo_collate``).

    Example:
        >>> batch_images(dict(inputs=torch.zeros(5, 3, 8, 8)))
        5
        >>> batch_images(dict(inputs=[torch.zeros(3, 8, 8)] * 2))
        2
    """
    inputs = batch['inputs'] if isinstance(batch, dict) else batch
    if isinstance(inputs, torch.Tensor):
        return inputs.shape[0]
    if isinstance(inputs, dict):  # one entry per view or modality
        return batch_images(next(iter(inputs.values())))
    if isinstance(inputs[0], (list, tuple)):  # views, each a batch
        return len(inputs[0])
    return len(inputs)


def images_per_second(batches: Iterator[Any],
                      warmup: int,
                      consume: Callable[[Any], Any] = lambda batch: None,
                      clock: Callable[[], float] = time.perf_counter
                      ) -> float:
    """Images/s of ``consume`` over ``batches``, leaving out the first
    ``warmup`` (workers starting, caches, the first steps' allocations).

    Args:
        batches (iterator): the batches (a loader's iterator).
        warmup (int): untimed batches first.
        consume (callable): called with each batch, inside the timing (a
            training step, for the end-to-end rate); by default nothing,
            which times the loader alone.
        clock (callable): seconds now. Default: ``time.perf_counter``.

    Example:
        >>> ticks = iter([0.0, 2.0])
        >>> batches = iter([[0] * 4] * 5)
        >>> images_per_second(batches, 1, clock=lambda: next(ticks))
        8.0
    """
    batches = iter(batches)
    for _ in range(warmup):
        consume(next(batches))
    images = 0
    start = clock()
    for batch in batches:
        consume(batch)
        images += batch_images(batch)
    seconds = clock() - start
    if images == 0:
        raise ValueError(f'no batches left after {warmup} warm-up batches')
    return images / seconds


@contextlib.contextmanager
def busy_loaders(make_loader: Callable[[int], DataLoader],
                 count: int) -> Iterator[None]:
    """``count`` more loaders drawn as fast as they load while the block
    runs: the other training processes of a node, whose workers share its
    CPU cores with the loader measured.

    A thread of this process takes their batches (their workers do the
    loading); each loader is made again when it runs out.

    Args:
        make_loader (callable): makes the loader of process ``i``
            (``1..count``).
        count (int): the other processes; 0 runs nothing.
    """
    if count <= 0:
        yield
        return
    stop = threading.Event()

    def drain():
        iterators = [iter(make_loader(i + 1)) for i in range(count)]
        while not stop.is_set():
            for i, iterator in enumerate(iterators):
                try:
                    next(iterator)
                except StopIteration:
                    iterators[i] = iter(make_loader(i + 1))
        del iterators  # shuts their workers down

    thread = threading.Thread(target=drain, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
