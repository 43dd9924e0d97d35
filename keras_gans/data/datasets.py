"""`images`: any source -> batched `tf.data.Dataset` of float32 images in [-1, 1]."""

from keras_gans.data._checks import (
    _PARALLEL_CALLS,
    _check_common,
    _check_count,
    _check_flags,
    _check_num_classes,
    _check_positive_int,
)
from keras_gans.data._pipeline import (
    _batch,
    _element_finisher,
    _elements,
    _finalize,
    _set_shapes,
    _target_shape,
)
from keras_gans.data.sources import _resolve


def images(source, image_size=None, channels=None, batch_size=64, shuffle=True, seed=None,
           labels=False, drop_remainder=True, repeat=False, cache=False, on_error="raise",
           validate="quick", shuffle_buffer=10_000, num_classes=None):
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
        shuffle: `True` or `False`: shuffle every epoch. In-memory arrays and file
            lists are shuffled in full; TFDS names and datasets through a
            `shuffle_buffer` buffer.
        seed: seed for the shuffle, for reproducible order.
        labels: if `True`, yield `(images, labels)` with int32 class ids, from IDX
            label files, TFDS `as_supervised`, class subfolders, `(x, y)` tuples or
            `(image, label)` datasets. Raises if the source has no labels.
        drop_remainder: drop the last incomplete batch (default): the batch
            dimension is then static, and a tiny last batch can't upset batch
            normalization statistics in the discriminator. `shuffle`, `labels` and
            `drop_remainder` must be `True` or `False`.
        repeat: `False` for one pass per epoch, `True` to repeat forever (then pass
            `steps_per_epoch` to `fit`), or an int number of passes.
        cache: `False`, `True` (cache decoded images in memory after the first
            epoch) or a file path prefix for an on-disk cache, in an existing folder
            this process can write (checked at once). Ignored for in-memory sources.
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
        num_classes: `None`, or with `labels=True` the number of classes (a positive
            integer): labels known when the dataset is built (arrays, IDX files, class
            subfolders) must be below it, else a `ValueError` names them. (`GAN.fit`
            checks every dataset's labels as it reads them.)

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
    shuffle, labels, drop_remainder = _check_flags(
        shuffle=shuffle, labels=labels, drop_remainder=drop_remainder)
    _check_positive_int("shuffle_buffer", shuffle_buffer)
    if num_classes is not None:
        _check_positive_int("num_classes", num_classes)
        if not labels:
            raise ValueError(
                "Received an invalid value for argument `num_classes`: it bounds the labels, "
                f"but labels=False; pass labels=True, or no num_classes. Received: "
                f"num_classes={num_classes!r}"
            )
    src = _resolve(source, labels, channels, on_error, validate)
    if num_classes is not None:
        _check_num_classes(src, num_classes, "source")
    _check_count(src.count, batch_size, drop_remainder, repeat)
    size, target_channels = _target_shape(src, image_size, channels)
    ds = _elements(src, shuffle, seed, shuffle_buffer, cache, loaded=src.gather is None)
    ds, batch = _finished_batches(
        ds, src, _element_finisher(src, size, target_channels, with_label=True),
        batch_size, drop_remainder, repeat,
    )
    shapes = ((batch, *size, target_channels), (batch,))
    return _finalize(_set_shapes(ds, *shapes[: 2 if labels else 1]), src.class_names)


def _finished_batches(ds, src, finish, batch_size, drop_remainder, repeat):
    """Batches of `finish`ed `(image, label)` elements, converted where it is cheapest."""
    if src.gather is not None:
        # In-memory arrays: shuffle and batch indices, then gather and convert one
        # whole batch at a time, which is far cheaper than per-image work.
        ds, batch = _batch(ds, batch_size, drop_remainder, repeat)
        ds = ds.map(lambda index: finish(*src.gather(index)), num_parallel_calls=_PARALLEL_CALLS)
    elif None in src.shape:  # images of different sizes: resize before batching
        ds = ds.map(finish, num_parallel_calls=_PARALLEL_CALLS)
        ds, batch = _batch(ds, batch_size, drop_remainder, repeat)
    else:
        ds, batch = _batch(ds, batch_size, drop_remainder, repeat)
        ds = ds.map(finish, num_parallel_calls=_PARALLEL_CALLS)
    return ds, batch
