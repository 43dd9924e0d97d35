"""The `keras-gans` command: each subcommand in a subprocess on tiny inputs.

One tiny DCGAN is trained once through `keras-gans train` (SIGKILLed after its first
checkpoint and started again) and shared by the other tests. Every subprocess that loads
a model imports TensorFlow (seconds each), so there are few of them and the independent
ones run concurrently (`launched`); help and argument errors need no TensorFlow.
"""

import glob
import json
import os
import signal
import subprocess
import sys
import time
import zipfile

import keras
import numpy as np
import pytest
from PIL import Image

import keras_gans
from keras_gans import cli, registry

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIDE = 8  # image side of every tiny model here
STEPS_PER_EPOCH = 2  # 16 images, batches of 8


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("cli")


@pytest.fixture(scope="module")
def env(work):
    home = work / "home"
    home.mkdir()
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", KERAS_GANS_HOME=str(home),
               PYTHONPATH=os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")])))
    for name in ("KERAS_GANS_MIRROR", "KERAS_GANS_DEBUG"):
        env.pop(name, None)
    return env


@pytest.fixture(scope="module")
def images(work):
    """16 grayscale 8x8 PNGs (gradients with noise)."""
    folder = work / "images"
    folder.mkdir()
    rng = np.random.default_rng(0)
    ramp = np.linspace(0, 255, SIDE * SIDE).reshape(SIDE, SIDE)
    for i in range(16):
        pixels = ramp * ((i % 4) + 1) / 4 + rng.integers(0, 40, (SIDE, SIDE))
        Image.fromarray(pixels.clip(0, 255).astype("uint8")).save(folder / f"{i:02d}.png")
    return folder


def run_cli(env, *args, timeout=300):
    return subprocess.run([sys.executable, "-m", "keras_gans", *map(str, args)], env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)


class Jobs:
    """`keras-gans` subprocesses run in the background, so TensorFlow imports overlap."""

    def __init__(self, env, folder):
        self.env, self.folder, self.procs = env, folder, {}

    def start(self, key, *args):
        out = open(self.folder / f"{key}.out", "w")  # noqa: SIM115 - closed in `result`
        err = open(self.folder / f"{key}.err", "w")  # noqa: SIM115
        proc = subprocess.Popen([sys.executable, "-m", "keras_gans", *map(str, args)],
                                env=self.env, stdout=out, stderr=err, text=True)
        self.procs[key] = (proc, out, err)

    def result(self, key, timeout=600):
        proc, out, err = self.procs[key]
        proc.wait(timeout=timeout)
        out.close()
        err.close()
        return subprocess.CompletedProcess(
            proc.args, proc.returncode, (self.folder / f"{key}.out").read_text(),
            (self.folder / f"{key}.err").read_text())


def assert_ok(proc):
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr, proc.stderr


def assert_usage_error(proc, *fragments):
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-3000:])
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("keras-gans") and ": error: " in lines[0], lines[0]
    assert "Traceback" not in proc.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def read_png(path):
    return np.asarray(Image.open(path))


def image_summaries(log_dir):
    """`{tag: [(step, height, width), ...]}` of the image summaries under `log_dir`."""
    import tensorflow as tf

    found = {}
    for path in sorted(glob.glob(os.path.join(str(log_dir), "events.out.tfevents.*"))):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                if value.metadata.plugin_data.plugin_name == "images":
                    width, height = (int(v) for v in value.tensor.string_val[:2])
                    decoded = tf.io.decode_png(value.tensor.string_val[2]).shape
                    assert tuple(decoded[:2]) == (height, width)
                    found.setdefault(value.tag, []).append((int(event.step), height, width))
    return found


# --- Everything that imports TensorFlow, started once and overlapped ---


TRAIN_ARGS = ["--epochs", 2, "--batch-size", 8, "--save-freq", 1, "--latent-dim", 4,
              "--base-filters", 4, "--samples", 4]


def save_tiny_models(folder):
    """A tiny classifier (with a 'features' layer), CycleGAN and SRGAN, saved as .keras."""
    import keras

    from keras_gans.models.cyclegan import CycleGAN
    from keras_gans.models.srgan import SRGAN

    inputs = keras.Input((SIDE, SIDE, 1))
    features = keras.layers.Dense(6, activation="relu", name="features")(
        keras.layers.Flatten()(inputs))
    outputs = keras.layers.Dense(3, activation="softmax")(features)
    keras.Model(inputs, outputs).save(folder / "classifier.keras")
    cyclegan = CycleGAN.from_shape((SIDE, SIDE, 1), filters=4, num_residual_blocks=1,
                                   d_filters=4, pool_size=2, seed=0)
    cyclegan.compile()
    cyclegan.save(folder / "cyclegan.keras")
    srgan = SRGAN(scale=2, num_blocks=1, filters=4, d_filters=4, dense_units=8, channels=1,
                  hr_size=SIDE, content_loss="mse")
    srgan.compile()
    srgan.save(folder / "srgan.keras")
    return {"cyclegan": cyclegan, "srgan": srgan}


@pytest.fixture(scope="module")
def launched(work, images, env):
    """`keras-gans train dcgan`, SIGKILLed after its first checkpoint and started again;
    meanwhile the tiny models, then translate, upscale, evaluate and export."""
    run_dir = work / "run"
    train_args = ["train", "dcgan", images, "--out", run_dir, *TRAIN_ARGS]
    first = subprocess.Popen([sys.executable, "-m", "keras_gans", *map(str, train_args)],
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             text=True)
    checkpoint = run_dir / "checkpoint.keras"
    deadline = time.time() + 300
    while not checkpoint.exists() and first.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first_stderr = first.communicate()[1]
    assert checkpoint.exists(), first_stderr[-3000:]

    jobs = Jobs(env, work)
    # Resumed at 3 steps per call (a speed option: not one of the run's arguments).
    jobs.start("train", *train_args, "--export", "--steps-per-execution", 3)
    models = save_tiny_models(work)
    jobs.start("translate", "translate", work / "cyclegan.keras", images, work / "translated",
               "--direction", "b2a")
    jobs.start("upscale", "upscale", work / "srgan.keras", images, work / "upscaled")
    train = jobs.result("train")
    assert_ok(train)
    model = run_dir / "model.keras"
    jobs.start("evaluate", "evaluate", model, "--data", images, "--feature-extractor",
               work / "classifier.keras", "--metrics", "fid,kid,is,coverage", "-n", 16,
               "--json")
    jobs.start("export", "export", model, work / "home" / "tiny_dcgan", "--version", 3)
    return {"run_dir": run_dir, "train_args": train_args, "models": models, "jobs": jobs,
            "first_returncode": first.returncode, "train": train}


def test_train_resumes_after_sigkill(launched):
    run_dir, second = launched["run_dir"], launched["train"]
    # Killed mid-run, not finished before the signal.
    assert launched["first_returncode"] == -signal.SIGKILL
    resumed = [line for line in second.stdout.splitlines() if "resuming from step" in line]
    assert len(resumed) == 1, second.stdout[-3000:]
    step = int(resumed[0].split("resuming from step ")[1].split()[0])
    assert 0 < step < 2 * STEPS_PER_EPOCH
    assert json.loads((run_dir / "run.json").read_text())["resumed_at_step"] == step
    assert f"done: step {2 * STEPS_PER_EPOCH}, epoch 2" in second.stdout
    for name in ("model.keras", "checkpoint.keras", "history.csv", "args.json",
                 "samples/epoch_0002.png", "savedmodel/1/saved_model.pb",
                 "savedmodel/1/assets.extra/model.keras"):
        assert (run_dir / name).is_file(), name
    assert json.loads((run_dir / "args.json").read_text())["arguments"]["latent_dim"] == 4
    # The run ended on its last step at 3 steps per call, and its model keeps the count.
    with zipfile.ZipFile(run_dir / "model.keras") as archive:
        config = json.loads(archive.read("config.json"))
    assert config["compile_config"]["steps_per_execution"] == 3
    # TensorBoard: the last epoch's 2x2 grid of 8x8 samples beside Keras's scalars.
    summaries = image_summaries(run_dir / "logs" / "train")
    assert (1, 22, 22) in summaries["samples"], summaries


def test_train_refuses_a_run_dir_started_with_other_arguments(launched, env):
    args = [*launched["train_args"]]
    args[args.index("--latent-dim") + 1] = 8
    assert_usage_error(run_cli(env, *args), "--latent-dim 4 (now 8)")


# --- Zoo: export, list, info, sample by name ---


def test_export_then_list_info_and_sample_from_the_zoo(launched, env, work):
    home = work / "home"
    assert_ok(launched["jobs"].result("export"))
    version_dir = home / "tiny_dcgan" / "3"
    assert (version_dir / "saved_model.pb").is_file()
    assert (version_dir / "assets.extra" / "model.keras").is_file()
    registry.register("tiny_dcgan", 3, version_dir,
                      {"description": "test entry", "variant": "DCGAN",
                       "data": "tiny gradients (16 images)", "recipe": "none"},
                      {"generated": {"frechet_distance": 1.5, "classifier_score": 2.0}},
                      manifest_path=home / "manifest.json")

    listing = run_cli(env, "list", "tiny_*")
    assert_ok(listing)
    header, *rows = listing.stdout.splitlines()
    assert header.split() == ["NAME", "VARIANT", "DATA", "KEY", "METRIC"]
    assert rows == ["tiny_dcgan  DCGAN    tiny gradients  frechet_distance 1.5"]
    assert "No zoo models match" in run_cli(env, "list", "no_such_*").stdout

    info = run_cli(env, "info", "tiny_dcgan", "--json")
    assert_ok(info)
    entry = json.loads(info.stdout)
    assert entry["name"] == "tiny_dcgan" and entry["latest"] == 3
    assert set(entry["versions"]["3"]["files"]) >= {"saved_model.pb",
                                                    "assets.extra/model.keras"}

    grid, separate = work / "grid.png", work / "separate"
    proc = run_cli(env, "sample", "tiny_dcgan", "-n", 6, "-o", grid, "--separate", separate,
                   "--seed", 1)
    assert_ok(proc)
    # 6 images of 8x8 in a 3-column grid with 2-pixel padding.
    assert read_png(grid).shape == (22, 32)
    files = sorted(os.listdir(separate))
    assert files == [f"{i:04d}.png" for i in range(6)]
    for i, name in enumerate(files):
        row, col = divmod(i, 3)
        top, left = 2 + row * 10, 2 + col * 10
        np.testing.assert_array_equal(read_png(separate / name),
                                      read_png(grid)[top:top + 8, left:left + 8])

    # Versions are never overwritten.
    again = run_cli(env, "export", launched["run_dir"] / "model.keras", home / "tiny_dcgan",
                    "--version", 3)
    assert_usage_error(again, "already exists")

    # --jit-compile: the next free version, its forward pass compiled with XLA.
    xla = run_cli(env, "export", launched["run_dir"] / "model.keras", home / "tiny_dcgan",
                  "--jit-compile")
    assert_ok(xla)
    assert xla.stdout.strip().endswith(f"{home / 'tiny_dcgan' / '4'} (XLA)"), xla.stdout
    metadata = json.loads((home / "tiny_dcgan" / "4" / "assets.extra" / "metadata.json")
                          .read_text())
    assert metadata["jit_compile"] is True


# --- evaluate, translate, upscale ---


def test_evaluate_json_and_table(launched, work, capsys):
    model = launched["run_dir"] / "model.keras"
    proc = launched["jobs"].result("evaluate")
    assert_ok(proc)
    report = json.loads(proc.stdout)
    assert report["generated"] == 16 and report["real"] == 16
    results = report["metrics"]
    assert set(results) == {"fid", "kid", "is", "coverage"}
    assert results["fid"]["value"] >= 0.0 and np.isfinite(results["kid"]["value"])
    assert 1.0 - 1e-6 <= results["is"]["value"] <= 3.0
    assert sum(results["coverage"]["histogram"]) == 16
    assert len(results["coverage"]["histogram"]) == 3

    # The table, in process (TensorFlow is already imported here).
    rc = cli.main(["evaluate", str(model), "--feature-extractor",
                   str(work / "classifier.keras"), "-n", "8", "--seed", "3"])
    out = capsys.readouterr().out
    assert rc == 0
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.strip()}
    # Without --data only the classifier metrics apply.
    assert "fid" not in rows and "kid" not in rows
    assert float(rows["is"][1]) >= 1.0 - 1e-6 and 0.0 <= float(rows["coverage"][1]) <= 1.0


def test_translate_folder(launched, images, work):
    out = work / "translated"
    assert_ok(launched["jobs"].result("translate"))
    assert sorted(os.listdir(out)) == sorted(os.listdir(images))
    original = read_png(images / "05.png")
    expected = launched["models"]["cyclegan"].translate(original[..., None], direction="b2a")
    np.testing.assert_allclose(read_png(out / "05.png").astype(int),
                               expected[..., 0].astype(int), atol=1)


def test_upscale_folder_and_file(launched, images, work, capsys):
    out = work / "upscaled"
    assert_ok(launched["jobs"].result("upscale"))
    assert sorted(os.listdir(out)) == sorted(os.listdir(images))
    assert read_png(out / "03.png").shape == (2 * SIDE, 2 * SIDE)
    expected = launched["models"]["srgan"].upscale(read_png(images / "03.png")[..., None])
    np.testing.assert_allclose(read_png(out / "03.png").astype(int),
                               expected[..., 0].astype(int), atol=1)
    # One file, in process; into an existing folder it keeps the input's name.
    assert cli.main(["upscale", str(work / "srgan.keras"), str(images / "03.png"),
                     str(work)]) == 0
    np.testing.assert_array_equal(read_png(work / "03.png"), read_png(out / "03.png"))
    assert "wrote" in capsys.readouterr().out


def test_folder_outputs_never_collide(launched, work):
    folder = work / "same_stem"
    folder.mkdir()
    pixels = np.arange(SIDE * SIDE, dtype=np.uint8).reshape(SIDE, SIDE)
    Image.fromarray(pixels).save(folder / "a.png")
    Image.fromarray(255 - pixels).save(folder / "a.jpg", quality=100)
    Image.fromarray(pixels).save(folder / "b.png")
    out = work / "same_stem_up"
    assert cli.main(["upscale", str(work / "srgan.keras"), str(folder), str(out)]) == 0
    assert sorted(os.listdir(out)) == ["a_jpg.png", "a_png.png", "b.png"]
    assert not np.array_equal(read_png(out / "a_jpg.png"), read_png(out / "a_png.png"))


def test_train_srgan_with_the_bicubic_skip(images, work, capsys):
    run_dir = work / "sr_skip"
    assert cli.main(["train", "srgan", str(images), "--out", str(run_dir), "--scale", "2",
                     "--hr-size", "8", "--residual-blocks", "1", "--base-filters", "4",
                     "--bicubic-skip", "--epochs", "1", "--batch-size", "8",
                     "--samples", "2", "--verbose", "0"]) == 0
    model = keras.models.load_model(run_dir / "model.keras", safe_mode=True)
    assert model.bicubic_skip is True
    assert model.generator.get_layer("bicubic") is not None
    capsys.readouterr()


def test_train_srgan_without_batch_norm_on_the_l1_loss(images, work, capsys):
    run_dir = work / "sr_no_bn"
    assert cli.main(["train", "srgan", str(images), "--out", str(run_dir), "--scale", "2",
                     "--hr-size", "8", "--residual-blocks", "1", "--base-filters", "4",
                     "--no-batch-norm", "--content-loss", "l1", "--epochs", "1",
                     "--batch-size", "8", "--samples", "2", "--verbose", "0"]) == 0
    model = keras.models.load_model(run_dir / "model.keras", safe_mode=True)
    assert model.batch_norm is False and type(model.content_loss).__name__ == "PixelL1"
    assert not any(isinstance(layer, keras.layers.BatchNormalization)
                   for layer in model.generator.layers)
    capsys.readouterr()
    # --init takes the generator as it is: asking to drop a batch norm it has is an error.
    with_norm = work / "sr_skip"
    if not (with_norm / "model.keras").exists():
        assert cli.main(["train", "srgan", str(images), "--out", str(with_norm), "--scale",
                         "2", "--hr-size", "8", "--residual-blocks", "1", "--base-filters",
                         "4", "--epochs", "1", "--batch-size", "8", "--samples", "2",
                         "--verbose", "0"]) == 0
    assert cli.main(["train", "srgan", str(images), "--out", str(work / "sr_adv"),
                     "--phase", "adversarial", "--init", str(with_norm), "--no-batch-norm",
                     "--epochs", "1", "--batch-size", "8", "--verbose", "0"]) != 0
    err = capsys.readouterr().err
    assert "--no-batch-norm" in err and "batch_norm=True" in err, err
    assert not (work / "sr_adv" / "model.keras").exists()


def test_train_srgan_adversarial_phase_with_relativistic_losses(images, work, capsys):
    pretrained = work / "sr_rel_pre"
    common = ["--scale", "2", "--hr-size", "8", "--residual-blocks", "1", "--base-filters",
              "4", "--epochs", "1", "--batch-size", "8", "--verbose", "0"]
    # The flag belongs to the adversarial phase: a pretrain run refuses it, naming it.
    assert cli.main(["train", "srgan", str(images), "--out", str(pretrained), "--relativistic",
                     *common]) != 0
    err = capsys.readouterr().err
    assert "--relativistic" in err and "'pretrain'" in err, err
    assert not (pretrained / "model.keras").exists()
    assert cli.main(["train", "srgan", str(images), "--out", str(pretrained), "--samples", "2",
                     *common]) == 0
    run_dir = work / "sr_rel_adv"
    assert cli.main(["train", "srgan", str(images), "--out", str(run_dir), "--phase",
                     "adversarial", "--init", str(pretrained), "--content-loss", "mse",
                     "--relativistic", "--samples", "2", *common]) == 0
    model = keras.models.load_model(run_dir / "model.keras", safe_mode=True)
    assert type(model).__name__ == "SRGAN" and model.relativistic is True
    assert model.frequency_separation == 0.0
    # --frequency-separation too belongs to the adversarial phase.
    assert cli.main(["train", "srgan", str(images), "--out", str(work / "sr_fs_pre"),
                     "--frequency-separation", "1", *common]) != 0
    err = capsys.readouterr().err
    assert "--frequency-separation 1" in err and "'pretrain'" in err, err
    run_dir = work / "sr_fs_adv"
    assert cli.main(["train", "srgan", str(images), "--out", str(run_dir), "--phase",
                     "adversarial", "--init", str(pretrained), "--content-loss", "mse",
                     "--frequency-separation", "0.5", "--samples", "2", *common]) == 0
    model = keras.models.load_model(run_dir / "model.keras", safe_mode=True)
    assert model.frequency_separation == 0.5 and model.relativistic is False
    # Too small a blur: the library's check, reported under the flag's name.
    assert cli.main(["train", "srgan", str(images), "--out", str(work / "sr_fs_small"),
                     "--phase", "adversarial", "--init", str(pretrained),
                     "--frequency-separation", "0.2", *common]) != 0
    err = capsys.readouterr().err
    assert "--frequency-separation 0.2" in err and "at least 0.5" in err, err
    assert not (work / "sr_fs_small" / "model.keras").exists()
    with pytest.raises(SystemExit):
        cli.main(["train", "srgan", str(images), "--out", str(work / "sr_fs_bad"),
                  "--phase", "adversarial", "--init", str(pretrained),
                  "--frequency-separation", "-1", *common])
    err = capsys.readouterr().err
    assert "--frequency-separation" in err and "-1" in err, err
    capsys.readouterr()


def test_sample_labels_of_a_conditional_gan(launched, work, capsys, monkeypatch):
    from keras_gans.models.dcgan import DCGAN

    gan = DCGAN.from_shape((SIDE, SIDE, 1), latent_dim=4, base_filters=4, num_classes=3,
                           seed=0)
    gan.compile()
    gan.save(work / "conditional.keras")
    out = work / "conditional"
    (work / "cwd").mkdir()
    monkeypatch.chdir(work / "cwd")
    assert cli.main(["sample", str(work / "conditional.keras"), "-n", "3", "--labels",
                     "2,0,1", "--seed", "5", "--separate", str(out)]) == 0
    assert os.listdir(".") == []  # --separate alone writes no grid
    expected = gan.generate(3, seed=5, labels=[2, 0, 1])
    for i in range(3):
        np.testing.assert_allclose(read_png(out / f"{i:04d}.png").astype(int),
                                   (expected[i, ..., 0] + 1) * 127.5, atol=1)
    capsys.readouterr()
    assert cli.main(["sample", str(work / "conditional.keras"), "-n", "3", "--labels",
                     "0,1"]) == 2
    assert capsys.readouterr().err == ("keras-gans sample: error: --labels has 2 class ids; "
                                       "expected 1 or -n/--num 3.\n")
    assert cli.main(["sample", str(launched["run_dir"] / "model.keras"), "--labels", "1"]) == 2
    assert "unconditional" in capsys.readouterr().err


# --- Help and bad arguments (no TensorFlow needed) ---


def test_help_of_every_subcommand_without_tensorflow(env):
    script = os.path.join(os.path.dirname(sys.executable), "keras-gans")
    proc = subprocess.run([script, "--help"], env=env, capture_output=True, text=True,
                          check=False)
    assert_ok(proc)
    for command in ("list", "info", "sample", "train", "translate", "upscale", "inpaint",
                    "evaluate", "export"):
        assert command in proc.stdout
        sub = run_cli(env, command, "--help")
        assert_ok(sub)
        assert sub.stdout.startswith(f"usage: keras-gans {command}")
    code = ("import sys\nfrom keras_gans import cli\n"
            "for c in ('--help', 'train --help', 'evaluate --help'):\n"
            "    try:\n        cli.main(c.split())\n    except SystemExit:\n        pass\n"
            "print('tensorflow' in sys.modules)")
    check = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                           text=True, check=False)
    assert check.stdout.strip().splitlines()[-1] == "False", check.stderr


@pytest.mark.parametrize("args, fragment", [
    (["train", "gan9000", "{images}", "--out", "{work}/r"], "invalid choice: 'gan9000'"),
    (["train", "dcgan", "{work}/no_such_folder", "--out", "{work}/r"], "no such file"),
    (["train", "dcgan", "{images}", "--out", "{work}/r", "--n-critic", "3"],
     "--n-critic applies to wgan_gp"),
    (["train", "dcgan", "{images}", "--out", "{work}/r", "--epochs", "-1"], "--epochs"),
    (["train", "dcgan", "{images}", "--out", "{work}/r", "--upsampling", "bilinear"],
     "--upsampling: invalid choice: 'bilinear'"),
    (["train", "dcgan", "{images}", "--out", "{work}/r", "--steps-per-execution", "0"],
     "--steps-per-execution: expected a positive integer, received: '0'"),
    (["sample", "dcgan_mnist", "-n", "0"], "argument -n/--num"),
    (["sample", "no_such_model"], "Unknown zoo model name='no_such_model'"),
    (["evaluate", "no_such_model", "--metrics", "fid,bogus"], "--metrics"),
    (["translate", "{work}/none.keras", "{images}", "{work}/t"], "no such file"),
    ([], "required"),
])
def test_bad_arguments_exit_2_with_one_line(args, fragment, env, work, images):
    args = [a.format(work=work, images=images) for a in args]
    proc = run_cli(env, *args, timeout=60)
    assert_usage_error(proc, fragment)
    assert proc.stdout == ""
    assert not os.path.exists(work / "r")


def test_unexpected_errors_exit_1_and_debug_prints_the_traceback(monkeypatch, capsys):
    def broken(args):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(cli.catalog, "run_list", broken)
    assert cli.main(["list"]) == 1
    err = capsys.readouterr().err
    assert err == ("keras-gans list: internal error: RuntimeError: boom second line (run "
                   "with --debug for the traceback)\n")
    assert cli.main(["list", "--debug"]) == 1
    assert "Traceback" in capsys.readouterr().err


# --- TensorBoardImages ---


def test_tensorboard_images_for_generators_translators_and_upscalers(launched, work):
    models = launched["models"]
    import keras

    from keras_gans.callbacks import TensorBoardImages
    from keras_gans.models.dcgan import DCGAN

    rng = np.random.default_rng(0)
    gan = DCGAN.from_shape((SIDE, SIDE, 1), latent_dim=4, base_filters=4, seed=0)
    gan.compile()
    callback = TensorBoardImages(work / "tb_gan", n=4, seed=0)
    gan.fit(rng.uniform(-1, 1, (8, SIDE, SIDE, 1)).astype("float32"), batch_size=4, epochs=2,
            verbose=0, callbacks=[callback, keras.callbacks.TensorBoard(work / "tb_gan")])
    assert image_summaries(work / "tb_gan" / "train") == {
        "samples": [(0, 22, 22), (1, 22, 22)]}

    a = rng.integers(0, 256, (5, SIDE, SIDE, 1), dtype=np.uint8)
    b = rng.integers(0, 256, (5, SIDE, SIDE, 1), dtype=np.uint8)
    callback = TensorBoardImages(work / "tb_cyclegan", n=3, inputs=(a, b))
    callback.set_model(models["cyclegan"])
    callback.write(7)
    # 3 pairs (8x16 each) in 2 columns.
    assert image_summaries(work / "tb_cyclegan" / "train") == {"a2b": [(7, 22, 38)],
                                                                "b2a": [(7, 22, 38)]}
    low = rng.integers(0, 256, (2, SIDE // 2, SIDE // 2, 1), dtype=np.uint8)
    callback = TensorBoardImages(work / "tb_srgan", n=2, inputs=(low, a[:2]))
    callback.set_model(models["srgan"])
    callback.write(0)
    # Bicubic | model | original, 8x24 each, in one column.
    assert image_summaries(work / "tb_srgan" / "train") == {"upscale": [(0, 22, 28)]}

    callback = TensorBoardImages(work / "tb_missing", n=2)
    callback.set_model(models["srgan"])
    with pytest.raises(ValueError, match="inputs"):
        callback.write(0)
    with pytest.raises(ValueError, match="n=0"):
        TensorBoardImages(work / "tb", n=0)


def test_train_dcgan_self_conditioned_on_clusters(images, work, capsys):
    run_dir = work / "clusters"
    assert cli.main(["train", "dcgan", str(images), "--out", str(run_dir), "--clusters", "4",
                     "--epochs", "1", "--batch-size", "8", "--latent-dim", "4",
                     "--base-filters", "4", "--samples", "2", "--verbose", "0",
                     "--upsampling", "resize"]) == 0
    model = keras.models.load_model(run_dir / "model.keras", safe_mode=True)
    assert any(isinstance(layer, keras.layers.UpSampling2D) for layer in model.generator.layers)
    assert model.clusters == 4 and model.cluster_assigner.is_adapted
    assert model.num_classes is None
    # The four brightness levels of the images are the four clusters.
    assigned = model.cluster_assigner(keras_gans.data.images(
        str(images), batch_size=16, shuffle=False).take(1).get_single_element()).numpy()
    assert sorted(np.bincount(assigned, minlength=4).tolist()) == [4, 4, 4, 4]
    capsys.readouterr()
    assert cli.main(["train", "dcgan", str(images), "--out", str(work / "clusters_bad"),
                     "--clusters", "1", "--epochs", "1", "--batch-size", "8"]) == 2
    err = capsys.readouterr().err
    assert "--clusters" in err and "1" in err


def test_train_srgan_with_resize_upsampling_and_init_keeps_it(images, work, capsys):
    pretrained = work / "sr_resize"
    common = ["--scale", "2", "--hr-size", "8", "--residual-blocks", "1", "--base-filters",
              "4", "--epochs", "1", "--batch-size", "8", "--verbose", "0"]
    assert cli.main(["train", "srgan", str(images), "--out", str(pretrained),
                     "--upsampling", "resize", "--samples", "2", *common]) == 0
    model = keras.models.load_model(pretrained / "model.keras", safe_mode=True)
    assert model.upsampling == "resize"
    assert model.generator.get_layer("up0_resize") is not None
    capsys.readouterr()
    # --init takes the generator as it is: another --upsampling is refused, naming it.
    assert cli.main(["train", "srgan", str(images), "--out", str(work / "sr_resize_adv"),
                     "--phase", "adversarial", "--init", str(pretrained), "--upsampling",
                     "subpixel", "--content-loss", "mse", *common]) != 0
    err = capsys.readouterr().err
    assert "--upsampling" in err and "resize" in err, err
    assert not (work / "sr_resize_adv").exists() or not any((work / "sr_resize_adv").iterdir())
    assert cli.main(["train", "srgan", str(images), "--out", str(work / "sr_resize_adv"),
                     "--phase", "adversarial", "--init", str(pretrained), "--content-loss",
                     "mse", *common]) == 0
    adversarial = keras.models.load_model(work / "sr_resize_adv" / "model.keras",
                                          safe_mode=True)
    assert type(adversarial).__name__ == "SRGAN" and adversarial.upsampling == "resize"
    capsys.readouterr()
    # Another variant's choice, or none at all, is refused by the flag's name.
    assert cli.main(["train", "srgan", str(images), "--out", str(work / "sr_bad"),
                     "--upsampling", "transposed", *common]) != 0
    err = capsys.readouterr().err
    assert "--upsampling 'transposed'" in err and "subpixel, resize" in err, err
    assert cli.main(["train", "dcgan", str(images), "--out", str(work / "dc_bad"),
                     "--upsampling", "subpixel", "--epochs", "1", "--verbose", "0"]) != 0
    assert "transposed, resize" in capsys.readouterr().err
    assert not (work / "sr_bad").exists() and not (work / "dc_bad").exists()
    with pytest.raises(SystemExit):
        cli.main(["train", "srgan", str(images), "--out", str(work / "sr_bad"),
                  "--upsampling", "bilinear", *common])
    assert "--upsampling" in capsys.readouterr().err


def test_srgan_runs_and_files_from_before_upsampling_keep_subpixel(images, work, capsys):
    run_dir = work / "sr_old_style"
    common = ["--scale", "2", "--hr-size", "8", "--residual-blocks", "1", "--base-filters",
              "4", "--epochs", "1", "--batch-size", "8", "--verbose", "0"]
    assert cli.main(["train", "srgan", str(images), "--out", str(run_dir), *common]) == 0
    # Make the run look older than the option: neither its arguments nor its model's
    # config record `upsampling`.
    args_path = run_dir / "args.json"
    recorded = json.loads(args_path.read_text())
    assert recorded["arguments"].pop("upsampling") == "subpixel"
    args_path.write_text(json.dumps(recorded))
    model_path = run_dir / "model.keras"
    with zipfile.ZipFile(model_path) as z:
        files = {name: z.read(name) for name in z.namelist()}
    config = json.loads(files["config.json"])
    assert config["config"].pop("upsampling") == "subpixel"
    files["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(model_path, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    capsys.readouterr()
    # Resuming it with another --upsampling is refused: it was trained with the default.
    assert cli.main(["train", "srgan", str(images), "--out", str(run_dir), "--upsampling",
                     "resize", *common]) != 0
    err = capsys.readouterr().err
    assert "--upsampling 'subpixel' (not recorded" in err and "(now 'resize')" in err, err
    # Starting the adversarial phase from it with another --upsampling is refused too.
    adversarial = work / "sr_old_style_adv"
    assert cli.main(["train", "srgan", str(images), "--out", str(adversarial), "--phase",
                     "adversarial", "--init", str(run_dir), "--upsampling", "resize",
                     "--content-loss", "mse", *common]) != 0
    err = capsys.readouterr().err
    assert "--upsampling" in err and "'subpixel'" in err, err
    assert not (adversarial / "model.keras").exists()
