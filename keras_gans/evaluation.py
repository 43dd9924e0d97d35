"""Evaluation: feature extractors, and generate-and-measure.

`keras_gans.metrics` holds the metric math (Fréchet and kernel distances, inception
score, class coverage, PSNR, SSIM) on features and probabilities. This module turns
images into them and measures a generator:

- extractors: `InceptionFeatures` (the InceptionV3 pool features of FID and KID) and
  `classifier_extractor` (a classifier's `features` layer and its probabilities);
- `compute_statistics` streams images through an extractor into `FeatureStatistics`;
- `measure` runs generated (and real) images through an extractor and computes FID,
  KID, IS and class coverage; `keras-gans evaluate`, `callbacks.Evaluate` and the zoo
  recipes use it; `FID` is the streaming object for your own loops.

    from keras_gans import evaluation

    extract = evaluation.classifier_extractor(keras_gans.load("mnist_classifier"))
    results = evaluation.measure(gan.generate(10_000, seed=0), extract,
                                 ("fid", "is"), real=x_test)
"""

import os

import keras
import numpy as np
import tensorflow as tf

from keras_gans import utils
from keras_gans._arrays import short_repr as _short_repr
from keras_gans.metrics import (
    MAX_KID_SUBSETS,
    FeatureStatistics,
    _positive_int,
    class_coverage,
    frechet_distance,
    inception_score,
    kernel_inception_distance,
)

__all__ = [
    "FID",
    "METRICS",
    "InceptionFeatures",
    "classifier_extractor",
    "compute_statistics",
    "features_and_probabilities",
    "inception_extractor",
    "measure",
]

INCEPTION_IMAGE_SIZE = 299
INCEPTION_FEATURE_DIM = 2048
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
METRICS = ("fid", "kid", "is", "coverage")


# --- Feature statistics ---


def _iterate_batches(data, batch_size, name="data"):
    """Yields batches from an array (or list), a tf.data.Dataset or an iterable of batches.

    `name` is the argument the errors name.
    """
    if data is None or isinstance(data, (str, bytes, dict)):
        raise ValueError(
            f"Received an invalid value for argument `{name}`. Expected an array of "
            "samples, a tf.data.Dataset or an iterable of batches, received: "
            f"{name}={_short_repr(data)}"
        )
    if isinstance(data, tf.data.Dataset):
        spec = data.element_spec
        if isinstance(spec, (tuple, list)) and spec:
            spec = spec[0]
        elif isinstance(spec, dict):
            if "image" not in spec:
                raise ValueError(
                    f"Received an invalid value for argument `{name}`. A dataset of dicts "
                    f"needs an 'image' key, received keys {sorted(spec)}"
                )
            spec = spec["image"]
        if not isinstance(spec, tf.TensorSpec):
            raise TypeError(
                f"Received an invalid value for argument `{name}`. Expected a dataset of "
                "images, (images, labels) pairs or {'image': ...} dicts, received a "
                f"dataset of {data.element_spec}"
            )
        # A dataset of single images (rank 3) is batched here; batched ones are kept.
        if spec.shape.rank == 3:
            data = data.batch(batch_size)
        data = data.as_numpy_iterator()
    elif isinstance(data, (list, tuple)) or hasattr(data, "__array__"):
        try:
            data = np.asarray(data)
        except (TypeError, ValueError) as e:
            raise ValueError(
                f"Received an invalid value for argument `{name}`. Expected an array of "
                f"samples (a batch of equal shapes), received {type(data).__name__}: {e}"
            ) from None
        if data.ndim == 0:
            raise ValueError(
                f"Received an invalid value for argument `{name}`. Expected a batch of "
                f"samples, received a scalar: {name}={data!r}"
            )
        return (data[i : i + batch_size] for i in range(0, len(data), batch_size))
    elif not hasattr(data, "__iter__"):
        raise ValueError(
            f"Received an invalid value for argument `{name}`. Expected an array of "
            "samples, a tf.data.Dataset or an iterable of batches, received: "
            f"{name}={_short_repr(data)}"
        )
    return (_first_element(element, name) for element in data)


def _check_extract(extract):
    if not callable(extract):
        raise TypeError(
            "Received an invalid value for argument `extract`. Expected a callable "
            f"`extract(batch) -> (features, probabilities)`, received: extract="
            f"{_short_repr(extract)}"
        )


def _first_element(element, name="data"):
    # (images, labels) pairs and TFDS-style {"image": ...} dicts carry images first.
    if isinstance(element, (tuple, list)):
        if not element:
            raise ValueError(
                f"Received an invalid value for argument `{name}`: it yielded an empty "
                f"{type(element).__name__} instead of a batch of images."
            )
        return element[0]
    if isinstance(element, dict):
        if "image" not in element:
            raise ValueError(
                f"Received an invalid value for argument `{name}`. Dict elements need an "
                f"'image' key, received keys {sorted(map(str, element))}"
            )
        return element["image"]
    return element


def _batch_size_of(batch, name):
    shape = getattr(batch, "shape", None)
    if shape is None:
        shape = np.shape(batch)
    if len(shape) == 0 or shape[0] is None:
        raise ValueError(
            f"Received an invalid value for argument `{name}`: it yielded "
            f"{_short_repr(batch)}, not a batch of samples [N, ...]."
        )
    return int(shape[0])


def _rows(values, batch, what, name, data_name="data"):
    """`values` (an extractor's output for `batch`) as a finite `[N, d]` array."""
    n = _batch_size_of(batch, data_name)
    try:
        array = np.asarray(values)
        received = f"an array of shape {array.shape}"
        if array.dtype.kind not in "biuf":
            received = f"{_short_repr(values)} (dtype {array.dtype})"
    except (TypeError, ValueError):  # ragged lists, ...
        array, received = None, type(values).__name__
    if array is None or array.dtype.kind not in "biuf" or array.ndim < 2 or array.shape[0] != n:
        raise ValueError(
            f"Received an invalid value for argument `{name}`. Expected it to return "
            f"{what} as an array [N, ...] of numbers with one row per sample (N={n}, the "
            f"batch size), received {received}"
        )
    array = array.reshape(n, int(np.prod(array.shape[1:])))  # -1 fails for N = 0
    finite = np.isfinite(array)
    if not finite.all():
        raise ValueError(
            f"Received an invalid value for argument `{name}`: it returned {what} with "
            f"{int(finite.size - finite.sum())} NaN or infinite values for a batch of {n}."
        )
    return array


def _extract(feature_fn, batch, name="feature_fn", data_name="data"):
    if isinstance(feature_fn, keras.Model):
        # predict_on_batch runs the compiled (graph) function: much faster than eager.
        features = feature_fn.predict_on_batch(batch)
    else:
        features = feature_fn(batch)
    return _rows(features, batch, "features", name, data_name)


def compute_statistics(
    data, feature_fn, batch_size=256, keep_features=False, max_features=None, seed=0
):
    """Streams samples through a feature extractor and accumulates their statistics.

    Args:
        data: a NumPy array or tensor of samples (sliced into batches of
            `batch_size`), a `tf.data.Dataset` (batched, or of single `[H, W, C]`
            images which are then batched), or any iterable of batches. Elements
            that are `(images, labels)` tuples or `{"image": ...}` dicts use the
            images.
        feature_fn: a `keras.Model` (run with `predict_on_batch`) or any callable
            mapping a batch to features: one row per sample (`[N, ...]` for a batch of
            `N`), finite numbers; outputs are flattened to `[N, d]`.
        batch_size: positive integer, for arrays and unbatched datasets.
        keep_features: if `True`, also return the features (e.g. for
            `kernel_inception_distance`, which cannot be computed from moments).
        max_features: with `keep_features`, keep at most this many rows, as a
            uniform random sample of all rows (reservoir sampling), so that memory
            stays bounded; `None` keeps every row (`O(N * d)` memory).
        seed: seed of the reservoir sampling.

    Returns:
        A `FeatureStatistics`, or `(statistics, features)` if `keep_features`.

    Raises:
        ValueError: `data` is not a source of batches or yields none, or `feature_fn`
            returns other than one finite row of numbers per sample.

    Example:

    >>> stats, feats = compute_statistics(images, InceptionFeatures(), keep_features=True)
    """
    return _compute_statistics(data, feature_fn, batch_size, keep_features, max_features, seed)


def _compute_statistics(data, feature_fn, batch_size=256, keep_features=False,
                        max_features=None, seed=0, data_name="data", fn_name="feature_fn"):
    """`compute_statistics`, with errors naming the caller's arguments."""
    batch_size = _positive_int(batch_size, "batch_size")
    if max_features is not None:
        max_features = _positive_int(max_features, "max_features")
    if not callable(feature_fn):
        raise TypeError(
            f"Received an invalid value for argument `{fn_name}`. Expected a keras.Model "
            f"or a callable mapping a batch to features, received: {fn_name}="
            f"{_short_repr(feature_fn)}"
        )
    stats = FeatureStatistics()
    kept, reservoir = [], None
    from keras_gans.models.base import check_seed

    rng = np.random.default_rng(check_seed("seed", seed))
    for batch in _iterate_batches(data, batch_size, data_name):
        features = _extract(feature_fn, batch, fn_name, data_name)
        if stats.dim is not None and features.shape[1] != stats.dim:
            raise ValueError(
                f"Received an invalid value for argument `{fn_name}`: it returned "
                f"{features.shape[1]} features per sample for one batch and {stats.dim} "
                "for an earlier one."
            )
        seen = stats.count
        stats.update(features)
        if not keep_features:
            continue
        if max_features is None:
            kept.append(features)
            continue
        reservoir = _reservoir_update(reservoir, features, seen, max_features, rng)
    if stats.count == 0:
        raise ValueError(
            f"Received an invalid value for argument `{data_name}`: it yielded no samples."
        )
    if not keep_features:
        return stats
    features = np.concatenate(kept) if max_features is None else reservoir
    return stats, features


def _reservoir_update(reservoir, features, seen, capacity, rng):
    """Algorithm R (Vitter, 1985): every row seen so far is kept with equal probability."""
    if reservoir is None:
        reservoir = np.empty((0, features.shape[1]), dtype=features.dtype)
    room = max(capacity - len(reservoir), 0)
    reservoir = np.concatenate([reservoir, features[:room]])
    for offset in range(room, len(features)):
        slot = rng.integers(0, seen + offset + 1)
        if slot < capacity:
            reservoir[slot] = features[offset]
    return reservoir


def _build_inception_v3(weights):
    try:
        return keras.applications.InceptionV3(
            include_top=False,
            weights=weights,
            input_shape=(INCEPTION_IMAGE_SIZE, INCEPTION_IMAGE_SIZE, 3),
            pooling="avg",
        )
    except Exception as e:
        if weights is None:
            raise
        if weights != "imagenet":
            raise ValueError(
                "Received an invalid value for argument `weights`. Expected a weights file "
                "of InceptionV3(include_top=False), could not load weights="
                f"{weights!r} ({type(e).__name__}: {e})"
            ) from e
        raise RuntimeError(
            "Could not load the ImageNet weights of InceptionV3 through Keras's "
            f"download-and-cache path ({type(e).__name__}: {e}). Without internet "
            "access, pass the path of a local weights file, e.g. "
            "`weights='inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5'` (the "
            "file Keras downloads), or place that file in ~/.keras/models/."
        ) from e


@keras.saving.register_keras_serializable(package="keras_gans")
class InceptionFeatures(keras.Model):
    """InceptionV3 pool features (2048-d), the feature space of FID and KID.

    Images in [-1, 1] (the package's convention; uint8 images are rescaled) of any
    size with 1 or 3 channels: grayscale is repeated to 3 channels, everything is
    resized bilinearly to 299x299. [-1, 1] is already the input range of
    InceptionV3 (`keras.applications.inception_v3.preprocess_input` maps [0, 255]
    to it), so no further preprocessing is applied.

    Args:
        weights: `"imagenet"` (downloaded and cached by Keras on first use), the
            path of a local weights file for `InceptionV3(include_top=False)` (the
            `..._notop.h5` file Keras downloads, or a `.weights.h5` written by
            `save_weights`), or `None` for random weights (tests only).

    Input shape:
        `[N, H, W, C]` with `C` in {1, 3}.

    Output shape:
        `[N, 2048]`.

    Example:

    >>> extractor = InceptionFeatures(weights="inception_v3_notop.h5")
    >>> features = extractor.predict(images)   # [N, 2048]
    """

    def __init__(self, weights="imagenet", **kwargs):
        super().__init__(**kwargs)
        if isinstance(weights, os.PathLike):
            weights = os.fspath(weights)
        if weights not in ("imagenet", None) and not (
            isinstance(weights, str) and os.path.isfile(weights)
        ):
            raise ValueError(
                "Received an invalid value for argument `weights`. Expected 'imagenet', "
                f"None or the path of an existing weights file, received: weights={weights!r}"
            )
        if weights not in ("imagenet", None):
            with open(weights, "rb") as file:
                signature = file.read(8)
            if signature != _HDF5_SIGNATURE:  # both Keras weights formats are HDF5
                raise ValueError(
                    "Received an invalid value for argument `weights`. Expected an HDF5 "
                    "weights file (`.h5` / `.weights.h5`) of InceptionV3(include_top="
                    f"False), received a file that is not HDF5: weights={weights!r}"
                )
        # `self.weights` is Keras's list of variables, so the argument lives here.
        self.weights_source = weights
        self.inception = _build_inception_v3(weights)

    def call(self, images):
        images = utils.to_float(images, self.compute_dtype)
        if images.shape[-1] not in (1, 3, None):
            raise ValueError(
                f"InceptionFeatures expects 1 or 3 channels, received images of shape "
                f"{images.shape}"
            )
        # Broadcasting tiles grayscale to RGB and also works when a relaxed trace
        # (predict_on_batch) has lost the static channel count.
        images = images * keras.ops.ones((3,), dtype=images.dtype)
        size = (INCEPTION_IMAGE_SIZE, INCEPTION_IMAGE_SIZE)
        if tuple(images.shape[1:3]) != size:
            images = keras.ops.image.resize(images, size, interpolation="bilinear")
        return self.inception(images, training=False)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], INCEPTION_FEATURE_DIM)

    def get_config(self):
        config = super().get_config()
        config["weights"] = self.weights_source
        return config


class FID:
    """Streaming Fréchet inception distance between real and generated images.

    Features of each batch are reduced to running means and covariances
    (`FeatureStatistics`), so any number of images fits in `O(d^2)` memory.

    Args:
        feature_extractor: a `keras.Model` or callable mapping image batches to
            features; `None` builds `InceptionFeatures(weights)`.
        weights: weights of the default extractor (see `InceptionFeatures`).
        batch_size: batch size used to run arrays through the extractor.

    Example:

    >>> fid = FID(weights="inception_v3_notop.h5")
    >>> fid.update_real(x_test)          # array, tf.data.Dataset or iterable
    >>> fid.update_fake(gan.generate(10_000, seed=0))
    >>> fid.result()
    """

    def __init__(self, feature_extractor=None, weights="imagenet", batch_size=64):
        self.batch_size = _positive_int(batch_size, "batch_size")
        self.weights = weights
        if feature_extractor is None:
            feature_extractor = InceptionFeatures(weights=weights)
        elif not callable(feature_extractor):
            raise ValueError(
                "Received an invalid value for argument `feature_extractor`. Expected a "
                f"callable or None, received: feature_extractor={feature_extractor!r}"
            )
        self.feature_extractor = feature_extractor
        self.real_statistics = FeatureStatistics()
        self.fake_statistics = FeatureStatistics()

    @classmethod
    def from_real(cls, real, feature_extractor=None, weights="imagenet", batch_size=64):
        """Builds an `FID` holding the statistics of real images.

        Args:
            real: real images (anything `update_real` accepts), or precomputed
                `FeatureStatistics` (e.g. `FeatureStatistics.load(path)`).
        """
        fid = cls(feature_extractor, weights=weights, batch_size=batch_size)
        if isinstance(real, FeatureStatistics):
            fid.real_statistics.merge(real)
        else:
            fid.update_real(real)
        return fid

    def update_real(self, images):
        """Adds real images: an array, a `tf.data.Dataset` or an iterable of batches."""
        self.real_statistics.merge(_compute_statistics(
            images, self.feature_extractor, self.batch_size, data_name="images",
            fn_name="feature_extractor"))
        return self

    def update_fake(self, images):
        """Adds generated images: an array, a `tf.data.Dataset` or an iterable of batches."""
        self.fake_statistics.merge(_compute_statistics(
            images, self.feature_extractor, self.batch_size, data_name="images",
            fn_name="feature_extractor"))
        return self

    def result(self):
        """The Fréchet distance between the real and generated statistics so far."""
        if self.real_statistics.count < 2 or self.fake_statistics.count < 2:
            raise ValueError(
                "FID needs at least 2 real and 2 generated images, received "
                f"{self.real_statistics.count} real and {self.fake_statistics.count} "
                "generated: call `update_real` and `update_fake` first."
            )
        return frechet_distance(self.real_statistics, self.fake_statistics)

    def reset(self, real=True, fake=True):
        """Forgets the real and/or generated statistics (keep `real` between epochs)."""
        if real:
            self.real_statistics.reset()
        if fake:
            self.fake_statistics.reset()


# --- Extractors ---


def inception_extractor(weights="imagenet"):
    """`extract(batch) -> (features, None)` with `InceptionFeatures(weights)`, traced once.

    Raises:
        RuntimeError: the ImageNet weights could not be downloaded.
    """
    extractor = InceptionFeatures(weights=weights)
    fn = tf.function(lambda x: extractor(x, training=False), reduce_retracing=True)
    return lambda batch: (fn(batch).numpy(), None)


def classifier_extractor(classifier):
    """`extract(batch) -> (features, probabilities)` of a functional Keras classifier.

    The features are the output of its layer named `features` (the zoo classifiers'),
    else its output. Batches in [-1, 1] (uint8 is rescaled) are matched to the
    classifier's input: gray <-> RGB, then a bilinear resize.

    Returns:
        `(extract, has_features_layer)`.
    """
    if not isinstance(classifier, keras.Model) or not getattr(classifier, "inputs", None):
        raise ValueError(
            "Received an invalid value for argument `classifier`. Expected a functional "
            f"Keras classifier, received: classifier={classifier!r}"
        )
    if len(classifier.inputs) != 1 or len(classifier.inputs[0].shape) != 4:
        raise ValueError(
            "Received an invalid value for argument `classifier`. Expected a classifier "
            "of images, with one input of shape [N, H, W, C], received inputs of shapes "
            f"{[tuple(x.shape) for x in classifier.inputs]}"
        )
    try:
        features, has_features_layer = classifier.get_layer("features").output, True
    except ValueError:
        features, has_features_layer = classifier.outputs[0], False
    heads = keras.Model(classifier.inputs, [features, classifier.outputs[0]])
    target = tuple(classifier.inputs[0].shape[1:])

    def adapt(images):
        # Match the classifier's input: channels, then size.
        if target[-1] == 1 and images.shape[-1] == 3:
            images = tf.image.rgb_to_grayscale(images)
        elif target[-1] == 3 and images.shape[-1] == 1:
            images = tf.image.grayscale_to_rgb(images)
        if None not in target[:2] and tuple(images.shape[1:3]) != target[:2]:
            images = tf.clip_by_value(tf.image.resize(images, target[:2]), -1.0, 1.0)
        return heads(images, training=False)

    fn = tf.function(adapt, reduce_retracing=True)

    def extract(batch):
        batch = utils.to_float(batch)
        if batch.ndim != 4 or (target[-1] is not None and batch.shape[-1] not in (
                {1, 3} if target[-1] in (1, 3) else {target[-1]})):
            raise ValueError(
                "Received an invalid value for argument `batch`. Expected images [N, H, W, "
                f"C] for a classifier of input shape {(None, *target)}, received shape "
                f"{batch.shape}"
            )
        f, p = fn(tf.convert_to_tensor(batch, tf.float32))
        return f.numpy(), p.numpy()

    return extract, has_features_layer


def features_and_probabilities(extract, images, batch_size=500):
    """All features and probabilities of `images` (float64), batch by batch."""
    batch_size = _positive_int(batch_size, "batch_size")
    _check_extract(extract)
    feats, probs = [], []
    for batch in _iterate_batches(images, batch_size, "images"):
        f, p = _extract_pair(extract, batch, "images", features=True, probabilities=True)
        feats.append(f)
        probs.append(p)
    if not feats:
        raise ValueError("Received an invalid value for argument `images`: it yielded no samples.")
    return np.concatenate(feats).astype("float64"), np.concatenate(probs).astype("float64")


def _extract_pair(extract, batch, data_name, features, probabilities):
    """`extract(batch)`, checked: the parts asked for are finite `[N, d]` arrays."""
    output = extract(batch)
    if not isinstance(output, (tuple, list)) or len(output) != 2:
        raise ValueError(
            "Received an invalid value for argument `extract`. Expected it to return a "
            f"(features, probabilities) pair, received {_short_repr(output)}"
        )
    f, p = output
    for wanted, value, what in ((features, f, "features"), (probabilities, p, "probabilities")):
        if wanted and value is None:
            needs = "fid and kid" if what == "features" else "is and coverage"
            raise ValueError(
                f"Received an invalid value for argument `extract`: it returned no {what} "
                f"(None), which {needs} need. Pass an extractor that returns them (for "
                "probabilities, `classifier_extractor`), or other `metrics`."
            )
    f = _rows(f, batch, "features", "extract", data_name) if features else f
    p = _rows(p, batch, "probabilities", "extract", data_name) if probabilities else p
    return f, p


# --- Generate and measure ---


def measure(fake, extract, metrics, real=None, batch_size=256, seed=0, kid_subsets=100,
            is_splits=10, max_features=None):
    """FID, KID, IS and class coverage of generated images.

    Args:
        fake: the generated images: an array, a `tf.data.Dataset` or an iterable of
            batches (see `compute_statistics`).
        extract: `extract(batch) -> (features, probabilities)`; either may be `None`
            where no metric needs it (features for `fid` / `kid`, probabilities for
            `is` / `coverage`). Each is one finite row per sample.
        metrics: a name or names among `METRICS`.
        real: for `fid` / `kid` (required for them): real images (run through
            `extract`), a `FeatureStatistics` (`fid` only), or the
            `(FeatureStatistics, features)` pair `compute_statistics(...,
            keep_features=True)` returns for them (`features` may be `None` without
            `kid`).
        batch_size: batch size for arrays and unbatched datasets.
        seed: seed of the KID subsets and of the reservoir sampling.
        kid_subsets: the number of KID subsets (each of at most 1,000 rows), at most
            `metrics.MAX_KID_SUBSETS`.
        is_splits: the number of splits of the inception score.
        max_features: at most this many feature rows kept per side for KID.

    Returns:
        A dict: `"fid"` a float, `"kid"` and `"is"` `(mean, std)` pairs, `"coverage"` the
        dict of `metrics.class_coverage`; `"real_count"` the number of real images.
    """
    if isinstance(metrics, str):
        metrics = [metrics]
    try:
        metrics = list(metrics)
    except TypeError:
        metrics = None
    if not metrics or not all(isinstance(m, str) and m in METRICS for m in metrics):
        raise ValueError(
            f"Received an invalid value for argument `metrics`. Expected a name or names "
            f"among {METRICS}, received: metrics={metrics!r}"
        )
    names = set(metrics)
    _check_extract(extract)
    batch_size = _positive_int(batch_size, "batch_size")
    kid_subsets = _positive_int(kid_subsets, "kid_subsets", maximum=MAX_KID_SUBSETS)
    is_splits = _positive_int(is_splits, "is_splits")
    need_kid = "kid" in names
    need_features = bool(names & {"fid", "kid"})
    need_probabilities = bool(names & {"is", "coverage"})
    if need_features:
        real = _check_real(real, need_kid)
    probabilities, results = [], {}

    def features_of(batch):
        features, probs = _extract_pair(extract, batch, "fake", need_features,
                                        need_probabilities)
        if need_probabilities:
            probabilities.append(probs)
        return features

    if need_features:
        fake_stats, fake_features = _compute_statistics(
            fake, features_of, batch_size=batch_size, keep_features=True,
            max_features=max_features, seed=seed, data_name="fake", fn_name="extract")
        if not _is_statistics_pair(real):
            real = _compute_statistics(
                real, lambda batch: _extract_pair(extract, batch, "real", True, False)[0],
                batch_size=batch_size, keep_features=need_kid, max_features=max_features,
                seed=seed, data_name="real", fn_name="extract")
            real = real if need_kid else (real, None)
        real_stats, real_features = real
        results["real_count"] = real_stats.count
        if "fid" in names:
            results["fid"] = frechet_distance(fake_stats, real_stats)
        if need_kid:
            subset = min(1000, len(fake_features), len(real_features))
            results["kid"] = kernel_inception_distance(
                fake_features, real_features, num_subsets=kid_subsets, subset_size=subset,
                seed=seed)
    else:
        for batch in _iterate_batches(fake, batch_size, "fake"):
            features_of(batch)
        if not probabilities:
            raise ValueError(
                "Received an invalid value for argument `fake`: it yielded no samples.")
    if need_probabilities:
        probs = np.concatenate(probabilities)
        if "is" in names:
            results["is"] = inception_score(probs, num_splits=is_splits)
        if "coverage" in names:
            results["coverage"] = class_coverage(probs)
    return results


def _is_statistics_pair(real):
    return isinstance(real, tuple) and len(real) == 2 and isinstance(real[0], FeatureStatistics)


def _check_real(real, need_kid):
    """`real` for `measure`: images, a `FeatureStatistics` (without kid) or the
    `(FeatureStatistics, features)` pair; a pair or statistics are checked here."""
    if real is None:
        raise ValueError(
            "Received an invalid value for argument `real`. fid and kid need real images "
            "(or their statistics), received: real=None"
        )
    if isinstance(real, FeatureStatistics):
        real = (real, None)
    if not _is_statistics_pair(real):
        return real  # images, checked as they are read
    stats, features = real
    if stats.count < 2:
        raise ValueError(
            "Received an invalid value for argument `real`. Expected statistics of at "
            f"least 2 real images, received {stats!r}"
        )
    if need_kid:
        if features is None:
            raise ValueError(
                "Received an invalid value for argument `real`. kid needs the real "
                "features: pass `(statistics, features)` from `compute_statistics(..., "
                "keep_features=True)`, received features=None"
            )
        from keras_gans.metrics import _features_2d

        features = _features_2d(features, "real")
        if features.shape[1] != stats.dim:
            raise ValueError(
                "Received an invalid value for argument `real`: its features have "
                f"dimension {features.shape[1]}, its statistics {stats.dim}."
            )
    return stats, features
