"""`keras-gans train VARIANT DATA --out RUN_DIR`: train a model, resumably.

The options common to every variant are defined here; each variant's own come from its
model's declarations (`keras_gans.cli._variants`), and the model builds its dataset and
itself from the parsed options (`train_dataset`, `from_train_options`, `train_class`).
"""

import argparse
import json
import os

from keras_gans import __version__, _run_files
from keras_gans.cli import _variants
from keras_gans.cli._common import (
    UsageError,
    add_command,
    add_on_error,
    check_source,
    import_tensorflow,
    inside,
    non_negative_int,
    positive_int,
    report_warnings,
)

# The batch size of a variant that declares none (DCGAN's 128 suits large machines).
DEFAULT_BATCH_SIZE = 64


def _common_options():
    """A parent parser with the options of every variant."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--out", required=True, metavar="RUN_DIR", help="the run directory")
    p.add_argument("--epochs", type=positive_int, default=10,
                   help="total epochs of the run (not additional ones)")
    batch_sizes = [f"{_variants.default(v, 'batch_size')} ({v})" for v in _variants.variants()
                   if _variants.default(v, "batch_size") is not None]
    p.add_argument("--batch-size", type=positive_int, default=None,
                   help=f"default: {DEFAULT_BATCH_SIZE}" + (
                       f"; {', '.join(batch_sizes)}" if batch_sizes else ""))
    p.add_argument("--steps-per-epoch", type=positive_int, default=None,
                   help="steps per epoch, repeating the data as needed (default: one pass)")
    p.add_argument("--channels", type=int, choices=(1, 3), default=None,
                   help="convert images to 1 or 3 channels (default: the data's)")
    p.add_argument("--base-filters", type=positive_int, default=64,
                   help="width of the networks")
    p.add_argument("--seed", type=non_negative_int, default=0,
                   help="seed of the weights, the noise and the data order")
    p.add_argument("--save-freq", type=positive_int, default=200,
                   help="checkpoint every this many steps (and at each epoch's end)")
    p.add_argument("--steps-per-execution", type=positive_int, default=1, metavar="N",
                   help="train steps per call of the compiled train function (Keras's "
                        "steps_per_execution; the same weights): 8 saved 1-5%% a step on "
                        "the zoo's small models; checkpoints, sample grids and the "
                        "progress bar then come at the end of a call")
    p.add_argument("--samples", type=positive_int, default=64,
                   help="images per sample grid (PNG and TensorBoard)")
    p.add_argument("--export", action="store_true",
                   help="at the end, also export a SavedModel to RUN_DIR/savedmodel/<version>")
    p.add_argument("--verbose", type=int, choices=(0, 1, 2), default=1,
                   help="0: silent, 1: progress bar, 2: one line per epoch")
    add_on_error(p, "DATA")
    return p


def _common_dests():
    return frozenset(a.dest for a in _common_options()._actions)


def add_parser(subparsers):
    names = list(_variants.variants())
    p = add_command(
        subparsers, "train", run, "train a model on a folder or dataset, resumably",
        "Train a model. Checkpoints (RUN_DIR/checkpoint.keras), a sample grid per "
        "epoch (RUN_DIR/samples), TensorBoard logs (RUN_DIR/logs) and "
        "RUN_DIR/history.csv are written as it goes, RUN_DIR/model.keras at the end. "
        "Started again with the same --out, the run continues from its last "
        "checkpoint; its arguments are kept in RUN_DIR/args.json and must match "
        "(except --epochs, --save-freq, --steps-per-execution, --export, --verbose, "
        "--samples).",
        parents=[_common_options()])
    p.add_argument("variant", metavar="VARIANT", choices=names,
                   help=f"one of: {', '.join(names)}")
    p.add_argument("data", metavar="DATA",
                   help="training images: a folder, an image or IDX file, or tfds:NAME"
                        "[:SPLIT] (cyclegan: domain A)")
    _variants.add_flags(p, _common_dests())


# --- Options and the run directory ---


def train_options(args):
    """Every argument that defines the run, with the variant's defaults filled in."""
    variant = args.variant
    options = {"variant": variant, "data": check_source(args.data, "DATA")}
    options.update(_variants.variant_options(args, _common_dests()))
    options.update(
        batch_size=args.batch_size or _variants.default(variant, "batch_size",
                                                        DEFAULT_BATCH_SIZE),
        steps_per_epoch=args.steps_per_epoch, channels=args.channels,
        base_filters=args.base_filters, seed=args.seed, on_error=args.on_error)
    _variants.start_from(options, args)
    # Normalised as JSON stores them, so a stored run compares equal.
    return json.loads(json.dumps(options))


def _check_run_dir_apart(run_dir, options):
    """Refuse a RUN_DIR inside the training data, or data inside RUN_DIR: the run's
    checkpoints and sample grids would become its training images."""
    found = [("DATA", options["data"])] + [
        (flag, options.get(dest)) for flag, dest in _variants.sources(options["variant"])]
    for argument, source in found:
        if source is None or source.startswith("tfds:"):
            continue
        if os.path.isdir(source) and inside(run_dir, source):
            raise UsageError(f"--out {run_dir!r} is inside {argument} {source!r}: the run's "
                             "checkpoints and samples would become training images. Choose "
                             "a RUN_DIR outside the data.")
        if inside(source, run_dir):
            raise UsageError(f"{argument} {source!r} is inside --out {run_dir!r}: a run's "
                             "outputs never become its training data. Choose a RUN_DIR "
                             "outside the data.")


def _check_run_dir(run_dir, options):
    """Refuse a run directory started with other arguments; `True` for a new run (whose
    arguments `_record_run` writes once everything else has been checked)."""
    if os.path.lexists(run_dir) and not os.path.isdir(run_dir):
        raise UsageError(f"--out {run_dir!r} is a file, not a directory: choose a new or "
                         "empty RUN_DIR.")
    path = os.path.join(run_dir, "args.json")
    started = any(os.path.exists(os.path.join(run_dir, name))
                  for name in (_run_files.CHECKPOINT, _run_files.FINAL))
    if started and os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            stored = json.load(f).get("arguments", {})
        # An option the stored run does not record is older than the run's keras_gans:
        # the run was trained with what is now that option's default.
        was = {key: stored[key] if key in stored
               else _variants.default(options["variant"], key, options[key])
               for key in options}
        changed = [key for key in options if was[key] != options[key]]
        if changed:
            names = {"variant": "VARIANT", "data": "DATA"}
            diffs = ", ".join(
                f"{names.get(k, '--' + k.replace('_', '-'))} {was[k]!r}"
                f"{'' if k in stored else ' (not recorded: the default then)'} "
                f"(now {options[k]!r})"
                for k in changed)
            hint = "".join(" " + h.format(run_dir=run_dir)
                           for h in _variants.resume_hints(options["variant"], changed))
            raise UsageError(
                f"RUN_DIR {run_dir!r} holds a run started with other arguments: {diffs}. "
                f"Use the same arguments to resume it, or another --out for a new run.{hint}")
        return False
    found = _run_files.foreign_outputs(run_dir)
    if os.path.lexists(path) and not _is_record(path):
        found.append("args.json")
    if found:
        raise UsageError(
            f"--out {run_dir!r} holds {', '.join(found)} and no keras-gans run: training "
            "there would replace or append to them. Choose a new or empty RUN_DIR, or move "
            "them.")
    return True


def _is_record(path):
    """Whether `path` is the args.json of a `keras-gans train` run."""
    try:
        with open(path, encoding="utf-8") as f:
            record = json.load(f)
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return isinstance(record, dict) and record.get("command") == "train"


def _record_run(run_dir, options):
    """Write RUN_DIR/args.json (creating RUN_DIR)."""
    path = os.path.join(run_dir, "args.json")
    os.makedirs(run_dir, exist_ok=True)
    record = {"command": "train", "keras_gans": __version__, "arguments": options}
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(record, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


# --- The run ---


def _model_and_data(options, run_dir):
    """`(model, resumed, dataset)`: the dataset the variant's model declares, the model
    resumed from RUN_DIR or built from the options."""
    import keras

    from keras_gans import training

    keras.utils.set_random_seed(options["seed"])
    cls = _variants.variant_class(options["variant"])
    # What the model sees: lists of JSON (an image size) as tuples.
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in options.items()}
    dataset = cls.train_dataset(values, batch_size=options["batch_size"],
                                channels=options["channels"], seed=options["seed"],
                                repeat=options["steps_per_epoch"] is not None,
                                on_error=options.get("on_error", "raise"))
    model, resumed = training.resume_or_create(
        run_dir, lambda: cls.from_train_options(values, dataset),
        expected_class=cls.train_class(values))
    return model, resumed, dataset


def _say_start(args, model, resumed, steps, run_dir):
    step = int(model.optimizer.iterations.numpy())
    if resumed:
        where = f"epoch {step // steps + 1} of {args.epochs}" if step < args.epochs * steps \
            else f"all {args.epochs} epochs done"
        print(f"resuming from step {step} ({where}, {steps} steps per epoch) in {run_dir}",
              flush=True)
    else:
        print(f"new run: {type(model).__name__} on {args.data}, {steps} steps per epoch, "
              f"{args.epochs} epochs, checkpoints every {args.save_freq} steps in {run_dir}",
              flush=True)


def run(args):
    options = train_options(args)
    run_dir = args.out
    _check_run_dir_apart(run_dir, options)
    new_run = _check_run_dir(run_dir, options)
    # Everything is checked before RUN_DIR is created: a refused command creates nothing.
    import_tensorflow()
    from keras_gans import callbacks, training

    model, resumed, dataset = _model_and_data(options, run_dir)
    steps = options["steps_per_epoch"] or int(dataset.cardinality().numpy())
    if new_run:
        _record_run(run_dir, options)
    report_warnings()  # about DATA, now accepted: before the hours of training
    _say_start(args, model, resumed, steps, run_dir)
    images = callbacks.TensorBoardImages(
        os.path.join(run_dir, "logs"), n=args.samples, seed=options["seed"],
        inputs=dataset)  # a GAN previews noise from the seed; the others, these data
    history = training.train(model, dataset, run_dir, epochs=args.epochs,
                             save_freq=args.save_freq,
                             steps_per_epoch=options["steps_per_epoch"], callbacks=[images],
                             verbose=args.verbose,
                             steps_per_execution=args.steps_per_execution)
    step = int(model.optimizer.iterations.numpy())
    final = os.path.join(run_dir, training.FINAL)
    if history is None:
        print(f"the run had already trained {args.epochs} epochs (step {step}); "
              f"model: {final}", flush=True)
    else:
        print(f"done: step {step}, epoch {args.epochs}; wrote {final}", flush=True)
    if args.export:
        from keras_gans.export import export

        path = export(model, os.path.join(run_dir, "savedmodel"))
        print(f"exported the SavedModel to {path}", flush=True)
    return 0
