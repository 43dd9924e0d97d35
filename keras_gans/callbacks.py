"""Keras callbacks for training the package's models.

- `SampleGrid` (PNG files) and `TensorBoardImages` draw the preview the model declares
  (`preview_inputs` / `preview`, see `keras_gans.models.base`);
- `Checkpoint` saves atomically every `save_freq` steps and stops on a non-finite loss
  or weight (`NonFiniteLossError`), keeping the last good file;
- `Evaluate` measures sample quality with `keras_gans.evaluation.measure` and logs it
  as `val_<metric>`; `TimeToQuality` records (minutes, step, metrics) after each
  measurement and keeps the best checkpoint.

`keras_gans.training.train` puts the checkpoint and preview callbacks together for a run.
"""

import os

import keras
import numpy as np

from keras_gans import utils


class _PreviewCallback(keras.callbacks.Callback):
    """Holds what `SampleGrid` and `TensorBoardImages` share: the counts, the seed and
    the fixed inputs of the model's preview, drawn once on first use."""

    def __init__(self, every_n_epochs, n, seed, inputs):
        super().__init__()
        from keras_gans.models.base import check_seed

        _check_counts(every_n_epochs=every_n_epochs, n=n)
        self.every_n_epochs = every_n_epochs
        self.n = n
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


class SampleGrid(_PreviewCallback):
    """Writes a PNG grid of the model's preview every `every_n_epochs` epochs.

    The preview is what the model declares (`AdversarialModel.preview`): samples from
    fixed noise for a GAN (drawn once from `seed`, so successive grids show the same
    latent points and progress can be seen by eye), input and output side by side for
    an image-to-image model (fixed `inputs` from its data).

    Args:
        directory: where the PNG files go (created if missing); files are named
            `epoch_0001.png`, ... (`filename` formats them; a model with several
            previews gets one file each, prefixed by the preview's tag). A file of
            that name is replaced: a resumed run writes its epochs' grids again.
        every_n_epochs: how often to write a grid.
        n: images (or rows) per grid.
        seed: seed of the fixed noise.
        filename: a format string with `{epoch}`.
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
        self.directory = os.fspath(directory)
        self.filename = filename

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every_n_epochs:
            return
        previews = self._previews()
        for tag, columns in previews.items():
            name = self.filename.format(epoch=epoch + 1)
            path = os.path.join(self.directory, name if len(previews) == 1 else f"{tag}_{name}")
            # A resumed run writes its epochs' grids again: they are this callback's own.
            utils.save_image(_pair_grid(*columns), path, overwrite=True)
            self.written.append(path)


def _check_counts(**counts):
    for name, value in counts.items():
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ValueError(
                f"Received an invalid value for argument `{name}`. Expected a "
                f"positive integer, received: {name}={value!r}"
            )


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
    `keras_gans.training.remove_stale_temporaries`.
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
        if save_freq != "epoch" and (not isinstance(save_freq, int) or
                                     isinstance(save_freq, bool) or save_freq <= 0):
            raise ValueError(
                "Received an invalid value for argument `save_freq`. Expected a positive "
                f"integer or 'epoch', received: save_freq={save_freq!r}"
            )
        self.path = path
        self.save_freq = save_freq
        self.check_weights = check_weights
        self.saved_steps = []
        self._last_step = None

    def _step(self):
        return int(self.model.optimizer.iterations.numpy())

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
        _atomic_save(self.model, self.path)
        self.saved_steps.append(self._step())

    def on_train_begin(self, logs=None):
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


class Evaluate(keras.callbacks.Callback):
    """Measures sample quality during `fit` and logs it as `val_<metric>`.

    Every `every_n_epochs` epochs, `n_samples` images are generated from fixed noise and
    compared with `real_data`. The numbers go into the epoch's logs, so they appear in
    the `History`, in Keras's `TensorBoard` and `CSVLogger`, and `EarlyStopping` /
    `ModelCheckpoint` can monitor them (e.g. `monitor="val_fid", mode="min"`) — put
    `Evaluate` before those callbacks in the list.

    Args:
        metrics: names among `"fid"` (Fréchet distance of features), `"kid"` (kernel
            distance, mean over subsets), `"is"` (classifier / inception score) and
            `"coverage"` (normalised entropy of predicted classes; also logs
            `val_missing_classes`).
        every_n_epochs: how often to measure.
        n_samples: generated images per measurement.
        real_data: real images (anything `keras_gans.evaluation.compute_statistics`
            takes: an array or a dataset); their statistics are computed once.
        feature_extractor: a Keras model or callable mapping images in [-1, 1] to
            feature vectors, for `fid` / `kid` (e.g. `evaluation.InceptionFeatures()` or
            a zoo classifier's `features` layer).
        classifier: a model mapping images to class probabilities, for `is` /
            `coverage`.
        seed: seed of the fixed noise.
        prefix: prefix of the logged names.
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
        for name, value in (("every_n_epochs", every_n_epochs), ("n_samples", n_samples)):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(
                    f"Received an invalid value for argument `{name}`. Expected a "
                    f"positive integer, received: {name}={value!r}"
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

    def _real_statistics(self):
        from keras_gans import evaluation

        if self._real is None:
            self._real = evaluation.compute_statistics(
                self.real_data, self.feature_extractor, batch_size=self.batch_size,
                keep_features=True, max_features=max(self.n_samples, 1000), seed=self.seed)
        return self._real

    def _extract(self, batch):
        from keras_gans import evaluation

        names = set(self.metric_names)
        features = probabilities = None
        if names & {"fid", "kid"}:
            features = evaluation._extract(self.feature_extractor, batch)
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

    Args:
        path: the CSV record (appended to; created with a header).
        monitor: the logged metric that ranks checkpoints, e.g. `"val_fid"`.
        mode: `"min"` (distances) or `"max"` (scores).
        best_path: a `.keras` file for the best model, or `None`.
    """

    def __init__(self, path, monitor="val_fid", mode="min", best_path=None):
        super().__init__()
        if mode not in ("min", "max"):
            raise ValueError("Received an invalid value for argument `mode`. Expected "
                             f"'min' or 'max', received: mode={mode!r}")
        if best_path is not None and not os.fspath(best_path).endswith(".keras"):
            raise ValueError("Received an invalid value for argument `best_path`. "
                             f"Expected a file name ending in `.keras`, received: "
                             f"best_path={best_path!r}")
        self.path = os.fspath(path)
        self.monitor = monitor
        self.mode = mode
        self.best_path = None if best_path is None else os.fspath(best_path)
        self._start = None
        self._offset = 0.0

    def rows(self):
        """The record so far: a list of dicts of floats."""
        import csv

        if not os.path.exists(self.path):
            return []
        with open(self.path, newline="", encoding="utf-8") as f:
            return [{k: float(v) for k, v in row.items() if v not in ("", None)}
                    for row in csv.DictReader(f)]

    def best(self):
        """The best monitored value recorded so far, or None."""
        values = [r[self.monitor] for r in self.rows() if self.monitor in r]
        if not values:
            return None
        return min(values) if self.mode == "min" else max(values)

    def on_train_begin(self, logs=None):
        import time

        rows = self.rows()
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
        if improved and self.best_path is not None:
            _atomic_save(self.model, self.best_path)
        row = {"minutes": minutes,
               "step": int(self.model.optimizer.iterations.numpy()),
               **{k: float(v) for k, v in sorted(logs.items()) if k.startswith("val_")}}
        new = not os.path.exists(self.path)
        with open(self.path, "a", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=list(row))
            if new:
                writer.writeheader()
            writer.writerow(row)


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
        log_dir: the TensorBoard log directory (the one given to Keras's `TensorBoard`).
        every_n_epochs: how often to write.
        n: images (or pairs) per summary.
        seed: seed of the fixed noise (generators).
        inputs: the fixed inputs of image-to-image models: for a CycleGAN, images of
            domain A or an `(images_a, images_b)` pair; for an SRGAN, low-resolution
            images or a `(low_res, high_res)` pair. Arrays (uint8 or float in [-1, 1])
            or a `tf.data.Dataset` of such batches (e.g. `keras_gans.data.unpaired` /
            `sr_pairs`), from which the first `n` are taken. Unused by generators.
        run: the subdirectory of `log_dir` to write to.

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
        self.log_dir = os.fspath(log_dir)
        self.run = run
        self._writer = None  # `written`: (tag, step) of every summary written

    @property
    def directory(self):
        return os.path.join(self.log_dir, self.run) if self.run else self.log_dir

    def on_train_begin(self, logs=None):
        import tensorflow as tf

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
        writer = self._writer or tf.summary.create_file_writer(self.directory)
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
