"""The options of ``EfficientTrainHook``, declared once.

:class:`CurriculumOptions` is the single declaration of every option: its
type, default, allowed values and check. The hook takes its keyword
arguments through it, the resolver and the analysis tools read it, and the
docs' option reference is tested against it.
"""
import dataclasses
import difflib
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence, Union

from etpp_mm.curriculum import check_budget, check_preset, stages_from_dicts
from etpp_mm.curriculum.batching import LR_RULES, check_batch_scale
from etpp_mm.curriculum.warmup import WARMUP_RULES
from etpp_mm.data.replay import REPLAY_MODES
from etpp_mm.ops.size import to_size_pair
from .loader_setup import COLLATE_MODES
from .stage_sizing import AUGMENT_ORDERS

KEY = 'EfficientTrainHook'
LOW_FREQUENCY_MODES = ('downsample', 'fourier', 'device')
MAGNITUDE_MODES = ('recipe', 'paper')
VALIDATION_MODES = ('full_size', 'stage_size', 'full_size_only')
REPLAY_KEYS = ('factors', 'buffer_samples', 'mode', 'max_memory_fraction',
               'max_factor', 'auto_iters')
_NUMBER = (int, float)


def _option(default: Any, types: tuple, expected: str,
            choices: Optional[Sequence[str]] = None):
    """A field with what its check needs: accepted types, the words for
    them in an error, and the allowed values of a string option. ``None``
    is accepted where it is the default."""
    return field(default=default,
                 metadata=dict(types=types, expected=expected,
                               choices=choices))


def check_replay_cfg(replay: Any) -> None:
    """Raise a clear error unless ``replay`` is a valid ``replay`` dict
    (the factors themselves are checked against the plan's stages).

    Example:
        >>> check_replay_cfg(dict(factors=2, buffer_samples=64))
        >>> check_replay_cfg(dict(factors=2))
        Traceback (most recent call last):
        ...
        ValueError: EfficientTrainHook.replay.buffer_samples must be a \
positive int (samples kept per process), got None
        >>> check_replay_cfg(dict(factors=2, buffer_samples=64, mode='mixed'))
        Traceback (most recent call last):
        ...
        ValueError: EfficientTrainHook.replay.mode='mixed': choose one of \
['whole', 'mix']
    """
    key = f'{KEY}.replay'
    if not isinstance(replay, dict):
        raise TypeError(f'{key} must be a dict(factors=..., '
                        f'buffer_samples=...), got {replay!r}')
    unknown = set(replay) - set(REPLAY_KEYS)
    if unknown:
        raise ValueError(f'{key} has unknown keys {sorted(unknown)}: use '
                         f'{", ".join(REPLAY_KEYS)}')
    samples = replay.get('buffer_samples')
    if isinstance(samples, bool) or not isinstance(samples,
                                                   int) or samples < 1:
        raise ValueError(f'{key}.buffer_samples must be a positive int '
                         f'(samples kept per process), got {samples!r}')
    mode = replay.get('mode', 'whole')
    if not isinstance(mode, str) or mode not in REPLAY_MODES:
        raise ValueError(f'{key}.mode={mode!r}: choose one of '
                         f'{list(REPLAY_MODES)}')
    fraction = replay.get('max_memory_fraction', 0.5)
    if not isinstance(fraction, (int, float)) or not 0 < fraction <= 1:
        raise ValueError(f'{key}.max_memory_fraction must be in (0, 1], '
                         f'got {fraction!r}')
    for name, default in (('max_factor', 4), ('auto_iters', 8)):
        value = replay.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f'{key}.{name} must be a positive int, got '
                             f'{value!r}')


@dataclass(frozen=True)
class CurriculumOptions:
    """Every option of ``EfficientTrainHook``, checked on construction.

    Errors name ``EfficientTrainHook.<option>``, the value and what to
    write instead, before the runner builds anything.

    Args:
        preset (str, optional): a stage table of the papers: ``'et'``,
            ``'etpp'`` (ResNet/Swin), ``'etpp_convnext'``, ``'etpp_deit'``.
            Sizes are given at 224 and scale to the recipe's train size.
            Defaults to ``'etpp'`` when ``stages`` is not given either.
        stages (list[dict], optional): your own table instead of a preset:
            ``dict(share=..., size=int | (h, w), params={Type: {...}})`` per
            stage, sizes in pixels of the recipe.
        mode (str, optional): ``'etpp'`` or ``'et'`` for your own ``stages``
            (default ``'etpp'``); presets carry their own.
        budget (float, optional): ``'etpp'`` only: training compute in
            equivalent full-resolution epochs. ``None`` (default) costs the
            same as the recipe; ``max_epochs / 1.5`` is 1.5x cheaper.
        full_size (int | tuple, optional): the recipe's train size; inferred
            from the train pipeline (RandomResizedCrop, RandomCrop...) when
            not given.
        size_divisor (int | str): stage sizes are multiples of it (e.g. a
            ViT's patch size or a network's total stride). ``'auto'``
            (default) reads it from the built model (logged): the largest
            of its total stride (or patch size) and the powers of two below
            it that divides the train size and is at most half of it (with
            your own ``stages``, their sizes too); 1 when the model cannot
            be read. See :func:`~etpp_mm.attach.model_stride.size_divisor_of`.
        low_frequency (str): the low-frequency step inserted when the train
            pipeline has none: ``'downsample'`` (anti-aliased Lanczos, the
            efficient one, default), ``'fourier'`` (exact crop in the data
            workers) or ``'device'`` (exact crop of the normalised batch in
            the data preprocessor, before Mixup/CutMix).
        interpolation (str): filter of ``'downsample'``. Defaults to
            ``'lanczos'``.
        augment_at (str): ``'full'`` (the papers' order): the recipe's
            augmentations run at the full size and the low-frequency step
            shrinks their result before packing. ``'stage'``: the recipe's
            resized crop outputs the stage size itself (same crop box,
            Lanczos), or the low-frequency step follows the last fixed-size
            crop/resize, so every later step runs at the stage size;
            pixel-sized parameters of later steps (``RandomCrop`` padding,
            ``Cutout`` sizes) scale with the stage. ``'auto'`` (default):
            ``'stage'`` with ``low_frequency='downsample'`` and no
            low-frequency step of your own, else ``'full'``. See
            docs/data_path.md.
        drop_path_reference_budget (float, optional): ``'etpp'`` only:
            scale every drop-path rate of the model by
            ``budget / drop_path_reference_budget``, the papers' rule with
            200 for a 300-epoch recipe (a budget of 100 halves the recipe's
            rates). ``None`` (default) keeps the recipe's rates.
        replay (dict, optional): reuse loaded samples where the data loader
            is the bottleneck: ``dict(factors=..., buffer_samples=...,
            mode='whole')``; ``mode='mix'`` mixes fresh and replayed samples
            in every iteration (the authors' replay) instead of following
            each loaded batch with whole replayed batches. See
            :class:`~etpp_mm.hooks.ReplayControl`. Defaults to off.
        magnitude (str): ``'recipe'`` (default): a preset's RandAugment
            magnitudes end at the recipe's own; ``'paper'``: at 9.
        validation (str): ``'full_size'`` (default), ``'stage_size'`` or
            ``'full_size_only'``: see :mod:`etpp_mm.hooks.validation`.
        check_model (bool): before training, run the model's loss on two
            train images at each stage size (made at every stage either
            way), so a size the model cannot take fails at once. Defaults
            to True.
        adapt_model (bool): before training, make the parts of the model
            known to take only their configured size take every stage size,
            in place (same parameters and checkpoint keys; logged):
            MMPretrain's ``SwinTransformer`` without ``pad_small_map``,
            ``MAEViT``, ``MAEPretrainDecoder``, EfficientFormer's
            ``AttentionWithBias`` and the masked-image parts of BEiT, CAE
            and MaskFeat become their variants of :mod:`etpp_mm.models`;
            other shifted-window attentions (DaViT, Swin v2) pad small
            maps. Defaults to True.
        collate (str): ``'stack'``: the train loader collates with
            ``default_collate`` (one tensor a batch); ``'recipe'`` keeps its
            own; ``'auto'`` (default) stacks where it is safe and pays, see
            :func:`~etpp_mm.attach.loader_setup.setup_collate`.
        batch_scale (int | list | dict | str, optional): early large batch
            (``'etpp'`` only): each stage's batch as a multiple of the
            recipe's, one int for all reduced stages, one per stage,
            ``{size: multiple}`` or ``'auto'`` (the pixel ratio, capped to
            keep 32 optimizer steps an epoch); ``None`` (default) keeps the
            recipe's batch. See :class:`~etpp_mm.hooks.SampleClock`.
        lr_scaling (str): the LR rule for a larger batch: ``'auto'``
            (default: linear for SGD-like optimizers, square root for
            Adam-like ones), ``'linear'``, ``'sqrt'`` or ``'none'``.
        warmup (str): ``'etpp'`` only: ``'recipe'`` (default) maps the
            recipe's warm-up onto compute like the rest of its schedules;
            ``'official'`` ends it where the authors' scripts do (the
            recipe's warm-up epochs as real epochs of the first stage; 20%
            of the compute for ``'etpp_deit'``): see
            :mod:`etpp_mm.curriculum.warmup`.
        allow_budget_above_recipe (bool): accept a ``budget`` above the
            recipe's compute (refused by default as a likely mistake).

    Example:
        >>> options = CurriculumOptions(budget=200, batch_scale='auto')
        >>> options.preset, options.low_frequency
        (None, 'downsample')
        >>> CurriculumOptions(collate='stacked')
        Traceback (most recent call last):
        ...
        ValueError: EfficientTrainHook.collate='stacked': choose one of \
['auto', 'stack', 'recipe']
        >>> CurriculumOptions(size_divisor='x')
        Traceback (most recent call last):
        ...
        ValueError: EfficientTrainHook.size_divisor must be a positive int \
or 'auto', got 'x'
    """
    preset: Optional[str] = _option(None, (str, ),
                                    "a preset name such as 'etpp'")
    stages: Optional[Sequence[dict]] = _option(
        None, (list, tuple), 'a list of dict(share=..., size=...)')
    mode: Optional[str] = _option(None, (str, ), "'etpp' or 'et'",
                                  ('etpp', 'et'))
    budget: Optional[float] = _option(None, _NUMBER,
                                      'a number of equivalent epochs')
    full_size: Any = _option(None, (int, list, tuple), 'an int or (h, w)')
    size_divisor: Union[int, str] = _option('auto', (int, str),
                                            "a positive int or 'auto'",
                                            ('auto', ))
    low_frequency: str = _option('downsample', (str, ),
                                 "'downsample', 'fourier' or 'device'",
                                 LOW_FREQUENCY_MODES)
    interpolation: str = _option('lanczos', (str, ),
                                 "an interpolation name such as 'lanczos'")
    augment_at: str = _option('auto', (str, ), "'auto', 'full' or 'stage'",
                              AUGMENT_ORDERS)
    drop_path_reference_budget: Optional[float] = _option(
        None, _NUMBER, 'a number of equivalent epochs')
    replay: Optional[dict] = _option(None, (dict, ),
                                     'dict(factors=..., buffer_samples=...)')
    magnitude: str = _option('recipe', (str, ), "'recipe' or 'paper'",
                             MAGNITUDE_MODES)
    validation: str = _option(
        'full_size', (str, ), "'full_size', 'stage_size' or 'full_size_only'",
        VALIDATION_MODES)
    check_model: bool = _option(True, (bool, ), 'True or False')
    adapt_model: bool = _option(True, (bool, ), 'True or False')
    collate: str = _option('auto', (str, ), "'auto', 'stack' or 'recipe'",
                           COLLATE_MODES)
    batch_scale: Any = _option(
        None, (int, list, tuple, dict, str),
        "an int, one per stage, {size: multiple} or 'auto'")
    lr_scaling: str = _option('auto', (str, ),
                              "'auto', 'linear', 'sqrt' or 'none'",
                              ('auto', ) + LR_RULES)
    warmup: str = _option('recipe', (str, ), "'recipe' or 'official'",
                          WARMUP_RULES)
    allow_budget_above_recipe: bool = _option(False, (bool, ),
                                              'True or False')

    def __post_init__(self):
        for option in dataclasses.fields(self):
            self._check_type(option, getattr(self, option.name))
        if self.preset is not None:
            check_preset(self.preset)
        if self.stages is not None:
            stages_from_dicts(self.stages)  # structure errors now
        for name in ('budget', 'drop_path_reference_budget'):
            if getattr(self, name) is not None:
                check_budget(getattr(self, name), key=f'{KEY}.{name}')
        if self.full_size is not None:
            to_size_pair(self.full_size, name=f'{KEY}.full_size')
        if self.size_divisor != 'auto' and self.size_divisor <= 0:
            raise ValueError(f"{KEY}.size_divisor must be a positive int or "
                             f"'auto', got {self.size_divisor!r}")
        if self.augment_at == 'stage' and self.low_frequency == 'device':
            raise ValueError(
                f"{KEY}.augment_at='stage' shrinks images in the data "
                "pipeline, low_frequency='device' on the device: set "
                "augment_at='full' or another low_frequency")
        if self.replay is not None:
            check_replay_cfg(self.replay)
        if self.batch_scale is not None:
            check_batch_scale(self.batch_scale)

    @staticmethod
    def _check_type(option: dataclasses.Field, value: Any) -> None:
        types, expected, choices = (option.metadata[k]
                                    for k in ('types', 'expected', 'choices'))
        if value is None and option.default is None:
            return
        if not isinstance(value, types) or (isinstance(value, bool)
                                            and bool not in types):
            raise TypeError(f'{KEY}.{option.name} must be {expected}, got '
                            f'{value!r} ({type(value).__name__})')
        if choices is None or not isinstance(value, str) or value in choices:
            return
        if types != (str, ):  # the choices are the option's only strings
            raise ValueError(f'{KEY}.{option.name} must be {expected}, got '
                             f'{value!r}')
        raise ValueError(f'{KEY}.{option.name}={value!r}: choose one of '
                         f'{list(choices)}')

    @classmethod
    def from_kwargs(cls, kwargs: dict) -> 'CurriculumOptions':
        """The options of a hook config's keywords; an unknown keyword is
        refused naming the closest option.

        Example:
            >>> CurriculumOptions.from_kwargs(dict(buget=100))
            Traceback (most recent call last):
            ...
            TypeError: EfficientTrainHook has no option 'buget' (did you \
mean 'budget'?): see docs/hook.md for the options
        """
        names = [option.name for option in dataclasses.fields(cls)]
        for name in kwargs:
            if name not in names:
                close = difflib.get_close_matches(name, names, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ''
                raise TypeError(f'{KEY} has no option {name!r}{hint}: see '
                                'docs/hook.md for the options')
        return cls(**kwargs)

    @classmethod
    def from_hook_cfg(cls, hook_cfg: dict) -> 'CurriculumOptions':
        """The options of an ``EfficientTrainHook`` config dict (its
        ``type`` and ``priority`` left out).

        Example:
            >>> CurriculumOptions.from_hook_cfg(dict(
            ...     type='EfficientTrainHook', preset='et')).preset
            'et'
        """
        return cls.from_kwargs({
            k: v
            for k, v in hook_cfg.items() if k not in ('type', 'priority')
        })

    def replace(self, **changes) -> 'CurriculumOptions':
        """A copy with ``changes``, checked again.

        Example:
            >>> CurriculumOptions().replace(augment_at='full').augment_at
            'full'
        """
        return dataclasses.replace(self, **changes)
