"""Per-image cost of a train pipeline as the curriculum drives it, at both
augmentation orders, measured side by side.

Used by ``tools/analysis/benchmark_loader.py``; the functions take live
pipelines and samples, so they work on any recipe.
"""
import copy
import os
import os.path as osp
from typing import Any, Callable, Dict, List, Sequence

import numpy as np
from mmcv.transforms import Compose

from etpp_bench.timing import interleaved_timings
from etpp_mm.attach import CurriculumOptions, attach_curriculum
from etpp_mm.transforms import SharedStageIndex

# Colour photos shipped with scikit-image, all at least 300 px a side.
PHOTOS = ('astronaut', 'coffee', 'chelsea', 'rocket', 'hubble_deep_field',
          'immunohistochemistry', 'retina', 'cat', 'coins', 'camera')


def make_jpeg_folder(root: str, count: int = 200, min_side: int = 400,
                     seed: int = 0) -> List[str]:
    """Write ``count`` JPEGs (PIL quality 90) made from scikit-image photos
    by random rescales, crops and flips; every side at least ``min_side``.

    Returns:
        list[str]: the file paths (reused when already written).
    """
    from PIL import Image
    from skimage import data
    rng = np.random.RandomState(seed)
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
        size = tuple(max(min_side, int(s * factor)) for s in src.size)
        if osp.isfile(path):
            continue
        img = src.resize(size, Image.Resampling.BICUBIC)
        w = rng.randint(min_side, size[0] + 1)
        h = rng.randint(min_side, size[1] + 1)
        x, y = rng.randint(0, size[0] - w + 1), rng.randint(0, size[1] - h + 1)
        img = img.crop((x, y, x + w, y + h))
        if rng.rand() < 0.5:
            img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        img.save(path, quality=90)
    return paths


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
    attached = attach_curriculum([pipeline], recipe_epochs, options)
    index = SharedStageIndex(0)
    attached.drive(index)
    return pipeline, attached.plan, index


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
