"""Mask generators of masked-image recipes, sized per stage.

BEiT, BEiT v2, CAE (``BEiTMaskGenerator``) and SimMIM
(``SimMIMMaskGenerator``) draw their mask in the train pipeline on a grid
fixed for the recipe's train size; at a smaller stage the model sees fewer
patches, so the grid follows the stage: the same patch size, the masked
share of patches kept. Each generator becomes a stage target: its
attributes per stage, applied with the pipeline's other stage parameters.
"""
import math
from typing import Any, Dict, List, Sequence, Tuple

from mmpretrain.datasets.transforms import (BEiTMaskGenerator,
                                            SimMIMMaskGenerator)

from .pipeline import find_transforms

Size = Tuple[int, int]


def _beit_params(generator: Any, size: Size, full: Size) -> Dict[str, Any]:
    height = max(1, round(generator.height * size[0] / full[0]))
    width = max(1, round(generator.width * size[1] / full[1]))
    share = height * width / generator.num_patches

    def scaled(count):
        return max(1, round(count * share))

    return dict(height=height, width=width, num_patches=height * width,
                num_masking_patches=scaled(generator.num_masking_patches),
                min_num_patches=scaled(generator.min_num_patches),
                max_num_patches=scaled(generator.max_num_patches))


def _simmim_params(generator: Any, size: Size, index: int,
                   key: str) -> Dict[str, Any]:
    step = generator.mask_patch_size
    if size[0] != size[1] or size[0] % step:
        raise ValueError(
            f'SimMIMMaskGenerator(mask_patch_size={step}) draws square masks '
            f'of {step}-pixel patches, but stage {index + 1} is '
            f'{size[0]}x{size[1]}: set {key}.size_divisor={step} (and '
            'square stage sizes)')
    rand_size = size[0] // step
    token_count = rand_size**2
    return dict(input_size=size[0], rand_size=rand_size,
                token_count=token_count,
                mask_count=int(math.ceil(token_count * generator.mask_ratio)))


def mask_generator_targets(pipeline: Any,
                           sizes: Sequence[Size],
                           full: Size,
                           key: str = 'EfficientTrainHook'
                           ) -> List[Tuple[Any, List[Dict[str, Any]]]]:
    """``(generator, attributes per stage)`` for each mask generator of
    ``pipeline``, read from its values at the train size ``full``.

    Example:
        >>> from mmcv.transforms import Compose
        >>> generator = BEiTMaskGenerator(
        ...     input_size=(14, 14), num_masking_patches=75)
        >>> [(_, stages)] = mask_generator_targets(
        ...     Compose([generator]), [(96, 96), (224, 224)], (224, 224))
        >>> [(s['height'], s['num_masking_patches']) for s in stages]
        [(6, 14), (14, 75)]
    """
    targets = []
    for generator in find_transforms(
            pipeline, lambda t: isinstance(
                t, (BEiTMaskGenerator, SimMIMMaskGenerator))):
        if isinstance(generator, BEiTMaskGenerator):
            params = [_beit_params(generator, s, full) for s in sizes]
        else:
            params = [
                _simmim_params(generator, s, i, key)
                for i, s in enumerate(sizes)
            ]
        targets.append((generator, params))
    return targets


def mask_patch_divisor(pipelines: Sequence[Any]) -> int:
    """The size every stage must be a multiple of for the pipelines' mask
    generators to draw whole mask patches (SimMIM's ``mask_patch_size``);
    1 when none needs one.

    Example:
        >>> from mmcv.transforms import Compose
        >>> mask_patch_divisor([Compose([SimMIMMaskGenerator(
        ...     input_size=192, mask_patch_size=32, model_patch_size=4)])])
        32
    """
    divisor = 1
    for pipeline in pipelines:
        for generator in find_transforms(
                pipeline, lambda t: isinstance(t, SimMIMMaskGenerator)):
            divisor = math.lcm(divisor, generator.mask_patch_size)
    return divisor
