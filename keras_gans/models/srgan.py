"""SRGAN and SRResNet (Ledig et al. 2017, arXiv:1609.04802).

Builders for the paper's networks, the VGG19 feature extractor of the perceptual loss,
bicubic upscaling (the baseline every report shows), then the `SRGAN` model. Training
has the paper's two phases on the same model:

    gan = keras_gans.SRGAN(scale=4)
    gan.compile(phase="pretrain")                  # SRResNet: pixel MSE, G alone
    gan.fit(keras_gans.data.sr_pairs("photos/", scale=4, hr_size=96), epochs=...)
    gan.compile(phase="adversarial", vgg_weights="vgg19_notop.h5")   # keeps G's weights
    gan.fit(...)
    big = gan.upscale(photo_uint8)                 # uint8 in, uint8 out, any size

Low- and high-resolution images are float32 in [-1, 1] (or uint8), channels last.
"""

import math
import os

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from keras_gans import export as export_lib
from keras_gans import losses as losses_lib
from keras_gans import metrics as metrics_lib
from keras_gans import utils
from keras_gans.layers import BicubicUpsampling, PixelShuffle
from keras_gans.models.base import (
    AdversarialModel,
    _batch_pair,
    _check_bool,
    _check_positive_int,
    _network_input_shapes,
    _replica_logs,
)

SCALES = (2, 4, 8)
PHASES = ("pretrain", "adversarial")
CONTENT_LOSSES = ("mse", "vgg19")
#: The paper rescales VGG feature maps by 1/12.75 "to obtain VGG losses of a scale that
#: is comparable to the MSE loss" (section 2.2.1).
VGG_FEATURE_SCALE = 1.0 / 12.75
#: VGG54: the 4th convolution (after its ReLU) before the 5th max-pooling.
VGG_LAYER = "block5_conv4"
# Caffe-style VGG input: BGR, 0-255, ImageNet channel means subtracted.
_VGG_BGR_MEAN = (103.939, 116.779, 123.68)
# PyTorch's BatchNorm momentum (0.1, i.e. Keras 0.9), as most SRGAN code uses: Keras's
# 0.99 leaves the moving statistics far from the batch ones for thousands of steps.
_BN_MOMENTUM = 0.9
# `upscale` runs several images per call while their estimated working memory stays
# under this; one image always runs alone, however large.
_UPSCALE_CHUNK_BYTES = 512 * 2**20
# The working-memory estimate is the largest activation times this (its input, the
# activation itself and the tensor that consumes it are alive together).
_ACTIVATION_COPIES = 3


def _check_scale(scale):
    if isinstance(scale, bool) or scale not in SCALES:
        raise ValueError(
            "Received an invalid value for argument `scale`. Expected 2, 4 or 8, "
            f"received: scale={scale!r}"
        )
    return int(scale)


# --- Networks ---


def _prelu(name):
    # One slope per channel, shared over height and width: the network stays fully
    # convolutional (a per-pixel slope would fix the image size).
    return layers.PReLU(shared_axes=[1, 2], name=name)


def build_generator(scale=4, num_blocks=16, filters=64, channels=3, name="generator",
                    bicubic_skip=False):
    """The SRResNet generator of SRGAN (Ledig et al. 2017, figure 4).

    A 9x9 convolution and PReLU; `num_blocks` residual blocks (conv 3x3, batch norm,
    PReLU, conv 3x3, batch norm, skip); a conv + batch norm closed by a global skip from
    the first layer; `log2(scale)` sub-pixel stages (conv 3x3 to `4 * filters`,
    `PixelShuffle(2)`, PReLU); a 9x9 convolution to `channels` and a float32 tanh, so the
    output is in [-1, 1] like the package's images.

    With `bicubic_skip=True` (not in the paper; the global residual of VDSR, Kim et al.
    2016) the network predicts a correction to the bicubic upscaling of its input: the
    last convolution starts at zero, its output is added to the bicubic upscaling of the
    input (`keras_gans.layers.BicubicUpsampling`) and clipped to [-1, 1]
    (`hard_tanh`). The untrained network then is bicubic upscaling and every step of
    training improves on it, which matters when the training budget is far below the
    paper's.

    Fully convolutional: the input may have any height and width.

    Args:
        scale: upscaling factor, 2, 4 or 8.
        num_blocks: residual blocks `B` (16 in the paper).
        filters: feature maps of every hidden convolution (64 in the paper).
        channels: image channels.
        bicubic_skip: learn a residual over bicubic upscaling (see above).

    Returns:
        A functional `keras.Model`: `(B, h, w, C) -> (B, h * scale, w * scale, C)`.
    """
    scale = _check_scale(scale)
    for arg, value in (("num_blocks", num_blocks), ("filters", filters),
                       ("channels", channels)):
        _check_positive_int(arg, value)
    _check_bool("bicubic_skip", bicubic_skip)
    low_res = keras.Input((None, None, channels), name="low_res")
    x = layers.Conv2D(filters, 9, padding="same", name="head")(low_res)
    x = head = _prelu("head_prelu")(x)
    for i in range(num_blocks):
        y = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"res{i}_conv1")(x)
        y = layers.BatchNormalization(momentum=_BN_MOMENTUM, name=f"res{i}_bn1")(y)
        y = _prelu(f"res{i}_prelu")(y)
        y = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"res{i}_conv2")(y)
        y = layers.BatchNormalization(momentum=_BN_MOMENTUM, name=f"res{i}_bn2")(y)
        x = layers.Add(name=f"res{i}_add")([x, y])
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name="trunk_conv")(x)
    x = layers.BatchNormalization(momentum=_BN_MOMENTUM, name="trunk_bn")(x)
    x = layers.Add(name="global_skip")([head, x])
    for i in range(int(math.log2(scale))):
        x = layers.Conv2D(4 * filters, 3, padding="same", name=f"up{i}_conv")(x)
        x = PixelShuffle(2, name=f"up{i}_shuffle")(x)
        x = _prelu(f"up{i}_prelu")(x)
    if not bicubic_skip:
        x = layers.Conv2D(channels, 9, padding="same", name="to_image")(x)
        high_res = layers.Activation("tanh", dtype="float32", name="high_res")(x)
        return keras.Model(low_res, high_res, name=name)
    x = layers.Conv2D(channels, 9, padding="same", kernel_initializer="zeros",
                      dtype="float32", name="to_image")(x)
    upscaled = BicubicUpsampling(scale, dtype="float32", name="bicubic")(low_res)
    x = layers.Add(dtype="float32", name="bicubic_skip")([upscaled, x])
    high_res = layers.Activation("hard_tanh", dtype="float32", name="high_res")(x)
    return keras.Model(low_res, high_res, name=name)


def build_discriminator(hr_size=96, channels=3, filters=64, dense_units=1024,
                        name="discriminator"):
    """The SRGAN discriminator (Ledig et al. 2017, figure 4).

    3x3 convolutions with LeakyReLU(0.2): `filters` at stride 1, then seven blocks with
    batch norm going `filters` (stride 2), `2 filters` (1, 2), `4 filters` (1, 2),
    `8 filters` (1, 2); a dense layer of `dense_units`, LeakyReLU, and one logit (the
    paper's sigmoid lives in the loss).

    Args:
        hr_size: side of the (square) high-resolution patches it judges.
        channels: image channels.
        filters: width of the first convolution (64 in the paper).
        dense_units: width of the hidden dense layer (1024 in the paper).

    Returns:
        A functional `keras.Model`: `(B, hr_size, hr_size, C) -> (B, 1)` logits.
    """
    for arg, value in (("hr_size", hr_size), ("channels", channels), ("filters", filters),
                       ("dense_units", dense_units)):
        _check_positive_int(arg, value)
    images = keras.Input((hr_size, hr_size, channels), name="high_res")
    x = layers.Conv2D(filters, 3, padding="same", name="conv0")(images)
    x = layers.LeakyReLU(0.2, name="conv0_lrelu")(x)
    plan = [(filters, 2), (2 * filters, 1), (2 * filters, 2), (4 * filters, 1),
            (4 * filters, 2), (8 * filters, 1), (8 * filters, 2)]
    for i, (width, stride) in enumerate(plan, start=1):
        x = layers.Conv2D(width, 3, strides=stride, padding="same", use_bias=False,
                          name=f"conv{i}")(x)
        x = layers.BatchNormalization(momentum=_BN_MOMENTUM, name=f"conv{i}_bn")(x)
        x = layers.LeakyReLU(0.2, name=f"conv{i}_lrelu")(x)
    x = layers.Flatten(name="features")(x)
    x = layers.Dense(dense_units, name="dense")(x)
    x = layers.LeakyReLU(0.2, name="dense_lrelu")(x)
    x = layers.Dense(1, name="logit")(x)
    logits = layers.Activation("linear", dtype="float32", name="logits")(x)
    return keras.Model(images, logits, name=name)


# --- VGG19 feature extractor (the perceptual content loss) ---


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


def _load_vgg19(weights):
    if isinstance(weights, os.PathLike):
        weights = os.fspath(weights)
    if weights not in ("imagenet", None) and not (
        isinstance(weights, str) and os.path.isfile(weights)
    ):
        raise ValueError(
            "Received an invalid value for argument `vgg_weights`. Expected 'imagenet', "
            f"None or the path of an existing weights file, received: vgg_weights={weights!r}"
        )
    try:
        return keras.applications.VGG19(include_top=False, weights=weights,
                                        input_shape=(None, None, 3))
    except Exception as e:
        if weights != "imagenet":
            raise ValueError(
                f"Could not load VGG19 weights from vgg_weights={weights!r} "
                f"({type(e).__name__}: {e}). Expected the weights of "
                "`keras.applications.VGG19(include_top=False)`."
            ) from e
        raise RuntimeError(
            "Could not load the ImageNet weights of VGG19 through Keras's "
            f"download-and-cache path ({type(e).__name__}: {e}). Without internet "
            "access, pass a local weights file, e.g. "
            "`vgg_weights='vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5'` (the file "
            "Keras downloads), place that file in ~/.keras/models/, or use "
            "`content_loss='mse'`."
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
            f"channels={channels!r}. Use `content_loss='mse'` or your own feature model."
        )
    vgg = _load_vgg19(weights)
    try:
        features = vgg.get_layer(layer_name).output
    except ValueError:
        raise ValueError(
            f"Received an invalid value for argument `layer_name`: VGG19 has no layer "
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


class _ContentLoss:
    """The content loss of one `compile`: pixel MSE, or MSE between feature maps.

    A plain object, not a Keras layer: Keras neither tracks nor saves what it holds, so
    the 20M VGG19 weights are not written into every `.keras` file; the compile config
    records `content_loss="vgg19"` and `vgg_weights`, and the extractor is rebuilt.
    """

    def __init__(self, name, channels, extractor=None, vgg_weights=None):
        self.name = name
        self.channels = channels
        self.extractor = extractor
        self.vgg_weights = vgg_weights

    def build(self):
        if self.name == "vgg19" and self.extractor is None:
            self.extractor = build_vgg19_features(self.vgg_weights, channels=self.channels)
        return self.extractor

    def __call__(self, high_res, super_res):
        if self.extractor is None:
            return losses_lib.pixel_mse_loss(high_res, super_res)
        extractor = self.extractor
        return losses_lib.feature_mse_loss(lambda x: extractor(x, training=False),
                                           high_res, super_res)


# --- Bicubic baseline ---


def _check_images(images, argument, channels=None):
    """An array `(N, H, W, C)` (a single `(H, W, C)` image gains a batch axis)."""
    images = np.asarray(images)
    expected = f"C={channels}" if channels else "any C"
    if images.ndim not in (3, 4) or images.size == 0 or (
            channels is not None and images.shape[-1] != channels):
        raise ValueError(
            f"Received an invalid value for argument `{argument}`. Expected an image "
            f"(H, W, C) or a batch (N, H, W, C) with {expected}, received an array of "
            f"shape {images.shape}."
        )
    if images.dtype != np.uint8 and not np.issubdtype(images.dtype, np.floating):
        raise TypeError(
            f"Received an invalid value for argument `{argument}`. Expected uint8 images "
            f"(0-255) or float images in [-1, 1], received dtype {images.dtype}."
        )
    single = images.ndim == 3
    return (images[None] if single else images), single


def bicubic_upscale(images, scale):
    """Bicubic upscaling by `scale`: the baseline of every super-resolution report.

    `tf.image.resize(method="bicubic")` (Keys' cubic convolution, a = -0.5), clipped to
    the valid range.

    Args:
        images: uint8 images, or float images in [-1, 1]; `(H, W, C)` or `(N, H, W, C)`.
        scale: positive integer factor.

    Returns:
        The upscaled images with the input's convention: uint8 for uint8 input, float32
        in [-1, 1] otherwise; shape `(..., H * scale, W * scale, C)`.
    """
    _check_positive_int("scale", scale)
    batch, single = _check_images(images, "images")
    is_uint8 = batch.dtype == np.uint8
    x = utils.to_float(batch)
    height, width = x.shape[1:3]
    out = tf.image.resize(x, (height * scale, width * scale), method="bicubic")
    out = np.clip(out.numpy(), -1.0, 1.0)
    out = utils.to_uint8(out) if is_uint8 else out.astype("float32")
    return out[0] if single else out


# --- Memory estimates for `upscale` ---


def _available_memory():
    """Bytes of memory this process can still allocate (`utils.available_memory`)."""
    return utils.available_memory()


def _activation_floats_per_input_pixel(generator):
    """The generator's largest activation, in floats per input pixel (0 if unknown).

    Walks a functional generator's layers, tracking how much each has upsampled, so
    a 256-channel map at twice the input resolution counts 1024 floats per pixel.
    """
    factor, peak = 1.0, 0.0
    for layer in getattr(generator, "layers", []):
        if isinstance(layer, PixelShuffle):
            factor *= layer.block_size
        elif isinstance(layer, layers.UpSampling2D):
            factor *= layer.size[0]
        elif isinstance(layer, layers.Conv2DTranspose):
            factor *= layer.strides[0]
        elif isinstance(layer, (layers.Conv2D, layers.MaxPooling2D, layers.AveragePooling2D)):
            factor /= layer.strides[0]
        try:
            channels = layer.output.shape[-1]
        except (AttributeError, ValueError):
            continue
        if channels:
            peak = max(peak, channels * factor**2)
    return peak


def _resolve_hr_size(discriminator, hr_size, scale, channels):
    shapes = _network_input_shapes(discriminator) if discriminator is not None else None
    inferred = None
    if shapes:
        if len(shapes) != 1:
            raise ValueError(
                "The discriminator must take one input (high-resolution images); "
                f"received one with input shapes {shapes}."
            )
        height, width, d_channels = shapes[0][1:]
        if d_channels is not None and d_channels != channels:
            raise ValueError(
                f"The discriminator takes {d_channels}-channel images but the generator "
                f"makes {channels}-channel ones (input shapes: {shapes})."
            )
        if height is not None and height != width:
            raise ValueError(
                "The discriminator must take square patches (hr_size x hr_size); "
                f"received one with input shape {shapes[0]}."
            )
        inferred = height
    if hr_size is not None and inferred is not None and hr_size != inferred:
        raise ValueError(
            f"Argument `hr_size`={hr_size} does not match the discriminator's input "
            f"shape {shapes[0]}."
        )
    hr_size = int(hr_size or inferred or 96)
    if hr_size % scale:
        raise ValueError(
            "Received an invalid value for argument `hr_size`. Expected a multiple of "
            f"scale={scale}, received: hr_size={hr_size}"
        )
    return hr_size


# --- The model ---


@keras.saving.register_keras_serializable(package="keras_gans")
class SRGAN(AdversarialModel):
    """Photo-realistic single-image super-resolution (Ledig et al. 2017), trained with `fit`.

    Holds the SRResNet generator and the discriminator. `compile(phase="pretrain")`
    trains the generator alone on a content loss (pixel MSE by default: SRResNet);
    `compile(phase="adversarial")` adds the discriminator, the generator minimising
    `l_content + adversarial_weight * l_adversarial` (equation 3, the non-saturating
    loss `-log D(G(x))`). Switching phase keeps every weight. The dataset yields
    `(low_res, high_res)` pairs (`keras_gans.data.sr_pairs`), float32 in [-1, 1] or
    uint8, the high-resolution side `scale` times the low.

    Logged metrics: `content_loss` and `psnr` (dB, RGB, on the training patches) in the
    pretrain phase; `d_loss`, `g_loss` (the total), `content_loss`, `adversarial_loss`,
    `d_real` = D(x) and `d_fake` = D(G(x_lr)) (mean probabilities) in the adversarial
    one.

    Args:
        generator: a Keras model mapping `(B, h, w, C)` to `(B, h * scale, w * scale, C)`
            in [-1, 1]; `None` builds `build_generator(scale, num_blocks, filters,
            channels)`.
        discriminator: a Keras model mapping `(B, hr_size, hr_size, C)` to one logit per
            image; `None` builds `build_discriminator(hr_size, channels, d_filters,
            dense_units)`.
        scale: the upscaling factor, 2, 4 or 8.
        num_blocks: residual blocks of the built generator (16 in the paper).
        filters: width of the built generator (64 in the paper).
        d_filters: width of the first layer of the built discriminator (64).
        dense_units: hidden dense width of the built discriminator (1024).
        channels: image channels; inferred from a given generator, else 3.
        hr_size: side of the high-resolution training patches the discriminator takes;
            inferred from a given discriminator, else 96 (the paper's crops). Must be a
            multiple of `scale`.
        bicubic_skip: the built generator learns a correction to bicubic upscaling
            (`build_generator(bicubic_skip=True)`; not in the paper). It starts as
            bicubic and trains to beat it in far fewer steps.

    Example:

    ```python
    gan = keras_gans.SRGAN(scale=4, num_blocks=8, filters=32, hr_size=64)
    pairs = keras_gans.data.sr_pairs("photos/", scale=4, hr_size=64, repeat=True)
    gan.compile(phase="pretrain")
    gan.fit(pairs, steps_per_epoch=1000, epochs=10)
    gan.compile(phase="adversarial", vgg_weights="vgg19_notop.h5")
    gan.fit(pairs, steps_per_epoch=1000, epochs=10)
    sr = gan.upscale(photo)                      # (4H, 4W, 3), same dtype convention
    gan.evaluate_quality(low_res, high_res)      # PSNR / SSIM beside bicubic
    ```
    """

    #: Paper setting: Adam, learning rate 1e-4, beta_1 0.9 (both networks, both phases).
    default_optimizer = {"learning_rate": 1e-4, "beta_1": 0.9, "beta_2": 0.999}  # noqa: RUF012
    #: Largest `upscale` output (images x height x width) allowed; `None`: only the
    #: memory estimate limits it. Set it on the instance or pass it to `upscale`.
    max_output_pixels = None

    network_names = ("generator", "discriminator")
    primary_optimizer = "g_optimizer"

    def __init__(self, generator=None, discriminator=None, scale=4, num_blocks=16, filters=64,
                 d_filters=64, dense_units=1024, channels=None, hr_size=None,
                 bicubic_skip=False, seed=None, **kwargs):
        scale = _check_scale(scale)
        for arg, value in (("num_blocks", num_blocks), ("filters", filters),
                           ("d_filters", d_filters), ("dense_units", dense_units)):
            _check_positive_int(arg, value)
        _check_positive_int("channels", channels, allow_none=True)
        _check_positive_int("hr_size", hr_size, allow_none=True)
        for name, net in (("generator", generator), ("discriminator", discriminator)):
            if net is not None and not isinstance(net, keras.Model):
                raise TypeError(
                    f"Received an invalid value for argument `{name}`. Expected a "
                    f"keras.Model or None, received: {type(net).__name__}"
                )
        bicubic_skip = _check_bool("bicubic_skip", bicubic_skip)
        given_generator = generator is not None
        channels = self._resolve_channels(generator, channels)
        hr_size = _resolve_hr_size(discriminator, hr_size, scale, channels)
        if generator is None:
            generator = build_generator(scale, num_blocks, filters, channels,
                                        bicubic_skip=bicubic_skip)
        if discriminator is None:
            discriminator = build_discriminator(hr_size, channels, d_filters, dense_units)
        super().__init__({"generator": generator, "discriminator": discriminator},
                         seed=seed, **kwargs)
        self.scale = scale
        self.num_blocks = int(num_blocks)
        self.filters = int(filters)
        self.d_filters = int(d_filters)
        self.dense_units = int(dense_units)
        self.bicubic_skip = bicubic_skip
        self.channels = channels
        self.hr_size = hr_size
        if given_generator:
            self._check_generator(generator)

        self.content_loss_tracker = keras.metrics.Mean(name="content_loss")
        self.psnr_tracker = keras.metrics.Mean(name="psnr")
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.adversarial_loss_tracker = keras.metrics.Mean(name="adversarial_loss")
        self.d_real_tracker = keras.metrics.Mean(name="d_real")
        self.d_fake_tracker = keras.metrics.Mean(name="d_fake")
        self.phase = None
        self.d_optimizer = None
        self.adversarial_weight = None
        self._content_loss = None
        self._defer_feature_extractor = False
        self._upscale_fn = None

    @property
    def optimizer_networks(self):
        """The generator's optimizer; the discriminator's too in the adversarial phase."""
        if getattr(self, "phase", None) == "adversarial":
            return {"g_optimizer": ("generator",), "d_optimizer": ("discriminator",)}
        return {"g_optimizer": ("generator",)}

    def load_own_variables(self, store):
        # Files from before the base class hold no step counter: it stays at 0.
        if len(store.keys()):
            super().load_own_variables(store)

    # --- Construction helpers ---

    @staticmethod
    def _resolve_channels(generator, channels):
        shapes = _network_input_shapes(generator) if generator is not None else None
        inferred = shapes[0][-1] if shapes and len(shapes) == 1 else None
        if channels is not None and inferred is not None and channels != inferred:
            raise ValueError(
                f"Argument `channels`={channels} does not match the generator's input, "
                f"which has {inferred} channels (input shapes: {shapes})."
            )
        return int(channels or inferred or 3)

    def _check_generator(self, generator):
        shapes = _network_input_shapes(generator)
        if shapes is not None and len(shapes) != 1:
            raise ValueError(
                "The generator must take one input (low-resolution images); received one "
                f"with input shapes {shapes}."
            )
        height, width = (shapes[0][1:3] if shapes else (None, None))
        probe = (1, height or 8, width or 8, self.channels)
        try:
            out_shape = tuple(generator(np.zeros(probe, "float32"), training=False).shape)
        except Exception as e:
            raise ValueError(
                f"The generator cannot take low-resolution images of shape {probe}: "
                f"{type(e).__name__}: {e}"
            ) from e
        expected = (1, probe[1] * self.scale, probe[2] * self.scale, self.channels)
        if out_shape != expected:
            raise ValueError(
                f"The generator must upscale by scale={self.scale}: an input of shape "
                f"{probe} gave an output of shape {out_shape}, expected {expected}."
            )

    # --- Config ---

    def model_options(self):
        return {"scale": self.scale, "num_blocks": self.num_blocks, "filters": self.filters,
                "d_filters": self.d_filters, "dense_units": self.dense_units,
                "channels": self.channels, "hr_size": self.hr_size,
                "bicubic_skip": self.bicubic_skip}

    # --- Compile ---

    def compile(self, phase="pretrain", content_loss=None, g_optimizer=None, d_optimizer=None,
                adversarial_weight=1e-3, vgg_weights="imagenet", **kwargs):
        """Choose the training phase, the content loss and the optimizers.

        Args:
            phase: `"pretrain"` (the generator alone on the content loss: SRResNet) or
                `"adversarial"` (generator and discriminator: SRGAN). Recompiling with
                another phase keeps the networks' weights.
            content_loss: `"mse"` (pixel MSE, equation 4), `"vgg19"` (MSE between
                VGG19 `block5_conv4` features rescaled by 1/12.75, equation 5) or a
                `keras.Model` used as the feature extractor (it receives images in
                [-1, 1], is frozen, and is saved with the model). Defaults to `"mse"`
                for the pretrain phase and `"vgg19"` (the paper's SRGAN-VGG54) for the
                adversarial one.
            g_optimizer: the generator's optimizer (instance, name or config); default
                Adam(1e-4, beta_1=0.9), the paper's. A new one on every compile unless
                passed.
            d_optimizer: the discriminator's optimizer (adversarial phase only); same
                default.
            adversarial_weight: weight of the adversarial loss in the generator's loss
                (1e-3 in the paper).
            vgg_weights: weights of the VGG19 content loss: `"imagenet"` (Keras's
                download-and-cache path, `~/.keras/models/`) or the path of a local
                weights file of `VGG19(include_top=False)`. Only its name is saved with
                the model; the extractor is rebuilt from it on load.
            **kwargs: passed on to `keras.Model.compile` (`run_eagerly`, `jit_compile`,
                `steps_per_execution`).
        """
        if phase not in PHASES:
            raise ValueError(
                "Received an invalid value for argument `phase`. Expected one of "
                f"{PHASES}, received: phase={phase!r}"
            )
        if phase == "pretrain" and d_optimizer is not None:
            raise ValueError(
                "Argument `d_optimizer` is only used in phase='adversarial'; received "
                f"phase='pretrain' and d_optimizer={d_optimizer!r}."
            )
        if isinstance(adversarial_weight, bool) or not isinstance(
                adversarial_weight, (int, float)) or adversarial_weight < 0:
            raise ValueError(
                "Received an invalid value for argument `adversarial_weight`. Expected a "
                f"non-negative number, received: adversarial_weight={adversarial_weight!r}"
            )
        if content_loss is None:
            content_loss = "mse" if phase == "pretrain" else "vgg19"
        if isinstance(vgg_weights, os.PathLike):
            vgg_weights = os.fspath(vgg_weights)
        self._set_content_loss(content_loss, vgg_weights)

        self.phase = phase
        self.adversarial_weight = float(adversarial_weight)
        self._upscale_fn = None
        if phase == "adversarial":
            kwargs["d_optimizer"] = d_optimizer
        else:
            self.d_optimizer = None
        super().compile(g_optimizer=g_optimizer, **kwargs)

    def _set_content_loss(self, content_loss, vgg_weights):
        if isinstance(content_loss, keras.Model):
            self._check_feature_extractor(content_loss)
            content_loss.trainable = False
            self._track_content_extractor(content_loss)
            self._content_loss = _ContentLoss("custom", self.channels, content_loss)
            return
        if content_loss not in CONTENT_LOSSES:
            raise ValueError(
                "Received an invalid value for argument `content_loss`. Expected 'mse', "
                f"'vgg19' or a keras.Model, received: content_loss={content_loss!r}"
            )
        self._track_content_extractor(None)
        loss = _ContentLoss(content_loss, self.channels, vgg_weights=vgg_weights)
        if content_loss == "vgg19":
            if self._defer_feature_extractor:
                # Loading a saved model: build VGG19 on the first fit / evaluate, so
                # that a machine without its weights can still load and upscale.
                _check_vgg_weights_arg(vgg_weights)
            else:
                self._check_feature_extractor(loss.build())
        self._content_loss = loss

    def _track_content_extractor(self, extractor):
        """Saves a user's feature extractor with the model; untracks a replaced one."""
        old = getattr(self, "content_extractor", None)
        if old is extractor:
            return
        if old is not None:
            if old in self._layers:
                self._layers.remove(old)
            del self.content_extractor
        if extractor is not None:
            self.content_extractor = extractor

    def _check_feature_extractor(self, extractor):
        """The extractor must take this model's high-resolution images."""
        expected = (self.hr_size, self.hr_size, self.channels)
        shapes = _network_input_shapes(extractor)
        if shapes is not None:
            ok = len(shapes) == 1 and len(shapes[0]) == 4 and all(
                s is None or s == e for s, e in zip(shapes[0][1:], expected))
            if not ok:
                raise ValueError(
                    "Received an invalid value for argument `content_loss`: the feature "
                    f"extractor takes inputs of shape {shapes}, which cannot take this "
                    f"SRGAN's high-resolution images of shape {expected} "
                    f"(hr_size={self.hr_size}, channels={self.channels})."
                )
        try:
            out = extractor(np.zeros((1, *expected), "float32"), training=False)
            size = int(np.prod(out.shape))
        except Exception as e:
            raise ValueError(
                "Received an invalid value for argument `content_loss`: the feature "
                f"extractor cannot take images of shape {expected} (hr_size="
                f"{self.hr_size}, channels={self.channels}): {type(e).__name__}: {e}"
            ) from e
        if size == 0:
            raise ValueError(
                "Received an invalid value for argument `content_loss`: the feature "
                f"extractor maps images of shape {expected} to an empty feature map "
                f"{tuple(out.shape)}; use larger patches (hr_size) or an earlier layer."
            )

    @property
    def content_loss_name(self):
        """`"mse"`, `"vgg19"` or `"custom"` (a user's feature extractor); `None` before
        `compile`."""
        return None if self._content_loss is None else self._content_loss.name

    def compile_options(self):
        if self._content_loss.name == "custom":
            content_loss = keras.saving.serialize_keras_object(self._content_loss.extractor)
        else:
            content_loss = self._content_loss.name
        return {"phase": self.phase, "content_loss": content_loss,
                "adversarial_weight": self.adversarial_weight,
                "vgg_weights": self._content_loss.vgg_weights}

    def compile_from_config(self, config):
        self._defer_feature_extractor = True
        try:
            super().compile_from_config(config)
        finally:
            self._defer_feature_extractor = False

    def make_train_function(self, force=False):
        self._build_content_loss()
        return super().make_train_function(force)

    def make_test_function(self, force=False):
        self._build_content_loss()
        return super().make_test_function(force)

    def _build_content_loss(self):
        if self._content_loss is not None:
            self._content_loss.build()

    @property
    def metrics(self):
        if self.phase == "adversarial":
            return [self.d_loss_tracker, self.g_loss_tracker, self.content_loss_tracker,
                    self.adversarial_loss_tracker, self.d_real_tracker, self.d_fake_tracker]
        return [self.content_loss_tracker, self.psnr_tracker]

    # --- Train step ---

    def _unpack(self, data):
        pair = _batch_pair(data, ("low_res", "high_res"))
        if pair is None:
            raise ValueError(
                "SRGAN trains on (low_res, high_res) pairs, e.g. "
                "`keras_gans.data.sr_pairs(...)` or `fit(low_res, high_res)`; received "
                f"{type(data).__name__} data without high-resolution targets."
            )
        low, high = pair
        low, high = _as_float(low), _as_float(high)
        low_shape, high_shape = tuple(low.shape), tuple(high.shape)
        if len(low_shape) != 4 or len(high_shape) != 4:
            raise ValueError(
                "Expected batches of images (N, H, W, C); received low_res of shape "
                f"{low_shape} and high_res of shape {high_shape}."
            )
        bad = any(lo is not None and hi is not None and hi != lo * self.scale
                  for lo, hi in zip(low_shape[1:3], high_shape[1:3]))
        bad = bad or any(c is not None and c != self.channels
                         for c in (low_shape[3], high_shape[3]))
        if bad:
            raise ValueError(
                f"The high-resolution images must be scale={self.scale} times the "
                f"low-resolution ones, both with {self.channels} channels; received "
                f"low_res of shape {low_shape} and high_res of shape {high_shape}."
            )
        return low, high

    def _check_discriminator_input(self, high):
        expected = tuple(self.discriminator.inputs[0].shape[1:]) \
            if getattr(self.discriminator, "inputs", None) else None
        got = tuple(high.shape[1:])
        if expected and any(e is not None and g is not None and e != g
                            for e, g in zip(expected, got)):
            raise ValueError(
                f"The adversarial phase needs high-resolution patches of shape {expected} "
                f"(hr_size={self.hr_size}), the discriminator's input; received "
                f"high_res of shape {tuple(high.shape)}. Use "
                f"`keras_gans.data.sr_pairs(..., hr_size={self.hr_size})`."
            )

    @staticmethod
    def _psnr(high, super_res):
        # Images span [-1, 1]: a peak-to-peak range of 2.
        return tf.reduce_mean(tf.image.psnr(tf.cast(super_res, "float32"),
                                            tf.cast(high, "float32"), max_val=2.0))

    def train_step(self, data):
        low, high = self._unpack(data)
        g_vars = self.generator.trainable_variables
        if self.phase == "pretrain":
            with tf.GradientTape() as tape:
                super_res = self.generator(low, training=True)
                content = self._content_loss(high, super_res)
                # Inside the tape: an op outside it would cut the gradient.
                scaled = self._loss_for_gradients(content, self.g_optimizer)
            grads = tape.gradient(scaled, g_vars)
            self.g_optimizer.apply(grads, g_vars)
            self.content_loss_tracker.update_state(content)
            self.psnr_tracker.update_state(self._psnr(high, super_res))
            return _replica_logs(self.metrics)

        self._check_discriminator_input(high)
        d_vars = self.discriminator.trainable_variables
        # One generator pass serves both updates: the discriminator sees it detached,
        # and the generator's tape is re-entered after the discriminator's update so
        # its adversarial term is judged by the updated discriminator (the paper's
        # alternating scheme, k = 1).
        with tf.GradientTape() as g_tape:
            super_res = self.generator(low, training=True)
            content = self._content_loss(high, super_res)
        with tf.GradientTape() as d_tape:
            real_out = self.discriminator(high, training=True)
            fake_out = self.discriminator(tf.stop_gradient(super_res), training=True)
            d_loss = losses_lib.minimax_discriminator_loss(real_out, fake_out)
            scaled = self._loss_for_gradients(d_loss, self.d_optimizer)
        grads = d_tape.gradient(scaled, d_vars)
        self.d_optimizer.apply(grads, d_vars)
        with g_tape:
            adversarial = losses_lib.non_saturating_generator_loss(
                self.discriminator(super_res, training=True))
            g_loss = content + self.adversarial_weight * adversarial
            scaled = self._loss_for_gradients(g_loss, self.g_optimizer)
        grads = g_tape.gradient(scaled, g_vars)
        self.g_optimizer.apply(grads, g_vars)
        self._update_adversarial_metrics(d_loss, g_loss, content, adversarial, real_out,
                                         fake_out)
        return _replica_logs(self.metrics)

    def _update_adversarial_metrics(self, d_loss, g_loss, content, adversarial, real_out,
                                    fake_out):
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        self.content_loss_tracker.update_state(content)
        self.adversarial_loss_tracker.update_state(adversarial)
        self.d_real_tracker.update_state(tf.reduce_mean(tf.sigmoid(tf.cast(real_out,
                                                                           "float32"))))
        self.d_fake_tracker.update_state(tf.reduce_mean(tf.sigmoid(tf.cast(fake_out,
                                                                           "float32"))))

    def test_step(self, data):
        # `fit(validation_data=...)` and `evaluate` report the losses without updating.
        low, high = self._unpack(data)
        super_res = self.generator(low, training=False)
        content = self._content_loss(high, super_res)
        if self.phase == "pretrain":
            self.content_loss_tracker.update_state(content)
            self.psnr_tracker.update_state(self._psnr(high, super_res))
        else:
            self._check_discriminator_input(high)
            real_out = self.discriminator(high, training=False)
            fake_out = self.discriminator(super_res, training=False)
            d_loss = losses_lib.minimax_discriminator_loss(real_out, fake_out)
            adversarial = losses_lib.non_saturating_generator_loss(fake_out)
            g_loss = content + self.adversarial_weight * adversarial
            self._update_adversarial_metrics(d_loss, g_loss, content, adversarial, real_out,
                                             fake_out)
        return _replica_logs(self.metrics)

    def call(self, inputs, training=False):
        """Runs the generator: low-resolution images to high-resolution ones."""
        return self.generator(inputs, training=training)

    # --- Upscaling ---

    def _get_upscale_fn(self):
        if self._upscale_fn is None:
            generator = self.generator

            # No Python control flow to convert; autograph would also warn about the
            # closure when a second model defines the same function.
            @tf.function(input_signature=[
                tf.TensorSpec([None, None, None, self.channels], tf.float32)],
                autograph=False)
            def fn(images):
                return tf.cast(generator(images, training=False), tf.float32)

            self._upscale_fn = fn
        return self._upscale_fn

    def _working_bytes_per_input_pixel(self):
        floats = _activation_floats_per_input_pixel(self.generator)
        if not floats:  # a subclassed generator: assume the built-in's widest stage
            floats = max(self.filters, self.channels) * self.scale**2
        return 4 * _ACTIVATION_COPIES * floats

    def upscale(self, images, max_output_pixels=None):
        """Super-resolve images of any size: `(H, W, C) -> (H * scale, W * scale, C)`.

        The whole image goes through the fully convolutional generator at once (no
        tiles, so no seams), several images per call when they are small. Runs a cached
        `tf.function`, not `predict`.

        Args:
            images: one image `(H, W, C)`, a batch `(N, H, W, C)`, or a list of images
                of different sizes; uint8 (0-255) or float in [-1, 1].
            max_output_pixels: refuse requests whose output has more pixels (`N * H *
                W * scale**2`) than this; defaults to the attribute `max_output_pixels`
                (`None`: only the memory estimate limits the request).

        Returns:
            The same structure and dtype convention as the input: uint8 for uint8 input,
            float32 in [-1, 1] for float input (a list for a list).

        Raises:
            ValueError: bad images, or more output pixels than `max_output_pixels`.
            MemoryError: when the output and the generator's activations would not fit
                in the available memory (checked before anything is allocated).
        """
        if isinstance(images, (list, tuple)):
            arrays = [np.asarray(image) for image in images]
            if len({a.shape for a in arrays}) > 1:
                return [self.upscale(a, max_output_pixels) for a in arrays]
            images = np.stack(arrays) if arrays else np.asarray(arrays)
        batch, single = _check_images(images, "images", self.channels)
        is_uint8 = batch.dtype == np.uint8
        per_image = self._check_upscale_memory(batch.shape, is_uint8, max_output_pixels)
        chunk = max(1, _UPSCALE_CHUNK_BYTES // per_image)
        fn = self._get_upscale_fn()
        out = []
        for start in range(0, batch.shape[0], chunk):
            x = utils.to_float(batch[start:start + chunk])
            try:
                y = fn(tf.constant(x)).numpy()
            except tf.errors.ResourceExhaustedError as e:
                raise MemoryError(
                    f"Out of memory upscaling images of shape {tuple(batch.shape)} by "
                    f"scale={self.scale} ({chunk} image(s) per call): {e.message[:200]}"
                ) from None
            out.append(utils.to_uint8(y) if is_uint8 else y)
        result = np.concatenate(out, axis=0) if len(out) > 1 else out[0]
        return result[0] if single else result

    def _check_upscale_memory(self, shape, is_uint8, max_output_pixels):
        """Refuses a request that would not fit; returns the working bytes per image."""
        n, height, width, channels = shape
        s = self.scale
        output_pixels = n * height * s * width * s
        limit = self.max_output_pixels if max_output_pixels is None else max_output_pixels
        if limit is not None and output_pixels > limit:
            raise ValueError(
                f"Upscaling images of shape {tuple(shape)} by scale={s} would produce "
                f"{output_pixels:,} output pixels ({n} x {height * s} x {width * s}), more "
                f"than max_output_pixels={limit:,}. Pass fewer or smaller images."
            )
        per_image = math.ceil(self._working_bytes_per_input_pixel() * height * width)
        output_bytes = output_pixels * channels * (1 if is_uint8 else 4)
        # The working set of one call, the float result of that call, and the result.
        needed = per_image + output_bytes + 4 * height * s * width * s * channels
        available = _available_memory()
        if available is not None and needed > available:
            raise MemoryError(
                f"Upscaling images of shape {tuple(shape)} by scale={s} needs about "
                f"{needed / 2**30:.1f} GiB (the {n} x {height * s} x {width * s} output and "
                f"the generator's activations) but only {available / 2**30:.1f} GiB of "
                "memory is available. Pass fewer or smaller images."
            )
        return per_image

    # --- Evaluation ---

    def evaluate_quality(self, low_res, high_res, crop_border=None):
        """PSNR and SSIM of the model and of bicubic upscaling against the originals.

        Both on RGB and on the BT.601 luma (Y) channel, with `crop_border` pixels
        removed from each side (the SR literature's convention: `scale`), via
        `keras_gans.metrics.psnr` / `ssim`.

        Args:
            low_res: low-resolution images, uint8 or float in [-1, 1].
            high_res: the originals, `scale` times larger, same convention.
            crop_border: pixels cropped per side; defaults to `scale`.

        Returns:
            `{"model": {...}, "bicubic": {...}}`, each with `psnr_rgb`, `ssim_rgb` and,
            for 3-channel images, `psnr_y`, `ssim_y` (means over the images).
        """
        crop = self.scale if crop_border is None else crop_border
        high_batch, _ = _check_images(high_res, "high_res", self.channels)
        low_batch, _ = _check_images(low_res, "low_res", self.channels)
        expected = (low_batch.shape[0], low_batch.shape[1] * self.scale,
                    low_batch.shape[2] * self.scale, self.channels)
        if high_batch.shape != expected:
            raise ValueError(
                f"Argument `high_res` must be scale={self.scale} times `low_res`: expected "
                f"shape {expected}, received {high_batch.shape}."
            )
        report = {}
        for name, pred in (("model", self.upscale(low_batch)),
                           ("bicubic", bicubic_upscale(low_batch, self.scale))):
            scores = {
                "psnr_rgb": metrics_lib.psnr(pred, high_batch, crop_border=crop),
                "ssim_rgb": metrics_lib.ssim(pred, high_batch, crop_border=crop),
            }
            if self.channels == 3:
                scores["psnr_y"] = metrics_lib.psnr(pred, high_batch, y_channel=True,
                                                    crop_border=crop)
                scores["ssim_y"] = metrics_lib.ssim(pred, high_batch, y_channel=True,
                                                    crop_border=crop)
            report[name] = scores
        return report

    # --- Declarations ---

    def serving_signatures(self):
        """`upscale`: uint8 images of any size -> `scale` times larger (see
        `keras_gans.export`)."""
        endpoint = export_lib.image_to_image_signature("upscale", self.generator,
                                                       scale=self.scale)
        return {"endpoints": [endpoint],
                "metadata": {"family": "srgan", "scale": self.scale,
                             "channels": int(endpoint[2][0].shape[-1]),
                             "size_multiple": export_lib.size_multiple(self.generator)}}

    def preview(self, low_res, high_res=None):
        """`{"upscale": [bicubic, model, (original)]}` for low-resolution inputs."""
        low_res = utils.to_float(np.asarray(low_res))
        columns = [bicubic_upscale(low_res, self.scale), self.upscale(low_res)]
        if high_res is not None:
            columns.append(utils.to_float(np.asarray(high_res)))
        return {"upscale": columns}

    def fingerprint(self):
        shape = (2, 8, 8, self.channels)
        images = np.linspace(-1, 1, int(np.prod(shape)), dtype="float32").reshape(shape)
        return f"upscale(linspace(-1, 1) as {shape})", self.upscale(images)


def _check_vgg_weights_arg(vgg_weights):
    if vgg_weights not in ("imagenet", None) and not isinstance(vgg_weights, str):
        raise ValueError(
            "Received an invalid value for argument `vgg_weights`. Expected 'imagenet' or "
            f"a file path, received: vgg_weights={vgg_weights!r}"
        )


def _as_float(images):
    """Batches from a dataset: uint8 to [-1, 1] floats, anything else to float32."""
    if images.dtype == tf.uint8:
        return tf.cast(images, tf.float32) / 127.5 - 1.0
    return tf.cast(images, tf.float32)

