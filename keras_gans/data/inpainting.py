"""Inpainting data: images with reproducible random masks (`keras_gans.data.inpainting_pairs`).

Masks are bool, `True` = missing, drawn by stateless TensorFlow ops from `(seed, batch
index)`: the same seed gives the same masks on every machine and every run, and a
resumed run draws the masks of the uninterrupted one.

- `"box"`: one axis-aligned rectangle per image, each side a uniform fraction
  `box_size` of the image's;
- `"free_form"`: the free-form strokes of DeepFill v2 (Yu et al. 2019, "Free-Form Image
  Inpainting with Gated Convolution", https://arxiv.org/abs/1806.03589, algorithm 1):
  1 to 4 strokes per image, each a polyline of 1 to 8 vertices with random angles and
  lengths up to a third of the image, drawn with a random brush width;
- a tuple of kinds, e.g. `("box", "free_form")`: each image draws one of them;
- a callable `fn(seed, batch, height, width)` returning `[batch, height, width]`
  bool (or 0/1) masks; it runs inside `tf.data`, in graph mode, so it must use
  TensorFlow ops, and stateless ones (`tf.random.stateless_*` with `seed`, a `[2]`
  int64 tensor) to stay reproducible.
"""

import math
import random

import tensorflow as tf

from keras_gans.data import datasets
from keras_gans.data._checks import _check_positive_int, _check_seed

MASK_KINDS = ("box", "free_form")
# DeepFill v2's free-form parameters, with lengths and widths relative to the image.
_MAX_STROKES = 4
_MAX_VERTICES = 8
_MAX_LENGTH = 1 / 3
_WIDTH = (1 / 14, 1 / 7)
# Separates the mask draws from the (seed, batch) of other uses of the same seed.
_SALT = 7919


def box_masks(seed, batch, height, width, box_size=(0.25, 0.5)):
    """`[batch, height, width]` bool masks of one random rectangle each.

    Args:
        seed: a `[2]` int64 stateless seed.
        batch, height, width: the shape.
        box_size: `(min, max)` fractions of the side for each side of the box.
    """
    seeds = tf.random.experimental.stateless_split(seed, 4)
    low, high = box_size

    def side(s, length):
        fraction = tf.random.stateless_uniform([batch], s, low, high)
        return tf.clip_by_value(tf.round(fraction * length), 1.0, length - 1.0)

    box_h, box_w = side(seeds[0], float(height)), side(seeds[1], float(width))
    top = tf.floor(tf.random.stateless_uniform([batch], seeds[2]) * (height - box_h + 1.0))
    left = tf.floor(tf.random.stateless_uniform([batch], seeds[3]) * (width - box_w + 1.0))
    rows = tf.range(height, dtype=tf.float32)[None, :, None]
    cols = tf.range(width, dtype=tf.float32)[None, None, :]
    inside_rows = (rows >= top[:, None, None]) & (rows < (top + box_h)[:, None, None])
    inside_cols = (cols >= left[:, None, None]) & (cols < (left + box_w)[:, None, None])
    return inside_rows & inside_cols


def free_form_masks(seed, batch, height, width):
    """`[batch, height, width]` bool masks of DeepFill v2 free-form strokes."""
    s = tf.random.experimental.stateless_split(seed, 7)
    size = float(min(height, width))
    strokes, vertices = _MAX_STROKES, _MAX_VERTICES
    n_strokes = tf.random.stateless_uniform([batch, 1], s[0], 1, strokes + 1, tf.int32)
    n_vertices = tf.random.stateless_uniform([batch, strokes, 1], s[1], 1, vertices + 1,
                                             tf.int32)
    start = tf.random.stateless_uniform([batch, strokes, 1, 2], s[2]) * [height, width]
    angle = tf.random.stateless_uniform([batch, strokes, vertices], s[3], 0.0, 2 * math.pi)
    # DeepFill turns every other segment back (2*pi - angle) for wavier strokes.
    angle = tf.where(tf.range(vertices) % 2 == 1, 2 * math.pi - angle, angle)
    length = tf.random.stateless_uniform([batch, strokes, vertices], s[4], 0.0,
                                         _MAX_LENGTH * size)
    brush = tf.random.stateless_uniform([batch, strokes, 1], s[5], *_WIDTH) * size
    brush = tf.maximum(brush, 1.0)
    steps = tf.stack([length * tf.sin(angle), length * tf.cos(angle)], axis=-1)
    points = tf.concat([start, start + tf.cumsum(steps, axis=2)], axis=2)
    points = tf.clip_by_value(points, 0.0, [height - 1.0, width - 1.0])
    p0, p1 = points[:, :, :-1], points[:, :, 1:]                     # [B, S, V, 2]
    valid = ((tf.range(strokes)[None, :, None] < n_strokes[:, :, None])
             & (tf.range(vertices)[None, None, :] < n_vertices))     # [B, S, V]
    grid = tf.stack(tf.meshgrid(tf.range(height, dtype=tf.float32),
                                tf.range(width, dtype=tf.float32), indexing="ij"), -1)
    pixels = tf.reshape(grid, [1, 1, 1, -1, 2])                      # [1, 1, 1, HW, 2]
    direction = (p1 - p0)[..., None, :]
    offset = pixels - p0[..., None, :]
    t = tf.reduce_sum(offset * direction, -1) / tf.maximum(
        tf.reduce_sum(direction * direction, -1), 1e-6)
    nearest = p0[..., None, :] + tf.clip_by_value(t, 0.0, 1.0)[..., None] * direction
    distance = tf.norm(pixels - nearest, axis=-1)                    # [B, S, V, HW]
    covered = (distance <= brush[..., None] / 2.0) & valid[..., None]
    return tf.reshape(tf.reduce_any(covered, axis=[1, 2]), [batch, height, width])


def _mask_fn(masks, box_size):
    """`fn(seed, batch, height, width)` -> bool masks for the `masks` argument."""
    kinds = (masks,) if isinstance(masks, str) else masks
    if callable(kinds):
        def custom(seed, batch, height, width):
            out = tf.convert_to_tensor(kinds(seed, batch, height, width))
            return tf.ensure_shape(tf.cast(out, tf.bool), [None, height, width])
        return custom
    if (not isinstance(kinds, (tuple, list)) or not kinds
            or any(k not in MASK_KINDS for k in kinds)):
        raise ValueError(
            "Received an invalid value for argument `masks`. Expected 'box', 'free_form', "
            f"a tuple of them or a callable fn(seed, batch, height, width), received: "
            f"masks={masks!r}"
        )
    makers = {"box": lambda seed, b, h, w: box_masks(seed, b, h, w, box_size),
              "free_form": free_form_masks}
    kinds = tuple(dict.fromkeys(kinds))
    if len(kinds) == 1:
        return makers[kinds[0]]

    def mixed(seed, batch, height, width):
        seeds = tf.random.experimental.stateless_split(seed, len(kinds) + 1)
        choice = tf.random.stateless_uniform([batch], seeds[0], 0, len(kinds), tf.int32)
        out = tf.zeros([batch, height, width], tf.bool)
        for i, kind in enumerate(kinds):
            drawn = makers[kind](seeds[i + 1], batch, height, width)
            out = tf.where((choice == i)[:, None, None], drawn, out)
        return out

    return mixed


def _check_box_size(box_size):
    ok = (isinstance(box_size, (tuple, list)) and len(box_size) == 2
          and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in box_size)
          and 0.0 < box_size[0] <= box_size[1] < 1.0)
    if not ok:
        raise ValueError(
            "Received an invalid value for argument `box_size`. Expected (min, max) "
            f"fractions with 0 < min <= max < 1, received: box_size={box_size!r}"
        )
    return tuple(float(v) for v in box_size)


def inpainting_masks(n, height, width, masks="box", seed=0, box_size=(0.25, 0.5)):
    """`n` random masks as a numpy bool array `(n, height, width)`, `True` = missing.

    The masks `inpainting_pairs(..., masks=masks, seed=seed)` puts on its first batch of
    `n` images.

    Example:

    >>> inpainting_masks(2, 28, 28, "free_form", seed=0).shape
    (2, 28, 28)
    """
    for name, value in (("n", n), ("height", height), ("width", width)):
        _check_positive_int(name, value)
    _check_seed(seed, allow_none=False, non_negative=True)
    fn = _mask_fn(masks, _check_box_size(box_size))
    _check_masks_fit(n, height, width, masks)
    return fn(_mask_seed(seed, 0), n, height, width).numpy()


def _mask_bytes_per_pixel(masks):
    """About the bytes per mask pixel drawing masks takes at its peak: free-form strokes
    keep float32 offsets, projections, nearest points and distances to each of their
    `strokes x vertices` segments alive together; a box (or a callable, counted as one)
    a few bool and float maps. Kinds are drawn one after the other."""
    kinds = (masks,) if isinstance(masks, str) or callable(masks) else tuple(masks)
    per_kind = {"free_form": 4 * _MAX_STROKES * _MAX_VERTICES * 8}
    return 8 + max(per_kind.get(kind, 8) for kind in kinds)


def _check_masks_fit(n, height, width, masks):
    """Refuse, before drawing anything, `n` masks that cannot fit in memory."""
    from keras_gans import memory

    needed = int(n) * int(height) * int(width) * _mask_bytes_per_pixel(masks)
    memory.check_fits(needed, (
        f"Received an invalid value for argument `n`: drawing n={int(n):,} masks of "
        f"{int(height)}x{int(width)} pixels needs about {{needed}} but only {{available}} "
        "of memory is available. Ask for fewer masks per call."))


def _mask_seed(seed, index):
    return tf.stack([tf.constant(seed, tf.int64) + _SALT, tf.cast(index, tf.int64)])


def inpainting_pairs(source, masks="box", image_size=None, channels=None, batch_size=64,
                     shuffle=True, seed=None, box_size=(0.25, 0.5), **kwargs):
    """`(images, masks)` batches for `Inpainter.fit`: images with random missing regions.

    Args:
        source: any source `keras_gans.data.images` accepts.
        masks: `"box"`, `"free_form"`, a tuple of them (each image draws one), or a
            callable `fn(seed, batch, height, width)` (see the module docstring).
        image_size, channels, batch_size, shuffle: as for `images`.
        seed: seed of the shuffle and of the masks; the masks of batch `i` are a
            function of `(seed, i)` only. `None`: a random one.
        box_size: `(min, max)` fractions of the image side for each side of a box.
        **kwargs: more options of `images` (`repeat`, `drop_remainder`, `cache`, ...).

    Returns:
        A `tf.data.Dataset` of `(images, masks)`: float32 images `[B, H, W, C]` in
        [-1, 1] and bool masks `[B, H, W]`, `True` = missing.

    Example:

    ```python
    ds = keras_gans.data.inpainting_pairs(x_train, masks=("box", "free_form"), seed=0)
    inpainter.fit(ds, epochs=5)
    ```
    """
    if kwargs.get("labels") is not None and kwargs["labels"] is not False:
        raise ValueError("Received an invalid value for argument `labels`: inpainting "
                         f"pairs carry masks, not labels; received: labels={kwargs['labels']!r}")
    _check_seed(seed, non_negative=True)
    fn = _mask_fn(masks, _check_box_size(box_size))
    mask_seed = random.randint(0, 2**31 - 1) if seed is None else seed
    ds = datasets.images(source, image_size=image_size, channels=channels,
                         batch_size=batch_size, shuffle=shuffle, seed=seed, **kwargs)
    _, height, width, _ = ds.element_spec.shape

    def add_masks(index, images):
        batch = tf.shape(images)[0]
        return images, fn(_mask_seed(mask_seed, index), batch, height, width)

    return ds.enumerate().map(add_masks).with_options(ds.options())


__all__ = ["MASK_KINDS", "box_masks", "free_form_masks", "inpainting_masks",
           "inpainting_pairs"]

