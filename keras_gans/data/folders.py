"""File sources: folders of images (optionally one subfolder per class), lists of
image files and single files, checked with PIL up front and decoded by `tf.data`, naming
any file that fails."""

import os
import sys
import warnings

import numpy as np
import tensorflow as tf

from keras_gans import utils
from keras_gans.data._checks import (
    _NO_LABEL,
    _PARALLEL_CALLS,
    _check_channels,
    _check_labels,
    _check_regular_file,
    _fspath,
    _is_special,
    _short_tf_message,
    _shown,
)
from keras_gans.data._pipeline import _convert_channels, _Source, _to_unit_range

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")


# What tf.io.decode_image reads, as PIL names the formats.
_DECODABLE_FORMATS = ("PNG", "JPEG", "BMP", "GIF", "MPO")

_GRAY_MODES = ("1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F")


def load_image_file(path, channels=None):
    """Reads one image file into a float32 numpy array in [-1, 1].

    The file is checked as the folder sources check theirs before it is decoded: PIL
    reads its header (refusing, like PIL, one that declares more than twice
    `PIL.Image.MAX_IMAGE_PIXELS` pixels: a decompression bomb) and verifies it.

    Args:
        path: a PNG, JPEG, BMP or GIF file (the first frame of a GIF).
        channels: `1` (grayscale), `3` (RGB) or `None` to keep the file's own
            (grayscale files give 1, colour files 3; alpha is dropped).

    Returns:
        A float32 array of shape `(height, width, channels)`.

    Raises:
        ValueError: the file is not a regular file, or not an image this can decode
            (unreadable, truncated, another format, or too many pixels).

    Example:

    >>> image = load_image_file("photo.jpg", channels=3)
    """
    path = _fspath(path, "path")
    _check_channels(channels)
    _check_regular_file(path, "path")
    try:
        _inspect_image(path, full=False)  # what the folder sources check first
    except Exception as e:  # noqa: BLE001 - whatever PIL raises, the file is unusable
        raise ValueError(
            f"Received an invalid value for argument `path`: could not read the image file "
            f"{_shown(path)} ({type(e).__name__}: {e})"
        ) from None
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
