"""`keras_gans.export`: TF Serving SavedModels, checked the way the server loads them.

TF Serving cannot be installed here, so serve-readiness is shown as the server sees the
model: the graph-mode loader in a `tf.compat.v1.Session`, each signature run by the
tensor names of its `SignatureDef` (`serving_standins.SessionServable`), and
`saved_model_cli show --all`.
"""

import io
import json
import os
import shutil
import struct
import subprocess
import sys
import textwrap
import zlib

import keras
import numpy as np
import pytest
from PIL import Image
from serving_standins import InvalidArgument, SessionServable

import keras_gans
import keras_gans.export
from keras_gans.export import (
    export,
    next_version,
    png_crc32,
    png_text_chunk,
    read_signatures,
    sample_noise,
    size_multiple,
    versions,
)
from keras_gans.models.cyclegan import CycleGAN
from keras_gans.models.dcgan import DCGAN
from keras_gans.models.srgan import SRGAN
from keras_gans.utils import read_provenance, to_uint8

export_lib = sys.modules["keras_gans.export"]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LATENT = 4
SHAPE = (8, 8, 1)


def tiny_gan(**kwargs):
    return DCGAN.from_shape(SHAPE, latent_dim=LATENT, base_filters=4, **kwargs)


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    gan = tiny_gan()
    base = tmp_path_factory.mktemp("plain") / "dcgan"
    path = export(gan, base)
    return gan, path, SessionServable(path)


@pytest.fixture(scope="module")
def conditional_ema(tmp_path_factory):
    gan = tiny_gan(num_classes=3, ema_decay=0.9)
    # Make the EMA generator differ from the live one, as after training.
    gan.ema_generator.set_weights([w * 0.5 if w.ndim > 1 else w
                                   for w in gan.generator.get_weights()])
    path = export(gan, tmp_path_factory.mktemp("cond") / "cdcgan", include_keras=False)
    return gan, path, SessionServable(path)


def z_batch(n, seed=0):
    return np.random.default_rng(seed).standard_normal((n, LATENT)).astype("float32")


def assert_uint8_close(actual, expected):
    # Float outputs equal to 1e-4 may round to neighbouring levels at a .5 boundary.
    assert actual.dtype == np.uint8 and actual.shape == expected.shape
    assert np.abs(actual.astype(int) - expected).max() <= 1


# --- Layout and metadata ---


def test_layout_metadata_and_keras_model(plain):
    gan, path, _ = plain
    base = os.path.dirname(path)
    assert os.path.basename(path) == "1"
    assert sorted(os.listdir(base)) == ["1"]  # no temporary directory left behind
    assert {"saved_model.pb", "variables", "assets.extra"} <= set(os.listdir(path))
    # Readable by a server running as another user, like any directory made here.
    os.mkdir(os.path.join(base, "probe"))
    assert os.stat(path).st_mode == os.stat(os.path.join(base, "probe")).st_mode
    os.rmdir(os.path.join(base, "probe"))
    assert os.listdir(os.path.join(path, "variables"))  # the generator's weights
    with open(os.path.join(path, "assets.extra", "metadata.json")) as f:
        metadata = json.load(f)
    assert metadata["class"] == "DCGAN"
    assert metadata["latent_dim"] == LATENT
    assert metadata["num_classes"] is None
    assert metadata["image_shape"] == list(SHAPE)
    assert metadata["served_network"] == "generator"
    assert metadata["keras_model"] == "model.keras"
    assert metadata["versions"]["keras"] == keras.__version__
    assert metadata["signatures"] == read_signatures(path)

    # The whole GAN travels along for further training.
    restored = keras.saving.load_model(os.path.join(path, "assets.extra", "model.keras"))
    assert isinstance(restored, DCGAN)
    z = z_batch(3)
    np.testing.assert_allclose(restored.generate(z=z), gan.generate(z=z), atol=1e-6)


def test_signature_defs_have_documented_names_dtypes_and_polymorphic_batch(plain):
    _, path, _ = plain
    images = {"images": {"dtype": "float32", "shape": [-1, *SHAPE]},
              "images_uint8": {"dtype": "uint8", "shape": [-1, *SHAPE]}}
    sample_inputs = {"n": {"dtype": "int32", "shape": []},
                     "seed": {"dtype": "int64", "shape": []}}
    assert read_signatures(path) == {
        "serving_default": {"inputs": {"z": {"dtype": "float32", "shape": [-1, LATENT]}},
                            "outputs": images},
        "sample": {"inputs": sample_inputs, "outputs": images},
        "png": {"inputs": sample_inputs,
                "outputs": {"images_bytes": {"dtype": "string", "shape": [-1]}}},
    }


def test_saved_model_cli_lists_the_signatures(plain):
    _, path, _ = plain
    cli = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    result = subprocess.run([cli, "show", "--dir", path, "--all"], capture_output=True,
                            text=True, timeout=120, check=False,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for name in ("serving_default", "sample", "png"):
        assert f"signature_def['{name}']" in out
    for tensor in ("inputs['z']", "inputs['n']", "inputs['seed']", "outputs['images']",
                   "outputs['images_uint8']", "outputs['images_bytes']"):
        assert tensor in out
    assert "DT_UINT8" in out and "DT_STRING" in out


# --- Signatures run like TF Serving runs them ---


@pytest.mark.parametrize("n", [1, 5])
def test_serving_default_equals_keras_model(plain, n):
    gan, _, servable = plain
    z = z_batch(n, seed=n)
    out = servable.run("serving_default", {"z": z})
    expected = gan.generate(z=z)
    assert out["images"].dtype == np.float32 and out["images"].shape == (n, *SHAPE)
    np.testing.assert_allclose(out["images"], expected, atol=1e-5)
    np.testing.assert_array_equal(out["images_uint8"], to_uint8(out["images"]))


def test_sample_draws_documented_noise_from_seed(plain):
    gan, _, servable = plain
    out = servable.run("sample", {"n": np.int32(3), "seed": np.int64(7)})
    expected = gan.generate(z=sample_noise(3, 7, LATENT).numpy())
    np.testing.assert_allclose(out["images"], expected, atol=1e-5)
    np.testing.assert_array_equal(out["images_uint8"], to_uint8(out["images"]))
    again = servable.run("sample", {"n": np.int32(3), "seed": np.int64(7)})
    np.testing.assert_array_equal(again["images"], out["images"])
    other = servable.run("sample", {"n": np.int32(3), "seed": np.int64(8)})
    assert not np.allclose(other["images"], out["images"])
    one = servable.run("sample", {"n": np.int32(1), "seed": np.int64(7)})
    assert one["images"].shape == (1, *SHAPE)
    with pytest.raises(InvalidArgument, match="positive"):
        servable.run("sample", {"n": np.int32(0), "seed": np.int64(7)})


def test_png_returns_encoded_images_uint8(plain):
    _, _, servable = plain
    pngs = servable.run("png", {"n": np.int32(2), "seed": np.int64(3)})["images_bytes"]
    reference = servable.run("sample", {"n": np.int32(2), "seed": np.int64(3)})
    assert pngs.shape == (2,)
    for data, expected in zip(pngs, reference["images_uint8"]):
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(data))),
                                      expected[..., 0])


# --- Provenance of the served PNGs ---


def png_chunks(data):
    """`[(type, data, crc)]` of a PNG file, checking the signature."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, at = [], 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at:at + 4])
        kind, body = data[at + 4:at + 8], data[at + 8:at + 8 + length]
        (crc,) = struct.unpack(">I", data[at + 8 + length:at + 12 + length])
        chunks.append((kind, body, crc))
        at += 12 + length
    return chunks


@pytest.mark.parametrize("data", [b"", b"IEND", b"tEXtkeras_gans:seed\x003",
                                  bytes(range(256)) * 2])
def test_png_crc32_in_the_graph_equals_zlib(data):
    assert int(png_crc32(data)) == zlib.crc32(data)


def test_png_text_chunk_is_text_or_utf8_itxt_that_pil_reads(tmp_path):
    import tensorflow as tf

    plain_png = tf.io.encode_png(np.zeros([2, 3, 1], np.uint8)).numpy()
    chunks = [png_text_chunk("keras_gans:a", "caf\u00e9"),  # Latin-1: tEXt
              png_text_chunk("keras_gans:b", "\u6a21\u578b"),  # not Latin-1: iTXt
              png_text_chunk("keras_gans:c", tf.strings.as_string(tf.constant(-7, tf.int64)))]
    data = plain_png[:33] + b"".join(c.numpy() for c in chunks) + plain_png[33:]
    assert [kind for kind, _, _ in png_chunks(data)[1:4]] == [b"tEXt", b"iTXt", b"tEXt"]
    for kind, body, crc in png_chunks(data):
        assert zlib.crc32(kind + body) == crc
    (tmp_path / "t.png").write_bytes(data)
    assert read_provenance(tmp_path / "t.png") == {"a": "caf\u00e9", "b": "\u6a21\u578b",
                                                   "c": "-7"}


_TF_ONLY_PNG = textwrap.dedent("""
    import base64, json, sys
    import tensorflow as tf
    served = tf.saved_model.load(sys.argv[1])
    n, seed = tf.constant(3), tf.constant(int(sys.argv[2]), tf.int64)
    pngs = served.signatures["png"](n=n, seed=seed)["images_bytes"].numpy()
    plain = [tf.io.encode_png(image).numpy()
             for image in served.signatures["sample"](n=n, seed=seed)["images_uint8"]]
    assert not any(name.startswith("keras_gans") for name in sys.modules)
    print(json.dumps([[base64.b64encode(p).decode() for p in pngs],
                      [base64.b64encode(p).decode() for p in plain]]))
""")


def test_png_signature_carries_provenance_in_a_tensorflow_only_process(plain, tmp_path):
    import base64

    from keras_gans import registry

    _, path, _ = plain
    result = subprocess.run([sys.executable, "-c", _TF_ONLY_PNG, path, "12345"],
                            capture_output=True, text=True, timeout=300, check=False,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert result.returncode == 0, result.stderr
    pngs, plain_pngs = ([base64.b64decode(p) for p in part]
                        for part in json.loads(result.stdout.splitlines()[-1]))
    keras_file = os.path.join(path, "assets.extra", "model.keras")
    expected = {"synthetic": "true (generated by a model)", "model": "dcgan",
                "version": "1", "sha256": registry.sha256(keras_file), "class": "DCGAN",
                "seed": "12345", "command": "png signature: n=3, seed=12345"}
    for index, (data, plain_png) in enumerate(zip(pngs, plain_pngs)):
        chunks = png_chunks(data)
        for kind, body, crc in chunks:
            assert zlib.crc32(kind + body) == crc
        # The encoder's chunks, unchanged, with the text chunks right after IHDR.
        assert [c for c in chunks if c[0] != b"tEXt"] == png_chunks(plain_png)
        assert chunks[0][0] == b"IHDR" and {c[0] for c in chunks[1:10]} == {b"tEXt"}
        with Image.open(io.BytesIO(data)) as image:
            with Image.open(io.BytesIO(plain_png)) as reference:
                np.testing.assert_array_equal(np.asarray(image), np.asarray(reference))
            assert image.text["Software"] == f"keras_gans {keras_gans.__version__}"
        file = tmp_path / f"{index}.png"
        file.write_bytes(data)
        assert read_provenance(file) == {**expected, "index": str(index)}

    # `keras-gans provenance` reads them, and names the model file as `sample` does.
    shown = subprocess.run(
        [sys.executable, "-m", "keras_gans", "provenance", str(tmp_path / "2.png"), "--json"],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "PYTHONPATH": ROOT})
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout) == {**expected, "index": "2"}
    from keras_gans import cli

    assert cli._common.load_with_provenance(path)[1]["sha256"] == expected["sha256"]
    with open(os.path.join(path, "assets.extra", "metadata.json")) as f:
        assert json.load(f)["png_provenance"] == {
            key: expected[key] for key in ("model", "version", "sha256", "class")}


def test_conditional_gan_serves_the_ema_generator_with_labels(conditional_ema):
    gan, path, servable = conditional_ema
    z, labels = z_batch(4), np.array([0, 2, 1, 2], np.int32)
    out = servable.run("serving_default", {"z": z, "labels": labels})
    np.testing.assert_allclose(out["images"], gan.generate(z=z, labels=labels), atol=1e-5)
    live = gan.generator([z, labels], training=False).numpy()
    assert not np.allclose(out["images"], live, atol=1e-3)  # the EMA one is served

    noise = sample_noise(5, 11, LATENT).numpy()
    cycled = servable.run("sample", {"n": np.int32(5), "seed": np.int64(11),
                                     "labels": np.zeros([0], np.int32)})
    np.testing.assert_allclose(cycled["images"],
                               gan.generate(z=noise, labels=np.arange(5) % 3), atol=1e-5)
    chosen = servable.run("sample", {"n": np.int32(5), "seed": np.int64(11),
                                     "labels": np.full([5], 2, np.int32)})
    np.testing.assert_allclose(chosen["images"], gan.generate(z=noise, labels=2), atol=1e-5)

    with pytest.raises(InvalidArgument, match="num_classes"):
        servable.run("serving_default", {"z": z, "labels": np.array([0, 1, 3, 0], np.int32)})
    with pytest.raises(InvalidArgument, match="one class id per image"):
        servable.run("sample", {"n": np.int32(5), "seed": np.int64(1),
                                "labels": np.zeros([2], np.int32)})
    with open(os.path.join(path, "assets.extra", "metadata.json")) as f:
        metadata = json.load(f)
    assert metadata["served_network"] == "ema_generator"
    assert metadata["num_classes"] == 3
    assert metadata["keras_model"] is None
    assert metadata["png_provenance"]["sha256"].startswith("none")
    pngs = servable.run("png", {"n": np.int32(2), "seed": np.int64(4),
                                "labels": np.zeros([0], np.int32)})["images_bytes"]
    with Image.open(io.BytesIO(pngs[1])) as image:
        assert image.text["keras_gans:model"] == "cdcgan"
        assert image.text["keras_gans:sha256"].startswith("none")
        assert image.text["keras_gans:index"] == "1"
    assert not os.path.exists(os.path.join(path, "assets.extra", "model.keras"))
    assert sorted(read_signatures(path)["sample"]["inputs"]) == ["labels", "n", "seed"]


def test_cyclegan_translates_uint8_images_of_any_size(tmp_path):
    gan = CycleGAN.from_shape((8, 8, 3), filters=2, num_residual_blocks=1, d_filters=2,
                              d_layers=1)
    path = export(gan, tmp_path / "cyclegan", include_keras=False)
    signatures = read_signatures(path)
    assert {"translate_a2b", "translate_b2a", "serving_default"} <= set(signatures)
    assert signatures["translate_a2b"]["inputs"] == {
        "images": {"dtype": "uint8", "shape": [-1, -1, -1, 3]}}
    servable = SessionServable(path)
    # 10x13 is not a multiple of the generators' 4: padded to 12x16, cropped back.
    images = np.random.default_rng(0).integers(0, 256, (2, 10, 13, 3), dtype=np.uint8)
    for direction in ("a2b", "b2a"):
        out = servable.run(f"translate_{direction}", {"images": images})
        assert out["images"].shape == images.shape
        np.testing.assert_allclose(out["images"], gan.translate(images / 127.5 - 1.0,
                                                                direction), atol=1e-4)
        assert_uint8_close(out["images_uint8"], gan.translate(images, direction))
    assert size_multiple(gan.generator_a2b) == 4


def test_srgan_upscales_uint8_images_of_any_size(tmp_path):
    gan = SRGAN(scale=2, num_blocks=1, filters=4, channels=3, hr_size=8, d_filters=2,
                dense_units=4)
    path = export(gan, tmp_path / "srgan", include_keras=False)
    assert read_signatures(path)["upscale"]["outputs"]["images_uint8"] == {
        "dtype": "uint8", "shape": [-1, -1, -1, 3]}
    servable = SessionServable(path)
    images = np.random.default_rng(1).integers(0, 256, (2, 5, 7, 3), dtype=np.uint8)
    out = servable.run("upscale", {"images": images})
    assert out["images"].shape == (2, 10, 14, 3)
    np.testing.assert_allclose(out["images"],
                               gan.upscale(images.astype("float32") / 127.5 - 1.0),
                               atol=1e-4)
    assert_uint8_close(out["images_uint8"], gan.upscale(images))
    with open(os.path.join(path, "assets.extra", "metadata.json")) as f:
        assert json.load(f)["scale"] == 2


# --- Versions: next free, never overwritten, never half-written ---


@pytest.fixture
def fast_writes(plain, monkeypatch):
    """Replace the SavedModel writer by a copy of the fixture's export (speed only)."""
    _, source, _ = plain
    seen = []

    def write(model, family, tmp, provenance):
        base = os.path.dirname(tmp)
        # While a version is written, only the hidden temporary directory exists.
        assert os.path.basename(tmp).startswith(".tmp-")
        seen.append(versions(base))
        shutil.copytree(source, tmp, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("assets.extra"))

    monkeypatch.setattr(export_lib, "_write_saved_model", write)
    return seen


def test_versions_are_next_free_integers(tmp_path, fast_writes):
    gan, base = tiny_gan(), tmp_path / "model"
    assert next_version(base) == 1
    assert export(gan, base, include_keras=False) == os.path.join(base, "1")
    assert export(gan, base, include_keras=False) == os.path.join(base, "2")
    assert export(gan, base, version=7, include_keras=False) == os.path.join(base, "7")
    (base / "not_a_version").mkdir()
    assert export(gan, base, include_keras=False) == os.path.join(base, "8")
    assert versions(base) == [1, 2, 7, 8]
    assert fast_writes == [[], [1], [1, 2], [1, 2, 7]]  # the new one appeared only after
    assert sorted(os.listdir(base)) == ["1", "2", "7", "8", "not_a_version"]


def test_existing_version_is_never_overwritten(tmp_path, fast_writes):
    gan, base = tiny_gan(), tmp_path / "model"
    (base / "3").mkdir(parents=True)
    (base / "3" / "keep.txt").write_text("old")
    with pytest.raises(FileExistsError, match=r"model/3"):
        export(gan, base, version=3, include_keras=False)
    assert sorted(os.listdir(base)) == ["3"]
    assert (base / "3" / "keep.txt").read_text() == "old"
    assert fast_writes == []  # refused before writing anything


def test_failed_export_leaves_nothing_behind(tmp_path, fast_writes, monkeypatch):
    def broken(*args):
        raise OSError("disk full")

    monkeypatch.setattr(export_lib, "_write_assets_extra", broken)
    base = tmp_path / "model"
    with pytest.raises(OSError, match="disk full"):
        export(tiny_gan(), base)
    assert os.listdir(base) == []


def test_unwritable_or_file_base_dir_is_a_clear_error(tmp_path, monkeypatch):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(ValueError, match="base_dir.*file"):
        export(tiny_gan(), a_file)
    # The test may run as root, which ignores permission bits: report "not writable".
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if os.fspath(p).endswith(
        "locked") else real_access(p, mode))
    (tmp_path / "locked").mkdir()
    with pytest.raises(PermissionError, match="locked"):
        export(tiny_gan(), tmp_path / "locked")
    assert os.listdir(tmp_path / "locked") == []


@pytest.mark.parametrize("version", [-1, 1.0, "2", True])
def test_invalid_version(tmp_path, version):
    with pytest.raises(ValueError, match="version"):
        export(tiny_gan(), tmp_path / "m", version=version)
    assert not os.path.exists(tmp_path / "m")


def test_unsupported_model_is_a_type_error(tmp_path):
    with pytest.raises(TypeError, match="Sequential"):
        export(keras.Sequential([keras.layers.Dense(1)]), tmp_path / "m")
    assert not os.path.exists(tmp_path / "m")


def test_package_attribute_is_callable(tmp_path, fast_writes):
    # `keras_gans.export` names the module and the function; once the module is imported
    # the package attribute is the module, which is callable.
    path = keras_gans.export(tiny_gan(), tmp_path / "m", include_keras=False)
    assert path == os.path.join(tmp_path, "m", "1")
    path = export_lib(tiny_gan(), tmp_path / "m", include_keras=False)
    assert path == os.path.join(tmp_path, "m", "2")


# --- XLA (jit_compile=True) ---


def _xla_functions(path):
    """Names of the functions in the SavedModel's library marked `_XlaMustCompile`."""
    from tensorflow.core.protobuf import saved_model_pb2

    proto = saved_model_pb2.SavedModel()
    with open(os.path.join(path, "saved_model.pb"), "rb") as f:
        proto.ParseFromString(f.read())
    library = proto.meta_graphs[0].graph_def.library
    return [f.signature.name for f in library.function
            if f.attr.get("_XlaMustCompile") is not None and f.attr["_XlaMustCompile"].b]


def test_jit_compile_serves_the_same_images_and_keeps_the_input_checks(conditional_ema,
                                                                       tmp_path):
    gan, _, reference = conditional_ema
    path = export(gan, tmp_path / "cdcgan", include_keras=False, jit_compile=True)
    assert _xla_functions(path), "no function of the SavedModel is XLA-compiled"
    with open(os.path.join(path, "assets.extra", "metadata.json")) as f:
        assert json.load(f)["jit_compile"] is True
    servable = SessionServable(path)  # the graph-mode loader, as TF Serving runs it
    z, labels = z_batch(3), np.array([2, 0, 1], np.int32)
    for n in (1, 3):  # a compilation per batch size
        out = servable.run("serving_default", {"z": z[:n], "labels": labels[:n]})
        expected = reference.run("serving_default", {"z": z[:n], "labels": labels[:n]})
        np.testing.assert_allclose(out["images"], expected["images"], atol=1e-4)
        np.testing.assert_allclose(out["images"], gan.generate(z=z[:n], labels=labels[:n]),
                                   atol=1e-4)
    sampled = servable.run("sample", {"n": np.int32(4), "seed": np.int64(7),
                                      "labels": np.zeros([0], np.int32)})
    np.testing.assert_allclose(
        sampled["images"], gan.generate(z=sample_noise(4, 7, LATENT).numpy(),
                                        labels=np.arange(4) % 3), atol=1e-4)
    # The checks run outside the compiled part, so XLA does not drop them.
    with pytest.raises(InvalidArgument, match="num_classes"):
        servable.run("serving_default", {"z": z, "labels": np.array([0, 1, 3], np.int32)})
    with pytest.raises(InvalidArgument, match="one class id per image"):
        servable.run("sample", {"n": np.int32(5), "seed": np.int64(1),
                                "labels": np.zeros([2], np.int32)})
    with pytest.raises(InvalidArgument, match="positive"):
        servable.run("sample", {"n": np.int32(0), "seed": np.int64(1),
                                "labels": np.zeros([0], np.int32)})


def test_jit_compile_image_to_image_signatures_take_any_size(tmp_path):
    from keras_gans.models.inpainter import Inpainter

    rng = np.random.default_rng(3)
    cyclegan = CycleGAN.from_shape((8, 8, 3), filters=2, num_residual_blocks=1, d_filters=2,
                                   d_layers=1)
    srgan = SRGAN(scale=2, num_blocks=1, filters=4, channels=3, hr_size=8, d_filters=2,
                  dense_units=4)
    inpainter = Inpainter.from_shape((16, 16, 3), filters=4, d_filters=4)
    for name, gan in (("cyclegan", cyclegan), ("srgan", srgan), ("inpainter", inpainter)):
        plain_path = export(gan, tmp_path / name, include_keras=False)
        xla_path = export(gan, tmp_path / name, include_keras=False, jit_compile=True)
        assert not _xla_functions(plain_path) and _xla_functions(xla_path), name
        plain_servable, xla_servable = SessionServable(plain_path), SessionServable(xla_path)
        signature = read_signatures(xla_path)["serving_default"]
        for shape in ((1, 12, 12, 3), (2, 10, 13, 3)):  # a compilation per shape
            inputs = {"images": rng.integers(0, 256, shape, dtype=np.uint8)}
            if "masks" in signature["inputs"]:
                masks = np.zeros(shape[:3], np.uint8)
                masks[:, 2:7, 3:9] = 1
                inputs["masks"] = masks
            out = xla_servable.run("serving_default", inputs)
            expected = plain_servable.run("serving_default", inputs)
            assert out["images_uint8"].shape == expected["images_uint8"].shape, name
            assert_uint8_close(out["images_uint8"], expected["images_uint8"])
            if "images" in expected:
                np.testing.assert_allclose(out["images"], expected["images"], atol=1e-4)
    with pytest.raises(InvalidArgument, match="shape of `images`"):
        xla_servable.run("serving_default", {"images": np.zeros((1, 16, 16, 3), np.uint8),
                                             "masks": np.zeros((1, 15, 16), np.uint8)})


def test_jit_compile_bad_values_are_clear_errors(tmp_path):
    gan = tiny_gan()
    with pytest.raises(TypeError, match=r"`jit_compile`.*'yes'"):
        export(gan, tmp_path / "a", jit_compile="yes")

    class Custom(DCGAN):
        def serving_signatures(self):  # an older declaration, without jit_compile
            return super().serving_signatures()

    custom = Custom.from_shape(SHAPE, latent_dim=LATENT, base_filters=4)
    with pytest.raises(ValueError, match="jit_compile=True.*Custom.serving_signatures"):
        export(custom, tmp_path / "b", jit_compile=True)

    class Forgetful(DCGAN):
        def serving_signatures(self, jit_compile=False):  # takes it, compiles nothing
            return super().serving_signatures()

    forgetful = Forgetful.from_shape(SHAPE, latent_dim=LATENT, base_filters=4)
    with pytest.raises(ValueError, match="Forgetful.serving_signatures.*compiled nothing"):
        export(forgetful, tmp_path / "d", jit_compile=True)
    assert not os.path.exists(tmp_path / "a") and not os.path.exists(tmp_path / "b")
    assert not any(p.name.isdigit() for p in (tmp_path / "d").iterdir())
    assert os.path.isdir(export(custom, tmp_path / "c", include_keras=False))


def test_jit_compile_of_a_network_xla_cannot_compile_fails_the_export(tmp_path):
    # The bicubic skip's ResizeBicubic has no XLA kernel: the export must say so, not
    # the first request to the server.
    gan = SRGAN(scale=2, num_blocks=1, filters=4, channels=3, hr_size=8, d_filters=2,
                dense_units=4, bicubic_skip=True)
    with pytest.raises(ValueError, match=r"XLA \(argument `jit_compile`\), signature "
                                         r"`upscale` of this SRGAN.*ResizeBicubic"):
        export(gan, tmp_path / "srgan", include_keras=False, jit_compile=True)
    assert not any(p.name.isdigit() for p in (tmp_path / "srgan").iterdir())
    assert os.path.isdir(export(gan, tmp_path / "srgan", include_keras=False))


# --- Bad input: refused in the graph, by name, before anything large is allocated ---
# The signatures are called as `tf.saved_model.load(path).signatures[...]` calls them
# (and TF Serving feeds them): without comparing the inputs to the `SignatureDef`.


@pytest.fixture(scope="module")
def loaded(plain, conditional_ema):
    import tensorflow as tf

    return {"plain": tf.saved_model.load(plain[1]).signatures,
            "conditional": tf.saved_model.load(conditional_ema[1]).signatures}


@pytest.fixture(scope="module")
def image_models(tmp_path_factory):
    """Tiny CycleGAN, SRGAN and Inpainter, exported once: `{name: (model, path,
    signatures)}`."""
    import tensorflow as tf

    from keras_gans.models.inpainter import Inpainter

    base = tmp_path_factory.mktemp("image_models")
    models = {
        "cyclegan": CycleGAN.from_shape((8, 8, 3), filters=2, num_residual_blocks=1,
                                        d_filters=2, d_layers=1),
        "srgan": SRGAN(scale=2, num_blocks=1, filters=4, channels=3, hr_size=8,
                       d_filters=2, dense_units=4),
        "inpainter": Inpainter.from_shape((16, 16, 3), filters=4, d_filters=4),
    }
    out = {}
    for name, model in models.items():
        path = export(model, base / name, include_keras=False)
        out[name] = (model, path, tf.saved_model.load(path).signatures)
    return out


def _metadata(path):
    with open(os.path.join(path, "assets.extra", "metadata.json")) as f:
        return json.load(f)


def _refused(signature, match, **inputs):
    import tensorflow as tf

    with pytest.raises(tf.errors.InvalidArgumentError, match=match):
        signature(**{k: tf.constant(v) for k, v in inputs.items()})


@pytest.mark.parametrize("n", ["max+1", 2**31 - 1])
def test_sample_and_png_refuse_more_images_than_the_documented_maximum(plain, loaded, n):
    gan, path, servable = plain
    limit = keras_gans.export.max_request_images(gan.generator, LATENT)
    assert _metadata(path)["max_request_images"] == limit
    assert limit == keras_gans.export.MAX_SIGNATURE_SAMPLES  # a tiny generator
    n = limit + 1 if n == "max+1" else n
    for name in ("sample", "png"):
        _refused(loaded["plain"][name], f"`n` must be at most {limit}",
                 n=np.int32(n), seed=np.int64(0))
        with pytest.raises(InvalidArgument, match=f"`n` must be at most {limit}"):
            servable.run(name, {"n": np.int32(n), "seed": np.int64(0)})
    _refused(loaded["plain"]["serving_default"], f"`z` must have at most {limit} rows",
             z=np.zeros((limit + 1, LATENT), np.float32))
    assert loaded["plain"]["sample"](n=np.int32(limit), seed=np.int64(0))[
        "images_uint8"].shape == (limit, *SHAPE)


def test_request_limits_shrink_when_the_memory_budget_is_passed(plain, image_models,
                                                                 monkeypatch):
    monkeypatch.setattr(export_lib, "MAX_SIGNATURE_BYTES", 2**20)
    images = export_lib.max_request_images(plain[0].generator, LATENT)
    assert 1 <= images < export_lib.MAX_SIGNATURE_SAMPLES
    pixels = export_lib.max_request_output_pixels(image_models["srgan"][0].generator, 2)
    assert 1 <= pixels < export_lib.MAX_SIGNATURE_OUTPUT_PIXELS
    monkeypatch.setattr(export_lib, "MAX_SIGNATURE_BYTES", 1)
    assert export_lib.max_request_images(plain[0].generator, LATENT) == 1


def test_upscale_refuses_what_cannot_fit_before_running(monkeypatch):
    # 5000x5000 by 2 needs about 9 GiB (measured: 6 to 8); the former estimate said 6.
    from keras_gans import memory
    from keras_gans.models.srresnet import SRResNet

    sr = SRResNet(scale=2, num_blocks=1, filters=4, channels=3)
    monkeypatch.setattr(memory, "available_memory", lambda: 7 * 2**30)

    def run(*args):
        raise AssertionError("the generator ran")

    monkeypatch.setattr(sr, "_get_upscale_fn", lambda: run)
    with pytest.raises(MemoryError, match=r"\(1, 5000, 5000, 3\).*only 7.0 GiB"):
        sr.upscale(np.zeros((1, 5000, 5000, 3), np.uint8))


def test_upscale_signature_caps_output_pixels(image_models):
    gan, path, signatures = image_models["srgan"]
    # 2000x2000 by 2: 16 million output pixels.
    _refused(signatures["upscale"], "at most 8388608 output pixels.*scale",
             images=np.zeros((1, 2000, 2000, 3), np.uint8))
    limit = keras_gans.export.max_request_output_pixels(gan.generator, 2)
    assert _metadata(path)["max_request_output_pixels"] == limit
    assert limit == keras_gans.export.MAX_SIGNATURE_OUTPUT_PIXELS == 2**23
    _refused(signatures["upscale"], f"at most {limit} output pixels",
             images=np.zeros((3, 1000, 1000, 3), np.uint8))
    assert signatures["upscale"](images=np.zeros((1, 3, 5, 3), np.uint8))[
        "images"].shape == (1, 6, 10, 3)


def test_image_signatures_refuse_small_sides_and_serve_empty_batches(image_models):
    cyclegan, path, signatures = image_models["cyclegan"]
    # The residual blocks pad by 1 at a quarter of the size: 8 pixels after padding.
    assert keras_gans.export.min_side(cyclegan.generator_a2b) == 5
    assert _metadata(path)["generator_a2b_min_side"] == 5
    servable = SessionServable(path)
    for side in (1, 3, 4):
        for name in ("translate_a2b", "translate_b2a"):
            _refused(signatures[name], "`images` sides must be at least 5",
                     images=np.zeros((1, side, side + 4, 3), np.uint8))
        with pytest.raises(InvalidArgument, match="`images` sides must be at least 5"):
            servable.run("translate_a2b", {"images": np.zeros((1, side, 9, 3), np.uint8)})
    out = signatures["translate_a2b"](images=np.zeros((2, 5, 7, 3), np.uint8))
    assert out["images_uint8"].shape == (2, 5, 7, 3)
    for name, signature in (("cyclegan", "translate_b2a"), ("srgan", "upscale"),
                            ("inpainter", "inpaint")):
        _, path, signatures = image_models[name]
        inputs = {"images": np.zeros((0, 16, 12, 3), np.uint8)}
        if name == "inpainter":
            inputs["masks"] = np.zeros((0, 16, 12), np.uint8)
        scale = 2 if name == "srgan" else 1
        for out in (signatures[signature](**inputs),
                    SessionServable(path).run(signature, inputs)):
            assert out["images_uint8"].shape == (0, 16 * scale, 12 * scale, 3), name
            assert np.asarray(out["images_uint8"]).dtype == np.uint8


def test_signature_errors_name_the_input(loaded, image_models):
    def shape_error(name, received, expected):
        return rf"Shape of tensor {name} \[{received}\] .* expected shape \[{expected}\]"

    _refused(loaded["plain"]["serving_default"], shape_error("z", "2,5", r"\?,4"),
             z=np.zeros((2, 5), np.float32))
    _refused(loaded["plain"]["serving_default"], shape_error("z", "2,4,1", r"\?,4"),
             z=np.zeros((2, 4, 1), np.float32))
    _refused(loaded["conditional"]["sample"], "`n` must be a positive integer",
             n=np.int32(-3), seed=np.int64(0), labels=np.zeros([0], np.int32))
    _refused(loaded["plain"]["sample"], shape_error("n", "1", ""),
             n=np.array([2], np.int32), seed=np.int64(0))
    _refused(loaded["plain"]["png"], shape_error("seed", "2", ""),
             n=np.int32(2), seed=np.array([1, 2], np.int64))
    _refused(loaded["conditional"]["serving_default"], shape_error("labels", "2,1", r"\?"),
             z=np.zeros((2, 4), np.float32), labels=np.zeros((2, 1), np.int32))
    wrong_channels = (("cyclegan", "translate_a2b", 1), ("srgan", "upscale", 4),
                      ("inpainter", "inpaint", 1))
    for name, signature, channels in wrong_channels:
        inputs = {"images": np.zeros((1, 16, 16, channels), np.uint8)}
        if name == "inpainter":
            inputs["masks"] = np.zeros((1, 16, 16), np.uint8)
        _refused(image_models[name][2][signature],
                 shape_error("images", f"1,16,16,{channels}", r"\?,\?,\?,3"), **inputs)
    inpaint = image_models["inpainter"][2]["inpaint"]
    _refused(inpaint, shape_error("masks", "1,16,16,1", r"\?,\?,\?"),
             images=np.zeros((1, 16, 16, 3), np.uint8),
             masks=np.zeros((1, 16, 16, 1), np.uint8))
    _refused(inpaint, "`masks` must have the shape of `images` without channels",
             images=np.zeros((1, 16, 16, 3), np.uint8), masks=np.zeros((1, 16, 8), np.uint8))
    _refused(inpaint, "`images` sides must be at least 4",
             images=np.zeros((1, 2, 16, 3), np.uint8), masks=np.zeros((1, 2, 16), np.uint8))


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_serving_default_refuses_non_finite_noise(loaded, value):
    z = z_batch(3)
    z[1, 2] = value
    _refused(loaded["plain"]["serving_default"], "`z` must be finite", z=z)
    _refused(loaded["conditional"]["serving_default"], "`z` must be finite", z=z,
             labels=np.zeros([3], np.int32))


@pytest.mark.parametrize("value", ["no", None, 1])
def test_include_keras_must_be_a_bool(tmp_path, value):
    with pytest.raises(TypeError, match=f"`include_keras`. Expected True or False.*{value!r}"):
        export(tiny_gan(), tmp_path / "m", include_keras=value)
    assert not os.path.exists(tmp_path / "m")


@pytest.mark.parametrize("base_dir, error", [("", ValueError), (None, TypeError),
                                             (123, TypeError)])
def test_base_dir_must_be_a_path(base_dir, error):
    with pytest.raises(error, match=f"`base_dir`.*base_dir={base_dir!r}"):
        export(tiny_gan(), base_dir)


def test_version_names_taken_by_files_or_links_are_skipped(tmp_path, fast_writes):
    base = tmp_path / "model"
    base.mkdir()
    (base / "1").write_text("not a model")
    os.symlink(base / "missing", base / "2")  # dangling
    assert next_version(base) == 3 and versions(base) == []
    assert export(tiny_gan(), base, include_keras=False) == os.path.join(base, "3")
    assert (base / "1").read_text() == "not a model" and os.path.islink(base / "2")
    (base / "7").mkdir()
    assert export(tiny_gan(), base, include_keras=False) == os.path.join(base, "8")
    with pytest.raises(FileExistsError, match=r"model/1"):
        export(tiny_gan(), base, version=1, include_keras=False)


def test_versions_up_to_int64_max(tmp_path, fast_writes):
    largest = 2**63 - 1
    path = export(tiny_gan(), tmp_path / "m", version=largest, include_keras=False)
    assert path == os.path.join(tmp_path, "m", str(largest))
    for version in (2**63, 2**70):
        with pytest.raises(ValueError, match=rf"`version`.*2\*\*63 - 1.*{version}"):
            export(tiny_gan(), tmp_path / "n", version=version)
    assert not os.path.exists(tmp_path / "n")


def test_cyclegan_pool_that_cannot_fit_is_refused_before_allocating():
    with pytest.raises(MemoryError, match=r"`pool_size`.*pool_size=1,000,000,000"):
        CycleGAN.from_shape((8, 8, 3), filters=2, num_residual_blocks=1, d_filters=2,
                            d_layers=1, pool_size=10**9)
