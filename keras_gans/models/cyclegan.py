"""CycleGAN (Zhu, Park, Isola & Efros 2017, arXiv:1703.10593).

Unpaired image-to-image translation between two domains A and B: two generators
`G: A -> B` (`generator_a2b`) and `F: B -> A` (`generator_b2a`), two PatchGAN
discriminators `D_A` (real A vs `F(b)`) and `D_B` (real B vs `G(a)`), trained with a
least-squares adversarial loss, the cycle-consistency loss `|a - F(G(a))| + |b - G(F(b))|`
and the identity loss `|b - G(b)| + |a - F(a)|`.

The file reads top to bottom: the learning-rate schedule, the shape checks, then the
model. The network builders (the ResNet generator of Johnson et al. 2016 with
reflection padding and instance normalisation, the 70x70 PatchGAN of Isola et al. 2017)
live in `keras_gans.models.cyclegan_networks`, the history pool in
`keras_gans.models.history_pool`; both are importable from here too.

    gan = CycleGAN.from_shape((256, 256, 3))
    gan.compile(total_steps=200 * steps_per_epoch)     # the paper's schedule
    gan.fit(keras_gans.data.unpaired("horses/", "zebras/", image_size=256, jitter=True),
            epochs=200)
    zebras = gan.translate(horse_photos, direction="a2b")
"""

import keras
import numpy as np
import tensorflow as tf

from keras_gans import augment as augment_lib
from keras_gans import export as export_lib
from keras_gans import losses as losses_lib
from keras_gans import memory, utils
from keras_gans.models.base import (
    AdversarialModel,
    _batch_pair,
    _check_non_negative,
    _check_positive_int,
    _replica_logs,
)
from keras_gans.models.cyclegan_networks import (  # noqa: F401 - importable from here
    build_patchgan_discriminator,
    build_resnet_generator,
    default_num_residual_blocks,
    residual_block,
)
from keras_gans.models.history_pool import history_pool_query

#: The generators downsample twice by 2, so images sides must be multiples of this.
SIZE_MULTIPLE = 4
DIRECTIONS = ("a2b", "b2a")
# `translate` runs batches of at most this many images through a generator.
_TRANSLATE_CHUNK = 32


# --- Learning-rate schedule ---


@keras.saving.register_keras_serializable(package="keras_gans")
class LinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Constant learning rate, then a linear decay to zero (the CycleGAN schedule).

    `lr(step) = initial_learning_rate * (1 - clip((step - decay_start) /
    (total_steps - decay_start), 0, 1))`: constant for the first `decay_start` steps,
    zero from `total_steps` on. Zhu et al. 2017 (https://arxiv.org/abs/1703.10593),
    section 7.1: "keep the same learning rate for the first 100 epochs and linearly decay
    the rate to zero over the next 100 epochs" (here per step rather than per epoch).

    Args:
        initial_learning_rate: the constant rate of the first phase.
        total_steps: the step at which the rate reaches zero (the whole run).
        decay_start: the step where the decay begins; defaults to `total_steps // 2`.

    Example:

    ```python
    schedule = LinearDecay(2e-4, total_steps=10_000)     # decays over steps 5000-10000
    optimizer = keras.optimizers.Adam(schedule, beta_1=0.5)
    ```
    """

    def __init__(self, initial_learning_rate, total_steps, decay_start=None):
        if not isinstance(initial_learning_rate, (int, float)) or initial_learning_rate <= 0:
            raise ValueError(
                "Received an invalid value for argument `initial_learning_rate`. Expected a "
                f"positive number, received: initial_learning_rate={initial_learning_rate!r}"
            )
        _check_positive_int("total_steps", total_steps)
        if decay_start is None:
            decay_start = total_steps // 2
        if (isinstance(decay_start, bool) or not isinstance(decay_start, (int, np.integer))
                or not 0 <= decay_start < total_steps):
            raise ValueError(
                "Received an invalid value for argument `decay_start`. Expected an integer "
                f"in [0, total_steps={total_steps}), received: decay_start={decay_start!r}"
            )
        self.initial_learning_rate = float(initial_learning_rate)
        self.total_steps = int(total_steps)
        self.decay_start = int(decay_start)

    def __call__(self, step):
        step = keras.ops.cast(step, "float32")
        progress = (step - self.decay_start) / float(self.total_steps - self.decay_start)
        return self.initial_learning_rate * (1.0 - keras.ops.clip(progress, 0.0, 1.0))

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "total_steps": self.total_steps,
            "decay_start": self.decay_start,
        }


# --- Shapes ---


def _check_image_shape(image_shape):
    ok = isinstance(image_shape, (tuple, list)) and len(image_shape) == 3 and all(
        isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s > 0
        for s in image_shape)
    if not ok:
        raise ValueError(
            "Received an invalid value for argument `image_shape`. Expected (height, "
            f"width, channels) as positive integers, received: image_shape={image_shape!r}"
        )
    height, width, _ = image_shape
    if height % SIZE_MULTIPLE or width % SIZE_MULTIPLE:
        raise ValueError(
            "Received an invalid value for argument `image_shape`. CycleGAN needs image "
            f"sides that are multiples of {SIZE_MULTIPLE} (the generators downsample by 2 "
            f"twice); received: image_shape={tuple(image_shape)}. Resize the images, e.g. "
            "`keras_gans.data.unpaired(..., image_size=...)`."
        )
    return tuple(int(s) for s in image_shape)


# `keras-gans train cyclegan` options (dest -> spec, see `keras_gans.models.base`): a
# literal, read by the CLI without importing this module (and TensorFlow).
TRAIN_OPTIONS = {
    "image_size": {"type": "image_size", "default": None},
    "data_b": {"type": "source", "default": None, "metavar": "SOURCE",
               "help": "the images of domain B (required)",
               "required": "cyclegan trains on two domains: pass the second with --data-b "
                           "SOURCE."},
    "jitter": {"type": "flag", "default": False,
               "help": "resize-crop-flip augmentation of the paper"},
    "pool_size": {"type": "non_negative_int", "default": 50,
                  "help": "history pool size (default: 50)"},
    "cycle_weight": {"type": "non_negative_float", "default": 10.0,
                     "help": "cycle-consistency weight (default: 10)"},
    "identity_weight": {"type": "non_negative_float", "default": None,
                        "help": "identity loss weight (default: half the cycle weight)"},
    "residual_blocks": {"type": "positive_int", "default": None,
                        "help": "residual blocks per generator (default: cyclegan 6 or 9 by "
                                "image size, srgan 16)"},
    "batch_size": {"default": 1},  # the paper's
}


# --- Model ---


@keras.saving.register_keras_serializable(package="keras_gans")
class CycleGAN(AdversarialModel):
    """CycleGAN (Zhu et al. 2017): unpaired translation between domains A and B.

    Holds four networks, two optimizers (one for both generators, one for both
    discriminators, as in the authors' code), a history pool of generated images per
    domain and the train step. It subclasses `keras.Model` rather than
    `keras_gans.models.gan.GAN`: that base is one noise-driven generator against one
    discriminator, this is two image-to-image generators against two discriminators.

    `fit` takes `(a_batch, b_batch)` pairs: `keras_gans.data.unpaired(a, b, ...)`, or
    `fit(a_images, b_images)` with two arrays of the same length. Each step:

    1. generators: `fake_b = G(a)`, `fake_a = F(b)`, and minimise
       `L_G = g_a2b_loss + g_b2a_loss + cycle_weight * cycle_loss
       + identity_weight * identity_loss`;
    2. discriminators: the fakes of step 1 go through the history pools, and `D_A`,
       `D_B` minimise their adversarial losses on real vs pooled images.

    Logged metrics (means over the epoch):

    - `d_a_loss`, `d_b_loss`: adversarial losses of `D_A` (real A vs `F(b)`) and `D_B`
      (real B vs `G(a)`);
    - `g_a2b_loss`, `g_b2a_loss`: adversarial losses of `G` (fooling `D_B`) and `F`
      (fooling `D_A`);
    - `cycle_loss`: `|a - F(G(a))| + |b - G(F(b))|` (mean absolute errors, unweighted);
    - `identity_loss`: `|b - G(b)| + |a - F(a)|` (unweighted; 0 when
      `identity_weight=0`).

    The history pool holds `pool_size` images of `image_shape` per domain in
    non-trainable variables, saved with the model; its randomness is stateless in
    `(seed, step)`, so a resumed run continues exactly. Under `tf.distribute` every
    replica reads the shared pool, but only the first replica's exchange is kept (the
    pool then only collects that replica's translations).

    Args:
        generator_a2b: `G`, a Keras model mapping A images to B images in [-1, 1].
        generator_b2a: `F`, a Keras model mapping B images to A images.
        discriminator_a: `D_A`, scores A images (any output shape, e.g. patches).
        discriminator_b: `D_B`, scores B images.
        image_shape: `(H, W, C)` of the training images. Fixes the size of the pool's
            images; the networks may accept other sizes. Inferred from `generator_a2b`'s
            input when that is fully known.
        pool_size: images per history pool (50 in the paper; 0 disables it).
        seed: seed of the pool's randomness; random when omitted.
        augment: DiffAugment (Zhao et al. 2020) of every image the discriminators see,
            real, translated and pooled, in both steps: `None` (off), or names among
            `("color", "translation", "cutout")` (see `keras_gans.augment`). Its draws
            are stateless in `(seed, step)` like the pool's.

    Example:

    ```python
    gan = keras_gans.CycleGAN.from_shape((32, 32, 1), filters=32, num_residual_blocks=3)
    gan.compile()
    gan.fit(keras_gans.data.unpaired(sneakers, boots, batch_size=16), epochs=5)
    boots_like = gan.translate(sneakers_test, direction="a2b")
    ```
    """

    #: Default optimizer hyper-parameters (Zhu et al. 2017, section 7.1).
    default_optimizer = {"learning_rate": 2e-4, "beta_1": 0.5, "beta_2": 0.999}  # noqa: RUF012
    #: The networks, in the order of the constructor's arguments.
    network_names = ("generator_a2b", "generator_b2a", "discriminator_a", "discriminator_b")
    #: One optimizer for both discriminators, one for both generators (the authors' code).
    optimizer_networks = {"d_optimizer": ("discriminator_a", "discriminator_b"),  # noqa: RUF012
                          "g_optimizer": ("generator_a2b", "generator_b2a")}
    primary_optimizer = "g_optimizer"
    train_options = TRAIN_OPTIONS
    #: The logged metrics, in order (`<name>_tracker` attributes).
    metric_names = ("d_a_loss", "d_b_loss", "g_a2b_loss", "g_b2a_loss", "cycle_loss",
                    "identity_loss")

    def __init__(self, generator_a2b, generator_b2a, discriminator_a, discriminator_b,
                 image_shape=None, pool_size=50, seed=None, augment=None, **kwargs):
        if isinstance(pool_size, bool) or not isinstance(pool_size, (int, np.integer)) \
                or pool_size < 0:
            raise ValueError(
                "Received an invalid value for argument `pool_size`. Expected a "
                f"non-negative integer, received: pool_size={pool_size!r}"
            )
        augment = augment_lib.check_policy(augment)
        super().__init__({"generator_a2b": generator_a2b, "generator_b2a": generator_b2a,
                          "discriminator_a": discriminator_a,
                          "discriminator_b": discriminator_b}, seed=seed, **kwargs)
        self.pool_size = int(pool_size)
        self.augment = augment
        self.image_shape = self._resolve_image_shape(image_shape)
        self._check_channels()

        # The base's step counter (created first, as `step_counter` was) drives the
        # pool's draws; the pools follow it, so old files load in the same order.
        self.pool_a = self.pool_b = self.pool_a_count = self.pool_b_count = None
        if self.pool_size:
            self._check_pool_memory()
            for domain in ("a", "b"):
                setattr(self, f"pool_{domain}", self.add_weight(
                    shape=(self.pool_size, *self.image_shape), dtype="float32",
                    initializer="zeros", trainable=False,
                    aggregation="only_first_replica", name=f"pool_{domain}"))
                setattr(self, f"pool_{domain}_count", self.add_weight(
                    shape=(), dtype="int64", initializer="zeros", trainable=False,
                    aggregation="only_first_replica", name=f"pool_{domain}_count"))

        self._add_trackers(self.metric_names)
        self.cycle_weight = None
        self.identity_weight = None
        self.gan_loss = None
        self._total_steps = None
        self._translate_fns = {}

    @property
    def step_counter(self):
        """The train-step counter (the base's `noise_step`; its name in older code)."""
        return self.noise_step

    # --- Construction helpers ---

    def _check_pool_memory(self):
        """Refuses, before allocating them, history pools that would not fit in memory."""
        # Two pools of float32 images, each built from zeros of its size.
        needed = 2 * 2 * 4 * self.pool_size * int(np.prod(self.image_shape))
        memory.check_fits(needed, (
            "Received an invalid value for argument `pool_size`: two history pools of "
            f"pool_size={self.pool_size:,} images of shape {tuple(self.image_shape)} need "
            "about {needed} but only {available} of memory is available. Pass a smaller "
            "pool_size (50 in the paper; 0 disables the pool)."))

    def _resolve_image_shape(self, image_shape):
        if image_shape is not None:
            return _check_image_shape(image_shape)
        inputs = getattr(self.generator_a2b, "inputs", None)
        shape = tuple(inputs[0].shape[1:]) if inputs else None
        if shape is None or len(shape) != 3 or None in shape:
            raise ValueError(
                "Argument `image_shape` is required when `generator_a2b`'s input shape is "
                f"not fully known (received: image_shape=None, generator input shape "
                f"{shape}): the history pool stores images of the training size."
            )
        return _check_image_shape(shape)

    def _check_channels(self):
        channels = self.image_shape[-1]
        for name in self.network_names:
            net = getattr(self, name)
            shapes = [tuple(t.shape) for t in (getattr(net, "inputs", None) or [])]
            if shapes and (len(shapes) != 1 or shapes[0][-1] not in (None, channels)):
                raise ValueError(
                    f"`{name}` must take one image input with {channels} channels "
                    f"(image_shape={self.image_shape}); received one with input shapes "
                    f"{shapes}."
                )
        for name in self.network_names[:2]:
            outputs = getattr(self, name).outputs
            if outputs and outputs[0].shape[-1] not in (None, channels):
                raise ValueError(
                    f"`{name}` must output images with {channels} channels "
                    f"(image_shape={self.image_shape}); its output shape is "
                    f"{tuple(outputs[0].shape)}."
                )

    @classmethod
    def from_shape(cls, image_shape, filters=64, num_residual_blocks=None, d_filters=64,
                   d_layers=3, **kwargs):
        """Build the paper's four networks for `image_shape`.

        Args:
            image_shape: `(H, W, C)` of the training images, sides multiples of 4.
            filters: the generators' first width (64 in the paper; 32 suits 32x32).
            num_residual_blocks: residual blocks per generator; defaults to the paper's
                9 for images of 256 pixels or more, 6 below. 3 or 4 suit tiny images.
            d_filters: the discriminators' first width.
            d_layers: the discriminators' stride-2 layers (3: 70x70 patches).
            **kwargs: options of the model (`pool_size`, `seed`).

        Returns:
            A `CycleGAN`, not yet compiled.
        """
        image_shape = _check_image_shape(image_shape)
        if num_residual_blocks is None:
            num_residual_blocks = default_num_residual_blocks(image_shape)
        channels = image_shape[-1]
        nets = {
            "generator_a2b": build_resnet_generator(channels, filters, num_residual_blocks,
                                                    name="generator_a2b"),
            "generator_b2a": build_resnet_generator(channels, filters, num_residual_blocks,
                                                    name="generator_b2a"),
            "discriminator_a": build_patchgan_discriminator(channels, d_filters, d_layers,
                                                            name="discriminator_a"),
            "discriminator_b": build_patchgan_discriminator(channels, d_filters, d_layers,
                                                            name="discriminator_b"),
        }
        return cls(**nets, image_shape=image_shape, **kwargs)

    # --- Config ---

    def model_options(self):
        return {"image_shape": list(self.image_shape), "pool_size": self.pool_size,
                "augment": None if self.augment is None else list(self.augment)}

    # --- Compile ---

    def compile(self, d_optimizer=None, g_optimizer=None, loss="least_squares",
                cycle_weight=10.0, identity_weight=None, total_steps=None, **kwargs):
        """Configure the optimizers and the loss weights; defaults follow the paper.

        Args:
            d_optimizer: the optimizer of both discriminators (instance, name or config).
                Default: Adam(2e-4, beta_1=0.5).
            g_optimizer: the optimizer of both generators; same default.
            loss: the adversarial loss: `"least_squares"` (the paper's,
                `keras_gans.losses.LeastSquares(generator_weight=2)`), another name of
                `keras_gans.losses.adversarial`, a `keras_gans.losses.AdversarialLoss`,
                or a pair of callables `(d_loss(real_out, fake_out), g_loss(fake_out))`.
            cycle_weight: `lambda` of the cycle-consistency loss (10 in the paper).
            identity_weight: weight of the identity loss; defaults to
                `0.5 * cycle_weight` (the paper's photo <-> painting setting). 0 turns it
                off (and skips its computation).
            total_steps: when given, the default optimizers use
                `LinearDecay(2e-4, total_steps)`: constant for the first half of the
                steps, then linearly to zero (the paper's 100 + 100 epochs). Pass
                `epochs * steps_per_epoch`. For your own optimizers, give them a
                `LinearDecay` schedule instead.
            **kwargs: passed on to `keras.Model.compile` (e.g. `run_eagerly`,
                `jit_compile`, `steps_per_execution`).
        """
        cycle_weight = _check_non_negative("cycle_weight", cycle_weight)
        if identity_weight is not None:
            identity_weight = _check_non_negative("identity_weight", identity_weight)
        if total_steps is not None and (d_optimizer is not None or g_optimizer is not None):
            raise ValueError(
                "Argument `total_steps` sets the learning-rate decay of the default "
                "optimizers; with your own optimizers give them a "
                "`keras_gans.models.cyclegan.LinearDecay` schedule instead. Received: "
                f"total_steps={total_steps!r}"
            )
        # The paper's least squares drops LSGAN's 1/2 from the generators' loss.
        self.gan_loss = losses_lib.adversarial(loss, generator_weight=2.0)
        self.cycle_weight = cycle_weight
        self.identity_weight = 0.5 * cycle_weight if identity_weight is None \
            else identity_weight
        self._total_steps = total_steps
        super().compile(d_optimizer=d_optimizer, g_optimizer=g_optimizer, **kwargs)

    def make_default_optimizer(self, name):
        options = dict(self.default_optimizer)
        if self._total_steps is not None:
            options["learning_rate"] = LinearDecay(options["learning_rate"],
                                                   self._total_steps)
        return keras.optimizers.Adam(**options)

    def compile_options(self):
        return {"loss": keras.saving.serialize_keras_object(self.gan_loss),
                "cycle_weight": self.cycle_weight, "identity_weight": self.identity_weight}

    @property
    def metrics(self):
        return [getattr(self, f"{name}_tracker") for name in self.metric_names]

    # --- Train step ---

    def _unpack(self, data):
        pair = _batch_pair(data)
        if pair is None:
            raise ValueError(
                "CycleGAN trains on `(a_batch, b_batch)` pairs: pass "
                "`keras_gans.data.unpaired(a, b)` or `fit(a_images, b_images)`. Received "
                f"a dataset element of structure {tf.nest.map_structure(lambda t: '*', data)}."
            )
        real_a, real_b = pair
        for name, images in (("a", real_a), ("b", real_b)):
            shape = tuple(images.shape)
            expected = self.image_shape if self.pool_size else (None, None,
                                                                 self.image_shape[-1])
            ok = len(shape) == 4 and all(
                e is None or s is None or s == e for s, e in zip(shape[1:], expected))
            if not ok:
                what = "images of shape" if self.pool_size else "images with"
                wanted = (self.image_shape if self.pool_size
                          else f"{self.image_shape[-1]} channels")
                raise ValueError(
                    f"This CycleGAN trains on {what} {wanted} (image_shape="
                    f"{self.image_shape}); domain `{name}` of the training data has batches "
                    f"of shape {shape}. Resize or convert the images, e.g. "
                    "`keras_gans.data.unpaired(a, b, image_size=..., channels=...)`."
                )
        return tf.cast(real_a, "float32"), tf.cast(real_b, "float32")

    def _seed(self, stream):
        """A stateless seed for draw `stream` of the current step on this replica."""
        ctx = tf.distribute.get_replica_context()
        replica = ctx.replica_id_in_sync_group if ctx is not None else 0
        step = tf.cast(self.noise_step, "int64")
        return tf.stack([tf.constant(self.seed, "int64") * 1000 + tf.cast(replica, "int64"),
                         step * 64 + stream])

    def _query_pool(self, domain, images, stream):
        """Exchange `images` with the pool of `domain` (see `history_pool_query`)."""
        if not self.pool_size:
            return images
        pool = getattr(self, f"pool_{domain}")
        count = getattr(self, f"pool_{domain}_count")
        returned, new_pool, new_count = history_pool_query(
            tf.convert_to_tensor(pool), tf.convert_to_tensor(count), images,
            self._seed(stream))
        pool.assign(new_pool)
        count.assign(new_count)
        return returned

    def _augment(self, images, stream, training):
        """DiffAugment of images a discriminator sees, in training steps only."""
        if self.augment is None or not training:
            return images
        return augment_lib.diff_augment(images, self.augment, self._seed(stream))

    def _generator_losses(self, real_a, real_b, training):
        g, f = self.generator_a2b, self.generator_b2a
        fake_b = g(real_a, training=training)
        fake_a = f(real_b, training=training)
        cycle = (losses_lib.cycle_consistency_loss(real_a, f(fake_b, training=training))
                 + losses_lib.cycle_consistency_loss(real_b, g(fake_a, training=training)))
        g_a2b = self.gan_loss.generator(self.discriminator_b(self._augment(fake_b, 8, training),
                                                     training=training))
        g_b2a = self.gan_loss.generator(self.discriminator_a(self._augment(fake_a, 9, training),
                                                     training=training))
        identity = tf.constant(0.0)
        if self.identity_weight:
            identity = (losses_lib.identity_loss(real_b, g(real_b, training=training))
                        + losses_lib.identity_loss(real_a, f(real_a, training=training)))
        return fake_a, fake_b, g_a2b, g_b2a, cycle, identity

    def _discriminator_losses(self, real_a, real_b, fake_a, fake_b, training):
        d_a, d_b = (self.discriminator_a, self.discriminator_b)
        d_a = self.gan_loss.discriminator(d_a(self._augment(real_a, 10, training), training=training),
                              d_a(self._augment(fake_a, 11, training), training=training))
        d_b = self.gan_loss.discriminator(d_b(self._augment(real_b, 12, training), training=training),
                              d_b(self._augment(fake_b, 13, training), training=training))
        return d_a, d_b

    def train_step(self, data):
        real_a, real_b = self._unpack(data)
        g_vars = self._trainable_variables_of(self.optimizer_networks["g_optimizer"])
        d_vars = self._trainable_variables_of(self.optimizer_networks["d_optimizer"])

        # Generators first, against the current discriminators (as the authors' code).
        with tf.GradientTape() as tape:
            fake_a, fake_b, g_a2b, g_b2a, cycle, identity = self._generator_losses(
                real_a, real_b, training=True)
            g_total = (g_a2b + g_b2a + self.cycle_weight * cycle
                       + self.identity_weight * identity)
            # Inside the tape: an op outside it would cut the gradient.
            g_total = self._loss_for_gradients(g_total, self.g_optimizer)
        grads = tape.gradient(g_total, g_vars)
        self.g_optimizer.apply(grads, g_vars)

        # Discriminators on real images vs this step's translations, exchanged with the
        # pools of earlier ones. One optimizer step on the summed loss equals two
        # separate steps: the two discriminators share no variables.
        pooled_a = self._query_pool("a", tf.stop_gradient(fake_a), stream=0)
        pooled_b = self._query_pool("b", tf.stop_gradient(fake_b), stream=1)
        with tf.GradientTape() as tape:
            d_a, d_b = self._discriminator_losses(real_a, real_b, pooled_a, pooled_b,
                                                  training=True)
            d_total = self._loss_for_gradients(d_a + d_b, self.d_optimizer)
        grads = tape.gradient(d_total, d_vars)
        self.d_optimizer.apply(grads, d_vars)

        self.noise_step.assign_add(1)
        return self._update_metrics(d_a, d_b, g_a2b, g_b2a, cycle, identity)

    def test_step(self, data):
        # `fit(validation_data=...)` and `evaluate`: the same losses, no update, no pool.
        real_a, real_b = self._unpack(data)
        fake_a, fake_b, g_a2b, g_b2a, cycle, identity = self._generator_losses(
            real_a, real_b, training=False)
        d_a, d_b = self._discriminator_losses(real_a, real_b, fake_a, fake_b,
                                              training=False)
        return self._update_metrics(d_a, d_b, g_a2b, g_b2a, cycle, identity)

    def _update_metrics(self, d_a, d_b, g_a2b, g_b2a, cycle, identity):
        for tracker, value in zip(self.metrics, (d_a, d_b, g_a2b, g_b2a, cycle, identity)):
            tracker.update_state(value)
        return _replica_logs(self.metrics)

    def call(self, inputs, training=False):
        """Translates A images to B (`generator_a2b`)."""
        return self.generator_a2b(inputs, training=training)

    # --- Translation ---

    def _get_translate_fn(self, direction):
        if direction not in self._translate_fns:
            net = self.generator_a2b if direction == "a2b" else self.generator_b2a
            spec = tf.TensorSpec([None, None, None, self.image_shape[-1]], tf.float32)

            @tf.function(input_signature=[spec])
            def fn(images):
                return tf.cast(net(images, training=False), tf.float32)

            self._translate_fns[direction] = fn
        return self._translate_fns[direction]

    def translate(self, images, direction="a2b", batch_size=_TRANSLATE_CHUNK):
        """Translate images from A to B (`"a2b"`, with `G`) or B to A (`"b2a"`, with `F`).

        The generators are fully convolutional, so any image size works, not only the
        training size. Sides that are not multiples of 4 are padded by reflection at the
        bottom and right up to the next multiple of 4, and the result is cropped back.

        Args:
            images: a batch `(N, H, W, C)` or one image `(H, W, C)` (`(H, W)` when
                `C = 1`); uint8 in [0, 255] or floats in [-1, 1]. Sides of 4 pixels or
                more.
            direction: `"a2b"` or `"b2a"`.
            batch_size: images per generator call (bounds memory).

        Returns:
            The translations, the same shape as `images`: uint8 for uint8 input,
            float32 in [-1, 1] otherwise.

        Runs a `tf.function` (not `predict`), so a single image costs milliseconds.
        """
        if direction not in DIRECTIONS:
            raise ValueError(
                "Received an invalid value for argument `direction`. Expected one of "
                f"{DIRECTIONS}, received: direction={direction!r}"
            )
        _check_positive_int("batch_size", batch_size)
        channels = self.image_shape[-1]
        array = np.asarray(images)
        squeeze = ()
        if array.ndim == 2 and channels == 1:
            array, squeeze = array[None, ..., None], (0, 3)
        elif array.ndim == 3:
            array, squeeze = array[None], (0,)
        if array.ndim != 4:
            raise ValueError(
                "Received an invalid value for argument `images`. Expected a batch (N, H, "
                f"W, C) or one image (H, W, C), received an array of shape "
                f"{np.shape(images)}."
            )
        if array.shape[-1] != channels:
            raise ValueError(
                f"Received an invalid value for argument `images`. This CycleGAN translates "
                f"images with {channels} channel(s) (image_shape={self.image_shape}); "
                f"received images of shape {np.shape(images)} with {array.shape[-1]} "
                "channel(s). Convert them first (e.g. `keras_gans.data.images(..., "
                f"channels={channels})`)."
            )
        height, width = array.shape[1:3]
        if min(height, width) < SIZE_MULTIPLE:
            raise ValueError(
                f"Received an invalid value for argument `images`. Sides must be at least "
                f"{SIZE_MULTIPLE} pixels, received images of shape {np.shape(images)}."
            )
        as_uint8 = array.dtype == np.uint8
        array = utils.to_float(array)
        pad_h, pad_w = -height % SIZE_MULTIPLE, -width % SIZE_MULTIPLE
        if pad_h or pad_w:
            array = np.pad(array, ((0, 0), (0, pad_h), (0, pad_w), (0, 0)), mode="reflect")
        self._check_generator_accepts(direction, array.shape)
        fn = self._get_translate_fn(direction)
        out = [fn(array[start:start + batch_size]).numpy()
               for start in range(0, len(array), batch_size)]
        out = (np.concatenate(out) if out else np.zeros_like(array))[:, :height, :width]
        if as_uint8:
            out = utils.to_uint8(out)
        return np.squeeze(out, axis=squeeze) if squeeze else out

    def _check_generator_accepts(self, direction, shape):
        name = "generator_a2b" if direction == "a2b" else "generator_b2a"
        inputs = getattr(self, name).inputs
        if not inputs:
            return
        expected = tuple(inputs[0].shape[1:3])
        if any(e is not None and e != s for e, s in zip(expected, shape[1:3])):
            raise ValueError(
                f"`{name}` only accepts images of {expected[0]}x{expected[1]} pixels; "
                f"received images of shape {shape} (after padding to multiples of "
                f"{SIZE_MULTIPLE}). Build it with a `(None, None, C)` input, as "
                "`build_resnet_generator` does, to translate other sizes."
            )

    # --- Declarations ---

    def serving_signatures(self, jit_compile=False):
        """`translate_a2b` and `translate_b2a`: uint8 images of any size (see
        `keras_gans.export`); `jit_compile`: XLA."""
        endpoints, metadata = [], {"family": "cyclegan"}
        for name, attr in (("translate_a2b", "generator_a2b"),
                           ("translate_b2a", "generator_b2a")):
            net = getattr(self, attr)
            endpoint = export_lib.image_to_image_signature(name, net,
                                                           jit_compile=jit_compile)
            endpoints.append(endpoint)
            metadata[f"{attr}_channels"] = [int(endpoint[2][0].shape[-1]),
                                            int(net.outputs[0].shape[-1])]
            metadata[f"{attr}_size_multiple"] = export_lib.size_multiple(net)
            metadata[f"{attr}_min_side"] = export_lib.min_side(net)
            metadata[f"{attr}_max_request_output_pixels"] = (
                export_lib.max_request_output_pixels(net))
        return {"endpoints": endpoints, "metadata": metadata}

    def preview(self, images_a, images_b=None):
        """`{"a2b": [a, G(a)]}`, and `"b2a": [b, F(b)]` when images of B are given."""
        columns = {}
        for tag, images in (("a2b", images_a), ("b2a", images_b)):
            if images is not None:
                images = utils.to_float(np.asarray(images))
                columns[tag] = [images, self.translate(images, direction=tag)]
        return columns

    def fingerprint(self):
        channels = self.image_shape[-1]
        shape = (4, 28, 28, channels)
        images = np.linspace(-1, 1, int(np.prod(shape)), dtype="float32").reshape(shape)
        return (f"translate(linspace(-1, 1) as {shape}, 'a2b')",
                self.translate(images, "a2b"))

    # --- keras-gans train ---

    @classmethod
    def train_dataset(cls, options, **common):
        from keras_gans import data

        return data.unpaired(options["data"], options["data_b"],
                             image_size=options["image_size"], jitter=options["jitter"],
                             **common)

    @classmethod
    def from_train_options(cls, options, dataset):
        model = cls.from_shape(tuple(dataset.element_spec[0].shape[1:]),
                               filters=options["base_filters"],
                               num_residual_blocks=options["residual_blocks"],
                               d_filters=options["base_filters"],
                               pool_size=options["pool_size"], seed=options["seed"])
        model.compile(cycle_weight=options["cycle_weight"],
                      identity_weight=options["identity_weight"])
        return model
