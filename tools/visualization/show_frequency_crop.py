"""Show what the curriculum's low-frequency step does to one image.

The image is resized (shorter side) and center-cropped to 224, then taken
to each stage size three ways: the exact Fourier crop
(``etpp_mm.ops.fourier_crop``), Lanczos down-sampling
(``etpp_mm.ops.low_frequency_downsample``, what the released ET++ uses) and
a naive resize (OpenCV nearest neighbour: no low-pass, so it aliases). Each
result is shown with its log-magnitude spectrum; the grid is saved as PNG.

Example::

    python tools/visualization/show_frequency_crop.py --skimage astronaut \
        --out docs/images/frequency_crop_astronaut.png
    python tools/visualization/show_frequency_crop.py photo.jpg \
        --sizes 96 160 --out crops.png
"""
import argparse
import os
import os.path as osp
import sys
from typing import Callable, Dict, Sequence

import matplotlib

matplotlib.use('Agg')  # files only, no display needed

import matplotlib.pyplot as plt  # noqa: E402
import mmcv  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from etpp_mm.ops import fourier_crop, low_frequency_downsample  # noqa: E402

FULL_SIZE = 224


def naive_resize(img: np.ndarray, size: int) -> np.ndarray:
    """Nearest-neighbour resize: picks pixels, filters nothing."""
    return mmcv.imresize(
        img, (size, size), interpolation='nearest', backend='cv2')


METHODS: Dict[str, Callable[[np.ndarray, int], np.ndarray]] = {
    'exact Fourier crop': fourier_crop,
    'Lanczos (pillow)': low_frequency_downsample,
    'naive resize (cv2 nearest)': naive_resize,
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Compare the exact low-frequency crop, Lanczos '
        'down-sampling and naive resizing on one image, with spectra')
    parser.add_argument('image', nargs='?', help='image file')
    parser.add_argument(
        '--skimage',
        metavar='NAME',
        help='use scikit-image\'s sample photo NAME (e.g. astronaut) '
        'instead of a file')
    parser.add_argument(
        '--sizes',
        type=int,
        nargs='+',
        default=[96, 160, 192],
        help=f'stage sizes, at most {FULL_SIZE} (default: 96 160 192)')
    parser.add_argument(
        '--out', default='frequency_crop.png', help='output PNG')
    parser.add_argument(
        '--dpi', type=int, default=72, help='resolution of the PNG')
    args = parser.parse_args(argv)
    if (args.image is None) == (args.skimage is None):
        parser.error('give either IMAGE or --skimage NAME')
    bad = [s for s in args.sizes if not 0 < s <= FULL_SIZE]
    if bad:
        parser.error(f'--sizes must be in 1..{FULL_SIZE}, got {bad}')
    return args


def load_image(path: str = None, skimage_name: str = None) -> np.ndarray:
    """An RGB uint8 image, shorter side resized to 224 and center-cropped.

    Example:
        >>> load_image(skimage_name='astronaut').shape
        (224, 224, 3)
    """
    if skimage_name is not None:
        import skimage.data
        loader = getattr(skimage.data, skimage_name, None)
        if not callable(loader):
            raise ValueError(f'skimage.data has no image {skimage_name!r}')
        img = np.asarray(loader())
    else:
        if not osp.isfile(path):
            raise ValueError(f'no such image file: {path}')
        img = mmcv.imread(path, channel_order='rgb')
    if img.ndim == 2:  # grey photos (camera, ...) shown as RGB
        img = np.repeat(img[..., None], 3, axis=2)
    img = img[..., :3].astype(np.uint8)
    # Shorter side to 224, as ImageNet evaluation does, then the centre.
    scale = FULL_SIZE / min(img.shape[:2])
    if scale != 1:
        img = mmcv.imrescale(
            img, scale, interpolation='bicubic', backend='pillow')
    h, w = img.shape[:2]
    top, left = (h - FULL_SIZE) // 2, (w - FULL_SIZE) // 2
    return np.ascontiguousarray(img[top:top + FULL_SIZE,
                                    left:left + FULL_SIZE])


def log_spectrum(img: np.ndarray, grid: int = FULL_SIZE) -> np.ndarray:
    """Centred log-magnitude spectrum of the grey image on a ``grid``-wide
    frequency axis.

    A smaller image's spectrum sits in the centre of the full size's one
    (blank outside), so every panel shares the same frequency scale: the
    exact crop shows as a sharp square, a naive resize folds the dropped
    frequencies back in. Magnitudes are scaled by ``(grid / size) ** 2`` so
    the same content has the same brightness at every size.

    Example:
        >>> log_spectrum(np.zeros((8, 8, 3), np.uint8), grid=16).shape
        (16, 16)
    """
    grey = img.astype(np.float64).mean(axis=2)
    h, w = grey.shape
    spectrum = np.abs(np.fft.fftshift(np.fft.fft2(grey)))
    spectrum *= (grid * grid) / (h * w)
    canvas = np.full((grid, grid), np.nan)
    top, left = grid // 2 - h // 2, grid // 2 - w // 2
    canvas[top:top + h, left:left + w] = np.log1p(spectrum)
    return canvas


def draw(img: np.ndarray, sizes: Sequence[int], out: str, dpi: int) -> None:
    """Draw the grid: one row pair (image, spectrum) per method, one column
    per size, the 224 original first."""
    columns = [FULL_SIZE] + list(sizes)
    rows = 2 * len(METHODS)
    fig, axes = plt.subplots(
        rows,
        len(columns),
        figsize=(2.2 * len(columns), 2.2 * rows),
        dpi=dpi)
    vmax = np.nanmax(log_spectrum(img))  # one colour scale for all panels
    for row, (name, method) in enumerate(METHODS.items()):
        for col, size in enumerate(columns):
            small = img if size == FULL_SIZE else method(img, size)
            picture, spectrum = axes[2 * row, col], axes[2 * row + 1, col]
            # Every image drawn at the same extent, so smaller = blurrier.
            picture.imshow(small, interpolation='nearest')
            spectrum.imshow(
                log_spectrum(small), cmap='magma', vmin=0, vmax=vmax)
            picture.set_title(f'{name}\n{size}x{size}'
                              if col else f'original {size}x{size}',
                              fontsize=7)
            spectrum.set_title('log |FFT|', fontsize=7)
            for axis in (picture, spectrum):
                axis.set_xticks([])
                axis.set_yticks([])
    fig.tight_layout()
    folder = osp.dirname(osp.abspath(out))
    os.makedirs(folder, exist_ok=True)
    fig.canvas.draw()
    rgb = Image.fromarray(np.asarray(fig.canvas.buffer_rgba())[..., :3])
    plt.close(fig)
    # 256 colours: a third of the size of a true-colour PNG (the noisy
    # spectra compress badly), still faithful enough to judge blur/aliasing.
    rgb.quantize(256, method=Image.Quantize.MEDIANCUT).save(
        out, optimize=True)


def main(argv=None):
    args = parse_args(argv)
    try:
        img = load_image(args.image, args.skimage)
    except ValueError as err:
        sys.exit(f'error: {err}')
    draw(img, args.sizes, args.out, args.dpi)
    print(f'saved {args.out}')


if __name__ == '__main__':
    main()
