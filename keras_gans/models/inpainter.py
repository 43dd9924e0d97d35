"""Inpainter: fills the missing regions of images (context encoder / pix2pix line).

Pathak et al. 2016, "Context Encoders: Feature Learning by Inpainting"
(https://arxiv.org/abs/1604.07379): a generator sees the image with its hole and
learns to fill it with a reconstruction loss plus an adversarial one; Isola et al.
2017 (https://arxiv.org/abs/1611.07004): a U-Net generator and a PatchGAN
discriminator, L1 weighted 100:1 against the adversarial loss.

- Generator: a U-Net on the masked image plus the mask channel (`1` = missing), with
  dilated convolutions at the bottleneck (Iizuka et al. 2017) to see across the hole.
- Discriminator: a PatchGAN on the completed image plus the mask channel.
- Loss of the generator: `hole_weight * L1(hole) + valid_weight * L1(outside) +
  adversarial_weight * adversarial`, each L1 the mean absolute error over the pixels of
  its region, per image. The weights and the adversarial loss are model options, saved
  in the config.

The file reads top to bottom: the declarations (`TRAIN_OPTIONS`), the generator
builder, then the model.

    model = Inpainter.from_shape((28, 28, 1))
    model.compile()
    model.fit(keras_gans.data.inpainting_pairs(x_train, masks=("box", "free_form")),
              epochs=5)
    filled = model.inpaint(images_uint8, masks_bool)      # same dtype and shape
"""

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from keras_gans import export as export_lib
from keras_gans import losses as losses_lib
from keras_gans import utils
from keras_gans.export import size_multiple
from keras_gans.models.base import (
    AdversarialModel,
    _batch_pair,
    _check_non_negative,
    _check_positive_int,
    _network_input_shapes,
    _replica_logs,
)
from keras_gans.models.cyclegan_networks import build_patchgan_discriminator

# `keras-gans train inpainter` options (dest -> spec, see `keras_gans.models.base`): a
# literal, read by the CLI without importing this module (and TensorFlow). The common
# options (`--base-filters`, `--batch-size`, `--seed`, ...) come from the CLI itself.
TRAIN_OPTIONS = {
    "image_size": {"type": "image_size", "default": None},
    "masks": {"default": "both", "choices": ["box", "free_form", "both"],
              "help": "random training masks: boxes, free-form strokes, or each image "
                      "either (default: both)"},
    "depth": {"type": "positive_int", "default": 2,
              "help": "downsamplings of the U-Net (sides are padded to multiples of "
                      "2**depth; default: 2)"},
    "hole_weight": {"type": "non_negative_float", "default": 1.0,
                    "help": "weight of the L1 loss inside the hole (default: 1)"},
    "adversarial_weight": {"type": "non_negative_float", "default": 0.01,
                           "help": "weight of the adversarial loss (default: 0.01)"},
}
#: The adversarial losses of `keras_gans.losses.get` an Inpainter can use.
ADVERSARIAL_LOSSES = ("least_squares", "non_saturating", "hinge")
# `inpaint` runs batches of at most this many images through the generator.
_INPAINT_CHUNK = 64
# `--masks` of `keras-gans train inpainter` -> `inpainting_pairs(masks=...)`.
_TRAIN_MASKS = {"both": ("box", "free_form")}
# Colour of the hole in previews (white in [-1, 1]).
_HOLE_COLOUR = 1.0


# --- Generator ---


def build_unet_generator(channels=3, filters=32, depth=2, dilations=(2, 4),
                         name="generator"):
    """The U-Net generator: `[masked image, mask]` -> an image of the same size.

    A 3x3 convolution, then `depth` times a stride-2 4x4 convolution (widths
    `filters * 2**i`, at most `8 * filters`) and a 3x3 one; at the bottleneck residual
    3x3 convolutions with `dilations` (Iizuka et al. 2017) widen the view across the
    hole; then `depth` times nearest upsampling, a 3x3 convolution and the encoder's
    skip connection (Ronneberger et al. 2015), and a 3x3 convolution to `channels` with
    `tanh`. No normalisation layer: statistics over a holed image (or over a batch)
    would leak the hole into the valid pixels, and the model trains the same on any
    number of replicas. Fully convolutional: sides must be multiples of `2**depth`.

    Args:
        channels: image channels `C`; the input has `C + 1` (the mask last).
        filters: width of the first convolution.
        depth: the number of downsamplings.
        dilations: dilation rates of the bottleneck's residual convolutions.
        name: the model's name.

    Returns:
        A functional `keras.Model`: `[B, H, W, C + 1]` -> `[B, H, W, C]` in [-1, 1].
    """
    _check_positive_int("channels", channels)
    _check_positive_int("filters", filters)
    _check_positive_int("depth", depth)
    inputs = keras.Input((None, None, channels + 1), name="masked_images")

    def conv(x, width, label, kernel=3, strides=1, dilation=1, activation=True):
        x = layers.Conv2D(width, kernel, strides=strides, dilation_rate=dilation,
                          padding="same", name=f"{label}_conv")(x)
        return layers.LeakyReLU(0.2, name=f"{label}_lrelu")(x) if activation else x

    def width(level):
        return filters * min(2 ** level, 8)

    x = conv(inputs, width(0), "enc0")
    skips = [x]
    for level in range(1, depth + 1):
        x = conv(x, width(level), f"down{level}", kernel=4, strides=2)
        x = conv(x, width(level), f"enc{level}")
        skips.append(x)
    for i, rate in enumerate(dilations):
        y = conv(x, width(depth), f"dilated{i}", dilation=rate)
        x = layers.Add(name=f"dilated{i}_add")([x, y])
    for level in range(depth, 0, -1):
        x = layers.UpSampling2D(2, interpolation="nearest", name=f"up{level}")(x)
        x = conv(x, width(level - 1), f"up{level}")
        x = layers.Concatenate(name=f"skip{level - 1}")([x, skips[level - 1]])
        x = conv(x, width(level - 1), f"dec{level - 1}")
    x = conv(x, channels, "out", activation=False)
    outputs = layers.Activation("tanh", dtype="float32", name="images")(x)
    return keras.Model(inputs, outputs, name=name)


# --- The model ---


@keras.saving.register_keras_serializable(package="keras_gans")
class Inpainter(AdversarialModel):
    """Fills the missing regions of images: a U-Net generator and a PatchGAN, with `fit`.

    Trains on `(images, masks)` batches: images float32 in [-1, 1] (or uint8) `[B, H,
    W, C]`, masks `[B, H, W]` or `[B, H, W, 1]`, bool or 0/1, `True` / 1 = missing
    (`keras_gans.data.inpainting_pairs` makes them). The generator sees the image with
    the hole zeroed plus the mask; the completed image keeps the known pixels and takes
    the generator's inside the hole; the discriminator compares completed and real
    images, each with the mask.

    Args:
        generator: `[B, H, W, C + 1]` -> `[B, H, W, C]` (see `build_unet_generator`).
        discriminator: `[B, H, W, C + 1]` -> scores (a PatchGAN).
        hole_weight: weight of the mean absolute error inside the hole.
        valid_weight: weight of the mean absolute error outside it (the generator's
            output there is replaced by the input, so this only regularises).
        adversarial_weight: weight of the generator's adversarial loss (pix2pix: 1 for
            100 of L1).
        adversarial_loss: `"least_squares"`, `"non_saturating"` or `"hinge"`.
        seed: seed of the train step (the step has no random draw today; kept for the
            base's stream and saved).

    Example:

    ```python
    model = Inpainter.from_shape((28, 28, 1))
    model.compile()
    model.fit(keras_gans.data.inpainting_pairs(x_train), epochs=5)
    filled = model.inpaint(x_test[:8], masks)       # masks: bool (8, 28, 28)
    ```
    """

    network_names = ("generator", "discriminator")
    optimizer_networks = {"d_optimizer": ("discriminator",), "g_optimizer": ("generator",)}  # noqa: RUF012
    primary_optimizer = "g_optimizer"
    default_optimizer = {"learning_rate": 2e-4, "beta_1": 0.5, "beta_2": 0.999}  # noqa: RUF012
    train_options = TRAIN_OPTIONS

    def __init__(self, generator, discriminator, hole_weight=1.0, valid_weight=0.1,
                 adversarial_weight=0.01, adversarial_loss="least_squares", seed=None,
                 **kwargs):
        super().__init__({"generator": generator, "discriminator": discriminator},
                         seed=seed, **kwargs)
        self.hole_weight = _check_non_negative("hole_weight", hole_weight)
        self.valid_weight = _check_non_negative("valid_weight", valid_weight)
        self.adversarial_weight = _check_non_negative("adversarial_weight",
                                                      adversarial_weight)
        if adversarial_loss not in ADVERSARIAL_LOSSES:
            raise ValueError(
                "Received an invalid value for argument `adversarial_loss`. Expected one "
                f"of {ADVERSARIAL_LOSSES}, received: adversarial_loss={adversarial_loss!r}"
            )
        self.adversarial_loss = adversarial_loss
        self._d_loss_fn, self._g_loss_fn = losses_lib.get(adversarial_loss)
        self.channels = self._check_generator(generator)
        self.size_multiple = size_multiple(generator)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.hole_l1_tracker = keras.metrics.Mean(name="hole_l1")
        self.adversarial_tracker = keras.metrics.Mean(name="g_adversarial")
        self._fill_fn = None

    def _check_generator(self, generator):
        shapes = _network_input_shapes(generator)
        if shapes is None or len(shapes) != 1 or shapes[0][-1] is None or shapes[0][-1] < 2:
            raise ValueError(
                "Received an invalid value for argument `generator`. Expected one input "
                "[B, H, W, C + 1] (the masked image and the mask), received input shapes "
                f"{shapes}."
            )
        channels = int(shapes[0][-1]) - 1
        out = tuple(generator.outputs[0].shape)
        if out[-1] != channels:
            raise ValueError(
                "Received an invalid value for argument `generator`. Expected it to "
                f"output {channels} channels (its input has {channels} + 1 for the "
                f"mask), received output shape {out}."
            )
        return channels

    @classmethod
    def from_shape(cls, image_shape, filters=32, depth=2, d_filters=32, d_layers=2,
                   **kwargs):
        """Build the U-Net and the PatchGAN for images of `image_shape`.

        Args:
            image_shape: `(H, W, C)` of the training images, sides multiples of
                `2**depth` (`inpaint` takes any size, padding internally).
            filters: the U-Net's first width.
            depth: the U-Net's downsamplings (2 suits 28x28; 3-4 for 64-256 pixels).
            d_filters: the PatchGAN's first width.
            d_layers: its stride-2 layers (2: 34x34 patches; 3: 70x70).
            **kwargs: options of the model (`hole_weight`, `adversarial_weight`, ...).

        Returns:
            An `Inpainter`, not yet compiled.
        """
        image_shape = tuple(image_shape)
        if (len(image_shape) != 3 or not all(isinstance(s, (int, np.integer)) and s > 0
                                             for s in image_shape)):
            raise ValueError(
                "Received an invalid value for argument `image_shape`. Expected (height, "
                f"width, channels) of positive integers, received: image_shape={image_shape!r}"
            )
        _check_positive_int("depth", depth)
        multiple = 2 ** depth
        if image_shape[0] % multiple or image_shape[1] % multiple:
            raise ValueError(
                "Received an invalid value for argument `image_shape`. Expected sides "
                f"that are multiples of 2**depth={multiple}, received: "
                f"image_shape={image_shape}"
            )
        channels = int(image_shape[-1])
        generator = build_unet_generator(channels, filters, depth)
        discriminator = build_patchgan_discriminator(channels + 1, d_filters, d_layers)
        return cls(generator, discriminator, **kwargs)

    # --- Config ---

    def model_options(self):
        return {"hole_weight": self.hole_weight, "valid_weight": self.valid_weight,
                "adversarial_weight": self.adversarial_weight,
                "adversarial_loss": self.adversarial_loss}

    def compile(self, d_optimizer=None, g_optimizer=None, **kwargs):
        """Configure the optimizers.

        Args:
            d_optimizer: the discriminator's optimizer (instance, name or config);
                default `Adam(2e-4, beta_1=0.5)` (pix2pix).
            g_optimizer: the generator's optimizer; same default.
            **kwargs: passed on to `keras.Model.compile` (`run_eagerly`,
                `jit_compile`, `steps_per_execution`).
        """
        super().compile(d_optimizer=d_optimizer, g_optimizer=g_optimizer, **kwargs)

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker, self.hole_l1_tracker,
                self.adversarial_tracker]

    # --- Train step ---

    def _unpack(self, data):
        pair = _batch_pair(data, ("images", "masks"))
        if pair is None:
            raise ValueError(
                "Inpainter trains on (images, masks) pairs, e.g. "
                "`keras_gans.data.inpainting_pairs(...)` or `fit(images, masks)`; "
                f"received {type(data).__name__} data without masks."
            )
        images, masks = pair
        images = utils.to_float(images)
        if masks.shape.rank == 3:
            masks = masks[..., None]
        shape, mask_shape = tuple(images.shape), tuple(masks.shape)
        ok = len(shape) == 4 and len(mask_shape) == 4 and mask_shape[-1] == 1 and all(
            a is None or b is None or a == b for a, b in zip(shape[:3], mask_shape[:3]))
        if not ok or shape[-1] != self.channels:
            raise ValueError(
                f"Inpainter trains on images (N, H, W, {self.channels}) with masks "
                f"(N, H, W) or (N, H, W, 1); received images of shape {shape} and masks "
                f"of shape {mask_shape}."
            )
        bad = [s for s in shape[1:3] if s is not None and s % self.size_multiple]
        if bad:
            raise ValueError(
                f"Inpainter trains on images whose sides are multiples of "
                f"{self.size_multiple} (the U-Net's downsampling); received images of "
                f"shape {shape}. Resize or crop them (`inpaint` takes any size)."
            )
        masks = tf.cast(tf.cast(masks, tf.bool), tf.float32)
        return images, masks

    def _generator_inputs(self, images, masks):
        # `where`, not a product: a NaN under the hole must not reach the generator.
        hidden = tf.where(masks > 0, tf.zeros_like(images), images)
        return tf.concat([hidden, masks], axis=-1)

    def _step_losses(self, images, masks, training):
        fake = self.generator(self._generator_inputs(images, masks), training=training)
        completed = masks * fake + (1.0 - masks) * images
        real_out = self.discriminator(tf.concat([images, masks], -1), training=training)
        fake_out = self.discriminator(tf.concat([completed, masks], -1), training=training)
        d_loss = self._d_loss_fn(real_out, fake_out)
        adversarial = self._g_loss_fn(fake_out)
        hole_l1, valid_l1 = _region_l1(images, fake, masks)
        g_loss = (self.hole_weight * hole_l1 + self.valid_weight * valid_l1
                  + self.adversarial_weight * adversarial)
        return d_loss, g_loss, hole_l1, adversarial

    def train_step(self, data):
        images, masks = self._unpack(data)
        d_vars = self.discriminator.trainable_variables
        g_vars = self.generator.trainable_variables
        # One forward pass for both updates (the pix2pix schedule of the TensorFlow
        # tutorial): D and G both step from the same weights.
        with tf.GradientTape() as d_tape, tf.GradientTape() as g_tape:
            d_loss, g_loss, hole_l1, adversarial = self._step_losses(images, masks, True)
            # Inside the tapes: an op outside them would cut the gradient.
            d_scaled = self._loss_for_gradients(d_loss, self.d_optimizer)
            g_scaled = self._loss_for_gradients(g_loss, self.g_optimizer)
        d_grads = d_tape.gradient(d_scaled, d_vars)
        g_grads = g_tape.gradient(g_scaled, g_vars)
        self.d_optimizer.apply(d_grads, d_vars)
        self.g_optimizer.apply(g_grads, g_vars)
        self.noise_step.assign_add(1)
        return self._track(d_loss, g_loss, hole_l1, adversarial)

    def test_step(self, data):
        images, masks = self._unpack(data)
        return self._track(*self._step_losses(images, masks, False))

    def _track(self, d_loss, g_loss, hole_l1, adversarial):
        for tracker, value in zip(self.metrics, (d_loss, g_loss, hole_l1, adversarial)):
            tracker.update_state(value)
        return _replica_logs(self.metrics)

    def call(self, inputs, training=False):
        """`(images, masks)` -> the completed images (known pixels kept)."""
        images, masks = self._unpack(tuple(inputs))
        fake = self.generator(self._generator_inputs(images, masks), training=training)
        return masks * fake + (1.0 - masks) * images

    # --- Inpainting ---

    def _fill(self, images, masks):
        """The generator's output for float images `[N, H, W, C]` in [-1, 1] and masks
        `[N, H, W, 1]` (1 = missing) of any size >= `size_multiple`: both padded by
        reflection at the bottom and right to a multiple of it, the output cropped."""
        height, width = tf.shape(images)[1], tf.shape(images)[2]
        multiple = self.size_multiple
        x = self._generator_inputs(images, masks)
        if multiple > 1:
            paddings = [[0, 0], [0, (-height) % multiple], [0, (-width) % multiple], [0, 0]]
            x = tf.pad(x, paddings, mode="REFLECT")
        out = self.generator(x, training=False)
        return tf.cast(out[:, :height, :width, :], tf.float32)

    def _fill_network(self, inputs, training=False):
        """`_fill` in the calling convention of `export.network_call`."""
        images, masks = inputs
        return self._fill(images, masks)

    def _get_fill_fn(self):
        if self._fill_fn is None:
            specs = [tf.TensorSpec([None, None, None, self.channels], tf.float32),
                     tf.TensorSpec([None, None, None, 1], tf.float32)]
            self._fill_fn = tf.function(self._fill, input_signature=specs,
                                        autograph=False).get_concrete_function()
        return self._fill_fn

    def inpaint(self, images, masks):
        """Fill the masked pixels of `images`; every other pixel is returned unchanged.

        Args:
            images: uint8 (0-255) or float (in [-1, 1]) images, one `(H, W, C)` or a
                batch `(N, H, W, C)`, of any height and width of at least
                `size_multiple` (they are padded by reflection internally). Pixels under
                the mask are never read: they may hold anything, NaN included.
            masks: bool, `(H, W)` for one image or `(N, H, W)` for a batch; `True` marks
                a missing pixel.

        Returns:
            An array of the same dtype and shape as `images`: the input's pixels where
            the mask is False (exactly), the model's where it is True (uint8 rounded).
            A mask with no True pixel returns a copy of the input.

        Raises:
            TypeError: `images` is neither uint8 nor float, or `masks` is not bool.
            ValueError: shapes that differ, an image smaller than `size_multiple`, NaN,
                infinite or out-of-range float pixels outside the mask, or an image
                whose mask covers all of it (there is nothing to fill it from).
        """
        images, masks, single = self._check_inpaint_inputs(images, masks)
        if not masks.any():
            return (images[0] if single else images).copy()
        floats = utils.to_float(images) if images.dtype == np.uint8 else images.astype("float32")
        floats = np.where(masks[..., None], np.float32(0.0), floats)
        fill = self._get_fill_fn()
        out = [fill(tf.constant(floats[i:i + _INPAINT_CHUNK]),
                    tf.constant(masks[i:i + _INPAINT_CHUNK, ..., None], tf.float32)).numpy()
               for i in range(0, len(floats), _INPAINT_CHUNK)]
        out = np.concatenate(out)
        out = utils.to_uint8(out) if images.dtype == np.uint8 else out.astype(images.dtype)
        result = np.where(masks[..., None], out, images)
        return result[0] if single else result

    def _check_inpaint_inputs(self, images, masks):
        images, masks = np.asarray(images), np.asarray(masks)
        if not (images.dtype == np.uint8 or np.issubdtype(images.dtype, np.floating)):
            raise TypeError(
                "Received an invalid value for argument `images`. Expected uint8 (0-255) "
                f"or float (in [-1, 1]) images, received dtype {images.dtype}."
            )
        if masks.dtype != np.bool_:
            raise TypeError(
                "Received an invalid value for argument `masks`. Expected a bool array "
                f"(True = missing), received dtype {masks.dtype}; e.g. pass `masks > 0`."
            )
        if images.ndim not in (3, 4) or images.shape[-1] != self.channels:
            raise ValueError(
                "Received an invalid value for argument `images`. Expected an image "
                f"(H, W, {self.channels}) or a batch (N, H, W, {self.channels}), received "
                f"shape {images.shape}."
            )
        single = images.ndim == 3
        if masks.shape != images.shape[:-1]:
            raise ValueError(
                "Received an invalid value for argument `masks`. Expected the shape of "
                f"the images without channels, {images.shape[:-1]}, received shape "
                f"{masks.shape}."
            )
        if single:
            images, masks = images[None], masks[None]
        if 0 in images.shape:
            raise ValueError(
                f"Received an invalid value for argument `images`: empty, shape "
                f"{images.shape}."
            )
        if min(images.shape[1:3]) < self.size_multiple:
            raise ValueError(
                "Received an invalid value for argument `images`. Expected height and "
                f"width of at least {self.size_multiple} (this Inpainter's size_multiple), "
                f"received shape {images.shape[1:3]}."
            )
        if images.dtype != np.uint8:
            known = images[~masks]
            if known.size and not np.all(np.isfinite(known)):
                raise ValueError(
                    "Received an invalid value for argument `images`: "
                    f"{int(np.sum(~np.isfinite(known)))} NaN or infinite pixel values "
                    "outside the mask. Mark them missing in `masks`."
                )
            if known.size and (known.min() < -1.0 or known.max() > 1.0):
                raise ValueError(
                    "Received an invalid value for argument `images`. Expected float "
                    f"images in [-1, 1], received values in [{known.min():.4g}, "
                    f"{known.max():.4g}]. Pass uint8 (0-255) or rescale them."
                )
        full = np.flatnonzero(masks.reshape(len(masks), -1).all(axis=1))
        if full.size:
            which = "the image" if single else f"images {full[:10].tolist()}"
            raise ValueError(
                "Received an invalid value for argument `masks`: it marks every pixel of "
                f"{which} missing, so there is nothing to fill from. Leave some pixels "
                "known (an Inpainter completes images; it does not generate them)."
            )
        return images, masks, single

    # --- Declarations ---

    def serving_signatures(self, jit_compile=False):
        """`inpaint`: uint8 `images` `[N, H, W, C]` and uint8 `masks` `[N, H, W]`
        (non-zero = missing) of any size at least `size_multiple` -> `images_uint8`, the
        input's pixels outside the mask (exactly) and the model's inside; `jit_compile`
        compiles the fill (padding, generator, crop) with XLA, the checks stay outside."""
        channels = self.channels
        fill = export_lib.network_call(self._fill_network, jit_compile)
        specs = [tf.TensorSpec([None, None, None, channels], tf.uint8, name="images"),
                 tf.TensorSpec([None, None, None], tf.uint8, name="masks")]
        # Channels, sides of at least `size_multiple`, a bounded number of pixels.
        check_images = export_lib.image_checks(self.generator, self.size_multiple,
                                               channels_in=channels)

        def inpaint(images, masks):
            images, masks = check_images(images), tf.ensure_shape(masks, [None, None, None])
            masks = export_lib.checked(masks, [tf.debugging.assert_equal(
                tf.shape(masks), tf.shape(images)[:3],
                message="`masks` must have the shape of `images` without channels")])

            def fill_holes():
                missing = tf.not_equal(masks, 0)[..., None]
                out = fill(utils.to_float(images), tf.cast(missing, tf.float32))
                return tf.where(missing, utils.to_uint8(out), images)

            # No image: nothing to fill (the padding cannot run on an empty batch).
            empty = tf.equal(tf.shape(images)[0], 0)
            return {"images_uint8": tf.cond(empty, lambda: images, fill_holes)}

        return {
            "endpoints": [("inpaint", inpaint, specs)],
            "metadata": {"family": "inpainter", "channels": channels,
                         "size_multiple": self.size_multiple, "mask": "non-zero = missing",
                         "max_request_output_pixels":
                             export_lib.max_request_output_pixels(self.generator)},
        }

    def preview(self, images, masks):
        """`{"inpaint": [masked, completed, original]}` (the hole drawn white)."""
        images = utils.to_float(np.asarray(images))
        masks = _as_bool_masks(masks)
        masked = np.where(masks[..., None], np.float32(_HOLE_COLOUR), images)
        return {"inpaint": [masked, self.inpaint(images, masks), images]}

    def fingerprint(self):
        shape = (2, 28, 28, self.channels)
        images = np.linspace(-1, 1, int(np.prod(shape)), dtype="float32").reshape(shape)
        masks = np.zeros(shape[:3], bool)
        masks[:, 7:21, 7:21] = True
        return ("inpaint(linspace(-1, 1) as (2, 28, 28, C), centre 14x14 hole)",
                self.inpaint(images, masks))

    @classmethod
    def from_train_options(cls, options, dataset):
        model = cls.from_shape(tuple(dataset.element_spec[0].shape[1:]),
                               filters=options["base_filters"], depth=options["depth"],
                               d_filters=options["base_filters"],
                               hole_weight=options["hole_weight"],
                               adversarial_weight=options["adversarial_weight"],
                               seed=options["seed"])
        model.compile()
        return model

    @classmethod
    def train_dataset(cls, options, **common):
        from keras_gans import data

        return data.inpainting_pairs(
            options["data"], masks=_TRAIN_MASKS.get(options["masks"], options["masks"]),
            image_size=options["image_size"], **common)


def _region_l1(images, fake, masks):
    """Per-image mean absolute errors inside and outside the hole, averaged over the batch.

    Per image, so that a replica's mean over its share of the batch, divided by the
    number of replicas, sums to the global batch's mean.
    """
    error = tf.reduce_mean(tf.abs(tf.cast(fake, tf.float32) - images), axis=-1,
                           keepdims=True)
    hole = tf.reduce_sum(masks, axis=[1, 2, 3])
    valid = tf.reduce_sum(1.0 - masks, axis=[1, 2, 3])
    hole_l1 = tf.reduce_sum(error * masks, axis=[1, 2, 3]) / tf.maximum(hole, 1.0)
    valid_l1 = tf.reduce_sum(error * (1.0 - masks), axis=[1, 2, 3]) / tf.maximum(valid, 1.0)
    return tf.reduce_mean(hole_l1), tf.reduce_mean(valid_l1)


def _as_bool_masks(masks):
    """Masks from a dataset (bool, or 0/1 floats, maybe with a channel axis) as bool."""
    masks = np.asarray(masks)
    if masks.ndim == 4 and masks.shape[-1] == 1:
        masks = masks[..., 0]
    return masks.astype(bool) if masks.dtype != np.bool_ else masks
