"""The sides of a benchmark: the plain recipe (the baseline), the recipe
with an ``EfficientTrainHook`` at one budget, and the plain recipe shortened
to fewer epochs, each run once per seed; their order, cache keys and run
configs.
"""
import ast
import pprint
import shlex
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from etpp_bench.cache import cache_key
from etpp_bench.runs import plain_number
from etpp_mm.analysis.cli import parse_cfg_options
from etpp_mm.curriculum import PRESETS, check_budget, preset_stages

BASELINE = 'baseline'
# The name of the plain recipe shortened to EPOCHS epochs: 'recipe e12'.
SHORTENED = 'recipe e{}'
# The target a curriculum should meet at 2/3 of the recipe's compute: top-1

Number = Union[int, float]


@dataclass(frozen=True)
class Variant:
    """One side of the comparison.

    Args:
        name (str): ``'baseline'``, ``'<preset> b<budget>'`` or ``'recipe
            e<epochs>'``.
        budget (float, optional): equivalent full-size epochs of the
            curriculum; ``None`` for the plain recipe (the baseline, or
            shortened).
        preset (str, optional): the ``EfficientTrainHook`` preset; ``None`` for
            the plain recipe.
        size_divisor (int): the hook's ``size_divisor``.
        real_epochs (int, optional): epochs the run trains (the recipe's, or
            the plan's).
        theoretical_speedup (float): recipe compute over the variant's, counted
            in pixels (1 for the baseline).
        hook_options (tuple): more ``EfficientTrainHook`` arguments as
            ``(key, value)`` pairs (e.g. ``(('batch_scale', 'auto'),)``).
        shortened (int, optional): the plain recipe's ``max_epochs`` in a
            shortened recipe; ``None`` otherwise.
        param_scheduler (tuple of dict, optional): the shortened recipe's
            compressed schedulers
            (:func:`etpp_bench.shorten.shorten_schedule`); ``None`` until
            planned.

    Example:
        >>> Variant('etpp b7.5', 7.5, 'etpp', 4).folder
        'etpp-b7.5'
        >>> Variant('etpp b10', 10, 'etpp', 4).hook_cfg()['budget']
        10
        >>> Variant('recipe e12', shortened=12).is_shortened
        True
    """
    name: str
    budget: Optional[Number] = None
    preset: Optional[str] = None
    size_divisor: int = 1
    real_epochs: Optional[int] = None
    theoretical_speedup: float = 1.0
    hook_options: Tuple[Tuple[str, Any], ...] = ()
    shortened: Optional[int] = None
    # Dicts cannot be hashed: the schedule counts in identity() instead.
    param_scheduler: Optional[Tuple[Dict[str, Any], ...]] = field(
        default=None, compare=False)

    @property
    def is_baseline(self) -> bool:
        return self.budget is None and self.shortened is None

    @property
    def is_shortened(self) -> bool:
        return self.shortened is not None

    @property
    def is_curriculum(self) -> bool:
        return self.budget is not None

    @property
    def folder(self) -> str:
        """The variant's part of a run folder's name."""
        return self.name.replace(' ', '-')

    def hook_cfg(self) -> Dict[str, Any]:
        """The ``EfficientTrainHook`` config of a curriculum variant: its
        preset, unless its options give a stage table of their own.

        Example:
            >>> Variant('own b10', 10, 'etpp', 4, hook_options=(
            ...     ('stages', [{'share': 1.0, 'size': 28}]), )).hook_cfg()
            ... # doctest: +NORMALIZE_WHITESPACE
            {'type': 'EfficientTrainHook', 'budget': 10, 'size_divisor': 4,
             'stages': [{'share': 1.0, 'size': 28}]}
        """
        if not self.is_curriculum:
            raise ValueError(f'{self.name} trains the plain recipe: no hook')
        cfg = dict(type='EfficientTrainHook',
                   preset=self.preset,
                   budget=self.budget,
                   size_divisor=self.size_divisor)
        options = dict(self.hook_options)
        if 'stages' in options:  # a table of its own replaces the preset's
            del cfg['preset']
        cfg.update(options)
        return cfg

    def identity(self) -> Dict[str, Any]:
        """What makes the variant's runs differ from the baseline's (for
        cache keys): nothing for the baseline, so changing the preset or
        the size divisor keeps its cached runs."""
        if self.is_baseline:
            return dict(variant=BASELINE)
        if self.is_shortened:
            return dict(variant=self.name, shortened=self.shortened,
                        param_scheduler=[
                            dict(s) for s in self.param_scheduler or ()
                        ])
        identity = dict(
            variant=self.name,
            preset=self.preset,
            budget=self.budget,
            size_divisor=self.size_divisor)
        if self.hook_options:  # keeps the keys of runs without options
            identity['hook_options'] = [list(o) for o in self.hook_options]
        return identity


def make_variants(budgets: Sequence[Number],
                  preset: str,
                  size_divisor: int = 1,
                  hook_options: Optional[Mapping[str, Any]] = None,
                  labelled: Sequence[Tuple[str, Number, Mapping]] = (),
                  shortened: Sequence[Number] = ()) -> List[Variant]:
    """The baseline, one shortened recipe per ``shortened`` epochs (longest
    first), one curriculum variant per budget (in the order of ``budgets``,
    each with ``hook_options``), then one per ``labelled`` ``(label, budget,
    hook options)`` (epochs, speed-ups and compressed schedules are filled
    in later from the recipe).

    Example:
        >>> [v.name for v in make_variants([10.0, 7.5], 'etpp', 4)]
        ['baseline', 'etpp b10', 'etpp b7.5']
        >>> [v.name for v in make_variants([10], 'etpp', shortened=[8, 12])]
        ['baseline', 'recipe e12', 'recipe e8', 'etpp b10']
        >>> variants = make_variants(
        ...     [10], 'etpp', 4, {'augment_at': 'stage'},
        ...     [('batch', 10, {'batch_scale': 'auto'})])
        >>> [(v.name, v.hook_cfg()) for v in variants[1:]][1]
        ('batch b10', {'type': 'EfficientTrainHook', 'preset': 'etpp', \
'budget': 10, 'size_divisor': 4, 'batch_scale': 'auto'})
    """
    variants = [Variant(BASELINE)]
    # Next to the baseline: the report then reads down the recipe's line.
    for epochs in sorted((plain_number(e) for e in shortened), reverse=True):
        variants.append(Variant(SHORTENED.format(epochs), shortened=epochs))
    common = tuple((hook_options or {}).items())
    for label, budget, options in [(preset, b, dict(common))
                                   for b in budgets] + list(labelled):
        budget = plain_number(budget)
        variants.append(
            Variant(f'{label} b{budget}', budget, preset, size_divisor,
                    hook_options=tuple(options.items())))
    names = [v.name for v in variants]
    for name in names:
        if names.count(name) > 1:
            raise ValueError(f'two variants are named {name!r}: give each '
                             '--variant its own label')
    return variants


def _budgeted_presets() -> List[str]:
    return [p for p in PRESETS if preset_stages(p, (224, 224))[0] == 'etpp']


def check_benchmark_input(budgets: Sequence[Number],
                          seeds: Sequence[int],
                          preset: str,
                          size_divisor: int = 1,
                          threads: Optional[int] = None) -> None:
    """Refuse, before any training, what the benchmark cannot run.

    Raises:
        ValueError: naming the value and the command-line option to change.

    Example:
        >>> check_benchmark_input([10, 7.5], [0, 1], 'etpp', 4)
        >>> check_benchmark_input([10, 0], [0], 'etpp')
        Traceback (most recent call last):
        ...
        ValueError: --budgets must be a positive number of equivalent epochs, got 0
        >>> check_benchmark_input([10], [], 'etpp')
        Traceback (most recent call last):
        ...
        ValueError: --seeds is empty: give at least one seed, e.g. --seeds 0 1
    """
    if not budgets:
        raise ValueError('--budgets is empty: give at least one budget in '
                         'equivalent full-size epochs, e.g. --budgets 10')
    for budget in budgets:
        check_budget(budget, key='--budgets')
    _refuse_repeats(budgets, '--budgets', 'budget')
    if not seeds:
        raise ValueError(
            '--seeds is empty: give at least one seed, e.g. --seeds 0 1')
    for seed in seeds:
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(
                f'--seeds: {seed!r} is not a non-negative int seed')
    _refuse_repeats(seeds, '--seeds', 'seed')
    if preset not in PRESETS:
        raise ValueError(f'unknown --preset {preset!r}: choose one of '
                         f"{', '.join(_budgeted_presets())}")
    if preset not in _budgeted_presets():
        raise ValueError(
            f"--preset {preset!r} splits the recipe's epochs and takes no "
            'budget, and the benchmark compares budgets: choose one of '
            f"{', '.join(_budgeted_presets())}")
    if isinstance(size_divisor, bool) or not isinstance(size_divisor, int) \
            or size_divisor <= 0:
        raise ValueError(
            f'--size-divisor must be a positive int, got {size_divisor!r}')
    if threads is not None and (isinstance(threads, bool)
                                or not isinstance(threads, int)
                                or threads < 1):
        raise ValueError(f'--threads must be an int >= 1, got {threads!r}')


def _refuse_repeats(values: Sequence[Any], option: str, what: str) -> None:
    seen = set()
    for value in values:
        if value in seen:
            # Two runs with the same settings measure nothing new, and the
            # second would only read the first one's cache entry.
            raise ValueError(f'{what} {value!r} appears twice in {option}')
        seen.add(value)


def run_order(variants: Sequence[Variant],
              seeds: Sequence[int]) -> List[Tuple[int, Variant]]:
    """Every ``(seed, variant)`` run, seed-major with the variants
    interleaved, so that drift of the machine (other jobs, heat) during a
    long benchmark falls on all variants alike instead of on whichever
    variant runs last.

    Example:
        >>> order = run_order(make_variants([10, 7.5], 'etpp'), [0, 1])
        >>> [f'{v.name} s{s}' for s, v in order][:4]
        ['baseline s0', 'etpp b10 s0', 'etpp b7.5 s0', 'baseline s1']
    """
    return [(seed, variant) for seed in seeds for variant in variants]


def run_key(variant: Variant, seed: int, settings: Mapping[str, Any]) -> str:
    """The cache key of one run: the variant, the seed and every setting
    that changes its result or its time (recipe, options, environment,
    machine).

    Example:
        >>> base, b10 = make_variants([10], 'etpp')
        >>> settings = {'threads': 1}
        >>> run_key(base, 0, settings) == run_key(base, 1, settings)
        False
        >>> len(run_key(b10, 0, {'threads': 1}))
        16
    """
    # The search's key of (schedule, settings): a benchmark run has no
    # schedule of its own; its variant and seed are settings.
    return cache_key((), dict(settings, seed=seed, **variant.identity()))


def run_config_text(recipe: str,
                    variant: Variant,
                    seed: int,
                    imports: Sequence[str] = ('etpp_mm', ),
                    other_hooks: Sequence[Mapping[str, Any]] = (),
                    visualizer_type: str = 'UniversalVisualizer',
                    final_val_only: bool = False) -> str:
    """The config of one run: it inherits ``recipe`` through ``_base_`` and
    adds the imports, the hook (curriculum variants only), the shortened
    ``max_epochs`` and ``param_scheduler`` (shortened recipes only) and the
    seed.

    ``other_hooks`` are the recipe's own ``custom_hooks``: a list in a
    child config replaces the base's, so they are written out again.

    Example:
        >>> variant = make_variants([10], 'etpp', 4)[1]
        >>> scope = {}
        >>> exec(run_config_text('/r/recipe.py', variant, 1), scope)
        >>> scope['_base_'], scope['custom_hooks'][0]['budget']
        (['/r/recipe.py'], 10)
        >>> scope['randomness']
        {'seed': 1}
        >>> short = Variant('recipe e5', shortened=5, param_scheduler=(
        ...     dict(type='MultiStepLR', milestones=[2, 4]),))
        >>> exec(run_config_text('/r/recipe.py', short, 1,
        ...                      final_val_only=True), scope)
        >>> scope['train_cfg'], scope['param_scheduler'][0]['milestones']
        ({'max_epochs': 5, 'val_interval': 1000000000}, [2, 4])
    """
    hooks = [dict(h) for h in other_hooks]
    if variant.is_curriculum:
        hooks.append(variant.hook_cfg())
    hooks_text = _config_literal(hooks, "the recipe's custom_hooks")
    what = ''
    if variant.is_curriculum:
        what = ' with EfficientTrainHook'
    elif variant.is_shortened:
        what = f' shortened to {variant.shortened} epoch(s)'
    lines = [
        f'# Benchmark run: {variant.name}, seed {seed}. The recipe{what} and '
        'the seed;',
        '# the benchmark passes its --cfg-options to every run alike '
        '(command.txt)' + (', but for the max_epochs and param_scheduler '
                           'written here.' if variant.is_shortened else '.'),
        f'_base_ = [{recipe!r}]',
        f'custom_imports = dict(imports={list(imports)!r}, '
        'allow_failed_imports=False)',
    ]
    if hooks or variant.is_curriculum:
        lines.append(f'custom_hooks = {hooks_text}')
    lines += [
        f'randomness = dict(seed={seed})',
        '# Scores are read from vis_data/scalars.json; nothing goes to '
        'remote loggers.',
        f'visualizer = dict(type={visualizer_type!r}, '
        "vis_backends=[dict(type='LocalVisBackend')])",
    ]
    train_cfg = []
    if variant.is_shortened:
        if variant.param_scheduler is None:
            raise ValueError(f'{variant.name} has no compressed schedule yet: '
                             'plan it from the recipe first')
        # A list replaces the base's schedulers whole (a dict would be
        # merged into a base dict key by key).
        schedulers = _config_literal(list(variant.param_scheduler),
                                     "the recipe's param_scheduler")
        lines += [
            '# The plain recipe shortened: its schedule compressed to '
            'max_epochs.',
            f'param_scheduler = {schedulers}',
        ]
        train_cfg.append(f'max_epochs={variant.shortened}')
    if final_val_only:
        lines += [
            '# One validation, after the last epoch (MMEngine always runs '
            'it then):',
            '# each variant pays for it once, whatever its epoch count.',
        ]
        train_cfg.append('val_interval=10**9')
    if train_cfg:
        lines.append(f"train_cfg = dict({', '.join(train_cfg)})")
    return '\n'.join(lines) + '\n'


def _config_literal(value: Any, what: str) -> str:
    """``value`` as Python text a config file can hold."""
    text = pprint.pformat(value, width=72, sort_dicts=False)
    try:
        ast.literal_eval(text)
    except (ValueError, SyntaxError) as err:
        raise ValueError(
            f'{what} hold values that cannot be written into a config file '
            f'({text}): give their type as a string') from err
    return text


def run_cfg_options(cfg_options: Optional[Sequence[str]],
                    variant: Variant) -> List[str]:
    """The ``--cfg-options`` strings one variant's runs get: all of them,
    but for a shortened recipe those setting ``train_cfg.max_epochs`` or the
    ``param_scheduler``, which ``tools/train.py`` would apply over the run
    config's compressed ones (they are in the recipe the compression
    started from).

    Example:
        >>> options = ['train_cfg.max_epochs=4', 'param_scheduler.0.end=2',
        ...            'model.head.in_channels=32']
        >>> run_cfg_options(options, Variant('recipe e2', shortened=2))
        ['model.head.in_channels=32']
        >>> len(run_cfg_options(options, Variant('baseline')))
        3
    """
    if not variant.is_shortened:
        return list(cfg_options or [])
    kept = []
    for option in cfg_options or []:
        key = option.split('=', 1)[0].strip()
        if key == 'train_cfg.max_epochs' or key == 'param_scheduler' \
                or key.startswith('param_scheduler.'):
            continue
        kept.append(option)
    return kept


def labelled_variants(
        specs: Sequence[Sequence[str]]
) -> List[Tuple[str, Number, Dict[str, Any]]]:
    """Each ``--variant LABEL BUDGET [KEY=VALUE ...]`` of the benchmark as
    ``(label, budget, hook arguments)``.

    A value holding a dict is read as a Python literal (MMEngine's
    ``--cfg-options`` syntax has none), e.g. a stage table of the variant's
    own, which then replaces the preset's.

    Example:
        >>> labelled_variants([['stage', '10', 'batch_scale=auto']])
        [('stage', 10, {'batch_scale': 'auto'})]
        >>> labelled_variants([['own', '10', 'batch_scale=[2,1]',
        ...                     "stages=[{'share': 0.5, 'size': 12}, "
        ...                     "{'share': 0.5, 'size': 28}]"]])
        ... # doctest: +NORMALIZE_WHITESPACE
        [('own', 10, {'batch_scale': [2, 1],
                      'stages': [{'share': 0.5, 'size': 12},
                                 {'share': 0.5, 'size': 28}]})]
        >>> labelled_variants([['own', '10', 'stages=[{share: 1}]']])
        Traceback (most recent call last):
        ...
        ValueError: --variant own 10: stages=[{share: 1}] holds a dict but is not a Python literal (quote the keys: {'share': 0.1, 'size': 12})
    """
    labelled = []
    for spec in specs:
        if len(spec) < 2:
            raise ValueError(f'--variant {shlex.join(spec)}: give a label '
                             'and a budget, then KEY=VALUE hook arguments')
        try:
            budget = plain_number(float(spec[1]))
        except ValueError:
            raise ValueError(f'--variant {shlex.join(spec)}: the budget '
                             f'{spec[1]!r} is not a number') from None
        check_budget(budget, key=f'--variant {spec[0]} budget')
        labelled.append((spec[0], budget,
                         hook_arguments(spec[2:],
                                        f'--variant {spec[0]} {spec[1]}')))
    return labelled


def hook_arguments(pairs: Sequence[str], option: str) -> Dict[str, Any]:
    """``KEY=VALUE`` hook arguments of ``--hook-options`` or a
    ``--variant``: MMEngine's ``--cfg-options`` syntax, or a Python literal
    where the value holds a dict (which that syntax has none of).

    Example:
        >>> hook_arguments(['batch_scale=auto', "stages=[{'share': 1.0, "
        ...                 "'size': 28}]"], '--hook-options')
        {'batch_scale': 'auto', 'stages': [{'share': 1.0, 'size': 28}]}
    """
    plain, literal = [], {}
    for pair in pairs:
        key, _, value = pair.partition('=')
        if '{' not in value:
            plain.append(pair)
            continue
        try:
            literal[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            raise ValueError(
                f'{option}: {pair} holds a dict but is not a Python literal '
                "(quote the keys: {'share': 0.1, 'size': 12})") from None
    arguments = parse_cfg_options(plain)
    arguments.update(literal)
    return arguments
