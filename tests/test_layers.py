"""keras_gans.layers.FusedBatchNormalization: Keras's batch norm on TensorFlow's fused kernel.

Every check compares it with `keras.layers.BatchNormalization` holding the same weights:
what the builders gain in speed must not change what they compute.
"""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gans.layers import FusedBatchNormalization
from keras_gans.models import dcgan


def _pair(x_shape, **kwargs):
    keras_bn, fused = keras.layers.BatchNormalization(**kwargs), FusedBatchNormalization(**kwargs)
    keras_bn.build(x_shape)
    fused.build(x_shape)
    rng = np.random.default_rng(1)
    fused.set_weights([rng.normal(1, 0.3, w.shape).astype("float32") if i < 2 else w
                       for i, w in enumerate(keras_bn.get_weights())])
    keras_bn.set_weights(fused.get_weights())
    return keras_bn, fused


def _train_call(layer, x, mask=None):
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=True, mask=mask)
        loss = tf.reduce_sum(tf.cast(y, x.dtype) * tf.sin(x))  # a gradient that varies
    return y.numpy(), tape.gradient(loss, [x, *layer.trainable_weights])


@pytest.mark.parametrize("kwargs", [{}, {"momentum": 0.8, "center": False},
                                    {"scale": False, "epsilon": 1e-4}])
def test_fused_batch_norm_computes_what_keras_batch_norm_computes(kwargs):
    x = np.random.default_rng(0).normal(2, 3, (8, 7, 5, 16)).astype("float32")
    keras_bn, fused = _pair(x.shape, **kwargs)
    for _ in range(3):  # the moving averages follow the batches' (biased) statistics
        (y_keras, g_keras), (y_fused, g_fused) = _train_call(keras_bn, x), _train_call(fused, x)
        np.testing.assert_allclose(y_fused, y_keras, atol=2e-6)
        for a, b in zip(g_fused, g_keras):
            np.testing.assert_allclose(a.numpy(), b.numpy(), atol=2e-5, rtol=1e-5)
        x = x * 1.5 - 1
    for a, b in zip(fused.get_weights(), keras_bn.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    assert not np.allclose(fused.moving_variance.numpy(), 1.0)  # they did move
    np.testing.assert_allclose(fused(x, training=False), keras_bn(x, training=False),
                               rtol=1e-6, atol=3e-6)
    fused.trainable = keras_bn.trainable = False  # frozen: the moving statistics, no update
    before = fused.get_weights()
    np.testing.assert_allclose(fused(x, training=True), keras_bn(x, training=True),
                               rtol=1e-6, atol=3e-6)
    for a, b in zip(before, fused.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_it_runs_the_fused_kernel_on_images_and_falls_back_to_keras_elsewhere(monkeypatch):
    calls = []
    fused_op = tf.compat.v1.nn.fused_batch_norm
    monkeypatch.setattr(tf.compat.v1.nn, "fused_batch_norm",
                        lambda *a, **k: calls.append(1) or fused_op(*a, **k))
    images = np.random.default_rng(2).normal(size=(4, 6, 6, 3)).astype("float32")
    _pair(images.shape)[1](images, training=True)
    assert len(calls) == 1
    cases = [  # (input, constructor options, call options)
        (images[:, 0, 0, :], {}, {}),                        # rank 2 (after a Dense)
        (images, {"axis": 1}, {}),                           # not the channels axis
        (images, {"synchronized": True}, {}),
        (images, {"epsilon": 1e-6}, {}),                     # below the kernel's minimum
        (images, {}, {"mask": np.ones((4, 6, 6), bool)}),
        (images.astype("float64"), {"dtype": "float64"}, {}),  # Keras keeps float64
    ]
    for x, kwargs, call_kwargs in cases:
        keras_bn, fused = _pair(x.shape, **kwargs)
        y_keras, _ = _train_call(keras_bn, x, **call_kwargs)
        y_fused, _ = _train_call(fused, x, **call_kwargs)
        np.testing.assert_allclose(y_fused, y_keras, atol=1e-6)
        for a, b in zip(fused.get_weights(), keras_bn.get_weights()):
            np.testing.assert_allclose(a, b, atol=1e-6)
    assert len(calls) == 1, "a case the kernel does not do exactly went to the kernel"


def test_mixed_bfloat16_keeps_float32_statistics():
    x = np.random.default_rng(3).normal(size=(4, 6, 6, 8)).astype("float32")
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        keras_bn, fused = _pair(x.shape)
        y_fused = fused(tf.cast(x, "bfloat16"), training=True)
        y_keras = keras_bn(tf.cast(x, "bfloat16"), training=True)
    finally:
        keras.mixed_precision.set_global_policy(previous)
    assert y_fused.dtype == tf.bfloat16 and fused.moving_mean.dtype == "float32"
    np.testing.assert_allclose(tf.cast(y_fused, "float32"), tf.cast(y_keras, "float32"),
                               atol=1e-2)


def test_second_order_gradients_through_it_match_keras():
    """R1 and gradient penalties differentiate a discriminator's input gradient."""
    x = tf.constant(np.random.default_rng(4).normal(size=(4, 6, 6, 3)).astype("float32"))
    results = []
    for layer in _pair(x.shape):
        with tf.GradientTape() as outer:
            with tf.GradientTape() as inner:
                inner.watch(x)
                y = tf.reduce_sum(layer(x, training=True) ** 3)
            penalty = tf.reduce_sum(inner.gradient(y, x) ** 2)
        results.append(np.concatenate(
            [g.numpy() for g in outer.gradient(penalty, layer.trainable_weights)]))
    fused, keras_bn = results
    assert np.all(np.isfinite(fused))
    # float32 rounding, relative to the largest entry: beta's entries (~1e-2, next to
    # gamma's ~1e4) come out of cancellations, and both layers miss float64 there alike.
    np.testing.assert_allclose(fused, keras_bn, rtol=1e-5, atol=1e-6 * np.abs(keras_bn).max())


_FRESH = """
import sys
import keras, keras_gans, numpy as np
model = keras.models.load_model(sys.argv[1])
z = np.load(sys.argv[2])
np.save(sys.argv[3], model(z, training=False).numpy())
print(type(model.get_layer("project_bn")).__name__)
"""


def test_a_built_generator_saves_and_loads_in_a_fresh_process(tmp_path):
    generator = dcgan.build_generator((28, 28, 1), latent_dim=8, base_filters=4)
    assert isinstance(generator.get_layer("project_bn"), FusedBatchNormalization)
    z = np.random.default_rng(5).normal(size=(3, 8)).astype("float32")
    generator(z, training=True)  # moves the statistics off their initial values
    path = tmp_path / "generator.keras"
    generator.save(path)
    np.save(tmp_path / "z.npy", z)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    proc = subprocess.run([sys.executable, "-c", _FRESH, str(path), str(tmp_path / "z.npy"),
                           str(tmp_path / "out.npy")], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().splitlines()[-1] == "FusedBatchNormalization"
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"),
                               generator(z, training=False).numpy(), atol=1e-6)
