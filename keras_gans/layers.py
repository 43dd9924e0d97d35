"""The package's own Keras layers: `ReflectionPadding2D` (CycleGAN's ResNet generator),
`PixelShuffle` and `BicubicUpsampling` (SRResNet's upsampling and bicubic skip), and
`FusedBatchNormalization` (the batch norm of the DCGAN and SRGAN builders).

All registered, so `.keras` files load in safe mode.
"""

import keras
import tensorflow as tf

# --- ReflectionPadding2D (CycleGAN; any image-to-image network) ---


@keras.saving.register_keras_serializable(package="keras_gans")
class ReflectionPadding2D(keras.layers.Layer):
    """Pads the height and width of images by mirroring them at the border.

    Reflection padding (`abc|ba`, without repeating the edge pixel) avoids the dark
    frame that zero padding leaves in translated images; the ResNet generator of
    Johnson et al., 2016 (https://arxiv.org/abs/1603.08155) and CycleGAN (Zhu et al.,
    2017, https://arxiv.org/abs/1703.10593) pad with it before every convolution.

    Args:
        padding: an int (the same on all four sides) or `((top, bottom), (left, right))`.
            Each amount must be smaller than the side it pads (a reflection needs that
            many pixels to mirror).

    Input shape:
        `(batch, height, width, channels)`; height and width may be unknown.

    Output shape:
        `(batch, height + top + bottom, width + left + right, channels)`.

    Example:

    >>> ReflectionPadding2D(3)(np.zeros((1, 8, 8, 3))).shape
    TensorShape([1, 14, 14, 3])
    """

    def __init__(self, padding=1, **kwargs):
        super().__init__(**kwargs)
        self.padding = self._normalize(padding)
        self.input_spec = keras.layers.InputSpec(ndim=4)

    @staticmethod
    def _normalize(padding):
        if isinstance(padding, int) and not isinstance(padding, bool):
            pairs = ((padding, padding), (padding, padding))
        else:
            try:
                pairs = tuple(tuple(int(v) for v in pair) for pair in padding)
            except (TypeError, ValueError):
                pairs = None
            if pairs is not None and (len(pairs) != 2 or any(len(p) != 2 for p in pairs)):
                pairs = None
            if pairs is None:
                raise ValueError(
                    "Received an invalid value for argument `padding`. Expected an int or "
                    f"((top, bottom), (left, right)), received: padding={padding!r}"
                )
        if any(v < 0 for pair in pairs for v in pair):
            raise ValueError(
                "Received an invalid value for argument `padding`. Expected non-negative "
                f"amounts, received: padding={padding!r}"
            )
        return pairs

    def call(self, inputs):
        (top, bottom), (left, right) = self.padding
        return keras.ops.pad(inputs, ((0, 0), (top, bottom), (left, right), (0, 0)),
                             mode="reflect")

    def compute_output_shape(self, input_shape):
        (top, bottom), (left, right) = self.padding
        batch, height, width, channels = input_shape
        return (batch, None if height is None else height + top + bottom,
                None if width is None else width + left + right, channels)

    def get_config(self):
        config = super().get_config()
        config["padding"] = [list(pair) for pair in self.padding]
        return config


# --- PixelShuffle (SRGAN; any sub-pixel upsampler) ---


def _check_factor(name, value):
    """An integer factor >= 2 (a bool is not one), else a ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 2:
        raise ValueError(
            f"Received an invalid value for argument `{name}`. Expected an integer >= 2, "
            f"received: {name}={value!r}"
        )
    return value


class _IntegerUpscaling(keras.layers.Layer):
    """Base of the layers that enlarge images by an integer factor, stored (and saved)
    under the attribute `factor_name`."""

    factor_name = "scale"

    def __init__(self, factor, **kwargs):
        super().__init__(**kwargs)
        setattr(self, self.factor_name, _check_factor(self.factor_name, factor))
        self.input_spec = keras.layers.InputSpec(ndim=4)

    def _output_channels(self, channels):
        return channels

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        r = getattr(self, self.factor_name)
        return (batch, None if height is None else height * r,
                None if width is None else width * r, self._output_channels(channels))

    def get_config(self):
        config = super().get_config()
        config[self.factor_name] = getattr(self, self.factor_name)
        return config


@keras.saving.register_keras_serializable(package="keras_gans")
class PixelShuffle(_IntegerUpscaling):
    """Sub-pixel upsampling: moves channels into `block_size` x `block_size` pixel blocks.

    `(N, H, W, C * r^2) -> (N, H * r, W * r, C)` with `keras.ops.depth_to_space`. A
    convolution to `C * r^2` channels followed by this layer is the efficient sub-pixel
    convolution of Shi et al., 2016 (https://arxiv.org/abs/1609.05158), the upsampling
    of SRResNet / SRGAN (Ledig et al., 2017, https://arxiv.org/abs/1609.04802). The
    channel order within a block is TensorFlow's (`tf.nn.depth_to_space`, "DCR"), not
    PyTorch's `PixelShuffle`: weights trained here are not interchangeable with it.

    Args:
        block_size: the upsampling factor `r`, an integer >= 2.

    Input shape:
        `(batch, height, width, channels)` with `channels` divisible by `block_size**2`;
        height and width may be unknown.

    Output shape:
        `(batch, height * r, width * r, channels // r**2)`.

    Example:

    >>> PixelShuffle(2)(np.zeros((1, 5, 7, 12))).shape
    TensorShape([1, 10, 14, 3])
    """

    factor_name = "block_size"

    def __init__(self, block_size=2, **kwargs):
        super().__init__(block_size, **kwargs)

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels is not None and channels % self.block_size**2:
            raise ValueError(
                f"PixelShuffle(block_size={self.block_size}) needs a channel count divisible "
                f"by {self.block_size**2}; received input shape {tuple(input_shape)}."
            )

    def call(self, inputs):
        return keras.ops.depth_to_space(inputs, self.block_size)

    def _output_channels(self, channels):
        return None if channels is None else channels // self.block_size**2


# --- BicubicUpsampling (SRGAN's bicubic skip; any residual-over-bicubic upsampler) ---


@keras.saving.register_keras_serializable(package="keras_gans")
class BicubicUpsampling(_IntegerUpscaling):
    """Bicubic upscaling of images of any size by an integer factor.

    `tf.image.resize(method="bicubic")`, the same as `keras_gans.utils.
    bicubic_upscale` (without its clipping), with the output size computed from the
    input's dynamic shape: `keras.layers.UpSampling2D(interpolation="bicubic")` cannot
    take images whose height and width are unknown when the model is built, which a
    fully convolutional super-resolution network needs.

    Args:
        scale: the upscaling factor, an integer >= 2.

    Input shape:
        `(batch, height, width, channels)`; height and width may be unknown.

    Output shape:
        `(batch, height * scale, width * scale, channels)`, in the input's dtype.

    Example:
    >>> BicubicUpsampling(4)(np.zeros((1, 5, 7, 3))).shape
    TensorShape([1, 20, 28, 3])
    """

    def __init__(self, scale=2, **kwargs):
        super().__init__(scale, **kwargs)

    def call(self, inputs):
        shape = tf.shape(inputs)
        out = tf.image.resize(inputs, (shape[1] * self.scale, shape[2] * self.scale),
                              method="bicubic")
        return tf.cast(out, inputs.dtype)


# --- FusedBatchNormalization (the DCGAN and SRGAN builders' batch norm) ---

# cuDNN's smallest batch-norm epsilon: TensorFlow's GPU kernel may raise smaller ones to
# it, so they take Keras's path, the same results on every device.
_FUSED_MIN_EPSILON = 1.001e-5


@keras.saving.register_keras_serializable(package="keras_gans")
class FusedBatchNormalization(keras.layers.BatchNormalization):
    """`keras.layers.BatchNormalization`, computed by TensorFlow's fused kernel on images.

    The same layer (arguments, weights, config, moving averages, results up to
    float rounding), but on 4-D channels-last inputs it runs TensorFlow's
    `FusedBatchNormV3` (one op forward, one backward, oneDNN's on CPU) where Keras 3
    composes `tf.nn.moments` and `tf.nn.batch_normalization` from about ten
    element-wise ops, each a pass over the activations and, on small images, each
    paying a per-op cost. On the zoo DCGAN's 28x28 networks, trained on 2 CPU cores,
    that made the whole training step 1.07x faster (`benchmarks/README.md`). Anything
    the fused kernel does not do exactly as Keras falls back to Keras's computation:
    another rank or axis, a mask, `renorm`, `synchronized=True`, an epsilon below
    1.001e-5, float64 inputs.

    The moving variance is updated with the batch's biased variance, as Keras does (the
    kernel reports the unbiased one, which is converted back). Files saved with
    `keras.layers.BatchNormalization` keep loading as they are; this class is registered,
    so `.keras` files holding it load in safe mode once `keras_gans` is imported.

    Example:

    >>> layer = FusedBatchNormalization(momentum=0.9)
    >>> layer(np.random.rand(8, 14, 14, 16), training=True).shape
    TensorShape([8, 14, 14, 16])
    """

    def _fusable(self, inputs, mask):
        rank = len(inputs.shape)
        return (mask is None and rank == 4 and self.axis in (-1, rank - 1)
                and keras.backend.standardize_dtype(inputs.dtype) != "float64"
                and not self.renorm and not self.synchronized
                and self.epsilon >= _FUSED_MIN_EPSILON)

    def call(self, inputs, training=None, mask=None):
        if not self._fusable(inputs, mask):
            return super().call(inputs, training=training, mask=mask)
        # float32 statistics whatever the policy, as Keras's layer.
        x = tf.cast(inputs, "float32")
        moving_mean = tf.cast(self.moving_mean, "float32")
        moving_variance = tf.cast(self.moving_variance, "float32")
        gamma = tf.cast(self.gamma, "float32") if self.scale else tf.ones_like(moving_mean)
        beta = tf.cast(self.beta, "float32") if self.center else tf.zeros_like(moving_mean)
        if training and self.trainable:
            outputs, mean, variance = tf.compat.v1.nn.fused_batch_norm(
                x, gamma, beta, epsilon=self.epsilon, data_format="NHWC", is_training=True)
            count = tf.cast(tf.reduce_prod(tf.shape(x)[:-1]), "float32")
            variance = variance * tf.math.divide_no_nan(count - 1.0, count)  # biased
            self.moving_mean.assign(
                moving_mean * self.momentum + mean * (1.0 - self.momentum))
            self.moving_variance.assign(
                moving_variance * self.momentum + variance * (1.0 - self.momentum))
        else:
            outputs, _, _ = tf.compat.v1.nn.fused_batch_norm(
                x, gamma, beta, mean=moving_mean, variance=moving_variance,
                epsilon=self.epsilon, data_format="NHWC", is_training=False)
        return tf.cast(outputs, self.compute_dtype)
