"""Tests for keras_gans.losses: every loss against values computed by hand in numpy."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gans import losses

REAL = np.array([[2.0], [-1.0], [0.5], [30.0]], dtype=np.float32)
FAKE = np.array([[-3.0], [0.0], [1.5], [-40.0]], dtype=np.float32)


def softplus(x):
    return np.logaddexp(0.0, np.asarray(x, dtype=np.float64))


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))


def assert_scalar_close(value, expected, rtol=1e-5, atol=1e-6):
    value = keras.ops.convert_to_numpy(value)
    assert value.shape == ()
    assert value.dtype == np.float32
    np.testing.assert_allclose(value, expected, rtol=rtol, atol=atol)


# --- Adversarial losses ---


def test_minimax_discriminator_loss_literal():
    # D = sigmoid(0) = 0.5 everywhere: -log 0.5 on real plus -log 0.5 on fake.
    zeros = np.zeros((3, 1), np.float32)
    assert_scalar_close(losses.minimax_discriminator_loss(zeros, zeros), 2 * np.log(2.0))


def test_minimax_discriminator_loss_is_binary_cross_entropy():
    # Small logits only, so the naive log(sigmoid) formula is itself accurate.
    real, fake = REAL[:3], FAKE[:3]
    expected = -np.mean(np.log(sigmoid(real))) - np.mean(np.log(1 - sigmoid(fake)))
    assert_scalar_close(losses.minimax_discriminator_loss(real, fake), expected)


def test_minimax_discriminator_loss_is_stable_for_large_logits():
    # softplus form: sigmoid(30) rounds to 1 in float32, the loss must not be log(0).
    expected = np.mean(softplus(-REAL)) + np.mean(softplus(FAKE))
    value = losses.minimax_discriminator_loss(REAL, FAKE)
    assert np.isfinite(keras.ops.convert_to_numpy(value))
    assert_scalar_close(value, expected)
    assert_scalar_close(losses.minimax_discriminator_loss([[-200.0]], [[200.0]]), 400.0)


def test_minimax_discriminator_label_smoothing():
    t = 0.9
    # Direct cross-entropy with target t, on the small logits only.
    real, fake = REAL[:3], FAKE[:3]
    p = sigmoid(real)
    expected = np.mean(-t * np.log(p) - (1 - t) * np.log(1 - p)) + np.mean(
        -np.log(1 - sigmoid(fake))
    )
    smoothed = losses.minimax_discriminator_loss(real, fake, label_smoothing=0.1)
    assert_scalar_close(smoothed, expected)
    # Smoothing penalises confident real logits: with real logit 30 the loss grows ~ 0.1*30.
    plain = keras.ops.convert_to_numpy(losses.minimax_discriminator_loss(REAL, FAKE))
    smoothed = keras.ops.convert_to_numpy(
        losses.minimax_discriminator_loss(REAL, FAKE, label_smoothing=0.1)
    )
    np.testing.assert_allclose(smoothed - plain, 0.1 * np.mean(REAL), rtol=1e-5)


def test_label_smoothing_only_touches_real_side():
    zeros = np.zeros((2, 1), np.float32)
    a = losses.minimax_discriminator_loss(zeros, FAKE, label_smoothing=0.3)
    b = losses.minimax_discriminator_loss(zeros, FAKE, label_smoothing=0.0)
    # At real logit 0 the cross-entropy is log 2 for any target; the fake side is unchanged.
    assert_scalar_close(a, keras.ops.convert_to_numpy(b))


@pytest.mark.parametrize("bad", [-0.1, 1.0, 1.5, "0.1x", None])
def test_invalid_label_smoothing(bad):
    with pytest.raises(ValueError, match="label_smoothing"):
        losses.minimax_discriminator_loss(REAL, FAKE, label_smoothing=bad)


def test_minimax_generator_loss():
    # log(1 - sigmoid(f)) = -softplus(f)
    assert_scalar_close(losses.minimax_generator_loss(FAKE), -np.mean(softplus(FAKE)))
    assert_scalar_close(losses.minimax_generator_loss([[0.0]]), -np.log(2.0))
    small = FAKE[:3]
    assert_scalar_close(losses.minimax_generator_loss(small), np.mean(np.log(1 - sigmoid(small))))


def test_non_saturating_generator_loss():
    assert_scalar_close(losses.non_saturating_generator_loss(FAKE), np.mean(softplus(-FAKE)))
    assert_scalar_close(losses.non_saturating_generator_loss([[0.0], [0.0]]), np.log(2.0))
    small = FAKE[:3]
    assert_scalar_close(
        losses.non_saturating_generator_loss(small), -np.mean(np.log(sigmoid(small)))
    )


def test_least_squares_losses():
    real = np.array([[1.0], [0.0], [2.0]], np.float32)
    fake = np.array([[0.0], [1.0], [-1.0]], np.float32)
    # 0.5 * mean([0, 1, 1]) + 0.5 * mean([0, 1, 1])
    assert_scalar_close(losses.least_squares_discriminator_loss(real, fake), 2.0 / 3.0)
    # a=-1, b=1: 0.5 * mean([0, 1, 1]) + 0.5 * mean([1, 4, 0])
    assert_scalar_close(
        losses.least_squares_discriminator_loss(real, fake, a=-1.0, b=1.0),
        0.5 * 2.0 / 3.0 + 0.5 * 5.0 / 3.0,
    )
    # 0.5 * mean([1, 0, 4])
    assert_scalar_close(losses.least_squares_generator_loss(fake), 5.0 / 6.0)
    assert_scalar_close(losses.least_squares_generator_loss(fake, c=0.0), 1.0 / 3.0)


def test_wasserstein_losses():
    assert_scalar_close(losses.wasserstein_critic_loss(REAL, FAKE), np.mean(FAKE) - np.mean(REAL))
    assert_scalar_close(losses.wasserstein_critic_loss([[1.0], [3.0]], [[0.5]]), -1.5)
    assert_scalar_close(losses.wasserstein_generator_loss(FAKE), -np.mean(FAKE))


def test_relativistic_average_losses_are_esrgans_equations():
    # ESRGAN, equations 1-2, halved as its authors' code does, naive form on small logits.
    real, fake = REAL[:3].astype(np.float64), FAKE[:3].astype(np.float64)
    real_rel, fake_rel = real - fake.mean(), fake - real.mean()
    d_expected = (-np.mean(np.log(sigmoid(real_rel)))
                  - np.mean(np.log(1 - sigmoid(fake_rel)))) / 2
    g_expected = (-np.mean(np.log(1 - sigmoid(real_rel)))
                  - np.mean(np.log(sigmoid(fake_rel)))) / 2
    assert_scalar_close(losses.relativistic_average_discriminator_loss(real, fake), d_expected)
    assert_scalar_close(losses.relativistic_average_generator_loss(real, fake), g_expected)
    # Equal logits: every relative logit is 0, log 2 on each side, averaged.
    zeros = np.zeros((4, 1), np.float32)
    assert_scalar_close(losses.relativistic_average_discriminator_loss(zeros, zeros),
                        np.log(2.0))
    # Only the difference from the other side's mean counts.
    assert_scalar_close(losses.relativistic_average_discriminator_loss(real + 7, fake + 7),
                        d_expected)
    # Finite for large logits (softplus form).
    assert np.isfinite(keras.ops.convert_to_numpy(
        losses.relativistic_average_generator_loss(REAL * 100, FAKE * 100)))


def test_relativistic_generator_loss_has_a_gradient_through_the_real_logits():
    real, fake = tf.constant(REAL[:3]), tf.constant(FAKE[:3])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([real, fake])
        loss = losses.relativistic_average_generator_loss(real, fake)
    d_real, d_fake = tape.gradient(loss, real), tape.gradient(loss, fake)
    # The generator lowers its loss by making fakes look more real (d/df < 0) ...
    assert np.all(d_fake.numpy() < 0)
    # ... and the reals' logits enter too, unlike the non-saturating loss.
    assert np.any(np.abs(d_real.numpy()) > 1e-3)


def test_hinge_losses():
    real = np.array([[2.0], [0.5], [-1.0]], np.float32)
    fake = np.array([[-2.0], [-0.5], [1.0]], np.float32)
    # real: relu(1 - [2, .5, -1]) = [0, .5, 2]; fake: relu(1 + [-2, -.5, 1]) = [0, .5, 2]
    assert_scalar_close(losses.hinge_discriminator_loss(real, fake), 2.5 / 3 + 2.5 / 3)
    # -mean([-2, -.5, 1])
    assert_scalar_close(losses.hinge_generator_loss(fake), 0.5)


def test_patch_outputs_average_over_every_element():
    real = np.arange(8, dtype=np.float32).reshape(2, 2, 2, 1) / 4.0
    fake = -real
    assert_scalar_close(
        losses.least_squares_discriminator_loss(real, fake),
        0.5 * np.mean((real - 1) ** 2) + 0.5 * np.mean(fake**2),
    )


def test_losses_return_float32_for_bfloat16_inputs():
    real = tf.cast(REAL[:3], tf.bfloat16)
    fake = tf.cast(FAKE[:3], tf.bfloat16)
    for name in ["minimax", "non_saturating", "least_squares", "wasserstein", "hinge"]:
        d_fn, g_fn = losses.get(name)
        assert d_fn(real, fake).dtype == tf.float32
        assert g_fn(fake).dtype == tf.float32
    assert losses.cycle_consistency_loss(real, fake).dtype == tf.float32


# --- Reconstruction and content ---


def test_reconstruction_losses():
    x = np.array([[0.5, -1.0], [1.0, 0.0]], np.float32)
    y = np.array([[0.0, -1.0], [-1.0, 0.5]], np.float32)
    # |diff| = [.5, 0, 2, .5]; diff^2 = [.25, 0, 4, .25]
    assert_scalar_close(losses.cycle_consistency_loss(x, y), 3.0 / 4.0)
    assert_scalar_close(losses.identity_loss(x, y), 3.0 / 4.0)
    assert_scalar_close(losses.pixel_mse_loss(x, y), 4.5 / 4.0)


def test_feature_mse_loss_compares_features_not_pixels():
    w = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, -1.0]], np.float32)
    extractor = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3, use_bias=False)])
    extractor.set_weights([w])
    x = np.array([[0.5, -1.0], [1.0, 0.0]], np.float32)
    y = np.array([[0.0, -1.0], [-1.0, 0.5]], np.float32)
    expected = np.mean((x @ w - y @ w) ** 2)
    assert_scalar_close(losses.feature_mse_loss(extractor, x, y), expected)
    assert not np.isclose(expected, np.mean((x - y) ** 2))


# --- Gradient penalty and R1 ---


def linear_critic(w):
    """D(x) = sum(w * x): the input gradient is w for every x."""
    critic = keras.Sequential(
        [keras.Input(w.shape), keras.layers.Flatten(), keras.layers.Dense(1, use_bias=False)]
    )
    critic.set_weights([w.reshape(-1, 1)])
    return critic


def mlp_critic(shape, seed=0):
    critic = keras.Sequential(
        [
            keras.Input(shape),
            keras.layers.Flatten(),
            keras.layers.Dense(5, activation="tanh"),
            keras.layers.Dense(1),
        ]
    )
    rng = np.random.default_rng(seed)
    critic.set_weights([rng.normal(size=v.shape).astype(np.float32) for v in critic.weights])
    return critic


def numpy_mlp(critic, x):
    w1, b1, w2, b2 = [np.asarray(v, np.float64) for v in critic.get_weights()]
    return np.tanh(x.reshape(-1) @ w1 + b1) @ w2 + b2


def finite_difference_grad(fn, x, h=1e-5):
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[i] = h
        grad[i] = (fn(x + step)[0] - fn(x - step)[0]) / (2 * h)
    return grad


def test_gradient_penalty_linear_critic():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(3, 3, 1)).astype(np.float32)
    critic = linear_critic(w)
    real = rng.normal(size=(4, 3, 3, 1)).astype(np.float32)
    fake = rng.normal(size=(4, 3, 3, 1)).astype(np.float32)
    norm = np.linalg.norm(w.astype(np.float64))
    # The gradient of a linear critic does not depend on alpha: drawn or given, same value.
    assert_scalar_close(losses.gradient_penalty(critic, real, fake), (norm - 1) ** 2, rtol=1e-5)
    assert_scalar_close(
        losses.gradient_penalty(critic, real, fake, alpha=np.full((4, 1, 1, 1), 0.3)),
        (norm - 1) ** 2,
        rtol=1e-5,
    )


def test_gradient_penalty_one_sided():
    rng = np.random.default_rng(1)
    real = rng.normal(size=(2, 2, 2, 1)).astype(np.float32)
    fake = rng.normal(size=(2, 2, 2, 1)).astype(np.float32)
    w = rng.normal(size=(2, 2, 1)).astype(np.float32)
    w_small = 0.5 * w / np.linalg.norm(w)  # norm 0.5
    w_large = 2.0 * w / np.linalg.norm(w)  # norm 2
    small, large = linear_critic(w_small), linear_critic(w_large)
    assert_scalar_close(losses.gradient_penalty(small, real, fake, one_sided=True), 0.0)
    assert_scalar_close(losses.gradient_penalty(small, real, fake), 0.25, rtol=1e-5)
    assert_scalar_close(losses.gradient_penalty(large, real, fake, one_sided=True), 1.0, rtol=1e-5)
    assert_scalar_close(losses.gradient_penalty(large, real, fake), 1.0, rtol=1e-5)


def test_gradient_penalty_nonlinear_critic_matches_finite_differences():
    rng = np.random.default_rng(2)
    shape = (2, 3, 1)
    critic = mlp_critic(shape)
    real = rng.normal(size=(3, *shape)).astype(np.float32)
    fake = rng.normal(size=(3, *shape)).astype(np.float32)
    alpha = np.array([0.0, 0.25, 0.9], np.float32).reshape(3, 1, 1, 1)

    expected = []
    for i in range(3):
        x_hat = (alpha[i] * real[i] + (1 - alpha[i]) * fake[i]).astype(np.float64)
        grad = finite_difference_grad(lambda x: numpy_mlp(critic, x), x_hat)
        expected.append((np.linalg.norm(grad) - 1) ** 2)
    value = losses.gradient_penalty(critic, real, fake, alpha=alpha)
    assert_scalar_close(value, np.mean(expected), rtol=1e-4)
    # alpha given as shape (batch,) means the same thing.
    assert_scalar_close(
        losses.gradient_penalty(critic, real, fake, alpha=alpha.reshape(3)),
        np.mean(expected),
        rtol=1e-4,
    )
    # Per-example alpha matters: a shared alpha gives a different penalty.
    shared = losses.gradient_penalty(critic, real, fake, alpha=np.float32(0.5))
    assert not np.isclose(keras.ops.convert_to_numpy(shared), np.mean(expected), rtol=1e-3)


def test_gradient_penalty_condition_is_passed_and_not_differentiated():
    w = np.array([[0.6], [0.0], [0.0], [0.0]], np.float32).reshape(2, 2, 1)
    image = keras.Input((2, 2, 1))
    label = keras.Input((3,))
    features = keras.layers.Concatenate()([keras.layers.Flatten()(image), label])
    critic = keras.Model([image, label], keras.layers.Dense(1, use_bias=False)(features))
    # Large label weights: if the condition were differentiated the norm would be huge.
    critic.set_weights([np.concatenate([w.reshape(-1), [5.0, 5.0, 5.0]]).reshape(-1, 1)])
    real = np.ones((2, 2, 2, 1), np.float32)
    labels = np.eye(3, dtype=np.float32)[:2]
    value = losses.gradient_penalty(critic, real, -real, condition=labels)
    assert_scalar_close(value, (0.6 - 1.0) ** 2, rtol=1e-5)
    assert_scalar_close(losses.r1_penalty(critic, real, condition=labels), 0.36, rtol=1e-5)


def test_gradient_penalty_is_differentiable_wrt_critic_weights():
    # d/dw (||w|| - 1)^2 = 2 (||w|| - 1) w / ||w||
    w = np.array([1.0, 2.0, 2.0, 0.0], np.float32).reshape(2, 2, 1)  # ||w|| = 3
    critic = linear_critic(w)
    real = np.ones((2, 2, 2, 1), np.float32)
    with tf.GradientTape() as tape:
        penalty = losses.gradient_penalty(critic, real, -real)
    (grad,) = tape.gradient(penalty, critic.trainable_variables)
    expected = 2 * (3.0 - 1.0) * w.reshape(-1, 1) / 3.0
    np.testing.assert_allclose(grad.numpy(), expected, rtol=1e-5)


def test_gradient_penalty_in_tf_function_and_bfloat16_critic():
    w = np.array([1.0, 2.0, 2.0, 0.0], np.float32).reshape(2, 2, 1)
    critic = keras.Sequential(
        [
            keras.Input((2, 2, 1)),
            keras.layers.Flatten(dtype="mixed_bfloat16"),
            keras.layers.Dense(1, use_bias=False, dtype="mixed_bfloat16"),
        ]
    )
    critic.set_weights([w.reshape(-1, 1)])
    real = tf.cast(np.ones((3, 2, 2, 1)), tf.bfloat16)

    @tf.function
    def penalty(real, fake):
        return losses.gradient_penalty(critic, real, fake)

    value = penalty(real, -real)
    # bfloat16 has ~3 significant digits; the weights here are exactly representable.
    assert_scalar_close(value, 4.0, rtol=1e-2)


def test_interpolation_alpha_is_uniform_per_example():
    alpha = losses._interpolation_alpha(256, 4).numpy()
    assert alpha.shape == (256, 1, 1, 1)
    assert alpha.dtype == np.float32
    assert alpha.min() >= 0.0 and alpha.max() <= 1.0
    assert len(np.unique(alpha)) > 200
    # Loose U[0, 1] moments: mean 1/2, variance 1/12 (std error ~0.018 and ~0.005).
    assert abs(alpha.mean() - 0.5) < 0.1
    assert abs(alpha.var() - 1.0 / 12.0) < 0.03
    assert losses._interpolation_alpha(5, 2).shape == (5, 1)


def test_gradient_penalty_rejects_unbatched_input():
    critic = linear_critic(np.ones((2,), np.float32))
    with pytest.raises(ValueError, match="`real`"):
        losses.gradient_penalty(critic, np.ones((2,), np.float32), np.ones((2,), np.float32))


def test_r1_penalty_linear_critic():
    rng = np.random.default_rng(3)
    w = rng.normal(size=(3, 3, 2)).astype(np.float32)
    real = rng.normal(size=(4, 3, 3, 2)).astype(np.float32)
    # ||grad||^2 = ||w||^2 for every example; no gamma / 2 factor.
    expected = np.sum(w.astype(np.float64) ** 2)
    assert_scalar_close(losses.r1_penalty(linear_critic(w), real), expected, rtol=1e-5)


def test_r1_penalty_nonlinear_critic_matches_finite_differences():
    rng = np.random.default_rng(4)
    shape = (3, 2, 1)
    critic = mlp_critic(shape, seed=5)
    real = rng.normal(size=(3, *shape)).astype(np.float32)
    expected = np.mean(
        [
            np.sum(
                finite_difference_grad(lambda x: numpy_mlp(critic, x), r.astype(np.float64)) ** 2
            )
            for r in real
        ]
    )
    assert_scalar_close(losses.r1_penalty(critic, real), expected, rtol=1e-4)


# --- Lookup ---


@pytest.mark.parametrize(
    "name, d_fn, g_fn",
    [
        ("minimax", losses.minimax_discriminator_loss, losses.minimax_generator_loss),
        ("non_saturating", losses.minimax_discriminator_loss, losses.non_saturating_generator_loss),
        (
            "least_squares",
            losses.least_squares_discriminator_loss,
            losses.least_squares_generator_loss,
        ),
        ("wasserstein", losses.wasserstein_critic_loss, losses.wasserstein_generator_loss),
        ("hinge", losses.hinge_discriminator_loss, losses.hinge_generator_loss),
    ],
)
def test_get_by_name(name, d_fn, g_fn):
    assert losses.get(name) == (d_fn, g_fn)


def test_get_passes_a_pair_of_callables_through():
    pair = (losses.hinge_discriminator_loss, losses.non_saturating_generator_loss)
    assert losses.get(list(pair)) == pair


@pytest.mark.parametrize("bad", ["wgan", "Hinge", 3, None, (losses.hinge_generator_loss,)])
def test_get_unknown_raises_listing_names(bad):
    with pytest.raises(ValueError, match="least_squares.*non_saturating") as info:
        losses.get(bad)
    assert "identifier" in str(info.value)


# --- Loss objects ---


def test_adversarial_loss_objects_call_the_functions_and_round_trip():
    import keras

    real = np.array([[0.5], [2.0]], "float32")
    fake = np.array([[-1.0], [0.25]], "float32")
    coded = losses.LeastSquares(a=-1.0, b=1.0, c=0.0)
    assert float(coded.discriminator(real, fake)) == float(
        losses.least_squares_discriminator_loss(real, fake, a=-1.0, b=1.0))
    assert float(coded.generator(fake)) == float(losses.least_squares_generator_loss(fake, c=0.0))
    # CycleGAN's: E[(D(G(x)) - 1)^2] = 2 * LSGAN's; fake -> (4 + 0.5625) / 2.
    assert float(losses.LeastSquares(generator_weight=2.0).generator(fake)) == \
        pytest.approx((4.0 + 0.5625) / 2)
    again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(coded))
    assert isinstance(again, losses.LeastSquares) and again.get_config() == coded.get_config()
    smoothed = losses.adversarial("minimax", label_smoothing=0.1, a=3.0)  # a: not its own
    assert isinstance(smoothed, losses.Minimax) and smoothed.label_smoothing == 0.1
    assert float(smoothed.discriminator(real, fake)) == float(
        losses.minimax_discriminator_loss(real, fake, label_smoothing=0.1))
    pair = losses.adversarial((losses.hinge_discriminator_loss, losses.hinge_generator_loss))
    assert float(pair.generator(fake)) == float(losses.hinge_generator_loss(fake))
    with pytest.raises(ValueError, match="argument `loss`.*'nope'"):
        losses.adversarial("nope")


def test_an_old_compile_config_with_a_loss_name_builds_the_variants_loss():
    from keras_gans.models.lsgan import LSGAN

    gan = LSGAN.from_shape((8, 8, 1), latent_dim=4, base_filters=4, a=-1.0, b=1.0, c=0.0)
    gan.compile_from_config({"d_optimizer": "adam", "g_optimizer": "adam",
                             "loss": "least_squares"})
    assert gan.gan_loss.get_config() == losses.LeastSquares(-1.0, 1.0, 0.0).get_config()
    assert gan.get_compile_config()["loss"]["class_name"] == "LeastSquares"
