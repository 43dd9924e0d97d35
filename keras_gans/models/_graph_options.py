"""Graph options of a GAN's `fit`: grappler's remapper off where it would fail.

`GAN.fit` runs inside `fit_remapping(model)`; `GAN.grappler_remapping` and
`GAN.remapper_fails` say when the remapper is off and how to keep it on.
"""

import contextlib

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="keras_gans")
@contextlib.contextmanager
def _grappler_remapping(enabled):
    """Grappler's remapper off inside the block unless `enabled` (restored after).

    With oneDNN (TensorFlow's default on x86 CPUs) the remapper fuses a discriminator's
    Conv2D + BiasAdd + LeakyRelu although the training graph's LeakyReluGrad still
    reads the BiasAdd, and logs `remapper failed: INVALID_ARGUMENT ... fanout
    '.../LeakyReluGrad' exist for missing node '.../BiasAdd'` on stderr (not with
    `TF_ENABLE_ONEDNN_OPTS=0`, nor on a CPU where TensorFlow leaves oneDNN off). It does
    so for a biased convolution whose input is differentiated: any but the first when convolutions carry a bias (no batch norm:
    WGAN-GP critics, spectral norm, `normalization="none"`), the first too under an
    input-gradient penalty (R1, GP) or when DiffAugment translates the images (found by
    training each policy: translation fails, color and cutout do not). Failing, it leaves the graph as it was, so turning
    it off changes neither the results nor the speed of such a fit (measured: WGAN-GP
    weights bitwise equal, same steps/s; `normalization="none"` DCGAN bitwise equal); see
    `GAN.grappler_remapping` for when it is off and how to keep it on.
    """
    previous = tf.config.optimizer.get_experimental_options().get("remapping", True)
    if enabled or not previous:
        yield
        return
    tf.config.optimizer.set_experimental_options({"remapping": False})
    try:
        yield
    finally:
        tf.config.optimizer.set_experimental_options({"remapping": previous})


def onednn_enabled():
    """Whether TensorFlow's oneDNN operations are on in this process: TensorFlow's
    choice for the CPU (on by default only where it has AVX512_VNNI, AVX512_BF16, AMX
    or the like; off on an AVX2-only CPU) unless `TF_ENABLE_ONEDNN_OPTS` says otherwise.
    Unknown (a TensorFlow without the query): assumed on."""
    try:
        from tensorflow.python.util import _pywrap_util_port
    except ImportError:  # pragma: no cover - every TensorFlow 2.x has it
        return True
    return bool(_pywrap_util_port.IsMklEnabled())


def remapper_fails(discriminator, penalizes_input_gradients, augment=None):
    """Whether grappler's remapper fails on a GAN's train step and logs an error (see
    `_grappler_remapping`): with oneDNN on (`onednn_enabled`), for an input-gradient
    penalty, DiffAugment's translation, or a biased convolution in the discriminator
    past its first. Without oneDNN the remapper does not fail (measured on an AVX2-only
    CPU and with `TF_ENABLE_ONEDNN_OPTS=0`)."""
    if not onednn_enabled():
        return False
    if penalizes_input_gradients or "translation" in (augment or ()):
        return True
    convolutions = [layer for layer in discriminator._flatten_layers(
        include_self=False, recursive=True)
        if isinstance(layer, keras.layers.Conv2D) and layer.use_bias]
    return len(convolutions) > 1


def fit_remapping(model):
    """The context `model.fit` runs in: the remapper as `model.grappler_remapping` asks
    (`None`: off where `model.remapper_fails`)."""
    setting = model.grappler_remapping
    return _grappler_remapping(not model.remapper_fails if setting is None
                               else bool(setting))
