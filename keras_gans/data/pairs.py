"""Paired datasets: `unpaired` (two domains, CycleGAN) and `sr_pairs` (low- and
high-resolution patches, SRGAN)."""

import tensorflow as tf

from keras_gans.data._checks import (
    _PARALLEL_CALLS,
    _UNKNOWN_CHANNELS,
    _check_common,
    _check_count,
    _check_flags,
    _check_positive_int,
)
from keras_gans.data._pipeline import (
    _batch,
    _element_finisher,
    _elements,
    _enforce_min_size,
    _finalize,
    _jitterer,
    _set_shapes,
    _target_shape,
    _with_seeds,
)
from keras_gans.data.sources import _resolve, _short_repr


def unpaired(a, b, image_size=None, channels=None, batch_size=1, jitter=False, shuffle=True,
             seed=None, drop_remainder=True, repeat=False, cache=False, on_error="raise",
             validate="quick", shuffle_buffer=10_000):
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
    jitter, shuffle, drop_remainder = _check_flags(
        jitter=jitter, shuffle=shuffle, drop_remainder=drop_remainder)
    _check_positive_int("shuffle_buffer", shuffle_buffer)
    (ds_a, n_a, shape_a), (ds_b, n_b, shape_b) = (
        _domain(source, name, i, image_size, channels, jitter, shuffle, seed, cache, on_error,
                validate, shuffle_buffer)
        for i, (name, source) in enumerate((("a", a), ("b", b)))
    )
    # The epoch follows the larger domain (or the one of unknown size); the other
    # repeats, reshuffled on each pass.
    repeat_a = n_a is not None and (n_b is None or n_a < n_b)
    repeat_b = n_b is not None and (n_a is None or n_b < n_a)
    if channels is None and shape_a[2] != shape_b[2]:
        raise ValueError(
            f"Received an invalid value for argument `channels`: the images of `a` "
            f"({_short_repr(a, 60)}) have {shape_a[2]} channel(s) but those of `b` "
            f"({_short_repr(b, 60)}) have {shape_b[2]}; the two domains need the same number. "
            "Pass channels=1 or channels=3 to convert both, received: channels=None"
        )
    if n_a is not None and n_b is not None:
        _check_count(max(n_a, n_b), batch_size, drop_remainder, repeat,
                     holder="the larger of `a` and `b` holds")
    ds = tf.data.Dataset.zip(
        (ds_a.repeat() if repeat_a else ds_a, ds_b.repeat() if repeat_b else ds_b)
    )
    ds, batch = _batch(ds, batch_size, drop_remainder, repeat)
    return _finalize(_set_shapes(ds, (batch, *shape_a), (batch, *shape_b)))


def _domain(source, name, index, image_size, channels, jitter, shuffle, seed, cache, on_error,
            validate, shuffle_buffer):
    """One domain of `unpaired`: its unbatched images, their count and their shape."""
    src = _resolve(source, False, channels, on_error, validate, argument=name)
    size, target_channels = _target_shape(src, image_size, channels, argument=name)
    domain_seed = None if seed is None else seed + index
    ds = _elements(src, shuffle, domain_seed, shuffle_buffer, cache, loaded=True)
    ds = ds.map(_element_finisher(src, size, target_channels), num_parallel_calls=_PARALLEL_CALLS)
    if jitter:
        ds = _with_seeds(ds, None if seed is None else seed + 10 + index)
        ds = ds.map(_jitterer(size, target_channels), num_parallel_calls=_PARALLEL_CALLS)
    return ds, src.count, (*size, target_channels)


def sr_pairs(source, scale=4, hr_size=96, batch_size=16, channels=None, shuffle=True, seed=None,
             drop_remainder=True, repeat=False, cache=False, on_error="raise", validate="quick",
             shuffle_buffer=10_000):
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
    _check_sr_sizes(scale, hr_size)
    _check_common(None, channels, batch_size, seed, repeat, cache, on_error, validate)
    shuffle, drop_remainder = _check_flags(shuffle=shuffle, drop_remainder=drop_remainder)
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
    ds = ds.map(_cropper(hr_size, lr_size, target_channels), num_parallel_calls=_PARALLEL_CALLS)
    ds, batch = _batch(ds, batch_size, drop_remainder, repeat)
    ds = _set_shapes(
        ds,
        (batch, lr_size, lr_size, target_channels),
        (batch, hr_size, hr_size, target_channels),
    )
    return _finalize(ds)


def _check_sr_sizes(scale, hr_size):
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


def _cropper(hr_size, lr_size, channels):
    """`(image, label, seed)` -> `(low_res, high_res)`: a random flipped crop, downscaled."""

    def crop(image, label, seed_pair):
        seeds = tf.random.experimental.stateless_split(seed_pair, 3)
        hr = tf.image.stateless_random_crop(image, (hr_size, hr_size, channels), seeds[0])
        hr = tf.image.stateless_random_flip_left_right(hr, seeds[1])
        hr = tf.image.stateless_random_flip_up_down(hr, seeds[2])
        lr = tf.image.resize(hr, (lr_size, lr_size), method="bicubic", antialias=True)
        return tf.clip_by_value(lr, -1.0, 1.0), hr

    return crop
