"""Input pipelines: anything -> batched `tf.data.Dataset` of float32 images in [-1, 1].

Every GAN in this package trains on images scaled to [-1, 1] (the range of the
generators' `tanh` output). The functions here turn the usual sources into such
datasets, with a static element shape so Keras `fit` can build the models:

- `images(source, ...)`: batches of images, or `(images, labels)` with `labels=True`.
- `unpaired(a, b, ...)`: `(a_batch, b_batch)` pairs of two unrelated domains (CycleGAN).
- `sr_pairs(source, ...)`: `(low_res, high_res)` patch pairs for super-resolution (SRGAN).

A `source` is any of:

- a numpy array `[N, H, W]` or `[N, H, W, C]`: uint8 in 0-255 (other integer types
  holding 0-255 too), or floats already in [-1, 1];
- a folder of PNG / JPEG / BMP / GIF files, searched recursively; with `labels=True`
  each top-level subfolder is a class (names sorted -> 0..K-1);
- a list of image file paths, or a single image file;
- an MNIST-format IDX file (`train-images-idx3-ubyte`, optionally `.gz`); its labels
  are read from the `labels-idx1` file beside it;
- a TFDS name `"tfds:NAME"` or `"tfds:NAME:SPLIT"` (e.g. `"tfds:mnist:test[:50%]"`),
  loaded with `tfds.load`; for other `tfds.load` options pass the loaded dataset;
- a `tf.data.Dataset` of unbatched images, of `{"image": ..., "label": ...}` dicts,
  or of `(image, label)` tuples (uint8 is scaled, floats must already be in [-1, 1]);
- an `(images, labels)` tuple, where `images` is any of the in-memory or file sources
  above and `labels` an integer array or an IDX labels file.

Example:

```python
x_train = keras_gans.data.read_idx(
    "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")
ds = keras_gans.data.images(x_train, batch_size=128)       # (128, 28, 28, 1) batches
ds = keras_gans.data.images("photos/", image_size=64, channels=3)
ds = keras_gans.data.images("tfds:mnist", labels=True)     # (images, labels)
```
"""

import gzip
import os
import pathlib
import re
import stat
import sys
import warnings

import numpy as np
import tensorflow as tf

from keras_gans import utils

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
# What tf.io.decode_image reads, as PIL names the formats.
_DECODABLE_FORMATS = ("PNG", "JPEG", "BMP", "GIF", "MPO")
_GRAY_MODES = ("1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F")
_IDX_DTYPES = {
    0x08: np.uint8,
    0x09: np.int8,
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
# Explicit small parallelism instead of AUTOTUNE: with autotune on, `fit` sat idle
# for seconds after an epoch's last batch on small machines.
_PARALLEL_CALLS = 2
_PREFETCH = 2
_NO_LABEL = -1


# --- Public helpers ---


def read_idx(path):
    """Reads an MNIST-format IDX file (optionally gzip-compressed) into a numpy array.

    The format (LeCun et al., http://yann.lecun.com/exdb/mnist/) is a 4-byte magic
    number `0x00 0x00 <dtype code> <number of dimensions>`, one big-endian int32 per
    dimension, then the values in row-major order.

    Args:
        path: path to the file, e.g. `train-images-idx3-ubyte` or
            `train-labels-idx1-ubyte.gz`. Gzip is detected from the content.

    Returns:
        A numpy array with the file's shape, in native byte order (uint8 for the
        MNIST and Fashion-MNIST files: images `[N, 28, 28]`, labels `[N]`).

    Example:

    >>> x = read_idx("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz")
    >>> x.shape, x.dtype
    ((10000, 28, 28), dtype('uint8'))
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as e:
            raise ValueError(f"Could not decompress the IDX file '{path}': {e}") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_DTYPES:
        raise ValueError(
            f"'{path}' is not an IDX file: expected the magic bytes 0x00 0x00 <dtype> <ndim>, "
            f"received: {data[:4]!r}"
        )
    dtype = np.dtype(_IDX_DTYPES[data[2]])
    ndim = data[3]
    header = 4 + 4 * ndim
    shape = tuple(int(d) for d in np.frombuffer(data[4:header], dtype=">i4"))
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(data) != expected:
        raise ValueError(
            f"The IDX file '{path}' is truncated or corrupt: its header promises shape "
            f"{shape} ({expected} bytes), but the file holds {len(data)} bytes"
        )
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="))


def load_image_file(path, channels=None):
    """Reads one image file into a float32 numpy array in [-1, 1].

    Args:
        path: a PNG, JPEG, BMP or GIF file (the first frame of a GIF).
        channels: `1` (grayscale), `3` (RGB) or `None` to keep the file's own
            (grayscale files give 1, colour files 3; alpha is dropped).

    Returns:
        A float32 array of shape `(height, width, channels)`.

    Example:

    >>> image = load_image_file("photo.jpg", channels=3)
    """
    path = os.fspath(path)
    _check_channels(channels)
    _check_regular_file(path, "path")
    try:
        contents = tf.io.read_file(os.fsencode(path))
        image = tf.io.decode_image(contents, expand_animations=False)
    except (tf.errors.InvalidArgumentError, tf.errors.NotFoundError) as e:
        raise ValueError(
            f"Received an invalid value for argument `path`: could not read the image file "
            f"{_shown(path)}: {_short_tf_message(e)}"
        ) from None
    if channels is None:
        channels = 1 if image.shape[-1] in (1, 2) else 3
    image = _convert_channels(image, channels)
    return _to_unit_range(image).numpy()


def num_images(source):
    """Returns how many images `source` holds when that is cheap to know, else `None`.

    Counting reads no image data: array lengths, file listings, IDX headers, TFDS
    metadata and known `tf.data` cardinalities. Unreadable files in a folder are
    counted (they are only found when the files are read).

    Args:
        source: anything `images` accepts.

    Returns:
        An int, or `None` when the count is unknown (e.g. a filtered `tf.data.Dataset`).
    """
    if isinstance(source, tuple) and len(source) == 2:
        return num_images(source[0])
    if isinstance(source, np.ndarray):
        return int(source.shape[0]) if source.ndim else None
    if isinstance(source, tf.data.Dataset):
        n = int(source.cardinality())
        return n if n >= 0 else None
    if isinstance(source, list):
        return len(source)
    if isinstance(source, (str, os.PathLike)):
        text = os.fspath(source)
        if text.startswith("tfds:"):
            name, split = _parse_tfds(text)
            try:
                import tensorflow_datasets as tfds

                return int(tfds.builder(name).info.splits[split].num_examples)
            except Exception:  # noqa: BLE001 - no metadata (not downloaded): unknown
                return None
        if os.path.isdir(text):
            files, _ = _list_image_files(text)
            return len(files)
        if os.path.isfile(text):
            if _looks_like_idx(text):
                return _idx_header_shape(text)[0]
            return 1
    return None


# --- Public datasets ---


def images(
    source,
    image_size=None,
    channels=None,
    batch_size=64,
    shuffle=True,
    seed=None,
    labels=False,
    drop_remainder=True,
    repeat=False,
    cache=False,
    on_error="raise",
    validate="quick",
    shuffle_buffer=10_000,
    num_classes=None,
):
    """Builds a batched, prefetched dataset of float32 images in [-1, 1].

    uint8 pixels `p` become `p / 127.5 - 1`; float sources must already be in
    [-1, 1]. Colour conversion uses `tf.image.rgb_to_grayscale` /
    `grayscale_to_rgb` (alpha channels are dropped) and resizing uses bilinear
    interpolation with antialiasing, clipped back to [-1, 1].

    Args:
        source: the images: a numpy array, a folder, a list of image files, an IDX
            file, `"tfds:NAME[:SPLIT]"`, a `tf.data.Dataset`, or an `(images, labels)`
            tuple (see the module docstring).
        image_size: `None` to keep the source's size, an int for square images, or a
            `(height, width)` pair. Required when the source's images differ in size.
        channels: `None` to keep the source's channels, `1` for grayscale or `3` for
            RGB. Folders give 1 when every file is grayscale, else 3.
        batch_size: images per batch.
        shuffle: shuffle every epoch. In-memory arrays and file lists are shuffled
            in full; TFDS names and datasets through a `shuffle_buffer` buffer.
        seed: seed for the shuffle, for reproducible order.
        labels: if `True`, yield `(images, labels)` with int32 class ids, from IDX
            label files, TFDS `as_supervised`, class subfolders, `(x, y)` tuples or
            `(image, label)` datasets. Raises if the source has no labels.
        drop_remainder: drop the last incomplete batch (default): the batch
            dimension is then static, and a tiny last batch can't upset batch
            normalization statistics in the discriminator.
        repeat: `False` for one pass per epoch, `True` to repeat forever (then pass
            `steps_per_epoch` to `fit`), or an int number of passes.
        cache: `False`, `True` (cache decoded images in memory after the first
            epoch) or a file path prefix for an on-disk cache. Ignored for
            in-memory sources.
        on_error: `"raise"` (default) to stop at an unreadable image file with an
            error naming it, or `"skip"` to leave such files out with a warning that
            counts them.
        validate: how folders and file lists are checked when the dataset is
            built: `"quick"` (PIL header plus `verify()`, which catches non-images
            and truncated PNGs), `"full"` (decode every file with PIL: slow), or
            `"none"` (open nothing up front: fastest for huge folders, but then the
            sizes are unknown and `image_size` is required). Files that fail to
            decode later, while iterating, still raise (or are skipped) naming the
            file.
        shuffle_buffer: shuffle buffer size for TFDS names and datasets.
        num_classes: with `labels=True`, the number of classes: labels known when the
            dataset is built (arrays, IDX files, class subfolders) must be below it,
            else a `ValueError` names them. (`GAN.fit` checks every dataset's labels
            as it reads them.)

    Returns:
        A `tf.data.Dataset` of `(batch, height, width, channels)` float32 batches, or of
        `(images, labels)` pairs when `labels=True`. Folder datasets have a
        `class_names` attribute.

    Example:

    >>> x = np.random.randint(0, 256, (256, 28, 28), dtype=np.uint8)
    >>> ds = images(x, batch_size=32)
    >>> next(iter(ds)).shape
    TensorShape([32, 28, 28, 1])
    >>> ds = images("photos/", image_size=(64, 64), channels=3)
    """
    _check_common(image_size, channels, batch_size, seed, repeat, cache, on_error, validate)
    _check_positive_int("shuffle_buffer", shuffle_buffer)
    src = _resolve(source, labels, channels, on_error, validate)
    if num_classes is not None and labels:
        _check_num_classes(src, num_classes, "source")
    _check_count(src.count, batch_size, drop_remainder, repeat)
    size, target_channels = _target_shape(src, image_size, channels)

    def finish(image, label):
        image = _convert_channels(_to_unit_range(image, src.check_range), target_channels)
        return _resize(image, size), label

    ds = _elements(src, shuffle, seed, shuffle_buffer, cache, loaded=src.gather is None)
    if src.gather is not None:
        # In-memory arrays: shuffle and batch indices, then gather and convert one
        # whole batch at a time, which is far cheaper than per-image work.
        ds = _repeat(ds, repeat).batch(batch_size, drop_remainder=drop_remainder)
        ds = ds.map(lambda index: finish(*src.gather(index)), num_parallel_calls=_PARALLEL_CALLS)
    elif None in src.shape:
        ds = ds.map(finish, num_parallel_calls=_PARALLEL_CALLS)
        ds = _repeat(ds, repeat).batch(batch_size, drop_remainder=drop_remainder)
    else:
        ds = _repeat(ds, repeat).batch(batch_size, drop_remainder=drop_remainder)
        ds = ds.map(finish, num_parallel_calls=_PARALLEL_CALLS)

    batch = batch_size if drop_remainder else None
    shape = (batch, *size, target_channels)

    def set_shape(image, label):
        image = tf.ensure_shape(image, shape)
        if labels:
            return image, tf.ensure_shape(label, (batch,))
        return image

    ds = ds.map(set_shape)
    return _finalize(ds, src.class_names)


def unpaired(
    a,
    b,
    image_size=None,
    channels=None,
    batch_size=1,
    jitter=False,
    shuffle=True,
    seed=None,
    drop_remainder=True,
    repeat=False,
    cache=False,
    on_error="raise",
    validate="quick",
    shuffle_buffer=10_000,
):
    """Builds `(a_batch, b_batch)` pairs from two unpaired image domains (CycleGAN).

    Each domain is shuffled on its own, so the pairs are random. When both sizes are
    known, one epoch has as many pairs as the larger domain has images: the smaller
    domain repeats (reshuffled each pass). When a domain's size is unknown, the
    known-size domain repeats and the epoch ends with the unknown one; when both are
    unknown, the epoch ends with the shorter.

    Jitter is the augmentation of Zhu et al., 2017, "Unpaired Image-to-Image
    Translation using Cycle-Consistent Adversarial Networks" (Sec. 7.1): resize to
    about 1.12x (286 pixels for 256), random crop back to size, random horizontal flip.

    Args:
        a: the first domain: any source `images` accepts.
        b: the second domain: any source `images` accepts.
        image_size: `None`, an int or `(height, width)`, applied to both domains.
        channels: `None`, `1` or `3`, applied to both domains.
        batch_size: pairs per batch (CycleGAN uses 1).
        jitter: apply the resize-crop-flip augmentation above.
        shuffle: shuffle each domain every epoch.
        seed: seed for the shuffles and the jitter.
        drop_remainder: drop the last incomplete batch.
        repeat: `False`, `True` (forever) or an int number of passes.
        cache: as in `images`.
        on_error: as in `images`.
        validate: as in `images`.
        shuffle_buffer: as in `images`.

    Returns:
        A `tf.data.Dataset` of `(a_batch, b_batch)` float32 tuples in [-1, 1].

    Example:

    >>> ds = unpaired("horses/", "zebras/", image_size=256, batch_size=1, jitter=True)
    """
    _check_common(image_size, channels, batch_size, seed, repeat, cache, on_error, validate)
    _check_positive_int("shuffle_buffer", shuffle_buffer)
    domains = []
    for i, (name, source) in enumerate((("a", a), ("b", b))):
        src = _resolve(source, False, channels, on_error, validate, argument=name)
        size, target_channels = _target_shape(src, image_size, channels, argument=name)
        domain_seed = None if seed is None else seed + i
        ds = _elements(src, shuffle, domain_seed, shuffle_buffer, cache, loaded=True)
        ds = ds.map(
            _element_finisher(src, size, target_channels), num_parallel_calls=_PARALLEL_CALLS
        )
        if jitter:
            ds = _with_seeds(ds, None if seed is None else seed + 10 + i)
            ds = ds.map(_jitterer(size, target_channels), num_parallel_calls=_PARALLEL_CALLS)
        domains.append((ds, src.count, (*size, target_channels)))

    (ds_a, n_a, shape_a), (ds_b, n_b, shape_b) = domains
    # The epoch follows the larger domain (or the one of unknown size); the other
    # repeats, reshuffled on each pass.
    repeat_a = n_a is not None and (n_b is None or n_a < n_b)
    repeat_b = n_b is not None and (n_a is None or n_b < n_a)
    if n_a is not None and n_b is not None:
        _check_count(max(n_a, n_b), batch_size, drop_remainder, repeat)
    ds = tf.data.Dataset.zip(
        (ds_a.repeat() if repeat_a else ds_a, ds_b.repeat() if repeat_b else ds_b)
    )
    ds = _repeat(ds, repeat)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    batch = batch_size if drop_remainder else None
    ds = ds.map(
        lambda x, y: (tf.ensure_shape(x, (batch, *shape_a)), tf.ensure_shape(y, (batch, *shape_b)))
    )
    return _finalize(ds)


def sr_pairs(
    source,
    scale=4,
    hr_size=96,
    batch_size=16,
    channels=None,
    shuffle=True,
    seed=None,
    drop_remainder=True,
    repeat=False,
    cache=False,
    on_error="raise",
    validate="quick",
    shuffle_buffer=10_000,
):
    """Builds `(low_res, high_res)` patch pairs for super-resolution (SRGAN).

    Each image gives one random `hr_size` x `hr_size` crop per pass, randomly flipped
    left-right and up-down. The low-resolution input is the crop downscaled by
    `scale` with bicubic antialiased resampling,
    `tf.image.resize(hr, hr_size // scale, method="bicubic", antialias=True)`,
    clipped to [-1, 1] (bicubic overshoots), as in Ledig et al., 2017, "Photo-Realistic
    Single Image Super-Resolution Using a Generative Adversarial Network" (96x96
    high-resolution crops, 4x downscaling).

    Args:
        source: any source `images` accepts; images may differ in size.
        scale: the upscaling factor: 2, 4 or 8.
        hr_size: side of the high-resolution crops; a multiple of `scale`. Images
            smaller than this raise an error naming them, or are skipped with a
            warning when `on_error="skip"`.
        batch_size: pairs per batch.
        channels: `None`, `1` or `3`.
        shuffle: shuffle every epoch.
        seed: seed for the shuffle, the crops and the flips.
        drop_remainder: drop the last incomplete batch.
        repeat: `False`, `True` (forever) or an int number of passes.
        cache: as in `images` (caches the decoded images, not the crops).
        on_error: `"raise"` or `"skip"`, for unreadable files and too-small images.
        validate: as in `images`.
        shuffle_buffer: as in `images`.

    Returns:
        A `tf.data.Dataset` of `(low_res, high_res)` float32 tuples in [-1, 1], of
        shapes `(batch, hr_size // scale, hr_size // scale, C)` and
        `(batch, hr_size, hr_size, C)`.

    Example:

    >>> ds = sr_pairs("DIV2K_train_HR/", scale=4, hr_size=96, batch_size=16)
    """
    if scale not in (2, 4, 8) or isinstance(scale, bool):
        raise ValueError(
            f"Received an invalid value for argument `scale`. Expected 2, 4 or 8, "
            f"received: scale={scale!r}"
        )
    _check_positive_int("hr_size", hr_size)
    if hr_size % scale:
        raise ValueError(
            f"Received an invalid value for argument `hr_size`. Expected a multiple of "
            f"scale={scale}, received: hr_size={hr_size}"
        )
    _check_common(None, channels, batch_size, seed, repeat, cache, on_error, validate)
    _check_positive_int("shuffle_buffer", shuffle_buffer)
    src = _resolve(source, False, channels, on_error, validate, min_size=hr_size)
    _check_count(src.count, batch_size, drop_remainder, repeat)
    if None not in src.shape[:2] and min(src.shape[:2]) < hr_size:
        raise ValueError(
            f"Received an invalid value for argument `hr_size`: the images are "
            f"{src.shape[0]}x{src.shape[1]}, smaller than hr_size={hr_size}"
        )
    if src.shape[2] is None and channels is None:
        raise ValueError(_UNKNOWN_CHANNELS)
    target_channels = channels or src.shape[2]
    lr_size = hr_size // scale

    ds = _elements(src, shuffle, seed, shuffle_buffer, cache, loaded=True)
    ds = ds.map(_element_finisher(src, None, target_channels), num_parallel_calls=_PARALLEL_CALLS)
    if None in src.shape[:2]:
        ds = _enforce_min_size(ds, hr_size, on_error)
    ds = _with_seeds(ds, seed)

    def crop(image, label, seed_pair):
        seeds = tf.random.experimental.stateless_split(seed_pair, 3)
        hr = tf.image.stateless_random_crop(image, (hr_size, hr_size, target_channels), seeds[0])
        hr = tf.image.stateless_random_flip_left_right(hr, seeds[1])
        hr = tf.image.stateless_random_flip_up_down(hr, seeds[2])
        lr = tf.image.resize(hr, (lr_size, lr_size), method="bicubic", antialias=True)
        return tf.clip_by_value(lr, -1.0, 1.0), hr

    ds = ds.map(crop, num_parallel_calls=_PARALLEL_CALLS)
    ds = _repeat(ds, repeat).batch(batch_size, drop_remainder=drop_remainder)
    batch = batch_size if drop_remainder else None
    ds = ds.map(
        lambda lr, hr: (
            tf.ensure_shape(lr, (batch, lr_size, lr_size, target_channels)),
            tf.ensure_shape(hr, (batch, hr_size, hr_size, target_channels)),
        )
    )
    return _finalize(ds)


# --- Sources ---


class _Source:
    """An unbatched stream of raw images (uint8 or float) and int32 labels.

    `keys` is what gets shuffled: indices for arrays, `(path, label)` for files, the
    elements themselves for datasets; `load` turns a keys dataset into `(image, label)`
    elements. Arrays also have `gather`, a vectorised load for a batch of indices.
    `shape` is `(H, W, C)` with `None` where unknown.
    """

    label_values = None  # the class ids, when known as the dataset is built

    def __init__(
        self,
        keys,
        load,
        count,
        shape,
        has_labels,
        cheap_keys=False,
        in_memory=False,
        gather=None,
        check_range=False,
        class_names=None,
    ):
        self.keys = keys
        self.load = load
        self.count = count
        self.shape = tuple(shape)
        self.has_labels = has_labels
        self.cheap_keys = cheap_keys
        self.in_memory = in_memory
        self.gather = gather
        self.check_range = check_range
        self.class_names = class_names


def _resolve(source, labels, channels, on_error, validate, min_size=None, argument="source"):
    """Dispatches `source` to the reader for its kind; returns a `_Source`."""
    label_values = None
    if isinstance(source, tuple):
        if len(source) != 2:
            raise ValueError(
                f"Received an invalid value for argument `{argument}`: a tuple must be "
                f"(images, labels); received a tuple of length {len(source)}"
            )
        source, label_values = source
        if isinstance(label_values, (str, os.PathLike)):
            label_values = read_idx(label_values)
    if isinstance(source, pathlib.PurePath):
        source = str(source)

    if isinstance(source, np.ndarray):
        src = _array_source(source, label_values, argument)
    elif isinstance(source, tf.data.Dataset):
        if label_values is not None:
            raise ValueError(
                f"Received an invalid value for argument `{argument}`: pass a dataset's labels "
                "inside its elements as (image, label), not as an (images, labels) tuple"
            )
        src = _dataset_source(source, labels, argument)
    elif isinstance(source, str) and source.startswith("tfds:"):
        src = _tfds_source(source, labels, argument)
    elif isinstance(source, str) and os.path.isdir(source):
        src = _folder_source(
            source, labels, label_values, channels, on_error, validate, min_size, argument
        )
    elif isinstance(source, str) and os.path.isfile(source) and _looks_like_idx(source):
        array = read_idx(source)
        if labels and label_values is None:
            label_values = read_idx(_idx_labels_path(source))
        src = _array_source(array, label_values, argument)
    elif isinstance(source, (str, list)):
        paths = [source] if isinstance(source, str) else [os.fspath(p) for p in source]
        if isinstance(source, str) and not os.path.exists(source):
            raise FileNotFoundError(
                f"Received an invalid value for argument `{argument}`: '{source}' is not an "
                "existing folder or file, nor a 'tfds:NAME' string"
            )
        src = _files_source(paths, label_values, channels, on_error, validate, min_size, argument)
    else:
        raise TypeError(
            f"Received an invalid value for argument `{argument}`. Expected a numpy array, a "
            "folder, an image or IDX file, a list of files, 'tfds:NAME', a tf.data.Dataset or "
            f"an (images, labels) tuple, received: {type(source).__name__}"
        )
    if labels and not src.has_labels:
        raise ValueError(
            f"Received labels=True, but the `{argument}` has no labels. Labels come from IDX "
            "label files, TFDS datasets (as_supervised), class subfolders, (image, label) "
            "datasets or an (images, labels) tuple"
        )
    return src


def _array_source(array, label_values, argument):
    if array.ndim not in (3, 4):
        raise ValueError(
            f"Received an invalid value for argument `{argument}`: expected images of rank 3 or 4 "
            f"((N, H, W) or (N, H, W, C)), received shape {array.shape}"
        )
    if array.shape[0] == 0:
        raise ValueError(
            f"Received an invalid value for argument `{argument}`: the array holds no images "
            f"(shape {array.shape})"
        )
    if array.ndim == 3:
        array = array[..., np.newaxis]
    if array.dtype == np.uint8:
        pass
    elif np.issubdtype(array.dtype, np.integer):
        low, high = int(array.min()), int(array.max())
        if low < 0 or high > 255:
            raise ValueError(
                f"Received an invalid value for argument `{argument}`: integer images must be "
                f"in 0-255; received values in [{low}, {high}]"
            )
        array = array.astype(np.uint8)
    elif np.issubdtype(array.dtype, np.floating):
        finite = np.isfinite(array)
        if not finite.all():
            raise ValueError(
                f"Received an invalid value for argument `{argument}`: float images must be "
                f"finite, in [-1, 1]; received {int((~finite).sum())} NaN or infinite "
                f"values, e.g. {array[~finite][0]}"
            )
        low, high = float(np.min(array)), float(np.max(array))
        if not (-1.0 <= low and high <= 1.0):
            pixels = 0.0 <= low and 2.0 <= high <= 255.0
            raise ValueError(
                f"Received an invalid value for argument `{argument}`: float images must be in "
                f"[-1, 1]; received values in [{low}, {high}]. "
                + ("They look like 0-255 pixel values stored as floats: pass uint8 or x / "
                   "127.5 - 1" if pixels else
                   "Pass uint8 0-255 or scale them (e.g. x / 127.5 - 1)")
            )
        array = array.astype(np.float32, copy=False)
    else:
        raise ValueError(
            f"Received an invalid value for argument `{argument}`: expected uint8 or float "
            f"images, received dtype {array.dtype}"
        )
    n = array.shape[0]
    images_t = tf.constant(array)
    labels_t = None
    if label_values is not None:
        labels_t = tf.constant(_check_labels(label_values, n, argument))

    def gather(index):
        image = tf.gather(images_t, index)
        if labels_t is None:
            return image, tf.fill(tf.shape(index), tf.constant(_NO_LABEL, tf.int32))
        return image, tf.gather(labels_t, index)

    src = _Source(
        keys=tf.data.Dataset.range(n),
        load=lambda keys: keys.map(gather),
        count=n,
        shape=array.shape[1:],
        has_labels=labels_t is not None,
        cheap_keys=True,
        in_memory=True,
        gather=gather,
    )
    src.label_values = None if label_values is None else labels_t.numpy()
    return src


def _check_labels(label_values, n, argument):
    y = np.asarray(label_values)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or not (np.issubdtype(y.dtype, np.integer) or y.dtype == bool):
        raise ValueError(
            f"Received an invalid value for the labels of `{argument}`: expected integer class "
            f"ids of shape (N,), received shape {y.shape} and dtype {y.dtype}"
        )
    if len(y) != n:
        raise ValueError(
            f"Received an invalid value for the labels of `{argument}`: {len(y)} labels for "
            f"{n} images"
        )
    if y.dtype != bool and len(y) and y.min() < 0:
        negative = sorted({int(v) for v in y[y < 0]})
        raise ValueError(
            f"Received an invalid value for the labels of `{argument}`: class ids must be "
            f"non-negative; received {int((y < 0).sum())} negative labels: "
            f"{negative[:10]}"
        )
    return y.astype(np.int32)


def _check_num_classes(src, num_classes, argument):
    """Labels known when the dataset is built must be below `num_classes`."""
    _check_positive_int("num_classes", num_classes)
    known = getattr(src, "label_values", None)
    if known is None or not len(known) or known.max() < num_classes:
        return
    if src.class_names:
        raise ValueError(
            f"Received an invalid value for argument `num_classes`: `{argument}` has "
            f"{len(src.class_names)} class subfolders ({', '.join(src.class_names[:10])}"
            f"{', ...' if len(src.class_names) > 10 else ''}), more than "
            f"num_classes={num_classes}"
        )
    over = sorted({int(v) for v in known[known >= num_classes]})
    raise ValueError(
        f"Received an invalid value for argument `num_classes`: the labels of `{argument}` "
        f"must be class ids in [0, {num_classes - 1}] (num_classes={num_classes}); "
        f"received {int((known >= num_classes).sum())} labels >= {num_classes}: {over[:10]}"
    )


def _dataset_source(ds, labels, argument):
    spec = ds.element_spec

    def pick(*element):  # map unpacks tuples into arguments
        element = element[0] if len(element) == 1 else element
        if isinstance(element, dict):
            image = element["image"]
            label = element["label"] if labels else tf.constant(_NO_LABEL)
        elif isinstance(element, (tuple, list)):
            image = element[0]
            label = element[1] if labels else tf.constant(_NO_LABEL)
        else:
            image, label = element, tf.constant(_NO_LABEL)
        if image.shape.rank == 2:
            image = image[..., tf.newaxis]
        return image, tf.cast(label, tf.int32)

    if isinstance(spec, dict):
        missing = [k for k in (("image", "label") if labels else ("image",)) if k not in spec]
        if missing:
            raise ValueError(
                f"Received an invalid value for argument `{argument}`: dataset elements are "
                f"dicts without the key(s) {missing}; keys: {sorted(spec)}"
            )
        image_spec, has_labels = spec["image"], "label" in spec
    elif isinstance(spec, (tuple, list)):
        if len(spec) != 2:
            raise ValueError(
                f"Received an invalid value for argument `{argument}`: dataset elements must be "
                f"images, (image, label) tuples or dicts; received {len(spec)}-tuples"
            )
        image_spec, has_labels = spec[0], True
    else:
        image_spec, has_labels = spec, False
    if not isinstance(image_spec, tf.TensorSpec):
        raise TypeError(
            f"Received an invalid value for argument `{argument}`: unsupported element spec {spec}"
        )
    if image_spec.shape.rank not in (2, 3):
        raise ValueError(
            f"Received an invalid value for argument `{argument}`: expected unbatched images of "
            f"rank 3 (H, W, C) or 2 (H, W), received element shape {image_spec.shape}"
            + (" (call .unbatch() on a batched dataset)" if image_spec.shape.rank == 4 else "")
        )
    dtype = image_spec.dtype
    if dtype not in (tf.uint8, tf.uint16) and not dtype.is_floating:
        raise ValueError(
            f"Received an invalid value for argument `{argument}`: expected uint8 or float "
            f"images, received dtype {dtype.name}"
        )
    count = int(ds.cardinality())
    if count == 0:
        raise ValueError(
            f"Received an invalid value for argument `{argument}`: the dataset is empty"
        )
    shape = image_spec.shape.as_list()
    if len(shape) == 2:
        shape.append(1)
    return _Source(
        keys=ds.map(pick),
        load=lambda keys: keys,
        count=count if count >= 0 else None,
        shape=shape,
        has_labels=has_labels,
        check_range=dtype.is_floating,
    )


def _parse_tfds(text):
    match = re.match(r"^tfds:([^:\[]+(?::\d+\.[\d*]+\.[\d*]+)?)(?::(.+))?$", text)
    if not match:
        raise ValueError(
            "Received an invalid value for argument `source`. Expected 'tfds:NAME' or "
            f"'tfds:NAME:SPLIT', received: {text!r}"
        )
    return match.group(1), match.group(2) or "train"


# Where TFDS fetches prepared data and most downloads (its GCS bucket); probed before a
# download so that an offline machine gets an error at once, not minutes of retries.
TFDS_PROBE = ("storage.googleapis.com", 443)
TFDS_PROBE_TIMEOUT = 3.0


def _reachable(host, port, timeout):
    """Whether a TCP connection to `host:port` opens within `timeout` seconds (DNS
    included: the lookup runs in a daemon thread, as getaddrinfo takes no timeout)."""
    import socket
    import threading

    result = []

    def connect():
        try:
            socket.create_connection((host, port), timeout=timeout).close()
            result.append(True)
        except OSError:
            result.append(False)

    thread = threading.Thread(target=connect, daemon=True)
    thread.start()
    thread.join(timeout)
    return bool(result and result[0])


def check_tfds(source, argument="source"):
    """Refuse at once a `"tfds:NAME[:SPLIT]"` source that is neither prepared locally nor
    downloadable (its host unreachable), before TFDS retries and leaves partial files.

    Other sources are returned unchecked. Returns the TFDS builder for a TFDS source.
    """
    if not (isinstance(source, str) and source.startswith("tfds:")):
        return None
    import logging

    import tensorflow_datasets as tfds  # slow to import: only when asked for

    name, split = _parse_tfds(source)
    absl_logger = logging.getLogger("absl")
    level = absl_logger.level
    absl_logger.setLevel(logging.ERROR)  # "Variant folder ... has no dataset_info.json"
    try:
        builder = tfds.builder(name)
    except Exception as e:  # noqa: BLE001 - an unknown name, or a community lookup failing
        raise ValueError(f"Received an invalid value for argument `{argument}`: "
                         f"{source!r} is not a TFDS dataset this machine can load "
                         f"({type(e).__name__}: {' '.join(str(e).split())[:200]})") from None
    finally:
        absl_logger.setLevel(level)
    if builder.is_prepared() or _tfds_mocked(tfds) or _reachable(*TFDS_PROBE,
                                                                 TFDS_PROBE_TIMEOUT):
        return builder
    raise ValueError(
        f"Received an invalid value for argument `{argument}`: the TFDS dataset {name!r} "
        f"(split {split!r}) is not prepared in {builder.data_dir} and cannot be downloaded "
        f"({TFDS_PROBE[0]} is unreachable: offline?). Use a local source: a folder of "
        "images, an image or MNIST-format IDX file, or a numpy array (e.g. `python -m "
        "keras_gans.demo --write-digits DIR` writes 5,000 real MNIST digits); or prepare "
        f"it once with network access (`tfds.load({name!r})`), or set TFDS_DATA_DIR to "
        "where it is prepared.")


def _tfds_mocked(tfds):
    """Whether `tfds.testing.mock_data` is active: it replaces preparing (and reading)
    with generated examples, so a dataset that is not prepared needs no download."""
    prepare = tfds.core.DatasetBuilder.download_and_prepare
    return getattr(prepare, "__module__", "").startswith("tensorflow_datasets.testing")


def _tfds_source(text, labels, argument):
    import tensorflow_datasets as tfds  # slow to import: only when asked for

    name, split = _parse_tfds(text)
    check_tfds(text, argument)
    ds = tfds.load(name, split=split, as_supervised=bool(labels))
    return _dataset_source(ds, labels, argument)


def _list_image_files(root):
    """Image files under `root` (sorted, recursive, each once, hidden ones left out) and
    the others; special files (FIFOs, sockets) are left out with a warning, never opened."""
    files, others, special = utils.walk_files(root, IMAGE_EXTENSIONS)
    if special:
        warnings.warn(
            f"Skipped {len(special)} special files (FIFOs, sockets or devices, which are "
            f"never read) under {_shown(root)}, e.g. {_shown(special[0])}",
            stacklevel=4,
        )
    return files, others


def _shown(path):
    """A path quoted for a message; bytes that are not UTF-8 show as escapes."""
    return repr(os.fsdecode(path))


def _is_special(path):
    """Whether `path` exists but is not a regular file or folder (a FIFO, socket, device)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False  # missing or unreadable: reading it gives the error naming it
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _check_regular_file(path, argument):
    """Refuses, without opening it, a path that is not a regular file (a FIFO would hang)."""
    if _is_special(path) or os.path.isdir(path):
        raise ValueError(
            f"Received an invalid value for argument `{argument}`: {_shown(path)} is not a "
            "regular file (a FIFO, socket, device or folder); it is not read"
        )


def _folder_source(root, labels, label_values, channels, on_error, validate, min_size, argument):
    files, others = _list_image_files(root)
    if not files:
        found = f"; found only {len(others)} other files, e.g. '{others[0]}'" if others else ""
        raise ValueError(
            f"Received an invalid value for argument `{argument}`: the folder '{root}' holds "
            f"no image files ({', '.join(IMAGE_EXTENSIONS)}){found}"
        )
    if others:
        warnings.warn(
            f"Ignored {len(others)} files without an image extension under '{root}', "
            f"e.g. '{others[0]}'",
            stacklevel=3,
        )
    class_names = None
    if labels and label_values is None:
        # Folder-per-class: the first path component under root names the class.
        top = [os.path.relpath(p, root).split(os.sep) for p in files]
        loose = [files[i] for i, parts in enumerate(top) if len(parts) == 1]
        if loose:
            raise ValueError(
                f"Received labels=True, but '{root}' holds {len(loose)} image files outside "
                f"class subfolders, e.g. '{loose[0]}'. Put each class in its own subfolder"
            )
        class_names = sorted({parts[0] for parts in top})
        index = {name: i for i, name in enumerate(class_names)}
        label_values = [index[parts[0]] for parts in top]
    src = _files_source(files, label_values, channels, on_error, validate, min_size, argument)
    src.class_names = class_names
    return src


def _files_source(paths, label_values, channels, on_error, validate, min_size, argument):
    if not paths:
        raise ValueError(f"Received an invalid value for argument `{argument}`: no files given")
    if label_values is not None:
        label_values = _check_labels(label_values, len(paths), argument)
    infos, bad = [], []
    for i, path in enumerate(paths):
        info = None
        if _is_special(path):  # never opened: reading a FIFO blocks for ever
            bad.append((i, f"{_shown(path)} (not a regular file but a FIFO, socket or device)"))
        elif validate != "none" or i == 0:
            try:
                info = _inspect_image(path, full=validate == "full")
            except Exception as e:  # noqa: BLE001 - whatever PIL raises, the file is unusable
                bad.append((i, f"{_shown(path)} ({type(e).__name__}: {e})"))
        infos.append(info)
    small = []
    if min_size is not None:
        small = [
            (i, f"'{paths[i]}' ({info[1]}x{info[0]})")
            for i, info in enumerate(infos)
            if info is not None and min(info[:2]) < min_size
        ]
    for problems, what, hint in (
        (bad, "unreadable image files", "cannot be decoded"),
        (small, f"images smaller than hr_size={min_size}", "is too small"),
    ):
        if not problems:
            continue
        if on_error == "raise":
            raise ValueError(
                f"Received an invalid value for argument `{argument}`: the file "
                f"{problems[0][1]} {hint}. {len(problems)} of {len(paths)} files are "
                f"{what}; pass on_error='skip' to leave them out"
            )
        warnings.warn(
            f"Skipped {len(problems)} of {len(paths)} {what}, e.g. {problems[0][1]}",
            stacklevel=4,
        )
    drop = {i for i, _ in bad} | {i for i, _ in small}
    keep = [i for i in range(len(paths)) if i not in drop]
    if not keep:
        raise ValueError(
            f"Received an invalid value for argument `{argument}`: none of its {len(paths)} "
            "files is a usable image"
        )
    paths = [paths[i] for i in keep]
    infos = [infos[i] for i in keep]
    known = [info for info in infos if info is not None]
    if channels is None:
        channels = 1 if all(info[2] in _GRAY_MODES for info in known) else 3
    sizes = {info[:2] for info in known}
    shape = (
        (*sizes.pop(), channels)
        if len(sizes) == 1 and validate != "none"
        else (None, None, channels)
    )
    has_labels = label_values is not None
    label_array = (
        np.asarray(label_values, np.int32)[keep]
        if has_labels
        else np.full(len(paths), _NO_LABEL, np.int32)
    )
    # As bytes: a name that is not valid UTF-8 reaches the file system unchanged.
    keys = tf.data.Dataset.from_tensor_slices(([os.fsencode(p) for p in paths], label_array))
    src = _Source(
        keys=keys,
        load=lambda k: _decode_files(k, shape, on_error, len(paths)),
        count=len(paths),
        shape=shape,
        has_labels=has_labels,
        cheap_keys=True,
    )
    src.label_values = label_array if has_labels else None
    return src


def _inspect_image(path, full):
    """Returns `(height, width, PIL mode)`; raises if PIL can't read it or TF can't decode."""
    from PIL import Image

    with Image.open(path) as im:
        info = (im.size[1], im.size[0], im.mode)
        if im.format not in _DECODABLE_FORMATS:
            raise ValueError(f"{im.format} images are not supported by tf.io.decode_image")
        if full:
            im.load()
        else:
            im.verify()  # checks PNG chunk CRCs, so truncated PNGs fail here
    return info


def _decode_files(keys, shape, on_error, count):
    """`(path, label)` keys -> `(uint8 image, label)`, naming files that fail to decode.

    A decode error inside `map` can't be caught in the graph and TF's message does
    not say which file failed. So each key is numbered and carries the previous
    path, failed elements are dropped with `ignore_errors`, and a `scan` over the
    output spots the gap in the numbers: the missing file is the one before the
    element that arrived. A sentinel key at the end makes a failing last file visible.
    """
    channels = shape[2]
    sentinel = tf.data.Dataset.from_tensors((tf.constant(""), tf.constant(_NO_LABEL)))

    def number(state, key):
        position, previous = state
        path, label = key
        return (position + 1, path), (position, path, previous, label)

    def decode(position, path, previous, label):
        def read():
            image = tf.io.decode_image(tf.io.read_file(path), expand_animations=False)
            return _convert_channels(image, channels)

        image = tf.cond(tf.equal(path, ""), lambda: tf.zeros((1, 1, channels), tf.uint8), read)
        return position, path, previous, label, tf.ensure_shape(image, (None, None, channels))

    def check(expected, element):
        position, path, previous, label, image = element
        ok = tf.equal(position, expected)
        if on_error == "raise":
            message = "Could not decode the image file (tf.io.decode_image failed):"
            with tf.control_dependencies([tf.debugging.Assert(ok, [message, previous])]):
                position = tf.identity(position)
        else:

            def warn():
                printed = tf.print(
                    "Skipped the unreadable image file:", previous, output_stream=sys.stderr
                )
                with tf.control_dependencies([printed]):
                    return tf.identity(position)

            position = tf.cond(ok, lambda: tf.identity(position), warn)
        return position + 1, (path, image, label)

    def not_sentinel(path, image, label):
        return tf.not_equal(path, "")

    def strip(path, image, label):
        return tf.ensure_shape(image, shape), label

    ds = keys.concatenate(sentinel)
    ds = ds.scan((tf.constant(0, tf.int64), tf.constant("")), number)
    ds = ds.map(decode, num_parallel_calls=_PARALLEL_CALLS, deterministic=True)
    ds = ds.ignore_errors().scan(tf.constant(0, tf.int64), check)
    ds = ds.filter(not_sentinel).map(strip)
    if on_error == "raise":
        ds = ds.apply(tf.data.experimental.assert_cardinality(count))
    return ds


def _looks_like_idx(path):
    name = os.path.basename(path).lower().removesuffix(".gz")
    return name.endswith(("-ubyte", ".ubyte", ".idx")) or re.search(r"idx\d", name) is not None


def _idx_labels_path(images_path):
    folder, name = os.path.split(images_path)
    candidates = []
    for old, new in (("images-idx3", "labels-idx1"), ("images.idx3", "labels.idx1")):
        if old in name:
            base = name.replace(old, new)
            stem = base.removesuffix(".gz")
            candidates += [
                os.path.join(folder, base),
                os.path.join(folder, stem),
                os.path.join(folder, stem + ".gz"),
            ]
    for candidate in candidates:
        if os.path.isfile(candidate):
            return candidate
    raise FileNotFoundError(
        f"Received labels=True, but no IDX labels file was found next to '{images_path}' "
        f"(looked for {candidates or 'a name with images-idx3 -> labels-idx1'}). Pass "
        "(images_path, labels_path) as the source"
    )


def _idx_header_shape(path):
    with open(path, "rb") as f:
        compressed = f.read(2) == b"\x1f\x8b"
    with (gzip.open if compressed else open)(path, "rb") as f:
        magic = f.read(4)
        dims = np.frombuffer(f.read(4 * magic[3]), dtype=">i4")
    return tuple(int(d) for d in dims)


# --- Pipeline pieces ---


def _elements(src, shuffle, seed, shuffle_buffer, cache, loaded):
    """Shuffled (and cached) stream: loaded `(image, label)` elements, or keys if not `loaded`."""
    ds, is_loaded = src.keys, False
    if cache is not False and not src.in_memory:
        # Cache the decoded images, then shuffle them through the buffer.
        ds, is_loaded = src.load(ds).cache("" if cache is True else os.fspath(cache)), True
    if shuffle:
        buffer = src.count if (src.cheap_keys and not is_loaded) else shuffle_buffer
        if src.count is not None:
            buffer = min(buffer, src.count)
        ds = ds.shuffle(buffer, seed=seed, reshuffle_each_iteration=True)
    if loaded and not is_loaded:
        ds = src.load(ds)
    return ds


def _element_finisher(src, size, channels):
    def finish(image, label):
        image = _convert_channels(_to_unit_range(image, src.check_range), channels)
        return _resize(image, size) if size is not None else image

    return finish


def _enforce_min_size(ds, min_size, on_error):
    def big_enough(image):
        shape = tf.shape(image)
        return tf.logical_and(shape[0] >= min_size, shape[1] >= min_size)

    if on_error == "skip":
        return ds.filter(big_enough)

    def check(image):
        message = f"An image is smaller than hr_size={min_size}; its shape:"
        with tf.control_dependencies(
            [tf.debugging.Assert(big_enough(image), [message, tf.shape(image)])]
        ):
            return tf.identity(image)

    return ds.map(check)


def _with_seeds(ds, seed):
    """Zips each element with a fresh `[2]` seed for stateless random ops."""
    seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
    return tf.data.Dataset.zip((ds, seeds)).map(_flatten_seed)


def _flatten_seed(element, seed_pair):
    if isinstance(element, tuple):
        return (*element, seed_pair)
    return element, tf.constant(_NO_LABEL), seed_pair


def _jitterer(size, channels):
    # 256 -> 286 as in the paper; int(s * 286 / 256) keeps the same ratio for other sizes.
    big = (int(size[0] * 286 / 256), int(size[1] * 286 / 256))

    def jitter(image, label, seed_pair):
        seeds = tf.random.experimental.stateless_split(seed_pair, 2)
        image = tf.image.resize(image, big, method="bilinear")
        image = tf.image.stateless_random_crop(image, (*size, channels), seeds[0])
        image = tf.image.stateless_random_flip_left_right(image, seeds[1])
        return image

    return jitter


def _repeat(ds, repeat):
    if repeat is True:
        return ds.repeat()
    if repeat is False:
        return ds
    return ds.repeat(repeat)


def _finalize(ds, class_names=None):
    ds = ds.prefetch(_PREFETCH)
    options = tf.data.Options()
    options.autotune.enabled = False
    ds = ds.with_options(options)
    if class_names is not None:
        ds.class_names = class_names
    return ds


# --- Tensor helpers ---


def _to_unit_range(image, check_range=False):
    """uint8 `p` -> `p / 127.5 - 1` (uint16: `p / 32767.5 - 1`); floats pass through."""
    if image.dtype == tf.uint8:
        return tf.cast(image, tf.float32) / 127.5 - 1.0
    if image.dtype == tf.uint16:
        return tf.cast(image, tf.float32) / 32767.5 - 1.0
    image = tf.cast(image, tf.float32)
    if check_range:
        largest = tf.reduce_max(tf.abs(image))
        message = (
            "float images must be in [-1, 1]; pass uint8 0-255 or scale them "
            "(e.g. x / 127.5 - 1). Largest absolute value:"
        )
        # NaN fails the comparison too.
        with tf.control_dependencies([tf.debugging.Assert(largest <= 1.0, [message, largest])]):
            image = tf.identity(image)
    return image


def _convert_channels(image, channels):
    """Converts the last axis to `channels` (1 or 3); alpha is dropped.

    Works on uint8 or float, one image or a batch, with a static or unknown number
    of channels (then chosen at run time with `tf.cond`).
    """
    if channels is None:
        return image
    current = image.shape[-1]
    if current is None:
        count = tf.shape(image)[-1]
        color = count >= 3
        if channels == 3:
            return tf.cond(
                color, lambda: image[..., :3], lambda: tf.image.grayscale_to_rgb(image[..., :1])
            )
        return tf.cond(
            color, lambda: tf.image.rgb_to_grayscale(image[..., :3]), lambda: image[..., :1]
        )
    if current not in (1, 2, 3, 4):
        if current == channels:
            return image
        raise ValueError(
            f"Received channels={channels}, but the images have {current} channels; only "
            "1 (gray), 2 (gray + alpha), 3 (RGB) and 4 (RGBA) can be converted"
        )
    if current == channels:
        return image
    if channels == 3:
        return image[..., :3] if current >= 3 else tf.image.grayscale_to_rgb(image[..., :1])
    return tf.image.rgb_to_grayscale(image[..., :3]) if current >= 3 else image[..., :1]


def _resize(image, size):
    if tuple(image.shape[-3:-1]) == tuple(size):
        return image
    # Antialiasing matters when shrinking photos a lot; clip the filter's overshoot.
    image = tf.image.resize(image, size, method="bilinear", antialias=True)
    return tf.clip_by_value(image, -1.0, 1.0)


# --- Argument checks ---

_UNKNOWN_CHANNELS = "The number of channels of the source is unknown; pass channels=1 or channels=3"


def _check_positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(
            f"Received an invalid value for argument `{name}`. Expected a positive integer, "
            f"received: {name}={value!r}"
        )


def _check_channels(channels):
    if channels not in (None, 1, 3) or isinstance(channels, bool):
        raise ValueError(
            "Received an invalid value for argument `channels`. Expected None, 1 or 3, "
            f"received: channels={channels!r}"
        )


def _normalize_size(image_size):
    if image_size is None:
        return None
    if isinstance(image_size, (int, np.integer)) and not isinstance(image_size, bool):
        size = (int(image_size), int(image_size))
    elif (
        isinstance(image_size, (tuple, list))
        and len(image_size) == 2
        and all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in image_size)
    ):
        size = (int(image_size[0]), int(image_size[1]))
    else:
        size = (0, 0)
    if min(size) < 1:
        raise ValueError(
            "Received an invalid value for argument `image_size`. Expected a positive integer "
            f"or a (height, width) pair of positive integers, received: image_size={image_size!r}"
        )
    return size


def _check_common(image_size, channels, batch_size, seed, repeat, cache, on_error, validate):
    _normalize_size(image_size)
    _check_channels(channels)
    _check_positive_int("batch_size", batch_size)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise ValueError(
            f"Received an invalid value for argument `seed`. Expected None or an integer, "
            f"received: seed={seed!r}"
        )
    if repeat is not True and repeat is not False:
        _check_positive_int("repeat", repeat)
    if not isinstance(cache, (bool, str, os.PathLike)):
        raise TypeError(
            "Received an invalid value for argument `cache`. Expected True, False or a file "
            f"path, received: cache={cache!r}"
        )
    if on_error not in ("raise", "skip"):
        raise ValueError(
            "Received an invalid value for argument `on_error`. Expected 'raise' or 'skip', "
            f"received: on_error={on_error!r}"
        )
    if validate not in ("quick", "full", "none"):
        raise ValueError(
            "Received an invalid value for argument `validate`. Expected 'quick', 'full' or "
            f"'none', received: validate={validate!r}"
        )


def _check_count(count, batch_size, drop_remainder, repeat):
    if count is not None and drop_remainder and repeat is False and count < batch_size:
        raise ValueError(
            f"Received an invalid value for argument `batch_size`: the source holds {count} "
            f"images, fewer than batch_size={batch_size}, so with drop_remainder=True the "
            "dataset would be empty. Pass a smaller batch_size or drop_remainder=False"
        )


def _target_shape(src, image_size, channels, argument="source"):
    size = _normalize_size(image_size)
    if size is None:
        if None in src.shape[:2]:
            raise ValueError(
                f"The images of `{argument}` differ in size or their size is unknown; pass "
                "image_size=(height, width) to resize them"
            )
        size = tuple(src.shape[:2])
    if channels is None and src.shape[2] is None:
        raise ValueError(_UNKNOWN_CHANNELS)
    return size, channels or src.shape[2]


def _short_tf_message(error):
    text = str(getattr(error, "message", error))
    return text.split("[[")[0].split(" [Op:")[0].split("}}")[-1].strip()


# Inpainting pairs live in their own module; `keras_gans.data.inpainting_pairs` is the
# public name.
from keras_gans.data_inpainting import inpainting_masks, inpainting_pairs  # noqa: F401
