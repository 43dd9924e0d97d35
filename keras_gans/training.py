"""Resumable training runs: one directory holds the checkpoint, samples and logs.

    model = keras_gans.training.resume_or_create(run_dir, lambda: make_and_compile())
    keras_gans.training.train(model, dataset, run_dir, epochs=20, save_freq=200)

Started again with the same `run_dir` after a crash or a kill, the same two lines
continue from the last checkpoint: the model with all its optimizers and counters is
loaded, the epoch and the position in it come from the optimizer's step counter, and the
batches of the interrupted epoch that were already trained on are skipped.
"""

import json
import os

import keras

from keras_gans import callbacks as callbacks_lib

CHECKPOINT = "checkpoint.keras"
FINAL = "model.keras"


def checkpoint_path(run_dir):
    return os.path.join(os.fspath(run_dir), CHECKPOINT)


def resume_or_create(run_dir, create_fn):
    """The model checkpointed in `run_dir`, or `create_fn()` when there is none.

    Args:
        run_dir: the run directory.
        create_fn: builds and compiles a new model.

    Returns:
        `(model, resumed)`.
    """
    path = checkpoint_path(run_dir)
    if os.path.exists(path):
        return keras.models.load_model(path, safe_mode=True), True
    return create_fn(), False


def _steps_per_epoch(data, steps_per_epoch):
    if steps_per_epoch is not None:
        return int(steps_per_epoch)
    import tensorflow as tf

    if isinstance(data, tf.data.Dataset):
        n = int(data.cardinality().numpy())
        if n > 0:
            return n
        raise ValueError(
            "The dataset's length is unknown or infinite; pass `steps_per_epoch` so a "
            f"resumed run knows its position (received cardinality {n})."
        )
    raise TypeError(
        "Received an invalid value for argument `data`. Expected a tf.data.Dataset "
        f"(e.g. from keras_gans.data.images), received: {type(data).__name__}"
    )


def train(model, data, run_dir, epochs, save_freq=200, steps_per_epoch=None, callbacks=(),
          sample_grid=True, tensorboard=True, verbose="auto"):
    """Fit `model` on `data` for `epochs`, resumably, with checkpoints in `run_dir`.

    Args:
        model: a compiled keras_gans model (new or from `resume_or_create`).
        data: a finite `tf.data.Dataset` of batches (one epoch).
        run_dir: directory for `checkpoint.keras`, `model.keras` (at the end),
            `samples/` (a grid per epoch), `logs/` (TensorBoard) and `history.csv`.
        epochs: total epochs of the run (not additional ones).
        save_freq: checkpoint every this many steps (and at each epoch end).
        steps_per_epoch: needed when the dataset's length is unknown.
        callbacks: more Keras callbacks.
        sample_grid: write a sample grid per epoch (models with `generate`).
        tensorboard: write TensorBoard logs.

    Returns:
        The `History` of the last `fit` call, or `None` when the run had already ended.
    """
    run_dir = os.fspath(run_dir)
    os.makedirs(run_dir, exist_ok=True)
    steps = _steps_per_epoch(data, steps_per_epoch)
    done = int(model.optimizer.iterations.numpy())
    initial_epoch, offset = divmod(done, steps)
    if initial_epoch >= epochs:
        return None
    cbs = [callbacks_lib.Checkpoint(checkpoint_path(run_dir), save_freq=save_freq),
           keras.callbacks.CSVLogger(os.path.join(run_dir, "history.csv"), append=True)]
    if sample_grid and hasattr(model, "generate"):
        cbs.append(callbacks_lib.SampleGrid(os.path.join(run_dir, "samples")))
    if tensorboard:
        cbs.append(keras.callbacks.TensorBoard(os.path.join(run_dir, "logs")))
    cbs.extend(callbacks)
    _write_state(run_dir, {"epochs": epochs, "steps_per_epoch": steps, "resumed_at_step": done})
    history = None
    if offset:
        # Finish the interrupted epoch on the batches it had not reached yet.
        history = model.fit(data.skip(offset), epochs=initial_epoch + 1,
                            initial_epoch=initial_epoch, callbacks=cbs, verbose=verbose)
        initial_epoch += 1
    if initial_epoch < epochs and not model.stop_training:
        history = model.fit(data, epochs=epochs, initial_epoch=initial_epoch,
                            steps_per_epoch=steps_per_epoch, callbacks=cbs, verbose=verbose)
    callbacks_lib._atomic_save(model, os.path.join(run_dir, FINAL))
    return history


def _write_state(run_dir, state):
    path = os.path.join(run_dir, "run.json")
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(state, f, indent=2)
    os.replace(tmp, path)
