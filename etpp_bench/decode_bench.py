"""What the fused load-and-crop step spends per image on JPEG photos, by
output size, and what other decoders would spend on the same crop boxes.

``LoadImageAndRandomResizedCrop`` draws MMPretrain's ``RandomResizedCrop``
box from the JPEG header, decodes at 1/2, 1/4 or 1/8 size where the box
still holds the output size there and resamples the box with Pillow's
Lanczos. This module measures, on one set of files:

* how often each reduction is chosen, per output size (pure arithmetic on
  the drawn boxes);
* the per-image cost of that step against the two-step recipe
  (``LoadImageFromFile`` + ``RandomResizedCrop(backend='pillow',
  interpolation='lanczos')``), and the part of it spent in the decoder;
* the same step with another decoder behind it: libjpeg-turbo's scales of
  ``M/8`` for ``M`` in 1..8 through ``simplejpeg`` (so a 250 px box at
  160 px decodes at 6/8 instead of fully; OpenCV keeps the power-of-two
  scales), ``simplejpeg`` at the same power-of-two scales, with and
  without its fast DCT and upsampling, Pillow's draft mode, and, where
  PyTurboJPEG 1.x and the system's libturbojpeg are installed, a lossless
  crop to the box before decoding the boxes that decode at full size;
  each against the recipe's image on the same box (PSNR).

Every variant runs the same steps in the same order (read the file, parse
the header, draw the box with the same seed, decode, cut, resample), so
the timings differ in the decoder and what it leaves to resample. All
variants are timed round by round, in turn
(:func:`etpp_bench.timing.interleaved_timings`), as one process on one
thread: a loader worker's view.

Run::

    OMP_NUM_THREADS=1 python -m etpp_bench.decode_bench --jpegs 50
"""
import argparse
import math
import os
import os.path as osp
import statistics
import tempfile
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

Box = Tuple[int, int, int, int]
Decoder = Callable[[bytes, int], np.ndarray]

# ImageNet's training photos average about 400 x 350 (width x height).
PHOTO_WH = (400, 350)
SIZES = (96, 128, 160, 192, 224)
POW2_EIGHTHS = (1, 2, 4, 8)  # 1/8, 1/4, 1/2 and full size, in eighths


def pow2_eighths(box: Box, out_hw: Tuple[int, int]) -> int:
    """The scale, in eighths, that ``LoadImageAndRandomResizedCrop``
    decodes at: the largest of 1/8, 1/4, 1/2 that keeps the box at least
    ``out_hw``, else full size.

    Args:
        box (tuple): ``(top, left, height, width)`` in full-image pixels.
        out_hw (tuple): the output ``(h, w)``.

    Returns:
        int: ``M`` in 1, 2, 4, 8 (the scale is ``M / 8``).

    Examples:
        >>> pow2_eighths((0, 0, 250, 250), (160, 160))
        8
        >>> pow2_eighths((0, 0, 350, 400), (96, 96))  # 1/4: 87 px < 96
        4
    """
    from etpp_mm.ops.reduced_decode import choose_reduction
    return 8 // choose_reduction(box, out_hw)


def finest_eighths(box: Box, out_hw: Tuple[int, int]) -> int:
    """The smallest scale ``M/8`` (``M`` in 1..8) at which the box still
    holds ``out_hw`` pixels: libjpeg-turbo scales by any eighth.

    Args:
        box (tuple): ``(top, left, height, width)`` in full-image pixels.
        out_hw (tuple): the output ``(h, w)``.

    Returns:
        int: ``M``; 8 (full size) when even that is too small.

    Examples:
        >>> finest_eighths((0, 0, 250, 250), (160, 160))  # 156 < 160
        6
        >>> finest_eighths((0, 0, 256, 300), (160, 160))
        5
        >>> finest_eighths((0, 0, 100, 100), (160, 160))
        8
    """
    _, _, bh, bw = box
    h, w = out_hw
    # bh * M / 8 >= h  <=>  M >= 8 h / bh
    need = max(math.ceil(8 * h / bh), math.ceil(8 * w / bw), 1)
    return min(need, 8)


def eighths_rule(allowed: Sequence[int]) -> Callable:
    """:func:`finest_eighths` restricted to the scales in ``allowed``: the
    smallest allowed ``M`` at or above the finest, else 8 (full size).

    libjpeg-turbo decodes 3/8 at about the cost of 4/8, but 5/8, 6/8 and
    7/8 cost about as much as a full decode or more (measured), so a rule
    may skip them.

    Args:
        allowed (Sequence[int]): the scales in eighths (8 is added).

    Returns:
        callable: ``rule(box, out_hw) -> M``.

    Examples:
        >>> rule = eighths_rule((1, 2, 3, 4, 5))
        >>> rule((0, 0, 250, 250), (160, 160)), rule((0, 0, 300, 300),
        ...                                          (96, 96))
        (8, 3)
    """
    allowed = sorted(set(allowed) | {8})

    def rule(box: Box, out_hw: Tuple[int, int]) -> int:
        finest = finest_eighths(box, out_hw)
        return next(m for m in allowed if m >= finest)

    return rule


def scaled_box(box: Box, eighths: int) -> Tuple[float, ...]:
    """Pillow's ``(left, top, right, bottom)`` of ``box`` on the image
    decoded at ``eighths / 8``: a scaled IDCT maps full pixel ``x`` to
    ``x * M / 8``, kept at sub-pixel precision.

    Args:
        box (tuple): ``(top, left, height, width)`` in full-image pixels.
        eighths (int): the decode scale ``M``.

    Returns:
        tuple: ``(left, top, right, bottom)`` in decoded pixels.

    Examples:
        >>> scaled_box((8, 16, 80, 40), 5)
        (10.0, 5.0, 35.0, 55.0)
    """
    top, left, bh, bw = box
    s = eighths / 8
    return (left * s, top * s, (left + bw) * s, (top + bh) * s)


def scaled_shape(hw: Tuple[int, int], eighths: int) -> Tuple[int, int]:
    """libjpeg's output size at ``eighths / 8``: ``ceil(side * M / 8)``.

    Args:
        hw (tuple): the full ``(H, W)``.
        eighths (int): the decode scale ``M``.

    Returns:
        tuple: the decoded ``(h, w)``.

    Examples:
        >>> scaled_shape((350, 400), 3)
        (132, 150)
    """
    return tuple(-(-side * eighths // 8) for side in hw)


def crop_resize(img: np.ndarray, box: Box, eighths: int,
                out_hw: Tuple[int, int]) -> np.ndarray:
    """The fused step's resampling of ``box`` from an image decoded at
    ``eighths / 8``: at full size the whole-pixel crop (the recipe's image
    bit for bit), else the sub-pixel box over the part a Lanczos window can
    reach.

    Args:
        img (numpy.ndarray): the decoded uint8 image.
        box (tuple): ``(top, left, height, width)`` in full-image pixels.
        eighths (int): the decode scale in eighths.
        out_hw (tuple): the output ``(h, w)``.

    Returns:
        numpy.ndarray: the ``out_hw`` crop.

    Examples:
        >>> img = np.zeros((175, 200, 3), np.uint8)
        >>> crop_resize(img, (10, 20, 300, 300), 4, (96, 96)).shape
        (96, 96, 3)
    """
    from etpp_mm.ops.lanczos import pillow_lanczos
    from etpp_mm.ops.reduced_decode import crop_for_resize
    h, w = out_hw
    if eighths == 8:
        top, left, bh, bw = box
        crop = img[top:top + bh, left:left + bw]
        return pillow_lanczos(np.ascontiguousarray(crop), h, w)
    cut, sub_box = crop_for_resize(img, scaled_box(box, eighths), out_hw)
    return pillow_lanczos(np.ascontiguousarray(cut), h, w, box=sub_box)


def decode_cv2(buf: bytes, eighths: int) -> np.ndarray:
    """OpenCV's ``IMREAD_REDUCED_COLOR_*`` (BGR): what the fused step uses.

    Args:
        buf (bytes): the JPEG file.
        eighths (int): 1, 2, 4 or 8.

    Returns:
        numpy.ndarray: the BGR image at ``eighths / 8``.
    """
    from etpp_mm.ops.reduced_decode import decode_jpeg
    return decode_jpeg(buf, 8 // eighths)


def decode_pillow_draft(buf: bytes, eighths: int) -> np.ndarray:
    """Pillow's draft mode (libjpeg's ``scale_denom``), returned BGR as
    the other decoders.

    Args:
        buf (bytes): the JPEG file.
        eighths (int): 1, 2, 4 or 8.

    Returns:
        numpy.ndarray: the BGR image (a view) at ``eighths / 8``.
    """
    import io

    from PIL import Image
    with Image.open(io.BytesIO(buf)) as im:
        w, h = im.size
        # draft picks the largest reduction that keeps at least this size
        im.draft('RGB', (-(-w * eighths // 8), -(-h * eighths // 8)))
        rgb = np.asarray(im.convert('RGB'))
    return rgb[..., ::-1]


def simplejpeg_decoder(fast: bool = False) -> Decoder:
    """``simplejpeg.decode_jpeg`` (BGR) at any ``eighths`` in 1..8.

    ``min_height``/``min_width`` make it pick the smallest libjpeg-turbo
    scale whose output is at least that size, which is ``eighths / 8``
    when they are that scale's output size.

    Args:
        fast (bool): libjpeg-turbo's fast integer DCT and nearest-neighbour
            chroma upsampling.

    Returns:
        callable: ``decode(buf, eighths)``.
    """
    import simplejpeg

    def decode(buf: bytes, eighths: int) -> np.ndarray:
        h, w = simplejpeg.decode_jpeg_header(buf)[:2]
        mh, mw = scaled_shape((h, w), eighths)
        return simplejpeg.decode_jpeg(
            buf, 'BGR', fastdct=fast, fastupsample=fast, min_height=mh,
            min_width=mw)

    return decode


def mixed_decoder(finer: Decoder) -> Decoder:
    """OpenCV at 1/8, 1/4, 1/2 and full size (the fused step's decoder,
    the recipe's at full size) and ``finer`` at the other eighths.

    Args:
        finer (callable): ``decode(buf, eighths)`` for 3, 5, 6, 7.

    Returns:
        callable: ``decode(buf, eighths)`` for any ``eighths`` in 1..8.
    """

    def decode(buf: bytes, eighths: int) -> np.ndarray:
        if eighths in POW2_EIGHTHS:
            return decode_cv2(buf, eighths)
        return finer(buf, eighths)

    return decode


def whole(decoder: Decoder) -> Callable:
    """``decoder`` as a region decoder: the whole image, the box as is.

    Args:
        decoder (callable): ``decode(buf, eighths)``.

    Returns:
        callable: ``decode(buf, eighths, box, out_hw) -> (image, box)``.
    """

    def decode(buf: bytes, eighths: int, box: Box, out_hw) -> tuple:
        return decoder(buf, eighths), box

    return decode


def mcu_region(box: Box, hw: Tuple[int, int],
               mcu: Tuple[int, int]) -> Tuple[int, int, int, int]:
    """``(y0, x0, y1, x1)``: ``box`` grown by one MCU on every side (the
    chroma upsampling reads a neighbour), its start on the MCU grid (where
    a lossless crop starts), clipped to the image.

    Args:
        box (tuple): ``(top, left, height, width)``.
        hw (tuple): the image's ``(H, W)``.
        mcu (tuple): the MCU's ``(height, width)``.

    Returns:
        tuple: the region's corners.

    Examples:
        >>> mcu_region((40, 50, 100, 100), (350, 400), (16, 16))
        (16, 32, 156, 166)
    """
    top, left, bh, bw = box
    (h, w), (mh, mw) = hw, mcu
    y0 = max(top - mh, 0) // mh * mh
    x0 = max(left - mw, 0) // mw * mw
    return y0, x0, min(top + bh + mh, h), min(left + bw + mw, w)


def turbojpeg_crop_decoder() -> Callable:
    """Cropped decoding through PyTurboJPEG 1.x (libturbojpeg 2): a
    lossless crop to the MCU-aligned region the resize reads, then that
    small JPEG decoded, at full size only (a crop costs more than a
    reduced decode of the whole file); other scales by OpenCV.

    Returns:
        callable: ``decode(buf, eighths, box, out_hw) -> (image, box in
        it)``.
    """
    import turbojpeg
    tj = turbojpeg.TurboJPEG()

    def decode(buf: bytes, eighths: int, box: Box, out_hw) -> tuple:
        if eighths != 8:
            return decode_cv2(buf, eighths), box
        w, h, sub, _ = tj.decode_header(buf)
        mcu = (turbojpeg.tjMCUHeight[sub], turbojpeg.tjMCUWidth[sub])
        # At full size the box is cut before resampling, so nothing
        # beyond it is read.
        y0, x0, y1, x1 = mcu_region(box, (h, w), mcu)
        # preserve=True keeps an aligned start and lets the region reach
        # the image's partial last MCU (preserve=False would drop it).
        small = tj.crop(buf, x0, y0, x1 - x0, y1 - y0, preserve=True)
        img = tj.decode(small)
        return img, (box[0] - y0, box[1] - x0, box[2], box[3])

    return decode


def plain_decoders(have_simplejpeg: bool) -> Dict[str, Decoder]:
    """``{name: decoder}`` of the whole-file decoders.

    Args:
        have_simplejpeg (bool): add simplejpeg's (plain and fast).

    Returns:
        dict: ``{name: decode(buf, eighths)}``.

    Examples:
        >>> sorted(plain_decoders(False))
        ['cv2', 'pillow-draft']
    """
    out = {'cv2': decode_cv2, 'pillow-draft': decode_pillow_draft}
    if have_simplejpeg:
        out['simplejpeg'] = simplejpeg_decoder()
        out['simplejpeg-fast'] = simplejpeg_decoder(True)
    return out


def variants(have_simplejpeg: bool,
             have_turbojpeg: bool = False) -> Dict[str, Tuple[Callable,
                                                              Callable]]:
    """``{name: (region decoder, scale rule)}`` of the variants compared.

    Args:
        have_simplejpeg (bool): add the simplejpeg variants.
        have_turbojpeg (bool): add the cropped decode.

    Returns:
        dict: ``{name: (decode(buf, eighths, box, out_hw), rule)}``.

    Examples:
        >>> sorted(variants(False))
        ['cv2', 'pillow-draft']
    """
    out = {name: (whole(decoder), pow2_eighths)
           for name, decoder in plain_decoders(have_simplejpeg).items()}
    if have_simplejpeg:
        mixed = whole(mixed_decoder(simplejpeg_decoder()))
        out['eighths'] = (mixed, finest_eighths)
        for top in (6, 5):
            out[f'eighths<={top}'] = (mixed, eighths_rule(range(1, top + 1)))
    if have_turbojpeg:
        out['turbojpeg-crop'] = (turbojpeg_crop_decoder(), pow2_eighths)
    return out


def draw_boxes(hw: Tuple[int, int], count: int, seed: int = 0) -> List[Box]:
    """``count`` boxes from MMPretrain's ``RandomResizedCrop`` (its
    defaults: scale (0.08, 1), ratio (3/4, 4/3)) on an ``hw`` image.

    Args:
        hw (tuple): the image's ``(H, W)``.
        count (int): how many.
        seed (int): NumPy's global seed, as a loader worker's.

    Returns:
        list: ``(top, left, height, width)`` boxes.

    Examples:
        >>> boxes = draw_boxes((350, 400), 3)
        >>> len(boxes), all(b[2] <= 350 and b[3] <= 400 for b in boxes)
        (3, True)
    """
    from mmpretrain.datasets.transforms import RandomResizedCrop
    crop = RandomResizedCrop(224)
    shape = np.broadcast_to(np.uint8(0), hw)  # only its shape is read
    np.random.seed(seed)
    return [tuple(crop.rand_crop_params(shape)) for _ in range(count)]


def shares(boxes: Sequence[Box], out_hw: Tuple[int, int],
           rule: Callable = pow2_eighths) -> Dict[int, float]:
    """The share of ``boxes`` decoded at each scale (in eighths).

    Args:
        boxes (Sequence[tuple]): crop boxes.
        out_hw (tuple): the output ``(h, w)``.
        rule (callable): the scale rule.

    Returns:
        dict: ``{M: share}``, largest ``M`` first, powers of two always.

    Examples:
        >>> shares([(0, 0, 350, 400), (0, 0, 100, 100)], (96, 96))
        {8: 0.5, 4: 0.5, 2: 0.0, 1: 0.0}
    """
    picks = [rule(box, out_hw) for box in boxes]
    keys = sorted(set(POW2_EIGHTHS) | set(picks), reverse=True)
    return {k: picks.count(k) / len(picks) for k in keys}


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB of two uint8 images (inf when equal).

    Args:
        a (numpy.ndarray): one image.
        b (numpy.ndarray): the other.

    Returns:
        float: the PSNR.

    Examples:
        >>> psnr(np.zeros(4, np.uint8), np.full(4, 255, np.uint8))
        0.0
    """
    err = np.mean((a.astype(np.float64) - b.astype(np.float64))**2)
    return float('inf') if err == 0 else float(
        10 * np.log10(255.0**2 / err))


def quality(bufs: Sequence[bytes], boxes: Sequence[Box],
            out_hw: Tuple[int, int], decoder: Callable,
            rule: Callable) -> List[float]:
    """PSNR of each variant image against the recipe's (full decode,
    whole-pixel crop, Pillow Lanczos) on the same box, file ``i`` with box
    ``i`` (inf where the images are equal).

    Args:
        bufs (Sequence[bytes]): the files.
        boxes (Sequence[tuple]): a box per file.
        out_hw (tuple): the output ``(h, w)``.
        decoder (callable): a region decoder.
        rule (callable): its scale rule.

    Returns:
        list[float]: the PSNRs.
    """
    from etpp_mm.ops.reduced_decode import decode_jpeg
    scores = []
    for buf, box in zip(bufs, boxes):
        eighths = rule(box, out_hw)
        ref = crop_resize(decode_jpeg(buf), box, 8, out_hw)
        img, sub_box = decoder(buf, eighths, box, out_hw)
        out = crop_resize(img, sub_box, eighths, out_hw)
        scores.append(psnr(out, ref))
    return scores


def summary(scores: Sequence[float]) -> str:
    """``'median / 5th percentile / lowest'`` of the PSNRs that are not
    inf (images not equal to the recipe's), and the share that are.

    Args:
        scores (Sequence[float]): PSNRs.

    Returns:
        str: the summary.

    Examples:
        >>> summary([40.0, 30.0, float('inf'), 35.0])
        '35.0 / 30.5 / 30.0 dB (25% equal)'
    """
    finite = [s for s in scores if math.isfinite(s)]
    equal = f'{100 * (1 - len(finite) / len(scores)):.0f}% equal'
    if not finite:
        return f'({equal})'
    return (f'{np.median(finite):.1f} / {np.percentile(finite, 5):.1f} / '
            f'{min(finite):.1f} dB ({equal})')


def _pass(paths: Sequence[str], seeds: Sequence[int],
          one: Callable[[str], object]) -> Callable[[], None]:
    """A timed pass: every file once per seed, the global NumPy state
    seeded as a loader worker would be, so each variant draws the same
    boxes."""

    def run():
        for seed in seeds:
            np.random.seed(seed)
            for path in paths:
                one(path)

    return run


def timed_passes(paths: Sequence[str], out_hw: Tuple[int, int],
                 seeds: Sequence[int],
                 decoders: Dict[str, Tuple[Callable, Callable]]
                 ) -> Dict[str, Callable[[], None]]:
    """``{name: pass}`` for one output size: the recipe's two steps, the
    fused transform itself, the same steps spelled out with each decoder,
    and the recipe's and the fused step's decodes alone (their shares of
    the time).

    Args:
        paths (Sequence[str]): the files.
        out_hw (tuple): the output ``(h, w)``.
        seeds (Sequence[int]): one pass over the files per seed.
        decoders (dict): :func:`variants`.

    Returns:
        dict: ``{name: pass without arguments}``.
    """
    from mmcv.transforms import LoadImageFromFile
    from mmengine import fileio
    from mmpretrain.datasets.transforms import RandomResizedCrop

    from etpp_mm.ops.reduced_decode import jpeg_size
    from etpp_mm.transforms import LoadImageAndRandomResizedCrop
    load = LoadImageFromFile()
    rrc = RandomResizedCrop(
        out_hw, backend='pillow', interpolation='lanczos')
    fused = LoadImageAndRandomResizedCrop(out_hw)

    def recipe(path):
        return rrc(load(dict(img_path=path)))

    def spelled(decoder, rule):

        def one(path):
            buf = fileio.get(path)
            hw = jpeg_size(buf)
            box = fused.rand_crop_params(np.broadcast_to(np.uint8(0), hw))
            eighths = rule(box, out_hw)
            img, sub_box = decoder(buf, eighths, box, out_hw)
            return crop_resize(img, sub_box, eighths, out_hw)

        return one

    # The decode alone, on the boxes the fused pass draws (same seeds, same
    # order), so its time is the decoder's part of that pass.
    work = []
    for seed in seeds:
        np.random.seed(seed)
        for path in paths:
            buf = fileio.get(path)
            box = fused.rand_crop_params(
                np.broadcast_to(np.uint8(0), jpeg_size(buf)))
            work.append((buf, pow2_eighths(box, out_hw)))

    def decode_only(full: bool):

        def run():
            for buf, eighths in work:
                decode_cv2(buf, 8 if full else eighths)

        return run

    passes = {
        'recipe': _pass(paths, seeds, recipe),
        'recipe decode': decode_only(True),
        'fused': _pass(paths, seeds, lambda p: fused(dict(img_path=p))),
        'fused decode': decode_only(False),
    }
    for name, (decoder, rule) in decoders.items():
        passes[name] = _pass(paths, seeds, spelled(decoder, rule))
    return passes


def decode_costs(bufs: Sequence[bytes], decoders: Dict[str, Decoder],
                 rounds: int) -> Dict[Tuple[str, int], float]:
    """Median seconds per whole-file decode of each decoder at each scale
    it offers, all timed in turn.

    Args:
        bufs (Sequence[bytes]): the files.
        decoders (dict): :func:`plain_decoders`.
        rounds (int): timed rounds.

    Returns:
        dict: ``{(name, eighths): seconds}``.
    """
    from etpp_bench.timing import interleaved_timings
    funcs = {}
    for name, decoder in decoders.items():
        scales = range(1, 9) if name.startswith('simplejpeg') \
            else POW2_EIGHTHS
        for eighths in scales:
            funcs[(name, eighths)] = (
                lambda d=decoder, m=eighths: [d(b, m) for b in bufs])
    timings = interleaved_timings(funcs, rounds, alternate=True)
    return {k: v / len(bufs) for k, v in timings.medians.items()}


def markdown_table(header: Sequence[str],
                   rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table, first column left-aligned, the rest right.

    Args:
        header (Sequence[str]): the column names.
        rows (Sequence[Sequence]): the cells.

    Returns:
        str: the table.

    Examples:
        >>> print(markdown_table(['a', 'b'], [['x', 1]]))
        | a | b |
        |---|---:|
        | x | 1 |
    """
    lines = ['| ' + ' | '.join(header) + ' |',
             '|---|' + '---:|' * (len(header) - 1)]
    lines += ['| ' + ' | '.join(str(c) for c in row) + ' |' for row in rows]
    return '\n'.join(lines)


def usable(module: str) -> bool:
    """Whether an optional decoder package imports and, for PyTurboJPEG,
    finds its system library.

    Args:
        module (str): the module's name.

    Returns:
        bool: whether it can be used.

    Examples:
        >>> usable('no_such_decoder')
        False
    """
    import importlib
    try:
        mod = importlib.import_module(module)
        if module == 'turbojpeg':
            mod.TurboJPEG()  # loads libturbojpeg; 2.x wants version 3
    except (ImportError, OSError, RuntimeError):
        return False
    return True


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """The command line.

    Args:
        argv (Sequence[str], optional): the arguments (default: sys.argv).

    Returns:
        argparse.Namespace: the options.

    Examples:
        >>> parse_args(['--sizes', '96', '160']).sizes
        [96, 160]
    """
    parser = argparse.ArgumentParser(
        description='Decode cost of the fused load-and-crop step by size.')
    parser.add_argument('--jpegs', type=int, default=50,
                        help='400x350 JPEGs made from scikit-image photos')
    parser.add_argument('--folder', help='where they go (default: a '
                        'temporary folder)')
    parser.add_argument('--sizes', type=int, nargs='+', default=list(SIZES))
    parser.add_argument('--rounds', type=int, default=7)
    parser.add_argument('--draws', type=int, default=4,
                        help='boxes per file per timed pass')
    parser.add_argument('--boxes', type=int, default=20000,
                        help='boxes for the scale shares')
    parser.add_argument('--variants', nargs='+',
                        help='variants to time (default: all there are: '
                        'cv2, pillow-draft, simplejpeg, simplejpeg-fast, '
                        'eighths, eighths<=6, eighths<=5, turbojpeg-crop)')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Print the tables (Markdown).

    Args:
        argv (Sequence[str], optional): the arguments (default: sys.argv).
    """
    from etpp_bench.loader_bench import make_jpeg_folder
    from etpp_bench.timing import interleaved_timings
    args = parse_args(argv)
    have = {name: usable(name) for name in ('simplejpeg', 'turbojpeg')}
    folder = args.folder or osp.join(tempfile.mkdtemp(), 'jpegs')
    paths = make_jpeg_folder(folder, args.jpegs, size=PHOTO_WH)
    bufs = []
    for path in paths:
        with open(path, 'rb') as f:
            bufs.append(f.read())
    hw = PHOTO_WH[::-1]
    decoders = variants(have['simplejpeg'], have['turbojpeg'])
    if args.variants:
        decoders = {k: decoders[k] for k in args.variants}
    started = time.time()
    load_before = os.getloadavg()[0]

    boxes = draw_boxes(hw, args.boxes)
    rows, finer_rows = [], []
    for size in args.sizes:
        pow2 = shares(boxes, (size, size))
        finer = shares(boxes, (size, size), finest_eighths)
        area = statistics.mean(
            (pow2_eighths(b, (size, size)) / 8)**2 for b in boxes)
        area_f = statistics.mean(
            (finest_eighths(b, (size, size)) / 8)**2 for b in boxes)
        rows.append([size] + [f'{100 * pow2[m]:.1f}%' for m in (8, 4, 2, 1)] +
                    [f'{100 * area:.0f}%'])
        finer_rows.append([size] + [
            f'{100 * finer.get(m, 0):.1f}%' for m in range(8, 0, -1)
        ] + [f'{100 * area_f:.0f}%'])
    print(f'## Scale shares ({args.boxes} boxes on {hw[1]}x{hw[0]})\n')
    print(markdown_table(
        ['size', 'full', '1/2', '1/4', '1/8', 'pixels decoded'], rows))
    print('\nAt the finest eighth (libjpeg-turbo\'s M/8):\n')
    print(markdown_table(['size'] + [f'{m}/8' for m in range(8, 0, -1)] +
                         ['pixels decoded'], finer_rows))

    print('\n## Whole-file decode, us per image\n')
    costs = decode_costs(bufs, plain_decoders(have['simplejpeg']),
                         args.rounds)
    names = sorted({k[0] for k in costs})
    print(markdown_table(
        ['decoder'] + [f'{m}/8' for m in range(8, 0, -1)],
        [[n] + [f'{1e6 * costs[(n, m)]:.0f}' if (n, m) in costs else ''
                for m in range(8, 0, -1)] for n in names]))

    print(f'\n## Per image, {args.jpegs} files x {args.draws} boxes, '
          f'median of {args.rounds} rounds (us; the fused step to the '
          f'recipe, each variant to the fused step; decode: its share)\n')
    seeds = list(range(args.draws))
    rows, qrows = [], []
    for size in args.sizes:
        out_hw = (size, size)
        passes = timed_passes(paths, out_hw, seeds, decoders)
        med = interleaved_timings(
            passes, args.rounds, alternate=True).medians
        per = {k: 1e6 * v / (len(paths) * len(seeds))
               for k, v in med.items()}
        ref = per['recipe']
        row = [size, f'{ref:.0f}',
               f'{100 * per["recipe decode"] / ref:.0f}%',
               f'{per["fused"]:.0f} ({per["fused"] / ref:.2f}x)',
               f'{100 * per["fused decode"] / per["fused"]:.0f}%']
        row += [f'{per[k]:.0f} ({per[k] / per["fused"]:.2f}x)'
                for k in decoders]
        rows.append(row)
        qboxes = draw_boxes(hw, len(bufs) * 8, seed=1000 + size)
        qbufs = [bufs[i % len(bufs)] for i in range(len(qboxes))]
        qrow = [size]
        for name, (decoder, rule) in decoders.items():
            qrow.append(
                summary(quality(qbufs, qboxes, out_hw, decoder, rule)))
        qrows.append(qrow)
        print(f'size {size} done', flush=True)
    print(markdown_table(
        ['size', 'recipe', 'recipe: decode', 'fused', 'fused: decode'] +
        [f'{k} (to fused)' for k in decoders], rows))
    print('\n## PSNR to the recipe on the same boxes (median / 5th '
          'percentile / lowest of the unequal images)\n')
    print(markdown_table(['size'] + list(decoders), qrows))
    print(f'\n({time.time() - started:.0f} s; load average '
          f'{load_before:.1f} before, {os.getloadavg()[0]:.1f} after)')


if __name__ == '__main__':
    main()
