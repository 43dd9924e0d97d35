"""LSGAN, WGAN-GP and the stabilisers of the DCGAN family (EMA, R1, label smoothing,
instance noise, spectral norm, d_steps) and class-conditional generation."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from gan_test_utils import run_resume_test

from keras_gans import losses
from keras_gans.models.dcgan import DCGAN
from keras_gans.models.lsgan import LSGAN
from keras_gans.models.wgan_gp import WGANGP

SHAPE = (8, 8, 1)


def tiny(cls, **kwargs):
    kwargs.setdefault("latent_dim", 4)
    kwargs.setdefault("base_filters", 4)
    return cls.from_shape(kwargs.pop("image_shape", SHAPE), **kwargs)


def images(n, seed=0, shape=SHAPE):
    return np.random.default_rng(seed).uniform(-1, 1, (n, *shape)).astype("float32")


def compiled(model, **kwargs):
    model.compile(**kwargs)
    return model


CONFIGS = {
    "lsgan": lambda: tiny(LSGAN),
    "lsgan_pearson": lambda: tiny(LSGAN, a=-1.0, b=1.0, c=0.0),
    "wgan_gp": lambda: tiny(WGANGP, n_critic=2),
    "wgan_gp_one_sided_layernorm": lambda: tiny(WGANGP, n_critic=1, one_sided=True,
                                                normalization="layer"),
    # Every stabiliser at once, DiffAugment's three policies and lazy R1 included: its
    # exact-resume test covers the plain DCGAN's and each option's state.
    "dcgan_stabilised": lambda: tiny(DCGAN, label_smoothing=0.1, instance_noise=0.1,
                                     r1_weight=1.0, r1_interval=2, d_steps=2, ema_decay=0.9,
                                     augment=("color", "translation", "cutout")),
    "dcgan_spectral_norm": lambda: tiny(DCGAN, spectral_norm=True),
    "dcgan_hinge": lambda: tiny(DCGAN),
    "cdcgan": lambda: tiny(DCGAN, num_classes=3),
    "cwgan_gp_ema": lambda: tiny(WGANGP, num_classes=3, n_critic=2, ema_decay=0.5),
    "cwgan_gp_split": lambda: tiny(WGANGP, num_classes=3, n_critic=2, split_real_batch=True),
    "clsgan": lambda: tiny(LSGAN, num_classes=3),
}


def data_for(model, n=16, seed=0):
    x = images(n, seed)
    if model.num_classes:
        return x, (np.arange(n) % model.num_classes).astype("int32")
    return x


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_variant_trains_with_finite_losses(name):
    model = CONFIGS[name]()
    model.compile(loss="hinge") if name == "dcgan_hinge" else model.compile()
    g_before = [w.copy() for w in model.generator.get_weights()]
    data = data_for(model)
    x, y = data if isinstance(data, tuple) else (data, None)
    history = model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    for key, values in history.history.items():
        assert np.all(np.isfinite(values)), (key, values)
    assert any(not np.allclose(a, b) for a, b in zip(g_before, model.generator.get_weights()))
    assert int(model.d_optimizer.iterations.numpy()) == 2 * model.d_steps
    assert int(model.g_optimizer.iterations.numpy()) == 2


def test_wgan_gp_defaults_follow_the_paper():
    model = compiled(tiny(WGANGP))
    assert model.n_critic == 5 and model.gp_weight == 10.0
    opt = model.d_optimizer
    assert float(opt.learning_rate.numpy()) == pytest.approx(1e-4)
    assert float(opt.beta_1) == 0.0 and float(opt.beta_2) == pytest.approx(0.9)
    assert not any(isinstance(layer, keras.layers.BatchNormalization)
                   for layer in model.discriminator.layers)
    history = model.fit(images(8), batch_size=8, epochs=1, verbose=0)
    assert "gp" in history.history and history.history["gp"][0] >= 0


def test_wgan_gp_critic_loss_includes_the_penalty():
    """d_loss logged = wasserstein critic loss + 10 * gp on the same batch."""
    model = compiled(tiny(WGANGP, n_critic=1, gp_weight=10.0),
                     d_optimizer=keras.optimizers.SGD(0.0),
                     g_optimizer=keras.optimizers.SGD(0.0))
    history = model.fit(images(8), batch_size=8, epochs=1, verbose=0).history
    # With frozen weights the critic loss is W + 10 gp; recompute W independently.
    x = images(8)
    z = tf.random.stateless_normal((8, 4), seed=model._seed(0).numpy() * 0 + [
        model.seed * 1000, 0])
    fake = model.generator(z, training=True)
    w = losses.wasserstein_critic_loss(model.discriminator(x, training=True),
                                       model.discriminator(fake, training=True))
    assert history["d_loss"][0] == pytest.approx(float(w) + 10 * history["gp"][0], rel=1e-4)


@pytest.mark.parametrize("split", [False, True])
def test_split_real_batch_gives_each_critic_step_its_own_part(split):
    """With frozen weights the logged d_real is the critic's mean score on the real
    images of the last critic step: the batch's second half when split, all of it not."""
    model = compiled(tiny(WGANGP, n_critic=2, split_real_batch=split),
                     d_optimizer=keras.optimizers.SGD(0.0),
                     g_optimizer=keras.optimizers.SGD(0.0))
    x = images(8, seed=5)
    history = model.fit(x, batch_size=8, epochs=1, verbose=0, shuffle=False).history
    seen = x[4:] if split else x
    expected = float(np.mean(model.discriminator(seen, training=True)))
    assert history["d_real"][0] == pytest.approx(expected, rel=1e-5)
    other = float(np.mean(model.discriminator(x if split else x[4:], training=True)))
    assert abs(other - expected) > 1e-6  # the two readings differ: the check can fail
    assert model.get_config()["split_real_batch"] is split
    again = WGANGP.from_config(model.get_config())
    assert again.split_real_batch is split


def test_split_real_batch_parts_and_errors():
    model = tiny(DCGAN, num_classes=3, d_steps=3, split_real_batch=True)
    x, y = images(10), np.arange(10, dtype="int32")
    parts = model._real_parts(tf.constant(x), tf.constant(y))
    assert [p[1].numpy().tolist() for p in parts] == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    np.testing.assert_array_equal(parts[2][0].numpy(), x[6:9])
    with pytest.raises(ValueError, match=r"split_real_batch=True .* d_steps=3 .* batch of 2"):
        model._real_parts(tf.constant(x[:2]), tf.constant(y[:2]))
    with pytest.raises(TypeError, match="split_real_batch='yes'"):
        tiny(DCGAN, split_real_batch="yes")
    small = compiled(tiny(WGANGP, n_critic=4, split_real_batch=True))
    with pytest.raises(ValueError, match=r"d_steps=4 parts; received a batch of 3 images"):
        small.fit(images(3), batch_size=3, epochs=1, verbose=0)
    # A trailing batch of 2 < 4 (its size unknown when traced): parts of one image.
    parts = tf.function(model._real_parts, input_signature=[
        tf.TensorSpec((None, *SHAPE)), tf.TensorSpec((None,), "int32")])(
        tf.constant(x[:2]), tf.constant(y[:2]))
    assert [p[1].numpy().tolist() for p in parts] == [[0], [1], [1]]
    history = small.fit(images(10), batch_size=8, epochs=1, verbose=0).history
    assert all(np.isfinite(v[0]) for v in history.values()), history


def test_lsgan_losses_use_its_coding():
    model = compiled(tiny(LSGAN, a=-1.0, b=1.0, c=0.0))
    real, fake = tf.constant([[1.0], [0.5]]), tf.constant([[-1.0], [0.0]])
    expected_d = 0.5 * np.mean([0.0, 0.25]) + 0.5 * np.mean([0.0, 1.0])
    assert float(model.discriminator_loss(real, fake)) == pytest.approx(expected_d)
    assert float(model.generator_loss(fake)) == pytest.approx(0.5 * np.mean([1.0, 0.0]))


@pytest.mark.parametrize(
    "build, compile_kwargs, match",
    [
        (lambda: tiny(WGANGP, label_smoothing=0.1), {}, "label_smoothing.*Wasserstein"),
        (lambda: tiny(LSGAN, label_smoothing=0.1), {}, "label_smoothing.*least_squares"),
        (lambda: tiny(DCGAN, label_smoothing=0.1), {"loss": "hinge"}, "label_smoothing"),
        (lambda: tiny(DCGAN, label_smoothing=1.0), {}, "label_smoothing.*1.0"),
        (lambda: tiny(DCGAN, ema_decay=1.5), {}, "ema_decay.*1.5"),
        (lambda: tiny(DCGAN, r1_weight=-1), {}, "r1_weight.*-1"),
        (lambda: tiny(WGANGP, n_critic=0), {}, "n_critic.*0"),
        (lambda: tiny(LSGAN, a=1.0, b=1.0), {}, "`a`.*`b`.*a=1.0, b=1.0"),
        (lambda: tiny(DCGAN), {"loss": "nope"}, "nope"),
        (lambda: tiny(DCGAN, normalization="group"), {}, "normalization.*group"),
    ],
)
def test_nonsense_options_raise(build, compile_kwargs, match):
    with pytest.raises(ValueError, match=match):
        build().compile(**compile_kwargs)


def test_ema_warmup_must_be_a_bool():
    with pytest.raises(TypeError, match="ema_warmup.*received: ema_warmup='no'"):
        tiny(DCGAN, ema_decay=0.9, ema_warmup="no")


def test_spectral_norm_wraps_the_discriminator():
    model = tiny(DCGAN, spectral_norm=True)
    wrapped = [layer for layer in model.discriminator.layers
               if isinstance(layer, keras.layers.SpectralNormalization)]
    assert len(wrapped) >= 3
    assert not any(isinstance(layer, keras.layers.BatchNormalization)
                   for layer in model.discriminator.layers)


@pytest.mark.parametrize("warmup, first_decay", [(False, 0.5), (True, 0.1)])
def test_ema_generator_tracks_a_moving_average_and_is_used_by_generate(warmup, first_decay):
    # With the warm-up the first step's decay is min(0.5, (1 + 0) / (10 + 0)) = 0.1.
    model = compiled(tiny(DCGAN, ema_decay=0.5, ema_warmup=warmup))
    before_live = [w.copy() for w in model.generator.get_weights()]
    before_ema = [w.copy() for w in model.ema_generator.get_weights()]
    model.fit(images(8), batch_size=8, epochs=1, verbose=0)  # one step
    for w, live0, ema0, ema1, var in zip(model.generator.get_weights(), before_live,
                                         before_ema, model.ema_generator.get_weights(),
                                         model.generator.weights):
        if var.trainable:
            np.testing.assert_allclose(ema1, first_decay * ema0 + (1 - first_decay) * w,
                                       rtol=1e-5, atol=1e-6)
        else:
            np.testing.assert_allclose(ema1, w)
    z = model.sample_noise(3, seed=0)
    np.testing.assert_allclose(model.generate(z=z), model.ema_generator(z, training=False),
                               atol=1e-6)
    assert not np.allclose(model.generate(z=z), model.generator(z, training=False))


def test_conditional_generate_and_labels_passed_from_data():
    model = compiled(tiny(DCGAN, num_classes=3))
    ds = tf.data.Dataset.from_tensor_slices(data_for(model)).batch(8)
    model.fit(ds, epochs=1, verbose=0)
    out = model.generate(4, labels=[2, 2, 0, 1], seed=0)
    assert out.shape == (4, *SHAPE)
    # The label changes the image for the same noise.
    z = model.sample_noise(1, seed=0)
    a, b = model.generate(z=z, labels=[0]), model.generate(z=z, labels=[1])
    assert not np.allclose(a, b)
    np.testing.assert_array_equal(model.generate(3, labels=1, seed=2),
                                  model.generate(3, labels=[1, 1, 1], seed=2))


def test_conditional_without_labels_in_data_is_a_clear_error():
    model = compiled(tiny(DCGAN, num_classes=3))
    with pytest.raises(ValueError, match="conditional.*labels"):
        model.fit(images(8), batch_size=8, epochs=1, verbose=0)


# LSGAN is DCGAN's train step with another loss, and the plain DCGAN a subset of
# `dcgan_stabilised`: neither gets its own (fresh-process, slow) resume test.
@pytest.mark.parametrize("name", ["dcgan_stabilised", "cwgan_gp_ema"])
def test_resume_is_exact(name, tmp_path):
    def build():
        model = CONFIGS[name]()
        model.compile()
        return model

    probe = CONFIGS[name]()
    data = data_for(probe, 24, seed=3)
    if isinstance(data, tuple):
        batches = [(data[0][i:i + 8], data[1][i:i + 8]) for i in (0, 8, 16)]
    else:
        batches = [data[i:i + 8] for i in (0, 8, 16)]
    run_resume_test(build, batches, tmp_path)


def test_same_seed_same_weights():
    """keras.utils.set_random_seed + same data -> identical weights (CPU)."""
    def run():
        keras.utils.set_random_seed(7)
        model = compiled(tiny(WGANGP, n_critic=2, ema_decay=0.9))
        model.fit(images(16), batch_size=8, epochs=1, verbose=0, shuffle=False)
        return [w.numpy() for w in model.weights]

    for a, b in zip(run(), run()):
        np.testing.assert_array_equal(a, b)
