"""The zoo registry: list, info, load with sha256 checks, user dir, mirror download."""

import functools
import http.server
import json
import shutil
import threading

import keras
import numpy as np
import pytest

from keras_gans import registry
from keras_gans.export import export
from keras_gans.models.dcgan import DCGAN


@pytest.fixture(scope="module")
def tiny_export(tmp_path_factory):
    """A tiny DCGAN exported as version 1 of `tiny_dcgan` in a fresh artifacts root."""
    root = tmp_path_factory.mktemp("artifacts")
    gan = DCGAN.from_shape((8, 8, 1), latent_dim=4, base_filters=4, seed=1)
    gan.compile()
    gan.fit(np.random.default_rng(0).uniform(-1, 1, (8, 8, 8, 1)).astype("float32"),
            batch_size=8, epochs=1, verbose=0)
    path = export(gan, str(root / "tiny_dcgan"), version=1)
    registry.register("tiny_dcgan", 1, path,
                      {"description": "test entry", "variant": "DCGAN", "data": "noise",
                       "recipe": "none", "license": "Apache-2.0"},
                      {"score": 1.0}, manifest_path=root / "manifest.json")
    return root, gan


@pytest.fixture
def home(tmp_path, tiny_export, monkeypatch):
    """KERAS_GANS_HOME holding the tiny entry (user directory resolution)."""
    root, _ = tiny_export
    user = tmp_path / "home"
    shutil.copytree(root, user)
    monkeypatch.setenv("KERAS_GANS_HOME", str(user))
    monkeypatch.delenv("KERAS_GANS_MIRROR", raising=False)
    return user


def test_list_info_and_load_from_user_dir(home, tiny_export):
    _, gan = tiny_export
    assert "tiny_dcgan" in registry.list_models()
    assert registry.list_models("tiny_*") == ["tiny_dcgan"]
    assert registry.list_models("nothing*") == []
    info = registry.model_info("tiny_dcgan")
    assert info["variant"] == "DCGAN" and info["versions"]["1"]["metrics"] == {"score": 1.0}
    loaded = registry.load("tiny_dcgan")
    assert isinstance(loaded, DCGAN)
    assert loaded.d_optimizer is not None and int(loaded.g_optimizer.iterations.numpy()) == 1
    np.testing.assert_array_equal(loaded.generate(3, seed=0), gan.generate(3, seed=0))
    loaded.fit(np.zeros((4, 8, 8, 1), "float32"), batch_size=4, epochs=1, verbose=0)
    generator = registry.load_generator("tiny_dcgan")
    assert isinstance(generator, keras.Model) and generator.name == "generator"


def test_unknown_name_lists_close_matches(home):
    with pytest.raises(ValueError, match=r"tiny_dcgn.*Did you mean: tiny_dcgan"):
        registry.load("tiny_dcgn")


def test_unknown_version(home):
    with pytest.raises(ValueError, match=r"version=7.*Available versions: 1"):
        registry.load("tiny_dcgan", version=7)


def test_tampered_file_is_refused(home):
    target = home / "tiny_dcgan" / "1" / registry.KERAS_FILE
    data = bytearray(target.read_bytes())
    data[100] ^= 0xFF
    target.write_bytes(bytes(data))
    with pytest.raises(registry.IntegrityError, match=r"sha256.*manifest"):
        registry.load("tiny_dcgan")


def test_version_dir_is_verified_savedmodel(home):
    path = registry.version_dir("tiny_dcgan")
    assert (path / "saved_model.pb").exists()
    assert path == (home / "tiny_dcgan" / "1").resolve()


def test_mirror_download_with_hash_check(tmp_path, tiny_export, monkeypatch):
    root, gan = tiny_export
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        user = tmp_path / "home"
        user.mkdir()
        # The user directory holds only the index, no files: they must be fetched.
        manifest = json.loads((root / "manifest.json").read_text())
        manifest["mirror"] = f"http://127.0.0.1:{server.server_port}"
        (user / "manifest.json").write_text(json.dumps(manifest))
        monkeypatch.setenv("KERAS_GANS_HOME", str(user))
        loaded = registry.load("tiny_dcgan")
        np.testing.assert_array_equal(loaded.generate(2, seed=0), gan.generate(2, seed=0))
        assert (user / "tiny_dcgan" / "1" / registry.KERAS_FILE).exists()
    finally:
        server.shutdown()


def test_mirror_serving_a_wrong_file_is_refused(tmp_path, tiny_export, monkeypatch):
    root, _ = tiny_export
    served = tmp_path / "served"
    shutil.copytree(root, served)
    (served / "tiny_dcgan" / "1" / registry.KERAS_FILE).write_bytes(b"not the model")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        user = tmp_path / "home"
        user.mkdir()
        manifest = json.loads((root / "manifest.json").read_text())
        (user / "manifest.json").write_text(json.dumps(manifest))
        monkeypatch.setenv("KERAS_GANS_HOME", str(user))
        monkeypatch.setenv("KERAS_GANS_MIRROR", f"http://127.0.0.1:{server.server_port}")
        with pytest.raises(OSError, match="Could not fetch"):
            registry.load("tiny_dcgan")
    finally:
        server.shutdown()


def test_bad_pattern_type():
    with pytest.raises(TypeError, match="pattern"):
        registry.list_models(3)
