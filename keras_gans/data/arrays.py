"""In-memory sources: numpy arrays, MNIST-format IDX files and `tf.data.Dataset`s."""

import gzip
import math
import os
import re

import numpy as np
import tensorflow as tf

from keras_gans._arrays import non_finite
from keras_gans.data._checks import _NO_LABEL, _check_labels, _check_regular_file, _fspath
from keras_gans.data._pipeline import _Source

_IDX_DTYPES = {
    0x08: np.uint8,
    0x09: np.int8,
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


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
    path = os.fsdecode(_fspath(path, "path"))
    _check_regular_file(path, "path")  # never opened otherwise: reading a FIFO blocks
    with open(path, "rb") as f:
        compressed = f.read(2) == b"\x1f\x8b"
    try:
        # Read as a stream, never more than the header promises: a small gzip file can
        # hold gigabytes (a decompression bomb).
        with (gzip.open if compressed else open)(path, "rb") as f:
            dtype, shape = _read_idx_header(f, path)
            header = 4 + 4 * len(shape)
            expected = header + math.prod(shape) * dtype.itemsize  # Python ints: no overflow
            held = None if compressed else os.fstat(f.fileno()).st_size
            if held is None or held == expected:
                _check_idx_fits_memory(path, shape, expected)
                payload = f.read(expected - header + 1)  # one more: a longer stream shows
                held = header + len(payload)
    except (OSError, EOFError) as e:
        if not compressed:
            raise
        raise ValueError(f"Could not decompress the IDX file '{path}': {e}") from None
    if held != expected:
        # A stream is read one byte further than promised: not to its end.
        held = f"more than {expected}" if compressed and held > expected else held
        raise ValueError(
            f"The IDX file '{path}' is truncated or corrupt: its header promises shape "
            f"{shape} ({expected} bytes), but the file holds {held} bytes"
            + (" (decompressed)" if compressed else "")
        )
    array = np.frombuffer(payload, dtype=dtype).reshape(shape)
    return array.astype(dtype.newbyteorder("="))


def _read_idx_header(f, path):
    """`(dtype, shape)` from the header of the IDX stream `f` (left at the values)."""
    magic = f.read(4)
    if len(magic) < 4 or magic[0] != 0 or magic[1] != 0 or magic[2] not in _IDX_DTYPES:
        raise ValueError(
            f"'{path}' is not an IDX file: expected the magic bytes 0x00 0x00 <dtype> <ndim>, "
            f"received: {magic!r}"
        )
    return np.dtype(_IDX_DTYPES[magic[2]]), _idx_dims(path, f.read(4 * magic[3]), magic[3])


def _check_idx_fits_memory(path, shape, size):
    from keras_gans.memory import available_memory

    available = available_memory()
    if available is not None and size > available:
        raise MemoryError(
            f"Received an invalid value for argument `path`: the IDX file '{path}' promises "
            f"shape {shape} ({size:,} bytes), more than the {available:,} bytes of memory "
            "available"
        )


def _check_image_channels(count, shape, argument):
    """Images have 1 (gray), 2 (gray + alpha), 3 (RGB) or 4 (RGBA) channels: the ones the
    pipeline can convert; an unknown count (`None`) is checked as the images are read."""
    if count is not None and count not in (1, 2, 3, 4):
        raise ValueError(
            f"Received an invalid value for argument `{argument}`: expected images with 1 "
            "(gray), 2 (gray + alpha), 3 (RGB) or 4 (RGBA) channels, (N, H, W, C) with C "
            f"1-4, received shape {shape}"
        )


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
    _check_image_channels(array.shape[-1], array.shape, argument)
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
        bad = non_finite(array)
        if bad:
            raise ValueError(
                f"Received an invalid value for argument `{argument}`: float images must be "
                f"finite, in [-1, 1]; received {bad[0]} NaN or infinite values, e.g. {bad[1]}")
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
    _check_image_channels(shape[2], tuple(image_spec.shape), argument)
    return _Source(
        keys=ds.map(pick),
        load=lambda keys: keys,
        count=count if count >= 0 else None,
        shape=shape,
        has_labels=has_labels,
        check_range=dtype.is_floating,
    )


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


def _idx_dims(path, raw, ndim):
    """The shape that an IDX header's `ndim` big-endian int32 dimensions `raw` give."""
    if len(raw) != 4 * ndim:
        raise ValueError(f"The IDX file '{path}' is truncated: its header promises {ndim} "
                         f"dimensions, but holds {len(raw) // 4}")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">i4"))
    if any(d < 0 for d in shape):
        raise ValueError(f"The IDX file '{path}' is corrupt: its header gives the negative "
                         f"shape {shape}")
    return shape


def _idx_header_shape(path):
    with open(path, "rb") as f:
        compressed = f.read(2) == b"\x1f\x8b"
    try:
        with (gzip.open if compressed else open)(path, "rb") as f:
            return _read_idx_header(f, path)[1]
    except (OSError, EOFError) as e:  # gzip: not a gzip stream after all, or truncated
        if not compressed:
            raise
        raise ValueError(f"Could not decompress the IDX file '{path}': {e}") from None
