import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf
from gan_test_utils import state

import keras_gans
from keras_gans.models.dcgan import DCGAN, build_discriminator, build_generator, upsampling_stages

SHAPE = (12, 12, 1)


def tiny_gan(**kwargs):
    kwargs.setdefault("latent_dim", 8)
    kwargs.setdefault("base_filters", 4)
    return DCGAN.from_shape(kwargs.pop("image_shape", SHAPE), **kwargs)


def images(n, shape=SHAPE, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, *shape)).astype("float32")


def test_fit_steps_change_both_networks_and_log_documented_metrics():
    gan = tiny_gan()
    gan.compile()
    g_before = [w.copy() for w in gan.generator.get_weights()]
    d_before = [w.copy() for w in gan.discriminator.get_weights()]
    history = gan.fit(images(32), batch_size=8, epochs=2, verbose=0)
    assert set(history.history) == {"d_loss", "g_loss", "d_real", "d_fake"}
    for name, values in history.history.items():
        assert np.all(np.isfinite(values)), name
    for key in ("d_real", "d_fake"):
        assert all(0.0 <= v <= 1.0 for v in history.history[key])
    assert any(not np.allclose(a, b) for a, b in zip(g_before, gan.generator.get_weights()))
    assert any(not np.allclose(a, b) for a, b in
               zip(d_before, gan.discriminator.get_weights()))
    assert int(gan.d_optimizer.iterations.numpy()) == 8
    assert int(gan.g_optimizer.iterations.numpy()) == 8


def test_fit_on_data_images_dataset():
    gan = tiny_gan()
    gan.compile()
    ds = tf.data.Dataset.from_tensor_slices(images(16)).batch(8)
    with warnings.catch_warnings(record=True) as caught:
        # Keras's default shuffle=True would warn that it cannot shuffle a dataset.
        warnings.simplefilter("always")
        history = gan.fit(ds, epochs=1, verbose=0)
    assert not [w for w in caught if "shuffle" in str(w.message)]
    assert np.isfinite(history.history["g_loss"][0])
    with pytest.warns(UserWarning, match="shuffle=True"):  # an explicit request is Keras's
        gan.fit(ds, epochs=1, verbose=0, shuffle=True)


@pytest.mark.parametrize("image_shape", [(28, 28, 1), (64, 64, 3), (8, 12, 3)])
def test_from_shape_builds_any_multiple_of_four(image_shape):
    gan = tiny_gan(image_shape=image_shape)
    out = gan.generate(2, seed=0)
    assert out.shape == (2, *image_shape)
    logits = gan.discriminator(out)
    assert tuple(logits.shape) == (2, 1)


def test_paper_architecture():
    g = build_generator((64, 64, 3), latent_dim=100, base_filters=64)
    assert g.layers[-1].activation.__name__ == "tanh"
    assert any(isinstance(layer, keras.layers.BatchNormalization) for layer in g.layers)
    assert tuple(g.get_layer("project").output.shape) == (None, 4 * 4 * 512)
    d = build_discriminator((64, 64, 3))
    assert any(isinstance(layer, keras.layers.LeakyReLU) for layer in d.layers)
    strides = [layer.strides for layer in d.layers if isinstance(layer, keras.layers.Conv2D)]
    assert strides and all(s == (2, 2) for s in strides)


@pytest.mark.parametrize("image_shape", [(28, 28, 1), (8, 12, 3)])
def test_resize_upsampling_builds_resize_convolutions_that_train_save_and_load(
        image_shape, tmp_path):
    transposed = build_generator(image_shape, latent_dim=8, base_filters=4)
    resized = build_generator(image_shape, latent_dim=8, base_filters=4, upsampling="resize")
    assert any(isinstance(layer, keras.layers.Conv2DTranspose) for layer in transposed.layers)
    assert not any(isinstance(layer, keras.layers.Conv2DTranspose) for layer in resized.layers)
    ups = [layer for layer in resized.layers if isinstance(layer, keras.layers.UpSampling2D)]
    convs = [layer for layer in resized.layers if isinstance(layer, keras.layers.Conv2D)]
    assert len(ups) == len(convs) == upsampling_stages(*image_shape[:2])
    assert all(up.interpolation == "nearest" for up in ups)
    assert all(conv.kernel_size == (3, 3) and conv.strides == (1, 1) for conv in convs)
    assert tuple(resized.output.shape) == (None, *image_shape)

    gan = tiny_gan(image_shape=image_shape, upsampling="resize")
    gan.compile()
    before = [w.copy() for w in gan.generator.get_weights()]
    history = gan.fit(images(16, image_shape), batch_size=8, epochs=1, verbose=0)
    assert np.all(np.isfinite(history.history["g_loss"]))
    assert all(not np.allclose(a, b) for a, b in zip(before, gan.generator.get_weights())
               if a.ndim == 4)  # every convolution learnt
    path = tmp_path / "resize.keras"
    gan.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    assert not any(isinstance(layer, keras.layers.Conv2DTranspose)
                   for layer in loaded.generator.layers)
    np.testing.assert_array_equal(gan.generate(3, seed=1), loaded.generate(3, seed=1))


def test_resize_upsampling_has_no_checkerboard_pattern_at_init():
    """Odena et al. 2016: a stride-2 transposed convolution of a constant input gives a
    periodic (checkerboard) output; nearest resize then convolution gives a constant one
    away from the borders."""
    keras.utils.set_random_seed(0)
    for upsampling, periodic in (("transposed", True), ("resize", False)):
        g = build_generator((16, 16, 1), latent_dim=4, base_filters=4, upsampling=upsampling)
        layer = g.get_layer("to_image")
        ones = np.ones((1, 8, 8, layer.input.shape[-1]), "float32")
        if upsampling == "resize":
            ones = g.get_layer("to_image_resize")(ones)
        out = np.asarray(layer(ones))[0, 2:-2, 2:-2, 0]
        spread = out.max() - out.min()
        assert (spread > 1e-3) == periodic, (upsampling, spread)


def test_compile_defaults_follow_the_paper():
    gan = tiny_gan()
    gan.compile()
    for opt in (gan.d_optimizer, gan.g_optimizer):
        assert isinstance(opt, keras.optimizers.Adam)
        assert float(opt.learning_rate.numpy()) == pytest.approx(2e-4)
        assert float(opt.beta_1) == pytest.approx(0.5)


def test_compile_takes_user_optimizers_and_losses():
    gan = tiny_gan()
    calls = []

    def d_loss(real, fake):
        calls.append("d")
        return tf.reduce_mean(tf.nn.softplus(-real)) + tf.reduce_mean(tf.nn.softplus(fake))

    def g_loss(fake):
        calls.append("g")
        return tf.reduce_mean(tf.nn.softplus(-fake))

    gan.compile(d_optimizer=keras.optimizers.SGD(0.01), g_optimizer="rmsprop",
                loss=(d_loss, g_loss))
    assert isinstance(gan.g_optimizer, keras.optimizers.RMSprop)
    gan.fit(images(8), batch_size=8, epochs=1, verbose=0)
    assert "d" in calls and "g" in calls


def test_user_networks():
    g = keras.Sequential([keras.Input((4,)), keras.layers.Dense(16, activation="tanh"),
                          keras.layers.Reshape((4, 4, 1))])
    d = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(),
                          keras.layers.Dense(1)])
    gan = DCGAN(g, d)
    assert gan.latent_dim == 4
    gan.compile()
    gan.fit(images(8, (4, 4, 1)), batch_size=4, epochs=1, verbose=0)
    assert gan.generate(3).shape == (3, 4, 4, 1)


def test_generate_shape_range_and_seed():
    gan = tiny_gan()
    a = gan.generate(5, seed=3)
    b = gan.generate(5, seed=3)
    c = gan.generate(5, seed=4)
    assert a.shape == (5, *SHAPE) and a.dtype == np.float32
    assert a.min() >= -1.0 and a.max() <= 1.0
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    assert not np.allclose(gan.generate(5), gan.generate(5))


# Exact resume in a fresh process: tests/test_variants.py::test_resume_is_exact, whose
# `dcgan_stabilised` DCGAN holds every option of this one and more.


def _compiled(gan, **kwargs):
    gan.compile(**kwargs)
    return gan


def test_load_restores_optimizers_and_generates_the_same(tmp_path):
    gan = tiny_gan()
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.3))
    gan.fit(images(16), batch_size=8, epochs=1, verbose=0)
    path = tmp_path / "gan.keras"
    gan.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    assert isinstance(loaded, DCGAN)
    assert float(loaded.d_optimizer.beta_1) == pytest.approx(0.3)
    assert int(loaded.d_optimizer.iterations.numpy()) == 2
    for a, b in zip(state(gan), state(loaded)):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(gan.generate(4, seed=0), loaded.generate(4, seed=0))


def test_backup_and_restore_resumes(tmp_path):
    data = images(32)
    gan = tiny_gan()
    gan.compile()
    backup = keras.callbacks.BackupAndRestore(str(tmp_path / "backup"))

    class Interrupt(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError, match="interrupted"):
        gan.fit(data, batch_size=8, epochs=4, callbacks=[backup, Interrupt()], verbose=0)
    resumed = tiny_gan(seed=gan.seed)
    resumed.compile()
    history = resumed.fit(data, batch_size=8, epochs=4, callbacks=[backup], verbose=0)
    assert len(history.history["d_loss"]) == 2  # epochs 3 and 4 only
    assert int(resumed.g_optimizer.iterations.numpy()) == 16
    assert int(resumed.d_optimizer.iterations.numpy()) == 16


def test_no_lambda_layers():
    gan = tiny_gan(num_classes=3)
    for net in (gan.generator, gan.discriminator):
        assert not any(isinstance(layer, keras.layers.Lambda) for layer in net.layers)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: tiny_gan(image_shape=(30, 28, 1)), r"image_shape.*multiples of 4.*\(30, 28, 1\)"),
        (lambda: tiny_gan(image_shape=(28, 28)), r"image_shape.*\(28, 28\)"),
        (lambda: tiny_gan(latent_dim=0), r"latent_dim.*latent_dim=0"),
        (lambda: tiny_gan(latent_dim=-3), r"latent_dim.*latent_dim=-3"),
        (lambda: tiny_gan().generate(0), r"`n`.*n=0"),
        (lambda: tiny_gan().generate(-1), r"`n`.*n=-1"),
        (lambda: tiny_gan().generate(z=np.zeros((2, 5))), r"latent_dim=8.*\(2, 5\)"),
        (lambda: tiny_gan(d_steps=0), r"d_steps.*d_steps=0"),
        (lambda: tiny_gan(upsampling="bilinear"), r"upsampling.*upsampling='bilinear'"),
        (lambda: tiny_gan(num_classes=3).generate(2, labels=[0, 3]), r"labels.*\[0, 2\]"),
    ],
)
def test_bad_input_names_argument(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


def test_bad_network_type():
    with pytest.raises(TypeError, match="generator.*keras.Model"):
        DCGAN("not a model", keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]))


def test_import_is_lazy():
    import subprocess
    import sys

    code = ("import sys, keras_gans; "
            "print(sorted(m for m in ('tensorflow', 'keras', 'keras_gans.models.dcgan') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"
    assert keras_gans.DCGAN is DCGAN
