"""Resumable training runs: one directory holds the checkpoint, samples and logs.

    model, resumed = keras_gans.training.resume_or_create(run_dir, make_and_compile)
    keras_gans.training.train(model, dataset, run_dir, epochs=20, save_freq=200)

Started again with the same `run_dir` after a crash or a kill, the same two lines
continue from the last checkpoint, losing at most `save_freq` steps:

- the model comes back whole from `checkpoint.keras` (both networks, all optimizers,
  EMA weights, history pools, the noise step), loaded with `safe_mode=True`;
- the position in the data comes from the optimizer's step counter: the batches of the
  interrupted epoch that were already trained on are skipped, and the shuffle order is
  the one the uninterrupted run would have drawn (see `train`), so a resumed run trains
  on the same batches with the same noise as an uninterrupted one;
- checkpoints are written to a temporary file and renamed (atomic), so a kill during a
  write leaves the previous checkpoint loadable; leftovers of killed writes are removed;
- a NaN or infinite loss or weight stops the run with `NonFiniteLossError` naming the
  step and the loss, and the last good checkpoint is kept;
- Ctrl-C (SIGINT, `KeyboardInterrupt`) and SIGTERM (`docker stop`, a preempted job,
  `Terminated`) checkpoint the current step before the run ends;
- `train` never replaces the progress of another run: a `run_dir` whose checkpoint holds
  another class of model, or a later step than the model given, is refused.
"""

import contextlib
import errno
import functools
import json
import math
import os
import re
import signal
import threading
import weakref

import keras
import numpy as np

from keras_gans import callbacks as callbacks_lib
from keras_gans._run_files import (
    CHECKPOINT,
    FINAL,
    HISTORY,
    SAMPLES,
    STATE,
    foreign_outputs,
    probe_write,
)
from keras_gans.models.base import AdversarialModel, uses_ema

# `callbacks._atomic_save` writes `.tmp-<pid>-<name>.keras` beside the target.
_TEMPORARY = re.compile(r"^\.tmp-(\d+)-.+\.keras$")
# Model -> the identity of the checkpoint file holding its state (the one
# `resume_or_create` loaded it from, or the last one `train` wrote from it).
_RESUMED = weakref.WeakKeyDictionary()


class Terminated(SystemExit):
    """SIGTERM arrived during `train`; the current step was checkpointed first.

    A `SystemExit` with code `128 + signum` (143): left uncaught, the process exits
    with that status, without a traceback, as it would have on the signal itself.
    """

    def __init__(self, signum):
        super().__init__(128 + signum)
        self.signum = signum


def checkpoint_path(run_dir):
    """`run_dir/checkpoint.keras`, the file `train` checkpoints to."""
    return os.path.join(os.fspath(run_dir), CHECKPOINT)


def resume_or_create(run_dir, create_fn, expected_class=None):
    """The model checkpointed in `run_dir`, or `create_fn()` when there is none.

    Args:
        run_dir: the run directory (need not exist yet).
        create_fn: a function of no arguments that builds and compiles a new model.
        expected_class: optionally, the class the model must be (e.g.
            `keras_gans.DCGAN`): a checkpoint holding another class is refused instead
            of being resumed.

    Returns:
        `(model, resumed)`: `resumed` is `True` when the model came from the checkpoint.

    Example:

    ```python
    def create():
        gan = keras_gans.DCGAN.from_shape((28, 28, 1), latent_dim=64, seed=0)
        gan.compile()
        return gan

    gan, resumed = keras_gans.training.resume_or_create("runs/dcgan", create)
    keras_gans.training.train(gan, dataset, "runs/dcgan", epochs=20, save_freq=200)
    ```
    """
    run_dir = _check_path_argument("run_dir", run_dir)
    if not callable(create_fn):
        raise TypeError(
            "Received an invalid value for argument `create_fn`. Expected a function "
            f"that builds and compiles a model, received: {type(create_fn).__name__}"
        )
    path = checkpoint_path(run_dir)
    if os.path.exists(path):
        from keras_gans import registry

        identity = _file_identity(path)
        model = registry.load_file(path, expected_class=expected_class)
        _RESUMED[model] = identity
        return model, True
    model = create_fn()
    _check_model(model, "create_fn", "returned")
    if expected_class is not None and type(model) is not expected_class:
        raise TypeError(
            f"Received an invalid value for argument `create_fn`: expected it to return a "
            f"{expected_class.__name__}, it returned a {type(model).__name__}"
        )
    return model, False


def train(model, data, run_dir, epochs, save_freq=200, steps_per_epoch=None, callbacks=(),
          sample_grid=True, tensorboard=True, verbose="auto", steps_per_execution=None):
    """Fit `model` on `data` for `epochs`, resumably, with checkpoints in `run_dir`.

    Data position. With a finite dataset (one pass per epoch), a run resumed at step
    `s` starts epoch `s // steps` at batch `s % steps`. Datasets that reshuffle on each
    pass with a fixed seed (`keras_gans.data.images(..., seed=...)`) draw a new order
    each time an iterator is created; `train` feeds Keras the data so that exactly one
    order is drawn per epoch, and a resumed run first draws (without reading any data)
    the orders of the epochs already done, so it sees the same batches as the
    uninterrupted run (exactly so when an epoch is one pass over the data; a dataset
    that repeats inside an epoch resumes at the right batch count, in a new order). The
    batches of the interrupted epoch are skipped by reading them (at most one epoch).
    With `steps_per_epoch` and an endless dataset (`repeat=True`), the data is one
    stream and a resumed run continues it at batch `s`, reading the `s` batches to skip
    them (a finite dataset resumes faster); its epochs then count `steps_per_epoch`
    steps from the resume point, and the run ends after `epochs * steps_per_epoch` steps
    in all.

    Args:
        model: a compiled keras_gans model (new, or from `resume_or_create`).
        data: a `tf.data.Dataset` of batches: finite (one epoch), or endless with
            `steps_per_epoch`.
        run_dir: directory for `checkpoint.keras`, `model.keras` (at the end),
            `samples/` (a grid per epoch), `logs/` (TensorBoard), `history.csv` and
            `run.json` (the epoch length, checked when the run is resumed). A new run
            is refused where it would replace or append to files it did not write.
        epochs: total epochs of the run (not additional ones).
        save_freq: checkpoint every this many steps (and at each epoch end).
        steps_per_epoch: steps per epoch; required when the dataset's length is unknown
            or infinite.
        callbacks: more Keras callbacks.
        sample_grid: write the model's preview per epoch to `samples/`: a grid of samples
            from fixed noise (GANs), or input and output side by side for the first 8
            images of `data` (CycleGAN, SRGAN, Inpainter).
        tensorboard: write TensorBoard logs.
        verbose: passed to `fit`.
        steps_per_execution: train steps per call of the compiled train function (as
            `compile(steps_per_execution=...)`, which it replaces for the model, and in
            its checkpoints); `None` keeps the model's. Larger values save the
            per-call overhead of small models (the callbacks, checkpoints included, then
            run once per call, at most `steps_per_execution - 1` steps late); the
            weights after each step are the same at any value.

    Returns:
        The `History` of the last `fit` call, or `None` when the run had already ended.

    Raises:
        NonFiniteLossError: a loss or weight became NaN or infinite; the checkpoint
            holds the last good step.
        ValueError: `run_dir` holds the checkpoint of another class of model, or of a
            later step than `model` is at (a new model where a run already trained):
            nothing is written there. Continue such a run with `resume_or_create`.
        FileExistsError: `run_dir` is a file, or holds `model.keras`, `history.csv`,
            `run.json` or a non-empty `samples/` but no run (nothing is written there).
        KeyboardInterrupt: Ctrl-C; the current step was checkpointed first.
        Terminated: SIGTERM (when no other handler is installed for it); the current
            step was checkpointed first.
    """
    run_dir = _check_train_arguments(model, run_dir, epochs, steps_per_epoch)
    if steps_per_execution is not None:
        _check_positive_int("steps_per_execution", steps_per_execution)
    checkpoint = callbacks_lib.Checkpoint(checkpoint_path(run_dir), save_freq=save_freq)
    length = _data_length(data, steps_per_epoch)
    steps = steps_per_epoch or length
    _check_progress(model, run_dir)
    _check_foreign_outputs(run_dir)
    _prepare_run_dir(run_dir)
    remove_stale_temporaries(run_dir)

    done = int(model.optimizer.iterations.numpy())
    _check_epoch_length(run_dir, steps, done)
    final = os.path.join(run_dir, FINAL)
    if done >= epochs * steps:
        if not os.path.exists(final):  # killed between the last checkpoint and this
            if uses_ema(model.optimizer):  # as `fit` does when it ends
                model.optimizer.finalize_variable_values(model.trainable_weights)
            callbacks_lib._atomic_save(model, final)
        return None

    if steps_per_execution is not None:
        _set_steps_per_execution(model, steps_per_execution)
    cbs = _run_callbacks(model, data, run_dir, checkpoint, sample_grid, tensorboard)
    cbs.extend(callbacks)
    _write_state(run_dir, {"epochs": epochs, "steps_per_epoch": steps,
                           "resumed_at_step": done})
    with _checkpoint_when_interrupted(model, checkpoint, done):
        fit = functools.partial(model.fit, shuffle=False, verbose=verbose)
        if steps_per_epoch is None or steps_per_epoch == length:
            history = _fit_passes(fit, model, data, steps, done, epochs, cbs)
        else:
            history = _fit_stream(fit, model, data, length, steps, done, epochs, cbs)
        callbacks_lib._atomic_save(model, final)
    return history


def _set_steps_per_execution(model, steps_per_execution, record=True):
    """Change a compiled model's `steps_per_execution` without compiling it again (which
    would replace its optimizers and their state); `record`: also in its saved compile
    config."""
    if record and isinstance(getattr(model, "_compile_kwargs", None), dict):
        model._compile_kwargs["steps_per_execution"] = steps_per_execution
    if model.steps_per_execution != steps_per_execution:
        model.steps_per_execution = steps_per_execution
        # The compiled functions hold the old count: trace them again.
        model.train_function = model.test_function = model.predict_function = None


def _check_train_arguments(model, run_dir, epochs, steps_per_epoch):
    """Checks `train`'s arguments other than the data; returns `run_dir` as a string."""
    _check_model(model, "model", "received")
    _check_positive_int("epochs", epochs)
    if steps_per_epoch is not None:
        _check_positive_int("steps_per_epoch", steps_per_epoch)
    return _check_path_argument("run_dir", run_dir)


def _data_length(data, steps_per_epoch):
    """The number of batches of `data` (negative: infinite or unknown), checked."""
    import tensorflow as tf

    if not isinstance(data, tf.data.Dataset):
        raise TypeError(
            "Received an invalid value for argument `data`. Expected a tf.data.Dataset "
            f"(e.g. from keras_gans.data.images), received: {type(data).__name__}"
        )
    length = int(data.cardinality().numpy())
    if length == 0:
        raise ValueError(
            "Received an invalid value for argument `data`: the dataset is empty (it "
            "yields no batch; is batch_size larger than the number of images?)"
        )
    if steps_per_epoch is None and length < 0:
        kind = "infinite" if length == tf.data.INFINITE_CARDINALITY else "unknown"
        raise ValueError(
            f"Received an invalid value for argument `data`: its length is {kind}, so "
            "pass `steps_per_epoch` (a resumed run needs it to find its position)"
        )
    return length


def _check_epoch_length(run_dir, steps, done):
    """Refuse to resume, at step `done`, a run started with another epoch length."""
    previous = _read_state(run_dir)
    if done and previous.get("steps_per_epoch") not in (None, steps):
        raise ValueError(
            f"Received a dataset of {steps} steps per epoch, but the run in "
            f"run_dir={run_dir!r} was started with {previous['steps_per_epoch']}: at "
            f"step {done} the position in the data would be wrong. Resume with the same "
            "data, batch_size and steps_per_epoch, or start a new run_dir"
        )


def _run_callbacks(model, data, run_dir, checkpoint, sample_grid, tensorboard):
    """The callbacks of every run: checkpoint, CSV log, preview grid, TensorBoard."""
    cbs = [checkpoint,
           keras.callbacks.CSVLogger(os.path.join(run_dir, HISTORY), append=True)]
    if sample_grid and isinstance(model, AdversarialModel):
        # GANs preview fixed noise; image-to-image models the first rows of their data.
        from_seed = model.preview_from_seed
        cbs.append(callbacks_lib.SampleGrid(os.path.join(run_dir, SAMPLES),
                                            n=64 if from_seed else 8,
                                            inputs=None if from_seed else data))
    if tensorboard:
        cbs.append(keras.callbacks.TensorBoard(os.path.join(run_dir, "logs")))
    return cbs


def _fit_passes(fit, model, data, steps, done, epochs, cbs):
    """One pass over `data` per epoch: epoch `e` reads the `e`-th order drawn."""
    epoch, offset = divmod(done, steps)
    history = None
    _draw_orders(data, epoch)
    if offset:
        # Finish the interrupted epoch on the batches it had not reached yet. `fit` ends
        # by writing an optimizer EMA (`use_ema=True`) into the weights; the next `fit`
        # must go on from the trained weights, as the uninterrupted run does.
        raw = _TrainedWeights() if uses_ema(model.optimizer) and epoch + 1 < epochs else None
        history = fit(_lazy(data.skip(offset), steps - offset), epochs=epoch + 1,
                      initial_epoch=epoch, callbacks=[*cbs, *([raw] if raw else [])])
        if raw is not None and not model.stop_training:  # a stopped run keeps the average
            raw.restore()
        epoch += 1
    if epoch < epochs and not model.stop_training:
        history = fit(_lazy(data, steps), epochs=epochs, initial_epoch=epoch,
                      callbacks=cbs)
    return history


class _TrainedWeights(keras.callbacks.Callback):
    """Keeps the trainable weights as the last epoch left them, before `fit` writes an
    optimizer EMA over them; `restore` puts them back."""

    values = None

    def on_epoch_end(self, epoch, logs=None):
        self.values = [np.array(v) for v in self.model.trainable_weights]

    def restore(self):
        if self.values is not None:
            for variable, value in zip(self.model.trainable_weights, self.values):
                variable.assign(value)


def _fit_stream(fit, model, data, length, steps, done, epochs, cbs):
    """One stream, read by a single iterator: continue it at batch `done`."""
    if length > 0:  # a finite dataset repeated: pass `p` reads the `p`-th order
        passes, position = divmod(done, length)
        _draw_orders(data, passes)
        stream = _lazy(data.skip(position), length - position).concatenate(
            _lazy(data, length).repeat())
    else:
        stream = _lazy(data.skip(done))
    # Keras runs whole calls of `steps_per_execution` steps on an endless stream: with
    # `steps_per_epoch` not a multiple of it, each epoch would train past its end (Keras
    # 3.15's EpochIterator), and a resumed run's last step falls `done % steps` steps
    # before an epoch's end. Calls of a common divisor end on both (the same weights: a
    # step is the same at any count).
    compiled = model.steps_per_execution
    spe = math.gcd(compiled, steps, done % steps)
    try:
        _set_steps_per_execution(model, spe, record=False)
        return fit(stream, epochs=epochs, initial_epoch=done // steps,
                   steps_per_epoch=steps, callbacks=[*cbs, _StopAtStep(epochs * steps)])
    finally:
        _set_steps_per_execution(model, compiled, record=False)


def remove_stale_temporaries(directory):
    """Delete the temporary files of checkpoint writes whose process is gone.

    A process killed while writing a checkpoint leaves `.tmp-<pid>-<name>.keras`
    behind (the checkpoint itself is intact). Returns the paths removed.
    """
    removed = []
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        return removed
    for name in os.listdir(directory):
        match = _TEMPORARY.match(name)
        if match and not _process_alive(int(match.group(1))):
            path = os.path.join(directory, name)
            try:
                os.remove(path)
                removed.append(path)
            except FileNotFoundError:
                pass
    return removed


# --- Helpers ---


class _StopAtStep(keras.callbacks.Callback):
    """Stops `fit` once the optimizer has made `total` steps."""

    def __init__(self, total):
        super().__init__()
        self.total = total

    def on_train_batch_end(self, batch, logs=None):
        if int(self.model.optimizer.iterations.numpy()) >= self.total:
            self.model.stop_training = True


def _lazy(dataset, length=None):
    """`dataset` behind a `flat_map`, so no iterator of it exists until a batch is read.

    Keras creates iterators it never reads (at the end of each epoch, for the next
    one); on a dataset that reshuffles each iteration every such iterator would draw
    an order, and which order an epoch reads would depend on Keras internals.
    """
    import tensorflow as tf

    wrapped = tf.data.Dataset.from_tensors(0).flat_map(lambda _: dataset)
    if length is not None:
        wrapped = wrapped.apply(tf.data.experimental.assert_cardinality(length))
    return wrapped.with_options(dataset.options())


def _draw_orders(dataset, count):
    # Creating an iterator draws the next shuffle order without reading any data.
    for _ in range(count):
        iter(dataset)


def _process_alive(pid):
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _check_positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(
            f"Received an invalid value for argument `{name}`. Expected a positive "
            f"integer, received: {name}={value!r}"
        )


def _check_path_argument(name, value):
    if not isinstance(value, (str, os.PathLike)) or not os.fspath(value):
        raise TypeError(
            f"Received an invalid value for argument `{name}`. Expected a directory "
            f"path, received: {name}={value!r}"
        )
    return os.fspath(value)


def _check_model(model, name, verb):
    if not isinstance(model, keras.Model):
        raise TypeError(
            f"Received an invalid value for argument `{name}`: expected a compiled "
            f"keras_gans model, {verb}: {type(model).__name__}"
        )
    if getattr(model, "optimizer", None) is None:
        raise ValueError(
            f"Received an invalid value for argument `{name}`: the "
            f"{type(model).__name__} it {verb} is not compiled; call `model.compile()` "
            "first"
        )


def _file_identity(path):
    st = os.stat(path)
    return os.path.realpath(path), st.st_ino, st.st_size, st.st_mtime_ns


def _check_progress(model, run_dir):
    """Refuse to train `model` where it would replace another run's checkpoint."""
    path = checkpoint_path(run_dir)
    if not os.path.exists(path) or _RESUMED.get(model) == _file_identity(path):
        return  # nothing there, or `model` is what resume_or_create loaded from it
    from keras_gans import registry

    config = registry.inspect_archive(path)
    held = str(config.get("registered_name") or config.get("class_name"))
    advice = ("Continue that run with `keras_gans.training.resume_or_create(run_dir, "
              "create_fn)`, or choose another run_dir for a new one")
    if held != keras.saving.get_registered_name(type(model)):
        raise ValueError(
            f"Received an invalid value for argument `run_dir`: run_dir={run_dir!r} holds "
            f"the checkpoint of a {held.rpartition('>')[2]} ({CHECKPOINT}), and `model` is "
            f"a {type(model).__name__}; training it there would replace that run's "
            f"progress. {advice}")
    held_step = int(registry.load_file(path).optimizer.iterations.numpy())
    step = int(model.optimizer.iterations.numpy())
    if step < held_step:
        raise ValueError(
            f"Received an invalid value for argument `run_dir`: run_dir={run_dir!r} holds "
            f"a checkpoint at step {held_step} ({CHECKPOINT}), and `model` is at step "
            f"{step}; training it there would replace that run's progress. {advice}")


@contextlib.contextmanager
def _checkpoint_when_interrupted(model, checkpoint, done):
    """Ctrl-C and SIGTERM checkpoint the current step, then end the run.

    SIGTERM raises `Terminated` while this runs, if nobody else handles it (the
    previous handler is restored afterwards); SIGINT already raises KeyboardInterrupt.
    """
    previous = None
    if threading.current_thread() is threading.main_thread() and \
            signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        def terminate(signum, frame):
            raise Terminated(signum)

        previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    except (KeyboardInterrupt, Terminated):
        step = int(model.optimizer.iterations.numpy())
        if step > done and checkpoint.saved_steps[-1:] != [step]:
            checkpoint.set_model(model)
            checkpoint.save()
        raise
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        if checkpoint.saved_steps:  # what this run wrote: `model` may train on there
            _RESUMED[model] = _file_identity(checkpoint.path)


def _check_foreign_outputs(run_dir):
    """Refuse a directory whose files a new run would replace: nothing a user has is
    overwritten or appended to."""
    found = foreign_outputs(run_dir)
    if found:
        raise FileExistsError(
            errno.EEXIST, "Received an invalid value for argument `run_dir`: it holds "
            f"{', '.join(found)} and no training run (no {CHECKPOINT}, no {STATE}); a run "
            "there would replace or append to them. Choose a new or empty directory, or "
            f"move them: run_dir={run_dir!r}", run_dir)


def _prepare_run_dir(run_dir):
    """Create `run_dir` and prove it writable now, not at the first checkpoint."""
    if os.path.exists(run_dir) and not os.path.isdir(run_dir):
        raise FileExistsError(
            errno.EEXIST, "Received an invalid value for argument `run_dir`: it is a file, "
            f"not a directory: run_dir={run_dir!r}", run_dir)
    try:
        os.makedirs(run_dir, exist_ok=True)
        probe_write(run_dir)
    except OSError as e:
        raise PermissionError(
            e.errno or errno.EACCES, "Received an invalid value for argument `run_dir`: "
            f"cannot write there ({e.strerror or e}): run_dir={run_dir!r}", run_dir) from None


def _read_state(run_dir):
    path = os.path.join(run_dir, STATE)
    try:
        with open(path, encoding="utf-8") as f:
            state = json.load(f)
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    return state if isinstance(state, dict) else {}


def _write_state(run_dir, state):
    path = os.path.join(run_dir, STATE)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(state, f, indent=2)
    os.replace(tmp, path)
