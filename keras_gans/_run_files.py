"""The files a training run writes in its directory, and the user's files it must not
replace there. No TensorFlow: the CLI checks `--out` before importing it."""

import json
import os
import tempfile

# Written by `keras_gans.training.train` (STATE first, before any other).
CHECKPOINT = "checkpoint.keras"
FINAL = "model.keras"
STATE = "run.json"
HISTORY = "history.csv"
SAMPLES = "samples"


def is_run_state(path):
    """Whether `path` is the `run.json` of a `train` run (a JSON object with its epoch
    length), not a file of the same name from elsewhere."""
    try:
        with open(path, encoding="utf-8") as f:
            state = json.load(f)
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return isinstance(state, dict) and "steps_per_epoch" in state


def holds_run(run_dir):
    """Whether `run_dir` holds a run of `train` (its checkpoint, or its run state)."""
    return (os.path.lexists(os.path.join(run_dir, CHECKPOINT))
            or is_run_state(os.path.join(run_dir, STATE)))


def foreign_outputs(run_dir):
    """The entries of `run_dir` that a new run would replace or append to, when it holds
    no run of `train` (no checkpoint, no run state): `model.keras`, `history.csv`, a
    non-empty `samples/`. Empty when `run_dir` holds a run, or none of them."""
    run_dir = os.fspath(run_dir)
    if not os.path.isdir(run_dir):
        return []
    if holds_run(run_dir):
        return []  # a run's directory: `train` checks its checkpoint
    found = []
    for name in (FINAL, HISTORY, STATE):
        if os.path.lexists(os.path.join(run_dir, name)):
            found.append(name)
    samples = os.path.join(run_dir, SAMPLES)
    if os.path.lexists(samples) and (not os.path.isdir(samples) or os.listdir(samples)):
        found.append(SAMPLES + "/")
    return found


def probe_write(folder):
    """Create and remove a file in `folder`, proving it writable now (OSError if not)."""
    fd, probe = tempfile.mkstemp(prefix=".write-test-", dir=folder)
    os.close(fd)
    os.remove(probe)
