"""Keras callbacks for training the package's models.

- `SampleGrid` (PNG files) and `TensorBoardImages` draw the preview the model declares
  (`preview_inputs` / `preview`, see `keras_gans.models.base`);
- `Checkpoint` saves atomically every `save_freq` steps and stops on a non-finite loss
  or weight (`NonFiniteLossError`), keeping the last good file;
- `Evaluate` measures sample quality with `keras_gans.evaluation.measure` and logs it
  as `val_<metric>`; `TimeToQuality` records (minutes, step, metrics) after each
  measurement and keeps the best checkpoint.

None of them replaces a file it did not write: a `Checkpoint` path, a `best_path` or a
grid that holds something else is refused when training begins (`FileExistsError`
naming the argument and the file), before any step is trained.

`keras_gans.training.train` puts the checkpoint and preview callbacks together for a run.
"""

import errno
import os
import string
import weakref

import keras
import numpy as np

from keras_gans import utils

# Model -> {real path: identity} of the files `_atomic_save` wrote from it (the last
# write of each): files a callback may replace, as they hold this model's own state.
_SAVED_FROM = weakref.WeakKeyDictionary()


# --- Argument checks ---


def _check_counts(**counts):
    """The values of `counts` as ints (NumPy integers accepted), each positive."""
    checked = []
    for name, value in counts.items():
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) \
                or value <= 0:
            raise ValueError(
                f"Received an invalid value for argument `{name}`. Expected a "
                f"positive integer, received: {name}={value!r}"
            )
        checked.append(int(value))
    return checked


def _check_path(name, value, expected="a file name"):
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str) or not value:
        raise TypeError(
            f"Received an invalid value for argument `{name}`. Expected {expected} (str or "
            f"os.PathLike), received: {name}={value!r}"
        )
    return value


def _check_folder_possible(name, value, directory=None):
    """Refuse a folder to be written (`directory`, by default `value` itself) that is a
    file, or lies below one: checked now, not when the first file is written."""
    directory = value if directory is None else directory
    if "://" in directory:  # a remote file system (gs://, ...): TensorFlow's to check
        return
    path = os.path.abspath(directory)
    while not os.path.lexists(path):
        parent = os.path.dirname(path)
        if parent == path:
            return
        path = parent
    if not os.path.isdir(path):
        where = "a file" if path == os.path.abspath(value) else f"below the file {path!r}"
        raise NotADirectoryError(
            errno.ENOTDIR, f"Received an invalid value for argument `{name}`. Expected a "
            f"path whose folders exist or can be created, received: {name}={value!r}, "
            f"{where}", value)


def _check_not_a_folder(name, path):
    if os.path.isdir(path):
        raise IsADirectoryError(
            errno.EISDIR, f"Received an invalid value for argument `{name}`. Expected a "
            f"file name, received: {name}={path!r}, an existing folder", path)


def _identity(path):
    """What identifies the file at `path` now (`None` if it cannot be read)."""
    from keras_gans.training import _file_identity

    try:
        return _file_identity(path)
    except OSError:  # e.g. a dangling link
        return None


def _saved_from(model, path):
    """Whether the file at `path` is the one `_atomic_save` last wrote there from `model`."""
    identity = _identity(path)
    return identity is not None and \
        _SAVED_FROM.get(model, {}).get(identity[0]) == identity


def _archive_class(path):
    """The registered class name in the `.keras` archive `path`, or `None` if it is not
    one."""
    from keras_gans import registry

    try:
        config = registry.inspect_archive(path)
    except (OSError, ValueError, KeyError):
        return None
    if not isinstance(config, dict):
        return None
    return str(config.get("registered_name") or config.get("class_name"))


# --- Previews ---


class _PreviewCallback(keras.callbacks.Callback):
    """Holds what `SampleGrid` and `TensorBoardImages` share: the counts, the seed and
    the fixed inputs of the model's preview, drawn once on first use."""

    def __init__(self, every_n_epochs, n, seed, inputs):
        super().__init__()
        from keras_gans.models.base import check_seed

        self.every_n_epochs, self.n = _check_counts(every_n_epochs=every_n_epochs, n=n)
        self.seed = check_seed("seed", seed)
        self.inputs = inputs
        self.written = []
        self._fixed = None

    def _fixed_inputs(self):
        return self.model.preview_inputs(self.n, self.seed, self.inputs)

    def _previews(self):
        if self._fixed is None:
            self._fixed = self._fixed_inputs()
        return self.model.preview(*self._fixed)


def _check_grid_filename(filename):
    """`filename` of `SampleGrid`: a `.png` file name whose only field is `{epoch}`."""
    if not isinstance(filename, str):
        raise TypeError(
            "Received an invalid value for argument `filename`. Expected a file name such "
            f"as 'epoch_{{epoch:04d}}.png', received: filename={filename!r}")

    def invalid(expected):
        return ValueError(
            f"Received an invalid value for argument `filename`. Expected {expected}, "
            f"received: filename={filename!r}")

    try:
        fields = {field for _, field, _, _ in string.Formatter().parse(filename)
                  if field is not None}
        name = filename.format(epoch=1)
    except (ValueError, KeyError, IndexError, AttributeError, TypeError):
        raise invalid("a file name whose only field is `{epoch}` (an integer), such as "
                      "'epoch_{epoch:04d}.png'") from None
    if fields - {"epoch"}:
        raise invalid("a file name whose only field is `{epoch}`, such as "
                      "'epoch_{epoch:04d}.png'")
    if any(sep and sep in name for sep in ("/", os.sep, os.altsep)):
        raise invalid("a file name inside `directory`, not a path")
    if not name.lower().endswith(".png"):
        raise invalid("a `.png` file name (the grids are PNG files)")
    return filename


def _is_preview(path):
    """Whether `path` is a PNG grid written by `SampleGrid` (its provenance says so)."""
    try:
        return "preview" in utils.read_provenance(path)
    except (OSError, ValueError, SyntaxError):  # not an image PIL can read
        return False


def _in_a_run(directory):
    """Whether `directory` is the `samples/` folder of a `keras_gans.training.train`
    run: its grids are the run's own (`train` refuses a new run over a non-empty one)."""
    from keras_gans import _run_files

    parent, base = os.path.split(os.path.abspath(directory))
    return base == _run_files.SAMPLES and _run_files.holds_run(parent)


class SampleGrid(_PreviewCallback):
    """Writes a PNG grid of the model's preview every `every_n_epochs` epochs.

    The preview is what the model declares (`AdversarialModel.preview`): samples from
    fixed noise for a GAN (drawn once from `seed`, so successive grids show the same
    latent points and progress can be seen by eye), input and output side by side for
    an image-to-image model (fixed `inputs` from its data).

    Each grid carries keras_gans provenance (PNG text `keras_gans:preview`, read by
    `keras_gans.utils.read_provenance`). A grid file that already exists is replaced
    only when it is one of these previews (this run wrote it, or a run being resumed
    did), or when `directory` is the `samples/` folder of a `keras_gans.training.train`
    run; any other file of that name is refused with a `FileExistsError` when training
    begins, before anything is trained or written.

    Args:
        directory: where the PNG files go (created if missing); files are named
            `epoch_0001.png`, ... (`filename` formats them; a model with several
            previews gets one file each, prefixed by the preview's tag).
        every_n_epochs: how often to write a grid.
        n: images (or rows) per grid.
        seed: seed of the fixed noise.
        filename: a `.png` file name, formatted with `{epoch}` (its only field); without
            `{epoch}`, one file that always holds the latest grid.
        inputs: the fixed inputs of models that preview their data (see
            `TensorBoardImages`); unused by generators of noise.

    Example:

    ```python
    gan.fit(ds, epochs=20, callbacks=[keras_gans.callbacks.SampleGrid("samples/")])
    ```
    """

    def __init__(self, directory, every_n_epochs=1, n=64, seed=0,
                 filename="epoch_{epoch:04d}.png", inputs=None):
        super().__init__(every_n_epochs, n, seed, inputs)
        self.directory = _check_path("directory", directory, "a folder")
        _check_folder_possible("directory", self.directory)
        self.filename = _check_grid_filename(filename)
        self._own = {}  # real path -> identity of each grid this callback wrote

    def on_train_begin(self, logs=None):
        # The grids this `fit` may write (every epoch up to its last, any preview tag):
        # refuse now, not after an epoch, where one of them is somebody else's file.
        _check_folder_possible("directory", self.directory)
        epochs = (self.params or {}).get("epochs")
        if not isinstance(epochs, int) or not os.path.isdir(self.directory):
            return
        names = {self.filename.format(epoch=e)
                 for e in range(self.every_n_epochs, epochs + 1, self.every_n_epochs)}
        for entry in sorted(os.listdir(self.directory)):
            if entry in names or any(entry[i + 1:] in names
                                     for i, c in enumerate(entry) if c == "_"):
                self._check_replaceable(os.path.join(self.directory, entry))

    def _check_replaceable(self, path):
        if not os.path.lexists(path):
            return
        identity = _identity(path)
        if identity is not None and self._own.get(identity[0]) == identity:
            return
        if not os.path.isdir(path) and (_in_a_run(self.directory) or _is_preview(path)):
            return
        raise FileExistsError(
            errno.EEXIST, "Received an invalid value for argument `directory`: it holds "
            f"{os.path.basename(path)!r}, which SampleGrid would replace, and that file is "
            "not a grid of keras_gans (no `keras_gans:preview` provenance). Move it, or "
            f"choose another `directory` or `filename`: directory={self.directory!r}", path)

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every_n_epochs:
            return
        previews = self._previews()
        name = self.filename.format(epoch=epoch + 1)
        paths = {tag: os.path.join(self.directory, name if len(previews) == 1
                                   else f"{tag}_{name}") for tag in previews}
        for path in paths.values():  # all checked before any is written
            self._check_replaceable(path)
        for tag, columns in previews.items():
            path = paths[tag]
            # Replaced atomically: a resumed run writes its epochs' grids again.
            utils.save_image(_pair_grid(*columns), path, overwrite=True, metadata={
                "preview": tag, "epoch": epoch + 1, "model": type(self.model).__name__})
            identity = _identity(path)
            if identity is not None:
                self._own[identity[0]] = identity
            self.written.append(path)


class NonFiniteLossError(FloatingPointError):
    """Raised by `Checkpoint` when a logged loss or a weight becomes NaN or infinite.

    Attributes:
        step: the optimizer step at which it was found.
        name: the name of the loss (a log key) or of the weight (its path).
        value: the non-finite value (a loss), or `None` for a weight.
        path: the checkpoint file, which still holds the last good step.
    """

    def __init__(self, message, step=None, name=None, value=None, path=None):
        super().__init__(message)
        self.step = step
        self.name = name
        self.value = value
        self.path = path


def _atomic_save(model, path):
    """Save `model` to `path` (.keras) through a temporary file and an atomic rename.

    The file is written as `.tmp-<pid>-<name>` beside `path`, flushed to disk, then
    renamed over `path` (`os.replace` is atomic on POSIX and Windows): a kill at any
    moment leaves either the previous file or the new one, never a partial one. The
    leftover temporary file of a killed write is removed by
    `keras_gans.training.remove_stale_temporaries`. The file written is remembered as
    `model`'s own (`_SAVED_FROM`): the callbacks may replace it later.
    """
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    tmp = os.path.join(directory, f".tmp-{os.getpid()}-{os.path.basename(path)}")
    try:
        model.save(tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
        _fsync_directory(directory)  # make the rename itself durable
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    identity = _identity(path)
    if identity is not None:
        _SAVED_FROM.setdefault(model, {})[identity[0]] = identity


def _fsync_directory(directory):
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # e.g. Windows, where directories cannot be opened
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class Checkpoint(keras.callbacks.Callback):
    """Step-level checkpoints of the whole model, written atomically, guarded against NaN.

    Every `save_freq` train steps (and at each epoch's end) the full model (all
    networks, all optimizers, EMA weights, noise step, history pools) is saved to
    `path` through a temporary file and an atomic rename, so a kill at any moment leaves
    the last complete checkpoint loadable. After every step the logged losses are
    checked, and before saving the weights: if any is NaN or infinite, training stops
    with `NonFiniteLossError` naming the step and the loss, and the last good
    checkpoint is not overwritten.

    Resume with `keras_gans.training.train(...)` (or load `path` and `fit` with
    `initial_epoch`): the step counter of the model's optimizer says where it stopped.

    An existing `path` is replaced only when it holds the progress of the model being
    trained: the model was loaded from it (`keras_gans.training.resume_or_create`, or
    `keras.models.load_model` and not trained since: same class, step and weights), or
    this process saved the model there. Anything else (another model, another run, a
    file that is not a checkpoint) is refused with a `FileExistsError` naming `path`
    when training begins.

    A model compiled with `steps_per_execution=N` runs N steps per call and the
    callbacks once per call: the checkpoint is then written at the end of each call in
    which the step count reached a multiple of `save_freq`.

    Args:
        path: the `.keras` file to write.
        save_freq: save every this many steps (`"epoch"` for epoch ends only).
        check_weights: also check every weight for non-finite values before saving.

    Example:

    ```python
    gan.fit(ds, epochs=10, callbacks=[keras_gans.callbacks.Checkpoint("ckpt.keras", 200)])
    ```
    """

    def __init__(self, path, save_freq=100, check_weights=True):
        super().__init__()
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(
                "Received an invalid value for argument `path`. Expected a file name "
                f"ending in `.keras`, received: {type(path).__name__}"
            )
        path = os.fspath(path)
        if not path.endswith(".keras"):
            raise ValueError(
                "Received an invalid value for argument `path`. Expected a file name "
                f"ending in `.keras`, received: path={path!r}"
            )
        _check_not_a_folder("path", path)
        _check_folder_possible("path", path, os.path.dirname(os.path.abspath(path)))
        if save_freq != "epoch":
            if isinstance(save_freq, (bool, np.bool_)) or \
                    not isinstance(save_freq, (int, np.integer)) or save_freq <= 0:
                raise ValueError(
                    "Received an invalid value for argument `save_freq`. Expected a "
                    f"positive integer or 'epoch', received: save_freq={save_freq!r}"
                )
            save_freq = int(save_freq)
        if not isinstance(check_weights, (bool, np.bool_)):
            raise TypeError(
                "Received an invalid value for argument `check_weights`. Expected True or "
                f"False, received: check_weights={check_weights!r}"
            )
        self.path = path
        self.save_freq = save_freq
        self.check_weights = bool(check_weights)
        self.saved_steps = []
        self._last_step = None
        self._checked = None  # identity of the file at `path` found to be the model's

    def _step(self):
        return int(self.model.optimizer.iterations.numpy())

    def _check_path_is_the_models(self):
        """Refuse to replace a file at `path` that does not hold this model's progress."""
        if not os.path.lexists(self.path):
            return
        _check_not_a_folder("path", self.path)
        identity = _identity(self.path)
        if identity is not None and identity == self._checked:
            return
        from keras_gans import training

        if identity is not None and (_saved_from(self.model, self.path)
                                     or training._RESUMED.get(self.model) == identity
                                     or self._holds_the_model()):
            self._checked = identity
            return
        raise FileExistsError(
            errno.EEXIST, "Received an invalid value for argument `path`: the file exists "
            f"and does not hold the progress of this {type(self.model).__name__} (it was "
            "not loaded from it, nor saved there by this process); a checkpoint would "
            "replace it. Choose another path, or load the model from that file to continue "
            f"it: path={self.path!r}", self.path)

    def _holds_the_model(self):
        """Whether `path` holds this model as it is now (loaded from it, not trained
        since): the same class at the same step, with the same weights."""
        from keras_gans import registry

        if _archive_class(self.path) != keras.saving.get_registered_name(type(self.model)):
            return False
        try:
            held = registry.load_file(self.path)
        except Exception:  # noqa: BLE001 - a file that does not load is not the model's
            return False
        if getattr(held, "optimizer", None) is None or \
                int(held.optimizer.iterations.numpy()) != self._step():
            return False
        mine, theirs = self.model.weights, held.weights
        return len(mine) == len(theirs) and all(
            tuple(a.shape) == tuple(b.shape) and np.array_equal(np.asarray(a), np.asarray(b))
            for a, b in zip(mine, theirs))

    def _check_finite(self, logs):
        bad = []
        for name, value in (logs or {}).items():
            value = np.asarray(value)
            if value.dtype.kind == "f" and not np.all(np.isfinite(value)):
                bad.append((name, float(np.ravel(value)[~np.isfinite(np.ravel(value))][0])))
        if not bad:
            return
        # Name a loss first: a NaN loss poisons every other log of the step.
        bad.sort(key=lambda item: "loss" not in item[0])
        name, value = bad[0]
        others = f" (also non-finite: {', '.join(n for n, _ in bad[1:])})" if bad[1:] else ""
        self.model.stop_training = True
        step = self._step()
        raise NonFiniteLossError(
            f"Training stopped at step {step}: `{name}` is {value}{others}. The last good "
            f"checkpoint ({self.path}) was kept. Lower the learning rate, add a penalty "
            "(r1_weight, gp_weight) or check the data.",
            step=step, name=name, value=value, path=self.path,
        )

    def _check_weights(self):
        for w in self.model.weights:
            if w.dtype.startswith("float") and not np.all(np.isfinite(w.numpy())):
                self.model.stop_training = True
                step = self._step()
                raise NonFiniteLossError(
                    f"Training stopped at step {step}: weight `{w.path}` is not "
                    f"finite. The last good checkpoint ({self.path}) was kept.",
                    step=step, name=w.path, path=self.path,
                )

    def save(self):
        """Check the weights, then write the checkpoint atomically."""
        if self.check_weights:
            self._check_weights()
        self._check_path_is_the_models()
        _atomic_save(self.model, self.path)
        self._checked = _identity(self.path)
        self.saved_steps.append(self._step())

    def on_train_begin(self, logs=None):
        self._check_path_is_the_models()
        self._last_step = self._step()

    def on_train_batch_end(self, batch, logs=None):
        self._check_finite(logs)
        step = self._step()
        last, self._last_step = self._last_step, step
        if last is None:  # called outside `fit` (no `on_train_begin`)
            last = step - 1
        # Whether a multiple of `save_freq` was reached since the last call: each step
        # with `steps_per_execution=1`, or inside the last call's N steps.
        if self.save_freq != "epoch" and step // self.save_freq > last // self.save_freq:
            self.save()

    def on_epoch_end(self, epoch, logs=None):
        self._check_finite(logs)
        if not self.saved_steps or self.saved_steps[-1] != self._step():
            self.save()


# --- Quality during training ---


def _check_callable(name, value, expected):
    if value is not None and (isinstance(value, (str, bytes, os.PathLike))
                              or not callable(value)):
        raise TypeError(
            f"Received an invalid value for argument `{name}`. Expected {expected}, "
            f"received: {name}={value!r}"
        )


class Evaluate(keras.callbacks.Callback):
    """Measures sample quality during `fit` and logs it as `val_<metric>`.

    Every `every_n_epochs` epochs, `n_samples` images are generated from fixed noise and
    compared with `real_data`. The numbers go into the epoch's logs, so they appear in
    the `History`, in Keras's `TensorBoard` and `CSVLogger`, and `EarlyStopping` /
    `ModelCheckpoint` can monitor them (e.g. `monitor="val_fid", mode="min"`) — put
    `Evaluate` before those callbacks in the list.

    It measures generators of noise (models with a `latent_dim`, e.g. DCGAN, WGAN-GP);
    another model (CycleGAN, SRGAN, ...) is refused when `fit` starts. The statistics of
    `real_data` are computed when training begins, so a problem with them is reported
    before the first epoch.

    Args:
        metrics: names among `"fid"` (Fréchet distance of features), `"kid"` (kernel
            distance, mean over subsets), `"is"` (classifier / inception score) and
            `"coverage"` (normalised entropy of predicted classes; also logs
            `val_missing_classes`).
        every_n_epochs: how often to measure.
        n_samples: generated images per measurement (at least 2 for `fid` / `kid`).
        real_data: real images (anything `keras_gans.evaluation.compute_statistics`
            takes: an array or a dataset; at least 2 images); their statistics are
            computed once.
        feature_extractor: a Keras model or callable mapping images in [-1, 1] to
            feature vectors, for `fid` / `kid` (e.g. `evaluation.InceptionFeatures()` or
            a zoo classifier's `features` layer).
        classifier: a model mapping images to class probabilities, for `is` /
            `coverage`.
        seed: seed of the fixed noise.
        prefix: prefix of the logged names.
        batch_size: images per batch through the feature extractor and classifier.
    """

    METRICS = ("fid", "kid", "is", "coverage")

    def __init__(self, metrics=("fid",), every_n_epochs=1, n_samples=1000, real_data=None,
                 feature_extractor=None, classifier=None, seed=0, prefix="val_",
                 batch_size=250):
        super().__init__()
        metrics = [metrics] if isinstance(metrics, str) else list(metrics)
        unknown = [m for m in metrics if m not in self.METRICS]
        if unknown or not metrics:
            raise ValueError(
                f"Received an invalid value for argument `metrics`. Expected names among "
                f"{self.METRICS}, received: metrics={metrics!r}"
            )
        if {"fid", "kid"} & set(metrics) and (feature_extractor is None or real_data is None):
            raise ValueError(
                "Metrics 'fid' and 'kid' need `feature_extractor` and `real_data`; "
                f"received feature_extractor={feature_extractor!r}, real_data="
                f"{'None' if real_data is None else type(real_data).__name__}."
            )
        if {"is", "coverage"} & set(metrics) and classifier is None:
            raise ValueError(
                "Metrics 'is' and 'coverage' need a `classifier` (images -> class "
                "probabilities); received classifier=None."
            )
        every_n_epochs, n_samples, batch_size = _check_counts(
            every_n_epochs=every_n_epochs, n_samples=n_samples, batch_size=batch_size)
        distances = {"fid", "kid"} & set(metrics)
        if distances and n_samples < 2:
            raise ValueError(
                "Received an invalid value for argument `n_samples`. Expected at least 2 "
                f"for {sorted(distances)} (a covariance needs 2 samples), received: "
                f"n_samples={n_samples}"
            )
        _check_callable("feature_extractor", feature_extractor,
                        "a Keras model or a callable mapping images to feature vectors "
                        "(e.g. keras_gans.evaluation.InceptionFeatures())")
        _check_callable("classifier", classifier,
                        "a Keras model or a callable mapping images to class probabilities")
        if not isinstance(prefix, str):
            raise TypeError(
                "Received an invalid value for argument `prefix`. Expected a string such "
                f"as 'val_', received: prefix={prefix!r}"
            )
        count = _leading_count(real_data)
        if distances and count is not None and count < 2:
            raise ValueError(
                "Received an invalid value for argument `real_data`. Expected at least 2 "
                f"images for {sorted(distances)}, received {count} "
                f"(real_data of shape {tuple(np.shape(real_data))})"
            )
        self.metric_names = metrics
        self.every_n_epochs = every_n_epochs
        self.n_samples = n_samples
        self.real_data = real_data
        self.feature_extractor = feature_extractor
        self.classifier = classifier
        from keras_gans.models.base import check_seed

        self.seed = check_seed("seed", seed)
        self.prefix = prefix
        self.batch_size = batch_size
        self._real = None

    def set_model(self, model):
        latent_dim = getattr(model, "latent_dim", None)
        if isinstance(latent_dim, bool) or not isinstance(latent_dim, (int, np.integer)) \
                or not callable(getattr(model, "generate", None)):
            raise TypeError(
                "Evaluate measures generators of noise (models with a `latent_dim` and "
                f"`generate`, such as DCGAN); received a {type(model).__name__}, which "
                "has no `latent_dim`."
            )
        super().set_model(model)

    def on_train_begin(self, logs=None):
        if {"fid", "kid"} & set(self.metric_names):
            self._real_statistics()  # now: a problem with `real_data` shows before epoch 1

    def _real_statistics(self):
        from keras_gans import evaluation

        if self._real is None:
            try:
                real = evaluation.compute_statistics(
                    self.real_data, self.feature_extractor, batch_size=self.batch_size,
                    keep_features=True, max_features=max(self.n_samples, 1000),
                    seed=self.seed)
            except ValueError as e:
                raise ValueError(
                    f"Received an invalid value for argument `real_data` ({e})") from e
            if real[0].count < 2:
                raise ValueError(
                    "Received an invalid value for argument `real_data`. Expected at least "
                    f"2 images (a covariance needs 2 samples), received {real[0].count}"
                )
            self._real = real
        return self._real

    def _extract(self, batch):
        from keras_gans import evaluation

        names = set(self.metric_names)
        features = probabilities = None
        if names & {"fid", "kid"}:
            features = evaluation._extract(self.feature_extractor, batch,
                                           name="feature_extractor")
        if names & {"is", "coverage"}:
            probabilities = np.asarray(self.classifier(batch, training=False))
        return features, probabilities

    def measure(self):
        """The metrics for the current generator, as a dict `{prefix + name: value}`."""
        from keras_gans import evaluation

        rng = np.random.default_rng(self.seed)
        z = rng.standard_normal((self.n_samples, self.model.latent_dim)).astype("float32")
        fake = self.model.generate(z=z)
        needs_real = {"fid", "kid"} & set(self.metric_names)
        results = evaluation.measure(
            fake, self._extract, self.metric_names,
            real=self._real_statistics() if needs_real else None,
            batch_size=self.batch_size, seed=self.seed, kid_subsets=10, is_splits=1)
        out = {"fid": results["fid"]} if "fid" in results else {}
        for name in ("kid", "is"):
            if name in results:
                out[name] = results[name][0]
        if "coverage" in results:
            out["coverage"] = results["coverage"]["normalized_entropy"]
            out["missing_classes"] = results["coverage"]["missing_classes"]
        return {self.prefix + k: float(v) for k, v in out.items()}

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every_n_epochs:
            return
        results = self.measure()
        if logs is not None:
            logs.update(results)


def _leading_count(data):
    """The number of images in an array or list `data`, or `None` (a dataset, ...)."""
    if isinstance(data, (list, np.ndarray)) or (
            hasattr(data, "shape") and hasattr(data, "dtype") and not callable(data)):
        shape = np.shape(data)
        return int(shape[0]) if len(shape) and shape[0] is not None else None
    return None


class TimeToQuality(keras.callbacks.Callback):
    """Records quality against training time, and keeps the best model so far.

    Put it after `Evaluate` in the callback list. After each epoch whose logs hold
    `monitor` it appends a row to the CSV file `path`: the training wall minutes so far
    (summed over resumed runs), the train step, and every logged `val_` metric. The
    minutes trained are also kept after every epoch in `path + ".minutes"`, so a run
    resumed after an interruption continues from its last finished epoch, not from its
    last measurement. When `best_path` is given and the
    measurement beats every earlier row of the file, the whole model is saved there
    (atomically, like `Checkpoint`), so a run ships its best checkpoint rather than its
    last one.

    Nothing else is replaced: an existing `path` must be a record of this callback
    (else `ValueError` naming it), and an existing `best_path` must be this record's
    own: written by this process, or, for a resumed record (its CSV lists a measurement
    of `monitor`), a `.keras` archive of the class of model being trained. Any other
    file there is refused with a `FileExistsError` (at construction, and again when
    training begins).

    Args:
        path: the CSV record (appended to; created with a header).
        monitor: the logged metric that ranks checkpoints, e.g. `"val_fid"`.
        mode: `"min"` (distances) or `"max"` (scores).
        best_path: a `.keras` file for the best model, or `None`.
    """

    def __init__(self, path, monitor="val_fid", mode="min", best_path=None):
        super().__init__()
        path = _check_path("path", path, "a CSV file name")
        _check_not_a_folder("path", path)
        _check_folder_possible("path", path, os.path.dirname(os.path.abspath(path)))
        if not isinstance(monitor, str) or not monitor:
            raise TypeError("Received an invalid value for argument `monitor`. Expected "
                            "the name of a logged metric such as 'val_fid', received: "
                            f"monitor={monitor!r}")
        if mode not in ("min", "max"):
            raise ValueError("Received an invalid value for argument `mode`. Expected "
                             f"'min' or 'max', received: mode={mode!r}")
        if best_path is not None:
            best_path = _check_path("best_path", best_path, "a file name ending in `.keras`")
            if not best_path.endswith(".keras"):
                raise ValueError("Received an invalid value for argument `best_path`. "
                                 f"Expected a file name ending in `.keras`, received: "
                                 f"best_path={best_path!r}")
            _check_not_a_folder("best_path", best_path)
        self.path = path
        self.monitor = monitor
        self.mode = mode
        self.best_path = best_path
        self._start = None
        self._offset = 0.0
        self.rows()  # an existing file must be a record of this callback
        self._check_best_path()

    def rows(self):
        """The record so far: a list of dicts of floats."""
        import csv

        if not os.path.exists(self.path):
            return []

        def not_a_record(detail):
            return ValueError(
                "Received an invalid value for argument `path`: the file is not a record "
                "of TimeToQuality (a CSV with the columns minutes, step and the logged "
                f"metrics; {detail}). Choose a new file, or the record of an earlier run: "
                f"path={self.path!r}")

        try:
            with open(self.path, newline="", encoding="utf-8") as f:
                reader = csv.DictReader(f)
                columns = reader.fieldnames or []
                if "minutes" not in columns or "step" not in columns:
                    raise not_a_record(f"its columns are {columns}")
                rows = []
                for row in reader:
                    try:
                        rows.append({k: float(v) for k, v in row.items()
                                     if v not in ("", None)})
                    except (TypeError, ValueError):
                        raise not_a_record(f"line {reader.line_num} holds "
                                           f"{dict(row)!r}") from None
                return rows
        except (UnicodeDecodeError, csv.Error) as e:
            raise not_a_record(f"{type(e).__name__}: {e}") from None

    def best(self):
        """The best monitored value recorded so far, or None."""
        values = [r[self.monitor] for r in self.rows() if self.monitor in r]
        if not values:
            return None
        return min(values) if self.mode == "min" else max(values)

    def _check_best_path(self, model=None):
        """Refuse a `best_path` holding a file that is not this record's best model."""
        if self.best_path is None or not os.path.lexists(self.best_path):
            return
        _check_not_a_folder("best_path", self.best_path)
        if model is not None and _saved_from(model, self.best_path):
            return
        if self.best() is None:
            why = f"the record {self.path!r} lists no `{self.monitor}`: it has no best model yet"
        elif model is None or _archive_class(self.best_path) == \
                keras.saving.get_registered_name(type(model)):
            return  # a resumed record's own best model
        else:
            why = f"it is not a .keras archive of a {type(model).__name__}"
        raise FileExistsError(
            errno.EEXIST, "Received an invalid value for argument `best_path`: the file "
            f"exists and is not this record's best model ({why}); saving the best model "
            "would replace it. Choose another best_path, or move that file: "
            f"best_path={self.best_path!r}", self.best_path)

    def on_train_begin(self, logs=None):
        import time

        rows = self.rows()
        self._check_best_path(self.model)
        self._offset = rows[-1]["minutes"] if rows else 0.0
        try:
            with open(self.path + ".minutes", encoding="utf-8") as f:
                self._offset = max(self._offset, float(f.read().strip()))
        except (OSError, ValueError):  # no sidecar yet, or a damaged one: use the rows
            pass
        self._start = time.monotonic()

    def _minutes(self):
        import time

        return round(self._offset + (time.monotonic() - self._start) / 60, 3)

    def on_epoch_end(self, epoch, logs=None):
        import csv

        logs = logs or {}
        directory = os.path.dirname(self.path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        minutes = self._minutes()
        with open(self.path + ".minutes.tmp", "w", encoding="utf-8") as f:
            f.write(f"{minutes}\n")
        os.replace(self.path + ".minutes.tmp", self.path + ".minutes")
        if self.monitor not in logs:
            return
        value = float(logs[self.monitor])
        best = self.best()
        improved = best is None or (value < best if self.mode == "min" else value > best)
        row = {"minutes": minutes,
               "step": int(self.model.optimizer.iterations.numpy()),
               **{k: float(v) for k, v in sorted(logs.items())
                  if k.startswith("val_") or k == self.monitor}}
        new = not os.path.exists(self.path)
        # The row first: a record that lists a best owns `best_path` (a run killed
        # between the two writes resumes with its best file, if any, kept).
        with open(self.path, "a", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=list(row))
            if new:
                writer.writeheader()
            writer.writerow(row)
        if improved and self.best_path is not None:
            self._check_best_path(self.model)
            _atomic_save(self.model, self.best_path)


# --- TensorBoard ---


class TensorBoardImages(_PreviewCallback):
    """Writes sample grids (or translation / super-resolution pairs) to TensorBoard.

    Every `every_n_epochs` epochs one image summary per view goes into the `train` run
    of `log_dir`, beside the loss scalars `keras.callbacks.TensorBoard(log_dir)` writes
    there, at step `epoch` (Keras's step for epoch scalars), so the images line up with
    the curves:

    one summary per tag of the model's declared `preview`:

    - GANs (DCGAN, LSGAN, WGAN-GP, ...): tag `samples`, a grid of `n` images from noise
      drawn once from `seed` (conditional GANs cycle the classes);
    - CycleGAN: tag `a2b`, each input beside its translation; also `b2a` when `inputs`
      holds both domains;
    - SRGAN: tag `upscale`, each low-resolution input upscaled bicubically beside the
      model's output (and the original, when given);
    - Inpainter: tag `inpaint`, masked input, completion and original.

    Args:
        log_dir: the TensorBoard log directory (the one given to Keras's `TensorBoard`);
            a folder, created if missing (a file there is refused at once).
        every_n_epochs: how often to write.
        n: images (or pairs) per summary.
        seed: seed of the fixed noise (generators).
        inputs: the fixed inputs of image-to-image models: for a CycleGAN, images of
            domain A or an `(images_a, images_b)` pair; for an SRGAN, low-resolution
            images or a `(low_res, high_res)` pair. Arrays (uint8 or float in [-1, 1])
            or a `tf.data.Dataset` of such batches (e.g. `keras_gans.data.unpaired` /
            `sr_pairs`), from which the first `n` are taken. Unused by generators.
        run: the subdirectory of `log_dir` to write to: a folder name (no path
            separator, not `..`), or `None` / `""` for `log_dir` itself.

    Example:

    ```python
    gan.fit(ds, epochs=20, callbacks=[
        keras.callbacks.TensorBoard("logs/"),
        keras_gans.callbacks.TensorBoardImages("logs/", n=36),
    ])
    # tensorboard --logdir logs/
    ```
    """

    def __init__(self, log_dir, every_n_epochs=1, n=16, seed=0, inputs=None, run="train"):
        super().__init__(every_n_epochs, n, seed, inputs)
        self.log_dir = _check_path("log_dir", log_dir, "a folder")
        if run is not None and not isinstance(run, str):
            raise TypeError(
                "Received an invalid value for argument `run`. Expected a folder name "
                f"inside `log_dir` such as 'train', or None, received: run={run!r}")
        if run and (run in (".", "..") or any(sep and sep in run
                                              for sep in ("/", os.sep, os.altsep))):
            raise ValueError(
                "Received an invalid value for argument `run`. Expected a folder name "
                "inside `log_dir` (no path separator, not '.' or '..'), received: "
                f"run={run!r}")
        self.run = run
        self._writer = None  # `written`: (tag, step) of every summary written
        _check_folder_possible("log_dir", self.log_dir, self.directory)

    @property
    def directory(self):
        return os.path.join(self.log_dir, self.run) if self.run else self.log_dir

    def on_train_begin(self, logs=None):
        import tensorflow as tf

        _check_folder_possible("log_dir", self.log_dir, self.directory)
        if self._fixed is None:
            self._fixed = self._fixed_inputs()
        if self._writer is None:
            self._writer = tf.summary.create_file_writer(self.directory)

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every_n_epochs:
            return
        self.write(epoch)

    def write(self, step):
        """Write the summaries now, at `step` (also usable outside `fit`)."""
        import tensorflow as tf

        if self._fixed is None:
            self._fixed = self._fixed_inputs()
        writer = self._writer
        if writer is None:
            _check_folder_possible("log_dir", self.log_dir, self.directory)
            writer = tf.summary.create_file_writer(self.directory)
        with writer.as_default():
            for tag, grid in self.grids().items():
                tf.summary.image(tag, grid[None], step=step, max_outputs=1)
                self.written.append((tag, int(step)))
        writer.flush()
        if writer is not self._writer:
            writer.close()

    def grids(self):
        """`{tag: uint8 grid (H, W, C)}` for the current state of the model."""
        return {tag: _pair_grid(*columns) for tag, columns in self._previews().items()}

    def _fixed_inputs(self):
        from keras_gans.models.base import AdversarialModel

        if not isinstance(self.model, AdversarialModel):
            raise TypeError(
                "TensorBoardImages needs a keras_gans model (one that declares its "
                f"`preview`); received a {type(self.model).__name__}.")
        return super()._fixed_inputs()


def _pair_grid(*columns):
    """Each row's images side by side (same height), tiled into one grid."""
    columns = [utils.to_uint8(np.asarray(c)) for c in columns]
    rows = np.concatenate(columns, axis=2)
    ncols = max(1, int(np.ceil(np.sqrt(len(rows) / len(columns)))))
    return utils.make_grid(rows, ncols=ncols)
