"""Keras callbacks for GAN training: sample grids you can look at."""

import os

import keras
import numpy as np

from keras_gans import utils


class SampleGrid(keras.callbacks.Callback):
    """Writes a PNG grid of samples from fixed noise every `every_n_epochs` epochs.

    The noise (and, for a conditional GAN, the labels) is drawn once from `seed`, so
    successive grids show the same latent points and progress can be seen by eye.

    Args:
        directory: where the PNG files go (created if missing); files are named
            `epoch_0001.png`, ... (`filename` formats them).
        every_n_epochs: how often to write a grid.
        n: images per grid.
        seed: seed of the fixed noise.
        filename: a format string with `{epoch}`.

    Example:

    ```python
    gan.fit(ds, epochs=20, callbacks=[keras_gans.callbacks.SampleGrid("samples/")])
    ```
    """

    def __init__(self, directory, every_n_epochs=1, n=64, seed=0,
                 filename="epoch_{epoch:04d}.png"):
        super().__init__()
        for name, value in (("every_n_epochs", every_n_epochs), ("n", n)):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(
                    f"Received an invalid value for argument `{name}`. Expected a "
                    f"positive integer, received: {name}={value!r}"
                )
        self.directory = os.fspath(directory)
        self.every_n_epochs = every_n_epochs
        self.n = n
        self.seed = seed
        self.filename = filename
        self.written = []

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every_n_epochs:
            return
        path = os.path.join(self.directory, self.filename.format(epoch=epoch + 1))
        images = self.model.generate(z=self._noise())
        utils.save_grid(images, path)
        self.written.append(path)

    def _noise(self):
        rng = np.random.default_rng(self.seed)
        return rng.standard_normal((self.n, self.model.latent_dim)).astype("float32")


class NonFiniteLossError(FloatingPointError):
    """Raised by `Checkpoint` when a logged loss or a weight becomes NaN or infinite."""


def _atomic_save(model, path):
    """Save `model` to `path` (.keras) through a temporary file and an atomic rename.

    A kill during the write leaves the previous file intact.
    """
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    tmp = os.path.join(directory, f".tmp-{os.getpid()}-{os.path.basename(path)}")
    try:
        model.save(tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


class Checkpoint(keras.callbacks.Callback):
    """Step-level checkpoints of the whole model, written atomically, guarded against NaN.

    Every `save_freq` train steps (and at each epoch's end) the full model (all
    networks, all optimizers, EMA weights, noise step, history pools) is saved to
    `path` through a temporary file and an atomic rename, so a kill at any moment leaves
    the last complete checkpoint loadable. Before saving, the logged losses and the
    weights are checked: if any is NaN or infinite, training stops with
    `NonFiniteLossError` naming the step and the loss, and the last good checkpoint
    is not overwritten.

    Resume with `keras_gans.training.train(...)` (or load `path` and `fit` with
    `initial_epoch`): the step counter of the model's optimizer says where it stopped.

    Args:
        path: the `.keras` file to write.
        save_freq: save every this many steps (`"epoch"` for epoch ends only).
        check_weights: also check every weight for non-finite values before saving.
    """

    def __init__(self, path, save_freq=100, check_weights=True):
        super().__init__()
        path = os.fspath(path)
        if not path.endswith(".keras"):
            raise ValueError(
                "Received an invalid value for argument `path`. Expected a file name "
                f"ending in `.keras`, received: path={path!r}"
            )
        if save_freq != "epoch" and (not isinstance(save_freq, int) or save_freq <= 0):
            raise ValueError(
                "Received an invalid value for argument `save_freq`. Expected a positive "
                f"integer or 'epoch', received: save_freq={save_freq!r}"
            )
        self.path = path
        self.save_freq = save_freq
        self.check_weights = check_weights
        self.saved_steps = []

    def _step(self):
        return int(self.model.optimizer.iterations.numpy())

    def _check_finite(self, logs):
        for name, value in (logs or {}).items():
            value = np.asarray(value)
            if value.dtype.kind == "f" and not np.all(np.isfinite(value)):
                self.model.stop_training = True
                raise NonFiniteLossError(
                    f"Training stopped at step {self._step()}: `{name}` is {value.item()}. "
                    f"The last good checkpoint ({self.path}) was kept. Lower the learning "
                    "rate, add a penalty (r1_weight, gp_weight) or check the data."
                )

    def _check_weights(self):
        for w in self.model.weights:
            if w.dtype.startswith("float") and not np.all(np.isfinite(w.numpy())):
                self.model.stop_training = True
                raise NonFiniteLossError(
                    f"Training stopped at step {self._step()}: weight `{w.path}` is not "
                    f"finite. The last good checkpoint ({self.path}) was kept."
                )

    def save(self):
        if self.check_weights:
            self._check_weights()
        _atomic_save(self.model, self.path)
        self.saved_steps.append(self._step())

    def on_train_batch_end(self, batch, logs=None):
        self._check_finite(logs)
        if self.save_freq != "epoch" and self._step() % self.save_freq == 0:
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
        real_data: real images (anything `keras_gans.metrics.compute_statistics`
            takes: an array or a dataset); their statistics are computed once.
        feature_extractor: a Keras model or callable mapping images in [-1, 1] to
            feature vectors, for `fid` / `kid` (e.g. `metrics.InceptionFeatures()` or
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
        self.seed = seed
        self.prefix = prefix
        self.batch_size = batch_size
        self._real = None

    def _real_statistics(self):
        from keras_gans import metrics

        if self._real is None:
            self._real = metrics.compute_statistics(
                self.real_data, self.feature_extractor, batch_size=self.batch_size,
                keep_features=True, max_features=max(self.n_samples, 1000), seed=self.seed)
        return self._real

    def measure(self):
        """The metrics for the current generator, as a dict `{prefix + name: value}`."""
        from keras_gans import metrics

        rng = np.random.default_rng(self.seed)
        z = rng.standard_normal((self.n_samples, self.model.latent_dim)).astype("float32")
        fake = self.model.generate(z=z)
        out = {}
        if {"fid", "kid"} & set(self.metric_names):
            real_stats, real_features = self._real_statistics()
            fake_stats, fake_features = metrics.compute_statistics(
                fake, self.feature_extractor, batch_size=self.batch_size, keep_features=True)
            if "fid" in self.metric_names:
                out["fid"] = metrics.frechet_distance(fake_stats, real_stats)
            if "kid" in self.metric_names:
                size = min(len(fake_features), len(real_features), 1000)
                out["kid"] = metrics.kernel_inception_distance(
                    fake_features, real_features, num_subsets=10, subset_size=size,
                    seed=self.seed)[0]
        if {"is", "coverage"} & set(self.metric_names):
            probs = np.concatenate([
                np.asarray(self.classifier(fake[i:i + self.batch_size], training=False))
                for i in range(0, len(fake), self.batch_size)])
            if "is" in self.metric_names:
                out["is"] = metrics.inception_score(probs, num_splits=1)[0]
            if "coverage" in self.metric_names:
                coverage = metrics.class_coverage(probs)
                out["coverage"] = coverage["normalized_entropy"]
                out["missing_classes"] = coverage["missing_classes"]
        return {self.prefix + k: float(v) for k, v in out.items()}

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every_n_epochs:
            return
        results = self.measure()
        if logs is not None:
            logs.update(results)
