"""A small folder of real photos in class subfolders, the train set of the
model-zoo sweep.

Random crops of scikit-image's bundled colour photos, written as JPEGs so
every recipe's own loading and augmentation steps run on them as they
would on ImageNet. Made once and reused: the crops depend only on the seed.
"""
import os
import os.path as osp

# scikit-image's bundled colour photos (no download), two classes
PHOTOS = (('class0', ('astronaut', 'coffee')), ('class1', ('chelsea',
                                                           'rocket')))
MIN_SIDE, MAX_SIDE = 256, 320


def make_photo_folder(root: str, count: int = 8, seed: int = 0) -> str:
    """Write ``count`` random crops of the bundled photos into
    ``root/<class>/``, unless the folder already holds them.

    Crop ``k`` is of photo ``k % 4``, so every photo and both classes are
    used; crops are square, ``MIN_SIDE`` to ``MAX_SIDE`` pixels (bounded by
    the photo), at random positions drawn from ``(seed, k)`` alone (a folder
    of more crops starts with the same ones); JPEG quality 90.

    Args:
        root: the folder to fill (created if missing).
        count: the number of images.
        seed: seed of the crop sizes and positions.

    Returns:
        ``root``.

    Example:
        >>> import glob, tempfile
        >>> folder = make_photo_folder(tempfile.mkdtemp(), count=5)
        >>> sorted(osp.relpath(p, folder) for p in glob.glob(folder + '/*/*'))
        ... # doctest: +NORMALIZE_WHITESPACE
        ['class0/astronaut_0.jpg', 'class0/astronaut_4.jpg',
         'class0/coffee_1.jpg', 'class1/chelsea_2.jpg',
         'class1/rocket_3.jpg']
    """
    import numpy as np
    from PIL import Image
    from skimage import data

    photos = [(label, name) for label, names in PHOTOS for name in names]
    paths = []
    for k in range(count):
        label, name = photos[k % len(photos)]
        paths.append((k, name, osp.join(root, label, f'{name}_{k}.jpg')))
    for k, name, path in paths:
        if osp.isfile(path):
            continue
        rng = np.random.default_rng([seed, k])
        photo = getattr(data, name)()
        height, width = photo.shape[:2]
        side = int(rng.integers(MIN_SIDE, min(MAX_SIDE, height, width) + 1))
        top = int(rng.integers(0, height - side + 1))
        left = int(rng.integers(0, width - side + 1))
        os.makedirs(osp.dirname(path), exist_ok=True)
        Image.fromarray(photo[top:top + side, left:left + side]).convert(
            'RGB').save(path, quality=90)
    return root
