"""SRResNet (Ledig et al. 2017, arXiv:1609.04802): the super-resolution generator trained
alone on a content loss, the first phase of SRGAN (`keras_gans.models.srgan`).

The file reads top to bottom: the generator (`build_generator`), the `SRResNet` model
(training, `upscale`, quality report, serving declarations), then helpers SRGAN shares.

    srresnet = keras_gans.SRResNet(scale=4)
    srresnet.compile()
    srresnet.fit(keras_gans.data.sr_pairs("photos/", scale=4, hr_size=96), epochs=...)
    big = srresnet.upscale(photo_uint8)                # uint8 in, uint8 out, any size

Content losses are objects of `keras_gans.features` (`PixelMSE`, `VGGFeatureLoss`,
`FeatureLoss`); bicubic upscaling is `keras_gans.utils.bicubic_upscale`, memory
planning `keras_gans.memory`. Images are float32 in [-1, 1] (or uint8), channels last.
"""

import math
import warnings

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from keras_gans import export as export_lib
from keras_gans import features, memory, utils
from keras_gans import metrics as metrics_lib
from keras_gans.layers import BicubicUpsampling, FusedBatchNormalization, PixelShuffle
from keras_gans.models.base import (
    AdversarialModel,
    _batch_pair,
    _check_bool,
    _check_positive_int,
    _network_input_shapes,
    _replica_logs,
)
from keras_gans.utils import bicubic_upscale, check_images

SCALES = (2, 4, 8)
# PyTorch's BatchNorm momentum (0.1, i.e. Keras 0.9), as most SRGAN code uses: Keras's
# 0.99 leaves the moving statistics far from the batch ones for thousands of steps.
_BN_MOMENTUM = 0.9
# `upscale` runs several images per call while their estimated working memory stays
# under this; one image always runs alone, however large.
_UPSCALE_CHUNK_BYTES = 512 * 2**20
# `compile` options of the former single SRGAN, read from old files (and, deprecated,
# accepted by `compile`): the phase string and the content loss by name.
_LEGACY_COMPILE_OPTIONS = ("phase", "content_loss", "vgg_weights", "adversarial_weight")


def _check_scale(scale):
    if isinstance(scale, bool) or scale not in SCALES:
        raise ValueError(
            "Received an invalid value for argument `scale`. Expected 2, 4 or 8, "
            f"received: scale={scale!r}"
        )
    return int(scale)


# --- Networks ---


UPSAMPLINGS = ("subpixel", "resize")


def _check_upsampling(upsampling):
    if upsampling not in UPSAMPLINGS:
        raise ValueError(
            f"Received an invalid value for argument `upsampling`. Expected one of "
            f"{', '.join(map(repr, UPSAMPLINGS))}; received: upsampling={upsampling!r}")
    return upsampling


def _prelu(name):
    # One slope per channel, shared over height and width: the network stays fully
    # convolutional (a per-pixel slope would fix the image size).
    return layers.PReLU(shared_axes=[1, 2], name=name)


def build_generator(scale=4, num_blocks=16, filters=64, channels=3, name="generator",
                    bicubic_skip=False, batch_norm=True, upsampling="subpixel"):
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

    With `batch_norm=False` (not in the paper; EDSR, Lim et al. 2017, and ESRGAN, Wang
    et al. 2018) the residual blocks and the trunk have no batch normalisation and their
    convolutions a bias: EDSR found that the normalisation costs PSNR in
    super-resolution, ESRGAN that it brings artefacts under adversarial training.
    Training and inference then compute the same function, and a step is cheaper.

    With `upsampling="resize"` (not in the paper; ESRGAN's generator, after Odena et al.
    2016, "Deconvolution and Checkerboard Artifacts") each 2x stage is a nearest-neighbour
    resize, then a 3x3 convolution of `filters` maps and PReLU, in place of the
    sub-pixel convolution: the same arithmetic per output pixel, and no sub-pixel
    phases for adversarial training to turn into checkerboard patterns.

    Fully convolutional: the input may have any height and width.

    Args:
        scale: upscaling factor, 2, 4 or 8.
        num_blocks: residual blocks `B` (16 in the paper).
        filters: feature maps of every hidden convolution (64 in the paper).
        channels: image channels.
        bicubic_skip: learn a residual over bicubic upscaling (see above).
        batch_norm: batch normalisation in the residual blocks and the trunk (the
            paper's; see above).
        upsampling: `"subpixel"` (the paper's: conv to `4 * filters`, `PixelShuffle(2)`)
            or `"resize"` (nearest-neighbour 2x, then conv; see above).

    Returns:
        A functional `keras.Model`: `(B, h, w, C) -> (B, h * scale, w * scale, C)`.
    """
    scale = _check_scale(scale)
    for arg, value in (("num_blocks", num_blocks), ("filters", filters),
                       ("channels", channels)):
        _check_positive_int(arg, value)
    _check_bool("bicubic_skip", bicubic_skip)
    _check_bool("batch_norm", batch_norm)
    upsampling = _check_upsampling(upsampling)

    def conv_norm(x, name, norm_name):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=not batch_norm, name=name)(x)
        if batch_norm:
            x = FusedBatchNormalization(momentum=_BN_MOMENTUM, name=norm_name)(x)
        return x

    low_res = keras.Input((None, None, channels), name="low_res")
    x = layers.Conv2D(filters, 9, padding="same", name="head")(low_res)
    x = head = _prelu("head_prelu")(x)
    for i in range(num_blocks):
        y = conv_norm(x, f"res{i}_conv1", f"res{i}_bn1")
        y = _prelu(f"res{i}_prelu")(y)
        y = conv_norm(y, f"res{i}_conv2", f"res{i}_bn2")
        x = layers.Add(name=f"res{i}_add")([x, y])
    x = conv_norm(x, "trunk_conv", "trunk_bn")
    x = layers.Add(name="global_skip")([head, x])
    for i in range(int(math.log2(scale))):
        if upsampling == "resize":
            x = layers.UpSampling2D(2, interpolation="nearest", name=f"up{i}_resize")(x)
            x = layers.Conv2D(filters, 3, padding="same", name=f"up{i}_conv")(x)
        else:
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


# --- SRResNet: the generator alone on a content loss ---


@keras.saving.register_keras_serializable(package="keras_gans")
class SRResNet(AdversarialModel):
    """SRResNet (Ledig et al. 2017): the SR generator trained alone on a content loss.

    The generator minimises `content_loss(high_res, generator(low_res))`, the pixel MSE
    by default (equation 4); this is also the first phase of SRGAN
    (`SRGAN.from_pretrained`). The dataset yields `(low_res, high_res)` pairs
    (`keras_gans.data.sr_pairs`), float32 in [-1, 1] or uint8, the high-resolution side
    `scale` times the low. Logged metrics: `content_loss` and `psnr` (dB, RGB, on the
    training patches).

    Args:
        generator: a Keras model mapping `(B, h, w, C)` to `(B, h * scale, w * scale, C)`
            in [-1, 1]; `None` builds `build_generator(scale, num_blocks, filters,
            channels, bicubic_skip=bicubic_skip, batch_norm=batch_norm,
            upsampling=upsampling)`.
        scale: the upscaling factor, 2, 4 or 8.
        num_blocks: residual blocks of the built generator (16 in the paper).
        filters: width of the built generator (64 in the paper).
        channels: image channels; inferred from a given generator, else 3.
        hr_size: side of the high-resolution training patches, if fixed: the content
            loss is checked on them, and `SRGAN.from_pretrained` passes it on. A multiple
            of `scale`.
        bicubic_skip: the built generator learns a correction to bicubic upscaling (not
            in the paper). It starts as bicubic and beats it in far fewer steps.
        content_loss: a `keras_gans.features.ContentLoss` (`PixelMSE()`, `PixelL1()`,
            `VGGFeatureLoss(...)`, `FeatureLoss(model)`), `"mse"`, `"l1"`, `"vgg19"` or
            a `keras.Model` feature extractor; default `PixelMSE()`.
        seed: seed of the model's random draws.
        batch_norm: batch normalisation in the built generator's residual blocks and
            trunk (the paper's); `False` leaves it out, as EDSR and ESRGAN do
            (`build_generator`). Like `num_blocks` and `filters`, it describes a built
            generator only: a given one is used as it is.
        upsampling: the built generator's 2x stages, `"subpixel"` (the paper's) or
            `"resize"` (nearest-neighbour resize and convolution, ESRGAN's; fewer
            checkerboard artefacts under adversarial training). Built generators only,
            like `batch_norm`.

    Example:

    ```python
    srresnet = keras_gans.SRResNet(scale=4, num_blocks=8, filters=32)
    srresnet.compile()
    srresnet.fit(keras_gans.data.sr_pairs("photos/", scale=4, hr_size=64), epochs=10)
    sr = srresnet.upscale(photo)                 # (4H, 4W, 3), same dtype convention
    srresnet.evaluate_quality(low_res, high_res)  # PSNR / SSIM beside bicubic
    ```
    """

    #: Paper setting: Adam, learning rate 1e-4, beta_1 0.9 (both networks, both phases).
    default_optimizer = {"learning_rate": 1e-4, "beta_1": 0.9, "beta_2": 0.999}  # noqa: RUF012
    #: Largest `upscale` output (images x height x width) allowed; `None`: only the
    #: memory estimate limits it. Set it on the instance or pass it to `upscale`.
    max_output_pixels = None
    #: The content loss when none is given.
    default_content_loss = features.PixelMSE
    #: The phase of the paper this model trains (the former `compile(phase=...)`).
    phase = "pretrain"

    network_names = ("generator",)
    optimizer_networks = {"g_optimizer": ("generator",)}  # noqa: RUF012
    primary_optimizer = "g_optimizer"

    def __init__(self, generator=None, scale=4, num_blocks=16, filters=64, channels=None,
                 hr_size=None, bicubic_skip=False, content_loss=None, seed=None,
                 networks=None, batch_norm=True, upsampling="subpixel", **kwargs):
        scale = _check_scale(scale)
        for arg, value in (("num_blocks", num_blocks), ("filters", filters)):
            _check_positive_int(arg, value)
        _check_positive_int("channels", channels, allow_none=True)
        _check_hr_size(hr_size, scale)
        _check_network("generator", generator)
        bicubic_skip = _check_bool("bicubic_skip", bicubic_skip)
        batch_norm = _check_bool("batch_norm", batch_norm)
        upsampling = _check_upsampling(upsampling)
        given_generator = generator is not None
        channels = _resolve_channels(generator, channels)
        if generator is None:
            generator = build_generator(scale, num_blocks, filters, channels,
                                        bicubic_skip=bicubic_skip, batch_norm=batch_norm,
                                        upsampling=upsampling)
        super().__init__({"generator": generator, **(networks or {})}, seed=seed, **kwargs)
        self.scale = scale
        self.num_blocks = int(num_blocks)
        self.filters = int(filters)
        self.bicubic_skip = bicubic_skip
        self.batch_norm = batch_norm
        self.upsampling = upsampling
        self.channels = channels
        self.hr_size = None if hr_size is None else int(hr_size)
        if given_generator:
            self._check_generator(generator)
        self.content_loss = None
        self._set_content_loss(self.default_content_loss() if content_loss is None
                               else features.get(content_loss))
        self.content_loss_tracker = keras.metrics.Mean(name="content_loss")
        self.psnr_tracker = keras.metrics.Mean(name="psnr")
        self._defer_content_loss = False
        self._upscale_fn = None

    def load_own_variables(self, store):
        # Files from before the base class hold no step counter: it stays at 0.
        if len(store.keys()):
            super().load_own_variables(store)

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
                "channels": self.channels, "hr_size": self.hr_size,
                "bicubic_skip": self.bicubic_skip, "batch_norm": self.batch_norm,
                "upsampling": self.upsampling,
                "content_loss": keras.saving.serialize_keras_object(self.content_loss)}

    # --- Content loss ---

    def _set_content_loss(self, loss):
        """Holds `loss`; a user's feature network is tracked, so it is saved with the model."""
        network = loss.saved_network
        held = getattr(self, "content_extractor", None)
        if held is not None and network is not held:
            raise ValueError(
                "Received an invalid value for argument `content_loss`: this model already "
                f"holds the feature network {held.name!r}; pass another one to the "
                f"constructor of a new model. Received: content_loss={loss!r}"
            )
        if network is not None and held is None:
            self.content_extractor = network
        self.content_loss = loss

    def _build_content_loss(self):
        """Builds the content loss (VGG19 is loaded here) and checks, once, that it takes
        the high-resolution images."""
        loss = self.content_loss.build(self.channels)
        extractor = getattr(loss, "extractor", None)
        # An id, not the network: a network attribute would be saved with the model.
        if extractor is not None and getattr(self, "_checked_extractor", None) != id(extractor):
            features.check_extractor(extractor, self.hr_size, self.channels)
            self._checked_extractor = id(extractor)

    def make_train_function(self, force=False):
        if getattr(self, "_saved_in_pretrain_phase", False):
            self._saved_in_pretrain_phase = False
            warnings.warn(
                f"This {type(self).__name__} was saved in the former SRGAN's pretrain phase; "
                "`fit` trains it adversarially. To continue pretraining, train "
                "`SRResNet.from_pretrained(model)`.", stacklevel=2)
        self._build_content_loss()
        return super().make_train_function(force)

    def make_test_function(self, force=False):
        self._build_content_loss()
        return super().make_test_function(force)

    # --- Compile ---

    def compile(self, g_optimizer=None, phase=None, **kwargs):
        """Configure the optimizers; the content loss is the model's (`content_loss`).

        Args:
            g_optimizer: the generator's optimizer (instance, name or config); default
                Adam(1e-4, beta_1=0.9), the paper's.
            phase: deprecated; the class is the phase (`SRResNet`: "pretrain", `SRGAN`:
                "adversarial").
            **kwargs: `d_optimizer` (SRGAN) and `keras.Model.compile` options
                (`run_eagerly`, `jit_compile`, `steps_per_execution`). Deprecated:
                `content_loss`, `vgg_weights`, `adversarial_weight` (constructor
                arguments now).
        """
        for key, value in kwargs.items():
            if key.endswith("_optimizer") and key not in self.optimizer_networks:
                raise ValueError(
                    f"Argument `{key}` is not used by an {type(self).__name__}, which trains "
                    f"the generator alone (SRGAN adds the discriminator). Received: "
                    f"{key}={value!r}")
        legacy = {key: kwargs.pop(key) for key in _LEGACY_COMPILE_OPTIONS[1:] if key in kwargs}
        if phase is not None or legacy:
            warnings.warn(
                f"{type(self).__name__}.compile(phase=..., content_loss=..., vgg_weights=..., "
                "adversarial_weight=...) is deprecated: the class is the phase (SRResNet, then "
                "SRGAN.from_pretrained) and the content loss and adversarial weight are "
                "constructor arguments.", DeprecationWarning, stacklevel=2)
            self._apply_legacy_options(phase, legacy)
        self._upscale_fn = None
        super().compile(g_optimizer=g_optimizer, **kwargs)
        if not self._defer_content_loss:
            self._build_content_loss()

    def _apply_legacy_options(self, phase, options):
        """The former `compile(phase, content_loss, vgg_weights, adversarial_weight)`."""
        if phase is not None and phase != self.phase:
            hint = ("train an SRResNet(...) first, then SRGAN.from_pretrained(srresnet)"
                    if phase == "pretrain" else "use SRGAN.from_pretrained(this_model)")
            raise ValueError(
                f"Received an invalid value for argument `phase`: a {type(self).__name__} "
                f"trains phase={self.phase!r}; {hint}. Received: phase={phase!r}"
            )
        if "adversarial_weight" in options:
            raise ValueError(
                "Received an invalid value for argument `adversarial_weight`: an SRResNet "
                f"has no adversarial loss. Received: adversarial_weight="
                f"{options['adversarial_weight']!r}")
        if "content_loss" in options or "vgg_weights" in options:
            name = options.get("content_loss") or self._legacy_default_loss
            vgg_weights = options.get("vgg_weights") or "imagenet"
            self._set_content_loss(features.get(name, vgg_weights))

    _legacy_default_loss = "mse"

    def compile_from_config(self, config):
        config = dict(config)
        if config.get("phase") == "pretrain" and self.phase != "pretrain":
            # A file of the former SRGAN saved in its pretrain phase: it loads as the
            # SRGAN it is, whose `fit` now trains adversarially.
            config["phase"] = None
            self._saved_in_pretrain_phase = True
        legacy = {key: config.pop(key) for key in _LEGACY_COMPILE_OPTIONS[1:] if key in config}
        self._apply_legacy_options(config.pop("phase", None), legacy)
        # Loading: VGG19 is built on the first fit / evaluate, so that a machine without
        # its weights can still load and upscale.
        self._defer_content_loss = True
        try:
            super().compile_from_config(config)
        finally:
            self._defer_content_loss = False

    @property
    def metrics(self):
        return [self.content_loss_tracker, self.psnr_tracker]

    # --- Train step ---

    def _unpack(self, data):
        pair = _batch_pair(data, ("low_res", "high_res"))
        if pair is None:
            raise ValueError(
                f"{type(self).__name__} trains on (low_res, high_res) pairs, e.g. "
                "`keras_gans.data.sr_pairs(...)` or `fit(low_res, high_res)`; received "
                f"{type(data).__name__} data without high-resolution targets."
            )
        low, high = (utils.to_float(x) for x in pair)
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

    def train_step(self, data):
        low, high = self._unpack(data)
        g_vars = self.generator.trainable_variables
        with tf.GradientTape() as tape:
            super_res = self.generator(low, training=True)
            content = self.content_loss(high, super_res)
            # Inside the tape: an op outside it would cut the gradient.
            scaled = self._loss_for_gradients(content, self.g_optimizer)
        grads = tape.gradient(scaled, g_vars)
        self.g_optimizer.apply(grads, g_vars)
        self.content_loss_tracker.update_state(content)
        self.psnr_tracker.update_state(_psnr(high, super_res))
        return _replica_logs(self.metrics)

    def test_step(self, data):
        # `fit(validation_data=...)` and `evaluate` report the losses without updating.
        low, high = self._unpack(data)
        super_res = self.generator(low, training=False)
        self.content_loss_tracker.update_state(self.content_loss(high, super_res))
        self.psnr_tracker.update_state(_psnr(high, super_res))
        return _replica_logs(self.metrics)

    def call(self, inputs, training=False):
        """Runs the generator: low-resolution images to high-resolution ones."""
        return self.generator(inputs, training=training)

    @classmethod
    def from_pretrained(cls, model, **kwargs):
        """A new `cls` on the generator of `model` (an SRResNet or SRGAN), its weights kept.

        The generator is shared, not copied: training the new model continues it.
        `scale`, `channels`, `num_blocks`, `filters`, `bicubic_skip`, `batch_norm`,
        `upsampling` and (unless given) `hr_size` are taken from `model`; `kwargs` are the
        other constructor arguments (`content_loss`; an SRGAN's `discriminator`,
        `adversarial_weight`, ...).

        Example:

        ```python
        gan = keras_gans.SRGAN.from_pretrained(
            srresnet, content_loss=keras_gans.VGGFeatureLoss(weights="vgg19_notop.h5"))
        ```
        """
        if not isinstance(model, SRResNet):
            raise TypeError(
                "Received an invalid value for argument `model`. Expected an SRResNet or "
                f"SRGAN, received: {type(model).__name__}"
            )
        for key in ("generator", "scale", "channels"):
            if key in kwargs:
                raise ValueError(f"`{cls.__name__}.from_pretrained` takes `{key}` from the "
                                 f"model; received: {key}={kwargs[key]!r}")
        kwargs.setdefault("hr_size", model.hr_size)
        return cls(generator=model.generator, scale=model.scale, num_blocks=model.num_blocks,
                   filters=model.filters, channels=model.channels,
                   bicubic_skip=model.bicubic_skip, batch_norm=model.batch_norm,
                   upsampling=model.upsampling, **kwargs)

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
        floats = memory.activation_floats_per_input_pixel(self.generator)
        if not floats:  # a subclassed generator: assume the built-in's widest stage
            floats = max(self.filters, self.channels) * self.scale**2
        return 4 * memory.ACTIVATION_COPIES * floats

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
        batch, single = check_images(images, "images", self.channels)
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
        # The working set of one call with its float input (the conversion from uint8
        # holds two copies, the tensor one more), the float result of that call with the
        # float temporaries of its conversion to uint8, and the whole result.
        chunk_input = 3 * 4 * height * width * channels
        chunk_output = 3 * 4 * height * s * width * s * channels
        needed = per_image + chunk_input + chunk_output + output_bytes
        memory.check_fits(needed, (
            f"Upscaling images of shape {tuple(shape)} by scale={s} needs about {{needed}} "
            f"(the {n} x {height * s} x {width * s} output and the generator's activations) "
            "but only {available} of memory is available. Pass fewer or smaller images."))
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
        high_batch, _ = check_images(high_res, "high_res", self.channels)
        low_batch, _ = check_images(low_res, "low_res", self.channels)
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

    def serving_signatures(self, jit_compile=False):
        """`upscale`: uint8 images of any size -> `scale` times larger (see
        `keras_gans.export`); `jit_compile`: XLA."""
        endpoint = export_lib.image_to_image_signature("upscale", self.generator,
                                                       scale=self.scale,
                                                       jit_compile=jit_compile)
        return {"endpoints": [endpoint],
                "metadata": {"family": "srgan", "scale": self.scale,
                             "channels": int(endpoint[2][0].shape[-1]),
                             "size_multiple": export_lib.size_multiple(self.generator),
                             "max_request_output_pixels":
                                 export_lib.max_request_output_pixels(self.generator,
                                                                      self.scale)}}

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


# --- Helpers ---


def _check_network(name, net):
    if net is not None and not isinstance(net, keras.Model):
        raise TypeError(
            f"Received an invalid value for argument `{name}`. Expected a keras.Model or "
            f"None, received: {type(net).__name__}"
        )


def _check_hr_size(hr_size, scale):
    _check_positive_int("hr_size", hr_size, allow_none=True)
    if hr_size is not None and hr_size % scale:
        raise ValueError(
            "Received an invalid value for argument `hr_size`. Expected a multiple of "
            f"scale={scale}, received: hr_size={hr_size}"
        )


def _resolve_channels(generator, channels):
    shapes = _network_input_shapes(generator) if generator is not None else None
    inferred = shapes[0][-1] if shapes and len(shapes) == 1 else None
    if channels is not None and inferred is not None and channels != inferred:
        raise ValueError(
            f"Argument `channels`={channels} does not match the generator's input, "
            f"which has {inferred} channels (input shapes: {shapes})."
        )
    return int(channels or inferred or 3)


def _psnr(high, super_res):
    # Images span [-1, 1]: a peak-to-peak range of 2.
    return tf.reduce_mean(tf.image.psnr(tf.cast(super_res, "float32"),
                                        tf.cast(high, "float32"), max_val=2.0))
