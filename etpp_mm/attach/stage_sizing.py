"""Stage-sized augmentation: the recipe's own crop outputs the stage size.

In the papers' order every augmentation runs at the full train size and the
low-frequency step shrinks the result just before packing. With
``augment_at='stage'`` the pipeline is edited instead so that the image
reaches the stage size as early as possible and every later per-pixel step
(RandAugment, flips, packing, collate) runs small:

* a resized crop (``RandomResizedCrop``, ``EfficientNetRandomCrop``,
  ``MAERandomResizedCrop``) is driven to output the stage size itself, from
  the same crop box (its box depends on the image and the crop ranges only),
  with Pillow's anti-aliased Lanczos at reduced stages and the recipe's own
  filter at full size;
* a ``RandomCrop`` that sets the size, or translates (pads and crops)
  right after the step that does, becomes one ``RandomCropResize`` with the
  same arguments: the same crop window, its constant padding folded into
  the Lanczos matrices, the stage size out (``RandomCrop``'s own output at
  full size), and a horizontal ``RandomFlip`` right after it folded in
  (same draw, reversed weights); only with the Lanczos ``'downsample'``
  step and constant padding;
* after any other fixed-output step (``CenterCrop``, ``Resize``...)
  the low-frequency step goes right after the last of them;
* ``LoadImageFromFile`` directly followed by ``RandomResizedCrop`` becomes
  one ``LoadImageAndRandomResizedCrop`` (reduced JPEG decoding);
* pixel-sized parameters of the later steps follow the stage:
  ``RandomCrop.crop_size``/``padding`` of a translate-by-padding crop and
  ``Cutout.shape``/``magnitude_range`` and ``GaussianBlur``'s radius
  (``radius``/``magnitude_range``). ``RandomErasing`` draws area
  fractions and needs nothing.
"""
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from mmcv.transforms import Compose

from etpp_mm.transforms import (LoadImageAndRandomResizedCrop,
                                LowFrequencyDownsample, RandomCropResize)
from .pipeline import _size_of, iter_transforms, sub_pipelines

AUGMENT_ORDERS = ('auto', 'full', 'stage')
# Resized crops whose output size is an attribute: name -> size attribute.
RESIZED_CROPS = {
    'RandomResizedCrop': 'scale',
    'EfficientNetRandomCrop': 'scale',
    'LoadImageAndRandomResizedCrop': 'scale',
    'MAERandomResizedCrop': 'size',
}
# The anti-aliased filter of reduced stages (mmcv.imresize's names).
SHRINK_FILTER = {'interpolation': 'lanczos', 'backend': 'pillow'}

Size = Tuple[int, int]


def fuse_load_and_crop(view: Compose,
                       log: Callable[[str], Any]) -> None:
    """Replace ``LoadImageFromFile`` + ``RandomResizedCrop`` in ``view`` by
    one :class:`LoadImageAndRandomResizedCrop` with the same arguments.

    Only a plain load (uint8, ``cv2`` decoding, no empty-file skipping)
    followed by exactly ``RandomResizedCrop`` is fused: the fused step draws
    the same crop box from the file header's size.
    """
    steps = view.transforms
    for index in range(len(steps) - 1):
        load, crop = steps[index], steps[index + 1]
        if type(load).__name__ != 'LoadImageFromFile' or \
                type(crop).__name__ != 'RandomResizedCrop':
            continue
        if load.to_float32 or load.imdecode_backend != 'cv2' or \
                load.ignore_empty or load.color_type not in (
                    'color', 'grayscale'):
            log('kept LoadImageFromFile + RandomResizedCrop apart: only a '
                "uint8 'cv2' load of 'color' or 'grayscale' images is fused")
            continue
        fused = LoadImageAndRandomResizedCrop(
            crop.scale,
            crop_ratio_range=crop.crop_ratio_range,
            aspect_ratio_range=crop.aspect_ratio_range,
            max_attempts=crop.max_attempts,
            color_type=load.color_type,
            backend_args=load.backend_args,
            interpolation=crop.interpolation,
            backend=crop.backend)
        steps[index:index + 2] = [fused]
        log('replaced LoadImageFromFile + RandomResizedCrop by '
            f'{fused!r}: JPEGs are decoded at 1/2..1/8 size where the '
            'stage allows it, from the same crop box')
        return


def resize_point(view: Compose, tail: int) -> Optional[int]:
    """Index in ``view`` of the step that sets the size reaching ``tail``.

    The last size-setting step before ``tail``; a ``RandomCrop`` that keeps
    the size it receives (a translation by padding) does not count.

    Example:
        >>> from mmengine.registry import init_default_scope
        >>> init_default_scope('mmpretrain')
        >>> view = Compose([dict(type='RandomResizedCrop', scale=32),
        ...                 dict(type='RandomCrop', crop_size=32, padding=4),
        ...                 dict(type='PackInputs')])
        >>> resize_point(view, 2)
        0
    """
    point, size = None, None
    for index, transform in enumerate(view.transforms[:tail]):
        out = _size_of(transform)
        if out is None:
            continue
        if type(transform).__name__ == 'RandomCrop' and out == size:
            continue
        point, size = index, out
    return point


def _scaled(value, ratio: Tuple[float, float], least: int = 1):
    """An int, ``(h, w)`` or ``(left, top, right, bottom)`` pixel value
    times the stage's ``(h, w)`` ratio, rounded, at least ``least``."""
    if isinstance(value, (int, float)):
        return max(least, round(value * ratio[0]))
    if len(value) == 2:
        return tuple(max(least, round(v * r)) for v, r in zip(value, ratio))
    return tuple(
        max(least, round(v * (ratio[0] if i % 2 else ratio[1])))
        for i, v in enumerate(value))


def crop_params(crop: Any, size: Size, full: Size) -> Dict[str, Any]:
    """A resized crop's attributes at one stage.

    Example:
        >>> from types import SimpleNamespace
        >>> crop = SimpleNamespace(scale=(224, 224), interpolation='bicubic',
        ...                        backend='pillow')
        >>> crop_params(crop, (96, 96), (224, 224))
        {'scale': (96, 96), 'interpolation': 'lanczos', 'backend': 'pillow'}
        >>> crop_params(crop, (224, 224), (224, 224))['interpolation']
        'bicubic'
    """
    name = type(crop).__name__
    params: Dict[str, Any] = {RESIZED_CROPS.get(name, 'scale'): size}
    if name == 'MAERandomResizedCrop':
        # torchvision: PIL images are always anti-aliased; tensors need it
        if hasattr(crop, 'antialias'):
            params['antialias'] = True if size != full else crop.antialias
        return params
    params.update(SHRINK_FILTER if size != full else {
        k: getattr(crop, k)
        for k in SHRINK_FILTER
    })
    if name == 'EfficientNetRandomCrop':
        # Its fallback centre crop keeps scale / (scale + crop_padding) of
        # the short side: scaling both keeps the box.
        params['crop_padding'] = crop.crop_padding * size[0] / full[0]
    return params


def pixel_params(transform: Any, size: Size,
                 full: Size) -> Optional[Dict[str, Any]]:
    """Stage values of a later step's parameters given in pixels, or None
    for a step without any.

    Example:
        >>> from mmpretrain.registry import TRANSFORMS
        >>> cutout = TRANSFORMS.build(dict(type='Cutout', shape=16))
        >>> pixel_params(cutout, (112, 112), (224, 224))
        {'shape': 8}
    """
    ratio = (size[0] / full[0], size[1] / full[1])
    name = type(transform).__name__
    if name == 'RandomCrop':
        params = {'crop_size': _scaled(transform.crop_size, ratio)}
        if transform.padding is not None:
            params['padding'] = _scaled(transform.padding, ratio, 0)
        return params
    if name == 'Cutout':
        if transform.shape is not None:
            return {'shape': _scaled(transform.shape, ratio)}
        low, high = transform.magnitude_range
        return {'magnitude_range': (low * ratio[0], high * ratio[0])}
    if name == 'GaussianBlur':  # a radius in pixels (PIL's GaussianBlur)
        if transform.radius is not None:
            return {'radius': transform.radius * ratio[0]}
        # the drawn radius is linear in the range's ends
        low, high = transform.magnitude_range
        return {'magnitude_range': (low * ratio[0], high * ratio[0])}
    return None


class StageSizing:
    """Edit train pipelines for ``augment_at='stage'``.

    Args:
        make_step (callable): returns a new low-frequency step.
        log (callable): called with a message for each edit.
        scheduled (sequence of str): transform types the stages set
            parameters of; they stay separate steps. Defaults to none.
    """

    def __init__(self, make_step: Callable[[], Any],
                 log: Callable[[str], Any], scheduled: Sequence[str] = ()):
        self.make_step = make_step
        self.log = log
        self.scheduled = frozenset(scheduled)
        # per pipeline: (driven crop or None, later pixel-sized steps)
        self.driven: List[List[Tuple[Optional[Any], List[Any]]]] = []

    def prepare(self, pipeline: Compose,
                points: Sequence[Tuple[Compose, int]]) -> None:
        """Edit one pipeline, given its (papers') insertion points."""
        driven = []
        for view, tail in points:
            before = len(view.transforms)
            fuse_load_and_crop(view, self.log)
            tail -= before - len(view.transforms)
            point = resize_point(view, tail)
            crop = None if point is None else view.transforms[point]
            fused = None
            if crop is not None and type(crop).__name__ in RESIZED_CROPS:
                self.log(f'{type(crop).__name__} outputs each stage size '
                         '(Lanczos at reduced stages): the steps after it '
                         'run at the stage size')
            else:
                fused = self._fuse_crop(view, point, tail)
            if fused is not None:
                point, crop = fused, view.transforms[fused]
            elif type(crop).__name__ not in RESIZED_CROPS:
                index = tail if point is None else point + 1
                step = self.make_step()
                view.transforms.insert(index, step)
                where = 'before the packing' if point is None else \
                    f'after {type(crop).__name__}'
                self.log(f'inserted {step!r} into the train pipeline '
                         f'{where}: the steps after it run at the stage '
                         'size')
                point, crop = index, None
            later = [
                t for step in view.transforms[point + 1:]
                for t in [step] + [
                    inner for sub in sub_pipelines(step)
                    for inner in iter_transforms(sub)
                ] if pixel_params(t, (1, 1), (1, 1)) is not None
            ]
            if later:
                self.log('scaled with the stage: ' +
                         ', '.join(type(t).__name__ for t in later))
            driven.append((crop, later))
        self.driven.append(driven)

    def _fuse_crop(self, view: Compose, point: Optional[int],
                   tail: int) -> Optional[int]:
        """Replace the ``RandomCrop`` at ``point`` (or a translating one
        right after it) by a :class:`RandomCropResize`; its index, or None
        when nothing was fused."""
        steps = view.transforms
        if point is None:
            return None
        index = point
        if type(steps[point]).__name__ != 'RandomCrop':
            index = point + 1
            if index >= tail or type(steps[index]).__name__ != \
                    'RandomCrop' or \
                    _size_of(steps[index]) != _size_of(steps[point]):
                return None
        crop, step = steps[index], self.make_step()
        if not isinstance(step, LowFrequencyDownsample) or \
                step.interpolation != 'lanczos':
            return None
        if crop.pad_if_needed and crop.padding_mode != 'constant':
            self.log(f'kept {crop!r} apart from the low-frequency step: '
                     "only constant padding is fused")
            return None
        flip = steps[index + 1] if index + 1 < len(steps) else None
        if not RandomCropResize.can_fold(flip) or \
                'RandomFlip' in self.scheduled:
            flip = None
        steps[index] = fused = RandomCropResize.from_random_crop(crop, flip)
        replaced = f'{crop!r}, the low-frequency step'
        if flip is not None:
            del steps[index + 1]
            replaced += f' and {flip!r}'
        self.log(f'replaced {replaced} by {fused!r}: same crop window '
                 'and flips, padding folded into the Lanczos matrices, the '
                 'stage size in one step')
        return index

    def targets(self, index: int, sizes: Sequence[Size],
                full: Size) -> List[Tuple[Any, List[Dict[str, Any]]]]:
        """``(transform, params per stage)`` of pipeline ``index``."""
        found = []
        for crop, later in self.driven[index]:
            if isinstance(crop, RandomCropResize):
                found.append((crop, [{'size': s} for s in sizes]))
            elif crop is not None:
                found.append(
                    (crop, [crop_params(crop, s, full) for s in sizes]))
            found += [(t, [pixel_params(t, s, full) for s in sizes])
                      for t in later]
        return found
