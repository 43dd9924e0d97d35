"""Tests for keras_gans.models.cyclegan: tiny networks, 8x8 images.

Tracing the train step of four networks is the slow part, so one trained model (a
module fixture) serves every test that only reads from it.
"""

import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf
from gan_test_utils import run_resume_test

import keras_gans
from keras_gans.layers import ReflectionPadding2D
from keras_gans.losses import LeastSquares
from keras_gans.models.cyclegan import (
    CycleGAN,
    LinearDecay,
    build_patchgan_discriminator,
    build_resnet_generator,
    default_num_residual_blocks,
    history_pool_query,
)

SHAPE = (8, 8, 1)
METRICS = {"d_a_loss", "d_b_loss", "g_a2b_loss", "g_b2a_loss", "cycle_loss", "identity_loss"}


def tiny(image_shape=SHAPE, pool_size=4, seed=0, num_residual_blocks=1, **kwargs):
    return CycleGAN.from_shape(image_shape, filters=4, num_residual_blocks=num_residual_blocks,
                               d_filters=4, d_layers=1, pool_size=pool_size, seed=seed,
                               **kwargs)


def smooth_images(n, shape=SHAPE, seed=0):
    """Blocky images (2x2 random cells scaled up): easy to reconstruct."""
    h, w, c = shape
    cells = np.random.default_rng(seed).uniform(-0.9, 0.9, (n, 2, 2, c))
    return np.repeat(np.repeat(cells, h // 2, axis=1), w // 2, axis=2).astype("float32")


@pytest.fixture(scope="module")
def trained():
    """Images (A) and the negatives of other images (B): G(x) = -x is learnable."""
    keras.utils.set_random_seed(0)
    gan = tiny()
    gan.compile(d_optimizer=keras.optimizers.Adam(2e-3, beta_1=0.5),
                g_optimizer=keras.optimizers.Adam(1e-2, beta_1=0.5))
    a = smooth_images(96, seed=1)
    b = -smooth_images(96, seed=2)
    ds = keras_gans.data.unpaired(a, b, batch_size=4, seed=0)
    history = gan.fit(ds, epochs=4, verbose=0)
    return gan, history.history


@pytest.fixture(scope="module")
def untrained():
    """A model for tests that only compile it (building four networks takes a while)."""
    return tiny()


# --- Training ---


def test_fit_logs_finite_losses_and_cycle_loss_falls(trained):
    gan, history = trained
    assert set(history) == METRICS
    for name, values in history.items():
        assert len(values) == 4 and np.all(np.isfinite(values)), name
    assert history["identity_loss"][0] > 0.0
    assert history["cycle_loss"][-1] < 0.8 * history["cycle_loss"][0], history["cycle_loss"]
    # One optimizer step per train step for each pair of networks.
    assert int(gan.g_optimizer.iterations.numpy()) == 96
    assert int(gan.d_optimizer.iterations.numpy()) == 96
    assert int(gan.step_counter.numpy()) == 96


def test_pool_fills_during_fit(trained):
    gan, _ = trained
    for pool, count in ((gan.pool_a, gan.pool_a_count), (gan.pool_b, gan.pool_b_count)):
        assert int(count.numpy()) == gan.pool_size == 4
        stored = pool.numpy()
        assert stored.shape == (4, *SHAPE)
        assert np.all(np.abs(stored) <= 1.0)
        # Every slot holds a translation (tanh output), no slot is left empty or doubled.
        assert all(np.abs(image).max() > 0 for image in stored)
        assert len({image.tobytes() for image in stored}) == 4


def test_evaluate_reports_the_same_metrics(trained):
    gan, _ = trained
    results = gan.evaluate(smooth_images(8, seed=5), -smooth_images(8, seed=6), batch_size=4,
                           verbose=0, return_dict=True)
    assert set(results) == METRICS
    assert all(np.isfinite(v) for v in results.values())


# --- Translation ---


def test_translate_shapes_and_dtypes_in_both_directions(trained):
    gan, _ = trained
    x = smooth_images(3, seed=7)
    for direction, net in (("a2b", gan.generator_a2b), ("b2a", gan.generator_b2a)):
        out = gan.translate(x, direction=direction)
        assert out.shape == x.shape and out.dtype == np.float32
        assert out.min() >= -1.0 and out.max() <= 1.0
        np.testing.assert_allclose(out, net(x, training=False).numpy(), atol=1e-5)
    single = gan.translate(keras_gans.utils.to_uint8(x[0]), direction="b2a")
    assert single.shape == SHAPE and single.dtype == np.uint8
    assert gan.translate(x[0, :, :, 0]).shape == SHAPE[:2]
    # Fully convolutional: other sizes than the training size, batches split in chunks.
    assert gan.translate(smooth_images(5, (16, 12, 1)), batch_size=2).shape == (5, 16, 12, 1)


def test_translate_pads_sides_that_are_not_multiples_of_four(trained):
    gan, _ = trained
    x = np.random.default_rng(0).uniform(-1, 1, (2, 10, 7, 1)).astype("float32")
    out = gan.translate(x)
    assert out.shape == x.shape
    padded = np.pad(x, ((0, 0), (0, 2), (0, 1), (0, 0)), mode="reflect")
    np.testing.assert_allclose(out, gan.translate(padded)[:, :10, :7], atol=1e-6)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"images": np.zeros((2, 8, 8, 3), "float32")}, r"1 channel.*\(2, 8, 8, 3\)"),
        ({"images": np.zeros((8, 8, 1), "float32"), "direction": "x2y"},
         r"direction.*'x2y'"),
        ({"images": np.zeros((2, 3, 8, 1), "float32")}, r"at least 4.*\(2, 3, 8, 1\)"),
        ({"images": np.full((1, 8, 8, 1), 3.0, "float32")}, r"\[-1, 1\]"),
        ({"images": np.zeros((1, 1, 8, 8, 1), "float32")}, r"\(1, 1, 8, 8, 1\)"),
        ({"images": np.zeros((1, 8, 8, 1), "float32"), "batch_size": 0}, r"batch_size=0"),
    ],
)
def test_translate_bad_input(trained, kwargs, match):
    gan, _ = trained
    with pytest.raises(ValueError, match=match):
        gan.translate(**kwargs)


# --- History pool ---


def _query(pool, count, images, seed):
    returned, pool, count = history_pool_query(
        tf.constant(pool), tf.constant(count, tf.int64), tf.constant(images),
        tf.constant(seed))
    return returned.numpy(), pool.numpy(), int(count.numpy())


def _ids(n, start):
    """Images whose constant pixel value identifies them."""
    return np.arange(start, start + n, dtype="float32")[:, None, None, None] * np.ones(
        (1, 2, 2, 1), "float32")


def test_history_pool_stores_and_returns_while_filling():
    pool = np.zeros((4, 2, 2, 1), "float32")
    new = _ids(3, 1)
    returned, pool, count = _query(pool, 0, new, [1, 2])
    np.testing.assert_array_equal(returned, new)
    np.testing.assert_array_equal(pool[:3], new)
    assert count == 3
    # The 4th image fills the last slot and comes back itself; later ones may swap.
    returned, pool2, count = _query(pool, 3, _ids(1, 4), [1, 2])
    np.testing.assert_array_equal(returned, _ids(1, 4))
    np.testing.assert_array_equal(pool2, _ids(4, 1))
    assert count == 4


def test_history_pool_swaps_half_the_time_once_full():
    pool = _ids(4, 100)
    swapped, seen = 0, 0
    for step in range(40):
        new = _ids(5, 5 * step)
        returned, next_pool, count = _query(pool, 4, new, [7, step])
        assert count == 4
        # Nothing is lost or invented: pool + returned is a re-arrangement of
        # old pool + new images (processing one image after the other).
        before = sorted(np.concatenate([pool, new])[:, 0, 0, 0])
        after = sorted(np.concatenate([next_pool, returned])[:, 0, 0, 0])
        assert before == after
        swapped += int(np.sum(returned[:, 0, 0, 0] != new[:, 0, 0, 0]))
        seen += len(new)
        pool = next_pool
    # p = 0.5 (a binomial with n=200: the mean +- 5 standard deviations).
    assert 0.32 < swapped / seen < 0.68, swapped / seen
    # Stateless: the same seed gives the same exchange.
    a = _query(pool, 4, _ids(5, 900), [3, 3])
    b = _query(pool, 4, _ids(5, 900), [3, 3])
    np.testing.assert_array_equal(a[0], b[0])


def test_history_pool_draws_are_the_same_under_xla():
    # jit_compile is on by default on GPUs; a run resumed with or without XLA must
    # make the same exchanges.
    args = (tf.constant(_ids(4, 0)), tf.constant(2, tf.int64), tf.constant(_ids(9, 100)),
            tf.constant([5, 6], tf.int64))
    eager = history_pool_query(*args)
    xla = tf.function(history_pool_query, jit_compile=True)(*args)
    for a, b in zip(eager, xla):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_history_pool_size_zero_passes_images_through():
    new = _ids(2, 1)
    returned, _, count = _query(np.zeros((0, 2, 2, 1), "float32"), 0, new, [0, 0])
    np.testing.assert_array_equal(returned, new)
    assert count == 0


# --- Save, load, resume ---


def test_resume_in_fresh_process_equals_uninterrupted(tmp_path):
    # pool_size=2 with batches of 2: the pool is full after step 1 and swaps after.
    a, b = smooth_images(6, seed=1), -smooth_images(6, seed=2)
    batches = [(a[i:i + 2], b[i:i + 2]) for i in (0, 2, 4)]

    def build():
        # The smallest networks (tracing four of them three times is the slow part).
        gan = tiny(pool_size=2, seed=3, num_residual_blocks=0)
        gan.compile(total_steps=4, identity_weight=0.0)   # the schedule must survive too
        return gan

    expected = run_resume_test(build, batches, tmp_path)
    assert len(expected) > 0


def test_save_load_restores_networks_optimizers_pool_and_weights(tmp_path):
    gan = tiny(pool_size=3, seed=11)
    gan.compile(total_steps=100, cycle_weight=7.0, identity_weight=0.0, loss="least_squares")
    gan.pool_b.assign(np.random.default_rng(0).uniform(-1, 1, (3, *SHAPE)))
    gan.pool_b_count.assign(2)
    path = tmp_path / "cyclegan.keras"
    gan.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    assert isinstance(loaded, CycleGAN)
    assert loaded.seed == 11 and loaded.pool_size == 3 and loaded.image_shape == SHAPE
    assert loaded.cycle_weight == 7.0 and loaded.identity_weight == 0.0
    for opt in (loaded.g_optimizer, loaded.d_optimizer):
        schedule = opt._learning_rate
        assert isinstance(schedule, LinearDecay)
        assert (schedule.total_steps, schedule.decay_start) == (100, 50)
    np.testing.assert_array_equal(loaded.pool_b.numpy(), gan.pool_b.numpy())
    assert int(loaded.pool_b_count.numpy()) == 2
    assert len(loaded.weights) == len(gan.weights)
    for w, v in zip(gan.weights, loaded.weights):
        np.testing.assert_array_equal(w.numpy(), v.numpy())


# --- Compile, schedule, losses ---


def test_compile_defaults_follow_the_paper(untrained):
    gan = untrained
    gan.compile()
    for opt in (gan.d_optimizer, gan.g_optimizer):
        assert isinstance(opt, keras.optimizers.Adam)
        assert float(opt.learning_rate.numpy()) == pytest.approx(2e-4)
        assert float(opt.beta_1) == pytest.approx(0.5)
    assert gan.d_optimizer is not gan.g_optimizer
    assert gan.cycle_weight == 10.0 and gan.identity_weight == 5.0
    assert isinstance(gan.gan_loss, LeastSquares) and gan.gan_loss.generator_weight == 2.0
    assert CycleGAN.from_shape((8, 8, 1), filters=2, num_residual_blocks=0).pool_size == 50
    gan.compile(cycle_weight=4.0)
    assert gan.identity_weight == 2.0


def test_compile_total_steps_decays_linearly_to_zero(untrained):
    gan = untrained
    gan.compile(total_steps=10)
    schedule = gan.g_optimizer._learning_rate
    assert isinstance(schedule, LinearDecay)
    lrs = [float(schedule(step)) for step in (0, 5, 6, 8, 10, 20)]
    np.testing.assert_allclose(lrs, [2e-4, 2e-4, 1.6e-4, 0.8e-4, 0.0, 0.0], rtol=1e-5,
                               atol=1e-12)


def test_linear_decay_config_and_bad_arguments():
    schedule = LinearDecay(1e-3, total_steps=100, decay_start=20)
    again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(schedule))
    assert isinstance(again, LinearDecay) and again.get_config() == schedule.get_config()
    assert float(again(60)) == pytest.approx(0.5e-3)
    with pytest.raises(ValueError, match=r"total_steps=0"):
        LinearDecay(1e-3, 0)
    with pytest.raises(ValueError, match=r"decay_start=100"):
        LinearDecay(1e-3, 100, decay_start=100)
    with pytest.raises(ValueError, match=r"initial_learning_rate=-1"):
        LinearDecay(-1, 100)


def test_paper_least_squares_generator_loss():
    # E[(D(G(x)) - 1)^2], without LSGAN's 1/2.
    loss = LeastSquares(generator_weight=2.0)
    assert float(loss.generator(np.array([[0.0], [2.0], [1.0]]))) == \
        pytest.approx((1 + 1 + 0) / 3)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"total_steps": 10, "g_optimizer": "adam"}, r"total_steps.*LinearDecay"),
        ({"cycle_weight": -1.0}, r"cycle_weight=-1.0"),
        ({"identity_weight": "x"}, r"identity_weight='x'"),
        ({"loss": "nope"}, r"loss='nope'"),
        ({"optimizer": "adam"}, r"optimizer"),
    ],
)
def test_compile_bad_arguments(untrained, kwargs, match):
    with pytest.raises(ValueError, match=match):
        untrained.compile(**kwargs)


# --- Networks ---


def test_paper_architecture():
    g = build_resnet_generator(3, filters=2, num_residual_blocks=9)
    assert g.input.shape[1:] == (None, None, 3)
    assert g.layers[-1].activation.__name__ == "tanh"
    assert sum(layer.name.endswith("_add") for layer in g.layers) == 9
    norms = [layer for layer in g.layers if isinstance(layer, keras.layers.GroupNormalization)]
    # groups=-1 (one group per channel: instance normalisation) becomes C when built.
    assert norms and all(layer.groups == layer.input.shape[-1] for layer in norms)
    assert sum(isinstance(layer, ReflectionPadding2D) for layer in g.layers) == 2 + 2 * 9
    assert tuple(g(np.zeros((1, 20, 12, 3))).shape) == (1, 20, 12, 3)

    d = build_patchgan_discriminator(3, filters=2, num_layers=3)
    assert tuple(d(np.zeros((2, 32, 32, 3))).shape) == (2, 4, 4, 1)  # one score per patch
    assert d.layers[-1].activation.__name__ == "linear"
    for net in (g, d):
        assert not any(isinstance(layer, keras.layers.Lambda) for layer in net.layers)

    assert [default_num_residual_blocks((s, s, 3)) for s in (32, 128, 255, 256, 512)] == \
        [6, 6, 6, 9, 9]
    gan = CycleGAN.from_shape((32, 32, 3), filters=2, d_filters=2)
    assert sum(layer.name.endswith("_add") for layer in gan.generator_b2a.layers) == 6


def test_reflection_padding_layer():
    x = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
    out = ReflectionPadding2D(((1, 0), (0, 2)))(x).numpy()[0, :, :, 0]
    np.testing.assert_array_equal(out, np.pad(x[0, :, :, 0], ((1, 0), (0, 2)), mode="reflect"))
    layer = ReflectionPadding2D.from_config(ReflectionPadding2D(3).get_config())
    assert layer.padding == ((3, 3), (3, 3))
    with pytest.raises(ValueError, match=r"padding=-1"):
        ReflectionPadding2D(-1)


def test_user_networks_without_pool():
    def net(out_channels, activation):
        return keras.Sequential([keras.Input((8, 8, 1)),
                                 keras.layers.Conv2D(out_channels, 3, padding="same",
                                                     activation=activation)])

    gan = CycleGAN(net(1, "tanh"), net(1, "tanh"), net(1, None), net(1, None), pool_size=0)
    assert gan.image_shape == SHAPE and gan.pool_a is None
    gan.compile(identity_weight=0.0)
    history = gan.fit(smooth_images(4), -smooth_images(4, seed=1), batch_size=2, verbose=0)
    assert all(np.isfinite(v[0]) for v in history.history.values())
    assert history.history["identity_loss"] == [0.0]
    assert gan.translate(smooth_images(2)).shape == (2, *SHAPE)
    with pytest.raises(ValueError, match=r"only accepts images of 8x8.*\(1, 12, 12, 1\)"):
        gan.translate(smooth_images(1, (12, 12, 1)))


# --- Bad inputs ---


def test_a_domain_without_images_is_a_clear_error():
    with pytest.raises(ValueError, match=r"`b`.*no images"):
        keras_gans.data.unpaired(smooth_images(4), np.zeros((0, *SHAPE), "float32"))


@pytest.mark.parametrize(
    "a_shape, b_shape, match",
    [
        ((8, 8, 3), (8, 8, 1), r"domain `a`.*\(None, 8, 8, 3\)"),
        ((8, 8, 1), (8, 8, 3), r"domain `b`.*\(None, 8, 8, 3\)"),
        ((12, 12, 1), (12, 12, 1), r"shape \(8, 8, 1\).*domain `a`.*12, 12"),
    ],
)
def test_training_data_that_does_not_match_the_model(a_shape, b_shape, match):
    gan = tiny()
    gan.compile()
    # Zipped by hand: `data.unpaired` itself refuses domains of different channels.
    ds = tf.data.Dataset.zip(tuple(
        tf.data.Dataset.from_tensor_slices(smooth_images(4, shape)).batch(2)
        for shape in (a_shape, b_shape)))
    with pytest.raises(ValueError, match=match):
        gan.fit(ds, epochs=1, verbose=0)


def test_fit_without_domain_b_is_a_clear_error():
    gan = tiny()
    gan.compile()
    with pytest.raises(ValueError, match=r"\(a_batch, b_batch\)"):
        gan.fit(smooth_images(4), batch_size=2, epochs=1, verbose=0)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: tiny(image_shape=(30, 28, 1)), ValueError, r"multiples of 4.*\(30, 28, 1\)"),
        (lambda: tiny(image_shape=(28, 28)), ValueError, r"image_shape=\(28, 28\)"),
        (lambda: tiny(pool_size=-1), ValueError, r"pool_size=-1"),
        (lambda: build_resnet_generator(1, 4, -1), ValueError, r"num_residual_blocks=-1"),
        (lambda: CycleGAN("g", None, None, None), TypeError,
         r"generator_a2b.*keras.Model.*str"),
        (lambda: CycleGAN(build_resnet_generator(3, 2, 1), build_resnet_generator(1, 2, 1),
                          build_patchgan_discriminator(1, 2, 1),
                          build_patchgan_discriminator(1, 2, 1), image_shape=SHAPE),
         ValueError, r"generator_a2b.*1 channels"),
        (lambda: CycleGAN(*[build_resnet_generator(1, 2, 1)] * 2,
                          *[build_patchgan_discriminator(1, 2, 1)] * 2), ValueError,
         r"image_shape.*required"),
    ],
)
def test_bad_construction_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()


# --- tf.distribute ---

_MIRRORED_SCRIPT = textwrap.dedent(
    """
    import os
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
    import numpy as np, tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from keras_gans.models.cyclegan import CycleGAN
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    with strategy.scope():
        gan = CycleGAN.from_shape((8, 8, 1), filters=2, num_residual_blocks=1, d_filters=2,
                                  d_layers=1, pool_size=3, seed=0)
        gan.compile(identity_weight=0.0)
    a = np.random.default_rng(0).uniform(-1, 1, (8, 8, 8, 1)).astype("float32")
    history = gan.fit(a, -a, batch_size=4, epochs=1, verbose=0)
    losses = [v[0] for v in history.history.values()]
    print("REPLICAS", strategy.num_replicas_in_sync, "FINITE", all(np.isfinite(losses)),
          "COUNT", int(gan.pool_a_count.numpy()), "STEPS", int(gan.step_counter.numpy()))
    """
)


@pytest.mark.skipif(not os.environ.get("KERAS_GANS_LARGE_TESTS"),
                    reason="large test (a fresh TensorFlow and a 2-replica trace, ~40 s of "
                           "CPU): set KERAS_GANS_LARGE_TESTS=1 to run it")
def test_fit_under_mirrored_strategy_with_two_replicas():
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
         os.environ.get("PYTHONPATH", "")]))
    result = subprocess.run([sys.executable, "-c", _MIRRORED_SCRIPT], capture_output=True,
                            text=True, env=env, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    # 2 steps of 2 images per replica: the first replica's 2 + 2 translations fill 3 slots.
    assert "REPLICAS 2 FINITE True COUNT 3 STEPS 2" in result.stdout, result.stdout
