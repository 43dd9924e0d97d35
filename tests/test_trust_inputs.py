"""Trust (issue 15): nothing a user has is lost, and bad input gets a clear error.

CLI cases run `keras_gans.cli.main` in process (one subprocess checks the stderr of a
fresh process); the serving client talks to a misbehaving stand-in on 127.0.0.1.
"""

import http.server
import json
import os
import struct
import subprocess
import sys
import time
import zlib

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
from serving_standins import serve_http

from keras_gans import callbacks, cli, data, utils
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
    with serve_http(_Misbehaving) as port:
        yield port


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


# --- Image files written: nothing existing is replaced unless asked ---


def test_save_grid_and_save_image_refuse_existing_files(tmp_path):
    x = np.zeros((4, 8, 8, 1), np.uint8)
    precious = tmp_path / "precious.png"
    precious.write_bytes(b"mine")
    link = tmp_path / "link.png"
    link.symlink_to(precious)
    dangling = tmp_path / "dangling.png"
    dangling.symlink_to(tmp_path / "nowhere.png")
    for path in (precious, link, dangling):
        with pytest.raises(FileExistsError, match=r"`path`.*overwrite=True.*received: "
                                                  rf"path='.*{path.name}', an existing file"):
            utils.save_grid(x, path)
        with pytest.raises(FileExistsError, match=r"`path`.*an existing file"):
            utils.save_image(x[0], str(path), metadata={"model": "m"})
    assert precious.read_bytes() == b"mine" and not (tmp_path / "nowhere.png").exists()
    (tmp_path / "folder.png").mkdir()
    with pytest.raises(IsADirectoryError, match=r"`path`.*an existing folder"):
        utils.save_grid(x, tmp_path / "folder.png", overwrite=True)
    assert utils.save_grid(x, precious, overwrite=True) == str(precious)
    assert Image.open(precious).size == (22, 22)
    new = tmp_path / "sub" / "new.png"
    assert utils.save_image(x[0], new) == str(new) and Image.open(new).size == (8, 8)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "dangling.png", "folder.png", "link.png", "precious.png", "sub"]  # no temporary file


def test_a_failed_write_keeps_the_old_file_and_leaves_nothing(tmp_path):
    rgba = np.zeros((4, 4, 4), np.uint8)  # JPEG cannot hold alpha: PIL fails mid-save
    old = tmp_path / "old.jpg"
    Image.fromarray(np.full((4, 4, 3), 9, np.uint8)).save(old)
    before = old.read_bytes()
    with pytest.raises(OSError, match=r"`path`: cannot write '.*old\.jpg'"):
        utils.save_image(rgba, old, overwrite=True)
    assert old.read_bytes() == before
    with pytest.raises(OSError, match=r"`path`: cannot write '.*new\.jpg'"):
        utils.save_image(rgba, tmp_path / "new.jpg")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.jpg"]


def test_writers_of_their_own_outputs_replace_them(tiny, tmp_path, capsys):
    root, _, gan = tiny
    # SampleGrid: a resumed run writes the grids of its epochs again.
    grid = callbacks.SampleGrid(tmp_path / "samples", n=4)
    grid.set_model(gan)
    for _ in range(2):
        grid.on_epoch_end(0)
    assert os.listdir(tmp_path / "samples") == ["epoch_0001.png"]
    # keras-gans sample --overwrite: checked by the command, then replaced.
    out = tmp_path / "grid.png"
    out.write_bytes(b"old")
    argv = ["sample", root / "gan.keras", "-n", "2", "-o", out, "--separate",
            tmp_path / "separate"]
    _assert_refused(argv, capsys, "already exists", "--overwrite")
    assert out.read_bytes() == b"old"
    assert _cli([*argv, "--overwrite"], capsys)[0] == 0
    assert _cli([*argv, "--overwrite"], capsys)[0] == 0  # --separate's files too
    assert Image.open(out).size == (22, 12)
    assert sorted(os.listdir(tmp_path / "separate")) == ["0000.png", "0001.png"]


# --- Image files read: checked before they are decoded ---


def _png_chunk(kind, body):
    return (struct.pack(">I", len(body)) + kind + body
            + struct.pack(">I", zlib.crc32(kind + body)))


def test_load_image_file_refuses_decompression_bombs(tmp_path, monkeypatch):
    # A 150-byte PNG declaring 20000x20000 grayscale pixels (400 Mpixel).
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(b"\x89PNG\r\n\x1a\n"
                     + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 20000, 20000, 8, 0, 0, 0, 0))
                     + _png_chunk(b"IDAT", zlib.compress(b"\0" * 20001))
                     + _png_chunk(b"IEND", b""))
    with pytest.raises(ValueError, match=r"`path`.*'.*bomb\.png'.*DecompressionBombError"):
        data.load_image_file(bomb)
    with pytest.raises(ValueError, match=r"`source`.*'.*bomb\.png'.*DecompressionBombError"):
        data.images([str(bomb)], batch_size=1)
    # The same bound as the folder sources: PIL's, whatever it is set to.
    import PIL.Image

    photo = tmp_path / "photo.png"
    _png(photo, 7, size=40)
    monkeypatch.setattr(PIL.Image, "MAX_IMAGE_PIXELS", 500)  # 1,600 > 2 x 500 pixels
    with pytest.raises(ValueError, match=r"`path`.*'.*photo\.png'.*DecompressionBombError"):
        data.load_image_file(photo)
    with pytest.raises(ValueError, match=r"DecompressionBombError"):
        data.images(str(tmp_path), batch_size=1)
    monkeypatch.undo()
    assert data.load_image_file(photo).shape == (40, 40, 1)
    with pytest.raises(TypeError, match=r"`path`.*str or os\.PathLike.*path=3 of type int"):
        data.load_image_file(3)


# --- Arguments of the data pipelines ---


def test_flags_must_be_true_or_false():
    x = np.zeros((4, 8, 8), np.uint8)
    for call, name, value in [
        (lambda: data.images(x, batch_size=2, shuffle="yes"), "shuffle", "'yes'"),
        (lambda: data.images(x, batch_size=2, drop_remainder="no"), "drop_remainder", "'no'"),
        (lambda: data.images((x, np.zeros(4, int)), batch_size=2, labels="no"), "labels",
         "'no'"),
        (lambda: data.images(x, batch_size=2, shuffle=1), "shuffle", "1"),
        (lambda: data.unpaired(x, x, jitter="no"), "jitter", "'no'"),
        (lambda: data.unpaired(x, x, drop_remainder=None), "drop_remainder", "None"),
        (lambda: data.sr_pairs(x, scale=2, hr_size=8, batch_size=2, shuffle="no"), "shuffle",
         "'no'"),
        (lambda: data.inpainting_pairs(x, batch_size=2, drop_remainder="no"),
         "drop_remainder", "'no'"),
    ]:
        with pytest.raises(TypeError, match=rf"`{name}`\. Expected True or False, received: "
                                            rf"{name}={value}$"):
            call()
    ds = data.images(x, batch_size=3, shuffle=np.False_, drop_remainder=False)
    assert [len(b) for b in ds] == [3, 1]


def test_num_classes_and_the_channels_of_sources(tmp_path):
    folder = tmp_path / "classes"
    for name in ("a", "b"):
        (folder / name).mkdir(parents=True)
        _png(folder / name / "0.png")
    for kwargs in ({}, {"labels": True}):
        with pytest.raises(ValueError, match=r"`num_classes`.*positive integer.*num_classes=0"):
            data.images(str(folder), batch_size=1, num_classes=0, **kwargs)
    with pytest.raises(ValueError, match=r"`num_classes`.*labels=False.*num_classes=2"):
        data.images(str(folder), batch_size=1, num_classes=2)
    assert data.images(str(folder), batch_size=1, labels=True, num_classes=2).element_spec[1] \
        .shape == (1,)
    five = np.zeros((4, 28, 28, 5), np.uint8)
    with pytest.raises(ValueError, match=r"`source`.*C 1-4, received shape \(4, 28, 28, 5\)"):
        data.images(five, batch_size=2)
    with pytest.raises(ValueError, match=r"`b`.*C 1-4, received shape \(8, 8, 5\)"):
        data.unpaired(np.zeros((2, 8, 8), np.uint8),
                      tf.data.Dataset.from_tensor_slices(np.zeros((2, 8, 8, 5), np.uint8)))
    rgba = np.zeros((4, 8, 8, 4), np.uint8)  # RGBA: alpha dropped on request
    assert data.images(rgba, batch_size=2, channels=3).element_spec.shape == (2, 8, 8, 3)


def test_cache_folder_is_checked_up_front(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(2):
        _png(folder / f"{i}.png", i)
    with pytest.raises(FileNotFoundError, match=r"`cache`: its folder '/nonexist/dir' does "
                                                r"not exist.*cache='/nonexist/dir/c'"):
        data.images(str(folder), batch_size=1, cache="/nonexist/dir/c")
    with pytest.raises(ValueError, match=r"`cache`.*non-empty file path.*cache=''"):
        data.unpaired(str(folder), str(folder), cache="")
    with pytest.raises(TypeError, match=r"`cache`.*received: cache=1"):
        data.sr_pairs(str(folder), scale=2, hr_size=8, cache=1)
    read_only = tmp_path / "read_only"
    read_only.mkdir()
    read_only.chmod(0o555)
    if not os.access(read_only, os.W_OK):  # root writes anyway
        with pytest.raises(PermissionError, match=r"`cache`: cannot write in its folder"):
            data.images(str(folder), batch_size=1, cache=read_only / "c")
    (tmp_path / "cache").mkdir()
    ds = data.images(str(folder), batch_size=1, cache=str(tmp_path / "cache") + os.sep)
    assert len(list(ds)) == 2 and any((tmp_path / "cache").iterdir())


def test_sources_and_paths_of_the_wrong_type(tmp_path):
    with pytest.raises(TypeError, match=r"`source`\. Expected a list of image file paths.*"
                                        r"numpy array.*source\[0\]=\[1, 2\]$"):
        data.images([[1, 2]])
    with pytest.raises(TypeError, match=r"`source`.*holding a ndarray: source\[1\]="):
        data.images([str(tmp_path / "a.png"), np.zeros((8, 8))])
    with pytest.raises(TypeError, match=r"`path`.*received: path=None of type NoneType"):
        data.read_idx(None)
    fifo = tmp_path / "images-idx3-ubyte"
    os.mkfifo(fifo)  # open() would block for ever
    with pytest.raises(ValueError, match=r"`path`: '.*images-idx3-ubyte' is not a regular"):
        data.read_idx(fifo)
    short = tmp_path / "short-idx3-ubyte"
    short.write_bytes(b"\0\0")
    with pytest.raises(ValueError, match=r"'.*short-idx3-ubyte' is not an IDX file"):
        data.num_images(str(short))
    negative = tmp_path / "negative-idx3-ubyte"
    negative.write_bytes(bytes([0, 0, 8, 2]) + np.array([-1, -4], ">i4").tobytes() + bytes(4))
    with pytest.raises(ValueError, match=r"negative-idx3-ubyte' is corrupt.*\(-1, -4\)"):
        data.read_idx(negative)
    with pytest.raises(ValueError, match=r"`seed`.*a non-negative integer, received: seed='0'"):
        data.inpainting_masks(2, 8, 8, seed="0")


def test_idx_files_are_read_no_further_than_their_header_promises(tmp_path, monkeypatch):
    import gzip

    from keras_gans import memory

    header = bytes([0, 0, 8, 1]) + np.array([10], ">i4").tobytes()
    bomb = tmp_path / "bomb-idx1-ubyte.gz"  # 20 kB holding 20 MB
    bomb.write_bytes(gzip.compress(header + bytes(20_000_000)))
    read = []
    monkeypatch.setattr(gzip, "decompress", lambda *a, **k: read.append(a) or b"")
    with pytest.raises(ValueError, match=r"promises shape \(10,\) \(18 bytes\), but the file "
                                         r"holds more than 18 bytes \(decompressed\)"):
        data.read_idx(bomb)
    assert read == []  # streamed, not decompressed whole
    monkeypatch.undo()
    good = tmp_path / "good-idx3-ubyte.gz"
    good.write_bytes(gzip.compress(bytes([0, 0, 8, 3]) + np.array([4, 50, 50], ">i4").tobytes()
                                   + bytes(10_000)))
    assert data.read_idx(good).shape == (4, 50, 50)
    monkeypatch.setattr(memory, "available_memory", lambda: 1000)
    with pytest.raises(MemoryError, match=r"`path`.*good-idx3-ubyte\.gz' promises shape "
                                          r"\(4, 50, 50\) \(10,016 bytes\), more than"):
        data.read_idx(good)


# --- Arguments of the image helpers ---


@pytest.mark.parametrize("call, error, match", [
    (lambda x, p: utils.save_grid(x, p, ncols=0), ValueError,
     r"`ncols`\. Expected a positive integer, received: ncols=0$"),
    (lambda x, p: utils.save_grid(x, p, ncols=1.5), ValueError, r"`ncols`.*ncols=1\.5$"),
    (lambda x, p: utils.save_grid(x, p, padding=-1), ValueError,
     r"`padding`\. Expected an integer >= 0, received: padding=-1$"),
    (lambda x, p: utils.make_grid(x, pad_value=300), ValueError,
     r"`pad_value`.*\[0, 255\], received: pad_value=300$"),
    (lambda x, p: utils.save_grid(np.full((4, 8, 8, 1), np.nan), p), ValueError,
     r"`images`.*finite.*received 256 NaN or infinite values, e\.g\. nan"),
    (lambda x, p: utils.save_image(np.full((8, 8), np.inf, np.float32), p), ValueError,
     r"`image`.*finite.*received 64 NaN or infinite values, e\.g\. inf"),
    (lambda x, p: utils.save_image(x, p), ValueError,
     r"`image`.*\(H, W, C\) with C 1-4, received shape \(4, 8, 8, 1\)"),
    (lambda x, p: utils.save_image(x[0], p, metadata="model"), TypeError,
     r"`metadata`.*mapping, received: metadata='model'"),
    (lambda x, p: utils.save_image(x[0], 3), TypeError, r"`path`.*received: path=3$"),
    (lambda x, p: utils.save_image(x[0], p.with_suffix(".psd")), ValueError,
     r"`path`.*received: path='.*grid\.psd'"),  # PIL reads PSD, cannot write it
    (lambda x, p: utils.take_rows(x, -1), ValueError, r"`n`.*received: n=-1$"),
])
def test_image_helpers_name_bad_arguments(tmp_path, call, error, match):
    x = np.zeros((4, 8, 8, 1), np.uint8)
    path = tmp_path / "grid.png"
    with pytest.raises(error, match=match):
        call(x, path)
    assert not os.listdir(tmp_path)


# --- keras-gans: every output checked before the first is written; one line per refusal ---


def test_sample_checks_every_output_before_writing_any(tiny, tmp_path, capsys):
    root, _, _ = tiny
    separate = tmp_path / "sep"
    # The grid would be one of the --separate files: refused, nothing written.
    line = _assert_refused(["sample", root / "gan.keras", "-n", "4", "-o", separate / "0000.png",
                            "--separate", separate], capsys, "-o/--output", "--separate")
    assert "is also one of the --separate files" in line
    assert not separate.exists()
    # A --separate file exists: refused naming --separate, before the grid is written.
    separate.mkdir()
    (separate / "0002.png").write_bytes(b"mine")
    _assert_refused(["sample", root / "gan.keras", "-n", "4", "-o", tmp_path / "grid.png",
                     "--separate", separate], capsys, "--separate: ", "0002.png' already "
                    "exists", "pass --overwrite to replace")
    assert not (tmp_path / "grid.png").exists()
    assert os.listdir(separate) == ["0002.png"]
    assert (separate / "0002.png").read_bytes() == b"mine"


def test_cli_words_for_switches_and_written_flags():
    from keras_gans.cli._errors import cli_names, flag_names

    flags = flag_names(cli.build_parser(), "sample")
    message = ("Expected a file that does not exist yet (pass overwrite=True to replace it), "
               "received: path='g.png', an existing file; -o/--output='g.txt'")
    assert cli_names(message, flags) == (
        "Expected a file that does not exist yet (pass --overwrite to replace it), received: "
        "-o/--output g.png, an existing file; -o/--output='g.txt'")
    train = flag_names(cli.build_parser(), "train")
    assert cli_names("received: channels=None; pass image_size=(height, width) to resize "
                     "them", train) == ("received: no --channels; pass --image-size "
                                        "HEIGHTxWIDTH to resize them")


def test_cli_warnings_are_one_line_each_and_only_when_accepted(tiny, tmp_path, capsys):
    root, _, _ = tiny
    folder = tmp_path / "photos16"
    folder.mkdir()
    for i in range(2):
        _png(folder / f"{i}.png", 50 * i, size=16, mode="RGB")
    (folder / "bad.png").write_text("not an image")
    (folder / "notes.txt").write_text("kept")
    argv = ["evaluate", root / "srgan.keras", "--data", folder, "--hr-size", "16", "-n", "2"]
    _assert_refused(argv, capsys, "--data: the file", "bad.png", "pass --on-error skip")
    try:
        status = cli.main([str(a) for a in [*argv, "--on-error", "skip", "--json"]])
    except SystemExit as exit_:
        status = exit_.code
    err = capsys.readouterr().err
    assert status == 0, err
    lines = err.strip().splitlines()
    assert len(lines) == 2 and all(line.startswith("keras-gans evaluate: warning: ")
                                   for line in lines), err
    assert "notes.txt" in lines[0] and "bad.png" in lines[1], err


# --- The zoo's user directory ---


def _no_network(monkeypatch):
    import urllib.request

    import keras

    def refuse(*args, **kwargs):
        raise AssertionError("the network was used")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.setattr(keras.utils, "get_file", refuse)


def test_url_handle_of_a_shipped_entry_uses_the_package(tmp_path, monkeypatch):
    import keras_gans

    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("KERAS_GANS_HOME", str(home))
    _no_network(monkeypatch)
    for handle in ("https://example.invalid/zoo/dcgan_mnist", "hf://owner/repo/dcgan_mnist/5"):
        assert isinstance(keras_gans.DCGAN.from_preset(handle, compile=False),
                          keras_gans.DCGAN)
    assert list(home.iterdir()) == []


def test_keras_gans_home_that_is_a_file_is_named_before_anything(tmp_path, monkeypatch):
    import keras_gans
    from keras_gans import registry

    home = tmp_path / "one.png"
    home.write_bytes(b"mine")
    _no_network(monkeypatch)
    for value, where in ((home, "it is a file"), (home / "sub", "above it is a file")):
        monkeypatch.setenv("KERAS_GANS_HOME", str(value))
        with pytest.raises(NotADirectoryError, match=rf"KERAS_GANS_HOME='.*one\.png.*' cannot "
                                                     rf"hold the zoo's downloads: .*{where}"):
            keras_gans.DCGAN.from_preset("hf://owner/repo/not_in_the_zoo")
        with pytest.raises(NotADirectoryError, match=r"KERAS_GANS_HOME='.*one\.png"):
            registry._fetch("dcgan_mnist", 5, registry.KERAS_FILE, "0" * 64,
                            url="https://example.invalid/zoo")
    assert home.read_bytes() == b"mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.png"]


def test_a_failed_fetch_leaves_no_folder_behind(tmp_path, monkeypatch):
    import keras

    import keras_gans

    home = tmp_path / "home"
    home.mkdir()
    (home / "manifest.json").write_text(json.dumps({"models": {"ghost": {
        "variant": "DCGAN", "latest": 1,
        "versions": {"1": {"files": {"assets.extra/model.keras": "0" * 64}}}}}}))
    monkeypatch.setenv("KERAS_GANS_HOME", str(home))
    monkeypatch.setenv("KERAS_GANS_MIRROR", "https://example.invalid/zoo")

    def offline(*args, **kwargs):
        raise OSError("URL fetch failure: Name or service not known")

    monkeypatch.setattr(keras.utils, "get_file", offline)
    with pytest.raises(OSError, match=r"Could not fetch assets\.extra/model\.keras of ghost v1"):
        keras_gans.load("ghost")
    assert [p.name for p in home.iterdir()] == ["manifest.json"]
