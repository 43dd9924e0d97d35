"""Feature extractors and the content losses of super-resolution (SRResNet, SRGAN).

- `build_vgg19_features`: the frozen VGG19 feature map of SRGAN's perceptual loss
  (Ledig et al. 2017, arXiv:1609.04802, equation 5), with `VGGPreprocessing` mapping
  images in [-1, 1] to VGG's Caffe-style input.
- Content losses, small serialisable objects a model holds: `PixelMSE` (equation 4, the
  SRResNet objective), `PixelL1` (EDSR's), `VGGFeatureLoss(weights, layer)` (SRGAN-VGG54
  by default) and `FeatureLoss(extractor)` around any Keras feature model. Each is
  `loss(high_res, super_res) -> float32 scalar`; `get("mse" | "l1" | "vgg19")` names them.

    loss = keras_gans.features.VGGFeatureLoss(weights="vgg19_notop.h5")
    srgan = keras_gans.SRGAN(scale=4, content_loss=loss)
"""

import os

import keras
import numpy as np
from keras import layers

from keras_gans import losses as losses_lib

#: The paper rescales VGG feature maps by 1/12.75 "to obtain VGG losses of a scale that
#: is comparable to the MSE loss" (section 2.2.1).
VGG_FEATURE_SCALE = 1.0 / 12.75
#: VGG54: the 4th convolution (after its ReLU) before the 5th max-pooling.
VGG_LAYER = "block5_conv4"
# Caffe-style VGG input: BGR, 0-255, ImageNet channel means subtracted.
_VGG_BGR_MEAN = (103.939, 116.779, 123.68)


# --- VGG19 feature extractor ---


@keras.saving.register_keras_serializable(package="keras_gans")
class VGGPreprocessing(keras.layers.Layer):
    """Maps images in [-1, 1] to VGG's Caffe-style input.

    `x -> BGR((x + 1) * 127.5) - mean`, with the ImageNet means (103.939, 116.779,
    123.68), what `keras.applications.vgg19.preprocess_input` does to [0, 255] RGB.
    Grayscale (1 channel) is repeated to 3.

    Input shape:
        `(batch, height, width, C)` with `C` 1 or 3.

    Output shape:
        `(batch, height, width, 3)`.
    """

    def call(self, images):
        images = keras.ops.cast(images, self.compute_dtype)
        if images.shape[-1] == 1:
            images = keras.ops.repeat(images, 3, axis=-1)
        bgr = keras.ops.flip((images + 1.0) * 127.5, axis=-1)
        return bgr - keras.ops.convert_to_tensor(_VGG_BGR_MEAN, dtype=self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], 3)


def _check_vgg_weights(weights, must_exist=True):
    """`weights` as stored: "imagenet", None or a file path (existing if `must_exist`)."""
    if isinstance(weights, os.PathLike):
        weights = os.fspath(weights)
    ok = weights in ("imagenet", None) or (
        isinstance(weights, str) and (not must_exist or os.path.isfile(weights)))
    if not ok:
        raise ValueError(
            "Received an invalid value for argument `weights`. Expected 'imagenet', "
            f"None or the path of an existing weights file, received: weights={weights!r}"
        )
    return weights


def load_vgg19(weights="imagenet"):
    """`keras.applications.VGG19(include_top=False)` with a clear error when it fails."""
    weights = _check_vgg_weights(weights)
    try:
        return keras.applications.VGG19(include_top=False, weights=weights,
                                        input_shape=(None, None, 3))
    except Exception as e:
        if weights != "imagenet":
            raise ValueError(
                f"Could not load VGG19 weights from weights={weights!r} "
                f"({type(e).__name__}: {e}). Expected the weights of "
                "`keras.applications.VGG19(include_top=False)`."
            ) from e
        raise RuntimeError(
            "Could not load the ImageNet weights of VGG19 through Keras's "
            f"download-and-cache path ({type(e).__name__}: {e}). Without internet "
            "access, pass a local weights file, e.g. `VGGFeatureLoss(weights="
            "'vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5')` (the file Keras "
            "downloads), place that file in ~/.keras/models/, or use `PixelMSE()`."
        ) from e


def build_vgg19_features(weights="imagenet", channels=3, layer_name=VGG_LAYER,
                         feature_scale=VGG_FEATURE_SCALE):
    """The frozen VGG19 feature map of SRGAN's content loss (VGG54 by default).

    `phi(x) = feature_scale * VGG19_{layer_name}(preprocess(x))` for images `x` in
    [-1, 1]. Ledig et al. 2017, equation 5, with the features rescaled by 1/12.75.

    Args:
        weights: `"imagenet"` (downloaded and cached by `keras.applications`), the path
            of a local weights file of `VGG19(include_top=False)` (the `..._notop.h5`
            Keras downloads, or a `.weights.h5` written by `save_weights`), or `None`
            (random weights: tests only).
        channels: channels of the images (1 or 3).
        layer_name: the VGG19 layer whose output is the feature map.
        feature_scale: factor applied to the features.

    Returns:
        A frozen functional `keras.Model`: `(B, H, W, C) -> (B, H/16, W/16, 512)` for
        the default layer.
    """
    if channels not in (1, 3):
        raise ValueError(
            "The VGG19 content loss needs images with 1 or 3 channels; received: "
            f"channels={channels!r}. Use `PixelMSE()` or your own feature model."
        )
    vgg = load_vgg19(weights)
    try:
        features = vgg.get_layer(layer_name).output
    except ValueError:
        raise ValueError(
            f"Received an invalid value for argument `layer`: VGG19 has no layer "
            f"{layer_name!r}; e.g. 'block2_conv2' (VGG22) or 'block5_conv4' (VGG54)."
        ) from None
    body = keras.Model(vgg.input, features, name=f"vgg19_{layer_name}")
    images = keras.Input((None, None, channels), name="images")
    x = VGGPreprocessing(name="vgg_preprocessing")(images)
    x = body(x)
    x = layers.Rescaling(feature_scale, name="feature_scale")(x)
    model = keras.Model(images, x, name="vgg19_features")
    model.trainable = False
    return model


# --- Content losses ---


@keras.saving.register_keras_serializable(package="keras_gans")
class ContentLoss:
    """A content loss: `loss(high_res, super_res)`, a float32 scalar, for images in
    [-1, 1]. `build(channels)` prepares what the loss needs (a feature extractor) before
    training; the config holds only what rebuilds it."""

    #: The extractor to save with the model (a user's network), or None.
    saved_network = None

    def build(self, channels):
        return self

    def __call__(self, high_res, super_res):
        raise NotImplementedError

    def get_config(self):
        return {}

    # The config round trip and repr of the adversarial loss objects: `cls(**config)`.
    from_config = losses_lib.AdversarialLoss.__dict__["from_config"]
    __repr__ = losses_lib.AdversarialLoss.__repr__


@keras.saving.register_keras_serializable(package="keras_gans")
class PixelMSE(ContentLoss):
    """Pixel-wise mean squared error `E[(y - y_hat)^2]` (`losses.pixel_mse_loss`;
    Ledig et al. 2017, equation 4: SRResNet's objective)."""

    def __call__(self, high_res, super_res):
        return losses_lib.pixel_mse_loss(high_res, super_res)


@keras.saving.register_keras_serializable(package="keras_gans")
class PixelL1(ContentLoss):
    """Pixel-wise mean absolute error `E[|y - y_hat|]` (`losses.pixel_l1_loss`; EDSR's
    objective, Lim et al. 2017, which trains to a higher PSNR than the MSE)."""

    def __call__(self, high_res, super_res):
        return losses_lib.pixel_l1_loss(high_res, super_res)


class _ExtractorLoss(ContentLoss):
    """MSE between feature maps, `E[(phi(y) - phi(y_hat))^2]` (`losses.feature_mse_loss`)."""

    extractor = None

    def __call__(self, high_res, super_res):
        if self.extractor is None:
            raise RuntimeError(f"{self!r} is not built: call `build(channels)` first.")
        extractor = self.extractor
        return losses_lib.feature_mse_loss(lambda x: extractor(x, training=False),
                                           high_res, super_res)


@keras.saving.register_keras_serializable(package="keras_gans")
class VGGFeatureLoss(_ExtractorLoss):
    """MSE between frozen VGG19 feature maps: SRGAN's perceptual content loss.

    `build_vgg19_features(weights, layer_name=layer, feature_scale=feature_scale)` is the
    extractor. Only `weights` (a name or path) is saved, not the 20M VGG weights: the
    extractor is rebuilt on `build`, so a machine without the weights can still load the
    model and upscale.

    Args:
        weights: `"imagenet"` (Keras's download-and-cache path, `~/.keras/models/`), the
            path of a local weights file of `VGG19(include_top=False)`, or `None`
            (random weights: tests only).
        layer: the VGG19 layer of the features: `"block5_conv4"` (VGG54, the paper's
            SRGAN) or e.g. `"block2_conv2"` (VGG22).
        feature_scale: factor on the features (1/12.75 in the paper).
    """

    def __init__(self, weights="imagenet", layer=VGG_LAYER, feature_scale=VGG_FEATURE_SCALE):
        self.weights = _check_vgg_weights(weights, must_exist=False)
        if not isinstance(layer, str) or not layer:
            raise ValueError("Received an invalid value for argument `layer`. Expected a "
                             f"VGG19 layer name, received: layer={layer!r}")
        if isinstance(feature_scale, bool) or not isinstance(feature_scale, (int, float)) \
                or feature_scale <= 0:
            raise ValueError("Received an invalid value for argument `feature_scale`. "
                             f"Expected a positive number, received: "
                             f"feature_scale={feature_scale!r}")
        self.layer = layer
        self.feature_scale = float(feature_scale)
        self.extractor = None

    def build(self, channels):
        if self.extractor is None:
            self.extractor = build_vgg19_features(self.weights, channels, self.layer,
                                                  self.feature_scale)
        return self

    def get_config(self):
        return {"weights": self.weights, "layer": self.layer,
                "feature_scale": self.feature_scale}


@keras.saving.register_keras_serializable(package="keras_gans")
class FeatureLoss(_ExtractorLoss):
    """MSE between the feature maps of a user's Keras model (frozen, saved with the
    model that holds the loss).

    Args:
        extractor: a `keras.Model` taking images in [-1, 1]; it does its own
            preprocessing.
    """

    def __init__(self, extractor):
        if not isinstance(extractor, keras.Model):
            raise TypeError("Received an invalid value for argument `extractor`. Expected "
                            f"a keras.Model, received: {type(extractor).__name__}")
        extractor.trainable = False
        self.extractor = self.saved_network = extractor

    def get_config(self):
        return {"extractor": keras.saving.serialize_keras_object(self.extractor)}

    @classmethod
    def from_config(cls, config):
        return cls(keras.saving.deserialize_keras_object(config["extractor"]))

    def __repr__(self):
        return f"FeatureLoss({self.extractor.name!r})"


def get(identifier, vgg_weights="imagenet"):
    """A content loss from a name (`"mse"`, `"l1"`, `"vgg19"` with `vgg_weights`), a
    `ContentLoss` (returned as is), a `keras.Model` (`FeatureLoss`) or a config dict."""
    if isinstance(identifier, ContentLoss):
        return identifier
    if isinstance(identifier, keras.Model):
        return FeatureLoss(identifier)
    if isinstance(identifier, dict) and "class_name" in identifier:
        loss = keras.saving.deserialize_keras_object(identifier)
        if isinstance(loss, keras.Model):  # files from before loss objects
            return FeatureLoss(loss)
        if isinstance(loss, ContentLoss):
            return loss
    if identifier == "vgg19":
        return VGGFeatureLoss(weights=vgg_weights)
    if identifier == "mse":
        return PixelMSE()
    if identifier == "l1":
        return PixelL1()
    raise ValueError(
        "Received an invalid value for argument `content_loss`. Expected 'mse', 'l1', 'vgg19', "
        f"a keras_gans.features.ContentLoss or a keras.Model, received: "
        f"content_loss={identifier!r}"
    )


def check_extractor(extractor, hr_size, channels):
    """Refuses a content loss's feature `extractor` that cannot take the model's
    high-resolution images (side `hr_size`, or 96 when the model fixes none)."""
    inputs = getattr(extractor, "inputs", None)
    shapes = [tuple(x.shape) for x in inputs] if inputs else None
    declared = shapes[0][1:] if shapes and len(shapes) == 1 and len(shapes[0]) == 4 else None
    side = hr_size or 96  # the paper's crops when the model fixes none
    expected = (declared[0] or side, declared[1] or side, channels) if declared and \
        hr_size is None else (side, side, channels)
    if shapes is not None and (declared is None or any(
            s is not None and s != e for s, e in zip(declared, expected))):
        raise ValueError(
            "Received an invalid value for argument `content_loss`: the feature "
            f"extractor takes inputs of shape {shapes}, which cannot take the "
            f"high-resolution images of shape {expected} (hr_size={hr_size}, "
            f"channels={channels})."
        )
    try:
        out = extractor(np.zeros((1, *expected), "float32"), training=False)
        size = int(np.prod(out.shape))
    except Exception as e:
        raise ValueError(
            "Received an invalid value for argument `content_loss`: the feature "
            f"extractor cannot take images of shape {expected} (hr_size={hr_size}, "
            f"channels={channels}): {type(e).__name__}: {e}"
        ) from e
    if size == 0:
        raise ValueError(
            "Received an invalid value for argument `content_loss`: the feature "
            f"extractor maps images of shape {expected} to an empty feature map "
            f"{tuple(out.shape)}; use larger patches (hr_size) or an earlier layer."
        )
