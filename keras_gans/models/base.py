"""The adversarial base: named networks, one optimizer per group of them, and the plumbing.

`AdversarialModel(keras.Model)` owns what every model of the package needs and none
should write again:

- the networks, by name (`network_names`): attributes, constructor arguments and config
  keys at once, serialised in `get_config` and rebuilt in `from_config`;
- the optimizers (`optimizer_networks`: compile argument -> the networks it trains):
  `compile` with one optimizer per group and the class's defaults, the
  `get_compile_config` / `compile_from_config` round trip (a `.keras` file restores
  every optimizer), and the optimizers built at compile time, inside the strategy scope,
  so a checkpoint restores their slots and `tf.distribute` finds them mirrored;
- a step counter (`noise_step`, saved) and stateless per-step seeds, the same on every
  replica and in a resumed run as in an uninterrupted one; per-example draws split over
  replicas (`_replica_rows`) and the loss scaling for replicas;
- "already built" handling and `fit` defaults (a dataset is used in its own order).

Each model also declares what it offers, read by export, callbacks, the CLI and the zoo
instead of testing for classes or attributes:

- `served_network()` and `serving_signatures()`: the served network and the signatures
  `keras_gans.export` writes (built with `keras_gans.export`'s signature builders);
- `preview_inputs(n, seed, data)` and `preview(*inputs)`: the fixed inputs and the
  columns of images a preview shows (`SampleGrid`, `TensorBoardImages`, hence
  `training.train` and `keras-gans train`); `preview_from_seed` when the
  inputs need no data (a generator of noise);
- `fingerprint()`: a fixed-input output summary recorded in the zoo manifest (the
  recipes' `zoo/_recipe.py`, checked by `tests/test_zoo.py`);
- `train_options`, `train_dataset`, `from_train_options` and `train_class`: how
  `keras-gans train VARIANT` trains it (VARIANT: a module that
  `keras_gans.models.TRAIN_VARIANTS` lists; its model: the class whose body sets
  `train_options`). `train_options` is the module-level literal
  `TRAIN_OPTIONS` (or one imported from another model module), so that the CLI reads it
  without importing TensorFlow: `{dest: spec}` in the order of `--help`, a spec a dict of
  `type` (`"positive_int"`, `"non_negative_int"`, `"int"`, `"non_negative_float"`,
  `"fraction"`, `"image_size"`, `"flag"` (on/off), `"source"` (images, checked like
  DATA), `"model_file"` (a run directory or `.keras` file to start from; `classes` it may
  hold, the options it `fixes`: dest -> config key), or none for a string), `default`
  (this variant's), `help`, `choices`, `metavar`, `required` (the error without it) and
  `resume_hint` (added to the error when it differs from a stored run's). An entry
  for a common option of `train` (`batch_size`) sets only this variant's default; one
  that several variants declare is one flag, typed and described by its first
  declaration.

The validators used by every model (`_check_positive_int`, ...) live here too.
"""

import random

import keras
import numpy as np
import tensorflow as tf

from keras_gans import augment as augment_lib
from keras_gans._arrays import check_bool as _check_bool
from keras_gans.presets import PresetMixin

# --- Validators and helpers shared by every model ---

# `keras.Model.fit(x, y, batch_size, epochs, verbose, callbacks, validation_split,
# validation_data, shuffle, ...)`: the position of `shuffle` after `x` and `y`.
_FIT_SHUFFLE_POSITION = 6
# Arguments of `keras.Model.compile` the models pass on and save with the model.
KERAS_COMPILE_ARGS = ("run_eagerly", "jit_compile", "steps_per_execution", "auto_scale_loss")


def _no_dataset_shuffle(x, args, kwargs):
    """`fit` kwargs with `shuffle=False` for a `tf.data.Dataset` unless the caller set it.

    Keras's default `shuffle=True` cannot shuffle a dataset and warns on every `fit`;
    keras_gans datasets are shuffled by `keras_gans.data` already.
    """
    if (isinstance(x, tf.data.Dataset) and "shuffle" not in kwargs
            and len(args) <= _FIT_SHUFFLE_POSITION):
        kwargs = {**kwargs, "shuffle": False}
    return kwargs


class _DatasetOrderFit:
    """`fit` that uses a `tf.data.Dataset` in its own order: `shuffle` defaults to False
    for it (Keras's True cannot shuffle a dataset and warns). Mixed into every model."""

    def fit(self, x=None, y=None, *args, **kwargs):
        return super().fit(x, y, *args, **_no_dataset_shuffle(x, args, kwargs))


def _check_positive_int(name, value, allow_none=False):
    if value is None and allow_none:
        return
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(
            f"Received an invalid value for argument `{name}`. "
            f"Expected a positive integer, received: {name}={value!r}"
        )


def _check_non_negative(name, value):
    """A finite number >= 0, returned as a float."""
    if (isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number))
            or not np.isfinite(value) or value < 0):
        raise ValueError(
            f"Received an invalid value for argument `{name}`. Expected a non-negative "
            f"number, received: {name}={value!r}"
        )
    return float(value)


def _check_fraction(name, value, upper=1.0, upper_inclusive=False):
    ok = isinstance(value, (int, float, np.floating)) and 0.0 <= value
    ok = ok and (value <= upper if upper_inclusive else value < upper)
    if not ok:
        bracket = "]" if upper_inclusive else ")"
        raise ValueError(
            f"Received an invalid value for argument `{name}`. Expected a number in "
            f"[0, {upper}{bracket}, received: {name}={value!r}"
        )


def _network_input_shapes(model):
    """The input shapes of a Keras network, as a list (one per input)."""
    inputs = model.inputs if getattr(model, "inputs", None) else None
    if not inputs:
        return None
    return [tuple(t.shape) for t in inputs]


def _replica_logs(metrics):
    """`{name: result}` of the metric trackers, the logs a train or test step returns.

    Keras averages each log over the replicas. Across workers
    (`MultiWorkerMirroredStrategy`) it calls `strategy.reduce("MEAN", value, axis=0)`,
    which rejects scalars (tensorflow/tensorflow#72388); a `[1]` tensor reduces to
    the same scalar mean.
    """
    logs = {m.name: m.result() for m in metrics}
    strategy = tf.distribute.get_strategy()
    multi_worker = getattr(strategy.extended, "_in_multi_worker_mode", lambda: False)
    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and multi_worker():
        logs = {name: tf.reshape(value, [1]) for name, value in logs.items()}
    return logs


def _batch_pair(data, keys=None):
    """`(first, second)` of a training batch that is a pair (or a dict with the two
    `keys`), or None: the models that train on pairs name what they expected."""
    if keys is not None and isinstance(data, dict) and set(keys) <= set(data):
        return data[keys[0]], data[keys[1]]
    if isinstance(data, (tuple, list)) and len(data) >= 2 and data[1] is not None:
        return data[0], data[1]
    return None


def _argument(name):
    return f"argument `{name}`" if name.isidentifier() else name


def _build_if_unbuilt(model, iterator=None, data_batch=None):
    """Replaces Keras's `_maybe_symbolic_build` in the package's models (as a method).

    Under a distribution strategy `fit` and `evaluate` take a first batch and average
    it over the replicas to build unbuilt layers, and `MultiWorkerMirroredStrategy`
    cannot average a batch that is a tuple: `(images, labels)`, `(a, b)` and
    `(low_res, high_res)` training failed there. These models are built when they are
    created, so there is nothing to build.
    """
    if all(layer.built for layer in model._flatten_layers()):
        return None
    return keras.Model._maybe_symbolic_build(model, iterator=iterator, data_batch=data_batch)


def _scale_for_replicas(loss):
    # Optimizers sum gradients over replicas; the mean loss per replica must be
    # divided by their number for the global-batch gradient.
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    return loss / replicas if replicas > 1 else loss


def computes_in_float16(model):
    """Whether `model` trains in float16: the global or the model's dtype policy is
    `mixed_float16`, or a layer of one of its networks computes in float16."""
    if "mixed_float16" in (keras.mixed_precision.global_policy().name,
                           model.dtype_policy.name):
        return True
    return any(layer.compute_dtype == "float16"
               for name in model.network_names
               for layer in getattr(model, name)._flatten_layers())


def _make_optimizer(value, name, default):
    """`value` (an optimizer, its name or config) as an optimizer; `default()` for None."""
    if value is None:
        return default()
    try:
        return keras.optimizers.get(value)
    except (ValueError, TypeError) as e:
        raise ValueError(
            f"Received an invalid value for argument `{name}`: {value!r} ({e})"
        ) from None


# --- The base model ---


def uses_ema(optimizer):
    """Whether `optimizer` (or the one a `LossScaleOptimizer` wraps) keeps Keras's EMA of
    the weights (`use_ema=True`)."""
    return bool(getattr(getattr(optimizer, "inner_optimizer", optimizer), "use_ema", False))


class AdversarialModel(PresetMixin, _DatasetOrderFit, keras.Model):
    """Named networks trained adversarially with `fit`, one optimizer per group of them.

    Subclasses set the class attributes, build their networks and call
    `super().__init__(networks, seed=seed, **kwargs)`, then write `train_step` with
    `self._seed(stream)` for random draws and `_loss_for_gradients` on losses.

    Args:
        networks: `{name: keras.Model}` for every name of `network_names`; each becomes
            an attribute.
        seed: seed of the train step's random draws, a function of `(seed, step)`;
            random when omitted (and then saved, so a loaded model continues it).
        **kwargs: passed on to `keras.Model` (`name`, ...).
    """

    #: The networks: attribute names, constructor arguments and config keys.
    network_names = ()
    #: `{compile argument: networks it trains}`, e.g. `{"d_optimizer": ("discriminator",),
    #: "g_optimizer": ("generator",)}`.
    optimizer_networks = {}  # noqa: RUF012
    #: The optimizer Keras sees as `model.optimizer` (TensorBoard's step, LR schedulers,
    #: `training.train`'s step count).
    primary_optimizer = None
    #: Default optimizer: `keras.optimizers.Adam(**default_optimizer)`.
    default_optimizer = {"learning_rate": 2e-4, "beta_1": 0.5, "beta_2": 0.999}  # noqa: RUF012

    def __init__(self, networks, seed=None, **kwargs):
        super().__init__(**kwargs)
        if set(networks) != set(self.network_names):
            raise ValueError(
                f"{type(self).__name__} needs the networks {list(self.network_names)}; "
                f"received {sorted(networks)}."
            )
        for name in self.network_names:
            if not isinstance(networks[name], keras.Model):
                raise TypeError(
                    f"Received an invalid value for argument `{name}`. Expected a "
                    f"keras.Model, received: {type(networks[name]).__name__}"
                )
            setattr(self, name, networks[name])
        if seed is not None:
            _check_int("seed", seed)
        self.seed = int(random.randint(0, 2**31 - 1) if seed is None else seed)
        # Counts train steps; every random draw is a function of (seed, step). Saved
        # with the model, so a resumed run continues the same stream.
        self.noise_step = self.add_weight(
            shape=(), dtype="int64", initializer="zeros", trainable=False,
            aggregation="only_first_replica", name="noise_step",
        )
        for name in self.optimizer_networks:
            setattr(self, name, None)
        self._compile_kwargs = {}
        # A wrapper model that `fit` never calls is otherwise unbuilt, and Keras
        # refuses to save or load an unbuilt model.
        self.built = True

    _maybe_symbolic_build = _build_if_unbuilt

    def _add_trackers(self, names):
        """A `keras.metrics.Mean` per logged metric `name`, as attribute `<name>_tracker`
        (created in this order, so a model's files keep their layout)."""
        for name in names:
            setattr(self, f"{name}_tracker", keras.metrics.Mean(name=name))

    # --- Config ---

    def model_options(self):
        """The constructor arguments other than the networks and `seed` (for `get_config`)."""
        return {}

    def get_config(self):
        config = super().get_config()
        for name in self.network_names:
            config[name] = keras.saving.serialize_keras_object(getattr(self, name))
        config.update(self.model_options(), seed=self.seed)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        networks = {name: keras.saving.deserialize_keras_object(config.pop(name))
                    for name in cls.network_names}
        return cls(**networks, **config)

    # --- Compile ---

    def compile(self, **kwargs):
        """Configure one optimizer per group of networks (the `optimizer_networks` keys).

        Under `mixed_float16` (the global or the model's policy, or networks that
        compute in float16) every optimizer is wrapped in a
        `keras.optimizers.LossScaleOptimizer`: the train steps multiply each loss by
        its dynamic scale, `apply` unscales the gradients and skips a step whose
        gradients are not finite. `auto_scale_loss=False` leaves the optimizers as
        given. bfloat16 needs no loss scaling (its range is float32's).

        Args:
            **kwargs: the optimizers, by their names in `optimizer_networks` (instance,
                name or config; `None`: `Adam(**default_optimizer)`), and
                `keras.Model.compile` options (`run_eagerly`, `jit_compile`,
                `steps_per_execution`, `auto_scale_loss`).
        """
        for key in ("optimizer", "loss", "metrics", "loss_weights"):
            if key in kwargs:
                raise ValueError(
                    f"`{type(self).__name__}.compile` does not take `{key}`; pass "
                    f"{' / '.join(f'`{n}`' for n in self.optimizer_networks)} instead. "
                    f"Received: {key}={kwargs[key]!r}"
                )
        auto_scale_loss = _check_bool("auto_scale_loss", kwargs.get("auto_scale_loss", True))
        if "steps_per_execution" in kwargs:  # Keras takes 0, 2.0 or "4" without a word
            _check_positive_int("steps_per_execution", kwargs["steps_per_execution"])
            kwargs["steps_per_execution"] = int(kwargs["steps_per_execution"])
        scale = auto_scale_loss and computes_in_float16(self)
        optimizers = {}
        for name in self.optimizer_networks:
            value = kwargs.pop(name, None)
            optimizer = _make_optimizer(
                value, name, lambda name=name: self.make_default_optimizer(name))
            if scale and not isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
                optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
            self._check_optimizer_ema(name, optimizer)  # before the model changes
            optimizers[name] = optimizer
        for name, optimizer in optimizers.items():
            setattr(self, name, optimizer)
        super().compile(optimizer=getattr(self, self.primary_optimizer), **kwargs)
        # Build the optimizers now, on the right variables: restoring a checkpoint
        # (`load_model`, BackupAndRestore) needs their slots to exist, and under
        # tf.distribute they must be built inside the strategy scope.
        for name, nets in self.optimizer_networks.items():
            getattr(self, name).build(self._trainable_variables_of(nets))
        self._compile_kwargs = {k: v for k, v in kwargs.items() if k in KERAS_COMPILE_ARGS}

    def _check_optimizer_ema(self, name, optimizer):
        """Keras's optimizer EMA (`use_ema=True`) is written into the weights by `fit`
        when it ends, as `model.optimizer.finalize_variable_values(model.trainable_weights)`:
        right only when the primary optimizer trains every trainable weight (SRResNet).
        Elsewhere it would fail at the end of `fit`, or never take effect: refused."""
        if not uses_ema(optimizer):
            return
        own = self._trainable_variables_of(self.optimizer_networks[name])
        if len(self.optimizer_networks) > 1:
            why = (f"this {type(self).__name__} trains "
                   f"{', '.join(n for ns in self.optimizer_networks.values() for n in ns)} "
                   f"with {len(self.optimizer_networks)} optimizers. Drop use_ema here "
                   "(the GAN family has `ema_decay` for its generator)")
        elif [id(v) for v in own] != [id(v) for v in self.trainable_weights]:
            others = sorted({v.path for v in self.trainable_weights} - {v.path for v in own})
            why = (f"this {type(self).__name__} has trainable weights that `{name}` does "
                   f"not train: {others[:3]}. Freeze them (trainable=False)")
        else:
            return
        raise ValueError(
            f"Received an invalid value for argument `{name}`: an optimizer with "
            f"use_ema=True. Keras applies the moving average when `fit` ends only for a "
            f"model that one optimizer trains whole, and {why}. Received: "
            f"{name}={optimizer!r}")

    def make_default_optimizer(self, name):
        """The optimizer `name` when `compile` receives none: `Adam(**default_optimizer)`."""
        return keras.optimizers.Adam(**self.default_optimizer)

    def _trainable_variables_of(self, names):
        return [v for name in names for v in getattr(self, name).trainable_variables]

    def compile_options(self):
        """Options of a subclass's `compile` other than the optimizers, to save."""
        return {}

    def get_compile_config(self):
        if getattr(self, self.primary_optimizer, None) is None:
            return None
        optimizers = {name: keras.saving.serialize_keras_object(getattr(self, name))
                      for name in self.optimizer_networks}
        return {**optimizers, **self.compile_options(), **self._compile_kwargs}

    def compile_from_config(self, config):
        self.compile(**{key: _deserialized(value) for key, value in config.items()})

    # --- Random draws and replicas ---

    #: DiffAugment policy of the discriminator's inputs (`None`: none); the models that
    #: offer it (`GAN`, `SRGAN`) set it from their `augment` argument.
    augment = None

    def _augment(self, images, stream):
        """DiffAugment of images the discriminator sees (identity when `augment` is None):
        draw `stream` of this step (salt 1), this replica's rows of the global batch."""
        if self.augment is None:
            return images
        return augment_lib.diff_augment(images, self.augment, self._seed(stream, salt=1),
                                        rows=self._replica_rows)

    def _seed(self, stream, salt=0):
        """A stateless seed for draw `stream` of the current step (the same on all replicas).

        `salt` separates families of draws, so adding one leaves the others unchanged.
        """
        step = tf.cast(self.noise_step, "int64")
        return tf.stack([tf.constant(self.seed, "int64") * 1000 + salt, step * 64 + stream])

    def _replica_rows(self, sample, shape, seed):
        """This replica's rows of `sample(global_shape, seed)`, a per-example random draw.

        Draws are made for the global batch (`num_replicas_in_sync * B` rows) and
        replica `r` keeps rows `[r * B, (r + 1) * B)`, the rows of its share of the
        batch. So the replicas draw independent numbers, and training on `R` replicas
        draws exactly what one device draws for the same global batch (results do not
        depend on the number of replicas). Assumes an evenly split batch.
        """
        ctx = tf.distribute.get_replica_context()
        replicas = ctx.num_replicas_in_sync if ctx is not None else 1
        if replicas == 1:
            return sample(shape, seed)
        shape = tf.convert_to_tensor(shape, dtype_hint="int32")
        batch = shape[0]
        start = tf.cast(ctx.replica_id_in_sync_group, shape.dtype) * batch
        rows = sample(tf.concat([[batch * replicas], shape[1:]], axis=0), seed)
        return rows[start:start + batch]

    _scale_for_replicas = staticmethod(_scale_for_replicas)

    @staticmethod
    def _loss_for_gradients(loss, optimizer):
        """`loss` as `optimizer.apply` expects its gradients: divided by the replicas
        (they sum gradients) and multiplied by the optimizer's loss scale (a
        `LossScaleOptimizer` under mixed_float16, whose `apply` unscales; other
        optimizers return the loss unchanged). Call it inside the tape."""
        return optimizer.scale_loss(_scale_for_replicas(loss))

    @staticmethod
    def _input_gradient_scale(optimizer):
        """The loss scale of `optimizer` (a `LossScaleOptimizer`), for the inner
        gradient of a penalty on input gradients (R1, GP); None otherwise."""
        if isinstance(optimizer, keras.optimizers.LossScaleOptimizer) and optimizer.built:
            return optimizer.dynamic_scale
        return None

    # --- Declarations: what the model serves, previews and how it trains ---

    def served_network(self):
        """The network that is served (`registry.load_generator`): the first one."""
        return getattr(self, self.network_names[0])

    def serving_signatures(self, jit_compile=False):
        """What `keras_gans.export` writes: `{"endpoints": [(name, fn, input_signature)],
        "metadata": {...}}`; the first endpoint is also `serving_default`. With
        `jit_compile`, the served network's forward pass is compiled with XLA
        (`keras_gans.export.network_call`); the input checks stay outside it."""
        raise NotImplementedError(
            f"{type(self).__name__} does not declare `serving_signatures`.")

    #: Whether `preview_inputs` draws its inputs from a seed alone (a generator of
    #: noise) rather than taking them from the data.
    preview_from_seed = False

    def preview_inputs(self, n, seed=0, data=None):
        """The fixed inputs of `preview`: by default the first `n` rows of `data` (arrays,
        a tuple of arrays or a `tf.data.Dataset`), as a tuple of arrays."""
        from keras_gans import utils

        if data is None:
            raise ValueError(
                f"A preview of a {type(self).__name__} needs `inputs`: batches of its "
                "training data, as arrays or a dataset; received: inputs=None")
        return utils.take_rows(data, n)

    def preview(self, *inputs):
        """`{tag: [column, ...]}`: batches of images shown side by side per row (float in
        [-1, 1] or uint8), for fixed `inputs` from the data (callbacks, CLI)."""
        raise NotImplementedError(f"{type(self).__name__} does not declare `preview`.")

    def fingerprint(self):
        """`(description, array)`: the output for a fixed input, recorded in the zoo
        manifest and compared after loading."""
        raise NotImplementedError(f"{type(self).__name__} does not declare `fingerprint`.")

    #: `keras-gans train` options: `{dest: spec}` (see the module docstring).
    train_options = {}  # noqa: RUF012

    @classmethod
    def train_dataset(cls, options, **common):
        """The training dataset of `keras-gans train` from the parsed `options` dict (the
        keys of `train_options` plus `data` and the common ones; `common`: batch_size,
        channels, seed, repeat, on_error)."""
        raise NotImplementedError(f"{cls.__name__} does not declare `train_dataset`.")

    @classmethod
    def from_train_options(cls, options, dataset):
        """A compiled model for `keras-gans train` from the parsed `options` and the
        dataset of `train_dataset`."""
        raise NotImplementedError(f"{cls.__name__} does not declare `from_train_options`.")

    @classmethod
    def train_class(cls, options):
        """The class `keras-gans train` makes and resumes for `options` (this one)."""
        return cls


def _deserialized(value):
    """A compile option from its config: serialised objects (optimizers, losses) rebuilt;
    a list of them (a pair of loss functions, files before loss objects) as a tuple."""
    def is_object(v):
        return isinstance(v, dict) and "class_name" in v

    if is_object(value):
        return keras.saving.deserialize_keras_object(value)
    if isinstance(value, list) and value and all(map(is_object, value)):
        return tuple(keras.saving.deserialize_keras_object(v) for v in value)
    return value


def check_seed(name, value):
    """`value` as a seed of numpy's generators: `None` or a non-negative integer (numpy
    refuses others without naming the argument)."""
    if value is None:
        return None
    if (isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer))
            or value < 0):
        raise (ValueError if isinstance(value, (int, np.integer)) and not isinstance(
            value, (bool, np.bool_)) else TypeError)(
            f"Received an invalid value for argument `{name}`. Expected a non-negative "
            f"integer or None, received: {name}={value!r}"
        )
    return int(value)


def _check_int(name, value):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(
            f"Received an invalid value for argument `{name}`. Expected an integer, "
            f"received: {name}={value!r}"
        )
