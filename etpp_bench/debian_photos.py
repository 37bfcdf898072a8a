"""A photo-scale classification set made from photographs that Debian ships
as desktop backgrounds: one class per photograph, many random crops of each.

The photographs come from two Debian packages, ``mate-backgrounds``
(GPL-2+) and ``lomiri-wallpapers-16.04`` (CC-BY-4.0, CC-BY-SA-4.0,
CC0-1.0), and are pinned in :data:`PHOTOS` by path and MD5, so that another
version of a package is reported instead of silently giving other images.
:func:`build_photo_set` writes the crops as JPEG files in MMPretrain's
``CustomDataset`` folder layout (``train/<class>/*.jpg`` and
``val/<class>/*.jpg``); val crops come from three blocks of a 3 x 3 grid
over each photo, train crops from the rest with a margin, so no val crop
shares a pixel with a train crop. ``docs/debian_photos.md`` describes the
set; ``python tools/prepare_data.py debian-photos`` makes it.
"""
import hashlib
import json
import math
import os
import os.path as osp
import shutil
import tempfile
from typing import Callable, Dict, List, NamedTuple, Sequence, Tuple

Box = Tuple[int, int, int, int]  # left, top, right, bottom (PIL's order)


class Photo(NamedTuple):
    """One source photograph, the class it becomes.

    Args:
        name: the class name (its folder in ``train/`` and ``val/``).
        package: the Debian package that ships the file.
        path: the file's path inside the package (under ``/``).
        md5: the MD5 of the file in the pinned package version.
        author: the copyright holder(s) named in the package's copyright
            file.
        license: the file's licence (SPDX name) in that copyright file.
    """
    name: str
    package: str
    path: str
    md5: str
    author: str
    license: str


# The package versions the MD5s below are of (Debian 12 "bookworm").
PACKAGES = {
    'mate-backgrounds': '1.26.0-1',
    'lomiri-wallpapers-16.04': '20.04.0-2',
}
_MATE = 'usr/share/backgrounds/mate/nature/'
_LOMIRI = 'usr/share/backgrounds/'
PHOTOS = (
    Photo('aqua', 'mate-backgrounds', _MATE + 'Aqua.jpg',
          'bb9d83532a31223343a044d25242dcd6', 'Charles Barbin', 'GPL-2+'),
    Photo('blinds', 'mate-backgrounds', _MATE + 'Blinds.jpg',
          'aa8c959b44dab9cb85ad5f3dc0c85f51',
          'Lennart Poettering, Andrea Cimitan', 'GPL-2+'),
    Photo('dune', 'mate-backgrounds', _MATE + 'Dune.jpg',
          'c56a7b8ac1a9a25b3a5d9965c1e1ee15', 'Marco Cogoni, Hylke Bons',
          'GPL-2+'),
    Photo('freshflower', 'mate-backgrounds', _MATE + 'FreshFlower.jpg',
          '3a94856c33abf72d5120897a492e68a2', 'Jens Ansorg', 'GPL-2+'),
    Photo('garden', 'mate-backgrounds', _MATE + 'Garden.jpg',
          '4164703bd7b6f087358e87f3aa296c4a', 'Charles Barbin', 'GPL-2+'),
    Photo('greenmeadow', 'mate-backgrounds', _MATE + 'GreenMeadow.jpg',
          'a39f784809c4550e12427ad463b8d8e7',
          'Timothy Schellhase, Lapo Calamandrei', 'GPL-2+'),
    Photo('ladybird', 'mate-backgrounds', _MATE + 'LadyBird.jpg',
          '32268be4325293ad107c6f595607e7ba', 'Charles Barbin', 'GPL-2+'),
    Photo('raindrops', 'mate-backgrounds', _MATE + 'RainDrops.jpg',
          'ab77b2ceef702553108c377d86ce2817', '"blackcombwhistler07"',
          'GPL-2+'),
    Photo('storm', 'mate-backgrounds', _MATE + 'Storm.jpg',
          '7f3abd21e0ee03b40b4fb8c7874575e5', 'Sergey Nazarov', 'GPL-2+'),
    Photo('twowings', 'mate-backgrounds', _MATE + 'TwoWings.jpg',
          'b627e9c299a88d63f3eb40a0da68999a', 'Charles Barbin, Hylke Bons',
          'GPL-2+'),
    Photo('wood', 'mate-backgrounds', _MATE + 'Wood.jpg',
          'efe68ac15751369fe829a6e7b6740b82', 'Jean-François Fortin Tam',
          'GPL-2+'),
    Photo('yellowflower', 'mate-backgrounds', _MATE + 'YellowFlower.jpg',
          'b6167ae420518663a9f7f112aa7abc49', 'Charles Barbin', 'GPL-2+'),
    Photo('aitzgorri', 'lomiri-wallpapers-16.04',
          _LOMIRI + 'aitzgorri_by_Aitzol_Berasategi.jpg',
          '7d13f3e78bbad10e2bc0487c3dd80e6c', 'Aitzol Berasategi',
          'CC-BY-4.0'),
    Photo('analogpattern', 'lomiri-wallpapers-16.04',
          _LOMIRI + 'analogpattern_by_Peter_Nerlich.jpg',
          '631097bdff4d4cb3badf209050bb7ba9', 'Peter Nerlich',
          'CC-BY-SA-4.0'),
    Photo('bridge', 'lomiri-wallpapers-16.04',
          _LOMIRI + 'Bridge_by_Sander_Klootwijk.jpg',
          'fe4903edd1db5fe29f2267d7876770e6', 'Sander Klootwijk',
          'CC-BY-SA-4.0'),
    Photo('dragonfly', 'lomiri-wallpapers-16.04',
          _LOMIRI + 'Dragonfly_by_Bolly.jpg',
          '599228cd246283c7fba376e5354a6e03', '"Bolly"', 'CC-BY-SA-4.0'),
    Photo('free', 'lomiri-wallpapers-16.04',
          _LOMIRI + 'free_by_Peter_Nerlich.jpg',
          '32d7173269315b3e7df4f170e76e8f28', 'Peter Nerlich',
          'CC-BY-SA-4.0'),
    Photo('friends', 'lomiri-wallpapers-16.04',
          _LOMIRI + 'friends_by_Aitzol_Berasategi.jpg',
          '7c04388de6179c8d99d45dd7cd241706', 'Aitzol Berasategi',
          'CC-BY-4.0'),
    Photo('greentock', 'lomiri-wallpapers-16.04',
          _LOMIRI + 'greentock_by_Peter_Nerlich.jpg',
          'c96bf91f15753f558608c9b2ab874525', 'Peter Nerlich',
          'CC-BY-SA-4.0'),
    Photo('life', 'lomiri-wallpapers-16.04',
          _LOMIRI + 'life_by_Aitzol_Berasategi.jpg',
          '03f2ca37ae56f1105c1e2cfa35ec3d6f', 'Aitzol Berasategi',
          'CC-BY-4.0'),
    Photo('picosdeeuropa', 'lomiri-wallpapers-16.04',
          _LOMIRI + 'picosdeeuropa_by_Aitzol_Berasategi.jpg',
          'c05a3bbe70a0bbdd6f39e26482986223', 'Aitzol Berasategi',
          'CC-BY-4.0'),
    Photo('picture_0b', 'lomiri-wallpapers-16.04',
          _LOMIRI + 'Picture_0B_by_freespace.jpg',
          '96edee036ac6b5d789111230aedef20b', 'Trevor "Freespace"',
          'CC-BY-4.0'),
    Photo('picture_1a', 'lomiri-wallpapers-16.04',
          _LOMIRI + 'Picture_1A_by_freespace.jpg',
          '95cc6538cf1e8d62e4f496767c128036', 'Trevor "Freespace"',
          'CC-BY-4.0'),
    Photo('seeding', 'lomiri-wallpapers-16.04',
          _LOMIRI + 'seeding_by_Clements_Engelhardt.jpg',
          '7e5ffcae2cd6a9d7fb9221bdb38c98e7', 'Clemens Engelhardt',
          'CC0-1.0'),
    Photo('sunset', 'lomiri-wallpapers-16.04',
          _LOMIRI + 'sunset_by_Aitzol_Berasategi.jpg',
          '35f4bb7d497987709538f4bc5b24513b', 'Aitzol Berasategi',
          'CC-BY-4.0'),
    Photo('wine', 'lomiri-wallpapers-16.04',
          _LOMIRI + 'Wine_by_Jakkub_Mede.jpg',
          'e66d2e48a0a9ee87d925dbe38ef9d2ff', 'Jakub Mede', 'CC-BY-4.0'),
)

# Every photo is first resized (Lanczos) to this shorter side; crop sizes
# are fractions of it.
WORK_SHORT_SIDE = 960
# A crop's side (geometric mean of width and height) as a fraction of the
# photo's shorter side, and its aspect ratio (width / height, log-uniform).
CROP_SIDE = (0.10, 0.28)
CROP_ASPECT = (3 / 4, 4 / 3)
# The shorter side of a saved crop, in pixels (uniform integer, inclusive).
OUT_SHORT_SIDE = (80, 96)
# The photo is cut into a GRID x GRID grid of blocks; val crops come from
# VAL_BLOCKS (row, column): one block per row and per column, never the
# centre. Train crops come from anywhere else and keep MARGIN_SHARE of the
# shorter side away from every val block.
GRID = 3
VAL_BLOCKS = ((0, 1), (1, 2), (2, 0))
MARGIN_SHARE = 0.02
MAX_TRIES = 10000
JPEG_QUALITY = 90
SPLITS = ('train', 'val')
MANIFEST = 'debian_photos.json'
ATTRIBUTION = 'ATTRIBUTION.md'
FORMAT_VERSION = 1


def md5sum(path: str) -> str:
    """The MD5 hex digest of a file.

    Args:
        path: the file.

    Returns:
        32 hex digits.

    Example:
        >>> import tempfile
        >>> with tempfile.NamedTemporaryFile() as f:
        ...     _ = f.write(b'abc'); f.flush()
        ...     md5sum(f.name)
        '900150983cd24fb0d6963f7d28e17f72'
    """
    digest = hashlib.md5()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def install_command(packages: Sequence[str]) -> str:
    """The ``apt-get`` command that installs ``packages``.

    Args:
        packages: Debian package names.

    Returns:
        The command line.

    Example:
        >>> install_command(['mate-backgrounds'])
        'apt-get install -y mate-backgrounds'
    """
    return 'apt-get install -y ' + ' '.join(packages)


def check_sources(source: str,
                  photos: Sequence[Photo] = PHOTOS) -> Dict[str, str]:
    """Find the pinned photographs under ``source`` and verify their MD5s.

    Args:
        source: the root the packages are installed under (``/``), or a
            folder holding the same relative paths (e.g. packages unpacked
            with ``dpkg -x``).
        photos: the photographs to find.

    Returns:
        Each class name mapped to its file's path.

    Raises:
        FileNotFoundError: files are missing; the message names the
            ``apt-get install -y`` command of their packages.
        ValueError: a file differs from the pinned version.

    Example:
        >>> import tempfile
        >>> try:
        ...     check_sources(tempfile.mkdtemp())
        ... except FileNotFoundError as err:
        ...     print(f'`{install_command(PACKAGES)}`' in str(err))
        True
    """
    paths = {photo.name: osp.join(source, photo.path) for photo in photos}
    missing = [photo for photo in photos if not osp.isfile(paths[photo.name])]
    if missing:
        packages = list(dict.fromkeys(photo.package for photo in missing))
        raise FileNotFoundError(
            f'{len(missing)} photographs of the Debian package(s) '
            f'{", ".join(packages)} are missing under {source!r} (e.g. '
            f'{paths[missing[0].name]}). Install them with '
            f'`{install_command(packages)}` (as root), or pass --source '
            'FOLDER where the packages are unpacked (`dpkg -x PKG.deb '
            'FOLDER`).')
    changed = []
    for photo in photos:
        actual = md5sum(paths[photo.name])
        if actual != photo.md5:
            changed.append(f'{paths[photo.name]}: md5 {actual}, expected '
                           f'{photo.md5} ({photo.package} '
                           f'{PACKAGES[photo.package]})')
    if changed:
        raise ValueError(
            'the photographs differ from the pinned package versions, so '
            'the set would not be the documented one:\n  ' +
            '\n  '.join(changed) + '\nInstall the pinned versions, e.g. `' +
            install_command(f'{name}={version}'
                            for name, version in PACKAGES.items()) + '`.')
    return paths


def val_blocks(width: int, height: int) -> List[Box]:
    """The blocks of a photo that val crops come from.

    The photo is cut into a ``GRID`` x ``GRID`` grid; the val blocks are
    ``VAL_BLOCKS``, one per row and per column (a third of the photo, spread
    over it), the other blocks are the train area.

    Args:
        width: the photo's width in pixels.
        height: its height.

    Returns:
        The val blocks, each ``(left, top, right, bottom)``.

    Example:
        >>> val_blocks(1440, 960)
        [(480, 0, 960, 320), (960, 320, 1440, 640), (0, 640, 480, 960)]
    """
    xs = [int(round(width * k / GRID)) for k in range(GRID + 1)]
    ys = [int(round(height * k / GRID)) for k in range(GRID + 1)]
    return [(xs[col], ys[row], xs[col + 1], ys[row + 1])
            for row, col in VAL_BLOCKS]


def overlaps(a: Box, b: Box) -> bool:
    """Whether two boxes share any pixel.

    Args:
        a: ``(left, top, right, bottom)``, right and bottom excluded.
        b: the same.

    Returns:
        True if they intersect.

    Example:
        >>> overlaps((0, 0, 10, 10), (9, 9, 20, 20))
        True
        >>> overlaps((0, 0, 10, 10), (10, 0, 20, 10))
        False
    """
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def sample_crop(rng, split: str, width: int,
                height: int) -> Tuple[Box, int]:
    """Draw one crop box of a ``width`` x ``height`` photo, and the size to
    save it at.

    The crop's side is ``CROP_SIDE`` times the photo's shorter side
    (uniform), its aspect ratio log-uniform in ``CROP_ASPECT``. A val crop
    lies in one of the :func:`val_blocks`, chosen uniformly, at a uniform
    position; a train crop's position is drawn uniformly over the photo
    until the crop keeps ``MARGIN_SHARE`` of the shorter side away from
    every val block. The saved shorter side is uniform in
    ``OUT_SHORT_SIDE``.

    Args:
        rng: a ``numpy.random.Generator``.
        split: ``'train'`` or ``'val'``.
        width: the photo's width in pixels.
        height: its height.

    Returns:
        ``(box, out_short_side)``, the box ``(left, top, right, bottom)``.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> blocks = val_blocks(1440, 960)
        >>> box, out = sample_crop(rng, 'val', 1440, 960)
        >>> any(b[0] <= box[0] < box[2] <= b[2] and
        ...     b[1] <= box[1] < box[3] <= b[3] for b in blocks)
        True
        >>> box, out = sample_crop(rng, 'train', 1440, 960)
        >>> any(overlaps(box, b) for b in blocks), 80 <= out <= 96
        (False, True)
    """
    short = min(width, height)
    side = short * rng.uniform(*CROP_SIDE)
    aspect = math.exp(
        rng.uniform(math.log(CROP_ASPECT[0]), math.log(CROP_ASPECT[1])))
    crop_w = int(round(side * math.sqrt(aspect)))
    crop_h = int(round(side / math.sqrt(aspect)))
    blocks = val_blocks(width, height)
    if split == 'val':
        left, top, right, bottom = blocks[int(rng.integers(len(blocks)))]
        crop_w, crop_h = min(crop_w, right - left), min(crop_h, bottom - top)
        x = left + int(rng.integers(0, right - left - crop_w + 1))
        y = top + int(rng.integers(0, bottom - top - crop_h + 1))
    else:
        margin = int(round(short * MARGIN_SHARE))
        keep_out = [(b[0] - margin, b[1] - margin, b[2] + margin,
                     b[3] + margin) for b in blocks]
        for _ in range(MAX_TRIES):
            x = int(rng.integers(0, width - crop_w + 1))
            y = int(rng.integers(0, height - crop_h + 1))
            box = (x, y, x + crop_w, y + crop_h)
            if not any(overlaps(box, area) for area in keep_out):
                break
        else:
            raise RuntimeError(f'no place for a {crop_w}x{crop_h} train '
                               f'crop in a {width}x{height} photo')
    out_short = int(rng.integers(OUT_SHORT_SIDE[0], OUT_SHORT_SIDE[1] + 1))
    return (x, y, x + crop_w, y + crop_h), out_short


def output_size(box: Box, out_short: int) -> Tuple[int, int]:
    """The ``(width, height)`` a crop is saved at: its shorter side
    ``out_short``, its aspect ratio kept.

    Args:
        box: the crop ``(left, top, right, bottom)``.
        out_short: the saved shorter side.

    Returns:
        ``(width, height)``.

    Example:
        >>> output_size((0, 0, 300, 200), 88), output_size((0, 0, 90, 180), 80)
        ((132, 88), (80, 160))
    """
    width, height = box[2] - box[0], box[3] - box[1]
    if width <= height:
        return out_short, int(round(height * out_short / width))
    return int(round(width * out_short / height)), out_short


def load_photo(path: str, short_side: int = WORK_SHORT_SIDE):
    """Read a photograph as RGB, resized (Lanczos) to ``short_side``.

    Args:
        path: the image file.
        short_side: the shorter side of the result.

    Returns:
        A ``PIL.Image.Image``.

    Example:
        >>> import tempfile
        >>> from PIL import Image
        >>> path = osp.join(tempfile.mkdtemp(), 'p.jpg')
        >>> Image.new('RGB', (400, 300), 'red').save(path)
        >>> load_photo(path, 150).size
        (200, 150)
    """
    from PIL import Image
    with Image.open(path) as image:
        scale = short_side / min(image.size)
        size = (int(round(image.width * scale)),
                int(round(image.height * scale)))
        image.draft('RGB', size)  # JPEG: decode at a reduced scale >= size
        return image.convert('RGB').resize(size, Image.Resampling.LANCZOS)


def write_crops(image, split: str, count: int, rng, folder: str,
                prefix: str) -> List[str]:
    """Save ``count`` random crops of ``image`` as JPEGs.

    Args:
        image: the photo (``PIL.Image.Image``, RGB).
        split: ``'train'`` or ``'val'``: where the crops come from (see
            :func:`sample_crop`).
        count: the number of crops.
        rng: the ``numpy.random.Generator`` of this photo and split.
        folder: the output folder (created if missing).
        prefix: the file names' prefix; files are ``<prefix>_<k>.jpg``.

    Returns:
        The written paths.

    Example:
        >>> import numpy as np, tempfile
        >>> from PIL import Image
        >>> photo = Image.new('RGB', (1440, 960), 'green')
        >>> paths = write_crops(photo, 'train', 2,
        ...                     np.random.default_rng(0), tempfile.mkdtemp(),
        ...                     'green')
        >>> [osp.basename(p) for p in paths]
        ['green_0000.jpg', 'green_0001.jpg']
    """
    from PIL import Image
    os.makedirs(folder, exist_ok=True)
    paths = []
    for k in range(count):
        box, out_short = sample_crop(rng, split, *image.size)
        crop = image.resize(
            output_size(box, out_short), Image.Resampling.LANCZOS, box=box)
        crop.info = {}  # nothing of the source's metadata in the files
        path = osp.join(folder, f'{prefix}_{k:04d}.jpg')
        crop.save(path, quality=JPEG_QUALITY, subsampling=2, optimize=False)
        paths.append(path)
    return paths


def manifest_of(train_per_class: int, val_per_class: int, seed: int,
                photos: Sequence[Photo] = PHOTOS) -> dict:
    """What a built set is made of: its settings and sources. A folder
    whose manifest equals the requested one is not rebuilt.

    Args:
        train_per_class: train crops per photograph.
        val_per_class: val crops per photograph.
        seed: the seed of every crop.
        photos: the source photographs.

    Returns:
        A JSON-serialisable dict.

    Example:
        >>> m = manifest_of(200, 50, 0)
        >>> m['counts'], len(m['classes'])
        ({'train': 200, 'val': 50}, 26)
    """
    import PIL
    return dict(
        format=FORMAT_VERSION,
        seed=seed,
        counts=dict(train=train_per_class, val=val_per_class),
        work_short_side=WORK_SHORT_SIDE,
        crop_side=list(CROP_SIDE),
        crop_aspect=list(CROP_ASPECT),
        out_short_side=list(OUT_SHORT_SIDE),
        grid=GRID,
        val_blocks=[list(block) for block in VAL_BLOCKS],
        margin_share=MARGIN_SHARE,
        jpeg_quality=JPEG_QUALITY,
        pillow=PIL.__version__,
        classes={photo.name: photo.md5
                 for photo in photos})


def is_built(out_dir: str, manifest: dict) -> bool:
    """Whether ``out_dir`` already holds the set ``manifest`` describes.

    Args:
        out_dir: the set's folder.
        manifest: the requested :func:`manifest_of`.

    Returns:
        True if its manifest matches and every class folder holds the
        expected number of files.

    Example:
        >>> import tempfile
        >>> is_built(tempfile.mkdtemp(), manifest_of(2, 1, 0))
        False
    """
    path = osp.join(out_dir, MANIFEST)
    if not osp.isfile(path):
        return False
    with open(path) as f:
        if json.load(f) != manifest:
            return False
    for split, count in manifest['counts'].items():
        for name in manifest['classes']:
            folder = osp.join(out_dir, split, name)
            if not osp.isdir(folder) or len(os.listdir(folder)) != count:
                return False
    return True


def attribution_text(photos: Sequence[Photo] = PHOTOS) -> str:
    """The Markdown attribution of the set's photographs.

    Args:
        photos: the source photographs.

    Returns:
        A Markdown document: one table row per class.

    Example:
        >>> attribution_text()[:30]
        '# Debian photos: attribution\\n\\n'
    """
    lines = [
        '# Debian photos: attribution', '',
        'Every image of this folder is a crop, resized, of one photograph '
        "shipped by Debian (the class's folder name), under the "
        "photograph's licence as given in the package's "
        '`/usr/share/doc/<package>/copyright`.', '',
        '| class | file | package | author | licence |',
        '|---|---|---|---|---|'
    ]
    for photo in photos:
        lines.append(f'| {photo.name} | /{photo.path} | {photo.package} '
                     f'{PACKAGES[photo.package]} | {photo.author} | '
                     f'{photo.license} |')
    return '\n'.join(lines) + '\n'


def build_photo_set(source: str,
                    out_dir: str,
                    train_per_class: int = 200,
                    val_per_class: int = 50,
                    seed: int = 0,
                    log: Callable[[str], None] = print) -> str:
    """Write the crops of every pinned photograph into ``out_dir``.

    Crops of class ``i`` and split ``s`` (0 train, 1 val) are drawn from a
    generator seeded with ``[seed, i, s]`` alone: the same arguments give
    byte-identical files (with the same Pillow), and a set of fewer crops
    holds the first crops of a larger one. The set is written beside
    ``out_dir`` and moved into place when complete; a folder this function
    made before is replaced, unless it already holds the requested set.

    Args:
        source: the root of the installed packages (see
            :func:`check_sources`).
        out_dir: the set's folder (``train/``, ``val/``, the manifest and
            ``ATTRIBUTION.md``).
        train_per_class: train crops per photograph.
        val_per_class: val crops per photograph.
        seed: the seed of every crop.
        log: called with one line per step.

    Returns:
        ``out_dir``.

    Raises:
        FileNotFoundError: see :func:`check_sources`.
        ValueError: see :func:`check_sources`; or a count below 1.
        FileExistsError: ``out_dir`` holds files this function did not
            write.

    Example:
        >>> import tempfile
        >>> try:
        ...     build_photo_set(tempfile.mkdtemp(), tempfile.mkdtemp())
        ... except FileNotFoundError as err:
        ...     print(str(err)[:45])
        26 photographs of the Debian package(s) mate-
    """
    import numpy as np
    if train_per_class < 1 or val_per_class < 1:
        raise ValueError('train_per_class and val_per_class must be at '
                         f'least 1, got {train_per_class}, {val_per_class}')
    paths = check_sources(source)
    manifest = manifest_of(train_per_class, val_per_class, seed)
    if is_built(out_dir, manifest):
        log(f'ok       {out_dir} (already built)')
        return out_dir
    if osp.isdir(out_dir) and os.listdir(out_dir) and not osp.isfile(
            osp.join(out_dir, MANIFEST)):
        raise FileExistsError(f'{out_dir!r} holds other files; give an '
                              'empty or new folder with --out')
    parent = osp.dirname(osp.abspath(out_dir))
    os.makedirs(parent, exist_ok=True)
    part = tempfile.mkdtemp(
        prefix=osp.basename(osp.abspath(out_dir)) + '.', dir=parent)
    try:
        counts = (train_per_class, val_per_class)
        for index, photo in enumerate(PHOTOS):
            image = load_photo(paths[photo.name])
            for split_index, split in enumerate(SPLITS):
                rng = np.random.default_rng([seed, index, split_index])
                write_crops(image, split, counts[split_index], rng,
                            osp.join(part, split, photo.name), photo.name)
            log(f'written  {photo.name}: {train_per_class} train, '
                f'{val_per_class} val crops of {paths[photo.name]}')
        with open(osp.join(part, ATTRIBUTION), 'w') as f:
            f.write(attribution_text())
        with open(osp.join(part, MANIFEST), 'w') as f:
            json.dump(manifest, f, indent=1, sort_keys=True)
            f.write('\n')
        os.chmod(part, 0o755)
        if osp.isdir(out_dir):
            shutil.rmtree(out_dir)
        os.replace(part, out_dir)
    except BaseException:
        shutil.rmtree(part, ignore_errors=True)
        raise
    log(f'written  {out_dir}: {len(PHOTOS)} classes, '
        f'{len(PHOTOS) * train_per_class} train and '
        f'{len(PHOTOS) * val_per_class} val images')
    return out_dir
