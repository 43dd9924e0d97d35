"""DiffAugment (keras_gans.augment) and the GAN options that the small-data recipes use."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from gan_test_utils import state

import keras_gans
from keras_gans import augment

SEED = tf.constant([3, 7], tf.int64)


def _images(n=6, size=8, channels=1, seed=0):
    rng = np.random.default_rng(seed)
    return tf.constant(rng.uniform(-1, 1, (n, size, size, channels)).astype("float32"))


@pytest.mark.parametrize("policy", [("color",), ("translation",), ("cutout",),
                                    ("color", "translation", "cutout")])
def test_same_seed_same_draw_other_seed_other_draw(policy):
    x = _images(channels=3)
    a = augment.diff_augment(x, policy, SEED)
    b = augment.diff_augment(x, policy, SEED)
    c = augment.diff_augment(x, policy, tf.constant([3, 8], tf.int64))
    assert a.shape == x.shape
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not np.allclose(a.numpy(), c.numpy())
    assert not np.allclose(a.numpy(), x.numpy())


def test_translation_shifts_whole_images_and_fills_with_zero():
    # A ramp image: each translated image must equal the ramp shifted by (dy, dx).
    ramp = np.arange(64, dtype="float32").reshape(1, 8, 8, 1) + 1.0
    x = tf.constant(np.repeat(ramp, 16, axis=0))
    out = augment.translation(x, SEED).numpy()
    padded = np.pad(ramp[0, :, :, 0], 1)
    shifts = set()
    for img in out[:, :, :, 0]:
        found = [(dy, dx) for dy in range(-1, 2) for dx in range(-1, 2)
                 if np.array_equal(img, padded[1 + dy:9 + dy, 1 + dx:9 + dx])]
        assert found, img  # 1/8 of 8 pixels: shifts of at most 1
        shifts.add(found[0])
    assert len(shifts) > 1  # per-image draws, not one shift for the batch


def test_cutout_gradient_is_the_kept_mask():
    x = tf.ones((4, 8, 8, 1))
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = augment.cutout(x, SEED)
        total = tf.reduce_sum(out)
    grad = tape.gradient(total, x).numpy()
    np.testing.assert_array_equal(grad, out.numpy())  # d(x * keep)/dx = keep
    zeros = (grad == 0).reshape(4, -1).sum(axis=1)
    assert zeros.max() == 16 and zeros.min() > 0  # a 4x4 square, clipped at the border


def test_color_gradient_flows_and_is_finite():
    x = _images(channels=3)
    with tf.GradientTape() as tape:
        tape.watch(x)
        total = tf.reduce_sum(augment.color(x, SEED) ** 2)
    grad = tape.gradient(total, x).numpy()
    assert np.isfinite(grad).all() and np.abs(grad).sum() > 0


@pytest.mark.parametrize("bad", ["rotate", ("cutout", "cutout"), (), 3, ["cutout", 1]])
def test_invalid_policy_names_the_argument(bad):
    with pytest.raises(ValueError, match="argument `augment`"):
        keras_gans.DCGAN.from_shape((8, 8, 1), latent_dim=4, base_filters=4, augment=bad)


def test_comma_string_policy_and_config_round_trip():
    gan = keras_gans.DCGAN.from_shape((8, 8, 1), latent_dim=4, base_filters=4,
                                      augment="translation, cutout", r1_interval=4)
    assert gan.augment == ("translation", "cutout")
    again = keras_gans.DCGAN.from_config(gan.get_config())
    assert again.augment == ("translation", "cutout") and again.r1_interval == 4


def _gan(**kwargs):
    keras.utils.set_random_seed(1)  # the same initial weights each time
    gan = keras_gans.DCGAN.from_shape((8, 8, 1), latent_dim=4, base_filters=4, seed=1,
                                      **kwargs)
    gan.compile()
    return gan


def test_generator_gradient_flows_through_augmentation():
    gan = _gan(augment=("color", "translation", "cutout"))
    z = tf.random.stateless_normal((8, 4), seed=[0, 1])
    with tf.GradientTape() as tape:
        fake = gan.generator(z, training=True)
        out = gan.discriminator(gan._augment(fake, 63), training=True)
        loss = gan.generator_loss(out)
    grads = tape.gradient(loss, gan.generator.trainable_variables)
    assert all(g is not None for g in grads)
    assert sum(float(tf.reduce_sum(tf.abs(g))) for g in grads) > 0


def _train(gan, steps=3):
    x = np.random.default_rng(0).uniform(-1, 1, (8 * steps, 8, 8, 1)).astype("float32")
    gan.fit(x, batch_size=8, epochs=1, shuffle=False, verbose=0)
    return state(gan)


def test_augmentation_changes_training_and_is_reproducible():
    plain = _train(_gan())
    augmented = _train(_gan(augment=("translation", "cutout")))
    again = _train(_gan(augment=("translation", "cutout")))
    for a, b in zip(augmented, again):
        np.testing.assert_array_equal(a, b)
    assert any(not np.allclose(a, b) for a, b in zip(plain, augmented))


def test_augment_none_leaves_the_noise_stream_unchanged():
    # Augmentation draws from its own seed family: the noise of step t is the same
    # with and without it, so `augment=None` keeps the earlier runs' draws.
    plain, augmented = _gan(), _gan(augment=("cutout",))
    for step in (0, 5):
        for gan in (plain, augmented):
            gan.noise_step.assign(step)
        np.testing.assert_array_equal(plain._noise(4, 63).numpy(),
                                      augmented._noise(4, 63).numpy())


def test_lazy_r1_applies_every_k_steps_with_k_times_the_weight():
    gan = _gan(r1_weight=2.0, r1_interval=3)
    real = _images(n=4)
    for step, expected_nonzero in ((0, True), (1, False), (2, False), (3, True)):
        gan.noise_step.assign(step)
        penalty = float(gan.discriminator_penalty(real, real, None, None))
        assert (penalty > 0) == expected_nonzero, step
    every = _gan(r1_weight=2.0)
    every.discriminator.set_weights(gan.discriminator.get_weights())
    gan.noise_step.assign(0)
    np.testing.assert_allclose(float(gan.discriminator_penalty(real, real, None, None)),
                               3 * float(every.discriminator_penalty(real, real, None, None)),
                               rtol=1e-5)


# Exact resume with DiffAugment (all three policies, lazy R1, EMA): the `dcgan_stabilised`
# case of tests/test_variants.py::test_resume_is_exact.


def test_hinge_with_spectral_norm_and_ttur_trains():
    gan = keras_gans.DCGAN.from_shape((8, 8, 1), latent_dim=4, base_filters=4, seed=1,
                                      spectral_norm=True, augment="translation")
    gan.compile(d_optimizer=keras.optimizers.Adam(4e-4, beta_1=0.0, beta_2=0.9),
                g_optimizer=keras.optimizers.Adam(1e-4, beta_1=0.0, beta_2=0.9),
                loss="hinge")
    history = gan.fit(_images(n=16), batch_size=8, epochs=1, verbose=0)
    assert np.isfinite(history.history["d_loss"][-1])
    assert float(gan.d_optimizer.learning_rate) == pytest.approx(4e-4)


def test_cyclegan_discriminators_see_augmented_images_in_training_only():
    keras.utils.set_random_seed(2)
    gan = keras_gans.CycleGAN.from_shape((8, 8, 1), filters=4, num_residual_blocks=1,
                                         d_filters=4, d_layers=1, pool_size=0, seed=3,
                                         augment=("translation", "cutout"))
    gan.compile()
    a, b = _images(n=4, seed=1), _images(n=4, seed=2)
    train = [float(v) for v in gan._discriminator_losses(a, b, b, a, training=True)]
    again = [float(v) for v in gan._discriminator_losses(a, b, b, a, training=True)]
    plain = [float(v) for v in gan._discriminator_losses(a, b, b, a, training=False)]
    assert train == again  # stateless in (seed, step)
    assert train != plain
    gan.step_counter.assign(1)
    assert [float(v) for v in gan._discriminator_losses(a, b, b, a, training=True)] != train
    again = keras_gans.CycleGAN.from_config(gan.get_config())
    assert again.augment == ("translation", "cutout")
    with pytest.raises(ValueError, match="argument `augment`"):
        keras_gans.CycleGAN.from_config({**gan.get_config(), "augment": "flip"})
