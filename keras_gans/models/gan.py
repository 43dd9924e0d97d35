"""The GAN of noise -> image: generator, discriminator, the adversarial train step.

Built on `keras_gans.models.base.AdversarialModel` (networks, optimizers, compile round
trip, seeds, replicas). Variants (`DCGAN`, `LSGAN`, `WGANGP`) specialise it by
subclassing: they set class attributes (`adversarial_loss`, default optimizers, whether
D outputs probabilities) and override `loss_options` (the hyper-parameters of the
`keras_gans.losses.AdversarialLoss` built from a name) / `discriminator_penalty`.
Nothing here is variant-specific. It declares its serving signatures (noise, seed,
PNG), its preview (a sample grid from fixed noise) and its fingerprint. The class-id
checks of `fit` and `generate` live in `models/_class_ids.py`, the remapper setting of
`fit` in `models/_graph_options.py`.

Conventions every network follows:

- images are float32 in [-1, 1], channels last;
- an unconditional generator maps `z` `[B, latent_dim]` to images; a conditional one
  (`num_classes=K`) takes `[z, labels]` with int32 labels `[B]`;
- an unconditional discriminator maps images to one logit (or score) per image, a
  conditional one takes `[images, labels]`.
"""

import keras
import numpy as np
import tensorflow as tf

from keras_gans import augment as augment_lib
from keras_gans import export as export_lib
from keras_gans import losses as losses_lib
from keras_gans import utils
from keras_gans.models import clusters as clusters_lib
from keras_gans.models._class_ids import check_class_ids, label_checked, label_error
from keras_gans.models._graph_options import fit_remapping
from keras_gans.models._graph_options import remapper_fails as _remapper_fails
from keras_gans.models.base import (
    AdversarialModel,
    _argument,
    _check_bool,
    _check_fraction,
    _check_non_negative,
    _check_positive_int,
    _network_input_shapes,
    _replica_logs,
    check_seed,
)

# Large `n` in `generate` is split into chunks of this size to bound memory.
_GENERATE_CHUNK = 1024
# `generate` calls needing less memory than this skip the check: reading /proc and
# the cgroup files takes ~0.2 ms, a tenth of a one-image call.
_MEMORY_CHECK_BYTES = 64 * 2**20


class GAN(AdversarialModel):
    """A generative adversarial network trained with `fit`.

    Holds a generator and a discriminator, two optimizers and the train step that
    alternates `d_steps` discriminator updates with one generator update.
    Use a variant (`DCGAN`, `LSGAN`, `WGANGP`) or subclass it.

    Args:
        generator: a Keras model mapping noise `[B, latent_dim]` (and labels when
            conditional) to images in [-1, 1].
        discriminator: a Keras model mapping images (and labels when conditional) to
            one logit or score per image, shape `[B, 1]` or `[B]`.
        latent_dim: size of the noise vector. Inferred from the generator when omitted.
        num_classes: `None` for an unconditional GAN, or the number of classes `K`: the
            networks then take labels and the dataset yields `(images, labels)`.
        d_steps: discriminator updates per generator update.
        split_real_batch: with `d_steps > 1`, split each batch fed to `fit` into
            `d_steps` equal parts, one per discriminator update, so that each update
            sees its own real images, as Gulrajani et al.'s Algorithm 1 samples a fresh
            real batch per critic iteration; the generator update draws as many noise
            vectors as a part holds (and, conditional, takes the last part's labels).
            Feed `d_steps` times the batch each update should see; rows past the last
            whole part are left out. A batch known to be smaller than `d_steps` is an
            error; a smaller trailing batch gives parts of one image (the last repeats).
            Under `tf.distribute` each replica splits its own share of the batch, so the
            parts (and results) differ from one device's. False (the default): every
            update sees the whole batch.
        label_smoothing: one-sided label smoothing of the real targets (Salimans et al.
            2016); only meaningful for the minimax loss.
        instance_noise: standard deviation of Gaussian noise added to the real and
            fake images the discriminator sees (Sønderby et al. 2016).
        r1_weight: gamma of the R1 penalty on real images (Mescheder et al. 2018);
            the penalty added is `gamma / 2 * E||grad D(x)||^2`.
        r1_interval: lazy regularisation (Karras et al. 2020, StyleGAN2): compute R1
            only every `r1_interval` steps, weighted by `r1_interval` so the average
            penalty is unchanged. 1: every step.
        augment: DiffAugment (Zhao et al. 2020) of every image the discriminator sees,
            real and fake, in the D and the G steps: `None` (off), or names among
            `("color", "translation", "cutout")` (see `keras_gans.augment`). Its draws
            are stateless functions of the seed and the step, like the noise.
        ema_decay: when set (e.g. 0.999), keeps an exponential moving average of the
            generator's weights, used by `generate()` and saved with the model.
        ema_warmup: ramp the average's decay up as `min(ema_decay, (1 + t) / (10 + t))`
            at train step `t` (as `tf.train.ExponentialMovingAverage(num_updates=t)`),
            so the random initial weights are forgotten within the first few hundred
            steps instead of weighing on the average for `~1 / (1 - ema_decay)` steps.
            False: a constant `ema_decay` from the first step.
        seed: seed of the noise stream of the train step. The stream is a function of
            the seed and the step counter, so a resumed run draws the same noise as an
            uninterrupted one.
    """

    network_names = ("generator", "discriminator")
    optimizer_networks = {"d_optimizer": ("discriminator",), "g_optimizer": ("generator",)}  # noqa: RUF012
    #: `model.optimizer` is the generator's (TensorBoard's step, LR schedulers).
    primary_optimizer = "g_optimizer"
    #: Name of the adversarial loss in `keras_gans.losses.adversarial` used when
    #: `compile` receives none.
    adversarial_loss = "non_saturating"
    #: Whether the discriminator's outputs are logits of a probability (then the
    #: logged `d_real` / `d_fake` are mean probabilities) or unbounded scores.
    outputs_are_logits = True
    #: Previews draw fixed noise from a seed; they need no data.
    preview_from_seed = True

    def __init__(
        self,
        generator,
        discriminator,
        latent_dim=None,
        num_classes=None,
        d_steps=1,
        label_smoothing=0.0,
        instance_noise=0.0,
        r1_weight=0.0,
        ema_decay=None,
        ema_warmup=True,
        seed=None,
        augment=None,
        r1_interval=1,
        clusters=None,
        split_real_batch=False,
        **kwargs,
    ):
        _check_positive_int("num_classes", num_classes, allow_none=True)
        clusters = clusters_lib._check_clusters(clusters)
        if clusters and num_classes:
            raise ValueError(
                "Arguments `clusters` and `num_classes` exclude each other: `clusters` "
                "conditions an unconditional GAN on clusters of its data; received "
                f"clusters={clusters}, num_classes={num_classes}."
            )
        _check_positive_int("d_steps", d_steps)
        _check_fraction("label_smoothing", label_smoothing)
        instance_noise = _check_non_negative("instance_noise", instance_noise)
        r1_weight = _check_non_negative("r1_weight", r1_weight)
        if ema_decay is not None:
            _check_fraction("ema_decay", ema_decay)
        _check_positive_int("r1_interval", r1_interval)
        ema_warmup = _check_bool("ema_warmup", ema_warmup)
        split_real_batch = _check_bool("split_real_batch", split_real_batch)
        augment = augment_lib.check_policy(augment)
        super().__init__({"generator": generator, "discriminator": discriminator},
                         seed=seed, **kwargs)
        self.augment = augment
        self.r1_interval = int(r1_interval)
        self.latent_dim = self._resolve_latent_dim(generator, latent_dim)
        self.num_classes = None if num_classes is None else int(num_classes)
        self.d_steps = int(d_steps)
        self.split_real_batch = split_real_batch
        self.label_smoothing = float(label_smoothing)
        self.instance_noise = instance_noise
        self.r1_weight = r1_weight
        self.ema_decay = None if ema_decay is None else float(ema_decay)
        self.ema_warmup = ema_warmup
        self.clusters = clusters
        self._check_networks()
        self.cluster_assigner = None
        if clusters:
            self.cluster_assigner = clusters_lib.NearestCentroid(
                clusters, self.image_shape, name="cluster_assigner")

        self.ema_generator = None
        if self.ema_decay is not None:
            self.ema_generator = keras.models.clone_model(generator)
            # Its own name in summary() (weights are saved by attribute, not by name).
            self.ema_generator.name = "ema_generator"
            self.ema_generator.set_weights(generator.get_weights())
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.d_real_tracker = keras.metrics.Mean(name="d_real")
        self.d_fake_tracker = keras.metrics.Mean(name="d_fake")
        self._generate_fn = None
        self.gan_loss = None

    # --- Construction helpers ---

    @staticmethod
    def _resolve_latent_dim(generator, latent_dim):
        shapes = _network_input_shapes(generator)
        inferred = shapes[0][-1] if shapes else None
        if latent_dim is None:
            if inferred is None:
                raise ValueError(
                    "Argument `latent_dim` is required when the generator's input shape "
                    f"is unknown; received: latent_dim=None, generator={generator.name}"
                )
            latent_dim = inferred
        _check_positive_int("latent_dim", latent_dim)
        if inferred is not None and inferred != latent_dim:
            raise ValueError(
                f"Argument `latent_dim`={latent_dim} does not match the generator's noise "
                f"input, which has {inferred} features (input shapes: {shapes})."
            )
        return int(latent_dim)

    def _check_networks(self):
        n_inputs = 2 if self.num_classes else 1
        for name in ("generator", "discriminator"):
            shapes = _network_input_shapes(getattr(self, name))
            wanted = 2 if (self.clusters and name == "discriminator") else n_inputs
            if shapes is not None and len(shapes) != wanted:
                kind = ("self-conditioned" if self.clusters else
                        "conditional" if self.num_classes else "unconditional")
                raise ValueError(
                    f"A {kind} GAN (num_classes={self.num_classes}, clusters="
                    f"{self.clusters}) needs a `{name}` with {wanted} input(s); received "
                    f"one with input shapes {shapes}."
                )
        if self.clusters:
            samplers = self._cluster_samplers(self.generator)
            if len(samplers) != 1 or samplers[0].clusters != self.clusters:
                raise ValueError(
                    f"A GAN with clusters={self.clusters} needs a generator with one "
                    f"`keras_gans.models.clusters.ClusterSampler({self.clusters})` layer "
                    "(it picks each sample's cluster from its noise; see "
                    "`build_generator(..., clusters=K)`); received one with "
                    f"{[f'ClusterSampler({s.clusters})' for s in samplers] or 'none'}."
                )

    @staticmethod
    def _cluster_samplers(network):
        return [layer for layer in network._flatten_layers()
                if isinstance(layer, clusters_lib.ClusterSampler)]

    @property
    def image_shape(self):
        """Shape `(H, W, C)` of the generated images."""
        return tuple(self.generator.outputs[0].shape[1:])

    # --- Config ---

    def model_options(self):
        return {
            "latent_dim": self.latent_dim,
            "num_classes": self.num_classes,
            "d_steps": self.d_steps,
            "label_smoothing": self.label_smoothing,
            "instance_noise": self.instance_noise,
            "r1_weight": self.r1_weight,
            "ema_decay": self.ema_decay,
            "ema_warmup": self.ema_warmup,
            "augment": None if self.augment is None else list(self.augment),
            "r1_interval": self.r1_interval,
            "clusters": self.clusters,
            "split_real_batch": self.split_real_batch,
        }

    # --- Compile ---

    def compile(self, d_optimizer=None, g_optimizer=None, loss=None, **kwargs):
        """Configure the optimizers and the adversarial loss.

        Args:
            d_optimizer: optimizer of the discriminator (instance, name or config).
                Defaults to the variant's paper setting (DCGAN: Adam(2e-4, beta_1=0.5)).
            g_optimizer: optimizer of the generator; same default.
            loss: the adversarial loss: a `keras_gans.losses.AdversarialLoss`
                (`Minimax(label_smoothing)`, `LeastSquares(a, b, c)`, ...), a name
                (`"minimax"`, `"non_saturating"`, `"least_squares"`, `"wasserstein"`,
                `"hinge"`: built with the model's hyper-parameters, e.g. its
                `label_smoothing`) or a pair of callables `(d_loss(real_out, fake_out),
                g_loss(fake_out))`. Defaults to the variant's loss.
            **kwargs: passed on to `keras.Model.compile` (e.g. `run_eagerly`,
                `jit_compile`, `steps_per_execution`).
        """
        self.gan_loss = self._make_loss(self.adversarial_loss if loss is None else loss)
        super().compile(d_optimizer=d_optimizer, g_optimizer=g_optimizer, **kwargs)

    def loss_options(self):
        """The model's hyper-parameters of a loss given by name (variants extend)."""
        return {"label_smoothing": self.label_smoothing}

    def _make_loss(self, loss):
        loss = losses_lib.adversarial(loss, **self.loss_options())
        if self.label_smoothing and not isinstance(loss, losses_lib.Minimax):
            raise ValueError(
                "`label_smoothing` only applies to the minimax (binary cross-entropy) "
                f"loss; received label_smoothing={self.label_smoothing} with "
                f"loss={loss.name or 'custom'!r}."
            )
        return loss

    def compile_options(self):
        return {"loss": keras.saving.serialize_keras_object(self.gan_loss)}

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker, self.d_real_tracker,
                self.d_fake_tracker]

    # --- Losses: variants override these ---

    def discriminator_loss(self, real_outputs, fake_outputs):
        """The adversarial loss of the discriminator for one batch."""
        return self.gan_loss.discriminator(real_outputs, fake_outputs)

    def generator_loss(self, fake_outputs):
        """The adversarial loss of the generator for one batch."""
        return self.gan_loss.generator(fake_outputs)

    def discriminator_penalty(self, real, fake, labels, step_seed):
        """Regularisers added to the discriminator loss (R1 here; WGAN-GP adds GP)."""
        if not self.r1_weight:
            return 0.0
        loss_scale = self._input_gradient_scale(self.d_optimizer)
        if self.r1_interval == 1:
            r1 = losses_lib.r1_penalty(self.discriminator, real, condition=labels,
                                       loss_scale=loss_scale)
            return 0.5 * self.r1_weight * r1
        # Lazy R1: only every `r1_interval` steps, scaled up to the same average weight.
        due = tf.equal(self.noise_step % self.r1_interval, 0)
        r1 = tf.cond(due,
                     lambda: losses_lib.r1_penalty(self.discriminator, real,
                                                   condition=labels, loss_scale=loss_scale),
                     lambda: tf.zeros([], real.dtype))
        return 0.5 * self.r1_weight * self.r1_interval * r1

    @property
    def penalizes_input_gradients(self):
        """Whether the discriminator loss differentiates D's input gradients (R1, GP)."""
        return bool(self.r1_weight)

    #: Grappler's remapper during `fit`: `None` turns it off where it would fail
    #: (`remapper_fails`), `True` keeps it on, `False` turns it off. A class attribute,
    #: also settable on one model (`gan.grappler_remapping = True`).
    grappler_remapping = None

    @property
    def remapper_fails(self):
        """Whether grappler's remapper fails on this model's train step and logs an
        error (`keras_gans.models._graph_options.remapper_fails` says when)."""
        return _remapper_fails(self.discriminator, self.penalizes_input_gradients,
                               self.augment)

    # --- Train step ---

    def fit(self, x=None, y=None, *args, **kwargs):
        """`keras.Model.fit`, after checking the training data.

        In-memory images must have the model's `image_shape` (grayscale ones may be
        `(N, H, W)`) and be float32 in [-1, 1]
        or uint8 (0-255, scaled to [-1, 1] in the train step); a conditional GAN's
        labels must be class ids in `[0, num_classes)`. An empty dataset is an error,
        not a silent no-op. The shapes and dtypes of a dataset's batches are checked
        when the train step is built; for the value range of datasets use
        `keras_gans.data.images`, which checks it.
        """
        if isinstance(x, np.ndarray):
            x = self._checked_images(x, "x")
        self._check_fit_data(x, y)
        if self.clusters and not self.cluster_assigner.is_adapted:
            raise ValueError(
                f"This GAN is self-conditioned on clusters={self.clusters} clusters of its "
                "data, which are not found yet: call `model.adapt(images)` (the training "
                "images, an array or a dataset) once before `fit`."
            )
        try:
            with fit_remapping(self):
                # A dataset's labels are checked in the pipeline (`_class_ids`).
                return super().fit(label_checked(x, self.num_classes), y, *args, **kwargs)
        except tf.errors.InvalidArgumentError as e:
            error = label_error(e, self.num_classes)
            if error is None:
                raise
            raise error from None

    def adapt(self, data, max_images=20000):
        """Finds the `clusters` of a self-conditioned GAN in its training images.

        k-means (scikit-learn) of the images' first 50 principal components; sets
        the discriminator's cluster assignment and the generator's cluster frequencies
        (also the EMA generator's). Call it once before the first `fit`, on the data
        `fit` will see (an array of uint8 or [-1, 1] float images, or a dataset of
        them, of which up to `max_images` are read). Seeded by the model's `seed`.
        """
        if not self.clusters:
            raise ValueError("`adapt` finds the clusters of a GAN built with `clusters=K`; "
                             f"this one has clusters={self.clusters}.")
        _check_positive_int("max_images", max_images)
        if isinstance(data, tf.data.Dataset):
            batches, count = [], 0
            for element in data:  # what the train step would see, as float32
                batches.append(np.asarray(self._unpack(element)[0], "float32"))
                count += len(batches[-1])
                if count >= max_images:
                    break
            images = np.concatenate(batches)[:max_images] if batches else np.zeros((0,))
        else:
            images = utils.to_float(self._checked_images(np.asarray(data), "data")[:max_images])
        if len(images) < self.clusters:
            raise ValueError(
                f"Received an invalid value for argument `data`: {len(images)} images "
                f"cannot form clusters={self.clusters} clusters."
            )
        mean, projection, centroids, counts = clusters_lib.cluster_images(
            images, self.clusters, dims=self.cluster_assigner.dims, seed=self.seed)
        self.cluster_assigner.set_clusters(mean, projection, centroids)
        frequencies = (counts / counts.sum()).astype("float32")
        for network in (self.generator, self.ema_generator):
            if network is not None:
                self._cluster_samplers(network)[0].frequencies.assign(frequencies)
        return counts

    def _checked_images(self, x, argument):
        """In-memory images `x` (`(N, H, W)` grayscale gets its channel axis), checked
        against `image_shape`, non-empty, and in [-1, 1] when float."""
        if x.ndim == 3 and self.image_shape[-1] == 1:
            x = x[..., None]  # (N, H, W) grayscale, as `data.images` takes it
        self._check_image_spec(x.shape, x.dtype, argument)
        if x.shape[0] == 0:
            raise ValueError(
                f"Received an invalid value for argument `{argument}`: no images (shape "
                f"{x.shape})"
            )
        if np.issubdtype(x.dtype, np.floating):
            low, high = float(np.min(x)), float(np.max(x))
            if not (-1.0 <= low and high <= 1.0):  # NaN fails too
                hint = (" They look like 0-255 pixel values stored as floats: pass uint8 "
                        f"or {argument} / 127.5 - 1." if 2.0 <= high <= 255.0 and low >= 0.0
                        else " Pass uint8 0-255 or scale them to [-1, 1].")
                raise ValueError(
                    f"Received an invalid value for argument `{argument}`. Expected float "
                    f"images in [-1, 1], received values in [{low}, {high}].{hint}"
                )
        return x

    def _check_fit_data(self, x, y):
        if isinstance(x, tf.data.Dataset):
            if int(x.cardinality()) == 0:
                raise ValueError(
                    "Received an invalid value for argument `x`: the dataset is empty "
                    "(cardinality 0; is batch_size larger than the number of images?)"
                )
            return
        if not isinstance(x, np.ndarray):
            return
        if self.num_classes and y is not None:
            labels = np.asarray(y)
            if labels.ndim == 2 and labels.shape[1] == 1:
                labels = labels[:, 0]
            check_class_ids(labels, x.shape[0], self.num_classes, "y")

    def _check_image_spec(self, shape, dtype, argument):
        """Static checks of training images against `image_shape`: rank, size, dtype."""
        try:
            expected = tuple(self.image_shape)
        except (AttributeError, IndexError, TypeError):  # a network without known outputs
            return
        if isinstance(shape, tf.TensorShape):
            shape = None if shape.rank is None else tuple(shape.as_list())
        else:
            shape = tuple(shape)
        if shape is not None and (len(shape) != len(expected) + 1 or any(
                s is not None and e is not None and s != e
                for s, e in zip(shape[1:], expected))):
            raise ValueError(
                f"Received an invalid value for {_argument(argument)}. Expected a batch "
                f"of images of shape (N, {', '.join(map(str, expected))}) (this "
                f"{type(self).__name__} has image_shape={expected}), received shape "
                f"{shape}."
            )
        dtype = tf.as_dtype(dtype)
        if not (dtype.is_floating or dtype == tf.uint8):
            raise TypeError(
                f"Received an invalid value for {_argument(argument)}. Expected float32 "
                f"images in [-1, 1] or uint8 (0-255), received dtype {dtype.name}."
            )

    def _unpack(self, data):
        labels = None
        if isinstance(data, (tuple, list)):
            if len(data) == 1:
                data = data[0]
            else:
                data, labels = data[0], data[1]
        if isinstance(data, dict):
            labels = data.get("label", labels)
            data = data["image"]
        if self.num_classes and labels is None:
            raise ValueError(
                f"This GAN is conditional (num_classes={self.num_classes}): the dataset "
                "must yield (images, labels); it yields images only."
            )
        self._check_image_spec(data.shape, data.dtype, "the training images")
        dtype = self.compute_dtype if self.compute_dtype != "float16" else "float32"
        images = utils.to_float(data, dtype)  # uint8: pixels 0-255, as `keras_gans.data`
        if labels is not None and self.num_classes:
            labels = tf.reshape(tf.cast(labels, "int32"), [-1])
        else:
            labels = None
        return images, labels

    def _noise(self, batch, stream):
        return self._replica_rows(
            lambda shape, seed: tf.random.stateless_normal(shape, seed=seed),
            (batch, self.latent_dim), self._seed(stream))

    def _g_inputs(self, z, labels):
        return [z, labels] if self.num_classes else z

    def _d_inputs(self, images, labels):
        return [images, labels] if labels is not None else images

    def _real_labels(self, real, labels):
        """What D sees real images under: their labels, their cluster, or nothing."""
        return self.cluster_assigner(real) if self.clusters else labels

    def _fake_labels(self, z, labels):
        """What D sees fakes under: the labels asked for, or the cluster drawn from z
        (the generator's `ClusterSampler` draws the same one)."""
        return self._cluster_samplers(self.generator)[0](z) if self.clusters else labels

    def _add_instance_noise(self, images, stream):
        if not self.instance_noise:
            return images
        noise = self._replica_rows(
            lambda shape, seed: tf.random.stateless_normal(shape, seed=seed,
                                                           dtype=images.dtype),
            tf.shape(images), self._seed(stream))
        return images + self.instance_noise * noise

    def _d_probability(self, outputs):
        outputs = tf.cast(outputs, "float32")
        return tf.sigmoid(outputs) if self.outputs_are_logits else outputs

    def _real_parts(self, *tensors):
        """`tensors` (the real images first, then per-image labels or None) for each
        discriminator update: whole `d_steps` times, or cut into `d_steps` parts of the
        batch under `split_real_batch`."""
        if not self.split_real_batch or self.d_steps == 1:
            return [tensors] * self.d_steps
        real = tensors[0]
        if real.shape[0] is not None and real.shape[0] < self.d_steps:
            raise ValueError(
                f"split_real_batch=True splits each batch into d_steps={self.d_steps} "
                f"parts; received a batch of {real.shape[0]} images. Feed batches of at "
                f"least d_steps images (d_steps times the batch one update should see)."
            )
        # A trailing batch smaller than d_steps (its size known only when it comes)
        # gives parts of one image, the last of them repeated.
        batch = tf.shape(real)[0]
        size = tf.maximum(batch // self.d_steps, 1)
        starts = [tf.minimum(i * size, batch - size) for i in range(self.d_steps)]
        return [tuple(None if t is None else t[start:start + size] for t in tensors)
                for start in starts]

    def train_step(self, data):
        images, all_labels = self._unpack(data)
        d_vars = self.discriminator.trainable_variables
        g_vars = self.generator.trainable_variables
        # What D sees the real images under, once for the batch (a per-image function:
        # a part's rows are its images' own).
        parts = self._real_parts(images, all_labels, self._real_labels(images, all_labels))

        for i, (real, labels, real_labels) in enumerate(parts):
            batch = tf.shape(real)[0]
            z = self._noise(batch, stream=4 * i)
            with tf.GradientTape() as tape:
                fake = self.generator(self._g_inputs(z, labels), training=True)
                real_aug = self._augment(real, 2 * i)
                fake_aug = self._augment(fake, 2 * i + 1)
                real_seen = self._add_instance_noise(real_aug, 4 * i + 1)
                fake_seen = self._add_instance_noise(fake_aug, 4 * i + 2)
                real_out = self.discriminator(self._d_inputs(real_seen, real_labels),
                                              training=True)
                fake_out = self.discriminator(
                    self._d_inputs(fake_seen, self._fake_labels(z, labels)), training=True)
                d_loss = self.discriminator_loss(real_out, fake_out)
                d_loss = d_loss + self.discriminator_penalty(real_aug, fake_aug, real_labels,
                                                             self._seed(4 * i + 3))
                # Inside the tape: an op outside it would cut the gradient.
                scaled = self._loss_for_gradients(d_loss, self.d_optimizer)
            grads = tape.gradient(scaled, d_vars)
            self.d_optimizer.apply(grads, d_vars)

        z = self._noise(batch, stream=63)
        with tf.GradientTape() as tape:
            fake = self.generator(self._g_inputs(z, labels), training=True)
            fake_seen = self._augment(fake, 63)
            fake_out = self.discriminator(
                self._d_inputs(fake_seen, self._fake_labels(z, labels)), training=True)
            g_loss = self.generator_loss(fake_out)
            scaled = self._loss_for_gradients(g_loss, self.g_optimizer)
        grads = tape.gradient(scaled, g_vars)
        self.g_optimizer.apply(grads, g_vars)

        self._update_ema()
        self.noise_step.assign_add(1)
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        self.d_real_tracker.update_state(tf.reduce_mean(self._d_probability(real_out)))
        self.d_fake_tracker.update_state(tf.reduce_mean(self._d_probability(fake_out)))
        return _replica_logs(self.metrics)

    def _update_ema(self):
        if self.ema_generator is None:
            return
        decay = tf.constant(self.ema_decay, tf.float32)
        if self.ema_warmup:
            # Called before `noise_step` counts this step: t = 0 on the first step.
            t = tf.cast(self.noise_step, tf.float32)
            decay = tf.minimum(decay, (1.0 + t) / (10.0 + t))
        for ema_w, w in zip(self.ema_generator.weights, self.generator.weights):
            if w.trainable:
                d = tf.cast(decay, ema_w.dtype)
                ema_w.assign(d * ema_w + (1.0 - d) * tf.cast(w, ema_w.dtype))
            else:  # batch-norm statistics follow the live generator
                ema_w.assign(w)

    def test_step(self, data):
        # `fit(validation_data=...)` and `evaluate` report losses without updating.
        real, labels = self._unpack(data)
        z = self._noise(tf.shape(real)[0], stream=62)
        fake = self.generator(self._g_inputs(z, labels), training=False)
        real_out = self.discriminator(self._d_inputs(real, self._real_labels(real, labels)),
                                      training=False)
        fake_out = self.discriminator(self._d_inputs(fake, self._fake_labels(z, labels)),
                                      training=False)
        self.d_loss_tracker.update_state(self.discriminator_loss(real_out, fake_out))
        self.g_loss_tracker.update_state(self.generator_loss(fake_out))
        self.d_real_tracker.update_state(tf.reduce_mean(self._d_probability(real_out)))
        self.d_fake_tracker.update_state(tf.reduce_mean(self._d_probability(fake_out)))
        return _replica_logs(self.metrics)

    def call(self, inputs, training=False):
        """Runs the generator (the EMA one when enabled and not training)."""
        net = self.ema_generator if (self.ema_generator is not None and not training) \
            else self.generator
        return net(inputs, training=training)

    # --- Sampling ---

    def sample_noise(self, n, seed=None):
        """Standard normal noise `[n, latent_dim]`, reproducible with `seed`."""
        _check_positive_int("n", n)
        rng = np.random.default_rng(check_seed("seed", seed))
        return rng.standard_normal((n, self.latent_dim)).astype("float32")

    def _check_labels(self, labels, n):
        if not self.num_classes:
            if labels is not None:
                raise ValueError(
                    "Received `labels` for an unconditional GAN (num_classes=None); "
                    f"received: labels={labels!r}"
                )
            return None
        if labels is None:
            labels = np.arange(n) % self.num_classes
        labels = np.asarray(labels)
        if labels.ndim == 0:
            labels = np.full((n,), int(labels))
        return check_class_ids(labels, n, self.num_classes, "labels")

    def _get_generate_fn(self):
        if self._generate_fn is None:
            net = self.ema_generator if self.ema_generator is not None else self.generator
            z_spec = tf.TensorSpec([None, self.latent_dim], tf.float32)
            if self.num_classes:
                @tf.function(input_signature=[z_spec, tf.TensorSpec([None], tf.int32)])
                def fn(z, labels):
                    return tf.cast(net([z, labels], training=False), tf.float32)
            else:
                @tf.function(input_signature=[z_spec])
                def fn(z):
                    return tf.cast(net(z, training=False), tf.float32)
            # The concrete function skips tf.function's argument dispatch: about 1 ms
            # of the ~2.7 ms of a one-image call on a 2-core CPU.
            self._generate_fn = fn.get_concrete_function()
        return self._generate_fn

    def _check_generate_memory(self, n):
        """Refuses, before allocating anything, `n` images that would not fit in memory."""
        pixels = int(np.prod(self.image_shape))
        # The noise, the float32 images of each chunk, and the concatenated result.
        needed = 4 * n * (self.latent_dim + 2 * pixels)
        if needed < _MEMORY_CHECK_BYTES:
            return
        available = utils.available_memory()
        if available is not None and needed > available:
            raise MemoryError(
                f"Received an invalid value for argument `n`: generating n={n:,} images of "
                f"shape {tuple(self.image_shape)} needs about {needed / 2**30:.1f} GiB but "
                f"only {available / 2**30:.1f} GiB of memory is available. Ask for fewer "
                "images per call."
            )

    def generate(self, n=None, seed=None, labels=None, z=None):
        """Generate images, float32 in [-1, 1], shape `(n, H, W, C)`.

        Args:
            n: number of images (a positive integer). May be omitted when `z` is given.
            seed: an integer for reproducible output, or `None` for fresh noise.
            labels: for a conditional GAN, the class of each image (`n` integers, or one
                integer for all); by default the classes cycle `0, 1, ..., K-1`.
            z: noise `[n, latent_dim]` to use instead of drawing it.

        Runs a `tf.function` (not `predict`), so a single image costs milliseconds.
        """
        if z is None:
            _check_positive_int("n", n)
            self._check_generate_memory(n)
            z = self.sample_noise(n, seed)
        else:
            try:
                z = np.asarray(z, dtype="float32")
            except (TypeError, ValueError):
                raise TypeError(
                    "Received an invalid value for argument `z`. Expected a float array of "
                    f"shape (n, {self.latent_dim}), received: {type(z).__name__} {z!r:.80}"
                ) from None
            if z.ndim != 2 or z.shape[1] != self.latent_dim:
                raise ValueError(
                    "Received an invalid value for argument `z`. Expected noise of shape "
                    f"(n, {self.latent_dim}) (latent_dim={self.latent_dim}), received "
                    f"shape {z.shape}."
                )
            if n is not None and n != z.shape[0]:
                raise ValueError(f"Argument `n`={n} does not match `z`'s {z.shape[0]} rows.")
            finite = np.isfinite(z)
            if not finite.all():
                raise ValueError(
                    "Received an invalid value for argument `z`. Expected finite noise, "
                    f"received {int(finite.size - finite.sum())} NaN or infinite values, "
                    f"e.g. {z[~finite][0]}."
                )
            n = z.shape[0]
            self._check_generate_memory(n)
        labels = self._check_labels(labels, n)
        fn = self._get_generate_fn()
        out = []
        for start in range(0, n, _GENERATE_CHUNK):
            stop = start + _GENERATE_CHUNK
            if labels is None:
                out.append(fn(z[start:stop]).numpy())
            else:
                out.append(fn(z[start:stop], labels[start:stop]).numpy())
        return out[0] if len(out) == 1 else np.concatenate(out, axis=0)

    # --- Declarations ---

    def served_network(self):
        """The EMA generator when the model keeps one (what `generate` uses), else the
        generator."""
        return self.ema_generator if self.ema_generator is not None else self.generator

    def serving_signatures(self, jit_compile=False):
        """`serving_default` (noise), `sample` and `png` (a seed) of the generator, the
        EMA one when kept (see `keras_gans.export`); `jit_compile`: XLA."""
        net = self.served_network()
        return {
            "endpoints": export_lib.noise_to_image_signatures(
                net, self.latent_dim, self.num_classes, jit_compile=jit_compile),
            "metadata": {
                "family": "gan",
                "latent_dim": self.latent_dim,
                "num_classes": self.num_classes,
                "image_shape": [int(s) for s in self.image_shape],
                "served_network": "generator" if net is self.generator else "ema_generator",
                "max_request_images": export_lib.max_request_images(net, self.latent_dim),
                "sample_noise": "tf.random.stateless_normal([n, latent_dim], "
                                "seed=[seed, 0], alg='philox')",
            },
        }

    def preview_inputs(self, n, seed=0, data=None):
        """Noise `[n, latent_dim]` drawn once from `seed` (`data` is not needed)."""
        return (np.random.default_rng(check_seed("seed", seed))
                .standard_normal((n, self.latent_dim))
                .astype("float32"),)

    def preview(self, z):
        """`{"samples": [images]}`: a grid of what `z` generates (classes cycling)."""
        return {"samples": [self.generate(z=z)]}

    def fingerprint(self):
        labels = np.arange(4) % self.num_classes if self.num_classes else None
        return "generate(4, seed=0)", self.generate(4, seed=0, labels=labels)
