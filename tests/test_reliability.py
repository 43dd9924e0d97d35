"""Reliability: nothing a user trained is lost, and nothing unsafe is loaded.

- Crash and resume: a run started by the documented Python command is killed with
  SIGKILL at a random step, started again with the same command, and continues from its
  last checkpoint; a kill during a checkpoint write leaves the previous checkpoint
  loadable. The resumed run ends with the same weights as an uninterrupted one (same
  batches, same noise). `keras-gans train` killed and resumed: tests/test_cli.py.
- NaN / Inf guard: training stops naming the step and the loss; the last good
  checkpoint stays intact.
- Safe loading: `safe_mode=True` everywhere, no pickle, sha256 checked before use.
- Determinism: the killed-and-resumed run and the uninterrupted reference are two runs
  of the documented path (`keras.utils.set_random_seed`, the same data) in different
  processes; their weights must be identical (CPU).
"""

import os
import random
import re
import select
import signal
import subprocess
import sys
import textwrap
import time
import zipfile

import keras
import numpy as np
import pytest
import tensorflow as tf
from gan_test_utils import state

import keras_gans
from keras_gans import callbacks, registry, training
from keras_gans.models.dcgan import DCGAN

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The documented resumable Python path, as a user would write it. Run as a script in
# a subprocess (killed for real), and imported here for the reference runs.
RUN_SCRIPT = textwrap.dedent(
    """
    import os, signal, sys, time
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import numpy as np
    from keras_gans import data, training
    from keras_gans.models.dcgan import DCGAN

    EPOCHS, BATCH, IMAGES, SAVE_FREQ = 2, 4, 48, 5


    def create():
        gan = DCGAN.from_shape((8, 8, 1), latent_dim=4, base_filters=4, ema_decay=0.9,
                               seed=3)
        gan.compile()
        return gan


    class Progress(keras.callbacks.Callback):
        # Prints each finished step (after its checkpoint, if any) and sleeps, so the
        # test can kill the run at a step of its choice.
        def __init__(self, sleep):
            super().__init__()
            self.sleep = sleep

        def on_train_batch_end(self, batch, logs=None):
            print("step", int(self.model.optimizer.iterations.numpy()), flush=True)
            time.sleep(self.sleep)


    def kill_during_next_save():
        # Fault injection: the next checkpoint write stops half-way, as with a kill.
        original = keras.Model.save

        def save_half_then_die(self, filepath, *args, **kwargs):
            original(self, filepath, *args, **kwargs)
            with open(filepath, "r+b") as f:
                f.truncate(os.path.getsize(filepath) // 2)
            print("killed while writing", filepath, flush=True)
            os.kill(os.getpid(), signal.SIGKILL)

        keras.Model.save = save_half_then_die


    def main(run_dir, sleep=0.0):
        keras.utils.set_random_seed(0)
        x = np.random.default_rng(0).integers(0, 256, (IMAGES, 8, 8, 1), dtype=np.uint8)
        dataset = data.images(x, batch_size=BATCH, seed=0)
        model, resumed = training.resume_or_create(run_dir, create)
        print("start", int(model.optimizer.iterations.numpy()), resumed, flush=True)
        training.train(model, dataset, run_dir, epochs=EPOCHS, save_freq=SAVE_FREQ,
                       callbacks=[Progress(sleep)], sample_grid=False, tensorboard=False,
                       verbose=0)
        print("done", int(model.optimizer.iterations.numpy()), flush=True)
        return model


    if __name__ == "__main__":
        if os.environ.get("KILL_DURING_NEXT_SAVE"):
            kill_during_next_save()
        main(sys.argv[1], float(sys.argv[2]))
    """
)

TOTAL_STEPS = 2 * 48 // 4
SAVE_FREQ = 5


def _env(**extra):
    paths = [ROOT, os.environ.get("PYTHONPATH", "")]
    return dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2",
                PYTHONPATH=os.pathsep.join(p for p in paths if p), **extra)


def _kill_at_step(command, env, kill_step, timeout=240):
    """Start `command`, SIGKILL it once it printed `step N` with N >= kill_step.

    Returns `(last step seen, stdout lines, stderr)`.
    """
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, cwd=ROOT)
    lines, seen, deadline = [], -1, time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([proc.stdout], [], [], 1.0)
            if not ready:
                continue
            line = proc.stdout.readline()
            if not line:  # the process ended before the kill
                break
            lines.append(line.strip())
            match = re.fullmatch(r"step (\d+)", line.strip())
            if match:
                seen = int(match.group(1))
                if seen >= kill_step:
                    proc.send_signal(signal.SIGKILL)
                    break
    finally:
        if proc.poll() is None and seen < kill_step:
            proc.kill()
        proc.wait(timeout=60)
        stderr = proc.stderr.read()
        proc.stdout.close()
        proc.stderr.close()
    assert seen >= kill_step, f"never reached step {kill_step}: {lines[-5:]} {stderr[-2000:]}"
    assert proc.returncode == -signal.SIGKILL, (proc.returncode, stderr[-2000:])
    return seen, lines, stderr


def _checkpoint_step(run_dir):
    model = registry.load_file(training.checkpoint_path(run_dir))
    return int(model.optimizer.iterations.numpy()), model


def _temporaries(run_dir):
    return sorted(name for name in os.listdir(run_dir) if name.startswith(".tmp-"))


@pytest.fixture(scope="module")
def run_script(tmp_path_factory):
    """The script file, and its functions imported in this process."""
    path = tmp_path_factory.mktemp("script") / "run_training.py"
    path.write_text(RUN_SCRIPT)
    namespace = {"__name__": "run_training"}
    exec(compile(RUN_SCRIPT, str(path), "exec"), namespace)  # noqa: S102 - our own script
    return str(path), namespace


@pytest.fixture(scope="module")
def uninterrupted(run_script, tmp_path_factory):
    """The reference: the same command, never interrupted."""
    _, namespace = run_script
    model = namespace["main"](str(tmp_path_factory.mktemp("reference") / "run"))
    return state(model)


# --- Crash and resume ---


def test_python_run_killed_at_random_step_and_during_a_write_resumes_losslessly(
        run_script, uninterrupted, tmp_path):
    script, namespace = run_script
    run_dir = str(tmp_path / "run")
    kill_step = random.randint(SAVE_FREQ + 1, TOTAL_STEPS - 2 * SAVE_FREQ)
    note = f"(killed at step >= {kill_step})"

    # 1. Killed with SIGKILL at a random step.
    seen, _, _ = _kill_at_step([sys.executable, script, run_dir, "0.2"], _env(), kill_step)
    saved, model = _checkpoint_step(run_dir)
    # Checkpoints are written before the step is printed: at most one interval is lost.
    assert saved % SAVE_FREQ == 0 and saved >= seen - seen % SAVE_FREQ, (saved, seen, note)
    assert seen - saved < SAVE_FREQ, note
    assert model.ema_generator is not None and model.d_optimizer.iterations.numpy() == saved

    # 2. The same command again resumes from that checkpoint; this time it is killed
    # half-way through writing its next checkpoint.
    result = subprocess.run([sys.executable, script, run_dir, "0"], capture_output=True,
                            text=True, env=_env(KILL_DURING_NEXT_SAVE="1"), cwd=ROOT,
                            timeout=300, check=False)
    assert result.returncode == -signal.SIGKILL, result.stderr[-3000:]
    assert f"start {saved} True" in result.stdout, (result.stdout[-500:], note)
    assert "killed while writing" in result.stdout
    # The previous checkpoint is intact and still the one found; the half-written file
    # is a temporary that nothing loads.
    assert _checkpoint_step(run_dir)[0] == saved, note
    leftovers = _temporaries(run_dir)
    assert len(leftovers) == 1 and leftovers[0].endswith("checkpoint.keras"), leftovers
    assert not zipfile.is_zipfile(os.path.join(run_dir, leftovers[0]))

    # 3. The same command once more finishes the run, skipping the batches already
    # trained on, with the same batches and noise as the uninterrupted run.
    model = namespace["main"](run_dir)
    assert int(model.optimizer.iterations.numpy()) == TOTAL_STEPS
    assert _temporaries(run_dir) == []
    final = registry.load_file(os.path.join(run_dir, training.FINAL), DCGAN)
    assert int(final.optimizer.iterations.numpy()) == TOTAL_STEPS
    got = state(model)
    assert len(got) == len(uninterrupted)
    for i, (a, b) in enumerate(zip(got, uninterrupted)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6,
                                   err_msg=f"state #{i} differs from the uninterrupted run {note}")


def _stream_run(run_dir, interrupt_at=None, steps_per_execution=None, saved=None,
                stream=True):
    """`train` on an endless dataset with steps_per_epoch (the stream mode; `stream=False`:
    one pass over a finite dataset per epoch), 3 epochs of 6 steps; `saved`: a list that
    receives the step of each checkpoint written."""
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(1).integers(0, 256, (16 if stream else 24, 8, 8, 1),
                                          dtype=np.uint8)
    dataset = keras_gans.data.images(x, batch_size=4, seed=0, repeat=stream)

    def create():
        gan = DCGAN.from_shape((8, 8, 1), latent_dim=4, base_filters=4, seed=5)
        gan.compile()
        return gan

    class Interrupt(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if int(self.model.optimizer.iterations.numpy()) == interrupt_at:
                raise KeyboardInterrupt

    class Saved(keras.callbacks.Callback):  # after the Checkpoint callback
        def on_train_batch_end(self, batch, logs=None):
            path = training.checkpoint_path(run_dir)
            if saved is not None and os.path.exists(path):
                step = _checkpoint_step(run_dir)[0]
                if not saved or saved[-1] != step:
                    saved.append(step)

        on_epoch_end = on_train_batch_end

    model, _ = training.resume_or_create(run_dir, create)
    training.train(model, dataset, run_dir, epochs=3, steps_per_epoch=6 if stream else None,
                   save_freq=4, callbacks=[Saved(), Interrupt()], sample_grid=False,
                   tensorboard=False, verbose=0, steps_per_execution=steps_per_execution)
    return model


def test_endless_dataset_resumes_its_stream(tmp_path):
    reference = _stream_run(str(tmp_path / "reference"))
    assert int(reference.optimizer.iterations.numpy()) == 18
    run_dir = str(tmp_path / "run")
    with pytest.raises(KeyboardInterrupt):
        _stream_run(run_dir, interrupt_at=11)  # mid-epoch, mid-pass over the data
    assert _checkpoint_step(run_dir)[0] == 11  # Ctrl-C checkpoints the step it hit
    resumed = _stream_run(run_dir)
    assert int(resumed.optimizer.iterations.numpy()) == 18
    for a, b in zip(state(resumed), state(reference)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    # Resumed with 4 steps per call at step 11, 1 step before an epoch's end: the run
    # still ends at step 18, with the same weights.
    with pytest.raises(KeyboardInterrupt):
        _stream_run(str(tmp_path / "again"), interrupt_at=11)
    resumed = _stream_run(str(tmp_path / "again"), steps_per_execution=4)
    assert int(resumed.optimizer.iterations.numpy()) == 18
    assert resumed.steps_per_execution == 4
    for a, b in zip(state(resumed), state(reference)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_steps_per_execution_checkpoints_on_time_and_resumes_exactly(tmp_path):
    # One pass over 6 batches per epoch at 4 steps per call: Keras calls 4 + 2 steps,
    # and the callbacks once per call, at steps 4, 6, 10, 12, 16, 18.
    reference = _stream_run(str(tmp_path / "reference"), stream=False)
    run_dir = str(tmp_path / "run")
    saved = []
    with pytest.raises(KeyboardInterrupt):
        _stream_run(run_dir, interrupt_at=10, steps_per_execution=4, saved=saved,
                    stream=False)
    # save_freq=4: step 4, step 8 at the end of the call that reached it (10), and each
    # epoch's end (6).
    assert saved == [4, 6, 10], saved
    step, checkpoint = _checkpoint_step(run_dir)
    assert step == 10 and checkpoint.steps_per_execution == 4  # saved with the model
    # Resumed with the checkpoint's count: the weights of the run of one step per call.
    resumed = _stream_run(run_dir, saved=saved, stream=False)
    assert saved == [4, 6, 10, 12, 16, 18], saved
    assert resumed.steps_per_execution == 4
    for a, b in zip(state(resumed), state(reference), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    # An endless stream with epochs of 6 steps: Keras would run 8 a epoch at 4 a call.
    saved = []
    model = _stream_run(str(tmp_path / "stream"), steps_per_execution=4, saved=saved)
    assert int(model.optimizer.iterations.numpy()) == 18 and saved[-1] == 18, saved
    assert model.steps_per_execution == 4


def test_finished_run_writes_a_missing_final_model_and_refuses_another_epoch_length(
        tmp_path):
    run_dir = str(tmp_path / "run")
    gan = DCGAN.from_shape((8, 8, 1), latent_dim=4, base_filters=4, seed=0)
    gan.compile()
    x = np.zeros((16, 8, 8, 1), "float32")
    training.train(gan, keras_gans.data.images(x, batch_size=4), run_dir, epochs=1,
                   sample_grid=False, tensorboard=False, verbose=0)
    # Killed after the last checkpoint but before `model.keras`: nothing is lost.
    os.remove(os.path.join(run_dir, training.FINAL))
    model, resumed = training.resume_or_create(run_dir, lambda: None)
    assert resumed
    assert training.train(model, keras_gans.data.images(x, batch_size=4), run_dir,
                          epochs=1, verbose=0) is None
    assert int(registry.load_file(os.path.join(run_dir, training.FINAL))
               .optimizer.iterations.numpy()) == 4
    # Resumed on batches of another size, the position in the data would be wrong.
    with pytest.raises(ValueError, match=r"8 steps per epoch.*started with 4"):
        training.train(model, keras_gans.data.images(x, batch_size=2), run_dir, epochs=2,
                       sample_grid=False, tensorboard=False, verbose=0)


# --- NaN / Inf guard ---


class _Snapshots(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.by_step = {}

    def on_train_batch_end(self, batch, logs=None):
        step = int(self.model.optimizer.iterations.numpy())
        self.by_step[step] = [w.numpy().copy() for w in self.model.weights]


def test_nan_loss_stops_naming_step_and_loss_and_keeps_last_good_checkpoint(tmp_path):
    run_dir = str(tmp_path / "run")
    gan = DCGAN.from_shape((8, 8, 1), latent_dim=4, base_filters=4, seed=0)
    gan.compile()
    x = np.random.default_rng(0).uniform(-1, 1, (24, 8, 8, 1)).astype("float32")
    x[16:20] = np.nan  # the 5th batch
    dataset = tf.data.Dataset.from_tensor_slices(x).batch(4)
    snapshots = _Snapshots()
    with pytest.raises(callbacks.NonFiniteLossError,
                       match=r"step 5: `d_loss` is nan.*last good checkpoint") as info:
        training.train(gan, dataset, run_dir, epochs=1, save_freq=1, callbacks=[snapshots],
                       sample_grid=False, tensorboard=False, verbose=0)
    assert (info.value.step, info.value.name) == (5, "d_loss")
    assert not np.all(np.isfinite(gan.generator.get_weights()[0]))  # poisoned in memory
    step, saved = _checkpoint_step(run_dir)
    assert step == 4
    for a, b in zip(saved.weights, snapshots.by_step[4]):
        assert np.all(np.isfinite(a.numpy()))
        np.testing.assert_array_equal(a.numpy(), b)
    assert not os.path.exists(os.path.join(run_dir, training.FINAL))


def test_non_finite_weight_is_not_checkpointed(tmp_path):
    path = tmp_path / "checkpoint.keras"
    gan = DCGAN.from_shape((8, 8, 1), latent_dim=4, base_filters=4, seed=0)
    gan.compile()

    class Poison(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if int(self.model.optimizer.iterations.numpy()) == 3:
                kernel = self.model.generator.get_layer("project").kernel
                kernel.assign(kernel * np.inf)

    x = np.zeros((16, 8, 8, 1), "float32")
    with pytest.raises(callbacks.NonFiniteLossError,
                       match=r"step 3: weight `[\w/]*project/kernel` is not finite"):
        gan.fit(x, batch_size=4, callbacks=[Poison(), callbacks.Checkpoint(path, 1)],
                verbose=0)
    restored = registry.load_file(path)
    assert int(restored.optimizer.iterations.numpy()) == 2
    assert all(np.all(np.isfinite(w.numpy())) for w in restored.weights)


# --- Safe loading ---


def test_package_never_unpickles_or_loads_unsafely():
    package = os.path.join(ROOT, "keras_gans")
    forbidden = re.compile(
        r"\bimport (c?pickle|marshal|dill|shelve|joblib)\b|\b(c?pickle|marshal|dill|joblib)\."
        r"loads?\(|safe_mode\s*=\s*False|allow_pickle\s*=\s*True|enable_unsafe_deserialization"
        r"|\beval\(|\bexec\(|yaml\.load\(|torch\.load\(")
    loads = 0
    for folder, _, names in os.walk(package):
        for name in names:
            if not name.endswith(".py"):
                continue
            with open(os.path.join(folder, name), encoding="utf-8") as f:
                text = f.read()
            assert not forbidden.search(text), (name, forbidden.search(text).group(0))
            for call in re.finditer(r"(?:models|saving)\.load_model\(([^()]*(\([^()]*\))?)*\)",
                                   text):
                loads += 1
                assert "safe_mode=True" in call.group(0), (name, call.group(0))
    assert loads >= 1  # registry._load_keras: where every model file is loaded


def _lambda_model(path, marker):
    # Code that must never run when the file is loaded (a lambda: Keras stores its
    # bytecode in the file).
    marker = str(marker)
    touch = lambda x: (open(marker, "a").close(), x)[1]
    model = keras.Sequential([keras.Input((2,)), keras.layers.Lambda(touch)])
    model.save(path)
    os.remove(marker)  # written while building the model here


def test_model_file_with_code_is_refused_everywhere(tmp_path, monkeypatch):
    marker = tmp_path / "code_ran"
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    _lambda_model(run_dir / training.CHECKPOINT, marker)
    with pytest.raises(ValueError, match=r"holds Python code.*safe_mode"):
        training.resume_or_create(run_dir, lambda: None)
    # A zoo entry whose sha256 matches but which holds code: still refused.
    home = tmp_path / "home"
    version_dir = home / "evil" / "1"
    (version_dir / "assets.extra").mkdir(parents=True)
    _lambda_model(version_dir / registry.KERAS_FILE, marker)
    registry.register("evil", 1, version_dir, {"description": "code inside"}, {},
                      manifest_path=home / "manifest.json")
    monkeypatch.setenv("KERAS_GANS_HOME", str(home))
    monkeypatch.delenv("KERAS_GANS_MIRROR", raising=False)
    with pytest.raises(ValueError, match=r"holds Python code.*safe_mode"):
        registry.load("evil")
    assert not marker.exists()


def test_sha256_is_checked_before_keras_opens_the_file(tmp_path, monkeypatch):
    home = tmp_path / "home"
    version_dir = home / "tiny" / "1"
    (version_dir / "assets.extra").mkdir(parents=True)
    gan = DCGAN.from_shape((8, 8, 1), latent_dim=4, base_filters=4, seed=0)
    gan.save(version_dir / registry.KERAS_FILE)
    registry.register("tiny", 1, version_dir, {"description": "tiny"}, {},
                      manifest_path=home / "manifest.json")
    monkeypatch.setenv("KERAS_GANS_HOME", str(home))
    monkeypatch.delenv("KERAS_GANS_MIRROR", raising=False)
    assert isinstance(registry.load("tiny"), DCGAN)
    with open(version_dir / registry.KERAS_FILE, "ab") as f:
        f.write(b"\0")
    opened = []
    monkeypatch.setattr(keras.models, "load_model", lambda *a, **k: opened.append(a))
    with pytest.raises(registry.IntegrityError, match=r"name='tiny' v1.*sha256.*manifest"):
        registry.load("tiny")
    assert opened == []
