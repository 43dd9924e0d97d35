"""The CycleGAN networks: the ResNet generator and the PatchGAN discriminator.

The generator is Johnson et al. 2016's (https://arxiv.org/abs/1603.08155), with
reflection padding and instance normalisation, as in Zhu et al. 2017
(https://arxiv.org/abs/1703.10593), appendix 7.2; the discriminator is the 70x70
PatchGAN of Isola et al. 2017 (https://arxiv.org/abs/1611.07004). Both are fully
convolutional. `keras_gans.models.cyclegan` uses them (and re-exports them);
`keras_gans.models.inpainter` uses the discriminator.
"""

import keras
import numpy as np
from keras import layers

from keras_gans.layers import ReflectionPadding2D
from keras_gans.models.base import _check_positive_int


def _instance_norm(name):
    # GroupNormalization with one group per channel is instance normalisation
    # (Ulyanov et al. 2016); epsilon as in PyTorch's InstanceNorm2d.
    return layers.GroupNormalization(groups=-1, epsilon=1e-5, name=name)


def residual_block(x, filters, name):
    """One residual block of the ResNet generator: `x + IN(conv(pad(ReLU(IN(conv(pad(x)))))))`.

    Two 3x3 convolutions, each after a reflection padding of 1 and followed by instance
    normalisation, ReLU between them, no activation after the sum (Johnson et al. 2016,
    https://arxiv.org/abs/1603.08155, supplementary; the CycleGAN code's
    `ResnetBlock`).

    Args:
        x: a `[B, H, W, filters]` symbolic tensor.
        filters: channels of `x` (and of both convolutions).
        name: prefix of the layer names.

    Returns:
        The block's output, same shape as `x`.
    """
    y = ReflectionPadding2D(1, name=f"{name}_pad1")(x)
    y = layers.Conv2D(filters, 3, use_bias=False, name=f"{name}_conv1")(y)
    y = _instance_norm(f"{name}_norm1")(y)
    y = layers.ReLU(name=f"{name}_relu")(y)
    y = ReflectionPadding2D(1, name=f"{name}_pad2")(y)
    y = layers.Conv2D(filters, 3, use_bias=False, name=f"{name}_conv2")(y)
    y = _instance_norm(f"{name}_norm2")(y)
    return layers.Add(name=f"{name}_add")([x, y])


def build_resnet_generator(channels=3, filters=64, num_residual_blocks=9, name="generator"):
    """The CycleGAN generator: `c7s1-f, d2f, d4f, R4f x n, u2f, uf, c7s1-C`, tanh.

    Zhu et al. 2017 (https://arxiv.org/abs/1703.10593), appendix 7.2, after Johnson et al.
    2016 (https://arxiv.org/abs/1603.08155): a 7x7 convolution after a reflection padding
    of 3, two stride-2 3x3 convolutions, `n` residual blocks, two stride-2 transposed
    convolutions, a 7x7 convolution to `C` channels; instance normalisation and ReLU
    after every convolution but the last. The paper uses `f=64` and 6 blocks for
    128x128 images, 9 for 256x256; `f=32` and 3-4 blocks suit 32x32 images.

    Fully convolutional: the input is `(None, None, channels)` and any image whose sides
    are multiples of 4 comes out the same size.

    Args:
        channels: image channels (the same in and out).
        filters: `f`, the channels of the first convolution.
        num_residual_blocks: `n` (0 leaves a plain encoder-decoder).
        name: the model's name.

    Returns:
        A functional `keras.Model`: `[B, H, W, C]` in [-1, 1] -> `[B, H, W, C]` in [-1, 1].
    """
    _check_positive_int("channels", channels)
    _check_positive_int("filters", filters)
    if (isinstance(num_residual_blocks, bool)
            or not isinstance(num_residual_blocks, (int, np.integer)) or num_residual_blocks < 0):
        raise ValueError(
            "Received an invalid value for argument `num_residual_blocks`. Expected a "
            f"non-negative integer, received: num_residual_blocks={num_residual_blocks!r}"
        )
    images = keras.Input((None, None, channels), name="images")
    x = ReflectionPadding2D(3, name="stem_pad")(images)
    x = layers.Conv2D(filters, 7, use_bias=False, name="stem_conv")(x)
    x = _instance_norm("stem_norm")(x)
    x = layers.ReLU(name="stem_relu")(x)
    for i, width in enumerate((2 * filters, 4 * filters)):
        x = layers.Conv2D(width, 3, strides=2, padding="same", use_bias=False,
                          name=f"down{i}_conv")(x)
        x = _instance_norm(f"down{i}_norm")(x)
        x = layers.ReLU(name=f"down{i}_relu")(x)
    for i in range(num_residual_blocks):
        x = residual_block(x, 4 * filters, name=f"res{i}")
    for i, width in enumerate((2 * filters, filters)):
        x = layers.Conv2DTranspose(width, 3, strides=2, padding="same", use_bias=False,
                                   name=f"up{i}_conv")(x)
        x = _instance_norm(f"up{i}_norm")(x)
        x = layers.ReLU(name=f"up{i}_relu")(x)
    x = ReflectionPadding2D(3, name="head_pad")(x)
    x = layers.Conv2D(channels, 7, name="head_conv")(x)
    # tanh in float32 so mixed precision still returns float32 images in [-1, 1].
    outputs = layers.Activation("tanh", dtype="float32", name="translated")(x)
    return keras.Model(images, outputs, name=name)


def build_patchgan_discriminator(channels=3, filters=64, num_layers=3, name="discriminator"):
    """The PatchGAN discriminator: one real/fake score per overlapping image patch.

    `C64-C128-C256-C512`, then a 1-channel convolution, for `num_layers=3` (the 70x70
    PatchGAN of Isola et al. 2017, https://arxiv.org/abs/1611.07004, used by Zhu et al.
    2017, appendix 7.2): 4x4 convolutions, stride 2 but for the last two, LeakyReLU(0.2),
    instance normalisation on all but the first. Fewer layers give smaller patches for
    small images (`num_layers=2`: 34x34 patches).

    Args:
        channels: image channels.
        filters: channels of the first convolution; each later one doubles, up to 8x.
        num_layers: the number of stride-2 convolutions.
        name: the model's name.

    Returns:
        A functional `keras.Model`: `[B, H, W, C]` -> raw scores
        `[B, ceil(H / 2^n), ceil(W / 2^n), 1]` (no sigmoid: the least-squares loss uses
        them as they are).
    """
    _check_positive_int("channels", channels)
    _check_positive_int("filters", filters)
    _check_positive_int("num_layers", num_layers)
    images = keras.Input((None, None, channels), name="images")
    x = layers.Conv2D(filters, 4, strides=2, padding="same", name="down0_conv")(images)
    x = layers.LeakyReLU(0.2, name="down0_lrelu")(x)
    for i in range(1, num_layers + 1):
        stride = 2 if i < num_layers else 1
        width = filters * min(2 ** i, 8)
        x = layers.Conv2D(width, 4, strides=stride, padding="same", use_bias=False,
                          name=f"down{i}_conv")(x)
        x = _instance_norm(f"down{i}_norm")(x)
        x = layers.LeakyReLU(0.2, name=f"down{i}_lrelu")(x)
    x = layers.Conv2D(1, 4, padding="same", name="patch_conv")(x)
    scores = layers.Activation("linear", dtype="float32", name="scores")(x)
    return keras.Model(images, scores, name=name)


def default_num_residual_blocks(image_shape):
    """The paper's generator depth: 9 residual blocks for 256x256 images and up, else 6."""
    return 9 if min(image_shape[:2]) >= 256 else 6
