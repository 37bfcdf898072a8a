"""Masked-image-modelling parts sized for the configured grid, made to
follow the stage's grid.

* CAE's ``CAENeck`` expands its mask token to a fixed count (75, the mask
  generator's at 224 px); the mask generator draws the stage's share of
  patches (:mod:`etpp_mm.attach.mask_generators`), so the variant takes the
  count from the masked positions it is given.
* MaskFeat's ``HOGGenerator`` groups HOG cells into patches assuming a
  14-patch-wide image; the variant groups ``patch_size / pool`` cells per
  patch side, the same grouping at 224 px and the model's grid at any
  other size.
"""
import torch
from mmpretrain.models.necks import CAENeck
from mmpretrain.models.selfsup.maskfeat import HOGGenerator


class ResolutionAdaptiveCAENeck(CAENeck):
    """``CAENeck`` for any number of masked tokens (same parameters and
    keys)."""

    @property
    def mask_token_num(self) -> int:
        state = self.__dict__
        if '_masked' in state:
            return state['_masked']
        # built as this class, or swapped in from MMPretrain's
        return state.get('_configured', state.get('mask_token_num'))

    @mask_token_num.setter
    def mask_token_num(self, value: int) -> None:
        self.__dict__['_configured'] = value

    def forward(self, x_unmasked: torch.Tensor,
                pos_embed_masked: torch.Tensor,
                pos_embed_unmasked: torch.Tensor):
        self.__dict__['_masked'] = pos_embed_masked.shape[1]
        return super().forward(x_unmasked, pos_embed_masked,
                               pos_embed_unmasked)


class ResolutionAdaptiveHOGGenerator(HOGGenerator):
    """``HOGGenerator`` for any image size; ``cells_per_patch`` (HOG cells
    per patch side) is set when it is adopted.

    Example:
        >>> hog = HOGGenerator(nbins=9, pool=8, gaussian_window=16)
        >>> ResolutionAdaptiveHOGGenerator.adopt(hog, patch_size=16)
        >>> hog(torch.rand(1, 3, 96, 96)).shape  # 6 x 6 patches
        torch.Size([1, 36, 108])
    """

    @classmethod
    def adopt(cls, generator: HOGGenerator, patch_size: int) -> None:
        """Turn a built ``HOGGenerator`` into this class, in place."""
        generator.__class__ = cls
        generator.__dict__['cells_per_patch'] = max(
            1, patch_size // generator.pool)

    def _reshape(self, hog_feat: torch.Tensor) -> torch.Tensor:
        size = self.__dict__['cells_per_patch']
        hog_feat = hog_feat.flatten(1, 2).permute(0, 2, 3, 1)
        hog_feat = hog_feat.unfold(1, size, size).unfold(2, size, size)
        return hog_feat.flatten(1, 2).flatten(2)
