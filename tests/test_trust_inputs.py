"""Trust (issue 15): nothing a user has is lost, and bad input gets a clear error.

CLI cases run `keras_gans.cli.main` in process (one subprocess checks the stderr of a
fresh process); the serving client talks to a misbehaving stand-in on 127.0.0.1.
"""

import http.server
import json
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from keras_gans import cli, data, utils
from keras_gans.models.cyclegan import CycleGAN
from keras_gans.models.dcgan import DCGAN
from keras_gans.models.srgan import SRGAN
from keras_gans.serving import Client, ServingError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _png(path, value=0, size=8, mode="L"):
    channels = () if mode == "L" else (3,)
    Image.fromarray(np.full((size, size, *channels), value, np.uint8)).save(path)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("trust")
    srgan = SRGAN(scale=2, num_blocks=1, filters=4, d_filters=4, dense_units=8, channels=3,
                  hr_size=8)
    srgan.save(root / "srgan.keras")
    gan = DCGAN.from_shape((8, 8, 1), latent_dim=4, base_filters=4, seed=0)
    gan.save(root / "gan.keras")
    photos = root / "photos"
    photos.mkdir()
    for i in range(4):
        _png(photos / f"{i}.png", 40 * i, mode="RGB")
    return root, srgan, gan


def _cli(argv, capsys):
    try:
        status = cli.main([str(a) for a in argv])
    except SystemExit as exit_:
        status = exit_.code
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    return status, (lines[0] if len(lines) == 1 else err)


def _assert_refused(argv, capsys, *fragments):
    status, line = _cli(argv, capsys)
    assert status == 2, line
    assert line.startswith("keras-gans ") and "\n" not in line, line
    for fragment in fragments:
        assert fragment in line, line
    return line


# --- Nothing a user has is lost ---


def test_upscale_never_overwrites_its_input(tiny, tmp_path, capsys):
    root, _, _ = tiny
    photo = tmp_path / "photo.png"
    _png(photo, 7, mode="RGB")
    before = photo.read_bytes()
    _assert_refused(["upscale", root / "srgan.keras", photo, photo], capsys, "is the input")
    link = tmp_path / "link.png"
    link.symlink_to(photo)
    _assert_refused(["upscale", root / "srgan.keras", photo, link, "--overwrite"], capsys,
                    "is the input")
    # A folder reached through a symlink is the same folder.
    (tmp_path / "same").symlink_to(root / "photos")
    _assert_refused(["upscale", root / "srgan.keras", root / "photos", tmp_path / "same"],
                    capsys, "is the input folder")
    assert photo.read_bytes() == before


def test_existing_outputs_need_overwrite(tiny, tmp_path, capsys):
    root, _, _ = tiny
    out = tmp_path / "x2.png"
    out.write_bytes(b"mine")
    source = root / "photos" / "1.png"
    _assert_refused(["upscale", root / "srgan.keras", source, out], capsys, "already exists",
                    "--overwrite")
    assert out.read_bytes() == b"mine"
    assert _cli(["upscale", root / "srgan.keras", source, out, "--overwrite"], capsys)[0] == 0
    assert Image.open(out).size == (16, 16)
    # A folder output: one existing file is enough to refuse, and nothing is written.
    folder = tmp_path / "up"
    folder.mkdir()
    (folder / "2.png").write_bytes(b"mine too")
    _assert_refused(["upscale", root / "srgan.keras", root / "photos", folder], capsys,
                    "already exists (1 of the 4 outputs exist)")
    assert sorted(os.listdir(folder)) == ["2.png"]
    grid = tmp_path / "grid.png"
    grid.write_bytes(b"grid")
    _assert_refused(["sample", root / "gan.keras", "-n", "2", "-o", grid, "--separate",
                     tmp_path / "separate"], capsys, "-o/--output", "already exists")
    assert grid.read_bytes() == b"grid" and not (tmp_path / "separate").exists()


def test_translate_output_inside_its_input_is_refused(tiny, tmp_path, capsys):
    root, _, _ = tiny
    cyclegan = CycleGAN.from_shape((8, 8, 3), filters=2, num_residual_blocks=1, d_filters=2,
                                   d_layers=1)
    cyclegan.save(tmp_path / "cyclegan.keras")
    _assert_refused(["translate", tmp_path / "cyclegan.keras", root / "photos",
                     root / "photos" / "out"], capsys, "inside the input folder")
    assert not (root / "photos" / "out").exists()


def test_train_refuses_its_outputs_as_data_and_creates_nothing(tiny, tmp_path, capsys):
    root, _, _ = tiny
    _assert_refused(["train", "dcgan", root / "photos", "--out", root / "photos" / "run"],
                    capsys, "is inside DATA")
    assert not (root / "photos" / "run").exists()
    samples = tmp_path / "run" / "samples"
    samples.mkdir(parents=True)
    _png(samples / "epoch_0001.png")
    _assert_refused(["train", "dcgan", samples, "--out", tmp_path / "run"], capsys,
                    "is inside --out")
    assert os.listdir(tmp_path / "run") == ["samples"]
    empty = tmp_path / "empty"
    empty.mkdir()
    _assert_refused(["train", "dcgan", empty, "--out", tmp_path / "new_run"], capsys,
                    "holds no image files")
    assert not (tmp_path / "new_run").exists()  # no args.json, no folder


# --- CLI messages ---


def test_cli_names_flags_not_python_arguments(tmp_path, capsys):
    folder = tmp_path / "broken"
    folder.mkdir()
    for i in range(2):
        _png(folder / f"{i}.png", i)
    (folder / "bad.png").write_text("not an image")
    line = _assert_refused(["train", "dcgan", folder, "--out", tmp_path / "run"], capsys,
                           "--on-error skip", "DATA")
    assert "on_error" not in line and "`source`" not in line
    assert not (tmp_path / "run").exists()
    flags = {"vgg_weights": "--vgg-weights", "num_classes": "--num-classes"}
    assert cli._errors.cli_names("pass vgg_weights='w.h5' or `num_classes`; num_classes=3", flags) \
        == "pass --vgg-weights w.h5 or --num-classes; --num-classes 3"


def test_num_classes_below_the_class_folders_names_the_flag(tmp_path, capsys):
    folder = tmp_path / "classes"
    for name in ("a", "b", "c"):
        (folder / name).mkdir(parents=True)
        for i in range(2):
            _png(folder / name / f"{i}.png", 50 * i)
    line = _assert_refused(["train", "dcgan", folder, "--out", tmp_path / "run",
                            "--num-classes", "2", "--batch-size", "2"], capsys,
                           "--num-classes 2", "3 class subfolders")
    assert "num_classes" not in line
    # A graph-execution error becomes one line: its assertion, not TF's trace.
    @tf.function
    def failing():
        tf.debugging.Assert(False, ["keras_gans: a check", [1, 2]])

    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        failing()
    assert "Graph execution error" in str(info.value)
    assert cli._errors.error_text(info.value) == "assertion failed: [keras_gans: a check] [1 2]"


def test_one_stderr_line_after_tensorflow_loaded(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    env = dict(os.environ, PYTHONPATH=ROOT)
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    code = "import sys; from keras_gans import cli; sys.exit(cli.main(sys.argv[1:]))"
    proc = subprocess.run([sys.executable, "-c", code, "train", "dcgan", str(empty), "--out",
                           str(tmp_path / "run")], capture_output=True, text=True, env=env,
                          timeout=300, check=False)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr  # no absl / oneDNN start-up lines
    assert proc.stderr.startswith("keras-gans train: error: ") and "DATA" in proc.stderr
    assert not (tmp_path / "run").exists()


# --- Image folders ---


def test_special_files_are_never_opened(tmp_path):
    folder = tmp_path / "fifo"
    folder.mkdir()
    for i in range(2):
        _png(folder / f"{i}.png", i)
    os.mkfifo(folder / "pipe.png")  # opening it for reading would block for ever
    with pytest.warns(UserWarning, match=r"Skipped 1 special files.*pipe\.png"):
        assert data.num_images(str(folder)) == 2
    with pytest.warns(UserWarning, match="special files"):
        ds = data.images(str(folder), batch_size=2)
    assert next(iter(ds)).shape == (2, 8, 8, 1)
    with pytest.raises(ValueError, match=r"`path`.*pipe\.png' is not a regular file"):
        data.load_image_file(folder / "pipe.png")
    with pytest.raises(ValueError, match=r"pipe\.png' \(not a regular file"):
        data.images([str(folder / "0.png"), str(folder / "pipe.png")], batch_size=1)


def test_symlink_loop_counts_each_image_once(tmp_path):
    folder = tmp_path / "loop"
    (folder / "sub").mkdir(parents=True)
    _png(folder / "a.png", 1)
    _png(folder / "sub" / "b.png", 2)
    (folder / "sub" / "back").symlink_to(folder, target_is_directory=True)
    (folder / "again").symlink_to(folder / "sub", target_is_directory=True)
    assert data.num_images(str(folder)) == 2
    assert len(cli._common.list_images(str(folder))) == 2


def test_non_utf8_file_names_are_read(tmp_path):
    folder = os.fsencode(tmp_path / "names")
    os.mkdir(folder)
    for i, name in enumerate((b"caf\xe9.png", b"ok.png")):
        with open(os.path.join(folder, name), "wb") as f:
            Image.fromarray(np.full((8, 8), 60 * i, np.uint8)).save(f, format="PNG")
    ds = data.images(os.fsdecode(folder), batch_size=2, shuffle=False)
    assert next(iter(ds)).shape == (2, 8, 8, 1)
    with open(os.path.join(folder, b"bad\xff.png"), "w") as f:
        f.write("not an image")
    with pytest.raises(ValueError, match=r"bad\\udcff\.png"):
        data.images(os.fsdecode(folder), batch_size=1)


# --- Labels ---


def test_labels_negative_or_beyond_num_classes(tmp_path):
    x = np.zeros((4, 8, 8), np.uint8)
    with pytest.raises(ValueError, match=r"non-negative; received 1 negative labels: \[-1\]"):
        data.images((x, np.array([0, 1, -1, 0])), batch_size=2, labels=True)
    with pytest.raises(ValueError, match=r"`num_classes`.*\[0, 1\].*labels >= 2: \[2, 5\]"):
        data.images((x, np.array([0, 1, 2, 5])), batch_size=2, labels=True, num_classes=2)
    gan = DCGAN.from_shape((8, 8, 1), latent_dim=4, base_filters=4, num_classes=3, seed=0)
    gan.compile()
    y = np.array([0, 1, 2, 7], np.int32)
    ds = tf.data.Dataset.from_tensor_slices((x[..., None], y)).batch(4)
    with pytest.raises(ValueError, match=r"`x`.*labels.*\[0, 2\] \(num_classes=3\).*7"):
        gan.fit(ds, epochs=1, verbose=0)


# --- Non-finite values and memory ---


def test_non_finite_inputs_are_refused(tiny):
    _, srgan, gan = tiny
    z = np.zeros((2, 4), np.float32)
    z[1, 2] = np.nan
    with pytest.raises(ValueError, match=r"`z`.*finite.*1 NaN or infinite"):
        gan.generate(z=z)
    image = np.zeros((4, 4, 3), np.float32)
    image[0, 0, 0] = np.inf
    with pytest.raises(ValueError, match=r"`images`.*finite.*inf"):
        srgan.upscale(image)
    cyclegan = CycleGAN.from_shape((8, 8, 3), filters=2, num_residual_blocks=1, d_filters=2,
                                   d_layers=1)
    with pytest.raises(ValueError, match=r"`images`.*finite.*nan"):
        cyclegan.translate(np.full((1, 8, 8, 3), np.nan, np.float32))


def test_generate_refuses_what_memory_cannot_hold(tiny, monkeypatch):
    _, _, gan = tiny
    monkeypatch.setattr(utils, "available_memory", lambda: 10**6)
    allocated = []
    monkeypatch.setattr(gan, "sample_noise", lambda *a: allocated.append(a))
    with pytest.raises(MemoryError, match=r"`n`.*n=100,000,000 images of shape \(8, 8, 1\)"):
        gan.generate(100_000_000)
    assert allocated == []  # refused before the noise was drawn
    monkeypatch.undo()
    assert gan.generate(2, seed=0).shape == (2, 8, 8, 1)


# --- The serving client ---

_SPEC = {"dtype": "DT_FLOAT", "tensor_shape": {"dim": [{"size": "-1"}, {"size": "2"},
                                                       {"size": "2"}, {"size": "1"}]}}
_METADATA = {"metadata": {"signature_def": {"signature_def": {"sample": {
    "inputs": {"n": {"dtype": "DT_INT32"}, "seed": {"dtype": "DT_INT64"}},
    "outputs": {"images": _SPEC, "images_uint8": {**_SPEC, "dtype": "DT_UINT8"}}}}}}}


def _images(n, side=2):
    return np.zeros((n, side, side, 1)).tolist()


_ANSWERS = {  # model name -> the body of its :predict answer
    "good": json.dumps({"outputs": {"images": _images(2), "images_uint8": _images(2)}}),
    "malformed": "{not json",
    "keys": json.dumps({"result": 1}),
    "missing": json.dumps({"outputs": {"images": _images(2)}}),
    "ragged": json.dumps({"outputs": {"images": [[[[0]]], [[[0], [0]]]],
                                      "images_uint8": _images(2)}}),
    "shape": json.dumps({"outputs": {"images": _images(2, 3), "images_uint8": _images(2, 3)}}),
    "fewer": json.dumps({"outputs": {"images": _images(1), "images_uint8": _images(1)}}),
}


class _Misbehaving(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _send(self, body):
        body = body.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body) + (100 if "slow" in self.path else 0)))
        self.end_headers()
        self.wfile.write(body)
        if "slow" in self.path:  # each byte within urllib's read timeout, for ever
            for _ in range(100):
                time.sleep(0.2)
                self.wfile.write(b" ")
                self.wfile.flush()

    def do_GET(self):
        self._send(json.dumps(_METADATA))

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        name = self.path.split("/")[3].split(":")[0]
        self._send(_ANSWERS.get(name, _ANSWERS["good"]))


@pytest.fixture(scope="module")
def misbehaving():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Misbehaving)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("model, match", [
    ("malformed", "malformed JSON"),
    ("keys", "answered outputs that are not those of signature 'sample'"),
    ("missing", "without the output 'images_uint8'"),
    ("ragged", "answered outputs that are not those"),
    ("shape", r"'images' of shape \[2, 3, 3, 1\]; expected shape \[-1, 2, 2, 1\]"),
    ("fewer", r"'images' of shape \[1, 2, 2, 1\].* with 2 rows"),
])
def test_client_failures_are_serving_errors_naming_the_url(misbehaving, model, match):
    client = Client("127.0.0.1", misbehaving, model, timeout=10)
    assert client.signatures()["sample"]["outputs"]["images"][1] == [-1, 2, 2, 1]
    with pytest.raises(ServingError, match=match) as info:
        client.sample(2)
    assert f"127.0.0.1:{misbehaving}/v1/models/{model}" in str(info.value)


def test_client_timeout_bounds_the_whole_call(misbehaving):
    assert Client("127.0.0.1", misbehaving, "good").sample(2).shape == (2, 2, 2, 1)
    client = Client("127.0.0.1", misbehaving, "slow", timeout=1.0)
    client._signatures = Client("127.0.0.1", misbehaving, "good").signatures()
    start = time.monotonic()
    with pytest.raises(ServingError, match=r"/v1/models/slow:predict did not answer within"):
        client.sample(2)
    assert time.monotonic() - start < 3.0


def test_to_float_rejects_nan():
    with pytest.raises(ValueError, match=r"finite.*2 NaN or infinite values, e\.g\. nan"):
        utils.to_float(np.array([np.nan, 0.0, np.nan], np.float32))
