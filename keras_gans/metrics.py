"""Sample-quality metric math: Fréchet and kernel distances (FID, KID), IS, class coverage,
PSNR and SSIM.

The distribution metrics work on features from any extractor (a Keras model or
any callable mapping an image batch to an `[N, d]` array) and on plain feature
arrays. Features are reduced on the host in float64 with NumPy (and SciPy for the
matrix square root), batch by batch: the Fréchet distance of 50,000 images needs
`O(d^2)` memory, never `O(N * d)`. The extractors (`InceptionFeatures`),
`compute_statistics`, the streaming `FID` and generate-and-measure live in
`keras_gans.evaluation` (the first three stay importable from here).

    import keras_gans

    fid = keras_gans.evaluation.FID(weights="inception_v3_notop.h5")
    fid.update_real(real_dataset)
    fid.update_fake(gan.generate(10_000, seed=0))
    fid.result()

    keras_gans.metrics.frechet_distance(features_a, features_b)
    keras_gans.metrics.kernel_inception_distance(features_a, features_b)
    keras_gans.metrics.inception_score(class_probabilities)
    keras_gans.metrics.psnr(sr_images, hr_images, y_channel=True, crop_border=4)
"""

import math
import numbers
import os
import warnings
import zipfile

import numpy as np
import tensorflow as tf

from keras_gans._arrays import non_finite

__all__ = [
    "FeatureStatistics",
    "class_coverage",
    "frechet_distance",
    "inception_score",
    "kernel_inception_distance",
    "psnr",
    "ssim",
]

# Bounds on the work an argument (or a file) can ask for.
MAX_KID_SUBSETS = 10_000
MAX_CLASSES = 100_000
MAX_LOAD_DIM = 16_384  # `FeatureStatistics.load`: a 2 GiB scatter matrix

# Extractors and the streaming FID live in `keras_gans.evaluation`; these names stay
# importable from here (looked up on first use: evaluation imports this module).
_MOVED_TO_EVALUATION = (
    "FID",
    "INCEPTION_FEATURE_DIM",
    "INCEPTION_IMAGE_SIZE",
    "InceptionFeatures",
    "compute_statistics",
)


def __getattr__(name):
    if name in _MOVED_TO_EVALUATION:
        from keras_gans import evaluation

        return getattr(evaluation, name)
    raise AttributeError(f"module 'keras_gans.metrics' has no attribute {name!r}")


def _positive_int(value, name, minimum=1, maximum=None):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        expected = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ValueError(
            f"Received an invalid value for argument `{name}`. "
            f"Expected {expected}, received: {name}={value!r}"
        )
    if maximum is not None and value > maximum:
        raise ValueError(
            f"Received an invalid value for argument `{name}`. Expected at most "
            f"{maximum:,}, received: {name}={value}"
        )
    return int(value)


def _positive_float(value, name, allow_zero=False):
    """A finite real number > 0 (>= 0 with `allow_zero`), as a Python float."""
    if (
        isinstance(value, (bool, np.bool_))
        or not isinstance(value, numbers.Real)
        or not math.isfinite(value)
        or value < 0
        or (value == 0 and not allow_zero)
    ):
        expected = "a finite number >= 0" if allow_zero else "a finite positive number"
        raise ValueError(
            f"Received an invalid value for argument `{name}`. "
            f"Expected {expected}, received: {name}={value!r}"
        )
    return float(value)


def _numeric_array(values, name, what):
    """`values` as a float64 array; strings, objects and complex numbers are refused."""
    array = np.asarray(values)
    if array.dtype.kind not in "biuf":
        raise ValueError(
            f"Received an invalid value for argument `{name}`. Expected {what} of real "
            f"numbers, received an array of dtype {array.dtype}"
        )
    return array.astype(np.float64, copy=False)


def _check_finite(array, name):
    bad = non_finite(array)
    if bad:
        raise ValueError(
            f"Received an invalid value for argument `{name}`. Expected finite values, "
            f"received {bad[0]} NaN or infinite values (e.g. {bad[1]})")
    return array


def _features_2d(features, name):
    try:
        features = _numeric_array(features, name, "a 2-D feature array")
    except (TypeError, ValueError) as e:  # ragged lists, None, ...
        if str(e).startswith("Received an invalid value"):
            raise
        raise ValueError(
            f"Received an invalid value for argument `{name}`. Expected a 2-D feature "
            f"array of shape [num_samples, dim], received: {name}={type(features).__name__} "
            f"({e})"
        ) from None
    if features.ndim != 2 or features.shape[1] == 0:
        raise ValueError(
            f"Received an invalid value for argument `{name}`. Expected a 2-D feature "
            f"array of shape [num_samples, dim], received an array of shape {features.shape}"
        )
    return _check_finite(features, name)


def _import_scipy_linalg():
    try:
        from scipy import linalg
    except ImportError as e:
        raise ImportError(
            "`frechet_distance` needs SciPy for the matrix square root. "
            "Install it with `pip install scipy` (in a clone of keras_gans: "
            "`pip install '.[metrics]'`)."
        ) from e
    return linalg


# --- Streaming statistics ---


class FeatureStatistics:
    """Streaming mean and covariance of feature vectors, in float64.

    Batches are merged with the pairwise update of Chan et al. (1979): each batch
    contributes its own mean and centred scatter matrix, so memory is `O(d^2)`
    whatever the number of samples, and there is no catastrophic cancellation
    from a running sum of squares.

    Args:
        dim: optional feature dimension; if `None` it is fixed by the first
            `update`.

    Example:

    >>> stats = FeatureStatistics()
    >>> for batch in np.split(np.random.normal(size=(1000, 8)), 10):
    ...     stats.update(batch)
    >>> stats.count, stats.mean.shape, stats.covariance.shape
    (1000, (8,), (8, 8))
    """

    def __init__(self, dim=None):
        if dim is not None:
            dim = _positive_int(dim, "dim")
        self.dim = dim
        self.reset()

    def reset(self):
        """Forgets every sample seen so far (the dimension is kept)."""
        self.count = 0
        self._mean = None if self.dim is None else np.zeros(self.dim)
        self._scatter = None if self.dim is None else np.zeros((self.dim, self.dim))

    def update(self, features):
        """Adds a batch of feature vectors.

        Args:
            features: array of shape `[N, d]`.

        Returns:
            `self`, so calls can be chained.
        """
        features = _features_2d(features, "features")
        if self.dim is not None and features.shape[1] != self.dim:
            raise ValueError(
                "Received an invalid value for argument `features`. Expected feature "
                f"dimension {self.dim}, received an array of shape {features.shape}"
            )
        if features.shape[0] == 0:
            return self
        mean = features.mean(axis=0)
        centred = features - mean
        return self._merge(features.shape[0], mean, centred.T @ centred)

    def merge(self, other):
        """Adds every sample summarised by another `FeatureStatistics`.

        Returns:
            `self`.
        """
        if not isinstance(other, FeatureStatistics):
            raise TypeError(
                "Received an invalid value for argument `other`. Expected a "
                f"FeatureStatistics, received: other={type(other).__name__}"
            )
        if other.count == 0:
            return self
        if self.dim is not None and other.dim != self.dim:
            raise ValueError(
                f"Cannot merge statistics of dimension {other.dim} into statistics of "
                f"dimension {self.dim}."
            )
        return self._merge(other.count, other._mean, other._scatter)

    def _merge(self, count, mean, scatter):
        if self.count == 0:
            self.dim = mean.shape[0]
            self.count, self._mean, self._scatter = count, mean.copy(), scatter.copy()
            return self
        total = self.count + count
        delta = mean - self._mean
        # Chan et al.: M2 = M2_a + M2_b + delta delta^T * n_a n_b / n.
        self._scatter = (
            self._scatter + scatter + np.outer(delta, delta) * (self.count * count / total)
        )
        self._mean = self._mean + delta * (count / total)
        self.count = total
        return self

    @property
    def mean(self):
        """Mean feature vector, shape `[d]`."""
        if self.count == 0:
            raise ValueError("FeatureStatistics is empty: call `update` with features first.")
        return self._mean.copy()

    @property
    def covariance(self):
        """Unbiased (divided by `count - 1`) covariance matrix, shape `[d, d]`."""
        if self.count < 2:
            raise ValueError(
                "A covariance needs at least 2 samples; this FeatureStatistics has "
                f"count={self.count}."
            )
        return self._scatter / (self.count - 1)

    def save(self, path, *, overwrite=False):
        """Writes the statistics to a `.npz` file (e.g. to cache real-data statistics).

        Args:
            path: the file name; `.npz` is appended when it does not end with it.
            overwrite: replace an existing file (atomically: a temporary file beside it
                is renamed over it once complete). By default an existing file is
                refused with a `FileExistsError`.

        Returns:
            The name of the file written.
        """
        from keras_gans import utils

        if self.count == 0:
            raise ValueError("FeatureStatistics is empty: there is nothing to save.")
        final = _npz_path(path)
        if os.path.isdir(os.fspath(path)) or os.path.isdir(final):
            raise IsADirectoryError(
                "Received an invalid value for argument `path`. Expected a file name, "
                f"received a directory: path={os.fspath(path)!r}"
            )
        if os.path.lexists(final) and not overwrite:
            raise FileExistsError(
                f"Received an invalid value for argument `path`: {final!r} already exists. "
                "Pass `overwrite=True` to replace it, or choose another name."
            )
        folder = os.path.dirname(final) or "."
        if not os.path.isdir(folder):
            raise FileNotFoundError(
                f"Received an invalid value for argument `path`: the folder {folder!r} of "
                f"{final!r} does not exist."
            )
        utils._write_file(
            final,
            lambda file: np.savez(file, count=self.count, mean=self._mean, scatter=self._scatter),
            overwrite=bool(overwrite),
        )
        return final

    @classmethod
    def load(cls, path):
        """Reads statistics written by `save`, checking everything in the file first.

        Raises:
            FileNotFoundError: `path` is not an existing file.
            ValueError: the file is not a `.npz` of `count`, `mean` and `scatter` with
                consistent shapes, real finite values and a positive integer count, or
                its dimension is above `MAX_LOAD_DIM`.
        """
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(
                "Received an invalid value for argument `path`. Expected a file name (str "
                f"or os.PathLike), received: path={path!r}"
            )
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"Received an invalid value for argument `path`: no file {path!r}."
            )

        def invalid(problem):
            return ValueError(
                f"{path!r} is not a FeatureStatistics file written by "
                f"`FeatureStatistics.save`: {problem}"
            )

        if not zipfile.is_zipfile(path):
            raise invalid("it is not a .npz (zip) archive.")
        try:
            with np.load(path, allow_pickle=False) as data:
                missing = sorted({"count", "mean", "scatter"} - set(data.files))
                if missing:
                    raise invalid(f"missing {missing}; it holds {sorted(data.files)}.")
                # Shapes and dtypes from the array headers, before any data is read.
                headers = {key: _npy_header(data.zip, key) for key in ("count", "mean", "scatter")}
                for key, (shape, dtype) in headers.items():
                    kinds = "iu" if key == "count" else "f"
                    if dtype.hasobject or dtype.kind not in kinds:
                        expected = "an integer" if key == "count" else "a float array"
                        raise invalid(f"`{key}` must be {expected}, received dtype {dtype}.")
                (count_shape, _), (mean_shape, _), (scatter_shape, _) = headers.values()
                if count_shape != ():
                    raise invalid(f"`count` must be a scalar, received shape {count_shape}.")
                if len(mean_shape) != 1 or not 1 <= mean_shape[0] <= MAX_LOAD_DIM:
                    raise invalid(
                        f"`mean` must have shape [d] with 1 <= d <= {MAX_LOAD_DIM}, received "
                        f"shape {mean_shape}."
                    )
                dim = mean_shape[0]
                if scatter_shape != (dim, dim):
                    raise invalid(
                        f"`scatter` must have shape {(dim, dim)} for a mean of shape "
                        f"{mean_shape}, received shape {scatter_shape}."
                    )
                count = data["count"]
                mean = data["mean"].astype(np.float64)
                scatter = data["scatter"].astype(np.float64)
        except ValueError as e:
            if str(e).startswith(repr(path)):
                raise
            raise invalid(f"{type(e).__name__}: {e}") from None
        except (OSError, EOFError, KeyError, zipfile.BadZipFile) as e:
            raise invalid(f"{type(e).__name__}: {e}") from None
        count = int(count)
        if count < 1:
            raise invalid(f"`count` must be a positive integer, received count={count}.")
        for key, value in (("mean", mean), ("scatter", scatter)):
            if not np.isfinite(value).all():
                raise invalid(f"`{key}` holds NaN or infinite values.")
        # A scatter matrix is a sum of outer products: symmetric, non-negative diagonal.
        tolerance = 1e-6 * max(np.abs(scatter).max(), 1e-300)
        if (np.diagonal(scatter) < 0).any() or (np.abs(scatter - scatter.T) > tolerance).any():
            raise invalid("`scatter` is not a scatter matrix (symmetric, diagonal >= 0).")
        return cls()._merge(count, mean, scatter)

    def __repr__(self):
        return f"FeatureStatistics(count={self.count}, dim={self.dim})"


def _npz_path(path):
    """The name `np.savez` writes for `path` (it appends `.npz` when missing)."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            "Received an invalid value for argument `path`. Expected a file name (str or "
            f"os.PathLike), received: path={path!r}"
        )
    path = os.fspath(path)
    if not isinstance(path, str) or not path:
        raise ValueError(
            "Received an invalid value for argument `path`. Expected a non-empty file "
            f"name, received: path={path!r}"
        )
    return path if path.endswith(".npz") else path + ".npz"


def _npy_header(archive, key):
    """`(shape, dtype)` from the header of the `.npy` member `key` of an open zip."""
    with archive.open(key + ".npy") as member:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(member)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(member)
        else:
            raise ValueError(f"unsupported .npy format version {version} for `{key}`")
    return shape, dtype


# --- Fréchet distance ---


def _moments(value, name):
    if isinstance(value, FeatureStatistics):
        mean, cov = value.mean, value.covariance
    elif isinstance(value, tuple):
        if len(value) != 2:
            raise ValueError(
                f"Received an invalid value for argument `{name}`. Expected a (mean, "
                f"covariance) tuple, received a tuple of length {len(value)}"
            )
        mean = _numeric_array(value[0], name, "a (mean, covariance) tuple")
        cov = _numeric_array(value[1], name, "a (mean, covariance) tuple")
        if mean.ndim != 1 or cov.shape != (mean.shape[0], mean.shape[0]):
            raise ValueError(
                f"Received an invalid value for argument `{name}`. Expected a mean of "
                f"shape [d] and a covariance of shape [d, d], received shapes "
                f"{mean.shape} and {cov.shape}"
            )
    else:
        features = _features_2d(value, name)
        if features.shape[0] < 2:
            raise ValueError(
                f"Received an invalid value for argument `{name}`. A covariance needs at "
                f"least 2 samples, received an array of shape {features.shape}"
            )
        with np.errstate(over="ignore", invalid="ignore"):  # refused just below
            mean = features.mean(axis=0)
            cov = np.cov(features, rowvar=False).reshape(features.shape[1], features.shape[1])
        if not (np.isfinite(mean).all() and np.isfinite(cov).all()):
            raise ValueError(
                f"Received an invalid value for argument `{name}`: its mean or covariance "
                "overflows float64 (features too large, e.g. "
                f"{np.abs(features).max():.3g}); rescale the features."
            )
    _check_finite(mean, name)
    _check_finite(cov, name)
    return mean, cov


def frechet_distance(a, b, eps=1e-6):
    """Fréchet distance between two Gaussians fitted to features (the "FID").

    `d^2 = ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2))`

    Heusel et al., "GANs Trained by a Two Time-Scale Update Rule Converge to a
    Local Nash Equilibrium", NeurIPS 2017. With InceptionV3 pool features
    (`InceptionFeatures`, or the `FID` class) this is the FID.

    The matrix square root is `scipy.linalg.sqrtm`, with the fallback of the
    reference implementations (TTUR, pytorch-fid): if the square root is not
    finite (a singular product), `eps` is added to the diagonal of both
    covariances and it is taken again; a tiny imaginary part from rounding is
    dropped, a large one raises.

    Args:
        a: features of the first set: a `[N, d]` array, a `FeatureStatistics`,
            or a `(mean, covariance)` tuple.
        b: the second set, in any of the same forms.
        eps: diagonal offset used by the fallback, a finite positive number.

    Returns:
        The distance, a Python float.

    Raises:
        ValueError: non-finite features or moments, mismatched dimensions, or
            covariances whose product has no usable square root even with `eps`.

    Example:

    >>> frechet_distance(np.random.normal(size=(500, 8)), np.random.normal(size=(500, 8)))
    """
    linalg = _import_scipy_linalg()
    eps = _positive_float(eps, "eps")
    mu_a, sigma_a = _moments(a, "a")
    mu_b, sigma_b = _moments(b, "b")
    if mu_a.shape != mu_b.shape:
        raise ValueError(
            "Arguments `a` and `b` must have the same feature dimension, received "
            f"dimensions {mu_a.shape[0]} and {mu_b.shape[0]}"
        )
    with warnings.catch_warnings():
        # A singular product is handled below; scipy's own warning would only confuse.
        warnings.simplefilter("ignore")
        covmean = linalg.sqrtm(sigma_a @ sigma_b)
    if not np.isfinite(covmean).all():
        warnings.warn(
            "frechet_distance: the product of the covariances is singular; adding "
            f"eps={eps} to their diagonals (use more samples than feature dimensions).",
            stacklevel=2,
        )
        offset = np.eye(sigma_a.shape[0]) * eps
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            covmean = linalg.sqrtm((sigma_a + offset) @ (sigma_b + offset))
        if not np.isfinite(covmean).all():
            raise ValueError(
                "frechet_distance: the matrix square root of the product of the "
                f"covariances is not finite even with eps={eps} added to their diagonals; "
                "the covariances are not valid (pass a larger `eps`, or more samples)."
            )
    if np.iscomplexobj(covmean):
        largest = np.max(np.abs(np.diagonal(covmean).imag))
        if largest > 1e-3:
            raise ValueError(
                "frechet_distance: the matrix square root has a large imaginary "
                f"component ({largest:.3g}); the covariances are not valid."
            )
        covmean = covmean.real
    diff = mu_a - mu_b
    distance = float(
        diff @ diff + np.trace(sigma_a) + np.trace(sigma_b) - 2.0 * np.trace(covmean)
    )
    if not math.isfinite(distance):
        raise ValueError(
            f"frechet_distance: the distance overflows float64 ({distance}); the features "
            "are too large."
        )
    return distance


# --- Kernel inception distance ---


def _polynomial_kernel(x, y):
    # k(x, y) = (x . y / d + 1)^3, the kernel of Bińkowski et al.
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def _unbiased_mmd2(x, y):
    m = x.shape[0]
    k_xx, k_yy, k_xy = _polynomial_kernel(x, x), _polynomial_kernel(y, y), _polynomial_kernel(x, y)
    # The U-statistic leaves out the i == j terms of the within-set sums.
    within = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
    return within - 2.0 * k_xy.sum() / (m * m)


def kernel_inception_distance(a, b, num_subsets=100, subset_size=1000, seed=0):
    """Kernel inception distance: the unbiased MMD^2 with a cubic polynomial kernel.

    `MMD^2 = E k(x, x') + E k(y, y') - 2 E k(x, y)`, `k(x, y) = (x . y / d + 1)^3`,
    estimated without bias (the U-statistic) on `num_subsets` random subsets of
    `subset_size` rows of each set, drawn without replacement within a subset.

    Bińkowski et al., "Demystifying MMD GANs", ICLR 2018.

    Unlike the Fréchet distance, KID cannot be reduced to running moments: it needs
    the feature rows themselves. `compute_statistics(..., keep_features=True,
    max_features=num_subsets * subset_size)` keeps a bounded uniform sample.

    Args:
        a: `[N, d]` feature array of the first set.
        b: `[M, d]` feature array of the second set.
        num_subsets: number of subset pairs averaged, at most `MAX_KID_SUBSETS`
            (10,000).
        subset_size: rows per subset, clipped to `min(N, M)`; at least 2.
        seed: seed of the subset draws.

    Returns:
        `(mean, std)` of the MMD^2 estimates over the subsets, as Python floats.
        The mean is unbiased, so it can be slightly negative for equal distributions.
    """
    a = _features_2d(a, "a")
    b = _features_2d(b, "b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            "Arguments `a` and `b` must have the same feature dimension, received "
            f"shapes {a.shape} and {b.shape}"
        )
    num_subsets = _positive_int(num_subsets, "num_subsets", maximum=MAX_KID_SUBSETS)
    subset_size = _positive_int(subset_size, "subset_size", minimum=2)
    subset_size = min(subset_size, a.shape[0], b.shape[0])
    if subset_size < 2:
        raise ValueError(
            f"KID needs at least 2 samples in each set, received shapes {a.shape} and {b.shape}"
        )
    from keras_gans.models.base import check_seed

    rng = np.random.default_rng(check_seed("seed", seed))
    estimates = np.array(
        [
            _unbiased_mmd2(
                a[rng.choice(a.shape[0], subset_size, replace=False)],
                b[rng.choice(b.shape[0], subset_size, replace=False)],
            )
            for _ in range(num_subsets)
        ]
    )
    mean, std = float(estimates.mean()), float(estimates.std())
    if not (math.isfinite(mean) and math.isfinite(std)):
        raise ValueError(
            "kernel_inception_distance: the kernel overflows float64; the features are too "
            "large."
        )
    return mean, std


# --- Inception score and mode coverage ---


def _class_probabilities(values, name, from_logits):
    values = _numeric_array(values, name, "a 2-D array")
    if values.ndim != 2 or 0 in values.shape:
        raise ValueError(
            f"Received an invalid value for argument `{name}`. Expected a non-empty 2-D "
            "array of shape [num_samples, num_classes], received an array of shape "
            f"{values.shape}"
        )
    _check_finite(values, name)
    if from_logits:
        shifted = values - values.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        return exp / exp.sum(axis=1, keepdims=True)
    if (values < 0).any() or not np.allclose(values.sum(axis=1), 1.0, atol=1e-3):
        raise ValueError(
            f"Received an invalid value for argument `{name}`: its rows are not "
            "probability distributions (non-negative, summing to 1). Pass "
            "`from_logits=True` for unnormalised scores."
        )
    return values


def inception_score(probabilities, num_splits=10, from_logits=False):
    """Inception score of class predictions on generated samples.

    `IS = exp(E_x KL(p(y|x) || p(y)))`, with `p(y)` the mean prediction, computed
    on each of `num_splits` contiguous splits of the samples.

    Salimans et al., "Improved Techniques for Training GANs", NeurIPS 2016.
    It ranges from 1 (every prediction equal) to the number of classes (confident
    predictions, evenly spread over the classes).

    Args:
        probabilities: `[N, K]` class probabilities (or logits, see below) from
            any classifier.
        num_splits: number of splits, at most `N`.
        from_logits: if `True`, `probabilities` holds logits and a softmax is applied.

    Returns:
        `(mean, std)` of the score over the splits, as Python floats.
    """
    probabilities = _class_probabilities(probabilities, "probabilities", from_logits)
    num_splits = _positive_int(num_splits, "num_splits")
    if num_splits > probabilities.shape[0]:
        raise ValueError(
            "Received an invalid value for argument `num_splits`. Expected at most the "
            f"number of samples ({probabilities.shape[0]}), received: num_splits={num_splits}"
        )
    scores = []
    for split in np.array_split(probabilities, num_splits):
        marginal = split.mean(axis=0, keepdims=True)
        # 0 * log 0 = 0; the marginal is positive wherever a prediction is.
        with np.errstate(divide="ignore", invalid="ignore"):
            kl = np.where(split > 0, split * (np.log(split) - np.log(marginal)), 0.0)
        scores.append(math.exp(kl.sum(axis=1).mean()))
    return float(np.mean(scores)), float(np.std(scores))


def class_coverage(predictions, num_classes=None):
    """How well generated samples cover the classes, from a classifier's predictions.

    The histogram of predicted classes, its entropy `H = -sum_k p_k log p_k` (in
    nats) against the maximum `log K` of a uniform spread, and the classes never
    predicted (dropped modes).

    Args:
        predictions: `[N]` integer class labels, or `[N, K]` class probabilities or
            logits (the arg-max is the predicted class).
        num_classes: number of classes `K` (at least 2, at most `MAX_CLASSES`,
            100,000); required for labels, inferred from `[N, K]` predictions.

    Returns:
        A dict with `histogram` (`[K]` int counts), `entropy`, `max_entropy`,
        `normalized_entropy` (`entropy / max_entropy`, 1 for a uniform spread),
        `missing_classes` (how many classes have count 0) and `missing` (their
        indices, a list).

    Example:

    >>> class_coverage([0, 0, 1, 3], num_classes=4)["missing"]
    [2]
    """
    if num_classes is not None:
        num_classes = _positive_int(num_classes, "num_classes", minimum=2,
                                    maximum=MAX_CLASSES)
    predictions = np.asarray(predictions)
    if predictions.ndim == 2:
        if predictions.dtype.kind not in "biuf":
            raise ValueError(
                "Received an invalid value for argument `predictions`. Expected [N, K] "
                f"class probabilities or logits, received dtype {predictions.dtype}"
            )
        if num_classes is None:
            num_classes = _positive_int(predictions.shape[1], "num_classes", minimum=2)
        elif predictions.shape[1] != num_classes:
            raise ValueError(
                f"Received predictions of shape {predictions.shape} for "
                f"num_classes={num_classes}: expected shape [N, {num_classes}]"
            )
        # The arg-max of a row with NaN is the NaN: refuse instead of counting it.
        _check_finite(predictions, "predictions")
        labels = predictions.argmax(axis=1)
    elif predictions.ndim == 1:
        if num_classes is None:
            raise ValueError(
                "Argument `num_classes` is required when `predictions` are class labels."
            )
        if predictions.size and not np.issubdtype(predictions.dtype, np.integer):
            raise ValueError(
                "Received an invalid value for argument `predictions`. Expected integer "
                f"class labels or [N, K] probabilities, received dtype {predictions.dtype}"
            )
        labels = predictions.astype(np.int64)
    else:
        raise ValueError(
            "Received an invalid value for argument `predictions`. Expected a 1-D array "
            f"of labels or a 2-D array of probabilities, received shape {predictions.shape}"
        )
    if labels.size == 0:
        raise ValueError("Received an invalid value for argument `predictions`: it is empty.")
    if labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(
            f"Received class labels outside [0, {num_classes}): min={labels.min()}, "
            f"max={labels.max()}"
        )
    histogram = np.bincount(labels, minlength=num_classes)
    p = histogram[histogram > 0] / labels.size
    entropy = float(-(p * np.log(p)).sum()) + 0.0  # + 0.0: no -0.0 for one class
    max_entropy = math.log(num_classes)
    missing = np.flatnonzero(histogram == 0).tolist()
    return {
        "histogram": histogram,
        "entropy": entropy,
        "max_entropy": max_entropy,
        "normalized_entropy": entropy / max_entropy,
        "missing_classes": len(missing),
        "missing": missing,
    }


# --- PSNR and SSIM ---


def _check_value_range(value_range):
    """`(low, high)` as floats: two finite real numbers with low < high."""
    try:
        low, high = value_range
    except (TypeError, ValueError):
        low = high = None
    if not all(
        isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)) and math.isfinite(v)
        for v in (low, high)
    ) or not high > low:
        raise ValueError(
            "Received an invalid value for argument `value_range`. Expected (low, high) "
            f"finite numbers with low < high, received: value_range={value_range!r}"
        )
    return float(low), float(high)


def _to_unit_range(images, name, value_range):
    """uint8 images are read as [0, 255], float images as `value_range`; both -> [0, 1]."""
    images = np.asarray(images)
    if images.dtype != np.uint8 and not np.issubdtype(images.dtype, np.floating):
        raise ValueError(
            f"Received an invalid value for argument `{name}`. Expected uint8 or float "
            f"images, received dtype {images.dtype}"
        )
    if images.size == 0:
        raise ValueError(
            f"Received an invalid value for argument `{name}`. Expected at least one "
            f"image, received an empty array of shape {images.shape}"
        )
    if images.dtype == np.uint8:
        return images.astype(np.float32) / 255.0
    _check_finite(images, name)
    low, high = value_range
    # A small tolerance for rounding; images in another range (0-255 floats for the
    # default (-1, 1)) would give a meaningless number.
    tolerance = 1e-3 * (high - low)
    if images.min() < low - tolerance or images.max() > high + tolerance:
        raise ValueError(
            f"Received an invalid value for argument `{name}`. Expected float images in "
            f"value_range={(low, high)}, received values in [{images.min():.4g}, "
            f"{images.max():.4g}]. Pass the images' `value_range`, or uint8 images."
        )
    return ((images.astype(np.float32) - low) / (high - low)).astype(np.float32)


def _rgb_to_y(images):
    # ITU-R BT.601 luma on the [16, 235] scale (MATLAB rgb2ycbcr), as in the SR papers.
    y = 16.0 + images @ np.array([65.481, 128.553, 24.966], dtype=np.float32)
    return (y / 255.0)[..., None].astype(np.float32)


def _prepare_pair(a, b, value_range, y_channel, crop_border, filter_size=None):
    value_range = _check_value_range(value_range)
    crop_border = _positive_int(crop_border, "crop_border", minimum=0)
    a = _to_unit_range(a, "a", value_range)
    b = _to_unit_range(b, "b", value_range)
    if a.shape != b.shape:
        raise ValueError(
            f"Arguments `a` and `b` must have the same shape, received shapes {a.shape} "
            f"and {b.shape}"
        )
    if a.ndim not in (3, 4):
        raise ValueError(
            f"Expected images of shape [H, W, C] or [N, H, W, C], received shape {a.shape}"
        )
    if y_channel:
        if a.shape[-1] != 3:
            raise ValueError(
                f"`y_channel=True` needs RGB images (3 channels), received shape {a.shape}"
            )
        a, b = _rgb_to_y(a), _rgb_to_y(b)
    height, width = a.shape[-3], a.shape[-2]
    min_size = 1 if filter_size is None else filter_size
    if filter_size is not None and min(height, width) < filter_size:
        raise ValueError(
            "Received an invalid value for argument `filter_size`. Expected at most the "
            f"image size {height}x{width}, received: filter_size={filter_size}"
        )
    if min(height, width) - 2 * crop_border < min_size:
        window = "" if filter_size is None else f" (the {filter_size}x{filter_size} window)"
        raise ValueError(
            f"Received an invalid value for argument `crop_border`. Images of size "
            f"{height}x{width} cropped by {crop_border} pixels per side are smaller than "
            f"{min_size}x{min_size}{window}, received: crop_border={crop_border}"
        )
    if crop_border:
        crop = (
            ...,
            slice(crop_border, -crop_border),
            slice(crop_border, -crop_border),
            slice(None),
        )
        a, b = a[crop], b[crop]
    return a, b


def _reduce(values, reduce):
    values = np.asarray(values, dtype=np.float64)
    return float(values.mean()) if reduce else values


def psnr(a, b, value_range=(-1.0, 1.0), y_channel=False, crop_border=0, reduce=True):
    """Peak signal-to-noise ratio, `10 log10(1 / MSE)` on images scaled to [0, 1].

    Inputs are first brought to [0, 1]: uint8 images from [0, 255], float images
    from `value_range` (the package's generators output [-1, 1]); then
    `tf.image.psnr(a, b, max_val=1.0)`.

    Args:
        a: images, `[H, W, C]` or `[N, H, W, C]`, uint8 or float.
        b: images of the same shape.
        value_range: `(low, high)` range of float inputs; float images outside it
            (by more than 0.1% of its width) are refused.
        y_channel: if `True`, compare the BT.601 luma `Y = 16 + 65.481 R +
            128.553 G + 24.966 B` (R, G, B in [0, 1], then divided by 255), as the
            super-resolution literature does.
        crop_border: pixels removed from each side before comparing (SR papers
            crop the scale factor).
        reduce: if `True` return the mean over images, else one value per image.

    Returns:
        A float (`reduce=True`) or an array of per-image values, in dB; identical
        images give `inf`.
    """
    a, b = _prepare_pair(a, b, value_range, y_channel, crop_border)
    return _reduce(tf.image.psnr(a, b, max_val=1.0), reduce)


#: `ssim`'s default Gaussian window side.
SSIM_FILTER_SIZE = 11


def ssim(
    a,
    b,
    value_range=(-1.0, 1.0),
    y_channel=False,
    crop_border=0,
    reduce=True,
    filter_size=SSIM_FILTER_SIZE,
    filter_sigma=1.5,
):
    """Structural similarity (Wang et al., IEEE TIP 2004) via `tf.image.ssim`.

    Same input conventions as `psnr`: everything is brought to [0, 1] and compared
    with `max_val=1.0`, a Gaussian window of `filter_size` and `filter_sigma`, and
    `k1=0.01, k2=0.03`; multi-channel images average the channels.

    Args:
        a: images, `[H, W, C]` or `[N, H, W, C]`, uint8 or float.
        b: images of the same shape.
        value_range: `(low, high)` range of float inputs.
        y_channel: if `True`, compare the BT.601 luma (see `psnr`).
        crop_border: pixels removed from each side before comparing.
        reduce: if `True` return the mean over images, else one value per image.
        filter_size: Gaussian window size; the (cropped) images must be at least
            this large.
        filter_sigma: Gaussian window width, a finite positive number.

    Returns:
        A float (`reduce=True`) or an array of per-image values, at most 1.
    """
    filter_size = _positive_int(filter_size, "filter_size")
    filter_sigma = _positive_float(filter_sigma, "filter_sigma")
    a, b = _prepare_pair(a, b, value_range, y_channel, crop_border, filter_size=filter_size)
    return _reduce(
        tf.image.ssim(a, b, max_val=1.0, filter_size=filter_size, filter_sigma=filter_sigma),
        reduce,
    )
