"""DiffAugment: differentiable augmentation of the images a discriminator sees.

Zhao, Liu, Lin, Zhu & Han 2020, "Differentiable Augmentation for Data-Efficient GAN
Training" (arXiv:2006.10738). The same random transformation family is applied to real
and fake images, in the discriminator step and in the generator step, and every
operation is differentiable in the images, so the generator's gradient flows through
it. With a few thousand training images this keeps the discriminator from memorising
the data set.

Every draw is stateless: `diff_augment(images, policy, seed)` is a pure function of the
images, the policy and the `[2]` int seed, so a resumed run augments exactly as an
uninterrupted one. Operations (the paper's):

- `"color"`: random brightness (+U(-0.5, 0.5)), saturation (x U(0, 2)) and contrast
  (x U(0.5, 1.5)) per image;
- `"translation"`: shift by up to 1/8 of the image side per axis, zero-padded;
- `"cutout"`: zero a square of half the image side at a random position.

Images are float in [-1, 1] (0 is mid-grey, the fill of translation and cutout, as in
the reference implementation).
"""

import tensorflow as tf

POLICIES = ("color", "translation", "cutout")
# Fraction of the side: the largest translation, and the side of the cutout square.
TRANSLATION_RATIO = 0.125
CUTOUT_RATIO = 0.5


def check_policy(augment):
    """`augment` as a tuple of operation names, or `None` (no augmentation)."""
    if augment is None:
        return None
    if isinstance(augment, str):
        augment = tuple(p.strip() for p in augment.split(",") if p.strip())
    ok = isinstance(augment, (tuple, list)) and all(isinstance(p, str) for p in augment)
    if not ok or not augment or any(p not in POLICIES for p in augment) \
            or len(set(augment)) != len(augment):
        raise ValueError(
            "Received an invalid value for argument `augment`. Expected None or distinct "
            f"names among {POLICIES} (a tuple, or a comma-separated string), received: "
            f"augment={augment!r}"
        )
    return tuple(augment)


def _own_rows(sample, shape, seed):
    return sample(shape, seed)


def _uniform(rows, shape, seed, minval=0.0, maxval=1.0, dtype=tf.float32):
    """A per-image uniform draw; `rows(sample, shape, seed)` picks this replica's rows."""
    return rows(lambda s, sd: tf.random.stateless_uniform(s, seed=sd, minval=minval,
                                                          maxval=maxval, dtype=dtype),
                shape, seed)


def _sub_seed(seed, i):
    """Seed of operation `i` of one call: independent streams from one `[2]` seed."""
    seed = tf.cast(seed, tf.int64)
    return tf.stack([seed[0], seed[1] * 8 + i])


def color(images, seed, rows=_own_rows):
    """Random brightness, saturation and contrast, one draw of each per image."""
    batch = tf.shape(images)[0]
    dtype = images.dtype
    shape = tf.stack([batch, 1, 1, 1])
    x = images + tf.cast(_uniform(rows, shape, _sub_seed(seed, 0)) - 0.5, dtype)
    mean = tf.reduce_mean(x, axis=-1, keepdims=True)
    x = (x - mean) * tf.cast(_uniform(rows, shape, _sub_seed(seed, 1)) * 2.0, dtype) + mean
    mean = tf.reduce_mean(x, axis=[1, 2, 3], keepdims=True)
    factor = _uniform(rows, shape, _sub_seed(seed, 2)) + 0.5
    return (x - mean) * tf.cast(factor, dtype) + mean


def _sides(images, ratio):
    """`batch, height, width` of `images`, `ratio` of each side rounded to pixels, and
    the `[batch, 1, 1]` shape of a per-image draw."""
    shape = tf.shape(images)
    batch, height, width = shape[0], shape[1], shape[2]
    part_y = tf.cast(tf.cast(height, tf.float32) * ratio + 0.5, tf.int32)
    part_x = tf.cast(tf.cast(width, tf.float32) * ratio + 0.5, tf.int32)
    return batch, height, width, part_y, part_x, tf.stack([batch, 1, 1])


def translation(images, seed, ratio=TRANSLATION_RATIO, rows=_own_rows):
    """Shift each image by up to `ratio` of its side along each axis, zero-filled."""
    _, height, width, max_dy, max_dx, shape = _sides(images, ratio)
    dy = _uniform(rows, shape, _sub_seed(seed, 3), -max_dy, max_dy + 1, tf.int32)
    dx = _uniform(rows, shape, _sub_seed(seed, 4), -max_dx, max_dx + 1, tf.int32)
    # Index a 1-pixel zero border for every source pixel that falls outside the image.
    padded = tf.pad(images, [[0, 0], [1, 1], [1, 1], [0, 0]])
    ys = tf.clip_by_value(tf.range(height)[None, :] + dy[:, 0] + 1, 0, height + 1)  # [B, H]
    xs = tf.clip_by_value(tf.range(width)[None, :] + dx[:, 0] + 1, 0, width + 1)  # [B, W]
    # Rows, then columns: two gathers of whole rows / pixels move the same values as
    # one gather_nd of every pixel (bitwise, gradients too) in ~0.6x its time.
    rows_moved = tf.gather(padded, ys, axis=1, batch_dims=1)
    return tf.gather(rows_moved, xs, axis=2, batch_dims=1)


def cutout(images, seed, ratio=CUTOUT_RATIO, rows=_own_rows):
    """Zero a square of `ratio` of the side at a random centre in each image."""
    _, height, width, size_y, size_x, shape = _sides(images, ratio)
    cy = _uniform(rows, shape, _sub_seed(seed, 5), 0, height + 1 - size_y % 2, tf.int32)
    cx = _uniform(rows, shape, _sub_seed(seed, 6), 0, width + 1 - size_x % 2, tf.int32)
    ys = tf.range(height)[None, :, None]
    xs = tf.range(width)[None, None, :]
    inside = ((ys >= cy - size_y // 2) & (ys < cy - size_y // 2 + size_y)
              & (xs >= cx - size_x // 2) & (xs < cx - size_x // 2 + size_x))
    keep = tf.cast(tf.logical_not(inside), images.dtype)[..., None]
    return images * keep


_OPS = {"color": color, "translation": translation, "cutout": cutout}


def diff_augment(images, policy, seed, rows=_own_rows):
    """Apply the operations of `policy` in the paper's order (color, translation, cutout).

    Args:
        images: float `[B, H, W, C]` in [-1, 1].
        policy: `None` (returns `images`), or names among `POLICIES`.
        seed: a `[2]` integer tensor; the same seed gives the same transformation.
        rows: `rows(sample, shape, seed)` returns this replica's rows of a per-image
            draw `sample(shape, seed)`; models pass theirs so that training on `R`
            replicas augments as one device does for the same global batch.

    Returns:
        The augmented images, differentiable in `images`.
    """
    policy = check_policy(policy)
    if not policy:
        return images
    for name in POLICIES:  # a fixed order, whatever order the policy lists
        if name in policy:
            images = _OPS[name](images, seed, rows=rows)
    return images
