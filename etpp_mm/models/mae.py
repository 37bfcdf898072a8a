"""MAE's encoder and decoder at any input size.

MMPretrain's ``MAEViT`` and ``MAEPretrainDecoder`` add position embeddings of
the configured size (14 x 14 patches at 224), so any other input size fails.
These variants resize both fixed sin-cos tables to the batch's patch grid on
every forward, with MMPretrain's own ``resize_pos_embed`` (bicubic, what
``VisionTransformer`` does for classification): a low-frequency image covers
the same field of view as the full one, so patch ``(i, j)`` of a 6 x 6 grid
takes the embedding of the point it covers in the 14 x 14 grid. At the
configured size they are the MMPretrain classes exactly. The tables are not
learnt during pre-training, so nothing has to be resized in the optimizer.

The reconstruction target needs no variant: ``MAEPretrainHead`` patchifies
the input batch, which is already at the stage size, and the mask follows the
number of patches.
"""
import math
from typing import Optional, Tuple

import torch
from mmpretrain.models.necks import MAEPretrainDecoder
from mmpretrain.models.selfsup import MAEHiViT, MAEViT
from mmpretrain.models.utils import resize_pos_embed
from mmpretrain.registry import MODELS


@MODELS.register_module()
class ResolutionAdaptiveMAEViT(MAEViT):
    """``MAEViT`` that pre-trains at any input size divisible by the patch
    size. Same arguments as ``MAEViT``.

    Example:
        >>> import torch
        >>> from etpp_mm.models import ResolutionAdaptiveMAEViT
        >>> vit = ResolutionAdaptiveMAEViT(
        ...     arch=dict(embed_dims=32, num_layers=1, num_heads=2,
        ...               feedforward_channels=64),
        ...     img_size=224, patch_size=16)
        >>> latent, mask, ids_restore = vit(torch.rand(2, 3, 96, 96))
        >>> tuple(latent.shape), tuple(mask.shape)  # 36 patches, 9 kept
        ((2, 10, 32), (2, 36))
    """

    def forward(
        self,
        x: torch.Tensor,
        mask: Optional[bool] = True
    ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        if mask is None or mask is False:
            return super().forward(x, mask)  # ViT: interpolates by itself
        batch = x.shape[0]
        x, patch_resolution = self.patch_embed(x)
        pos_embed = resize_pos_embed(
            self.pos_embed,
            self.patch_resolution,
            patch_resolution,
            mode=self.interpolate_mode,
            num_extra_tokens=self.num_extra_tokens)
        x = x + pos_embed[:, 1:, :]
        x, mask, ids_restore = self.random_masking(x, self.mask_ratio)
        cls_token = (self.cls_token + pos_embed[:, :1, :]).expand(
            batch, -1, -1)
        x = torch.cat((cls_token, x), dim=1)
        for layer in self.layers:
            x = layer(x)
        return self.norm1(x), mask, ids_restore


@MODELS.register_module()
class ResolutionAdaptiveMAEPretrainDecoder(MAEPretrainDecoder):
    """``MAEPretrainDecoder`` for square patch grids of any size. Same
    arguments as ``MAEPretrainDecoder``; ``num_patches`` is the configured
    (full-size) grid.

    Example:
        >>> import torch
        >>> from etpp_mm.models import ResolutionAdaptiveMAEPretrainDecoder
        >>> decoder = ResolutionAdaptiveMAEPretrainDecoder(
        ...     num_patches=196, embed_dim=32, decoder_embed_dim=16,
        ...     decoder_depth=1, decoder_num_heads=2)
        >>> ids_restore = torch.arange(36).expand(2, 36)  # a 6 x 6 grid
        >>> tuple(decoder(torch.rand(2, 10, 32), ids_restore).shape)
        (2, 36, 768)
    """

    def forward(self, x: torch.Tensor,
                ids_restore: torch.Tensor) -> torch.Tensor:
        num_patches = ids_restore.shape[1]
        side = math.isqrt(num_patches)
        if side * side != num_patches:
            raise ValueError(
                f'{type(self).__name__} needs a square patch grid, got '
                f'{num_patches} patches: use square stage sizes')
        full_side = math.isqrt(self.num_patches)
        pos_embed = resize_pos_embed(
            self.decoder_pos_embed, (full_side, full_side), (side, side),
            mode='bicubic',
            num_extra_tokens=1)

        x = self.decoder_embed(x)
        # visible tokens + mask tokens, back in the original patch order
        mask_tokens = self.mask_token.expand(x.shape[0],
                                             num_patches + 1 - x.shape[1], -1)
        tokens = torch.cat([x[:, 1:, :], mask_tokens], dim=1)
        tokens = torch.gather(
            tokens,
            dim=1,
            index=ids_restore.unsqueeze(-1).expand(-1, -1, x.shape[2]))
        x = torch.cat([x[:, :1, :], tokens], dim=1) + pos_embed
        for block in self.decoder_blocks:
            x = block(x)
        x = self.decoder_pred(self.decoder_norm(x))
        return x[:, 1:, :]  # drop the cls token


@MODELS.register_module()
class ResolutionAdaptiveMAEHiViT(MAEHiViT):
    """``MAEHiViT`` that pre-trains at any input size divisible by the
    patch size: its random masking draws over the input's patches instead
    of the configured 14 x 14 (HiViT interpolates its position embedding by
    itself). At the configured size it draws the same masks as MMPretrain's
    from the same random state. Same arguments as ``MAEHiViT``.

    Example:
        >>> vit = ResolutionAdaptiveMAEHiViT(arch='tiny', img_size=224)
        >>> latent, mask, ids_restore = vit(torch.rand(1, 3, 96, 96))
        >>> tuple(mask.shape)  # 36 patches
        (1, 36)
    """

    def forward(self, x: torch.Tensor, mask: Optional[bool] = True):
        self.__dict__['_patches'] = (x.shape[-2] // self.patch_size) * (
            x.shape[-1] // self.patch_size)
        return super().forward(x, mask)

    def masking_id(self, batch_size: int, mask_ratio: float):
        patches = self.__dict__.get('_patches', self.pos_embed.size(1))
        device = self.pos_embed.device
        keep = int(patches * (1 - mask_ratio))
        # a random order of the patches: the first `keep` stay visible
        order = torch.rand(batch_size, patches, device=device).argsort(dim=1)
        restore = order.argsort(dim=1)
        mask = torch.ones(batch_size, patches, device=device)
        mask[:, :keep] = 0
        return order[:, :keep], restore, torch.gather(mask, 1, restore)
