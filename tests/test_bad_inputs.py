"""The bad-input catalogue: every bad input gives a clear error naming the argument and
what was received, never a silent wrong result. At the CLI: exit status 2 and one line
on stderr, no traceback.

Each case is `(call, exception type, regex)`; the regex matches the argument's name and
the received value. `benchmarks/bad_inputs_table.py` prints the catalogue as a table.
"""

import os
import re
import struct
import subprocess
import sys
import types
import zlib

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import keras_gans
from keras_gans import callbacks, data, registry, training, utils
from keras_gans.export import export
from keras_gans.models import dcgan
from keras_gans.models.cyclegan import CycleGAN, build_patchgan_discriminator
from keras_gans.models.dcgan import DCGAN
from keras_gans.models.inpainter import Inpainter
from keras_gans.models.lsgan import LSGAN
from keras_gans.models.srgan import SRGAN
from keras_gans.models.wgan_gp import WGANGP

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _unwritable_directory(base):
    """A directory this process cannot create files in (chmod, or /sys for root)."""
    folder = base / "read_only"
    folder.mkdir()
    folder.chmod(0o555)
    for candidate in (str(folder), "/sys"):
        try:
            with open(os.path.join(candidate, ".probe"), "w"):
                pass
            os.remove(os.path.join(candidate, ".probe"))
        except OSError:
            return candidate
    raise RuntimeError("no unwritable directory available on this machine")


def _save_png(path, array):
    Image.fromarray(array).save(path)


def _png_declaring(path, width, height):
    """A PNG of a few bytes whose header declares `width` x `height` gray pixels."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body))

    path.write_bytes(b"\x89PNG\r\n\x1a\n"
                     + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(b"\0" * (width + 1)))
                     + chunk(b"IEND", b""))


def _zoo_entry(home, name, model):
    version_dir = home / name / "1"
    (version_dir / "assets.extra").mkdir(parents=True)
    model.save(version_dir / registry.KERAS_FILE)
    registry.register(name, 1, version_dir, {"description": f"test entry {name}"}, {},
                      manifest_path=home / "manifest.json")
    return version_dir / registry.KERAS_FILE


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """Tiny models, files and a zoo, built once for every case."""
    yield from build_env(tmp_path_factory.mktemp("bad_inputs"))


def build_env(root):
    """Builds everything the cases use under `root`; yields it with the zoo set up."""
    e = types.SimpleNamespace(root=root)
    e.gan = DCGAN.from_shape((8, 8, 1), latent_dim=4, base_filters=4, seed=0)
    e.gan.compile()
    e.cgan = DCGAN.from_shape((8, 8, 1), latent_dim=4, base_filters=4, num_classes=3, seed=0)
    e.cgan.compile()
    e.cyclegan = CycleGAN.from_shape((8, 8, 3), filters=4, num_residual_blocks=1, d_filters=4)

    def fixed_size(name):  # a translator that only takes 8x8 images
        return keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(
            3, 3, padding="same", activation="tanh")], name=name)

    e.fixed_cyclegan = CycleGAN(fixed_size("g"), fixed_size("f"),
                                build_patchgan_discriminator(3, 4, 1, name="d_a"),
                                build_patchgan_discriminator(3, 4, 1, name="d_b"))
    e.srgan = SRGAN(scale=2, num_blocks=1, filters=4, d_filters=4, dense_units=8, channels=3,
                    hr_size=8)
    e.x = np.random.default_rng(0).uniform(-1, 1, (8, 8, 8, 1)).astype("float32")

    # Image folders and files.
    good = np.random.default_rng(1).integers(0, 256, (8, 8), dtype=np.uint8)
    e.truncated = root / "truncated"
    e.truncated.mkdir()
    for i in range(3):
        _save_png(e.truncated / f"{i}.png", good)
    raw = (e.truncated / "0.png").read_bytes()
    e.broken_png = e.truncated / "broken.png"
    e.broken_png.write_bytes(raw[: len(raw) // 2])
    e.non_image = root / "non_image"
    e.non_image.mkdir()
    for i in range(3):
        _save_png(e.non_image / f"{i}.png", good)
    (e.non_image / "notes.png").write_text("not an image")
    e.clean = root / "clean"
    e.clean.mkdir()
    for i in range(3):
        _save_png(e.clean / f"{i}.png", good)
    e.empty = root / "empty"
    e.empty.mkdir()
    e.tiny_images = root / "tiny_images"
    e.tiny_images.mkdir()
    _save_png(e.tiny_images / "tiny.png", np.zeros((2, 2, 3), np.uint8))
    e.classes = root / "classes"
    for name in ("a", "b", "c"):
        (e.classes / name).mkdir(parents=True)
        _save_png(e.classes / name / "0.png", good)
    e.fifo = root / "pipe.png"
    os.mkfifo(e.fifo)
    e.small_png = root / "small.png"
    _save_png(e.small_png, np.zeros((4, 4, 3), np.uint8))
    e.rgb = root / "rgb"
    e.rgb.mkdir()
    for i in range(2):
        _save_png(e.rgb / f"{i}.png", np.zeros((8, 8, 3), np.uint8))
    e.junk = root / "junk"  # an unreadable image beside a file that is no image
    e.junk.mkdir()
    (e.junk / "a.png").write_text("not an image")
    (e.junk / "notes.txt").write_text("kept")
    e.bombs = root / "bombs"  # a PNG declaring 100000x100000 pixels
    e.bombs.mkdir()
    e.huge_png = e.bombs / "huge.png"
    _png_declaring(e.huge_png, 100000, 100000)

    # Model files.
    e.sequential = root / "sequential.keras"
    keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]).save(e.sequential)
    e.other_class_run = root / "other_class_run"
    e.other_class_run.mkdir()
    keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]).save(
        e.other_class_run / training.CHECKPOINT)
    e.not_a_zip = root / "notes.keras"
    e.not_a_zip.write_text("not a model")
    e.h5 = root / "model.h5"
    e.h5.write_bytes(b"\x89HDF\r\n\x1a\n")
    e.cgan_file = root / "cgan.keras"
    e.cgan.save(e.cgan_file)
    e.cyclegan_file = root / "cyclegan.keras"
    e.cyclegan.save(e.cyclegan_file)
    e.srgan_file = root / "srgan.keras"
    e.srgan.save(e.srgan_file)
    e.inpainter_file = root / "inpainter.keras"
    Inpainter.from_shape((8, 8, 3), filters=4, depth=1, d_filters=4, d_layers=1).save(
        e.inpainter_file)

    # A zoo in the user directory: one good entry, one tampered with.
    e.home = root / "home"
    _zoo_entry(e.home, "tiny_dcgan", e.gan)
    tampered = _zoo_entry(e.home, "tampered", e.gan)
    content = bytearray(tampered.read_bytes())
    content[200] ^= 0xFF
    tampered.write_bytes(bytes(content))

    # Export targets.
    e.exports = root / "exports"
    (e.exports / "1").mkdir(parents=True)
    e.unwritable = _unwritable_directory(root)

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KERAS_GANS_HOME", str(e.home))
        mp.delenv("KERAS_GANS_MIRROR", raising=False)
        yield e


def _empty_dataset():
    return tf.data.Dataset.from_tensor_slices(np.zeros((0, 8, 8, 1), "float32")).batch(4)


def _pixels_as_float():
    return np.linspace(0, 255, 8 * 64, dtype="float32").reshape(8, 8, 8, 1)


def _with_nan():
    x = np.zeros((4, 8, 8, 1), "float32")
    x[2, 3, 3, 0] = np.nan
    return x


def _upscale_with_little_memory(e, monkeypatch):
    from keras_gans import memory

    monkeypatch.setattr(memory, "available_memory", lambda: 1000)


# (id, call(env), exception, regex naming the argument and the received value)
API_CASES = [
    # Images: rank, channels, dtype, range.
    ("images_wrong_rank", lambda e: data.images(np.zeros((8, 8), np.uint8)),
     ValueError, r"`source`.*rank 3 or 4.*received shape \(8, 8\)"),
    ("fit_wrong_rank", lambda e: e.gan.fit(np.zeros((8, 64), "float32"), verbose=0),
     ValueError, r"`x`.*\(N, 8, 8, 1\).*received shape \(8, 64\)"),
    ("fit_wrong_channels", lambda e: e.gan.fit(np.zeros((8, 8, 8, 3), "float32"), verbose=0),
     ValueError, r"`x`.*image_shape=\(8, 8, 1\).*received shape \(8, 8, 8, 3\)"),
    ("dataset_wrong_channels", lambda e: e.gan.fit(
        tf.data.Dataset.from_tensor_slices(np.zeros((8, 8, 8, 3), "float32")).batch(4),
        shuffle=False, verbose=0),
     ValueError, r"training images.*image_shape=\(8, 8, 1\).*received shape \(None, 8, 8, 3\)"),
    ("images_wrong_dtype", lambda e: data.images(np.zeros((4, 8, 8, 1), np.complex64)),
     ValueError, r"`source`.*received dtype complex64"),
    ("fit_wrong_dtype", lambda e: e.gan.fit(np.zeros((8, 8, 8, 1), np.int64), verbose=0),
     TypeError, r"`x`.*uint8.*received dtype int64"),
    ("images_float_out_of_range", lambda e: data.images(np.full((4, 8, 8, 1), 1.5, "float32")),
     ValueError, r"`source`.*\[-1, 1\]; received values in \[1\.5, 1\.5\]\. Pass uint8"),
    ("images_uint8_passed_as_float", lambda e: data.images(_pixels_as_float()),
     ValueError, r"`source`.*received values in \[0\.0, 255\.0\].*0-255 pixel values"),
    ("fit_uint8_passed_as_float", lambda e: e.gan.fit(_pixels_as_float(), verbose=0),
     ValueError, r"`x`.*received values in \[0\.0, 255\.0\].*0-255 pixel values"),
    ("images_nan", lambda e: data.images(_with_nan()),
     ValueError, r"`source`.*finite.*received 1 NaN or infinite values, e\.g\. nan"),
    ("translate_float_out_of_range", lambda e: e.cyclegan.translate(
        np.full((1, 8, 8, 3), 5.0, "float32")),
     ValueError, r"`images`.*\[-1, 1\]; received values in \[5, 5\]"),
    ("upscale_wrong_dtype", lambda e: e.srgan.upscale(np.zeros((4, 4, 3), np.int64)),
     TypeError, r"`images`.*received dtype int64"),
    ("upscale_wrong_channels", lambda e: e.srgan.upscale(np.zeros((4, 4, 1), np.uint8)),
     ValueError, r"`images`.*C=3.*received an array of shape \(4, 4, 1\)"),
    # Empty data.
    ("images_empty_array", lambda e: data.images(np.zeros((0, 8, 8, 1), np.uint8)),
     ValueError, r"`source`.*no images.*shape \(0, 8, 8, 1\)"),
    ("images_empty_folder", lambda e: data.images(str(e.empty)),
     ValueError, r"`source`.*folder '.*empty' holds no image files"),
    ("images_fewer_than_batch", lambda e: data.images(np.zeros((3, 8, 8, 1), np.uint8),
                                                      batch_size=4),
     ValueError, r"`batch_size`.*holds 3 images, fewer than batch_size=4"),
    ("fit_empty_dataset", lambda e: e.gan.fit(_empty_dataset(), verbose=0),
     ValueError, r"`x`: the dataset is empty \(cardinality 0"),
    ("train_empty_dataset", lambda e: training.train(e.gan, _empty_dataset(),
                                                     str(e.root / "run_empty"), epochs=1),
     ValueError, r"`data`: the dataset is empty"),
    # Files.
    ("folder_truncated_png", lambda e: data.images(str(e.truncated), batch_size=1),
     ValueError, r"`source`.*'.*broken\.png'.*cannot be decoded"),
    ("file_truncated_png", lambda e: data.load_image_file(e.broken_png),
     ValueError, r"`path`.*'.*broken\.png'"),
    ("folder_non_image_file", lambda e: data.images(str(e.non_image), batch_size=1),
     ValueError, r"`source`.*'.*notes\.png'.*cannot be decoded"),
    # The zoo.
    ("unknown_zoo_name", lambda e: keras_gans.load("tiny_dcgn"),
     ValueError, r"name='tiny_dcgn'.*Did you mean: tiny_dcgan"),
    ("unknown_version", lambda e: keras_gans.load("tiny_dcgan", version=7),
     ValueError, r"version=7.*Available versions: 1"),
    ("tampered_artifact", lambda e: keras_gans.load("tampered"),
     registry.IntegrityError, (r"name='tampered'.*sha256 of .* is [0-9a-f]{64}, but the "
                              r"manifest says [0-9a-f]{64}")),
    ("keras_file_of_another_class", lambda e: registry.load_file(e.sequential, DCGAN),
     TypeError, r"`path`.*holding a DCGAN, received one holding a Sequential"),
    ("checkpoint_of_another_class", lambda e: training.resume_or_create(
        e.other_class_run, lambda: None, expected_class=DCGAN),
     TypeError, r"`path`.*holding a DCGAN, received one holding a Sequential"),
    ("keras_file_not_a_zip", lambda e: registry.load_file(e.not_a_zip),
     ValueError, r"`path`.*'.*notes\.keras' is not a \.keras archive"),
    ("legacy_h5_file", lambda e: registry.load_file(e.h5),
     ValueError, r"`path`.*\.keras.*path='.*model\.h5'"),
    # Generating.
    ("latent_dim_mismatch", lambda e: keras_gans.load("tiny_dcgan").generate(
        z=np.zeros((2, 5))),
     ValueError, r"`z`.*latent_dim=4.*received shape \(2, 5\)"),
    ("n_zero", lambda e: e.gan.generate(0), ValueError, r"`n`.*received: n=0"),
    ("n_not_integer", lambda e: e.gan.generate(2.5), ValueError, r"`n`.*received: n=2\.5"),
    ("z_not_numbers", lambda e: e.gan.generate(z="abc"),
     TypeError, r"`z`.*received: str 'abc'"),
    ("labels_out_of_range", lambda e: e.cgan.generate(2, labels=[0, 3]),
     ValueError, r"`labels`.*\[0, 2\] \(num_classes=3\), received values in \[0, 3\]"),
    ("fit_labels_out_of_range", lambda e: e.cgan.fit(e.x, np.full((8,), 5), verbose=0),
     ValueError, r"`y`.*\[0, 2\] \(num_classes=3\), received values in \[5, 5\]"),
    ("labels_for_unconditional", lambda e: e.gan.generate(2, labels=[0, 1]),
     ValueError, r"`labels`.*unconditional.*labels=\[0, 1\]"),
    # Translate and upscale.
    ("translate_too_small", lambda e: e.cyclegan.translate(np.zeros((1, 2, 2, 3), np.uint8)),
     ValueError, r"`images`.*at least 4 pixels.*shape \(1, 2, 2, 3\)"),
    ("translate_wrong_channels", lambda e: e.cyclegan.translate(np.zeros((1, 8, 8, 1))),
     ValueError, r"`images`.*3 channel.*shape \(1, 8, 8, 1\)"),
    ("translate_sides_network_cannot_take", lambda e: e.fixed_cyclegan.translate(
        np.zeros((1, 12, 12, 3), np.uint8)),
     ValueError, (r"only accepts images of 8x8 pixels; received images of shape "
                  r"\(1, 12, 12, 3\)")),
    ("upscale_empty_image", lambda e: e.srgan.upscale(np.zeros((0, 5, 3), np.uint8)),
     ValueError, r"`images`.*received an array of shape \(0, 5, 3\)"),
    ("upscale_exhausting_memory", lambda e: e.srgan.upscale(np.broadcast_to(
        np.zeros((1, 1, 1, 3), np.uint8), (1, 100000, 100000, 3))),
     MemoryError, r"shape \(1, 100000, 100000, 3\) by scale=2 needs about [\d.]+ GiB"),
    ("upscale_over_max_output_pixels", lambda e: e.srgan.upscale(
        np.zeros((4, 4, 3), np.uint8), max_output_pixels=10),
     ValueError, r"shape \(1, 4, 4, 3\).*64 output pixels.*max_output_pixels=10"),
    # Non-finite values, memory.
    ("z_nan", lambda e: e.gan.generate(z=np.full((2, 4), np.nan)),
     ValueError, r"`z`.*finite noise, received 8 NaN or infinite values"),
    ("translate_nan", lambda e: e.cyclegan.translate(np.full((1, 8, 8, 3), np.nan)),
     ValueError, r"`images`.*finite.*received 192 NaN or infinite values"),
    ("upscale_inf", lambda e: e.srgan.upscale(np.full((4, 4, 3), np.inf, "float32")),
     ValueError, r"`images`.*finite.*received 48 NaN or infinite values, e\.g\. inf"),
    ("generate_more_than_memory", lambda e: e.gan.generate(10**12),
     MemoryError, r"`n`: generating n=1,000,000,000,000 images of shape \(8, 8, 1\) needs"),
    # Labels.
    ("labels_negative", lambda e: data.images((e.x, np.array([0, 1, -2, 0] * 2)),
                                              batch_size=4, labels=True),
     ValueError, r"labels of `source`.*non-negative; received 2 negative labels: \[-2\]"),
    ("labels_beyond_num_classes", lambda e: data.images(
        (e.x, np.arange(8)), batch_size=4, labels=True, num_classes=3),
     ValueError, r"`num_classes`.*\[0, 2\].*received 5 labels >= 3: \[3, 4, 5, 6, 7\]"),
    ("class_folders_beyond_num_classes", lambda e: data.images(
        str(e.classes), batch_size=1, labels=True, num_classes=2),
     ValueError, r"`num_classes`.*3 class subfolders \(a, b, c\), more than num_classes=2"),
    ("dataset_labels_beyond_num_classes", lambda e: e.cgan.fit(
        tf.data.Dataset.from_tensor_slices((e.x, np.arange(8) % 5)).batch(4), verbose=0),
     ValueError, r"`x`.*labels must be class ids in \[0, 2\] \(num_classes=3\).*0 1 2 3"),
    # Special files.
    ("image_file_is_a_fifo", lambda e: data.load_image_file(e.fifo),
     ValueError, r"`path`: '.*pipe\.png' is not a regular file"),
    # Writing.
    ("export_existing_version", lambda e: export(e.gan, str(e.exports), version=1),
     FileExistsError, r"'.*exports/1' already exists.*`version`"),
    ("export_unwritable_directory", lambda e: export(e.gan, e.unwritable),
     PermissionError, r"`base_dir`=.*permission denied"),
    ("train_unwritable_run_dir", lambda e: training.train(
        e.gan, data.images(e.x, batch_size=4), os.path.join(e.unwritable, "run"), epochs=1),
     PermissionError, r"`run_dir`: cannot write there.*run_dir='.*run'"),
    ("save_grid_unwritable", lambda e: utils.save_grid(
        e.x, os.path.join(e.unwritable, "grid.png")),
     PermissionError, r"`path`: cannot write '.*grid\.png'"),
    ("save_grid_unknown_format", lambda e: utils.save_grid(e.x, str(e.root / "grid.xyz")),
     ValueError, r"`path`.*received: path='.*grid\.xyz'"),
    # Training runs.
    ("train_epochs_zero", lambda e: training.train(
        e.gan, data.images(e.x, batch_size=4), str(e.root / "run0"), epochs=0),
     ValueError, r"`epochs`.*received: epochs=0"),
    ("train_not_a_dataset", lambda e: training.train(e.gan, e.x, str(e.root / "run1"), 1),
     TypeError, r"`data`.*tf\.data\.Dataset.*received: ndarray"),
    ("train_uncompiled_model", lambda e: training.train(
        DCGAN.from_shape((8, 8, 1), latent_dim=4, base_filters=4),
        data.images(e.x, batch_size=4), str(e.root / "run2"), 1),
     ValueError, r"`model`.*DCGAN.*not compiled"),
    ("dcgan_image_shape_beyond_memory", lambda e: DCGAN.from_shape(
        (10**7, 10**7, 3), latent_dim=8, base_filters=4),
     MemoryError, (r"`image_shape`: the generator's weights for image_shape=\(10000000, "
                   r"10000000, 3\) need .* GiB")),
    ("critic_image_shape_beyond_memory", lambda e: dcgan.build_discriminator(
        (10**7, 10**7, 3), base_filters=4, normalization="layer"),
     MemoryError, r"`image_shape`: the discriminator's weights .* need .* GiB"),
    ("spectral_norm_string", lambda e: DCGAN.from_shape(
        (8, 8, 1), latent_dim=4, base_filters=4, spectral_norm="yes"),
     TypeError, r"`spectral_norm`.*received: spectral_norm='yes'"),
    ("one_sided_string", lambda e: WGANGP.from_shape(
        (8, 8, 1), latent_dim=4, base_filters=4, one_sided="no"),
     TypeError, r"`one_sided`.*received: one_sided='no'"),
    ("lsgan_nan_target", lambda e: LSGAN.from_shape(
        (8, 8, 1), latent_dim=4, base_filters=4, a=float("nan")),
     ValueError, r"`a`\. Expected a finite number.*received: a=nan"),
    ("generate_negative_seed", lambda e: e.gan.generate(2, seed=-1),
     ValueError, r"`seed`\. Expected a non-negative integer or None, received: seed=-1"),
    ("generate_float_seed", lambda e: e.gan.generate(2, seed=1.5),
     TypeError, r"`seed`.*received: seed=1\.5"),
    ("sample_grid_string_seed", lambda e: callbacks.SampleGrid(str(e.root / "g"), seed="a"),
     TypeError, r"`seed`.*received: seed='a'"),
    ("compile_steps_per_execution_zero", lambda e: DCGAN.from_shape(
        (8, 8, 1), latent_dim=4, base_filters=4).compile(steps_per_execution=0),
     ValueError, r"`steps_per_execution`.*received: steps_per_execution=0"),
    ("compile_steps_per_execution_float", lambda e: DCGAN.from_shape(
        (8, 8, 1), latent_dim=4, base_filters=4).compile(steps_per_execution=2.0),
     ValueError, r"`steps_per_execution`.*received: steps_per_execution=2\.0"),
    ("train_steps_per_execution_bool", lambda e: training.train(
        e.gan, data.images(e.x, batch_size=4), str(e.root / "run3"), 1,
        steps_per_execution=True),
     ValueError, r"`steps_per_execution`.*received: steps_per_execution=True"),
    ("checkpoint_save_freq_zero", lambda e: callbacks.Checkpoint("c.keras", save_freq=0),
     ValueError, r"`save_freq`.*received: save_freq=0"),
    ("checkpoint_not_keras", lambda e: callbacks.Checkpoint("c.h5"),
     ValueError, r"`path`.*\.keras.*received: path='c\.h5'"),
    # Two domains, one number of channels.
    ("unpaired_gray_and_rgb", lambda e: data.unpaired(str(e.clean), str(e.rgb)),
     ValueError, (r"`channels`: the images of `a` \('.*clean'\) have 1 channel\(s\) but those "
                  r"of `b` \('.*rgb'\) have 3.*Pass channels=1 or channels=3.*channels=None")),
    # Masks.
    ("inpainting_masks_beyond_memory", lambda e: data.inpainting_masks(10**9, 64, 64),
     MemoryError, r"`n`: drawing n=1,000,000,000 masks of 64x64 pixels needs about .* GiB"),
    ("inpainting_masks_negative_seed", lambda e: data.inpainting_masks(2, 8, 8, seed=-1),
     ValueError, r"`seed`\. Expected a non-negative integer, received: seed=-1"),
    ("inpainting_pairs_negative_seed", lambda e: data.inpainting_pairs(e.x, batch_size=4,
                                                                     seed=-1),
     ValueError, r"`seed`\. Expected None or a non-negative integer, received: seed=-1"),
]


@pytest.mark.parametrize("call, error, match", [pytest.param(*c[1:], id=c[0])
                                                 for c in API_CASES])
def test_api_bad_input(env, call, error, match):
    with pytest.raises(error, match=match):
        call(env)


# (id, argv(env), regex of the one stderr line); every case must exit with status 2.
CLI_CASES = [
    ("unknown_zoo_name", lambda e: ["sample", "tiny_dcgn"],
     r"Unknown zoo model name='tiny_dcgn'.*Did you mean: tiny_dcgan"),
    ("unknown_info_name", lambda e: ["info", "nothing_here"],
     r"Unknown zoo model name='nothing_here'"),
    ("negative_seed", lambda e: ["sample", "tiny_dcgan", "--seed", "-1"],
     r"--seed: expected a non-negative integer, received: '-1'"),
    ("n_zero", lambda e: ["sample", "tiny_dcgan", "-n", "0"],
     r"-n/--num: expected a positive integer, received: '0'"),
    ("tampered_artifact", lambda e: ["sample", "tampered", "-o", str(e.root / "t.png")],
     r"name='tampered'.*sha256 of .* is [0-9a-f]{64}"),
    ("keras_file_of_another_class", lambda e: ["sample", str(e.sequential)],
     r"needs a model with `generate`; MODEL_OR_PATH='.*sequential\.keras' is a Sequential"),
    ("keras_file_not_a_zip", lambda e: ["sample", str(e.not_a_zip)],
     r"MODEL_OR_PATH: '.*notes\.keras' is not a \.keras archive"),
    ("labels_out_of_range", lambda e: ["sample", str(e.cgan_file), "-n", "2", "--labels", "7",
                                       "-o", str(e.root / "l.png")],
     r"--labels.*\[0, 2\] \(num_classes=3\), received values in \[7, 7\]"),
    ("unwritable_output", lambda e: ["sample", "tiny_dcgan", "-n", "2", "-o",
                                     os.path.join(e.unwritable, "grid.png")],
     r"-o/--output: cannot write '.*grid\.png'"),
    ("export_existing_version", lambda e: ["export", "tiny_dcgan", str(e.exports),
                                           "--version", "1"],
     r"'.*exports/1' already exists"),
    ("export_unwritable_directory", lambda e: ["export", "tiny_dcgan", e.unwritable],
     r"BASE_DIR=.*permission denied"),
    ("train_empty_folder", lambda e: ["train", "dcgan", str(e.empty), "--out",
                                      str(e.root / "cli_run_empty")],
     r"DATA: the folder .* holds no image files"),
    ("train_truncated_png", lambda e: ["train", "dcgan", str(e.truncated), "--out",
                                       str(e.root / "cli_run_broken"), "--batch-size", "1"],
     r"'.*broken\.png'.*cannot be decoded"),
    ("train_non_image_file", lambda e: ["train", "dcgan", str(e.non_image), "--out",
                                        str(e.root / "cli_run_notes"), "--batch-size", "1"],
     r"'.*notes\.png'.*cannot be decoded"),
    ("train_image_size_not_multiple_of_4", lambda e: [
        "train", "dcgan", str(e.clean), "--out", str(e.root / "cli_run_size"),
        "--image-size", "30", "--batch-size", "1"],
     r"--image-size.*multiples of 4.*\(30, 30, 1\)"),
    ("translate_input_too_small", lambda e: ["translate", str(e.cyclegan_file),
                                             str(e.tiny_images), str(e.root / "t_out")],
     r"INPUT_DIR.*at least 4 pixels.*\(2, 2, 3\)"),
    ("translate_with_a_generator", lambda e: ["translate", "tiny_dcgan", str(e.tiny_images),
                                              str(e.root / "t_out2")],
     r"needs a model with `translate`; MODEL_OR_PATH='tiny_dcgan' is a DCGAN"),
    ("upscale_exhausting_memory", lambda e: ["upscale", str(e.srgan_file), str(e.small_png),
                                             str(e.root / "big.png")],
     r"shape \(1, 4, 4, 3\) by scale=2 needs about [\d.]+ GiB"),
    # Nothing a user has is lost.
    ("upscale_output_is_the_input", lambda e: ["upscale", str(e.srgan_file), str(e.small_png),
                                               str(e.small_png)],
     r"OUTPUT: the output '.*small\.png' is the input '.*small\.png'; inputs are never"),
    ("sample_existing_output", lambda e: ["sample", "tiny_dcgan", "-n", "2", "-o",
                                          str(e.small_png)],
     r"-o/--output: '.*small\.png' already exists; pass --overwrite"),
    ("translate_into_its_input", lambda e: ["translate", str(e.cyclegan_file), str(e.clean),
                                            str(e.clean / "out")],
     r"OUTPUT_DIR: the output folder '.*clean/out' is inside the input folder"),
    ("train_out_inside_data", lambda e: ["train", "dcgan", str(e.clean), "--out",
                                         str(e.clean / "run")],
     r"--out '.*clean/run' is inside DATA '.*clean': the run's checkpoints"),
    ("train_num_classes_below_class_folders", lambda e: [
        "train", "dcgan", str(e.classes), "--out", str(e.root / "cli_run_classes"),
        "--num-classes", "2", "--batch-size", "1"],
     r"--num-classes: DATA has 3 class subfolders \(a, b, c\), more than --num-classes 2"),
    ("train_unreadable_file_hint", lambda e: ["train", "dcgan", str(e.non_image), "--out",
                                              str(e.root / "cli_run_hint"), "--batch-size", "1"],
     r"notes\.png'.*cannot be decoded.*pass --on-error skip to leave them out"),
    # The command's names (flags, positionals), never the library's; one line, no warning.
    ("train_unreadable_file_beside_other_files", lambda e: [
        "train", "dcgan", str(e.junk), "--out", str(e.root / "cli_run_junk")],
     r"DATA: the file '.*junk/a\.png'.*cannot be decoded.*pass --on-error skip"),
    ("train_fewer_images_than_batch_size", lambda e: [
        "train", "dcgan", str(e.clean), "--out", str(e.root / "cli_run_batch"),
        "--batch-size", "5"],
     (r"--batch-size: DATA holds 3 images, fewer than --batch-size 5, so the dataset would "
      r"be empty\. Pass a smaller --batch-size$")),
    ("train_labels_of_a_flat_folder", lambda e: [
        "train", "dcgan", str(e.clean), "--out", str(e.root / "cli_run_labels"),
        "--num-classes", "2"],
     r"Received --num-classes or --conditional, but '.*clean' holds 3 image files outside"),
    ("evaluate_unreadable_data_hint", lambda e: ["evaluate", str(e.srgan_file), "--data",
                                                 str(e.junk), "--hr-size", "16"],
     r"--data: the file '.*junk/a\.png'.*cannot be decoded.*pass --on-error skip to leave"),
    ("evaluate_crops_too_small_for_ssim", lambda e: ["evaluate", str(e.srgan_file), "--data",
                                                     str(e.rgb)],
     (r"too small for ssim: the model's hr_size 8 \(--hr-size\) .* 4x4 pixels, smaller "
      r"than ssim's 11x11 window\. Pass --hr-size 16 or more")),
    ("evaluate_inception_weights_not_weights", lambda e: [
        "evaluate", "tiny_dcgan", "--data", str(e.clean), "--inception-weights",
        str(e.small_png)],
     r"--inception-weights '.*small\.png' is not a Keras weights file"),
    ("evaluate_inception_weights_missing", lambda e: [
        "evaluate", "tiny_dcgan", "--data", str(e.clean), "--inception-weights",
        str(e.root / "nothere.h5")],
     r"--inception-weights '.*nothere\.h5': no such file"),
    ("provenance_decompression_bomb", lambda e: ["provenance", str(e.huge_png)],
     r"FILE='.*huge\.png' is not read: Image size \(10000000000 pixels\) exceeds limit"),
    ("upscale_unreadable_input", lambda e: ["upscale", str(e.srgan_file), str(e.junk),
                                            str(e.root / "up_junk")],
     r"invalid value for INPUT: could not read the image file '.*junk/a\.png'"),
    ("translate_unreadable_input", lambda e: ["translate", str(e.cyclegan_file), str(e.junk),
                                              str(e.root / "t_junk")],
     r"invalid value for INPUT_DIR: could not read the image file '.*junk/a\.png'"),
    ("translate_decompression_bomb", lambda e: ["translate", str(e.cyclegan_file),
                                                str(e.bombs), str(e.root / "t_bomb")],
     r"invalid value for INPUT_DIR: could not read .*huge\.png' \(DecompressionBombError"),
    ("inpaint_unreadable_input", lambda e: ["inpaint", str(e.inpainter_file),
                                            str(e.junk / "a.png"), str(e.rgb / "0.png"),
                                            str(e.root / "i_junk.png")],
     r"invalid value for INPUT: could not read the image file '.*junk/a\.png'"),
    ("inpaint_unreadable_mask", lambda e: ["inpaint", str(e.inpainter_file),
                                           str(e.rgb / "0.png"), str(e.junk / "a.png"),
                                           str(e.root / "i_mask.png")],
     r"invalid value for MASK: could not read the image file '.*junk/a\.png'"),
    ("inpaint_decompression_bomb_mask", lambda e: ["inpaint", str(e.inpainter_file),
                                                   str(e.rgb / "0.png"), str(e.huge_png),
                                                   str(e.root / "i_bomb.png")],
     r"invalid value for MASK: could not read .*huge\.png' \(DecompressionBombError"),
    ("sample_output_without_image_suffix", lambda e: ["sample", "tiny_dcgan", "-o",
                                                      str(e.root / "grid.txt")],
     r"^keras-gans sample: error: -o/--output '.*grid\.txt' must end in one of \.png"),
    ("sample_grid_is_a_separate_file", lambda e: [
        "sample", "tiny_dcgan", "-n", "2", "-o", str(e.root / "sep" / "0000.png"),
        "--separate", str(e.root / "sep")],
     r"-o/--output '.*sep/0000\.png' is also one of the --separate files"),
]


def _cli(argv):
    from keras_gans import cli

    try:
        return cli.main(argv)
    except SystemExit as exit_:  # argparse errors
        return exit_.code


@pytest.mark.parametrize("argv, match", [pytest.param(*c[1:], id=c[0]) for c in CLI_CASES])
def test_cli_bad_input(env, argv, match, capsys, monkeypatch):
    if "upscale" in argv(env):
        # A machine with 1000 bytes free: the request must be refused before any
        # allocation, and reported as a user error.
        _upscale_with_little_memory(env, monkeypatch)
    status = _cli(argv(env))
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert status == 2, captured.err
    assert len(lines) == 1 and "Traceback" not in captured.err, captured.err
    assert lines[0].startswith("keras-gans "), lines[0]
    assert re.search(match, lines[0]), lines[0]


@pytest.mark.parametrize("argv, match", [
    (["info", "nothing_here"], "Unknown zoo model name='nothing_here'"),
    (["sample", "tiny_dcgan", "-n", "-3"], "expected a positive integer, received: '-3'"),
])
def test_cli_process_exits_2_with_one_line(env, argv, match):
    result = subprocess.run([sys.executable, "-m", "keras_gans", *argv], capture_output=True,
                            text=True, cwd=ROOT, timeout=120, check=False,
                            env=dict(os.environ, KERAS_GANS_HOME=str(env.home),
                                     PYTHONPATH=ROOT))
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and match in lines[0], result.stderr


def test_cli_data_errors_are_one_line_without_warnings_in_a_process(env):
    # The library's warning about a file that is no image (`notes.txt`) would print two
    # more lines (the warning and its source line) before the error: held back, dropped.
    result = subprocess.run(
        [sys.executable, "-m", "keras_gans", "train", "dcgan", str(env.junk), "--out",
         str(env.root / "process_run_junk")], capture_output=True, text=True, cwd=ROOT,
        timeout=300, check=False, env=dict(os.environ, PYTHONPATH=ROOT))
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("keras-gans train: error: "), result.stderr
    assert "junk/a.png" in lines[0] and "--on-error skip" in lines[0], result.stderr
    assert not (env.root / "process_run_junk").exists()


def test_uint8_training_images_are_scaled_not_taken_as_floats():
    # No silent wrong result: uint8 pixels train exactly like the same images in [-1, 1].
    x = np.random.default_rng(0).integers(0, 256, (8, 8, 8, 1), dtype=np.uint8)

    def weights_after_fit(images):
        keras.utils.set_random_seed(1)
        gan = DCGAN.from_shape((8, 8, 1), latent_dim=4, base_filters=4, seed=0)
        gan.compile(run_eagerly=True)  # one step: cheaper than building the graph
        gan.fit(images, batch_size=8, epochs=1, shuffle=False, verbose=0)
        return gan.get_weights()

    for a, b in zip(weights_after_fit(x), weights_after_fit(x / 127.5 - 1.0)):
        np.testing.assert_allclose(a, b, atol=1e-6)


@pytest.mark.parametrize("files", [
    {"history.csv": "my notes\n"},
    {"model.keras": "my model"},
    {"samples/epoch_0001.png": "my picture"},
    {"run.json": "[1, 2]", "notes.txt": "kept"},  # a run.json that is not a run's
])
def test_training_never_replaces_a_users_files(env, files, tmp_path, capsys):
    # A folder holding files that a run writes, but no run: refused by the API and by
    # the CLI (naming --out), and nothing in it changes.
    folder = tmp_path / "mine"
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    before = sorted((p.relative_to(folder), p.read_bytes()) for p in folder.rglob("*")
                    if p.is_file())
    with pytest.raises(FileExistsError, match=r"`run_dir`: it holds .*no training run"):
        training.train(_fresh_gan(), data.images(env.x, batch_size=4), folder, epochs=1,
                       verbose=0)
    assert _cli(["train", "dcgan", str(env.clean), "--out", str(folder), "--epochs", "1",
                 "--batch-size", "2", "--base-filters", "4"]) == 2
    err = capsys.readouterr().err
    assert re.search(r"--out '.*mine' holds .*no keras-gans run", err), err
    after = sorted((p.relative_to(folder), p.read_bytes()) for p in folder.rglob("*")
                   if p.is_file())
    assert after == before


def test_cli_out_that_is_a_file_is_named(env, tmp_path, capsys):
    path = tmp_path / "afile"
    path.write_text("mine")
    assert _cli(["train", "dcgan", str(env.clean), "--out", str(path), "--epochs", "1"]) == 2
    err = capsys.readouterr().err
    assert re.search(r"--out '.*afile' is a file, not a directory", err), err
    assert path.read_text() == "mine"


def _fresh_gan():
    """A compiled model at step 0 (the shared one may have trained)."""
    gan = DCGAN.from_shape((8, 8, 1), latent_dim=4, base_filters=4, seed=0)
    gan.compile()
    return gan
