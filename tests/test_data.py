"""Tests for keras_gans.data: every source kind, conversions, pairs and bad input."""

import gzip
import os

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from keras_gans import data


def _batches(ds):
    return [tuple(t.numpy() for t in b) if isinstance(b, tuple) else b.numpy() for b in ds]


def _write_png(path, array):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(array).save(path)


def _write_idx(path, array, compress=False):
    codes = {np.dtype(np.uint8): 0x08, np.dtype(np.int32): 0x0C}
    header = bytes([0, 0, codes[array.dtype], array.ndim])
    header += np.asarray(array.shape, dtype=">i4").tobytes()
    payload = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    with (gzip.open if compress else open)(path, "wb") as f:
        f.write(payload)


def _uint8(shape, seed=0):
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


# --- numpy ---


def test_uint8_array_scaled_to_unit_range_with_static_shape():
    x = _uint8((10, 5, 4))
    x[0, 0, 0], x[0, 0, 1] = 0, 255
    ds = data.images(x, batch_size=4, shuffle=False)
    assert ds.element_spec.shape == (4, 5, 4, 1)
    out = np.concatenate(_batches(ds))
    assert out.dtype == np.float32 and out.shape == (8, 5, 4, 1)  # remainder dropped
    np.testing.assert_allclose(out[..., 0], x[:8] / 127.5 - 1.0, atol=1e-6)
    assert out[0, 0, 0, 0] == -1.0 and out[0, 0, 1, 0] == 1.0
    assert ds.options().autotune.enabled is False  # autotune stalled `fit` at epoch ends
    wide = next(iter(data.images(x.astype(np.int64), batch_size=8, shuffle=False))).numpy()
    np.testing.assert_array_equal(wide, out)  # integer 0-255 arrays are read as uint8


def test_float_array_in_range_passes_through_and_drop_remainder_false():
    x = np.random.default_rng(1).uniform(-1, 1, (5, 3, 3, 3)).astype(np.float64)
    ds = data.images(x, batch_size=2, shuffle=False, drop_remainder=False)
    batches = _batches(ds)
    assert [b.shape[0] for b in batches] == [2, 2, 1]
    np.testing.assert_allclose(np.concatenate(batches), x.astype(np.float32))


@pytest.mark.parametrize("x", [np.full((2, 4, 4), 1.5), np.arange(32.0).reshape(2, 4, 4) * 8])
def test_float_array_out_of_range_raises(x):
    with pytest.raises(ValueError, match=r"float images must be in \[-1, 1\]; received values in"):
        data.images(x, batch_size=1)


def test_shuffle_is_seeded_and_keeps_labels_with_images():
    y = np.arange(20) % 7
    x = np.repeat(y.astype(np.uint8)[:, None, None], 4, axis=1).repeat(4, axis=2)
    first = _batches(data.images((x, y), batch_size=5, labels=True, seed=3))
    again = _batches(data.images((x, y), batch_size=5, labels=True, seed=3))
    images = np.concatenate([b[0] for b in first])
    labels = np.concatenate([b[1] for b in first])
    assert labels.dtype == np.int32
    np.testing.assert_allclose(images[:, 0, 0, 0], labels / 127.5 - 1.0, atol=1e-6)
    assert sorted(labels) == sorted(y)
    assert not np.array_equal(labels, y)  # shuffled (20! orders; seed 3 is not identity)
    np.testing.assert_array_equal(labels, np.concatenate([b[1] for b in again]))


def test_channel_conversion_both_ways_and_resize():
    gray = _uint8((4, 6, 6))
    rgb = data.images(gray, channels=3, batch_size=4, shuffle=False)
    out = next(iter(rgb)).numpy()
    assert out.shape == (4, 6, 6, 3)
    np.testing.assert_array_equal(out[..., 0], out[..., 2])
    color = _uint8((4, 6, 6, 3), seed=2)
    out = next(iter(data.images(color, channels=1, batch_size=4, shuffle=False))).numpy()
    expected = tf.image.rgb_to_grayscale(color.astype(np.float32) / 127.5 - 1.0).numpy()
    np.testing.assert_allclose(out, expected, atol=1e-5)
    constant = np.full((2, 6, 6, 3), 200, np.uint8)
    out = next(iter(data.images(constant, image_size=(3, 9), batch_size=2))).numpy()
    assert out.shape == (2, 3, 9, 3)
    np.testing.assert_allclose(out, 200 / 127.5 - 1.0, atol=1e-5)


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        ({"source": np.zeros((2, 3, 4, 5, 1), np.uint8)}, "rank 3 or 4"),
        ({"source": np.zeros((0, 3, 3), np.uint8)}, "holds no images"),
        ({"channels": 2}, "`channels`"),
        ({"image_size": 0}, "`image_size`"),
        ({"image_size": (4, -1)}, "`image_size`"),
        ({"image_size": "big"}, "`image_size`"),
        ({"batch_size": 0}, "`batch_size`"),
        ({"batch_size": 9}, "fewer than batch_size=9"),
        ({"on_error": "ignore"}, "`on_error`"),
    ],
)
def test_bad_arguments_raise_naming_them(kwargs, argument):
    kwargs = {"source": np.zeros((4, 3, 3), np.uint8), "batch_size": 2, **kwargs}
    with pytest.raises(ValueError, match=argument):
        data.images(**kwargs)


def test_wrong_rank_message_names_source_and_shape():
    with pytest.raises(ValueError, match=r"argument `source`.*received shape \(5,\)"):
        data.images(np.zeros(5, np.uint8))


def test_labels_requested_without_labels_raises():
    with pytest.raises(ValueError, match="no labels"):
        data.images(np.zeros((4, 3, 3), np.uint8), labels=True, batch_size=2)


# --- folders ---


@pytest.fixture(scope="module")
def class_folder(tmp_path_factory):
    """Two classes in nested subfolders; class k's pixels are all 50 * (k + 1)."""
    root = str(tmp_path_factory.mktemp("classes"))
    for k, name in enumerate(["cats", "dogs"]):
        for i in range(3):
            sub = "deep/er" if i == 2 else ""
            path = os.path.join(root, name, sub, f"{i}.png")
            _write_png(path, np.full((6, 5, 3), 50 * (k + 1), np.uint8))
    return root


def test_folder_recursive_with_class_labels(class_folder):
    ds = data.images(class_folder, batch_size=6, labels=True, seed=0)
    assert ds.class_names == ["cats", "dogs"]
    assert ds.element_spec[0].shape == (6, 6, 5, 3)
    images, labels = _batches(ds)[0]
    assert sorted(labels) == [0, 0, 0, 1, 1, 1]
    np.testing.assert_allclose(images[:, 0, 0, 0], 50 * (labels + 1) / 127.5 - 1, atol=1e-6)
    assert data.num_images(class_folder) == 6
    _write_png(os.path.join(class_folder, "loose.png"), np.zeros((6, 5, 3), np.uint8))
    try:
        with pytest.raises(ValueError, match="outside class subfolders.*loose.png"):
            data.images(class_folder, labels=True)
        full = data.images(class_folder, batch_size=7, validate="full")  # no labels: fine
        assert full.element_spec.shape == (7, 6, 5, 3)
    finally:
        os.remove(os.path.join(class_folder, "loose.png"))


def test_folder_gray_png_and_jpeg_mixed_sizes_need_image_size(tmp_path):
    gray = _uint8((7, 7), seed=4)
    _write_png(str(tmp_path / "a" / "g.png"), gray)
    Image.fromarray(_uint8((9, 8, 3))).save(tmp_path / "c.JPG")
    (tmp_path / "notes.txt").write_text("not an image")
    with (
        pytest.warns(UserWarning, match="Ignored 1 files"),
        pytest.raises(ValueError, match="image_size"),
    ):
        data.images(str(tmp_path), batch_size=2)
    with pytest.warns(UserWarning):
        ds = data.images(tmp_path, image_size=4, channels=1, batch_size=2, shuffle=False)
    out = _batches(ds)[0]
    assert out.shape == (2, 4, 4, 1) and -1 <= out.min() and out.max() <= 1
    ds = data.images(tmp_path / "a", batch_size=1)  # only gray files: 1 channel
    np.testing.assert_allclose(_batches(ds)[0][0, ..., 0], gray / 127.5 - 1, atol=1e-6)


def test_list_of_files_and_single_file(class_folder):
    files = [
        os.path.join(class_folder, "dogs", "0.png"),
        os.path.join(class_folder, "cats", "1.png"),
    ]
    out = np.concatenate(_batches(data.images(files, batch_size=1, shuffle=False)))
    np.testing.assert_allclose(out[:, 0, 0, 0], [100 / 127.5 - 1, 50 / 127.5 - 1], atol=1e-6)
    image = data.load_image_file(files[0], channels=1)
    assert image.shape == (6, 5, 1) and image.dtype == np.float32
    assert next(iter(data.images(files[0], batch_size=1))).shape == (1, 6, 5, 3)


def test_empty_folder_names_the_folder(tmp_path):
    with pytest.raises(ValueError, match=f"'{tmp_path}' holds no image files"):
        data.images(str(tmp_path))
    with pytest.raises(FileNotFoundError, match="not an existing folder"):
        data.images(str(tmp_path / "missing"))


@pytest.fixture()
def broken_folder(tmp_path):
    for i in range(3):
        _write_png(str(tmp_path / f"ok{i}.png"), _uint8((4, 4, 3), seed=i))
    (tmp_path / "fake.png").write_bytes(b"this is text, not a PNG")
    return tmp_path


def test_non_image_file_raises_naming_it_or_is_skipped_with_count(broken_folder):
    with pytest.raises(ValueError, match="fake.png"):
        data.images(str(broken_folder), batch_size=1)
    with pytest.warns(UserWarning, match=r"Skipped 1 of 4 unreadable image files.*fake.png"):
        ds = data.images(str(broken_folder), batch_size=1, on_error="skip")
    assert len(_batches(ds)) == 3


def test_truncated_png_raises_naming_it(broken_folder):
    os.remove(broken_folder / "fake.png")
    good = (broken_folder / "ok0.png").read_bytes()
    (broken_folder / "cut.png").write_bytes(good[: len(good) // 2])
    with pytest.raises(ValueError, match="cut.png"):
        data.images(str(broken_folder), batch_size=1)


def test_decode_error_while_iterating_names_the_file(tmp_path):
    # A truncated JPEG passes PIL's quick verify(); TF's decoder fails on it later.
    for i in range(3):
        _write_png(str(tmp_path / f"ok{i}.png"), _uint8((16, 16, 3), seed=i))
    Image.fromarray(_uint8((16, 16, 3))).save(tmp_path / "photo.jpg", quality=95)
    jpeg = (tmp_path / "photo.jpg").read_bytes()
    scan = jpeg.index(b"\xff\xda")  # start of the compressed data: keep the headers
    (tmp_path / "photo.jpg").write_bytes(jpeg[: scan + 40])
    ds = data.images(str(tmp_path), batch_size=1, shuffle=False)
    with pytest.raises(tf.errors.InvalidArgumentError, match="photo.jpg"):
        _batches(ds)
    ds = data.images(str(tmp_path), batch_size=1, on_error="skip", seed=0)
    assert len(_batches(ds)) == 3


# --- IDX and TFDS ---


@pytest.mark.parametrize("compress", [False, True])
def test_idx_files_with_auto_detected_labels(tmp_path, compress):
    suffix = ".gz" if compress else ""
    x, y = _uint8((6, 3, 2)), np.array([5, 4, 3, 2, 1, 0], np.uint8)
    images_path = str(tmp_path / f"train-images-idx3-ubyte{suffix}")
    _write_idx(images_path, x, compress)
    _write_idx(str(tmp_path / f"train-labels-idx1-ubyte{suffix}"), y, compress)
    np.testing.assert_array_equal(data.read_idx(images_path), x)
    assert data.num_images(images_path) == 6
    ds = data.images(images_path, labels=True, batch_size=6, shuffle=False)
    images, labels = _batches(ds)[0]
    assert images.shape == (6, 3, 2, 1)
    np.testing.assert_array_equal(labels, y)
    np.testing.assert_allclose(images[..., 0], x / 127.5 - 1, atol=1e-6)


def test_idx_errors(tmp_path):
    path = str(tmp_path / "t10k-images-idx3-ubyte")
    _write_idx(path, np.arange(12, dtype=np.int32).reshape(3, 2, 2))
    np.testing.assert_array_equal(data.read_idx(path), np.arange(12).reshape(3, 2, 2))
    with pytest.raises(FileNotFoundError, match="labels-idx1"):
        data.images(path, labels=True)
    with open(path, "r+b") as f:
        f.truncate(20)
    with pytest.raises(ValueError, match="truncated"):
        data.read_idx(path)
    bad = tmp_path / "x.idx"
    bad.write_bytes(b"PK\x03\x04zip")
    with pytest.raises(ValueError, match="not an IDX file"):
        data.read_idx(bad)


def test_tfds_name_with_mock_data():
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(num_examples=6):
        ds = data.images("tfds:mnist", batch_size=3, labels=True, seed=0)
        images, labels = _batches(ds)[0]
        plain = data.images("tfds:mnist:test", batch_size=2, image_size=14, channels=3)
        assert len(_batches(plain)) == 3
    assert images.shape == (3, 28, 28, 1) and labels.dtype == np.int32
    assert -1 <= images.min() and images.max() <= 1
    assert plain.element_spec.shape == (2, 14, 14, 3)


# --- tf.data ---


def test_tf_data_sources():
    x, y = _uint8((4, 5, 5, 1)), np.arange(4)
    ds = data.images(tf.data.Dataset.from_tensor_slices(x), batch_size=4, shuffle=False)
    out = _batches(ds)[0]
    np.testing.assert_allclose(out, x / 127.5 - 1, atol=1e-6)
    dicts = tf.data.Dataset.from_tensor_slices({"image": x[..., 0], "label": y})
    images, labels = _batches(data.images(dicts, batch_size=4, labels=True, shuffle=False))[0]
    assert images.shape == (4, 5, 5, 1)
    np.testing.assert_array_equal(labels, y)
    pairs = tf.data.Dataset.from_tensor_slices((x, y))
    assert _batches(data.images(pairs, batch_size=2))[0].shape == (2, 5, 5, 1)


def test_tf_data_bad_inputs():
    with pytest.raises(ValueError, match=r"unbatched.*\.unbatch\(\)"):
        data.images(tf.data.Dataset.from_tensor_slices(_uint8((4, 5, 5, 1))).batch(2))
    with pytest.raises(ValueError, match="empty"):
        data.images(tf.data.Dataset.from_tensor_slices(np.zeros((0, 2, 2, 1), np.uint8)))
    floats = tf.data.Dataset.from_tensor_slices(np.full((2, 3, 3, 1), 255.0, np.float32))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"must be in \[-1, 1\]"):
        _batches(data.images(floats, batch_size=2))


# --- unpaired and sr_pairs ---


def test_unpaired_repeats_the_smaller_domain():
    a = np.repeat(np.arange(3, dtype=np.uint8)[:, None, None], 8, 1).repeat(8, 2)
    b = _uint8((7, 8, 8, 3))
    ds = data.unpaired(a, b, channels=3, batch_size=1, seed=0)
    pairs = _batches(ds)
    assert len(pairs) == 7
    assert pairs[0][0].shape == (1, 8, 8, 3) and pairs[0][1].shape == (1, 8, 8, 3)
    seen_a = {round(float(p[0][0, 0, 0, 0]) * 127.5 + 127.5) for p in pairs}
    assert seen_a == {0, 1, 2}
    jittered = _batches(data.unpaired(b, a, image_size=6, batch_size=2, jitter=True, seed=1,
                                      channels=1))
    assert len(jittered) == 3
    assert jittered[0][0].shape == (2, 6, 6, 1) and jittered[0][1].shape == (2, 6, 6, 1)
    assert all(-1 <= t.min() and t.max() <= 1 for p in jittered for t in p)


def test_sr_pairs_low_res_is_bicubic_antialiased_downscale():
    x = _uint8((5, 20, 18, 3))
    ds = data.sr_pairs(x, scale=4, hr_size=16, batch_size=5, seed=0)
    assert ds.element_spec[0].shape == (5, 4, 4, 3) and ds.element_spec[1].shape == (5, 16, 16, 3)
    lr, hr = _batches(ds)[0]
    expected = tf.image.resize(hr, (4, 4), method="bicubic", antialias=True)
    np.testing.assert_allclose(lr, tf.clip_by_value(expected, -1, 1).numpy(), atol=1e-5)
    # Every crop comes from its image: find it inside one of the sources.
    crops = [
        np.flip(s[i : i + 16, j : j + 16], axes)
        for s in x / 127.5 - 1
        for i in range(5)
        for j in range(3)
        for axes in [(), (0,), (1,), (0, 1)]
    ]
    assert all(any(np.allclose(h, c, atol=1e-6) for c in crops) for h in hr)


def test_sr_pairs_validation_and_small_images(tmp_path):
    x = _uint8((4, 8, 8))
    with pytest.raises(ValueError, match="`scale`"):
        data.sr_pairs(x, scale=3, hr_size=6)
    with pytest.raises(ValueError, match="`hr_size`.*multiple"):
        data.sr_pairs(x, scale=4, hr_size=10)
    with pytest.raises(ValueError, match="smaller than hr_size=16"):
        data.sr_pairs(x, scale=4, hr_size=16, batch_size=2)
    _write_png(str(tmp_path / "big.png"), _uint8((12, 12)))
    _write_png(str(tmp_path / "small.png"), _uint8((4, 12)))
    with pytest.raises(ValueError, match="small.png"):
        data.sr_pairs(str(tmp_path), scale=2, hr_size=8, batch_size=1)
    with pytest.warns(UserWarning, match="Skipped 1 of 2 images smaller"):
        ds = data.sr_pairs(str(tmp_path), scale=2, hr_size=8, batch_size=1, on_error="skip")
    lr, hr = _batches(ds)[0]
    assert lr.shape == (1, 4, 4, 1) and hr.shape == (1, 8, 8, 1)
