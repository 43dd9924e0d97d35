"""DCGAN (Radford, Metz & Chintala 2015, arXiv:1511.06434).

Builders for the paper's networks at any image size whose sides are multiples of 4,
then the `DCGAN` model: the base GAN with the minimax loss and Adam(2e-4, beta_1=0.5).

    gan = DCGAN.from_shape((28, 28, 1), latent_dim=100)
    gan.compile()
    gan.fit(keras_gans.data.images(x_train), epochs=10)
"""

import keras
from keras import layers

from keras_gans import memory
from keras_gans.layers import FusedBatchNormalization
from keras_gans.models.base import _check_bool, _check_positive_int
from keras_gans.models.clusters import ClusterSampler, _check_clusters
from keras_gans.models.gan import GAN

NORMALIZATIONS = ("batch", "layer", "none")
#: The generator's ways to double the resolution (`build_generator(upsampling=...)`).
UPSAMPLINGS = ("transposed", "resize")

# `keras-gans train` options (dest -> spec; see `keras_gans.models.base`): literals, read
# by the CLI without importing this module (and TensorFlow). Those of the GAN family,
# shared by lsgan and wgan_gp; then DCGAN's own.
GAN_TRAIN_OPTIONS = {
    "image_size": {"type": "image_size", "default": None,
                   "help": "resize to SIZE or HEIGHTxWIDTH (sides multiples of 4; default: "
                           "the data's size)"},
    "latent_dim": {"type": "positive_int", "default": 100, "help": "default: 100"},
    "num_classes": {"type": "positive_int", "default": None,
                    "help": "train a class-conditional GAN on the data's labels (folders: "
                            "one subfolder per class; IDX: the labels file beside it)"},
    "conditional": {"type": "flag", "default": False,
                    "help": "like --num-classes, with the number of classes taken from the "
                            "folder's subfolders"},
    "clusters": {"type": "positive_int", "default": None,
                 "help": "self-condition on K k-means clusters of the images (no labels "
                         "needed; the model stays unconditional), e.g. 30"},
    "ema_decay": {"type": "fraction", "default": None,
                  "help": "keep an exponential moving average of the generator (e.g. 0.999)"},
    "spectral_norm": {"type": "flag", "default": False,
                      "help": "spectral normalisation of the discriminator"},
    "upsampling": {"choices": ["transposed", "resize"], "default": "transposed",
                   "help": "the generator's upsampling: transposed 4x4 convolutions (the "
                           "paper) or nearest-neighbour resize then a 3x3 convolution "
                           "(Odena et al. 2016: no checkerboard artefacts)"},
}
TRAIN_OPTIONS = {
    **GAN_TRAIN_OPTIONS,
    "label_smoothing": {"type": "fraction", "default": 0.0,
                        "help": "one-sided label smoothing (default: 0)"},
}
# GAN_TRAIN_OPTIONS that are not arguments of `from_shape`.
_DATA_OPTIONS = ("image_size", "num_classes", "conditional")


def _check_image_shape(image_shape):
    ok = isinstance(image_shape, (tuple, list)) and len(image_shape) == 3 and all(
        isinstance(s, int) and s > 0 for s in image_shape
    )
    if not ok:
        raise ValueError(
            "Received an invalid value for argument `image_shape`. Expected (height, "
            f"width, channels) as positive integers, received: image_shape={image_shape!r}"
        )
    height, width, _ = image_shape
    if height % 4 or width % 4:
        raise ValueError(
            "Received an invalid value for argument `image_shape`. DCGAN needs image "
            "sides that are multiples of 4 (the generator upsamples by 2 at least twice); "
            f"received: image_shape={tuple(image_shape)}. Resize or pad the images, e.g. "
            "`keras_gans.data.images(..., image_size=...)`."
        )
    return tuple(image_shape)


# Copies of each weight that training holds: the weight, its gradient, Adam's two
# moments and the generator's EMA.
_WEIGHT_COPIES = 5


def _check_weights_fit(image_shape, floats, network):
    """Refuse, before building anything, an `image_shape` whose `network` weights (and
    their training copies) would not fit in this process's memory."""
    memory.check_fits(4 * _WEIGHT_COPIES * floats, (
        f"Received an invalid value for argument `image_shape`: the {network}'s weights "
        f"for image_shape={tuple(image_shape)} need {{needed}} to train (its size grows "
        "with the image's), more than the {available} this process can still allocate. "
        "Use smaller images (`keras_gans.data.images(..., image_size=...)`)."))


def upsampling_stages(height, width, max_stages=5):
    """How many stride-2 stages take a >= 4-pixel seed to (height, width).

    28 -> 2 stages from 7x7; 64 -> 4 stages from 4x4 (the paper's 64x64 generator).
    """
    stages = 2
    while (stages < max_stages and height % 2 ** (stages + 1) == 0
           and width % 2 ** (stages + 1) == 0 and min(height, width) // 2 ** (stages + 1) >= 4):
        stages += 1
    return stages


def build_generator(image_shape, latent_dim=100, base_filters=64, num_classes=None,
                    name="generator", clusters=None, upsampling="transposed"):
    """The DCGAN generator: project and reshape, then strided transposed convolutions.

    Batch norm and ReLU after every layer but the last, which is a tanh (the paper's
    recipe). Conditional (`num_classes`): a learned label embedding is concatenated to
    the noise.

    Args:
        image_shape: `(H, W, C)`, sides multiples of 4.
        latent_dim: size of the noise vector.
        base_filters: filters of the last hidden stage; each earlier stage doubles it.
        num_classes: `None`, or the number of classes for a conditional generator.
        clusters: `None`, or K for a self-conditioned one (`keras_gans.models.clusters`):
            a `ClusterSampler` draws each sample's cluster from `z[:, 0]` and its
            embedding joins the noise, as a label's would; the model still takes `z`.
        upsampling: how each stage doubles the resolution: `"transposed"`, a 4x4
            transposed convolution of stride 2 (the paper); or `"resize"`, a
            nearest-neighbour `UpSampling2D` then a 3x3 convolution (the "resize-
            convolution" of Odena, Dumoulin & Olah 2016, which cannot make checkerboard
            artefacts; 9/4 of the transposed convolution's multiply-adds).

    Returns:
        A functional `keras.Model`: `z -> images` or `[z, labels] -> images`.
    """
    height, width, channels = _check_image_shape(image_shape)
    if upsampling not in UPSAMPLINGS:
        raise ValueError(
            "Received an invalid value for argument `upsampling`. Expected one of "
            f"{UPSAMPLINGS}, received: upsampling={upsampling!r}"
        )
    _check_positive_int("latent_dim", latent_dim)
    _check_positive_int("base_filters", base_filters)
    _check_positive_int("num_classes", num_classes, allow_none=True)
    clusters = _check_clusters(clusters)
    if clusters and num_classes:
        raise ValueError("Arguments `clusters` and `num_classes` exclude each other; "
                         f"received clusters={clusters}, num_classes={num_classes}.")
    stages = upsampling_stages(height, width)
    h0, w0 = height // 2**stages, width // 2**stages
    filters = base_filters * 2 ** (stages - 1)

    z = keras.Input((latent_dim,), name="z")
    inputs, x = z, z
    if num_classes:
        labels = keras.Input((), dtype="int32", name="labels")
        embedded = layers.Embedding(num_classes, min(50, latent_dim), name="label_embedding")(
            labels)
        x = layers.Concatenate(name="z_and_label")([z, embedded])
        inputs = [z, labels]
    elif clusters:
        drawn = ClusterSampler(clusters, name="cluster_sampler")(z)
        embedded = layers.Embedding(clusters, min(50, latent_dim), name="cluster_embedding")(
            drawn)
        x = layers.Concatenate(name="z_and_cluster")([z, embedded])
    _check_weights_fit(image_shape, (z.shape[-1] + (min(50, latent_dim) if num_classes or
                                                    clusters else 0)) * h0 * w0 * filters,
                       "generator")
    x = layers.Dense(h0 * w0 * filters, use_bias=False, name="project")(x)
    x = layers.Reshape((h0, w0, filters))(x)
    x = FusedBatchNormalization(name="project_bn")(x)
    x = layers.ReLU()(x)

    def upsample(x, filters, use_bias, name):
        if upsampling == "transposed":
            return layers.Conv2DTranspose(filters, 4, strides=2, padding="same",
                                          use_bias=use_bias, name=name)(x)
        x = layers.UpSampling2D(2, interpolation="nearest", name=f"{name}_resize")(x)
        return layers.Conv2D(filters, 3, padding="same", use_bias=use_bias, name=name)(x)

    for i in range(stages - 1):
        filters //= 2
        x = upsample(x, filters, False, f"up{i}")
        x = FusedBatchNormalization(name=f"up{i}_bn")(x)
        x = layers.ReLU()(x)
    x = upsample(x, channels, True, "to_image")
    # tanh in float32 so mixed precision still returns float32 images in [-1, 1].
    images = layers.Activation("tanh", dtype="float32", name="images")(x)
    return keras.Model(inputs, images, name=name)


def build_discriminator(image_shape, base_filters=64, num_classes=None, normalization="batch",
                        spectral_norm=False, name="discriminator"):
    """The DCGAN discriminator: strided convolutions with LeakyReLU(0.2), one logit out.

    Args:
        image_shape: `(H, W, C)`, sides multiples of 4.
        base_filters: filters of the first convolution; each later one doubles it.
        num_classes: `None`, or the number of classes: a projection discriminator
            (Miyato & Koyama 2018) adding `<embed(y), features>` to the logit.
        normalization: `"batch"` (the paper), `"layer"` or `"none"` (WGAN-GP critics
            must not use batch norm). Never applied to the first layer.
        spectral_norm: wrap every convolution and dense layer in
            `keras.layers.SpectralNormalization` (Miyato et al. 2018).

    Returns:
        A functional `keras.Model`: `images -> [B, 1]` logits (or `[images, labels]`).
    """
    height, width, _ = _check_image_shape(image_shape)
    _check_positive_int("base_filters", base_filters)
    _check_positive_int("num_classes", num_classes, allow_none=True)
    spectral_norm = _check_bool("spectral_norm", spectral_norm)
    if normalization not in NORMALIZATIONS:
        raise ValueError(
            "Received an invalid value for argument `normalization`. Expected one of "
            f"{NORMALIZATIONS}, received: normalization={normalization!r}"
        )
    stages = upsampling_stages(height, width)
    # The largest weights: the logit's (and the projection's) over the last features,
    # and a layer norm's scale and offset of each feature map.
    features = (height >> stages) * (width >> stages) * base_filters * 2 ** (stages - 1)
    floats = features * (1 + (num_classes or 0))
    if normalization == "layer":
        floats += sum(2 * (height >> i + 1) * (width >> i + 1) * base_filters * 2 ** i
                      for i in range(1, stages))
    _check_weights_fit(image_shape, floats, "discriminator")

    def wrap(layer):
        return layers.SpectralNormalization(layer, name=f"sn_{layer.name}") \
            if spectral_norm else layer

    images = keras.Input(image_shape, name="images")
    inputs, x = images, images
    filters = base_filters
    for i in range(stages):
        x = wrap(layers.Conv2D(filters, 4, strides=2, padding="same",
                               use_bias=i == 0 or normalization == "none",
                               name=f"down{i}"))(x)
        if i > 0 and normalization == "batch":
            x = FusedBatchNormalization(name=f"down{i}_bn")(x)
        elif i > 0 and normalization == "layer":
            x = layers.LayerNormalization(axis=[1, 2, 3], name=f"down{i}_ln")(x)
        x = layers.LeakyReLU(0.2)(x)
        filters *= 2
    features = layers.Flatten(name="features")(x)
    logits = wrap(layers.Dense(1, name="logit"))(features)
    if num_classes:
        labels = keras.Input((), dtype="int32", name="labels")
        embedded = layers.Embedding(num_classes, features.shape[-1],
                                    name="label_projection")(labels)
        projection = layers.Dot(axes=1, name="projection")([embedded, features])
        logits = layers.Add(name="logit_plus_projection")([logits, projection])
        inputs = [images, labels]
    logits = layers.Activation("linear", dtype="float32", name="logits")(logits)
    return keras.Model(inputs, logits, name=name)


@keras.saving.register_keras_serializable(package="keras_gans")
class DCGAN(GAN):
    """Deep convolutional GAN (Radford et al. 2015) trained with `fit`.

    The minimax loss (non-saturating for G), Adam(2e-4, beta_1=0.5) by default. Logs
    `d_loss`, `g_loss`, and the mean probabilities `d_real` = D(x), `d_fake` = D(G(z)).
    Takes every option of `keras_gans.models.gan.GAN` (label smoothing, instance noise,
    R1, EMA, `d_steps`, class-conditional).

    Example:

    ```python
    gan = keras_gans.DCGAN.from_shape((28, 28, 1), latent_dim=64)
    gan.compile()
    gan.fit(keras_gans.data.images(x_train, batch_size=128), epochs=5)
    images = gan.generate(16, seed=0)   # float32 in [-1, 1], (16, 28, 28, 1)
    ```
    """

    adversarial_loss = "non_saturating"
    #: The discriminator's normalization in `from_shape`.
    discriminator_normalization = "batch"
    train_options = TRAIN_OPTIONS

    @classmethod
    def from_shape(cls, image_shape, latent_dim=100, num_classes=None, base_filters=64,
                   d_base_filters=None, spectral_norm=False, normalization=None,
                   clusters=None, upsampling="transposed", **kwargs):
        """Build the paper's generator and discriminator for `image_shape`.

        Args:
            image_shape: `(H, W, C)` with sides multiples of 4 (e.g. 28x28x1, 64x64x3).
            latent_dim: size of the noise vector.
            num_classes: `None`, or the number of classes for a conditional GAN.
            base_filters: width of the generator's last hidden stage.
            d_base_filters: width of the discriminator's first layer (default
                `base_filters`).
            spectral_norm: spectral normalisation of the discriminator.
            normalization: the discriminator's normalization (`"batch"`, `"layer"`,
                `"none"`); defaults to the variant's (`"none"` for WGAN-GP, and `"none"`
                with spectral norm).
            clusters: `None`, or K: self-conditioning on K clusters of the training
                images (`keras_gans.models.clusters`; call `adapt(images)` before `fit`).
                The model stays unconditional; inside, the generator draws a cluster
                from the noise and the discriminator is a projection discriminator over
                the clusters.
            upsampling: the generator's upsampling, `"transposed"` (the paper) or
                `"resize"` (nearest-neighbour resize then a 3x3 convolution); see
                `build_generator`.
            **kwargs: options of the model (`ema_decay`, `label_smoothing`, ...).
        """
        spectral_norm = _check_bool("spectral_norm", spectral_norm)
        if normalization is None:
            normalization = "none" if spectral_norm else cls.discriminator_normalization
        generator = build_generator(image_shape, latent_dim, base_filters, num_classes,
                                    clusters=clusters, upsampling=upsampling)
        discriminator = build_discriminator(
            image_shape, d_base_filters or base_filters, num_classes or clusters,
            normalization=normalization, spectral_norm=spectral_norm)
        return cls(generator, discriminator, latent_dim=latent_dim, num_classes=num_classes,
                   clusters=clusters, **kwargs)

    # --- keras-gans train ---

    @classmethod
    def train_dataset(cls, options, **common):
        from keras_gans import data

        return data.images(options["data"], image_size=options["image_size"],
                           labels=bool(options["num_classes"] or options["conditional"]),
                           num_classes=options["num_classes"], **common)

    @classmethod
    def from_train_options(cls, options, dataset):
        """A compiled model of this class; every option of `train_options` but the data's
        is an argument of `from_shape` (`--label-smoothing`, `--n-critic`, ...)."""
        num_classes = _train_num_classes(options, dataset)
        spec = dataset.element_spec
        kwargs = {dest: options[dest] for dest in cls.train_options
                  if dest not in _DATA_OPTIONS}
        model = cls.from_shape(tuple((spec[0] if num_classes else spec).shape[1:]),
                               num_classes=num_classes, base_filters=options["base_filters"],
                               seed=options["seed"], **kwargs)
        model.compile()
        if model.clusters:
            model.adapt(dataset)
        return model


def _train_num_classes(options, dataset):
    """`--num-classes`, or with `--conditional` the number of the folder's classes."""
    if options["num_classes"]:
        return options["num_classes"]
    if not options["conditional"]:
        return None
    class_names = getattr(dataset, "class_names", None)
    if not class_names:
        raise ValueError("--conditional takes the number of classes from a folder with one "
                         "subfolder per class; for this DATA pass --num-classes K.")
    return len(class_names)
