"""Compute of a curriculum counted in model FLOPs instead of pixels.

Pure Python: given the FLOPs of one image at each stage size (measured by
the caller, e.g. with MMEngine's complexity analysis in
:mod:`etpp_mm.analysis.flops`), weigh each stage's real epochs by them and
compare with the recipe, which runs ``recipe_epochs`` at the full size.

Every epoch sees the same number of images whatever its size, so compute is
counted per training image: ``sum(epochs * flops(size))``. Multiply by the
dataset length for the absolute number; ratios do not need it.

The pixel figure (:attr:`CurriculumPlan.speedup`) assumes FLOPs grow with
``h * w``. Real models deviate: fixed costs (the classifier head) and
padding (Swin's windows at small sizes) make low resolutions relatively
dearer, so the FLOPs speed-up is usually a little lower.
"""
from dataclasses import dataclass
from typing import List, Mapping, Tuple

from .plan import CurriculumPlan, SizePair


@dataclass(frozen=True)
class StageCompute:
    """Compute of one planned stage.

    Args:
        size (tuple[int, int]): input size ``(h, w)``.
        epochs (int): real epochs the stage runs.
        flops (float): FLOPs of one image at ``size``.
        relative_flops (float): ``flops`` over the FLOPs at the full size.
        pixel_cost (float): ``h * w`` over the full size's pixels.
    """
    size: SizePair
    epochs: float
    flops: float
    relative_flops: float
    pixel_cost: float

    @property
    def compute(self) -> float:
        """FLOPs per training image spent in this stage."""
        return self.epochs * self.flops


@dataclass(frozen=True)
class PlanCompute:
    """FLOPs of a curriculum against its recipe, per training image.

    Example:
        >>> from etpp_mm.curriculum import build_plan, preset_stages
        >>> mode, stages = preset_stages('et', full_size=(224, 224))
        >>> plan = build_plan(stages, mode, recipe_epochs=300,
        ...                   full_size=(224, 224))
        >>> # A model whose FLOPs are exactly proportional to pixels:
        >>> flops = {s: s[0] * s[1] for s in sizes_of_plan(plan)}
        >>> result = plan_compute(plan, flops)
        >>> round(result.speedup, 3) == round(plan.speedup, 3)
        True
    """
    stages: Tuple[StageCompute, ...]
    full_flops: float
    recipe_epochs: int
    pixel_speedup: float

    @property
    def plan_compute(self) -> float:
        """FLOPs per training image of the whole curriculum."""
        return sum(s.compute for s in self.stages)

    @property
    def recipe_compute(self) -> float:
        """FLOPs per training image of the recipe (all at full size)."""
        return self.recipe_epochs * self.full_flops

    @property
    def equivalent_epochs(self) -> float:
        """The curriculum's FLOPs in full-size epochs."""
        return self.plan_compute / self.full_flops

    @property
    def speedup(self) -> float:
        """Recipe FLOPs over curriculum FLOPs."""
        return self.recipe_compute / self.plan_compute


def sizes_of_plan(plan: CurriculumPlan) -> List[SizePair]:
    """The distinct sizes whose FLOPs :func:`plan_compute` needs.

    The full size comes first (the recipe runs at it even when no stage
    does), then stage sizes in order of first use.

    Example:
        >>> from etpp_mm.curriculum import build_plan, preset_stages
        >>> mode, stages = preset_stages('etpp', full_size=(224, 224))
        >>> plan = build_plan(stages, mode, 300, (224, 224), budget=200)
        >>> sizes_of_plan(plan)
        [(224, 224), (96, 96), (160, 160)]
    """
    sizes = [plan.full_size]
    for stage in plan.stages:
        if stage.size not in sizes:
            sizes.append(stage.size)
    return sizes


def plan_compute(plan: CurriculumPlan,
                 flops: Mapping[SizePair, float]) -> PlanCompute:
    """Weigh a plan's real epochs by the FLOPs of one image at each size.

    Args:
        plan (CurriculumPlan): the curriculum.
        flops (Mapping[tuple[int, int], float]): FLOPs of one image at each
            size of :func:`sizes_of_plan` (more keys are ignored).

    Returns:
        PlanCompute: per-stage and total compute and the speed-ups.

    Raises:
        KeyError: naming a size whose FLOPs are missing.
        ValueError: on a non-positive FLOPs count.

    Example:
        >>> from etpp_mm.curriculum import build_plan, Stage
        >>> plan = build_plan([Stage(0.5, (8, 8)), Stage(0.5, (16, 16))],
        ...                   'et', recipe_epochs=10, full_size=(16, 16))
        >>> # a fixed cost of 100 on top of one FLOP per pixel:
        >>> result = plan_compute(plan, {(8, 8): 164, (16, 16): 356})
        >>> result.plan_compute, result.recipe_compute
        (2600, 3560)
    """
    for size in sizes_of_plan(plan):
        if size not in flops:
            raise KeyError(f'no FLOPs given for size {size}; need all of '
                           f'{sizes_of_plan(plan)}')
        if not flops[size] > 0:
            raise ValueError(f'FLOPs at size {size} must be positive, got '
                             f'{flops[size]!r}')
    full = plan.full_size
    full_flops = flops[full]
    full_pixels = full[0] * full[1]
    stages = tuple(
        StageCompute(
            size=s.size,
            epochs=s.epochs,
            flops=flops[s.size],
            relative_flops=flops[s.size] / full_flops,
            pixel_cost=s.size[0] * s.size[1] / full_pixels)
        for s in plan.stages)
    return PlanCompute(stages, full_flops, plan.recipe_epochs, plan.speedup)
