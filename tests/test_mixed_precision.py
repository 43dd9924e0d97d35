"""mixed_float16: loss-scaled training for every model family (on CPU, tiny networks).

Under `mixed_float16` `compile` wraps every optimizer in a `LossScaleOptimizer` and the
train steps multiply each loss by its scale (the penalties' inner input gradients too);
`apply` unscales. Checked per family: the optimizers are wrapped, a few steps train with
finite losses, the weights stay float32 and move, and a `.keras` round trip restores
the wrapped optimizers with their scales. bfloat16 and float32 stay unwrapped.
"""

import keras
import numpy as np
import pytest

from keras_gans.models.base import computes_in_float16
from keras_gans.models.cyclegan import CycleGAN
from keras_gans.models.dcgan import DCGAN
from keras_gans.models.inpainter import Inpainter
from keras_gans.models.wgan_gp import WGANGP

CASES = ("dcgan_r1", "wgan_gp", "cyclegan", "inpainter", "dcgan_clusters")


def _uniform(rng, *shape):
    return rng.uniform(-1, 1, (8, *shape)).astype("float32")


def _tiny(case):
    """A compiled tiny model of `case` and its `fit` arguments `(x, y)`."""
    rng = np.random.default_rng(0)
    keras.utils.set_random_seed(0)
    if case == "dcgan_r1":
        model = DCGAN.from_shape((8, 8, 1), latent_dim=4, base_filters=4, r1_weight=1.0,
                                 normalization="none", ema_decay=0.9, seed=0)
        data = (_uniform(rng, 8, 8, 1), None)
    elif case == "wgan_gp":
        model = WGANGP.from_shape((8, 8, 1), latent_dim=4, base_filters=4, n_critic=2,
                                  seed=0)
        data = (_uniform(rng, 8, 8, 1), None)
    elif case == "dcgan_clusters":  # self-conditioning's layers stay float32
        model = DCGAN.from_shape((8, 8, 1), latent_dim=4, base_filters=4, clusters=2,
                                 seed=0)
        data = (_uniform(rng, 8, 8, 1), None)
    elif case == "cyclegan":
        model = CycleGAN.from_shape((8, 8, 1), filters=2, num_residual_blocks=1,
                                    d_filters=2, d_layers=1, pool_size=2, seed=0)
        data = (_uniform(rng, 8, 8, 1), _uniform(rng, 8, 8, 1))
    else:
        model = Inpainter.from_shape((8, 8, 1), filters=2, depth=1, d_filters=2,
                                     d_layers=1, seed=0)
        masks = np.zeros((8, 8, 8), "uint8")
        masks[:, 2:6, 2:6] = 1
        data = (_uniform(rng, 8, 8, 1), masks)
    model.compile()
    if case == "dcgan_clusters":
        model.adapt(data[0])
    return model, data


def _build(case, policy):
    keras.mixed_precision.set_global_policy(policy)
    try:
        return _tiny(case)
    finally:
        keras.mixed_precision.set_global_policy("float32")


def _optimizers(model):
    return [getattr(model, name) for name in model.optimizer_networks]


@pytest.mark.parametrize("case", CASES)
def test_mixed_float16_trains_loss_scaled_and_round_trips(case, tmp_path):
    model, (x, y) = _build(case, "mixed_float16")
    compute = {layer.compute_dtype for layer in model._flatten_layers() if layer.weights}
    assert "float16" in compute, compute
    assert computes_in_float16(model)
    for optimizer in _optimizers(model):
        assert isinstance(optimizer, keras.optimizers.LossScaleOptimizer), optimizer
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    assert {v.dtype for v in model.trainable_variables} == {"float32"}
    before = [w.numpy() for w in model.trainable_variables]
    # The dynamic scale starts at 2**15 and halves on each step whose gradients are not
    # finite (that step is skipped): a few steps may be skipped before it settles.
    history = model.fit(x, y, batch_size=4, epochs=4, shuffle=False, verbose=0)
    for key, values in history.history.items():
        assert np.all(np.isfinite(values)), (key, values)
    after = {id(v): v.numpy() for v in model.trainable_variables}
    initial = dict(zip((id(v) for v in model.trainable_variables), before))
    for name, nets in model.optimizer_networks.items():
        optimizer = getattr(model, name)
        assert int(optimizer.iterations.numpy()) > 0, name  # steps applied
        assert 1.0 <= float(optimizer.dynamic_scale.numpy()) <= 2.0**15
        variables = model._trainable_variables_of(nets)
        assert any(not np.allclose(initial[id(v)], after[id(v)]) for v in variables), name

    path = str(tmp_path / "model.keras")
    model.save(path)
    keras.mixed_precision.set_global_policy("float32")  # the file carries the policy
    loaded = keras.saving.load_model(path)
    for mine, theirs in zip(_optimizers(model), _optimizers(loaded)):
        assert isinstance(theirs, keras.optimizers.LossScaleOptimizer), theirs
        assert not isinstance(theirs.inner_optimizer, keras.optimizers.LossScaleOptimizer)
        assert float(theirs.dynamic_scale.numpy()) == float(mine.dynamic_scale.numpy())
        assert int(theirs.iterations.numpy()) == int(mine.iterations.numpy())
    for a, b in zip(model.weights, loaded.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    history = loaded.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    for key, values in history.history.items():
        assert np.all(np.isfinite(values)), (key, values)


@pytest.mark.parametrize("policy", ["float32", "mixed_bfloat16"])
def test_float32_and_bfloat16_keep_the_optimizers_unwrapped(policy):
    model, _ = _build("dcgan_r1", policy)
    assert not computes_in_float16(model)
    for optimizer in _optimizers(model):
        assert not isinstance(optimizer, keras.optimizers.LossScaleOptimizer), optimizer


def test_auto_scale_loss_false_keeps_the_optimizers_and_is_saved():
    model, _ = _build("wgan_gp", "mixed_float16")
    model.compile(auto_scale_loss=False)
    for optimizer in _optimizers(model):
        assert not isinstance(optimizer, keras.optimizers.LossScaleOptimizer), optimizer
    assert model.get_compile_config()["auto_scale_loss"] is False
    with pytest.raises(TypeError, match=r"`auto_scale_loss`.*auto_scale_loss='yes'"):
        model.compile(auto_scale_loss="yes")


def test_penalty_values_do_not_depend_on_the_loss_scale():
    import tensorflow as tf

    from keras_gans import losses

    keras.utils.set_random_seed(0)
    critic = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Conv2D(2, 3),
                               keras.layers.Flatten(), keras.layers.Dense(1)])
    real = tf.random.uniform((3, 4, 4, 1), -1, 1)
    fake = tf.random.uniform((3, 4, 4, 1), -1, 1)
    alpha = tf.constant([0.2, 0.5, 0.9])
    scale = tf.constant(2.0**15)
    np.testing.assert_allclose(
        losses.gradient_penalty(critic, real, fake, alpha=alpha, loss_scale=scale),
        losses.gradient_penalty(critic, real, fake, alpha=alpha), rtol=1e-6)
    np.testing.assert_allclose(losses.r1_penalty(critic, real, loss_scale=scale),
                               losses.r1_penalty(critic, real), rtol=1e-6)
