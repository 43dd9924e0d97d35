"""Pipeline pieces shared by `images`, `unpaired` and `sr_pairs`: the `_Source`
every reader returns, shuffling and caching, per-element conversion to [-1, 1], channel
conversion, resizing, stateless seeds, jitter, repeat and prefetch."""

import dataclasses
import os

import tensorflow as tf

from keras_gans import utils
from keras_gans.data._checks import _NO_LABEL, _PREFETCH, _UNKNOWN_CHANNELS, _normalize_size


@dataclasses.dataclass(eq=False)  # compared by identity, as before
class _Source:
    """An unbatched stream of raw images (uint8 or float) and int32 labels.

    `keys` is what gets shuffled: indices for arrays, `(path, label)` for files, the
    elements themselves for datasets; `load` turns a keys dataset into `(image, label)`
    elements. Arrays also have `gather`, a vectorised load for a batch of indices.
    `shape` is `(H, W, C)` with `None` where unknown.
    """

    keys: object
    load: object
    count: object
    shape: tuple
    has_labels: bool
    cheap_keys: bool = False
    in_memory: bool = False
    gather: object = None
    check_range: bool = False
    class_names: object = None
    label_values = None  # the class ids, when known as the dataset is built (not a field)

    def __post_init__(self):
        self.shape = tuple(self.shape)


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


def _element_finisher(src, size, channels, with_label=False):
    """`(image, label)` -> the image (or `(image, label)`) in [-1, 1], `channels`, `size`.

    Works on one image or a batch; `size=None` keeps the image's size.
    """

    def finish(image, label):
        image = _convert_channels(_to_unit_range(image, src.check_range), channels)
        image = _resize(image, size) if size is not None else image
        return (image, label) if with_label else image

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


def _batch(ds, batch_size, drop_remainder, repeat):
    """Repeats and batches `ds`; returns it and the static batch size (`None` when the
    last batch may be smaller)."""
    ds = _repeat(ds, repeat).batch(batch_size, drop_remainder=drop_remainder)
    return ds, batch_size if drop_remainder else None


def _set_shapes(ds, *shapes):
    """Gives the first `len(shapes)` components of each element static shapes; the
    others are dropped (a lone component is returned bare)."""

    def set_shapes(*element):
        out = tuple(tf.ensure_shape(x, shape) for x, shape in zip(element, shapes))
        return out[0] if len(out) == 1 else out

    return ds.map(set_shapes)


def _finalize(ds, class_names=None):
    ds = ds.prefetch(_PREFETCH)
    options = tf.data.Options()
    options.autotune.enabled = False
    ds = ds.with_options(options)
    if class_names is not None:
        ds.class_names = class_names
    return ds


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


def _to_unit_range(image, check_range=False):
    """uint8 `p` -> `p / 127.5 - 1` (uint16: `p / 32767.5 - 1`); floats pass through."""
    if image.dtype == tf.uint8:
        return utils.to_float(image)
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
