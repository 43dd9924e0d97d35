"""Issue 19, the newcomer's path: what a new user meets first (list, info, offline data,
log noise, progress, previews, presets, provenance, the README's examples).

Tests run in-process with `keras_gans.cli.main([...])` where they can: each subprocess
pays seconds of TensorFlow import.
"""

import json
import os
import re
import socket
import time
import zipfile

import numpy as np
import pytest

from keras_gans import cli, registry

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _manifest():
    with open(registry.package_dir() / registry.MANIFEST, encoding="utf-8") as f:
        return json.load(f)["models"]


# --- 1. list: each entry's declared headline metric ---


@pytest.mark.parametrize("name", sorted(_manifest()))
def test_every_entry_declares_a_headline_that_resolves(name):
    entry = _manifest()[name]
    declared = entry["headline"]
    metrics = entry["versions"][str(entry["latest"])]["metrics"]
    assert registry._metric_at(metrics, declared["metric"]) is not None, declared
    if "reference" in declared:
        assert registry._metric_at(metrics, declared["reference"]) is not None, declared
    assert registry.headline(name).startswith(declared["label"] + " ")


def test_headline_is_the_model_score_not_a_baseline_or_a_count():
    sr = registry.model_info("srgan_x4_wallpapers")
    mean = sr["versions"][str(sr["latest"])]["metrics"]["mean"]
    text = registry.headline("srgan_x4_wallpapers")
    assert text.startswith(f"Y-PSNR dB {mean['srgan']['psnr_y']:.4g} ")
    assert f"bicubic {mean['bicubic']['psnr_y']:.4g}" in text
    cyc = registry.model_info("cyclegan_sneaker_boot")
    judged = cyc["versions"][str(cyc["latest"])]["metrics"]["judged_target_a2b"]
    assert registry.headline("cyclegan_sneaker_boot").startswith(
        f"judged target A->B {judged:.4g}")


def test_headline_fallback_without_a_declaration():
    entry = {"latest": 1, "versions": {"1": {"metrics": {
        "n": 1000, "mean": {"bicubic": {"psnr_y": 30.0}, "model": {"psnr_y": 33.5}}}}}}
    assert registry.headline(entry) == "psnr_y 33.5"
    entry["versions"]["1"]["metrics"] = {"n": 5}
    assert registry.headline(entry) == ""
    # A declaration naming a missing metric falls back too.
    entry["headline"] = {"metric": "nope.value", "label": "X"}
    entry["versions"]["1"]["metrics"] = {"test_accuracy": 0.9}
    assert registry.headline(entry) == "test_accuracy 0.9"


def test_cli_list_shows_the_headlines(capsys):
    assert cli.main(["list", "s*"]) == 0
    out = capsys.readouterr().out
    assert registry.headline("srgan_x4_wallpapers") in out
    assert "psnr_y 38.43" not in out  # the bicubic baseline the old heuristic showed


# --- 3. TFDS offline: an error at once, pointing to local sources, no partial files ---


def _closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nobody listens once it is closed


@pytest.fixture
def offline_tfds(tmp_path, monkeypatch):
    """A fresh HOME and TFDS data dir, and TFDS's host unreachable."""
    from keras_gans import data

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path / "tfds"))
    monkeypatch.setattr(data.tfds, "TFDS_PROBE", ("127.0.0.1", _closed_port()))
    return tmp_path


def test_reachable_probe():
    from keras_gans import data

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        assert data.tfds._reachable("127.0.0.1", server.getsockname()[1], 2.0)
    start = time.time()
    assert not data.tfds._reachable("127.0.0.1", _closed_port(), 2.0)
    assert time.time() - start < 2.5


def test_evaluate_tfds_offline_fails_fast_and_leaves_nothing(offline_tfds, capsys):
    start = time.time()
    status = cli.main(["evaluate", "dcgan_mnist", "--data", "tfds:mnist:test", "-n", "10"])
    err = capsys.readouterr().err
    assert status == 2, err
    assert time.time() - start < 60  # the model is not even loaded
    assert err.count("\n") == 1 and "keras-gans evaluate: error:" in err
    assert "--data" in err and "is not prepared" in err and "local source" in err
    assert "unreachable" in err
    for folder in ("home", "tfds"):
        root = offline_tfds / folder
        assert not root.exists() or not any(root.rglob("*")), list(root.rglob("*"))


def test_tfds_prepared_locally_is_not_probed(offline_tfds, monkeypatch):
    import tensorflow_datasets as tfds

    from keras_gans import data

    builder_class = type(tfds.builder("mnist"))
    monkeypatch.setattr(builder_class, "is_prepared", lambda self: True)
    monkeypatch.setattr(data.tfds, "_reachable", lambda *a: pytest.fail("probed"))
    assert isinstance(data.check_tfds("tfds:mnist:test"), builder_class)
    with pytest.raises(ValueError, match="not a TFDS dataset"):
        data.check_tfds("tfds:no_such_dataset_xyz")


# --- 4. log noise: grappler's remapper off where it fails; say what is happening ---


def _tiny_images(n=16, side=8, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, side, side, 1)).astype("float32")


@pytest.mark.parametrize("variant, kwargs, off", [
    ("WGANGP", {}, True), ("DCGAN", {"r1_weight": 1.0}, True), ("DCGAN", {}, False),
    ("DCGAN", {"normalization": "none"}, True), ("DCGAN", {"spectral_norm": True}, True),
    ("DCGAN", {"augment": ("translation", "cutout")}, True),
    ("DCGAN", {"augment": ("color", "cutout")}, False)])
def test_remapper_off_only_while_fitting_where_it_fails(variant, kwargs, off, monkeypatch):
    import keras
    import tensorflow as tf

    import keras_gans
    from keras_gans.models import _graph_options

    # The rule where TensorFlow's oneDNN operations are on (the default on AVX-512
    # CPUs); where they are off the remapper does not fail (the next test).
    monkeypatch.setattr(_graph_options, "onednn_enabled", lambda: True)

    seen = []

    class Record(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(tf.config.optimizer.get_experimental_options().get("remapping", True))

    gan = getattr(keras_gans, variant).from_shape((8, 8, 1), latent_dim=4, base_filters=4,
                                                   **kwargs)
    gan.compile()
    assert gan.remapper_fails is off
    gan.fit(keras_gans.data.images(_tiny_images(), batch_size=8), epochs=1, verbose=0,
            callbacks=[Record()])
    assert seen == [not off] * 2
    assert tf.config.optimizer.get_experimental_options().get("remapping", True) is True


def test_remapper_kept_on_where_onednn_is_off(monkeypatch):
    import keras_gans
    from keras_gans.models import _graph_options

    monkeypatch.setattr(_graph_options, "onednn_enabled", lambda: False)
    gan = keras_gans.WGANGP.from_shape((8, 8, 1), latent_dim=4, base_filters=4)
    assert gan.remapper_fails is False
    sr = keras_gans.SRGAN(scale=2, num_blocks=1, filters=4, d_filters=4, dense_units=8,
                          channels=3, augment=("translation",))
    assert sr.remapper_fails is False
    monkeypatch.setattr(_graph_options, "onednn_enabled", lambda: True)
    assert gan.remapper_fails is True and sr.remapper_fails is True


_FIT_TWO_STEPS = """
import sys
import numpy as np
import keras_gans

x = np.random.default_rng(0).uniform(-1, 1, (16, 28, 28, 1)).astype("float32")
models = {"auto": [("DCGAN", {"augment": ("translation",)}),
                   ("DCGAN", {"normalization": "none"}), ("WGANGP", {})],
          "kept_on": [("WGANGP", {})]}
for remapping in sys.argv[1:]:
    # The phase's name on stderr: the remapper's error lines fall under it.
    print("phase", remapping, file=sys.stderr, flush=True)
    for variant, kwargs in models[remapping]:
        gan = getattr(keras_gans, variant).from_shape((28, 28, 1), latent_dim=8,
                                                      base_filters=8, **kwargs)
        gan.grappler_remapping = None if remapping == "auto" else True
        gan.compile()
        gan.fit(x, batch_size=8, epochs=1, verbose=0)
        print(variant, "trained", flush=True)
"""


@pytest.mark.parametrize("onednn", ["1", "0"])
def test_fit_prints_no_remapper_error_unless_kept_on(onednn):
    import subprocess
    import sys

    # oneDNN set explicitly: TensorFlow turns it on by default only on some CPUs
    # (AVX512_VNNI, AVX512_BF16, AMX), and only with it does the remapper fail.
    phases = ["auto", "kept_on"] if onednn == "1" else ["kept_on"]
    result = subprocess.run(
        [sys.executable, "-c", _FIT_TWO_STEPS, *phases], capture_output=True,
        text=True, timeout=300, check=False,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="0", TF_ENABLE_ONEDNN_OPTS=onednn,
                 PYTHONPATH=ROOT))
    assert result.returncode == 0, result.stderr
    expected = (["DCGAN", "trained"] * 2 + ["WGANGP", "trained"]) * (onednn == "1")
    assert result.stdout.split() == [*expected, "WGANGP", "trained"]
    failed, phase = {}, None
    for line in result.stderr.splitlines():
        if line.startswith("phase "):
            phase = line.split()[1]
        elif "remapper failed" in line:
            failed[phase] = failed.get(phase, 0) + 1
    # Kept on (the opt-out) with oneDNN, the remapper fails and TF logs it: the check
    # sees it. Without oneDNN it does not fail even kept on (nothing to turn off).
    assert failed == ({"kept_on": 1} if onednn == "1" else {}), result.stderr


def test_cli_train_wgan_gp_prints_no_remapper_error_and_says_what_it_does(tmp_path):
    import pty
    import subprocess
    import sys
    import threading

    from PIL import Image

    folder = tmp_path / "images"
    folder.mkdir()
    for i, image in enumerate(_tiny_images()):
        Image.fromarray(((image[..., 0] + 1) * 127.5).astype("uint8")).save(
            folder / f"{i:02d}.png")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="0", KERAS_GANS_HOME=str(tmp_path / "kg"),
               PYTHONPATH=ROOT)
    master, slave = pty.openpty()  # stderr is a terminal, as for a user
    chunks = []
    reader = threading.Thread(target=lambda: _drain(master, chunks), daemon=True)
    reader.start()
    result = subprocess.run(
        [sys.executable, "-m", "keras_gans", "train", "wgan_gp", str(folder), "--out",
         str(tmp_path / "run"), "--epochs", "1", "--batch-size", "8", "--base-filters", "4",
         "--latent-dim", "4", "--samples", "4", "--verbose", "0", "--n-critic", "2",
         "--split-real-batch"],
        env=env, stdout=subprocess.PIPE, stderr=slave, text=True, timeout=300, check=False)
    os.close(slave)
    reader.join(10)
    err = b"".join(chunks).decode(errors="replace")
    assert result.returncode == 0, (result.stdout, err)
    assert err.splitlines()[0].strip() == "keras-gans: loading TensorFlow..."
    assert "remapper" not in err and "E0000" not in err, err
    # The flag reached the model (its config in the saved .keras archive).
    with zipfile.ZipFile(tmp_path / "run" / "model.keras") as archive:
        config = json.loads(archive.read("config.json"))["config"]
    assert config["split_real_batch"] is True and config["n_critic"] == 2, config


def _drain(fd, chunks):
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            return
        if not chunk:
            return
        chunks.append(chunk)


# --- 7. packaging: `info` says where the recipes live ---


def test_info_points_to_the_checkout_or_says_recipes_are_not_installed(
        tmp_path, monkeypatch, capsys):
    assert cli.main(["info", "srgan_x4_wallpapers", "--json"]) == 0
    where = json.loads(capsys.readouterr().out)["repository_files"]
    assert set(where) == {"recipe", "samples_png", "quality_floor.heldout_images"}
    assert all(os.path.isfile(path) for path in where.values()), where
    # An installed package: the artifacts and the manifest, no zoo/ or tests/ beside it.
    installed = tmp_path / "site-packages" / "keras_gans" / "savedmodels"
    installed.mkdir(parents=True)
    (installed / registry.MANIFEST).write_bytes(
        (registry.package_dir() / registry.MANIFEST).read_bytes())
    monkeypatch.setattr(registry, "package_dir", lambda: installed)
    assert registry.repository_root() is None
    assert cli.main(["info", "srgan_x4_wallpapers"]) == 0
    out = capsys.readouterr().out
    assert ("recipe: zoo/srgan_x4_wallpapers.py in the keras_gans source repository: not "
            "installed with the package") in out
    assert "tests/data/srgan_x4_heldout.npz in the keras_gans source repository" in out


def test_readme_install_lines_name_no_index_package():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    installs = [line for line in readme.splitlines() if "pip install" in line]
    assert installs
    for line in installs:  # from a clone: `.` or `.[extra]`, never the bare project name
        assert "keras_gans[" not in line and "keras-gans[" not in line, line
        assert not re.search(r"pip install (-U )?keras[_-]gans\b", line), line


# --- 8. examples that mislead: (N, H, W) arrays in fit, the EMA copy's name ---


def test_fit_accepts_grayscale_arrays_without_a_channel_axis():
    import keras_gans

    gan = keras_gans.DCGAN.from_shape((8, 8, 1), latent_dim=4, base_filters=4)
    gan.compile()
    history = gan.fit(_tiny_images()[..., 0], batch_size=8, epochs=1, verbose=0)
    assert len(history.history["d_loss"]) == 1
    with pytest.raises(ValueError, match="image_shape"):  # a wrong size is still refused
        gan.fit(_tiny_images(side=12)[..., 0], batch_size=8, epochs=1, verbose=0)


def test_the_ema_generator_has_its_own_name_and_round_trips(tmp_path, capsys):
    import keras

    import keras_gans

    gan = keras_gans.DCGAN.from_shape((8, 8, 1), latent_dim=4, base_filters=4,
                                      ema_decay=0.5)
    gan.compile()
    gan.fit(_tiny_images(), batch_size=8, epochs=1, verbose=0)
    gan.summary()
    summary = capsys.readouterr().out
    assert len(re.findall(r"│ generator \(Functional\)", summary)) == 1, summary
    assert len(re.findall(r"│ ema_generator \(Functional\)", summary)) == 1, summary
    path = tmp_path / "gan.keras"
    gan.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.ema_generator.name == "ema_generator"
    np.testing.assert_array_equal(loaded.generate(4, seed=1), gan.generate(4, seed=1))
    assert not np.array_equal(loaded.generate(4, seed=1),  # the EMA weights, not G's
                              loaded.generator(loaded.sample_noise(4, 1)))


def test_zoo_files_written_before_the_rename_load_their_ema_weights():
    gan = registry.load("dcgan_mnist", compile=False)
    assert gan.ema_generator.name == "ema_generator"
    # The EMA and the raw generator differ: their weights were read, not re-initialised.
    z = gan.sample_noise(8, 0)
    assert np.abs(np.asarray(gan.ema_generator(z)) - np.asarray(gan.generator(z))).max() > 0.1


# --- 9. keras-hub presets: from_preset, presets; local dirs, URLs and hf:// handles ---


def test_presets_list_the_entries_of_exactly_that_class():
    import keras_gans

    for cls in (keras_gans.DCGAN, keras_gans.LSGAN, keras_gans.WGANGP, keras_gans.CycleGAN,
                keras_gans.SRGAN):
        expected = {n for n in registry.list_models()
                    if registry.model_info(n)["variant"] == cls.__name__}
        assert set(cls.presets) == expected
    assert "dcgan_mnist" in keras_gans.DCGAN.presets
    assert "lsgan_fashion_mnist" not in keras_gans.DCGAN.presets  # a subclass's entry


def test_from_preset_zoo_name_and_errors():
    import keras_gans

    gan = keras_gans.DCGAN.from_preset("dcgan_mnist")
    assert type(gan) is keras_gans.DCGAN and gan.optimizer is not None
    np.testing.assert_array_equal(gan.generate(2, seed=0),
                                  keras_gans.load("dcgan_mnist").generate(2, seed=0))
    with pytest.raises(ValueError, match="is a DCGAN preset, not a SRGAN one.*srgan_x4"):
        keras_gans.SRGAN.from_preset("dcgan_mnist")
    with pytest.raises(ValueError, match="Did you mean: dcgan_mnist"):
        keras_gans.DCGAN.from_preset("dcgan_mnst")


@pytest.fixture
def tiny_dcgan(tmp_path):
    import keras_gans

    gan = keras_gans.DCGAN.from_shape((8, 8, 1), latent_dim=4, base_filters=4, seed=3)
    gan.compile()
    gan.fit(_tiny_images(), batch_size=8, epochs=1, verbose=0)
    return gan


def test_from_preset_local_directories(tmp_path, tiny_dcgan):
    import keras_gans

    run = tmp_path / "run"
    run.mkdir()
    tiny_dcgan.save(run / "model.keras")
    exported = keras_gans.export(tiny_dcgan, str(tmp_path / "served"))
    for preset in (run, exported, str(run / "model.keras")):
        loaded = keras_gans.DCGAN.from_preset(preset)
        np.testing.assert_array_equal(loaded.generate(3, seed=0),
                                      tiny_dcgan.generate(3, seed=0))
    with pytest.raises(TypeError, match="holding a LSGAN, received one holding a DCGAN"):
        keras_gans.LSGAN.from_preset(run)
    with pytest.raises(FileNotFoundError, match="holds none of"):
        keras_gans.DCGAN.from_preset(tmp_path / "served" / "..")


@pytest.fixture
def mirror_server(tmp_path):
    """An HTTP server on 127.0.0.1 serving `tmp_path / "www"`; yields (root, base URL)."""
    import functools
    import http.server
    import threading

    www = tmp_path / "www"
    www.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(www))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield www, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_from_preset_url_and_hf_handles(tmp_path, monkeypatch, mirror_server, tiny_dcgan):
    import shutil

    import keras_gans

    www, base = mirror_server
    monkeypatch.setenv("KERAS_GANS_HOME", str(tmp_path / "home"))
    # A zoo entry the package ships: its verified copy, with no download (the mirror's
    # file could only be accepted if it had the same sha256).
    entry = registry.model_info("dcgan_mnist")
    version = entry["latest"]
    target = www / "zoo" / "dcgan_mnist" / str(version) / registry.KERAS_FILE
    target.parent.mkdir(parents=True)
    shutil.copy(registry.resolve_file("dcgan_mnist", registry.KERAS_FILE), target)
    gan = keras_gans.DCGAN.from_preset(f"{base}/zoo/dcgan_mnist")
    assert not (tmp_path / "home" / "dcgan_mnist").exists()
    np.testing.assert_array_equal(gan.generate(2, seed=0),
                                  keras_gans.load("dcgan_mnist").generate(2, seed=0))
    # An entry only the mirror knows, under hf:// with $HF_ENDPOINT pointing at the server.
    repo = www / "owner" / "repo" / "resolve" / "main"
    model = repo / "tiny" / "1" / registry.KERAS_FILE
    model.parent.mkdir(parents=True)
    tiny_dcgan.save(model)
    (repo / registry.MANIFEST).write_text(json.dumps({"models": {"tiny": {
        "variant": "DCGAN", "latest": 1,
        "versions": {"1": {"files": {registry.KERAS_FILE: registry.sha256(model)}}}}}}))
    monkeypatch.setenv("HF_ENDPOINT", base)
    loaded = keras_gans.DCGAN.from_preset("hf://owner/repo/tiny")
    np.testing.assert_array_equal(loaded.generate(3, seed=1), tiny_dcgan.generate(3, seed=1))
    # A file that does not match the mirror's sha256 is refused.
    (repo / registry.MANIFEST).write_text(json.dumps({"models": {"tiny2": {
        "latest": 1, "versions": {"1": {"files": {registry.KERAS_FILE: "0" * 64}}}}}}))
    shutil.copytree(repo / "tiny", repo / "tiny2")
    with pytest.raises(OSError, match="Could not fetch"):
        keras_gans.DCGAN.from_preset("hf://owner/repo/tiny2")
    assert not (tmp_path / "home" / "tiny2" / "1" / registry.KERAS_FILE).exists()
    with pytest.raises(ValueError, match="hf://OWNER/REPO/NAME"):
        keras_gans.DCGAN.from_preset("hf://owner/tiny")


# --- 10. provenance: every PNG the CLI writes says what made it ---


@pytest.fixture(scope="module")
def image_models(tmp_path_factory):
    """Tiny CycleGAN, SRGAN and Inpainter .keras files, and a folder of 8x8 images."""
    import keras
    from PIL import Image

    from keras_gans import SRGAN, CycleGAN
    from keras_gans.models.inpainter import Inpainter

    folder = tmp_path_factory.mktemp("image_models")
    keras.utils.set_random_seed(0)
    cyclegan = CycleGAN.from_shape((8, 8, 1), filters=4, num_residual_blocks=1, d_filters=4,
                                   pool_size=2, seed=0)
    cyclegan.compile()
    cyclegan.save(folder / "cyclegan.keras")
    srgan = SRGAN(scale=2, num_blocks=1, filters=4, d_filters=4, dense_units=8, channels=1,
                  hr_size=8, content_loss="mse")
    srgan.compile()
    srgan.save(folder / "srgan.keras")
    inpainter = Inpainter.from_shape((8, 8, 1), filters=4, depth=2, d_filters=4, d_layers=1)
    inpainter.compile()
    inpainter.save(folder / "inpainter.keras")
    (folder / "in").mkdir()
    for i, image in enumerate(_tiny_images(n=3)):
        Image.fromarray(((image[..., 0] + 1) * 127.5).astype("uint8")).save(
            folder / "in" / f"{i}.png")
    mask = np.zeros((8, 8), np.uint8)
    mask[2:5, 3:6] = 255
    Image.fromarray(mask).save(folder / "mask.png")
    return folder


def test_every_png_the_cli_writes_carries_its_provenance(tmp_path, image_models, capsys):
    from keras_gans import utils

    out = tmp_path
    assert cli.main(["sample", "dcgan_mnist", "-n", "3", "-o", str(out / "grid.png"),
                     "--separate", str(out / "each")]) == 0
    entry = registry.model_info("dcgan_mnist")
    grid = utils.read_provenance(out / "grid.png")
    assert grid["model"] == "dcgan_mnist" and grid["version"] == str(entry["latest"])
    assert grid["sha256"] == entry["versions"][str(entry["latest"])]["files"][
        registry.KERAS_FILE]
    seed = int(grid["seed"])  # drawn at random and recorded: the grid can be redrawn
    assert cli.main(["sample", "dcgan_mnist", "-n", "3", "-o", str(out / "again.png"),
                     "--seed", str(seed)]) == 0
    from PIL import Image

    assert np.array_equal(np.asarray(Image.open(out / "again.png")),
                          np.asarray(Image.open(out / "grid.png")))
    assert utils.read_provenance(out / "each" / "0002.png")["index"] == "2"
    sha = {name: registry.sha256(image_models / f"{name}.keras")
           for name in ("cyclegan", "srgan", "inpainter")}
    commands = {
        "cyclegan": ["translate", image_models / "cyclegan.keras", image_models / "in",
                     out / "translated"],
        "srgan": ["upscale", image_models / "srgan.keras", image_models / "in",
                  out / "upscaled"],
        "inpainter": ["inpaint", image_models / "inpainter.keras", image_models / "in",
                      image_models / "mask.png", out / "inpainted"]}
    for name, command in commands.items():
        assert cli.main(list(map(str, command))) == 0, capsys.readouterr().err
        found = utils.read_provenance(command[-1] / "1.png")
        assert found["model"] == str(image_models / f"{name}.keras")
        assert found["sha256"] == sha[name] and found["input"] == "1.png"
        assert found["command"] == command[0] or found["command"].startswith(command[0])
    capsys.readouterr()
    assert cli.main(["provenance", str(out / "grid.png"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == grid
    assert cli.main(["provenance", str(image_models / "in" / "0.png")]) == 2
    assert "carries no keras_gans provenance" in capsys.readouterr().err


# --- 6. every variant's training writes samples/ PNGs ---


def test_training_writes_previews_for_image_to_image_models(tmp_path, image_models):
    import keras
    from PIL import Image

    import keras_gans
    from keras_gans import training

    images = _tiny_images(n=8, side=8)
    pairs = keras_gans.data.sr_pairs(images, scale=2, hr_size=8, batch_size=4, seed=0)
    unpaired = keras_gans.data.unpaired(images, images[::-1], batch_size=4, seed=0)
    for name, data in (("srgan", pairs), ("cyclegan", unpaired)):
        model = keras.models.load_model(image_models / f"{name}.keras")
        run = tmp_path / name
        training.train(model, data, str(run), epochs=1, verbose=0, tensorboard=False)
        written = sorted(os.listdir(run / "samples"))
        assert written and all(f.endswith("epoch_0001.png") for f in written), written
        grid = np.asarray(Image.open(run / "samples" / written[0]))
        assert grid.shape[0] > 8 * 4  # rows of input | output pairs, not one image


# --- 2. SRGAN's two phases from the CLI ---


def test_cli_srgan_second_phase_starts_from_the_first(tmp_path, image_models, monkeypatch,
                                                      capsys):
    import keras

    from keras_gans import registry as reg

    common = ["train", "srgan", str(image_models / "in"), "--batch-size", "3", "--epochs",
              "1", "--verbose", "0", "--samples", "2", "--seed", "0"]
    first = tmp_path / "pretrain"
    assert cli.main([*common, "--out", str(first), "--scale", "2", "--hr-size", "8",
                     "--residual-blocks", "1", "--base-filters", "4"]) == 0
    # The same RUN_DIR with another phase is refused, pointing to --init.
    assert cli.main([*common, "--out", str(first), "--scale", "2", "--hr-size", "8",
                     "--residual-blocks", "1", "--base-filters", "4", "--phase",
                     "adversarial", "--content-loss", "mse"]) == 2
    assert f"--init {first}" in capsys.readouterr().err
    second = tmp_path / "adversarial"
    assert cli.main([*common, "--out", str(second), "--phase", "adversarial", "--init",
                     str(first), "--content-loss", "mse"]) == 0
    before = reg.load_file(str(first / "model.keras"))
    after = reg.load_file(str(second / "model.keras"))
    assert type(before).__name__ == "SRResNet" and type(after).__name__ == "SRGAN"
    assert after.scale == 2 and after.hr_size == 8  # taken from --init
    fresh = type(before)(scale=2, num_blocks=1, filters=4, channels=1, hr_size=8)
    drift = max(float(np.abs(a - b).max()) for a, b in
                zip(after.generator.get_weights(), before.generator.get_weights()))
    distance = max(float(np.abs(a - b).max()) for a, b in
                   zip(fresh.generator.get_weights(), before.generator.get_weights()))
    assert drift < distance / 4, (drift, distance)
    assert cli.main([*common, "--out", str(tmp_path / "x"), "--init", str(first),
                     "--scale", "4"]) == 2
    assert "--scale 4 differs from the --init model's 2" in capsys.readouterr().err

    # Offline, the vgg19 content loss is a one-line error naming the CLI's flags.
    def offline(*args, **kwargs):
        raise OSError("URL fetch failure on https://storage.googleapis.com/...: "
                        "[Errno -2] Name or service not known")

    monkeypatch.setattr(keras.applications, "VGG19", offline)
    capsys.readouterr()
    assert cli.main([*common, "--out", str(tmp_path / "vgg"), "--phase", "adversarial",
                     "--init", str(first)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "keras-gans train: error:" in err, err
    assert "--content-loss mse" in err and "--vgg-weights FILE" in err
    assert "vgg_weights=" not in err and "content_loss=" not in err


# --- 5. long single commands show progress on an interactive stderr ---


class _Terminal:
    """A stderr that says it is a terminal, keeping what is written."""

    def __init__(self):
        self.text = ""

    def write(self, text):
        self.text += text
        return len(text)

    def flush(self):
        pass

    def isatty(self):
        return True


def test_evaluate_and_upscale_show_progress_on_a_terminal(tmp_path, image_models,
                                                           tiny_dcgan, monkeypatch, capsys):
    import sys

    import keras

    inputs = keras.Input((8, 8, 1))
    features = keras.layers.Dense(4, activation="relu", name="features")(
        keras.layers.Flatten()(inputs))
    keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(features)).save(
        tmp_path / "classifier.keras")
    tiny_dcgan.save(tmp_path / "gan.keras")
    args = ["evaluate", str(tmp_path / "gan.keras"), "--feature-extractor",
            str(tmp_path / "classifier.keras"), "-n", "10", "--batch-size", "4"]
    assert cli.main([*args, "--metrics", "fid", "--data", str(image_models / "in")]) == 0
    assert capsys.readouterr().err == ""  # not a terminal: no progress lines
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert cli.main([*args, "--metrics", "fid", "--data", str(image_models / "in")]) == 0
    assert "keras-gans: generated images 4/10\r" in terminal.text
    assert "keras-gans: generated images 10/10\n" in terminal.text
    assert "keras-gans: real images (all there are) 3/3\n" in terminal.text
    assert cli.main(["upscale", str(image_models / "srgan.keras"),
                     str(image_models / "in" / "0.png"), str(tmp_path / "big.png")]) == 0
    assert "keras-gans: upscaling 8x8 to 16x16...\n" in terminal.text


def test_provenance_answers_without_tensorflow(tmp_path):
    import subprocess
    import sys

    from keras_gans import utils

    utils.save_image(np.zeros((4, 4), np.uint8), tmp_path / "a.png",
                     metadata={"model": "m", "seed": 7})
    code = ("import sys; from keras_gans import cli; status = cli.main(['provenance', "
            f"{str(tmp_path / 'a.png')!r}]); assert status == 0; "
            "assert 'tensorflow' not in sys.modules, 'imported TensorFlow'")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=dict(os.environ, PYTHONPATH=ROOT), timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert re.search(r"^seed\s+7$", result.stdout, re.MULTILINE), result.stdout
