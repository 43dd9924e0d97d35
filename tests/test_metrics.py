"""Tests for keras_gans.metrics: the maths against direct computations, on tiny inputs."""

import math
import sys
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf
from scipy import linalg

from keras_gans import evaluation, metrics


def _reference_fid(a, b, eps=None):
    """FID computed directly from the definition with scipy.linalg.sqrtm."""
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    if eps is not None:
        s_a = s_a + eps * np.eye(len(s_a))
        s_b = s_b + eps * np.eye(len(s_b))
    root = linalg.sqrtm(s_a @ s_b).real
    return float(np.sum((mu_a - mu_b) ** 2) + np.trace(s_a + s_b - 2 * root))


@pytest.fixture
def gaussians():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(400, 12))
    mixing = rng.normal(size=(12, 12)) * 0.3 + np.eye(12)
    b = rng.normal(size=(300, 12)) @ mixing + 0.5
    return a, b


# --- FeatureStatistics and streaming ---


def test_feature_statistics_streaming_matches_one_shot():
    rng = np.random.default_rng(1)
    # A large offset: a naive running sum of squares would lose the covariance.
    x = rng.normal(size=(203, 5)) * [1, 2, 3, 4, 5] + 1e4
    stats = metrics.FeatureStatistics()
    for start, stop in [(0, 1), (1, 50), (50, 51), (51, 203)]:
        stats.update(x[start:stop])
    assert stats.count == 203
    np.testing.assert_allclose(stats.mean, x.mean(0), rtol=1e-12)
    np.testing.assert_allclose(stats.covariance, np.cov(x, rowvar=False), rtol=1e-8)

    halves = metrics.FeatureStatistics().update(x[:100])
    halves.merge(metrics.FeatureStatistics().update(x[100:]))
    np.testing.assert_allclose(halves.covariance, np.cov(x, rowvar=False), rtol=1e-8)


def test_feature_statistics_save_load_and_errors(tmp_path):
    x = np.random.default_rng(2).normal(size=(20, 3))
    stats = metrics.FeatureStatistics().update(x)
    stats.save(tmp_path / "real.npz")
    loaded = metrics.FeatureStatistics.load(tmp_path / "real.npz")
    assert loaded.count == 20
    np.testing.assert_allclose(loaded.covariance, stats.covariance)

    with pytest.raises(ValueError, match="dimension 3"):
        stats.update(np.zeros((4, 5)))
    with pytest.raises(ValueError, match="at least 2 samples"):
        _ = metrics.FeatureStatistics().update(x[:1]).covariance
    with pytest.raises(ValueError, match="2-D feature array"):
        metrics.FeatureStatistics().update(np.zeros(3))
    stats.reset()
    assert stats.count == 0


def test_compute_statistics_over_arrays_datasets_and_iterables():
    rng = np.random.default_rng(3)
    images = rng.uniform(-1, 1, size=(10, 4, 4, 2)).astype("float32")
    labels = np.arange(10)

    def feature_fn(batch):
        batch = np.asarray(batch)
        return np.concatenate([batch.mean(axis=(1, 2)), (batch**2).mean(axis=(1, 2))], axis=1)

    expected = feature_fn(images)
    sources = {
        "array": images,
        "batched dataset": tf.data.Dataset.from_tensor_slices(images).batch(3),
        "unbatched (images, labels)": tf.data.Dataset.from_tensor_slices((images, labels)),
        "dict dataset": tf.data.Dataset.from_tensor_slices({"image": images}).batch(4),
        "generator": (images[i : i + 4] for i in range(0, 10, 4)),
    }
    for name, source in sources.items():
        stats, features = metrics.compute_statistics(
            source, feature_fn, batch_size=3, keep_features=True
        )
        np.testing.assert_allclose(features, expected, rtol=1e-6, err_msg=name)
        np.testing.assert_allclose(stats.mean, expected.mean(0), rtol=1e-6, err_msg=name)
        np.testing.assert_allclose(
            stats.covariance, np.cov(expected, rowvar=False), rtol=1e-5, err_msg=name
        )

    with pytest.raises(ValueError, match="batch_size"):
        metrics.compute_statistics(images, feature_fn, batch_size=0)
    with pytest.raises(ValueError, match="no samples"):
        metrics.compute_statistics(images[:0], feature_fn)


def test_compute_statistics_reservoir_is_bounded_and_uniform():
    rows = np.arange(10, dtype=np.float64)[:, None]
    counts = np.zeros(10)
    for seed in range(500):
        stats, kept = metrics.compute_statistics(
            rows, lambda b: b, batch_size=3, keep_features=True, max_features=2, seed=seed
        )
        assert stats.count == 10 and kept.shape == (2, 1)
        assert len(set(kept[:, 0])) == 2
        counts[kept[:, 0].astype(int)] += 1
    # Each row is kept with probability 2/10: 100 of 500 draws, binomial std ~9.
    assert counts.min() > 65 and counts.max() < 135, counts


# --- Fréchet distance ---


def test_frechet_distance_of_a_set_with_itself_is_zero_and_symmetric(gaussians):
    a, b = gaussians
    assert abs(metrics.frechet_distance(a, a)) < 1e-8
    ab, ba = metrics.frechet_distance(a, b), metrics.frechet_distance(b, a)
    assert ab > 0.5
    assert ab == pytest.approx(ba, rel=1e-9)


def test_frechet_distance_matches_direct_sqrtm(gaussians):
    a, b = gaussians
    assert metrics.frechet_distance(a, b) == pytest.approx(_reference_fid(a, b), rel=1e-4)
    # One of the terms by hand: two isotropic Gaussians' means only.
    mu = np.ones(12)
    assert metrics.frechet_distance((mu, np.eye(12)), (-mu, np.eye(12))) == pytest.approx(48.0)


def test_frechet_distance_near_singular_covariance():
    rng = np.random.default_rng(4)
    # Fewer samples than dimensions: both covariances are rank-deficient.
    a = rng.normal(size=(20, 48))
    b = rng.normal(size=(25, 48)) * 1.5 + 0.2
    assert metrics.frechet_distance(a, b) == pytest.approx(_reference_fid(a, b), rel=1e-4)
    # Half the dimensions copy the others up to 1e-6 noise: eigenvalues near 1e-12.
    base_a, base_b = rng.normal(size=(300, 8)), rng.normal(size=(300, 8)) * 0.8 + 0.1
    a = np.concatenate([base_a, base_a + 1e-6 * rng.normal(size=base_a.shape)], axis=1)
    b = np.concatenate([base_b, base_b + 1e-6 * rng.normal(size=base_b.shape)], axis=1)
    assert np.linalg.eigvalsh(np.cov(a, rowvar=False)).min() < 1e-10
    assert metrics.frechet_distance(a, b) == pytest.approx(_reference_fid(a, b), rel=1e-4)


def test_frechet_distance_eps_fallback_on_a_singular_product():
    # Rank-1 times rank-2: sqrtm of the product is not finite without the offset.
    p = np.array([[1.0], [0.0], [1.0]])
    q = np.array([[-2.0, -1.0], [1.0, 2.0], [-1.0, 0.0]])
    s_a, s_b = p @ p.T, q @ q.T
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy's own singular-matrix warning
        assert not np.isfinite(linalg.sqrtm(s_a @ s_b)).all()
    mu_a, mu_b = np.zeros(3), np.array([1.0, 0.0, 0.0])
    with pytest.warns(UserWarning, match="singular"):
        result = metrics.frechet_distance((mu_a, s_a), (mu_b, s_b))
    offset = 1e-6 * np.eye(3)
    reference = (
        1.0 + np.trace(s_a + s_b) - 2 * np.trace(linalg.sqrtm((s_a + offset) @ (s_b + offset)).real)
    )
    assert result == pytest.approx(reference, rel=1e-6)
    # Exactly: Tr sqrt(s_a s_b) = sqrt(p^T s_b p) = sqrt(10) for a rank-1 s_a.
    assert result == pytest.approx(1.0 + 2.0 + 11.0 - 2 * math.sqrt(10.0), rel=1e-3)


def test_frechet_distance_streaming_agrees_with_one_shot(gaussians):
    a, b = gaussians
    stats_a = metrics.compute_statistics(a, lambda x: x, batch_size=37)
    stats_b = metrics.FeatureStatistics()
    for batch in np.array_split(b, 7):
        stats_b.update(batch)
    one_shot = metrics.frechet_distance(a, b)
    assert metrics.frechet_distance(stats_a, stats_b) == pytest.approx(one_shot, rel=1e-9)
    moments = (b.mean(0), np.cov(b, rowvar=False))
    assert metrics.frechet_distance(stats_a, moments) == pytest.approx(one_shot, rel=1e-9)


def test_frechet_distance_errors(monkeypatch):
    with pytest.raises(ValueError, match="same feature dimension"):
        metrics.frechet_distance(np.zeros((5, 3)), np.zeros((5, 4)))
    with pytest.raises(ValueError, match="at least 2 samples"):
        metrics.frechet_distance(np.zeros((1, 3)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="covariance of shape"):
        metrics.frechet_distance((np.zeros(3), np.eye(2)), np.zeros((5, 3)))
    monkeypatch.setitem(sys.modules, "scipy", None)
    with pytest.raises(ImportError, match="pip install scipy"):
        metrics.frechet_distance(np.zeros((5, 3)), np.zeros((5, 3)))


# --- KID ---


def test_kernel_inception_distance_matches_explicit_sums():
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(6, 3)), rng.normal(size=(6, 3)) + 1.0

    def k(u, v):
        return (u @ v / 3 + 1) ** 3

    m = 6
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / (m * m)
    # One subset of all rows: a permutation, to which the estimate is invariant.
    mean, std = metrics.kernel_inception_distance(x, y, num_subsets=1, subset_size=100)
    assert mean == pytest.approx(xx + yy - 2 * xy, rel=1e-10)
    assert std == 0.0


def test_kernel_inception_distance_is_unbiased():
    rng = np.random.default_rng(6)
    unbiased, biased = [], []
    for _ in range(300):
        x, y = rng.normal(size=(10, 4)), rng.normal(size=(10, 4))
        unbiased.append(metrics.kernel_inception_distance(x, y, num_subsets=1)[0])
        k = metrics._polynomial_kernel
        biased.append(k(x, x).mean() + k(y, y).mean() - 2 * k(x, y).mean())
    unbiased, biased = np.array(unbiased), np.array(biased)
    standard_error = unbiased.std() / np.sqrt(len(unbiased))
    assert abs(unbiased.mean()) < 3 * standard_error
    # The check can fail: the biased V-statistic sits far above zero.
    assert biased.mean() > 10 * standard_error


def test_kernel_inception_distance_separates_distributions():
    rng = np.random.default_rng(7)
    a, b = rng.normal(size=(60, 8)), rng.normal(size=(80, 8)) + 0.5
    mean, std = metrics.kernel_inception_distance(a, b, num_subsets=20, subset_size=1000)
    assert mean > 3 * std > 0
    same = metrics.kernel_inception_distance(a, rng.normal(size=(80, 8)), num_subsets=20)
    assert abs(same[0]) < mean / 10
    with pytest.raises(ValueError, match="subset_size"):
        metrics.kernel_inception_distance(a, b, subset_size=1)
    with pytest.raises(ValueError, match="same feature dimension"):
        metrics.kernel_inception_distance(a, b[:, :4])


# --- Inception score and coverage ---


def test_inception_score_of_uniform_predictions_is_one():
    probabilities = np.full((50, 10), 0.1)
    mean, std = metrics.inception_score(probabilities, num_splits=5)
    assert mean == pytest.approx(1.0) and std == pytest.approx(0.0, abs=1e-12)


def test_inception_score_of_confident_balanced_predictions_is_num_classes():
    probabilities = np.tile(np.eye(7), (6, 1))  # each split of 7 rows covers every class
    mean, std = metrics.inception_score(probabilities, num_splits=6)
    assert mean == pytest.approx(7.0) and std == pytest.approx(0.0, abs=1e-12)
    # Confident but all one class: no diversity, score 1.
    collapsed = np.tile(np.eye(7)[:1], (42, 1))
    assert metrics.inception_score(collapsed, num_splits=1)[0] == pytest.approx(1.0)


def test_inception_score_matches_definition_and_logits():
    rng = np.random.default_rng(8)
    logits = rng.normal(size=(40, 5)) * 2
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    expected = []
    for split in np.split(probs, 4):
        marginal = split.mean(0)
        expected.append(np.exp(np.mean(np.sum(split * np.log(split / marginal), axis=1))))
    mean, std = metrics.inception_score(probs, num_splits=4)
    assert mean == pytest.approx(np.mean(expected)) and std == pytest.approx(np.std(expected))
    from_logits = metrics.inception_score(logits, num_splits=4, from_logits=True)
    assert from_logits == pytest.approx((mean, std))
    with pytest.raises(ValueError, match="from_logits=True"):
        metrics.inception_score(logits, num_splits=4)
    with pytest.raises(ValueError, match="num_splits"):
        metrics.inception_score(probs, num_splits=41)


def test_class_coverage_on_hand_made_predictions():
    result = metrics.class_coverage([0, 0, 1, 3, 3, 3], num_classes=5)
    np.testing.assert_array_equal(result["histogram"], [2, 1, 0, 3, 0])
    assert result["missing_classes"] == 2 and result["missing"] == [2, 4]
    p = np.array([2, 1, 3]) / 6
    assert result["entropy"] == pytest.approx(-np.sum(p * np.log(p)))
    assert result["max_entropy"] == pytest.approx(math.log(5))
    assert result["normalized_entropy"] == pytest.approx(result["entropy"] / math.log(5))

    balanced = metrics.class_coverage(np.eye(4)[[0, 1, 2, 3, 3, 2, 1, 0]])
    np.testing.assert_array_equal(balanced["histogram"], [2, 2, 2, 2])
    assert balanced["normalized_entropy"] == pytest.approx(1.0)
    assert balanced["missing_classes"] == 0 and balanced["missing"] == []

    collapsed = metrics.class_coverage(np.zeros(9, dtype=int), num_classes=3)
    assert collapsed["entropy"] == 0.0 and collapsed["missing"] == [1, 2]

    with pytest.raises(ValueError, match="outside"):
        metrics.class_coverage([0, 3], num_classes=3)
    with pytest.raises(ValueError, match="num_classes"):
        metrics.class_coverage([0, 1])
    with pytest.raises(ValueError, match="expected shape"):
        metrics.class_coverage(np.eye(4), num_classes=3)


# --- PSNR and SSIM ---


@pytest.fixture
def image_pair():
    rng = np.random.default_rng(9)
    a = rng.uniform(-1, 1, size=(3, 16, 18, 3)).astype("float32")
    b = np.clip(a + rng.normal(0, 0.1, size=a.shape), -1, 1).astype("float32")
    return a, b


def test_psnr_matches_definition(image_pair):
    a, b = image_pair
    mse = np.mean(((a - b) / 2) ** 2, axis=(1, 2, 3))  # in [0, 1] units
    expected = 10 * np.log10(1.0 / mse)
    per_image = metrics.psnr(a, b, reduce=False)
    np.testing.assert_allclose(per_image, expected, rtol=1e-4)
    assert metrics.psnr(a, b) == pytest.approx(expected.mean(), rel=1e-4)
    # uint8 images read as [0, 255] give the same number as their float form.
    a8, b8 = (np.round((x + 1) * 127.5).astype("uint8") for x in (a, b))
    floats = (a8.astype("float32") / 255, b8.astype("float32") / 255)
    assert metrics.psnr(a8, b8) == pytest.approx(
        metrics.psnr(*floats, value_range=(0.0, 1.0)), rel=1e-5
    )
    assert metrics.psnr(a, a) == float("inf")


def test_psnr_y_channel_with_border_crop(image_pair):
    a, b = image_pair

    def luma(x):
        rgb = (x + 1) / 2
        return (16 + 65.481 * rgb[..., 0] + 128.553 * rgb[..., 1] + 24.966 * rgb[..., 2]) / 255

    ya, yb = luma(a)[:, 2:-2, 2:-2], luma(b)[:, 2:-2, 2:-2]
    expected = 10 * np.log10(1.0 / np.mean((ya - yb) ** 2, axis=(1, 2)))
    result = metrics.psnr(a, b, y_channel=True, crop_border=2, reduce=False)
    np.testing.assert_allclose(result, expected, rtol=1e-4)
    # A single [H, W, C] image is accepted too.
    assert metrics.psnr(a[0], b[0], y_channel=True, crop_border=2) == pytest.approx(
        expected[0], rel=1e-4
    )


def test_ssim_matches_scikit_image(image_pair):
    from skimage.metrics import structural_similarity

    a, b = image_pair
    expected = [
        structural_similarity(
            (x + 1) / 2,
            (y + 1) / 2,
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
            data_range=1.0,
            channel_axis=-1,
        )
        for x, y in zip(a, b, strict=True)
    ]
    np.testing.assert_allclose(metrics.ssim(a, b, reduce=False), expected, atol=1e-4)
    assert metrics.ssim(a, a) == pytest.approx(1.0, abs=1e-6)
    assert 0 < metrics.ssim(a, b, y_channel=True, crop_border=1) < 1


def test_psnr_ssim_validate_inputs(image_pair):
    a, b = image_pair
    with pytest.raises(ValueError, match="same shape"):
        metrics.psnr(a, b[:, :8])
    with pytest.raises(ValueError, match="3 channels"):
        metrics.psnr(a[..., :1], b[..., :1], y_channel=True)
    with pytest.raises(ValueError, match="crop_border"):
        metrics.psnr(a, b, crop_border=8)
    with pytest.raises(ValueError, match="crop_border"):
        metrics.ssim(a, b, crop_border=3)  # 10x12 left: smaller than the 11x11 window
    with pytest.raises(ValueError, match="uint8 or float"):
        metrics.psnr(a.astype("int32"), b.astype("int32"))


# --- FID ---


def _small_features(images):
    images = np.asarray(images, dtype=np.float64)
    return np.concatenate([images.mean(axis=(1, 2)), images.std(axis=(1, 2))], axis=1)


def test_fid_class_streams_and_matches_frechet_distance():
    rng = np.random.default_rng(10)
    real = rng.uniform(-1, 1, size=(30, 6, 6, 3))
    fake = rng.uniform(-0.5, 1, size=(24, 6, 6, 3))
    fid = metrics.FID(feature_extractor=_small_features, batch_size=7)
    with pytest.raises(ValueError, match="update_real"):
        fid.result()
    fid.update_real(real[:10]).update_real(tf.data.Dataset.from_tensor_slices(real[10:]))
    fid.update_fake(fake)
    expected = metrics.frechet_distance(_small_features(real), _small_features(fake))
    assert fid.result() == pytest.approx(expected, rel=1e-9)

    fid.reset(real=False)
    assert fid.real_statistics.count == 30 and fid.fake_statistics.count == 0
    fid.update_fake(real)
    assert abs(fid.result()) < 1e-8

    cached = metrics.FID.from_real(
        fid.real_statistics, feature_extractor=_small_features
    ).update_fake(fake)
    assert cached.result() == pytest.approx(expected, rel=1e-9)
    with pytest.raises(ValueError, match="feature_extractor"):
        metrics.FID(feature_extractor="inception")


def test_inception_features_preprocessing(monkeypatch):
    # A stand-in network (per-channel means) makes the input pipeline checkable by hand.
    def stub(weights):
        inputs = keras.Input((299, 299, 3))
        return keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(inputs))

    monkeypatch.setattr(evaluation, "_build_inception_v3", stub)
    extractor = metrics.InceptionFeatures(weights=None)
    rng = np.random.default_rng(12)
    rgb = rng.uniform(-1, 1, size=(2, 10, 12, 3)).astype("float32")
    resized = tf.image.resize(rgb, (299, 299), method="bilinear").numpy()
    np.testing.assert_allclose(np.asarray(extractor(rgb)), resized.mean(axis=(1, 2)), atol=1e-5)
    # Grayscale is tiled to RGB.
    gray = np.asarray(extractor(rgb[..., :1]))
    np.testing.assert_allclose(gray, np.repeat(gray[:, :1], 3, axis=1))
    np.testing.assert_allclose(gray[:, 0], resized[..., 0].mean(axis=(1, 2)), atol=1e-5)
    # uint8 [0, 255] images are mapped to [-1, 1], through the compiled predict path too.
    as_uint8 = np.round((rgb + 1) * 127.5).astype("uint8")
    expected = np.asarray(extractor(as_uint8.astype("float32") / 127.5 - 1))
    _, kept = metrics.compute_statistics(as_uint8, extractor, batch_size=2, keep_features=True)
    np.testing.assert_allclose(kept, expected, atol=1e-5)
    with pytest.raises(ValueError, match="1 or 3 channels"):
        extractor(rgb[..., :2])


def test_inception_features_random_and_local_weights(tmp_path):
    images = np.random.default_rng(11).uniform(-1, 1, size=(2, 24, 24, 3)).astype("float32")
    extractor = metrics.InceptionFeatures(weights=None)
    features = np.asarray(extractor(images))
    assert features.shape == (2, metrics.INCEPTION_FEATURE_DIM)
    assert extractor.get_config()["weights"] is None

    # The local-weights path: what save_weights writes, FID loads, features equal.
    path = tmp_path / "inception_notop.weights.h5"
    extractor.inception.save_weights(path)
    fid = metrics.FID(weights=path, batch_size=4)
    assert isinstance(fid.feature_extractor, metrics.InceptionFeatures)
    assert fid.feature_extractor.get_config()["weights"] == str(path)
    np.testing.assert_allclose(fid.feature_extractor(images), features, rtol=1e-4, atol=1e-5)


def test_inception_features_weight_errors(monkeypatch, tmp_path):
    with pytest.raises(ValueError, match="weights="):
        metrics.InceptionFeatures(weights=str(tmp_path / "missing.h5"))

    def offline(*args, **kwargs):
        # keras.utils.get_file raises a bare Exception when the download fails.
        raise Exception("URL fetch failure: no network")  # noqa: TRY002

    monkeypatch.setattr(keras.applications, "InceptionV3", offline)
    with pytest.raises(RuntimeError, match="local weights file"):
        metrics.InceptionFeatures(weights="imagenet")


# --- Bad input (audit F-6 to F-10, F-14, F-26 to F-28) ---


def test_feature_statistics_save_refuses_existing_files_and_directories(tmp_path):
    stats = metrics.FeatureStatistics().update(np.random.default_rng(13).normal(size=(5, 3)))
    user_file = tmp_path / "exists.npz"
    user_file.write_bytes(b"precious")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        stats.save(user_file)
    assert user_file.read_bytes() == b"precious"
    # numpy appends .npz: the final name is the one checked.
    (tmp_path / "noext.npz").write_bytes(b"precious")
    with pytest.raises(FileExistsError, match="noext.npz"):
        stats.save(tmp_path / "noext")
    assert stats.save(user_file, overwrite=True) == str(user_file)
    assert metrics.FeatureStatistics.load(user_file).count == 5
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".tmp")] == []

    folder = tmp_path / "somedir"
    folder.mkdir()
    with pytest.raises(IsADirectoryError, match="argument `path`"):
        stats.save(folder)
    assert not (tmp_path / "somedir.npz").exists()
    with pytest.raises(TypeError, match="positional"):
        stats.save(tmp_path / "other.npz", True)  # overwrite is keyword-only


def _write_npz(path, **arrays):
    np.savez(path, **arrays)
    return path


@pytest.mark.parametrize(
    ("arrays", "problem"),
    [
        ({"count": 5, "mean": np.zeros(3), "scatter": np.eye(4)}, "shape"),
        ({"count": 5, "mean": np.array([0.0, np.nan, 0.0]), "scatter": np.eye(3)}, "NaN"),
        ({"count": 5, "mean": np.zeros(3), "scatter": np.diag([1.0, np.inf, 1.0])}, "NaN or infinite"),
        ({"count": -3, "mean": np.zeros(3), "scatter": np.eye(3)}, "count"),
        ({"count": 2.5, "mean": np.zeros(3), "scatter": np.eye(3)}, "count"),
        ({"count": 5, "mean": np.zeros(3)}, r"missing \['scatter'\]"),
        ({"count": 5, "mean": np.array(["a", "b", "c"]), "scatter": np.eye(3)}, "dtype"),
        ({"count": 5, "mean": np.zeros((3, 1)), "scatter": np.eye(3)}, "shape"),
        ({"count": 5, "mean": np.zeros(3), "scatter": -np.eye(3)}, "scatter matrix"),
        ({"count": 5, "mean": np.zeros(3), "scatter": np.triu(np.ones((3, 3)))}, "symmetric"),
    ],
)
def test_feature_statistics_load_validates_the_file(tmp_path, arrays, problem):
    path = _write_npz(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError, match=problem) as info:
        metrics.FeatureStatistics.load(path)
    assert "bad.npz" in str(info.value)


def test_feature_statistics_load_refuses_other_files(tmp_path):
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not an archive at all")
    with pytest.raises(ValueError, match="junk.npz.*not a .npz"):
        metrics.FeatureStatistics.load(junk)
    npy = tmp_path / "array.npy"
    np.save(npy, np.zeros(3))
    with pytest.raises(ValueError, match="array.npy"):
        metrics.FeatureStatistics.load(npy)
    pickled = _write_npz(
        tmp_path / "pickled.npz", count=5, mean=np.array([None, 1, 2]), scatter=np.eye(3)
    )
    with pytest.raises(ValueError, match="pickled.npz.*dtype object"):
        metrics.FeatureStatistics.load(pickled)
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        metrics.FeatureStatistics.load(tmp_path / "missing.npz")


def test_compute_statistics_checks_the_feature_function():
    images = np.zeros((10, 4, 4, 1), dtype="float32")
    with pytest.raises(ValueError, match=r"`feature_fn`.*one row per sample \(N=10"):
        evaluation.compute_statistics(images, lambda b: np.zeros((1, 4)), batch_size=10)
    with pytest.raises(ValueError, match="`feature_fn`.*NaN"):
        evaluation.compute_statistics(images, lambda b: np.full((len(b), 4), np.nan))
    with pytest.raises(ValueError, match="`feature_fn`"):
        evaluation.compute_statistics(images, lambda b: np.zeros(len(b)))  # 1-D
    with pytest.raises(ValueError, match="`feature_fn`"):
        evaluation.compute_statistics(images, lambda b: None)
    with pytest.raises(ValueError, match="`feature_fn`.*earlier"):
        evaluation.compute_statistics(
            images, lambda b: np.zeros((len(b), len(b))), batch_size=4
        )
    with pytest.raises(TypeError, match="`feature_fn`"):
        evaluation.compute_statistics(images, "inception")


def test_compute_statistics_checks_the_data():
    def feature_fn(batch):
        return np.asarray(batch).reshape(len(batch), -1)

    images = np.zeros((4, 2, 2, 1), dtype="float32")
    with pytest.raises(ValueError, match="argument `data`.*data=None"):
        evaluation.compute_statistics(None, feature_fn)
    dicts = tf.data.Dataset.from_tensor_slices({"pixels": images}).batch(2)
    with pytest.raises(ValueError, match=r"`data`.*'image' key.*\['pixels'\]"):
        evaluation.compute_statistics(dicts, feature_fn)
    with pytest.raises(ValueError, match=r"`data`.*'image' key.*\['pixels'\]"):
        evaluation.compute_statistics(iter([{"pixels": images}]), feature_fn)
    with pytest.raises(ValueError, match="`data`"):
        evaluation.compute_statistics([np.zeros((2, 2)), np.zeros(3)], feature_fn)
    with pytest.raises(ValueError, match="`data`"):
        evaluation.compute_statistics(42, feature_fn)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_frechet_distance_refuses_non_finite_features(bad):
    a = np.random.default_rng(14).normal(size=(10, 3))
    b = a.copy()
    b[2, 1] = bad
    with pytest.raises(ValueError, match="argument `b`.*NaN or infinite"):
        metrics.frechet_distance(a, b)
    with pytest.raises(ValueError, match="argument `a`.*NaN or infinite"):
        metrics.frechet_distance((np.array([0.0, bad, 0.0]), np.eye(3)), a)
    with pytest.raises(ValueError, match="argument `a`"):
        metrics.kernel_inception_distance(b, a)
    with pytest.raises(ValueError, match="argument `features`"):
        metrics.FeatureStatistics().update(b)
    # Finite features whose covariance overflows float64.
    with pytest.raises(ValueError, match="argument `a`.*overflows"):
        metrics.frechet_distance(a * 1e200, a)


@pytest.mark.parametrize("eps", ["x", np.nan, -1.0, 0.0, np.inf, None, True])
def test_frechet_distance_refuses_bad_eps(eps, gaussians):
    a, b = gaussians
    with pytest.raises(ValueError, match="argument `eps`"):
        metrics.frechet_distance(a, b, eps=eps)


def test_class_coverage_and_inception_score_refuse_bad_predictions():
    with pytest.raises(ValueError, match="argument `predictions`.*NaN"):
        metrics.class_coverage(np.full((3, 4), np.nan))
    for bad in (np.nan, np.inf):
        logits = np.zeros((4, 3))
        logits[1, 2] = bad
        with pytest.raises(ValueError, match="argument `probabilities`.*NaN or infinite"):
            metrics.inception_score(logits, num_splits=2, from_logits=True)
        with pytest.raises(ValueError, match="argument `probabilities`.*NaN or infinite"):
            metrics.inception_score(logits, num_splits=2)
    for empty in (np.zeros((5, 0)), np.zeros((0, 3))):
        with pytest.raises(ValueError, match="argument `probabilities`.*non-empty"):
            metrics.inception_score(empty, num_splits=1)
    with pytest.raises(ValueError, match="argument `probabilities`"):
        metrics.inception_score([["a", "b"], ["c", "d"]], num_splits=1)
    # A single class predicted everywhere: entropy exactly 0.0 (not -0.0).
    assert math.copysign(1.0, metrics.class_coverage([0, 0], num_classes=2)["entropy"]) == 1.0


def test_work_is_bounded():
    a = np.random.default_rng(15).normal(size=(4, 2))
    # Just above the bounds (10**9 used to hang): cheap even if the bounds regress.
    with pytest.raises(ValueError, match="argument `num_subsets`.*10,000"):
        metrics.kernel_inception_distance(a, a, num_subsets=metrics.MAX_KID_SUBSETS + 1)
    with pytest.raises(ValueError, match="argument `num_classes`.*100,000"):
        metrics.class_coverage([0], num_classes=metrics.MAX_CLASSES + 1)
    with pytest.raises(ValueError, match="argument `num_classes`"):
        metrics.class_coverage([0, 1], num_classes=2.0)
    with pytest.raises(ValueError, match="argument `kid_subsets`"):
        evaluation.measure(a, lambda b: (b, None), "kid", real=a, kid_subsets=10_001)


def test_psnr_ssim_refuse_bad_values(image_pair):
    a, b = image_pair
    nan = a.copy()
    nan[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="argument `a`.*NaN"):
        metrics.psnr(nan, b)
    with pytest.raises(ValueError, match="argument `b`.*NaN"):
        metrics.ssim(a, nan)
    # [0, 255] floats with the default value_range=(-1, 1).
    as_255 = (a + 1) * 127.5
    with pytest.raises(ValueError, match=r"argument `a`.*value_range=\(-1.0, 1.0\).*254"):
        metrics.psnr(as_255, (b + 1) * 127.5)
    assert metrics.psnr(as_255, (b + 1) * 127.5, value_range=(0, 255)) == pytest.approx(
        metrics.psnr(a, b), rel=1e-4
    )
    # Rounding just outside the range is tolerated.
    assert np.isfinite(metrics.psnr(np.clip(a * 1.0005, -1.0005, 1.0005), b))
    for f in (metrics.psnr, metrics.ssim):
        with pytest.raises(ValueError, match="argument `a`.*empty"):
            f(a[:0], b[:0])
    for value_range in (None, ("a", "b"), (1.0, -1.0), (0, np.nan), (0, 1, 2), 5):
        with pytest.raises(ValueError, match="argument `value_range`"):
            metrics.psnr(a, b, value_range=value_range)
    for sigma in (0, np.nan, -1, np.inf, "x"):
        with pytest.raises(ValueError, match="argument `filter_sigma`"):
            metrics.ssim(a, b, filter_sigma=sigma)


def test_ssim_blames_filter_size_for_a_window_larger_than_the_image(image_pair):
    a, b = image_pair  # 16x18
    with pytest.raises(ValueError, match="argument `filter_size`.*16x18.*filter_size=20") as info:
        metrics.ssim(a, b, filter_size=20)
    assert "crop_border" not in str(info.value)
    with pytest.raises(ValueError, match="argument `crop_border`.*11x11 window"):
        metrics.ssim(a, b, crop_border=3)


def test_measure_checks_its_arguments():
    rng = np.random.default_rng(16)
    images = rng.uniform(-1, 1, size=(12, 2, 2, 1)).astype("float32")
    real = rng.uniform(-1, 1, size=(12, 2, 2, 1)).astype("float32")

    def features_only(batch):
        return np.asarray(batch).reshape(len(batch), -1), None

    # A single name is one metric, not its letters.
    single = evaluation.measure(images, features_only, "fid", real=real, batch_size=5)
    assert single["fid"] == pytest.approx(
        evaluation.measure(images, features_only, ["fid"], real=real, batch_size=5)["fid"]
    )
    with pytest.raises(ValueError, match=r"received: metrics=\['fdi'\]"):
        evaluation.measure(images, features_only, "fdi", real=real)
    with pytest.raises(ValueError, match="argument `metrics`"):
        evaluation.measure(images, features_only, [], real=real)
    with pytest.raises(ValueError, match="argument `real`.*real=None"):
        evaluation.measure(images, features_only, ["fid"], real=None)
    with pytest.raises(ValueError, match="argument `extract`.*no probabilities"):
        evaluation.measure(images, features_only, ["is"])
    with pytest.raises(ValueError, match="argument `extract`.*one row per sample"):
        evaluation.measure(images, lambda b: (np.zeros((1, 3)), None), ["fid"], real=real)
    with pytest.raises(ValueError, match="argument `extract`.*NaN"):
        evaluation.measure(
            images, lambda b: (None, np.full((len(b), 3), np.nan)), ["coverage"]
        )
    with pytest.raises(ValueError, match="argument `fake`.*fake=None"):
        evaluation.measure(None, features_only, ["fid"], real=real)
    stats = evaluation.compute_statistics(real, lambda b: features_only(b)[0])
    with pytest.raises(ValueError, match="argument `real`.*kid needs the real features"):
        evaluation.measure(images, features_only, ["kid"], real=(stats, None))
    # Statistics alone are enough for fid.
    assert evaluation.measure(images, features_only, "fid", real=stats)["fid"] == (
        pytest.approx(single["fid"])
    )


def test_classifier_extractor_refuses_non_image_classifiers():
    inputs = keras.Input((10,))
    classifier = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(inputs))
    with pytest.raises(ValueError, match=r"argument `classifier`.*\[N, H, W, C\]"):
        evaluation.classifier_extractor(classifier)


def test_inception_features_refuses_a_junk_weights_file(tmp_path):
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"not an HDF5 file")
    with pytest.raises(ValueError, match="argument `weights`.*junk.h5"):
        evaluation.InceptionFeatures(weights=junk)
