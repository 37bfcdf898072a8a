"""Pure low-frequency image operators (no MMEngine dependency)."""
from .downsample import low_frequency_downsample
from .fourier import fourier_crop, fourier_low_pass
from .lanczos import lanczos_matrix, lanczos_resize, lanczos_resize_torch
from .size import check_fits, to_size_pair

__all__ = [
    'to_size_pair', 'check_fits', 'fourier_crop', 'fourier_low_pass',
    'low_frequency_downsample', 'lanczos_matrix', 'lanczos_resize',
    'lanczos_resize_torch'
]
