"""Issue 15 (trust): loading after `import keras_gans`, exact `expected_class`, an
untrusted manifest and untrusted files, and runs that are never overwritten.

The subprocesses here are plain: the editable install is what they import, with no
PYTHONPATH, and the loading one does nothing but `import keras_gans` and
`keras.models.load_model`.
"""

import hashlib
import importlib
import json
import os
import pkgutil
import select
import signal
import struct
import subprocess
import sys
import textwrap
import threading
import time
import zipfile

import keras
import numpy as np
import pytest
from PIL import Image

import keras_gans
from keras_gans import cli, registry, training
from keras_gans.models.cyclegan import CycleGAN
from keras_gans.models.dcgan import DCGAN
from keras_gans.models.lsgan import LSGAN
from keras_gans.models.srgan import SRGAN, SRResNet
from keras_gans.models.wgan_gp import WGANGP

TINY = {"latent_dim": 4, "base_filters": 4, "seed": 0}


def _plain_env(**extra):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(TF_CPP_MIN_LOG_LEVEL="3", **extra)
    return env


def _digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """One tiny compiled model of every variant, saved as `<variant>.keras`."""
    folder = tmp_path_factory.mktemp("variants")
    models = {
        "DCGAN": DCGAN.from_shape((8, 8, 1), **TINY),
        "LSGAN": LSGAN.from_shape((8, 8, 1), **TINY),
        "WGANGP": WGANGP.from_shape((8, 8, 1), **TINY),
        "conditional DCGAN": DCGAN.from_shape((8, 8, 1), num_classes=3, **TINY),
        "CycleGAN": CycleGAN.from_shape((8, 8, 1), filters=4, num_residual_blocks=1,
                                        d_filters=4, seed=0),
        "SRGAN": SRGAN(scale=2, num_blocks=1, filters=4, d_filters=4, dense_units=8,
                       channels=1, hr_size=8, content_loss="mse"),
        "SRResNet": SRResNet(scale=2, num_blocks=1, filters=4, channels=1),
    }
    paths = {}
    for variant, model in models.items():
        model.compile()
        paths[variant] = folder / f"{variant.replace(' ', '_')}.keras"
        model.save(paths[variant])
    return paths


# --- Loading ---

_LOAD_SCRIPT = """
import json, sys
{imports}
out = {{"registered": sorted(k for k in keras.saving.get_custom_objects()
                             if k.startswith("keras_gans>"))}}
for path in sys.argv[1:]:
    model = keras.models.load_model(path)
    out[path] = [type(model).__name__, getattr(model, "num_classes", None)]
print(json.dumps(out))
"""


@pytest.mark.parametrize("imports", ["import keras_gans\nimport keras",
                                     "import keras\nimport keras_gans"])
def test_fresh_process_import_keras_gans_then_load_model_loads_every_variant(
        saved, tmp_path, imports):
    for info in pkgutil.walk_packages(keras_gans.__path__, "keras_gans."):
        if not info.name.endswith("__main__"):  # every module's classes, in this process
            importlib.import_module(info.name)
    expected = sorted(k for k in keras.saving.get_custom_objects()
                      if k.startswith("keras_gans>"))
    proc = subprocess.run(
        [sys.executable, "-c", _LOAD_SCRIPT.format(imports=imports),
         *map(str, saved.values())], cwd=tmp_path, env=_plain_env(), capture_output=True,
        text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out.pop("registered") == expected
    assert {variant: out[str(path)] for variant, path in saved.items()} == {
        "DCGAN": ["DCGAN", None], "LSGAN": ["LSGAN", None], "WGANGP": ["WGANGP", None],
        "conditional DCGAN": ["DCGAN", 3], "CycleGAN": ["CycleGAN", None],
        "SRGAN": ["SRGAN", None], "SRResNet": ["SRResNet", None]}


def test_expected_class_is_the_exact_class(saved, tmp_path):
    assert type(registry.load_file(saved["DCGAN"], expected_class=DCGAN)) is DCGAN
    for variant in ("LSGAN", "WGANGP"):  # subclasses of DCGAN, yet no DCGAN run
        with pytest.raises(TypeError, match=f"holding a DCGAN, received one holding a "
                                            f"{variant}"):
            registry.load_file(saved[variant], expected_class=DCGAN)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / training.CHECKPOINT).write_bytes(saved["WGANGP"].read_bytes())
    with pytest.raises(TypeError, match="holding a WGANGP"):
        training.resume_or_create(run_dir, lambda: None, expected_class=DCGAN)

    def create_lsgan():
        gan = LSGAN.from_shape((8, 8, 1), **TINY)
        gan.compile()
        return gan

    with pytest.raises(TypeError, match="return a DCGAN, it returned a LSGAN"):
        training.resume_or_create(tmp_path / "new", create_lsgan, expected_class=DCGAN)


def test_cli_train_dcgan_refuses_a_run_holding_a_wgan_gp_checkpoint(saved, tmp_path,
                                                                    capsys):
    images = tmp_path / "images"
    images.mkdir()
    rng = np.random.default_rng(0)
    for i in range(16):
        Image.fromarray(rng.integers(0, 256, (8, 8), dtype=np.uint8)).save(
            images / f"{i:02d}.png")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    checkpoint = run_dir / training.CHECKPOINT
    checkpoint.write_bytes(saved["WGANGP"].read_bytes())
    before = _digest(checkpoint)
    code = cli.main(["train", "dcgan", str(images), "--out", str(run_dir), "--epochs", "1",
                     "--batch-size", "8", "--latent-dim", "4", "--base-filters", "4"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "holding a WGANGP" in err and len(err.strip().splitlines()) == 1
    assert _digest(checkpoint) == before


# --- The zoo and its files ---


@pytest.fixture
def zoo(tmp_path, monkeypatch):
    """An empty user directory; `write(files)` makes entry `toy` v1 with those files."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("KERAS_GANS_HOME", str(home))
    monkeypatch.delenv("KERAS_GANS_MIRROR", raising=False)

    def write(files, mirror=None):
        data = {"format": 1, "models": {"toy": {"variant": "dcgan", "versions": {
            "1": {"files": files, "metrics": {}}}, "latest": 1}}}
        if mirror:
            data["mirror"] = mirror
        (home / registry.MANIFEST).write_text(json.dumps(data))
        return home / "toy" / "1"

    return home, write


@pytest.fixture
def no_hash_no_fetch(monkeypatch):
    """Fails the test if anything is hashed or downloaded."""
    def refuse(*args, **kwargs):
        raise AssertionError(f"hashed or fetched: {args}")

    monkeypatch.setattr(registry, "sha256", refuse)
    monkeypatch.setattr(keras.utils, "get_file", refuse)


@pytest.mark.parametrize("relpath", ["../../outside.bin", "a/../../../outside.bin",
                                     "/etc/passwd", "./a.bin", "a//b.bin"])
def test_manifest_path_outside_its_version_dir_is_refused_before_anything(
        zoo, no_hash_no_fetch, relpath):
    home, write = zoo
    write({relpath: "0" * 64}, mirror="http://127.0.0.1:9/zoo")
    with pytest.raises(ValueError, match=r"relative path inside its version directory"):
        registry.resolve_file("toy", relpath)
    assert sorted(os.listdir(home)) == [registry.MANIFEST]  # no folder was created


def test_symlink_leading_outside_the_version_dir_is_refused(zoo, tmp_path):
    _, write = zoo
    secret = tmp_path / "secret.bin"
    secret.write_bytes(b"not a zoo file")
    version_dir = write({"weights.bin": registry.sha256(secret)})
    version_dir.mkdir(parents=True)
    (version_dir / "weights.bin").symlink_to(secret)  # with the right sha256, even
    with pytest.raises(registry.IntegrityError, match="outside its version directory"):
        registry.resolve_file("toy", "weights.bin")


@pytest.mark.parametrize("digest", [None, "", "abc", 12])
def test_file_entry_without_a_sha256_is_an_error_never_a_download(zoo, no_hash_no_fetch,
                                                                   digest):
    home, write = zoo
    write({"weights.bin": digest}, mirror="http://127.0.0.1:9/zoo")
    with pytest.raises(ValueError, match=r"\['files'\]\['weights.bin'\] is missing or not "
                                         r"a sha256") as info:
        registry.resolve_file("toy", "weights.bin")
    assert str(home / registry.MANIFEST) in str(info.value)


def _in_thread(fn, timeout=20):
    """`fn()`'s exception (it must raise), or a failure if it hangs."""
    box = []

    def target():
        try:
            fn()
        except BaseException as e:  # noqa: BLE001
            box.append(e)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), "hung on a special file"
    assert box, "did not raise"
    return box[0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_fifo_artifact_is_refused_at_once_without_opening(zoo, tmp_path):
    _, write = zoo
    version_dir = write({"weights.bin": "0" * 64})
    version_dir.mkdir(parents=True)
    os.mkfifo(version_dir / "weights.bin")
    error = _in_thread(lambda: registry.resolve_file("toy", "weights.bin"))
    assert isinstance(error, ValueError) and "FIFO" in str(error), error
    os.mkfifo(tmp_path / "pipe.keras")
    error = _in_thread(lambda: registry.load_file(tmp_path / "pipe.keras"))
    assert isinstance(error, ValueError) and "FIFO" in str(error), error


def _archive(path, members):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps({"class_name": "DCGAN"}))
        for name, data in members:
            archive.writestr(name, data)
    return path


def _zip_bomb(path):
    """A .keras whose member claims to extract to ~4 GiB (what a bomb declares)."""
    _archive(path, [("model.weights.h5", b"x" * 64)])
    data = bytearray(path.read_bytes())
    start = data.index(b"PK\x01\x02", data.index(b"model.weights.h5") - 64)
    struct.pack_into("<I", data, start + 24, 0xFFFFFFF0)  # uncompressed size
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("make, fragment", [
    (_zip_bomb, r"would extract to 42949\d{5} bytes, more than the bound .*zip bomb"),
    (lambda p: _archive(p, [(f"m{i}", b"") for i in range(registry.MAX_ARCHIVE_MEMBERS)]),
     "members, more than the 1000"),
    (lambda p: _archive(p, [("../../evil.h5", b"x")]), "'../../evil.h5' would extract"),
    (lambda p: _archive(p, [("/tmp/evil.h5", b"x")]), "'/tmp/evil.h5' would extract"),
])
def test_keras_archive_is_inspected_before_keras_extracts_it(tmp_path, monkeypatch, make,
                                                              fragment):
    path = make(tmp_path / "bad.keras")

    def refuse(*args, **kwargs):
        raise AssertionError("Keras saw the archive")

    monkeypatch.setattr(keras.models, "load_model", refuse)
    with pytest.raises(ValueError, match=fragment) as info:
        registry.load_file(path)
    assert str(path) in str(info.value)


def test_damaged_keras_archive_raises_value_error_naming_the_path(saved, tmp_path):
    path = tmp_path / "damaged.keras"
    data = bytearray(saved["DCGAN"].read_bytes())
    with zipfile.ZipFile(saved["DCGAN"]) as archive:
        member = archive.getinfo("model.weights.h5")
    # Flip bytes inside the weights member's data (its local header is 30 bytes + name).
    start = member.header_offset + 30 + len(member.filename) + len(member.extra)
    for i in range(start + 100, start + member.compress_size - 100, 97):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="damaged") as info:
        registry.load_file(path)
    assert str(path) in str(info.value)
    assert not isinstance(info.value, zipfile.BadZipFile)


def test_keras_archive_with_a_truncated_weights_file_names_the_path(saved, tmp_path):
    # A well-formed zip whose weights member is a cut HDF5 file: h5py's OSError (no
    # errno) is reported as a damaged archive, naming it.
    path = tmp_path / "cut_weights.keras"
    with zipfile.ZipFile(saved["DCGAN"]) as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            member = src.read(info)
            dst.writestr(info, member[:100] if info.filename.endswith(".h5") else member)
    with pytest.raises(ValueError, match="damaged") as info:
        registry.load_file(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("content, fragment", [
    ("{not json", "is not valid JSON"),
    (json.dumps({"models": {"toy": {"variant": "dcgan"}}}), r"models\['toy'\]\['versions'\]"),
    (json.dumps({"models": {"toy": {"versions": {"1": {}}}}}),
     r"models\['toy'\]\['versions'\]\['1'\]\['files'\]"),
    (json.dumps({"versions": {}}), "`models`"),
    (json.dumps({"models": {"toy": {"versions": {}}}}),
     r"models\['toy'\]\['versions'\] is missing or not a mapping of at least one"),
    (json.dumps({"models": {"toy": {"versions": {"\u00b2": {}}}}}),
     r"models\['toy'\]\['versions'\]\['\u00b2'\] is missing or not an integer version"),
    (json.dumps({"models": {"toy": {"latest": 2, "versions": {"1": {"files": {}}}}}}),
     r"models\['toy'\]\['latest'\] is missing or not one of its versions"),
])
def test_corrupt_user_manifest_names_file_and_key_and_cli_exits_2(zoo, capsys, content,
                                                                   fragment):
    home, _ = zoo
    manifest = home / registry.MANIFEST
    manifest.write_text(content)
    with pytest.raises(ValueError, match=fragment) as info:
        registry.list_models()
    assert str(manifest) in str(info.value)
    assert cli.main(["list"]) == 2
    err = capsys.readouterr().err
    assert str(manifest) in err and len(err.strip().splitlines()) == 1, err


# --- Nothing a user has is lost ---


def _images(n=16):
    x = np.random.default_rng(0).integers(0, 256, (n, 8, 8, 1), dtype=np.uint8)
    return keras_gans.data.images(x, batch_size=4, seed=0)


def _compiled(cls, seed=0):
    gan = cls.from_shape((8, 8, 1), latent_dim=4, base_filters=4, seed=seed)
    gan.compile()
    return gan


def test_train_refuses_a_run_dir_holding_another_model_or_a_later_step(tmp_path):
    run_dir = str(tmp_path / "run")
    quiet = {"sample_grid": False, "tensorboard": False, "verbose": 0}
    training.train(_compiled(DCGAN), _images(), run_dir, epochs=1, **quiet)
    checkpoint = training.checkpoint_path(run_dir)
    before = _digest(checkpoint)
    with pytest.raises(ValueError, match=r"holds a checkpoint at step 4 .*at step 0.*"
                                         r"resume_or_create") as info:
        training.train(_compiled(DCGAN, seed=1), _images(), run_dir, epochs=2, **quiet)
    assert repr(run_dir) in str(info.value)
    with pytest.raises(ValueError, match=r"the checkpoint of a DCGAN .*is a WGANGP"):
        training.train(_compiled(WGANGP), _images(), run_dir, epochs=2, **quiet)
    assert _digest(checkpoint) == before
    # resume_or_create stays the way to continue, and its model trains on there.
    model, resumed = training.resume_or_create(run_dir, lambda: None, expected_class=DCGAN)
    assert resumed
    training.train(model, _images(), run_dir, epochs=2, **quiet)
    assert int(registry.load_file(checkpoint).optimizer.iterations.numpy()) == 8
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # restored after train


_SIGTERM_SCRIPT = textwrap.dedent("""
    import sys, time
    import keras
    import numpy as np
    import keras_gans
    from keras_gans import training

    class Slow(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            print("step", int(self.model.optimizer.iterations.numpy()), flush=True)
            time.sleep(0.5)

    gan = keras_gans.DCGAN.from_shape((8, 8, 1), latent_dim=4, base_filters=4, seed=0)
    gan.compile()
    x = np.random.default_rng(0).integers(0, 256, (48, 8, 8, 1), dtype=np.uint8)
    training.train(gan, keras_gans.data.images(x, batch_size=4, seed=0), sys.argv[1],
                   epochs=5, save_freq=1000, callbacks=[Slow()], sample_grid=False,
                   tensorboard=False, verbose=0)
    print("finished", flush=True)
""")


def test_sigterm_during_train_checkpoints_and_exits_cleanly_then_resumes(tmp_path):
    run_dir = str(tmp_path / "run")
    proc = subprocess.Popen([sys.executable, "-c", _SIGTERM_SCRIPT, run_dir], cwd=tmp_path,
                            env=_plain_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    seen, deadline = -1, time.monotonic() + 240
    try:
        while seen < 3 and time.monotonic() < deadline:  # 12 steps an epoch: none saved
            if select.select([proc.stdout], [], [], 1.0)[0]:
                line = proc.stdout.readline()
                if not line:
                    break
                if line.startswith("step "):
                    seen = int(line.split()[1])
        no_checkpoint_yet = not os.path.exists(training.checkpoint_path(run_dir))
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=120)
    assert seen >= 3 and no_checkpoint_yet, err[-3000:]
    assert proc.returncode == 128 + signal.SIGTERM, err[-3000:]
    assert "finished" not in out and "Traceback" not in err, err[-3000:]
    last = max([seen] + [int(line.split()[1]) for line in out.splitlines()
                         if line.startswith("step ")])
    model, resumed = training.resume_or_create(run_dir, lambda: None)
    step = int(model.optimizer.iterations.numpy())
    assert resumed and step >= last, (step, last)  # the interrupted step was checkpointed
    training.train(model, _images(48), run_dir, epochs=2, sample_grid=False,
                   tensorboard=False, verbose=0)
    assert int(model.optimizer.iterations.numpy()) == 24


def test_directory_named_like_a_model_is_refused_as_not_a_regular_file(tmp_path):
    folder = tmp_path / "dir.keras"
    folder.mkdir()
    with pytest.raises(ValueError, match="a directory, not a regular file"):
        registry.load_file(folder)
