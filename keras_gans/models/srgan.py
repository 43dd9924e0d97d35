"""SRGAN (Ledig et al. 2017, arXiv:1609.04802): an SRResNet that also plays against a
discriminator.

The file reads top to bottom: the discriminator (`build_discriminator`), then `SRGAN`
(`SRResNet` plus the adversarial loss; `keras_gans.models.srresnet` holds the generator,
`upscale` and the rest). The paper's two phases:

    srresnet = keras_gans.SRResNet(scale=4)
    srresnet.compile()
    srresnet.fit(keras_gans.data.sr_pairs("photos/", scale=4, hr_size=96), epochs=...)
    gan = keras_gans.SRGAN.from_pretrained(            # the same generator, trained on
        srresnet, content_loss=keras_gans.VGGFeatureLoss(weights="vgg19_notop.h5"))
    gan.compile()
    gan.fit(...)
    big = gan.upscale(photo_uint8)

Files saved by the former single `SRGAN` with `compile(phase=...)` load unchanged
(`SRResNet.compile_from_config` reads their phase and content loss).
"""

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from keras_gans import augment as augment_lib
from keras_gans import features
from keras_gans import losses as losses_lib
from keras_gans.features import (  # noqa: F401  (their former home)
    VGG_FEATURE_SCALE,
    VGG_LAYER,
    VGGPreprocessing,
    build_vgg19_features,
)
from keras_gans.layers import FusedBatchNormalization
from keras_gans.models._graph_options import fit_remapping
from keras_gans.models._graph_options import remapper_fails as _remapper_fails
from keras_gans.models.base import (
    _check_bool,
    _check_non_negative,
    _check_positive_int,
    _network_input_shapes,
    _replica_logs,
)
from keras_gans.models.srresnet import (  # noqa: F401  (their former home)
    _BN_MOMENTUM,
    SCALES,
    SRResNet,
    _check_network,
    _check_scale,
    _resolve_channels,
    build_generator,
)
from keras_gans.utils import bicubic_upscale  # noqa: F401  (its former home)

# `keras-gans train srgan` options (dest -> spec, see `keras_gans.models.base`): a literal,
# read by the CLI without importing this module (and TensorFlow). `--phase` picks the
# class (`SRGAN.train_class`).
TRAIN_OPTIONS = {
    "residual_blocks": {"type": "positive_int", "default": None},
    "scale": {"type": "int", "choices": [2, 4, 8], "default": 4,
              "help": "upscaling factor (default: 4)"},
    "hr_size": {"type": "positive_int", "default": 96,
                "help": "side of the high-resolution training crops (default: 96)"},
    "bicubic_skip": {"type": "flag", "default": False,
                     "help": "learn a correction to bicubic upscaling (not in the paper; "
                             "much better after a short training)"},
    "phase": {"choices": ["pretrain", "adversarial"], "default": "pretrain",
              "help": "pretrain: the generator alone on the content loss (SRResNet); "
                      "adversarial: SRGAN (default: pretrain)",
              "resume_hint": "For SRGAN's second phase, start a new run from this one: "
                             "--phase adversarial --init {run_dir} --out NEW_RUN_DIR."},
    "content_loss": {"choices": ["mse", "l1", "vgg19"], "default": None,
                     "help": "default: mse (pretrain), vgg19 (adversarial); l1: EDSR's"},
    "no_batch_norm": {"type": "flag", "default": False,
                      "help": "leave batch normalisation out of the generator's residual "
                              "blocks and trunk (EDSR, ESRGAN; not in the paper)"},
    "upsampling": {"choices": ["subpixel", "resize"], "default": "subpixel",
                   "help": "the generator's 2x stages: subpixel (the paper's sub-pixel "
                           "convolution, default) or resize (nearest-neighbour resize and "
                           "convolution, ESRGAN's: fewer checkerboard artefacts)"},
    "relativistic": {"type": "flag", "default": False,
                     "help": "adversarial phase: ESRGAN's relativistic average losses "
                             "instead of the paper's"},
    "frequency_separation": {"type": "non_negative_float", "default": 0.0, "metavar": "SIGMA",
                             "help": "adversarial phase: the discriminator sees only the high "
                                     "frequencies of the images, x - GaussianBlur_SIGMA(x) "
                                     "(Fritsche et al. 2019); SIGMA in high-resolution "
                                     "pixels, 0 (default): off"},
    "vgg_weights": {"default": None, "metavar": "PATH",
                    "help": "a local VGG19 notop weights file for the vgg19 content loss"},
    "init": {"type": "model_file", "default": None, "metavar": "RUN_DIR|MODEL.keras",
             "classes": ["SRGAN", "SRResNet"],
             "fixes": {"scale": "scale", "hr_size": "hr_size", "bicubic_skip": "bicubic_skip",
                       "residual_blocks": "num_blocks", "base_filters": "filters",
                       "upsampling": "upsampling"},
             "help": "start a new run from this model's weights (the paper's second phase: "
                     "--phase adversarial --init the pretrain run); its scale, --hr-size, "
                     "--bicubic-skip, --upsampling and batch normalisation are taken from "
                     "it"},
    "batch_size": {"default": 16},  # the paper's
}

# --- Discriminator ---


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
    side = hr_size
    for i, (width, stride) in enumerate(plan, start=1):
        # On a 1x1 map a "same" convolution gives the same 1x1 output at any stride, so
        # the stride is dropped there: TF 2.21's oneDNN bfloat16 filter gradient of a
        # strided convolution of a 1x1 map returns NaN at random (mixed_bfloat16 on
        # CPUs with AVX512_BF16 or AMX; small `hr_size` only).
        stride = 1 if side == 1 else stride
        side = -(-side // stride)
        x = layers.Conv2D(width, 3, strides=stride, padding="same", use_bias=False,
                          name=f"conv{i}")(x)
        x = FusedBatchNormalization(momentum=_BN_MOMENTUM, name=f"conv{i}_bn")(x)
        x = layers.LeakyReLU(0.2, name=f"conv{i}_lrelu")(x)
    x = layers.Flatten(name="features")(x)
    x = layers.Dense(dense_units, name="dense")(x)
    x = layers.LeakyReLU(0.2, name="dense_lrelu")(x)
    x = layers.Dense(1, name="logit")(x)
    logits = layers.Activation("linear", dtype="float32", name="logits")(x)
    return keras.Model(images, logits, name=name)


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


def high_frequencies(images, sigma):
    """`images - GaussianBlur_sigma(images)`: what the blur removes, the fine detail.

    The blur is Keras's `ops.image.gaussian_blur` (kernel side `2 * ceil(3 sigma) + 1`) on
    the images reflect-padded by half the kernel, so the borders are filtered as the
    inside is. Differentiable; a constant image gives zeros. `images` is `(B, H, W, C)`,
    each side larger than half the kernel. Computed in float32 (a bf16 or fp16 blur would
    leave a constant image's rounding behind) and returned in the images' dtype.
    """
    half = _gaussian_reach(sigma)
    side = 2 * half + 1
    dtype = keras.backend.standardize_dtype(images.dtype)
    images32 = keras.ops.cast(images, "float32")
    padded = keras.ops.pad(images32, [[0, 0], [half, half], [half, half], [0, 0]],
                           mode="reflect")
    low = keras.ops.image.gaussian_blur(padded, kernel_size=(side, side),
                                        sigma=(sigma, sigma), data_format="channels_last")
    return keras.ops.cast(images32 - low[:, half:-half, half:-half, :], dtype)


def _gaussian_reach(sigma):
    """Half the side of `high_frequencies`' kernel: ceil(3 sigma) pixels."""
    return int(np.ceil(3.0 * sigma))


# Below this sigma the blur is nearly the identity and D would see (almost) nothing.
MIN_FREQUENCY_SEPARATION = 0.5


def _check_frequency_separation(value):
    """`None` or 0 (off), or a Gaussian sigma >= 0.5 pixels, as a float (0.0 off)."""
    if value is None:
        return 0.0
    value = _check_non_negative("frequency_separation", value)
    if 0 < value < MIN_FREQUENCY_SEPARATION:
        raise ValueError(
            "Received an invalid value for argument `frequency_separation`. Expected 0 "
            f"(off) or a Gaussian sigma of at least {MIN_FREQUENCY_SEPARATION} pixels (a "
            "smaller blur leaves the discriminator almost nothing to see), received: "
            f"frequency_separation={value!r}")
    return value


# --- SRGAN: SRResNet plus the discriminator and the adversarial loss ---


@keras.saving.register_keras_serializable(package="keras_gans")
class SRGAN(SRResNet):
    """Photo-realistic single-image super-resolution (Ledig et al. 2017), trained with `fit`.

    An `SRResNet` whose generator also plays against a discriminator: it minimises
    `l_content + adversarial_weight * l_adversarial` (equation 3, the non-saturating loss
    `-log D(G(x))`), the discriminator the minimax loss. The content loss defaults to
    the paper's VGG54 (`VGGFeatureLoss()`: ImageNet weights through Keras's cache; pass
    `VGGFeatureLoss(weights=FILE)` offline, or `PixelMSE()` for SRGAN-MSE). Start from a
    pretrained SRResNet with `SRGAN.from_pretrained(srresnet)`.

    Logged metrics: `d_loss`, `g_loss` (the total), `content_loss`, `adversarial_loss`,
    `d_real` = D(x) and `d_fake` = D(G(x_lr)) (mean probabilities; with
    `relativistic=True`, the relativistic ones, sigmoid(C(x) - E[C(G(x_lr))]) and
    sigmoid(C(G(x_lr)) - E[C(x)])).

    Args:
        generator, scale, num_blocks, filters, channels, bicubic_skip, batch_norm,
            upsampling, seed: as `SRResNet`.
        discriminator: a Keras model mapping `(B, hr_size, hr_size, C)` to one logit per
            image; `None` builds `build_discriminator(hr_size, channels, d_filters,
            dense_units)`.
        d_filters: width of the first layer of the built discriminator (64).
        dense_units: hidden dense width of the built discriminator (1024).
        hr_size: side of the high-resolution training patches the discriminator takes;
            inferred from a given discriminator, else 96 (the paper's crops). Must be a
            multiple of `scale`.
        content_loss: as `SRResNet`; default `VGGFeatureLoss()`.
        adversarial_weight: weight of the adversarial loss (1e-3 in the paper).
        augment: DiffAugment (Zhao et al. 2020) of every image the discriminator sees,
            the real high-resolution patches and the generated ones, in the D and the G
            steps (the content loss sees them unaugmented): `None` (off), or names among
            `("color", "translation", "cutout")` (see `keras_gans.augment`). Its draws
            are stateless functions of the seed and the step, as `GAN(augment=...)`'s.
        relativistic: play ESRGAN's relativistic average game (Wang et al. 2018,
            equations 1-2; `keras_gans.losses.relativistic_average_*_loss`) instead of
            the paper's: the discriminator judges whether a real patch looks more real
            than the batch's average generated one, and the generator gains from both
            directions. The averages are over each replica's batch under
            `tf.distribute`. `False` (the paper's losses) by default.
        frequency_separation: the discriminator judges only the high frequencies of
            what it sees, `high_frequencies(x, sigma) = x - GaussianBlur_sigma(x)`, in
            the D and the G steps (after `augment`, whose brightness change it
            removes with the rest of the low frequencies), as the frequency-separated
            discriminator of Fritsche et al. 2019 ("Frequency Separation for Real-World
            Super-Resolution"; their content loss sees the low frequencies only, this
            one the whole image). The adversarial gradient on the generated image is
            then itself high-pass: the low frequencies, which the low-resolution input
            determines, are left to the content loss. A Gaussian sigma in
            high-resolution pixels, at least 0.5 (about `scale / 2` passes what 4x
            downscaling loses and little else), or 0 (off, the default).

    Example:

    ```python
    gan = keras_gans.SRGAN.from_pretrained(srresnet, content_loss=keras_gans.PixelMSE())
    gan.compile()
    gan.fit(keras_gans.data.sr_pairs("photos/", scale=4, hr_size=96), epochs=10)
    ```
    """

    default_content_loss = features.VGGFeatureLoss
    phase = "adversarial"
    train_options = TRAIN_OPTIONS
    _legacy_default_loss = "vgg19"

    network_names = ("generator", "discriminator")
    optimizer_networks = {"g_optimizer": ("generator",),  # noqa: RUF012
                          "d_optimizer": ("discriminator",)}

    def __init__(self, generator=None, discriminator=None, scale=4, num_blocks=16, filters=64,
                 d_filters=64, dense_units=1024, channels=None, hr_size=None,
                 bicubic_skip=False, content_loss=None, adversarial_weight=1e-3, seed=None,
                 augment=None, batch_norm=True, relativistic=False, upsampling="subpixel",
                 frequency_separation=0.0, **kwargs):
        scale = _check_scale(scale)
        relativistic = _check_bool("relativistic", relativistic)
        frequency_separation = _check_frequency_separation(frequency_separation)
        adversarial_weight = _check_non_negative("adversarial_weight", adversarial_weight)
        augment = augment_lib.check_policy(augment)
        for arg, value in (("d_filters", d_filters), ("dense_units", dense_units)):
            _check_positive_int(arg, value)
        _check_positive_int("channels", channels, allow_none=True)
        _check_positive_int("hr_size", hr_size, allow_none=True)
        _check_network("generator", generator)
        _check_network("discriminator", discriminator)
        channels = _resolve_channels(generator, channels)
        hr_size = _resolve_hr_size(discriminator, hr_size, scale, channels)
        if frequency_separation and _gaussian_reach(frequency_separation) >= hr_size:
            raise ValueError(
                "Received an invalid value for argument `frequency_separation`: its "
                f"Gaussian reaches {_gaussian_reach(frequency_separation)} pixels (3 "
                f"sigma), which needs patches larger than that; hr_size={hr_size}. "
                f"Received: frequency_separation={frequency_separation}")
        if discriminator is None:
            discriminator = build_discriminator(hr_size, channels, d_filters, dense_units)
        super().__init__(generator, scale, num_blocks, filters, channels, hr_size,
                         bicubic_skip, content_loss, seed,
                         networks={"discriminator": discriminator}, batch_norm=batch_norm,
                         upsampling=upsampling, **kwargs)
        self.adversarial_weight = adversarial_weight
        self.augment = augment
        self.relativistic = relativistic
        self.frequency_separation = frequency_separation
        self.d_filters = int(d_filters)
        self.dense_units = int(dense_units)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.adversarial_loss_tracker = keras.metrics.Mean(name="adversarial_loss")
        self.d_real_tracker = keras.metrics.Mean(name="d_real")
        self.d_fake_tracker = keras.metrics.Mean(name="d_fake")

    def model_options(self):
        return {**super().model_options(), "d_filters": self.d_filters,
                "dense_units": self.dense_units, "adversarial_weight": self.adversarial_weight,
                "augment": None if self.augment is None else list(self.augment),
                "relativistic": self.relativistic,
                "frequency_separation": self.frequency_separation}

    def compile(self, g_optimizer=None, d_optimizer=None, phase=None, **kwargs):
        """Configure the optimizers (default Adam(1e-4, beta_1=0.9), the paper's).

        Args:
            g_optimizer: the generator's optimizer (instance, name or config).
            d_optimizer: the discriminator's optimizer.
            phase, **kwargs: as `SRResNet.compile`.
        """
        super().compile(g_optimizer=g_optimizer, phase=phase, d_optimizer=d_optimizer,
                        **kwargs)

    def _apply_legacy_options(self, phase, options):
        options = dict(options)
        if "adversarial_weight" in options:
            self.adversarial_weight = _check_non_negative(
                "adversarial_weight", options.pop("adversarial_weight"))
        super()._apply_legacy_options(phase, options)

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker, self.content_loss_tracker,
                self.adversarial_loss_tracker, self.d_real_tracker, self.d_fake_tracker]

    # --- keras-gans train ---

    @classmethod
    def train_dataset(cls, options, **common):
        from keras_gans import data

        return data.sr_pairs(options["data"], scale=options["scale"],
                             hr_size=options["hr_size"], **common)

    @classmethod
    def from_train_options(cls, options, dataset):
        """`keras-gans train srgan`: an SRResNet for `--phase pretrain`, an SRGAN for
        `--phase adversarial` (from the `--init` model's generator when given)."""
        try:
            return cls._train_model(options, dataset.element_spec[0].shape[-1])
        except RuntimeError as e:  # VGG19's ImageNet weights could not be downloaded
            if "VGG19" not in str(e):
                raise
            raise ValueError(
                "the vgg19 content loss needs VGG19's ImageNet weights, which could not be "
                "downloaded (offline?): pass --vgg-weights FILE (Keras's vgg19_weights_tf_"
                "dim_ordering_tf_kernels_notop.h5, or put it in ~/.keras/models/), or use "
                "--content-loss mse.") from None

    @classmethod
    def _train_model(cls, options, channels):
        from keras_gans import registry

        model_class = cls.train_class(options)
        adversarial = model_class is SRGAN
        for flag, what in (("relativistic", "losses"),
                           ("frequency_separation", "discriminator's view")):
            if options.get(flag) and not adversarial:
                name = "--" + flag.replace("_", "-")
                received = "" if flag == "relativistic" else f" {options[flag]:g}"
                raise ValueError(
                    f"Received an invalid value for flag `{name}`: it sets the "
                    f"adversarial phase's {what}, and this run is --phase "
                    f"{options.get('phase')!r}; received {name}{received}. Add --phase "
                    f"adversarial (with --init the pretrain run), or leave out {name}.")
        name = options.get("content_loss") or ("vgg19" if adversarial else "mse")
        kwargs = {"hr_size": options["hr_size"],
                  "content_loss": features.get(name, options.get("vgg_weights") or "imagenet"),
                  **({"d_filters": options["base_filters"],
                      "relativistic": bool(options.get("relativistic")),
                      "frequency_separation": options.get("frequency_separation") or 0.0}
                     if adversarial else {})}
        if options.get("init"):
            init = registry.load_file(options["init"], compile=False)
            if options.get("no_batch_norm") and init.batch_norm:
                raise ValueError(
                    "Received an invalid value for flag `--no-batch-norm`: the --init model "
                    f"{options['init']!r} has batch normalisation (batch_norm=True), and "
                    "--init takes its generator as it is. Leave out --no-batch-norm, or "
                    "start a new pretrain run with it.")
            if options.get("upsampling", init.upsampling) != init.upsampling:
                raise ValueError(
                    "Received an invalid value for flag `--upsampling`: the --init model "
                    f"{options['init']!r} upsamples with {init.upsampling!r}, and --init "
                    f"takes its generator as it is; received --upsampling "
                    f"{options['upsampling']}. Leave out --upsampling.")
            model = model_class.from_pretrained(init, **kwargs)
        else:
            model = model_class(scale=options["scale"], channels=channels,
                                num_blocks=options["residual_blocks"] or 16,
                                filters=options["base_filters"],
                                bicubic_skip=options["bicubic_skip"],
                                batch_norm=not options.get("no_batch_norm"),
                                upsampling=options.get("upsampling", "subpixel"), **kwargs)
        model.compile()
        return model

    @classmethod
    def train_class(cls, options):
        """The class `keras-gans train` makes (and resumes) for `options`."""
        return SRGAN if options.get("phase") == "adversarial" else SRResNet

    def _check_discriminator_input(self, high):
        expected = tuple(self.discriminator.inputs[0].shape[1:]) \
            if getattr(self.discriminator, "inputs", None) else None
        got = tuple(high.shape[1:])
        reach = _gaussian_reach(self.frequency_separation)
        if self.frequency_separation and any(g is not None and g <= reach for g in got[:2]):
            raise ValueError(
                f"SRGAN(frequency_separation={self.frequency_separation:g}) blurs with a "
                f"Gaussian reaching {reach} pixels, which needs high-resolution patches "
                f"larger than that; received high_res of shape {tuple(high.shape)}.")
        if expected and any(e is not None and g is not None and e != g
                            for e, g in zip(expected, got)):
            raise ValueError(
                f"SRGAN needs high-resolution patches of shape {expected} "
                f"(hr_size={self.hr_size}), the discriminator's input; received "
                f"high_res of shape {tuple(high.shape)}. Use "
                f"`keras_gans.data.sr_pairs(..., hr_size={self.hr_size})`."
            )

    #: Grappler's remapper during `fit`, as `GAN.grappler_remapping`: `None` turns it off
    #: where it would fail and log an error (`remapper_fails`: DiffAugment's translation,
    #: or a biased convolution in the discriminator past its first).
    grappler_remapping = None

    @property
    def remapper_fails(self):
        """Whether grappler's remapper fails on this model's train step (see
        `keras_gans.models._graph_options`)."""
        return _remapper_fails(self.discriminator, False, self.augment)

    def fit(self, *args, **kwargs):
        """`keras.Model.fit`, with grappler's remapper as `grappler_remapping` asks."""
        with fit_remapping(self):
            return super().fit(*args, **kwargs)

    def _d_view(self, images, stream=None):
        """What the discriminator sees of `images`: DiffAugment's draw `stream` of this
        step (none when `stream` is None: evaluation), then, with
        `frequency_separation`, only its high frequencies."""
        if stream is not None:
            images = self._augment(images, stream)
        if self.frequency_separation:
            images = high_frequencies(images, self.frequency_separation)
        return images

    def train_step(self, data):
        low, high = self._unpack(data)
        self._check_discriminator_input(high)
        g_vars = self.generator.trainable_variables
        d_vars = self.discriminator.trainable_variables
        # One generator pass serves both updates: the discriminator sees it detached,
        # and the generator's tape is re-entered after the discriminator's update so
        # its adversarial term is judged by the updated discriminator (the paper's
        # alternating scheme, k = 1).
        with tf.GradientTape() as g_tape:
            super_res = self.generator(low, training=True)
            content = self.content_loss(high, super_res)
        with tf.GradientTape() as d_tape:
            real_out = self.discriminator(self._d_view(high, 0), training=True)
            fake_out = self.discriminator(self._d_view(tf.stop_gradient(super_res), 1),
                                          training=True)
            d_loss = self._discriminator_loss(real_out, fake_out)
            scaled = self._loss_for_gradients(d_loss, self.d_optimizer)
        grads = d_tape.gradient(scaled, d_vars)
        self.d_optimizer.apply(grads, d_vars)
        with g_tape:
            fake_logits = self.discriminator(self._d_view(super_res, 2), training=True)
            # The relativistic game judges them against the real patches, by the updated D.
            real_logits = (self.discriminator(self._d_view(high, 3), training=True)
                           if self.relativistic else None)
            adversarial = self._generator_loss(real_logits, fake_logits)
            g_loss = content + self.adversarial_weight * adversarial
            scaled = self._loss_for_gradients(g_loss, self.g_optimizer)
        grads = g_tape.gradient(scaled, g_vars)
        self.g_optimizer.apply(grads, g_vars)
        self._update_metrics(d_loss, g_loss, content, adversarial, real_out, fake_out)
        if self.augment is not None:  # the step of its draws; nothing else here is random
            self.noise_step.assign_add(1)
        return _replica_logs(self.metrics)

    def test_step(self, data):
        low, high = self._unpack(data)
        self._check_discriminator_input(high)
        super_res = self.generator(low, training=False)
        content = self.content_loss(high, super_res)
        real_out = self.discriminator(self._d_view(high), training=False)
        fake_out = self.discriminator(self._d_view(super_res), training=False)
        d_loss = self._discriminator_loss(real_out, fake_out)
        adversarial = self._generator_loss(real_out, fake_out)
        g_loss = content + self.adversarial_weight * adversarial
        self._update_metrics(d_loss, g_loss, content, adversarial, real_out, fake_out)
        return _replica_logs(self.metrics)

    def _discriminator_loss(self, real_out, fake_out):
        if self.relativistic:
            return losses_lib.relativistic_average_discriminator_loss(real_out, fake_out)
        return losses_lib.minimax_discriminator_loss(real_out, fake_out)

    def _generator_loss(self, real_out, fake_out):
        if self.relativistic:
            return losses_lib.relativistic_average_generator_loss(real_out, fake_out)
        return losses_lib.non_saturating_generator_loss(fake_out)

    def _update_metrics(self, d_loss, g_loss, content, adversarial, real_out, fake_out):
        for tracker, value in ((self.d_loss_tracker, d_loss), (self.g_loss_tracker, g_loss),
                               (self.content_loss_tracker, content),
                               (self.adversarial_loss_tracker, adversarial)):
            tracker.update_state(value)
        real_out, fake_out = tf.cast(real_out, "float32"), tf.cast(fake_out, "float32")
        if self.relativistic:  # the logits themselves drift freely; what D judges is relative
            real_out, fake_out = (real_out - tf.reduce_mean(fake_out),
                                  fake_out - tf.reduce_mean(real_out))
        for tracker, logits in ((self.d_real_tracker, real_out),
                                (self.d_fake_tracker, fake_out)):
            tracker.update_state(tf.reduce_mean(tf.sigmoid(logits)))
