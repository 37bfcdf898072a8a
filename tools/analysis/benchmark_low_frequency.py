"""Benchmark the low-frequency operators against each other and a model step.

Measures, on a real photo resized to 224 x 224:

* per-image CPU cost of the exact Fourier crop (NumPy, uint8 in and out, as
  the ``FourierCrop`` transform runs it), of Lanczos down-sampling (pillow,
  as ``LowFrequencyDownsample`` runs it) and of a plain, non-anti-aliased
  resize (OpenCV bilinear);
* the PSNR of each against the exact crop (float, unrounded);
* the batched torch crop of an ``N x 3 x 224 x 224`` float tensor (what
  ``LowFrequencyDataPreprocessor`` runs) against one forward + backward step
  of torchvision's ResNet-50 on the same device.

Machines are noisy, so the methods are interleaved within every repeat,
medians are reported, and ratios matter more than absolute times.

Example:
    python tools/analysis/benchmark_low_frequency.py --repeats 30
    python tools/analysis/benchmark_low_frequency.py --device cuda \
        --rn50-batch 128 --rn50-repeats 5
"""
import argparse
import functools
import os
import os.path as osp
import platform
import sys
from typing import Callable, Sequence

import mmcv
import numpy as np
import torch
from PIL import Image

from etpp_mm.ops import fourier_crop, low_frequency_downsample

# etpp_bench, the benchmark harness, is not installed with etpp_mm: it is
# imported from the checkout this tool belongs to
sys.path.insert(
    0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from etpp_bench.timing import interleaved_timings  # noqa: E402

PER_IMAGE_METHODS = ('exact crop (numpy)', 'Lanczos (pillow)',
                     'plain resize (cv2 bilinear)')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Benchmark exact Fourier cropping against Lanczos '
        'down-sampling, plain resizing and a ResNet-50 training step.')
    parser.add_argument(
        '--sizes',
        type=int,
        nargs='+',
        default=[96, 160, 192],
        help='target sizes from 224 (default: 96 160 192)')
    parser.add_argument(
        '--photo',
        default='astronaut',
        help='scikit-image photo to use (default: astronaut)')
    parser.add_argument(
        '--repeats',
        type=int,
        default=30,
        help='timed repeats per-image; each times --number calls '
        '(default: 30)')
    parser.add_argument(
        '--number',
        type=int,
        default=10,
        help='calls per per-image repeat (default: 10)')
    parser.add_argument(
        '--device', default='cpu', help='device of the batched part')
    parser.add_argument(
        '--batch',
        type=int,
        default=128,
        help='batch of the batched crop (default: 128)')
    parser.add_argument(
        '--batch-repeats',
        type=int,
        default=5,
        help='timed repeats of the batched crop (default: 5)')
    parser.add_argument(
        '--rn50-batch',
        type=int,
        default=None,
        help='ResNet-50 batch; its time is scaled linearly to --batch. '
        'Default: --batch on GPU, 16 on CPU (a 128 step takes minutes and '
        '~16 GB on a small CPU machine)')
    parser.add_argument(
        '--rn50-repeats',
        type=int,
        default=1,
        help='timed ResNet-50 steps after one warm-up (default: 1)')
    parser.add_argument(
        '--skip-rn50', action='store_true', help='skip the ResNet-50 part')
    return parser.parse_args(argv)


def load_photo(name: str, size: int = 224) -> np.ndarray:
    import skimage.data
    img = Image.fromarray(getattr(skimage.data, name)())
    # A writable copy: torch warns on read-only arrays.
    return np.array(img.resize((size, size), Image.Resampling.BICUBIC))


def psnr(img: np.ndarray, ref: np.ndarray) -> float:
    err = img.astype(np.float64) - ref
    return float(10 * np.log10(255.0**2 / np.mean(err**2)))


def per_image_methods(img: np.ndarray, size: int):
    return {
        PER_IMAGE_METHODS[0]:
        lambda: fourier_crop(img, size),
        PER_IMAGE_METHODS[1]:
        lambda: low_frequency_downsample(img, size, 'lanczos'),
        PER_IMAGE_METHODS[2]:
        lambda: mmcv.imresize(
            img, (size, size), interpolation='bilinear', backend='cv2'),
    }


def synchronize(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def synced(func: Callable[[], object],
           device: torch.device) -> Callable[[], None]:
    """``func`` returning only once the device has done its work, so that
    a call's time is the work's and not the queueing's."""

    def call():
        func()
        synchronize(device)

    return call


def time_batched_crops(batch: torch.Tensor, sizes: Sequence[int],
                       repeats: int) -> dict:
    """Median seconds of the batched crop to each size, interleaved."""
    return interleaved_timings(
        {
            size: synced(functools.partial(fourier_crop, batch, size),
                         batch.device)
            for size in sizes
        }, repeats).medians


def time_resnet50_step(device: torch.device, batch: int,
                       repeats: int) -> float:
    import torchvision
    model = torchvision.models.resnet50().to(device).train()
    inputs = torch.randn(batch, 3, 224, 224, device=device)
    labels = torch.randint(0, 1000, (batch, ), device=device)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        model.zero_grad(set_to_none=True)
        loss_fn(model(inputs), labels).backward()

    return interleaved_timings({'step': synced(step, device)},
                               repeats).medians['step']


def cpu_model_name() -> str:
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or 'unknown CPU'


def describe_machine(device: torch.device) -> str:
    parts = [
        f'{cpu_model_name()}, {os.cpu_count()} logical CPUs',
        f'torch {torch.__version__} ({torch.get_num_threads()} threads)',
        f'numpy {np.__version__}', f'Pillow {Image.__version__}'
    ]
    if device.type == 'cuda':
        parts.append(torch.cuda.get_device_name(device))
    return '; '.join(parts)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence]) -> str:
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    lines += ['| ' + ' | '.join(str(c) for c in row) + ' |' for row in rows]
    return '\n'.join(lines)


def main(argv=None) -> None:
    args = parse_args(argv)
    device = torch.device(args.device)
    img = load_photo(args.photo)
    print(f'Machine: {describe_machine(device)}')
    print(f'Photo: skimage.data.{args.photo}() resized to 224x224 (uint8)\n')

    rows = []
    for size in args.sizes:
        medians = interleaved_timings(
            per_image_methods(img, size), args.repeats,
            number=args.number).medians
        exact, lanczos, plain = (medians[m] for m in PER_IMAGE_METHODS)
        reference = fourier_crop(img.astype(np.float64), size)
        scores = [
            psnr(func(), reference)
            for func in per_image_methods(img, size).values()
        ]
        rows.append([
            f'224 -> {size}', f'{exact * 1e3:.2f}', f'{lanczos * 1e3:.2f}',
            f'{plain * 1e3:.3f}', f'{exact / lanczos:.2f}x',
            f'{scores[0]:.1f}', f'{scores[1]:.1f}', f'{scores[2]:.1f}'
        ])
    print(f'Per-image CPU cost, median of {args.repeats} x {args.number} '
          'calls, ms (PSNR in dB against the unrounded exact crop):\n')
    print(
        markdown_table([
            'size', 'exact crop', 'Lanczos', 'plain resize', 'exact / Lanczos',
            'PSNR exact uint8', 'PSNR Lanczos', 'PSNR plain'
        ], rows))

    batch = torch.from_numpy(img).permute(2, 0, 1).float()
    batch = batch.expand(args.batch, -1, -1, -1).contiguous().to(device)
    crop_times = time_batched_crops(batch, args.sizes, args.batch_repeats)
    rn50 = None
    if not args.skip_rn50:
        rn50_batch = args.rn50_batch or (args.batch
                                         if device.type == 'cuda' else 16)
        rn50_step = time_resnet50_step(device, rn50_batch, args.rn50_repeats)
        rn50 = rn50_step * args.batch / rn50_batch
        scaled = '' if rn50_batch == args.batch else (
            f', measured at batch {rn50_batch} and scaled linearly')
        print(f'\nResNet-50 forward + backward at batch {args.batch}, 224px '
              f'on {device}: {rn50:.2f} s (median of {args.rn50_repeats} '
              f'after a warm-up{scaled})')
    rows = []
    for size, seconds in crop_times.items():
        rows.append([
            f'224 -> {size}', f'{seconds * 1e3:.1f}',
            f'{seconds / args.batch * 1e3:.3f}',
            '-' if rn50 is None else f'{100 * seconds / rn50:.2f}%'
        ])
    print(f'\nBatched torch crop of a {args.batch}x3x224x224 float32 tensor '
          f'on {device}, median of {args.batch_repeats}:\n')
    print(
        markdown_table(
            ['size', 'batch crop, ms', 'per image, ms', 'crop / RN50 step'],
            rows))


if __name__ == '__main__':
    main()
