"""The history pool of generated images (Shrivastava et al. 2017), as a pure function.

`keras_gans.models.cyclegan` keeps one pool per domain in non-trainable variables and
exchanges each step's translations with it (`history_pool_query`, importable from
there too).
"""

import tensorflow as tf


def history_pool_query(pool, count, images, seed, swap_probability=0.5):
    """Exchanges generated images with a pool of earlier ones (Shrivastava et al. 2017).

    The discriminators of CycleGAN see a mix of current and earlier translations, which
    damps oscillation: Shrivastava et al., 2017, "Learning from Simulated and
    Unsupervised Images through Adversarial Training" (https://arxiv.org/abs/1612.07828),
    section 2.3; Zhu et al. 2017, section 4 (a pool of 50). The images are handled one
    after the other, as in the authors' `ImagePool`:

    - while the pool is not full, the image is stored and returned;
    - once full, with probability `swap_probability` a uniformly chosen stored image is
      returned and replaced by the new one; otherwise the new image is returned.

    A pure function of tensors (no Python state), so it runs inside a compiled train
    step; the randomness is stateless in `seed`.

    Args:
        pool: `[pool_size, H, W, C]` stored images (slots `>= count` are unused).
        count: integer scalar, the number of stored images (at most `pool_size`).
        images: `[N, H, W, C]` new generated images.
        seed: a `[2]` integer seed for `tf.random.stateless_*`.
        swap_probability: the chance that a full pool swaps.

    Returns:
        `(returned, new_pool, new_count)`: `[N, H, W, C]` images for the discriminator,
        the updated pool and count (same dtype as `count`).
    """
    pool_size = pool.shape[0]
    if not pool_size:
        return images, pool, count
    images = tf.cast(images, pool.dtype)
    n = tf.shape(images)[0]
    # Integer Philox draws only: the default algorithm, and float draws, differ between
    # XLA and the plain kernels. These are the same with and without XLA (jit_compile is
    # on by default on GPUs), so a run resumed elsewhere continues exactly.
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, "int64"), 2, alg="philox")
    resolution = 2**24
    draws = tf.random.stateless_uniform([n], seed=seeds[0], minval=0, maxval=resolution,
                                        dtype="int32", alg="philox")
    swaps = draws < round(swap_probability * resolution)
    slots = tf.random.stateless_uniform([n], seed=seeds[1], minval=0, maxval=pool_size,
                                        dtype="int32", alg="philox")
    # Work on indices into concat([pool, images]) so the loop never copies images:
    # `owner[j]` is where slot j's image comes from, `picked[i]` what image i returns.
    start_count = tf.cast(count, "int32")

    def body(i, filled, owner, picked):
        new = pool_size + i
        filling = filled < pool_size
        slot = tf.where(filling, filled, slots[i])
        store = filling | swaps[i]
        returned = tf.where(filling | ~swaps[i], new, owner[slot])
        owner = tf.tensor_scatter_nd_update(
            owner, [[slot]], [tf.where(store, new, owner[slot])])
        picked = tf.tensor_scatter_nd_update(picked, [[i]], [returned])
        return i + 1, filled + tf.cast(filling, "int32"), owner, picked

    _, filled, owner, picked = tf.while_loop(
        lambda i, *_: i < n, body,
        (tf.constant(0), start_count, tf.range(pool_size), tf.zeros([n], "int32")))
    everything = tf.concat([pool, images], axis=0)
    return (tf.gather(everything, picked), tf.gather(everything, owner),
            tf.cast(filled, count.dtype))
