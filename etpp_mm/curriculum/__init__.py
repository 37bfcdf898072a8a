"""Curriculum arithmetic: stage tables, plans, the samples-counted compute
clock, warm-up rules, the ETA, and the greedy search of stage sizes.

Pure Python, independent of MMEngine; :mod:`etpp_mm.hooks` adapts it to a
runner.
"""
from .batching import (LR_RULES, SampleSchedule, check_batch_scale,
                       lr_factor, lr_rule_for, stage_batch_scales,
                       stage_lr_factors)
from .clock import advance_schedulers
from .eta import RunEta, StageEta, format_seconds
from .flops import PlanCompute, StageCompute, plan_compute, sizes_of_plan
from .plan import (MODES, CurriculumPlan, PlannedStage, Stage, build_plan,
                   check_budget, pixel_cost, recipe_step_of,
                   validate_stages)
from .presets import (PAPER_MAGNITUDE, PRESET_BASE_SIZE, PRESETS,
                      check_preset, preset_stages, scale_magnitude,
                      scale_magnitudes, scale_size, stage_table,
                      stages_from_dicts)
from .report import (describe_stage, epochs_text, format_plan,
                     format_snippet, format_trials, plan_rows, plan_totals,
                     stage_settings)
from .search import (SearchResult, SearchSpace, Trial, check_magnitudes,
                     check_proxy, greedy_search, max_runs, monotone_schedules,
                     schedule_name, schedule_stages, schedule_with,
                     search_space, split_indices, stage_candidates,
                     stage_rows)
from .warmup import (WARMUP_RULES, check_warmup, official_warmup_fraction,
                     recipe_warmup_steps, warp_warmup)

__all__ = [
    'LR_RULES', 'SampleSchedule', 'check_batch_scale', 'lr_factor',
    'lr_rule_for', 'stage_batch_scales', 'stage_lr_factors', 'StageEta', 'format_seconds',
    'MODES', 'PRESETS', 'PRESET_BASE_SIZE', 'CurriculumPlan', 'PlannedStage',
    'Stage', 'advance_schedulers', 'build_plan', 'pixel_cost',
    'preset_stages', 'recipe_step_of', 'scale_size', 'stage_table',
    'stages_from_dicts', 'validate_stages', 'describe_stage', 'format_plan',
    'plan_rows',
    'plan_totals', 'PlanCompute', 'StageCompute', 'plan_compute',
    'sizes_of_plan', 'check_budget', 'check_preset',
    'SearchResult', 'SearchSpace', 'Trial', 'check_magnitudes',
    'check_proxy', 'format_snippet', 'format_trials', 'greedy_search',
    'max_runs', 'monotone_schedules', 'schedule_name', 'schedule_stages',
    'schedule_with', 'search_space', 'split_indices', 'stage_candidates',
    'stage_rows', 'PAPER_MAGNITUDE', 'scale_magnitude', 'scale_magnitudes',
    'RunEta', 'epochs_text', 'stage_settings', 'WARMUP_RULES', 'check_warmup',
    'official_warmup_fraction', 'recipe_warmup_steps', 'warp_warmup'
]
