"""The `keras-gans` command (also `python -m keras_gans`).

    keras-gans list [PATTERN]                    the zoo as a table
    keras-gans info NAME                         everything the manifest says of one entry
    keras-gans sample NAME_OR_PATH -n 64 -o grid.png [--seed S] [--labels 0,1,2]
                                                 [--separate DIR]
    keras-gans train VARIANT DATA --out RUN_DIR [--image-size 64] [--epochs 20] [...]
    keras-gans translate MODEL_OR_PATH INPUT_DIR OUTPUT_DIR --direction a2b
    keras-gans upscale MODEL_OR_PATH INPUT OUTPUT
    keras-gans inpaint MODEL_OR_PATH INPUT MASK OUTPUT      (MASK: white = missing)
    keras-gans evaluate MODEL_OR_PATH --data SOURCE --metrics fid,kid,coverage -n 10000
    keras-gans export MODEL_OR_PATH BASE_DIR [--version N]
    keras-gans provenance FILE                   what made a PNG keras_gans wrote

`MODEL_OR_PATH` is a zoo name (see `keras-gans list`), a `.keras` file (loaded with
`safe_mode=True`), or a SavedModel version directory written by `keras_gans.export`
(its `assets.extra/model.keras` is loaded). `DATA` / `SOURCE` is anything
`keras_gans.data.images` accepts on a command line: a folder of images, an image file,
an MNIST-format IDX file, or `tfds:NAME[:SPLIT]`.

Exit status:

- 0: success;
- 2: bad arguments or bad input: an unknown option or value, a missing file, an unknown
  zoo name, a file failing its sha256 check, a run directory started with other
  arguments, training stopped by a non-finite loss, ... One line
  `keras-gans <command>: error: <message>` on stderr, no traceback;
- 1: an unexpected error (a bug): one line `keras-gans <command>: internal error: ...`;
- 130: interrupted (Ctrl-C). A `train` run continues from its last checkpoint when
  started again with the same `--out`.

`--debug` (or `KERAS_GANS_DEBUG=1`) prints the traceback too. TensorFlow is imported only
by the subcommands that need it, so `--help`, `list`, `info` and `provenance` answer at
once.
"""

import argparse
import importlib
import importlib.util
import json
import logging
import math
import os
import random
import re
import sys
import warnings

from keras_gans import __version__

PROG = "keras-gans"

# train VARIANT -> (module, class); a variant is offered when its module exists.
VARIANTS = {
    "dcgan": ("keras_gans.models.dcgan", "DCGAN"),
    "lsgan": ("keras_gans.models.lsgan", "LSGAN"),
    "wgan_gp": ("keras_gans.models.wgan_gp", "WGANGP"),
    "cyclegan": ("keras_gans.models.cyclegan", "CycleGAN"),
    "srgan": ("keras_gans.models.srgan", "SRGAN"),
    "inpainter": ("keras_gans.models.inpainter", "Inpainter"),
}
GAN_VARIANTS = ("dcgan", "lsgan", "wgan_gp")
GENERATOR_METRICS = ("fid", "kid", "is", "coverage")
UPSCALER_METRICS = ("psnr", "ssim")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")

# Options of `train` that apply to some variants only: dest -> (variants, default).
# Given for another variant they are an error rather than silently ignored.
TRAIN_VARIANT_OPTIONS = {
    "image_size": (GAN_VARIANTS + ("cyclegan",), None),
    "latent_dim": (GAN_VARIANTS, 100),
    "num_classes": (GAN_VARIANTS, None),
    "conditional": (GAN_VARIANTS, False),
    "ema_decay": (GAN_VARIANTS, None),
    "spectral_norm": (GAN_VARIANTS, False),
    "label_smoothing": (("dcgan",), 0.0),
    "n_critic": (("wgan_gp",), 5),
    "gp_weight": (("wgan_gp",), 10.0),
    "data_b": (("cyclegan",), None),
    "jitter": (("cyclegan",), False),
    "pool_size": (("cyclegan",), 50),
    "cycle_weight": (("cyclegan",), 10.0),
    "identity_weight": (("cyclegan",), None),
    "residual_blocks": (("cyclegan", "srgan"), None),
    "scale": (("srgan",), 4),
    "hr_size": (("srgan",), 96),
    "bicubic_skip": (("srgan",), False),
    "phase": (("srgan",), "pretrain"),
    "content_loss": (("srgan",), None),
    "vgg_weights": (("srgan",), None),
    "init": (("srgan",), None),
}


def _declared_train_options():
    """`{variant: {dest: spec}}`: the `TRAIN_OPTIONS` literal a model module declares,
    read from its source without importing it (the parser never imports TensorFlow)."""
    import ast

    declared = {}
    for variant, (module, _) in VARIANTS.items():
        try:
            spec = importlib.util.find_spec(module)
        except ImportError:
            spec = None
        if spec is None or not spec.origin or not spec.origin.endswith(".py"):
            continue
        with open(spec.origin, encoding="utf-8") as f:
            tree = ast.parse(f.read(), spec.origin)
        for node in tree.body:
            if isinstance(node, ast.Assign) and [getattr(t, "id", None)
                                                 for t in node.targets] == ["TRAIN_OPTIONS"]:
                declared[variant] = ast.literal_eval(node.value)
    return declared


# Variants whose model declares its training options, dataset and construction.
DECLARED_TRAIN_OPTIONS = _declared_train_options()
for _variant, _options in DECLARED_TRAIN_OPTIONS.items():
    for _dest, _spec in _options.items():
        _variants, _default = TRAIN_VARIANT_OPTIONS.get(_dest, ((), _spec.get("default")))
        TRAIN_VARIANT_OPTIONS[_dest] = (_variants + (_variant,), _default)
# Batch sizes of the papers: DCGAN 128 (64 suits small machines), CycleGAN 1, SRGAN 16.
DEFAULT_BATCH_SIZE = {"cyclegan": 1, "srgan": 16}
# Arguments that may change when a run is started again; every other one must match.
TRAIN_FREE_ARGS = ("epochs", "save_freq", "export", "verbose", "samples")


class UsageError(ValueError):
    """A bad combination of arguments found after parsing (exit status 2)."""


# --- Parsing ---


def _one_line(text):
    return " ".join(str(text).split())


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (and exit status 2)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {_one_line(message)} "
                     f"(see `{self.prog} --help`)\n")


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows a default only when there is a meaningful one not already described."""

    def _get_help_string(self, action):
        help_text = action.help or ""
        default = action.default
        if default is None or default is False or default == argparse.SUPPRESS or \
                "default" in help_text:
            return help_text
        return super()._get_help_string(action)


def _int_type(minimum, expected):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"expected {expected}, received: {text!r}")
        return value

    return parse


_positive_int = _int_type(1, "a positive integer")
_non_negative_int = _int_type(0, "a non-negative integer")


def _float_type(low, high=None, high_open=False, expected="a number"):
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        ok = math.isfinite(value) and value >= low
        if ok and high is not None:
            ok = value < high if high_open else value <= high
        if not ok:
            raise argparse.ArgumentTypeError(f"expected {expected}, received: {text!r}")
        return value

    return parse


_non_negative_float = _float_type(0.0, expected="a non-negative number")
_fraction = _float_type(0.0, 1.0, high_open=True, expected="a number in [0, 1)")


def _image_size(text):
    """`64` (square) or `64x48` / `64,48` (height, width)."""
    parts = text.lower().replace(",", "x").split("x")
    try:
        sizes = [int(p) for p in parts]
    except ValueError:
        sizes = []
    if len(sizes) not in (1, 2) or min(sizes) <= 0:
        raise argparse.ArgumentTypeError(
            f"expected a positive integer or HEIGHTxWIDTH, received: {text!r}")
    return sizes[0] if len(sizes) == 1 else sizes


def _labels(text):
    """`7` or `0,1,2`: non-negative class ids."""
    try:
        labels = [int(p) for p in text.split(",")]
    except ValueError:
        labels = []
    if not labels or min(labels) < 0:
        raise argparse.ArgumentTypeError(
            f"expected a class id or comma-separated class ids (e.g. 7 or 0,1,2), "
            f"received: {text!r}")
    return labels


def _metric_names(text):
    names = [n.strip().lower() for n in text.split(",") if n.strip()]
    known = GENERATOR_METRICS + UPSCALER_METRICS
    unknown = [n for n in names if n not in known]
    if not names or unknown:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated names among {', '.join(known)}, received: {text!r}")
    return list(dict.fromkeys(names))


def build_parser():
    """The argument parser of `keras-gans` (imports nothing heavy)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="print the traceback of errors (also KERAS_GANS_DEBUG=1)")
    parser = _Parser(
        prog=PROG, parents=[common],
        description="A Keras 3 / TensorFlow model zoo of GANs: list, sample, train, "
                    "translate, upscale, evaluate and export models.",
        epilog="Run `keras-gans COMMAND --help` for the options of a command.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True,
                                parser_class=_Parser)

    def add(name, func, help_text, description=None):
        p = sub.add_parser(name, parents=[common], help=help_text,
                           description=description or help_text,
                           formatter_class=_HelpFormatter)
        p.set_defaults(func=func)
        return p

    p = add("list", _cmd_list, "list the zoo's models as a table",
            "List the zoo's models (name, variant, data, key metric).")
    p.add_argument("pattern", nargs="?", default="*", metavar="PATTERN",
                   help="glob pattern of names, e.g. '*mnist*'")
    p.add_argument("--json", action="store_true", help="print the entries as JSON")

    p = add("info", _cmd_info, "show everything the manifest says of one model")
    p.add_argument("name", metavar="NAME", help="a zoo name (see `keras-gans list`)")
    p.add_argument("--json", action="store_true", help="print the entry as JSON")

    p = add("provenance", _cmd_provenance, "show what made a PNG written by keras_gans",
            "Print the provenance keras_gans writes into every PNG it makes (sample, "
            "translate, upscale, inpaint): the model's name or file, its version, the "
            "sha256 of its .keras file, the seed and the command.")
    p.add_argument("file", metavar="FILE", help="a PNG file")
    p.add_argument("--json", action="store_true", help="print it as JSON")

    model_help = "a zoo name, a .keras file or an exported SavedModel version directory"

    p = add("sample", _cmd_sample, "generate images with a GAN and save them as PNG",
            "Generate images with a GAN and save them as a grid (-o) and/or one file per "
            "image (--separate). Without either, writes grid.png.")
    p.add_argument("model", metavar="NAME_OR_PATH", help=model_help)
    p.add_argument("-n", "--num", dest="n", type=_positive_int, default=64,
                   help="number of images")
    p.add_argument("-o", "--output", default=None, help="the grid image file (.png, .jpg)")
    p.add_argument("--seed", type=int, default=None,
                   help="seed of the noise, for reproducible images (default: random)")
    p.add_argument("--labels", type=_labels, default=None,
                   help="conditional GANs: one class id for all images, or n comma-"
                        "separated ids (default: the classes in turn)")
    p.add_argument("--separate", metavar="DIR", default=None,
                   help="also write each image to DIR/0000.png, DIR/0001.png, ...")
    p.add_argument("--ncols", type=_positive_int, default=None,
                   help="images per row of the grid (default: a square grid)")
    _add_overwrite(p)

    p = add("train", _cmd_train, "train a model on a folder or dataset, resumably",
            "Train a model. Checkpoints (RUN_DIR/checkpoint.keras), a sample grid per "
            "epoch (RUN_DIR/samples), TensorBoard logs (RUN_DIR/logs) and "
            "RUN_DIR/history.csv are written as it goes, RUN_DIR/model.keras at the end. "
            "Started again with the same --out, the run continues from its last "
            "checkpoint; its arguments are kept in RUN_DIR/args.json and must match "
            "(except --epochs, --save-freq, --export, --verbose, --samples).")
    p.add_argument("variant", metavar="VARIANT", choices=_available_variants(),
                   help=f"one of: {', '.join(_available_variants())}")
    p.add_argument("data", metavar="DATA",
                   help="training images: a folder, an image or IDX file, or tfds:NAME"
                        "[:SPLIT] (cyclegan: domain A)")
    p.add_argument("--out", required=True, metavar="RUN_DIR", help="the run directory")
    p.add_argument("--epochs", type=_positive_int, default=10,
                   help="total epochs of the run (not additional ones)")
    p.add_argument("--batch-size", type=_positive_int, default=None,
                   help="default: 64 (GANs), 1 (cyclegan), 16 (srgan)")
    p.add_argument("--steps-per-epoch", type=_positive_int, default=None,
                   help="steps per epoch, repeating the data as needed (default: one pass)")
    p.add_argument("--channels", type=int, choices=(1, 3), default=None,
                   help="convert images to 1 or 3 channels (default: the data's)")
    p.add_argument("--base-filters", type=_positive_int, default=64,
                   help="width of the networks")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the weights, the noise and the data order")
    p.add_argument("--save-freq", type=_positive_int, default=200,
                   help="checkpoint every this many steps (and at each epoch's end)")
    p.add_argument("--samples", type=_positive_int, default=64,
                   help="images per sample grid (PNG and TensorBoard)")
    p.add_argument("--export", action="store_true",
                   help="at the end, also export a SavedModel to RUN_DIR/savedmodel/<version>")
    p.add_argument("--verbose", type=int, choices=(0, 1, 2), default=1,
                   help="0: silent, 1: progress bar, 2: one line per epoch")
    p.add_argument("--on-error", choices=("raise", "skip"), default="raise",
                   help="an unreadable image file in DATA: raise (stop, naming it) or skip "
                        "it with a warning")
    g = p.add_argument_group("dcgan, lsgan, wgan_gp")
    g.add_argument("--image-size", type=_image_size, default=None,
                   help="resize to SIZE or HEIGHTxWIDTH (sides multiples of 4; default: "
                        "the data's size); also cyclegan")
    g.add_argument("--latent-dim", type=_positive_int, default=None, help="default: 100")
    g.add_argument("--num-classes", type=_positive_int, default=None,
                   help="train a class-conditional GAN on the data's labels (folders: one "
                        "subfolder per class; IDX: the labels file beside it)")
    g.add_argument("--conditional", action="store_true", default=None,
                   help="like --num-classes, with the number of classes taken from the "
                        "folder's subfolders")
    g.add_argument("--ema-decay", type=_fraction, default=None,
                   help="keep an exponential moving average of the generator (e.g. 0.999)")
    g.add_argument("--spectral-norm", action="store_true", default=None,
                   help="spectral normalisation of the discriminator")
    g.add_argument("--label-smoothing", type=_fraction, default=None,
                   help="one-sided label smoothing (dcgan only; default: 0)")
    g.add_argument("--n-critic", type=_positive_int, default=None,
                   help="critic steps per generator step (wgan_gp only; default: 5)")
    g.add_argument("--gp-weight", type=_non_negative_float, default=None,
                   help="gradient penalty weight (wgan_gp only; default: 10)")
    g = p.add_argument_group("cyclegan")
    g.add_argument("--data-b", default=None, metavar="SOURCE",
                   help="the images of domain B (required)")
    g.add_argument("--jitter", action="store_true", default=None,
                   help="resize-crop-flip augmentation of the paper")
    g.add_argument("--pool-size", type=_non_negative_int, default=None,
                   help="history pool size (default: 50)")
    g.add_argument("--cycle-weight", type=_non_negative_float, default=None,
                   help="cycle-consistency weight (default: 10)")
    g.add_argument("--identity-weight", type=_non_negative_float, default=None,
                   help="identity loss weight (default: half the cycle weight)")
    g.add_argument("--residual-blocks", type=_positive_int, default=None,
                   help="residual blocks per generator (default: cyclegan 6 or 9 by image "
                        "size, srgan 16)")
    g = p.add_argument_group("srgan")
    g.add_argument("--scale", type=int, choices=(2, 4, 8), default=None,
                   help="upscaling factor (default: 4)")
    g.add_argument("--hr-size", type=_positive_int, default=None,
                   help="side of the high-resolution training crops (default: 96)")
    g.add_argument("--bicubic-skip", action="store_true", default=None,
                   help="learn a correction to bicubic upscaling (not in the paper; much "
                        "better after a short training)")
    g.add_argument("--phase", choices=("pretrain", "adversarial"), default=None,
                   help="pretrain: the generator alone on the content loss (SRResNet); "
                        "adversarial: SRGAN (default: pretrain)")
    g.add_argument("--content-loss", choices=("mse", "vgg19"), default=None,
                   help="default: mse (pretrain), vgg19 (adversarial)")
    g.add_argument("--vgg-weights", default=None, metavar="PATH",
                   help="a local VGG19 notop weights file for the vgg19 content loss")
    g.add_argument("--init", default=None, metavar="RUN_DIR|MODEL.keras",
                   help="start a new run from this model's weights (the paper's second "
                        "phase: --phase adversarial --init the pretrain run); its scale, "
                        "--hr-size and --bicubic-skip are taken from it")
    _add_declared_train_options(p)

    p = add("translate", _cmd_translate, "translate a folder of images with a CycleGAN",
            "Translate every image of INPUT_DIR (searched recursively) with a CycleGAN and "
            "write the results as PNG files with the same relative names to OUTPUT_DIR.")
    p.add_argument("model", metavar="MODEL_OR_PATH", help=model_help)
    p.add_argument("input_dir", metavar="INPUT_DIR")
    p.add_argument("output_dir", metavar="OUTPUT_DIR")
    p.add_argument("--direction", choices=("a2b", "b2a"), default="a2b")
    _add_overwrite(p)

    p = add("upscale", _cmd_upscale, "super-resolve an image or a folder with an SRGAN",
            "Upscale an image file (OUTPUT: a file, or an existing folder) or a folder "
            "of images, searched recursively (OUTPUT: a folder; PNG files with the same "
            "relative names).")
    p.add_argument("model", metavar="MODEL_OR_PATH", help=model_help)
    p.add_argument("input", metavar="INPUT", help="an image file or a folder")
    p.add_argument("output", metavar="OUTPUT", help="an image file or a folder")
    _add_overwrite(p)

    p = add("inpaint", _cmd_inpaint, "fill the missing regions of images with an Inpainter",
            "Fill the pixels that MASK marks white (missing) in an image file (OUTPUT: a "
            "file, or an existing folder) or in every image of a folder, searched "
            "recursively (OUTPUT: a folder; PNG files with the same relative names). MASK "
            "is one image file for every input (of the same size), or, for a folder, a "
            "folder of masks with the inputs' relative names. The other pixels are kept "
            "exactly.")
    p.add_argument("model", metavar="MODEL_OR_PATH", help=model_help)
    p.add_argument("input", metavar="INPUT", help="an image file or a folder")
    p.add_argument("mask", metavar="MASK",
                   help="a mask image (white = missing) or a folder of them")
    p.add_argument("output", metavar="OUTPUT", help="an image file or a folder")
    _add_overwrite(p)

    p = add("evaluate", _cmd_evaluate, "measure sample quality (FID, KID, IS, coverage)",
            "Measure a model. GANs: fid and kid (generated vs --data, in the feature space "
            "of --feature-extractor), is (classifier score) and coverage (class coverage) "
            "from the classifier's probabilities. SRGANs: psnr and ssim of the model and "
            "of bicubic upscaling on crops of --data.")
    p.add_argument("model", metavar="MODEL_OR_PATH", help=model_help)
    p.add_argument("--data", default=None, metavar="SOURCE",
                   help="real images (needed by fid, kid, psnr, ssim)")
    p.add_argument("--metrics", type=_metric_names, default=None,
                   help="comma-separated, among fid,kid,is,coverage (GANs) or psnr,ssim "
                        "(SRGAN); default: all that apply")
    p.add_argument("-n", "--num", dest="n", type=_positive_int, default=10000,
                   help="generated samples (and at most as many real ones)")
    p.add_argument("--feature-extractor", default=None, metavar="NAME_OR_PATH",
                   help="a zoo classifier (e.g. mnist_classifier; its 'features' layer "
                        "and its probabilities), a .keras classifier, or 'inception' "
                        "(InceptionV3, see --inception-weights). Default: the classifier "
                        "the zoo entry was measured with, else inception")
    p.add_argument("--inception-weights", default=None, metavar="PATH",
                   help="local InceptionV3 notop weights file (default: Keras's download)")
    p.add_argument("--batch-size", type=_positive_int, default=250)
    p.add_argument("--hr-size", type=_positive_int, default=None,
                   help="SRGAN: side of the high-resolution crops (default: the model's)")
    p.add_argument("--seed", type=int, default=0, help="seed of the noise and the data order")
    p.add_argument("--json", action="store_true", help="print the results as JSON")

    p = add("export", _cmd_export, "export a model as a TF Serving SavedModel",
            "Write BASE_DIR/<version>/ (saved_model.pb, variables/, assets.extra/"
            "model.keras): the layout TF Serving watches. Existing versions are never "
            "overwritten.")
    p.add_argument("model", metavar="MODEL_OR_PATH", help=model_help)
    p.add_argument("base_dir", metavar="BASE_DIR")
    p.add_argument("--version", type=_non_negative_int, default=None,
                   help="the version number (default: the next free one)")
    return parser


def _add_overwrite(p):
    p.add_argument("--overwrite", action="store_true",
                   help="replace output files that exist already (without it, an existing "
                        "output is an error and nothing is written); inputs are never "
                        "overwritten, even with it")


def _add_declared_train_options(p):
    """One argument group per variant whose model declares `TRAIN_OPTIONS`."""
    types = {"int": _positive_int, "float": _non_negative_float}
    known = {a.dest for a in p._actions}
    for variant, options in DECLARED_TRAIN_OPTIONS.items():
        g = p.add_argument_group(variant)
        for dest, spec in options.items():
            if dest in known:  # a common option (e.g. --image-size) it also takes
                continue
            g.add_argument(f"--{dest.replace('_', '-')}", type=types.get(spec.get("type")),
                           choices=spec.get("choices"), default=None, help=spec.get("help"))


def _available_variants():
    names = []
    for name, (module, _) in VARIANTS.items():
        try:
            found = importlib.util.find_spec(module) is not None
        except ImportError:
            found = False
        if found:
            names.append(name)
    return names


# --- Entry point ---


def main(argv=None):
    """Run `keras-gans` with `argv` (default: `sys.argv[1:]`); returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = getattr(args, "debug", False) or \
        os.environ.get("KERAS_GANS_DEBUG", "") not in ("", "0")
    # TensorFlow's C++ logging would bury our one-line messages on stderr (its start-up
    # lines are silenced by `_import_tensorflow`, which ignores this setting).
    if not debug:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    tf_logger = logging.getLogger("tensorflow")
    level = tf_logger.level
    with warnings.catch_warnings():
        if not debug:
            # TensorFlow's retracing notes and fit's warning that it does not shuffle a
            # dataset (keras_gans.data shuffles it) are not the user's business.
            tf_logger.setLevel(logging.ERROR)
            warnings.filterwarnings("ignore", message=r"`shuffle=True` was passed")
        try:
            return _run(args, debug, _flag_names(parser, args.command))
        finally:
            tf_logger.setLevel(level)


def _run(args, debug, flags=None):
    prog = f"{PROG} {args.command}"
    try:
        return int(args.func(args) or 0)
    except (KeyboardInterrupt, SystemExit) as e:
        # SystemExit with `signum`: keras_gans.training.Terminated (SIGTERM), checkpointed.
        signum = getattr(e, "signum", None)
        if isinstance(e, SystemExit) and signum is None:
            raise
        hint = " (checkpointed; started again with the same --out, the run resumes)" \
            if args.command == "train" else ""
        _report(prog, f"{'terminated' if signum else 'interrupted'}{hint}", debug)
        return 128 + (signum or 2)  # 130 for Ctrl-C, 143 for SIGTERM
    except BrokenPipeError:
        # `keras-gans list | head`: the reader left; say nothing more.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except Exception as e:  # noqa: BLE001 - every error ends as one line
        message = _cli_names(_one_line(_error_text(e)) or type(e).__name__, flags or {})
        if _is_user_error(e):
            _report(prog, f"error: {message}", debug)
            return 2
        _report(prog, f"internal error: {type(e).__name__}: {message} (run with --debug "
                      "for the traceback)", debug)
        return 1


# Names of the library's arguments that a command's flags set under another name.
_LIBRARY_NAMES = {
    "train": {"source": "data", "x": "data", "image_shape": "image_size", "run_dir": "out"},
    "evaluate": {"source": "data"},
    "sample": {"path": "output"},
    "translate": {"images": "input_dir"},
    "upscale": {"images": "input", "path": "output"},
}


def _flag_names(parser, command):
    """`{Python argument: the flag or metavar}` of `command`, for its error messages."""
    subparsers = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    sub = subparsers[0].choices.get(command) if subparsers else None
    if sub is None:
        return {}
    names = {}
    for action in sub._actions:
        if action.dest in ("help", "debug", "func"):
            continue
        names[action.dest] = "/".join(action.option_strings) if action.option_strings \
            else action.metavar or action.dest.upper()
    for python, dest in _LIBRARY_NAMES.get(command, {}).items():
        if dest in names:
            names[python] = names[dest]
    return names


def _cli_names(message, flags):
    """The library's message with Python arguments named as the command's flags:
    "argument `on_error`" -> "--on-error", "on_error='skip'" -> "--on-error skip"."""
    def name(match, text):
        return flags.get(match.group("name"), text)

    message = re.sub(r"(?:\bargument )?`(?P<name>\w+)`",
                     lambda m: name(m, m.group(0)), message)
    options = {k: v for k, v in flags.items() if v.startswith("-")}  # not positionals
    message = re.sub(r"\b(?P<name>\w+)=(?P<q>'?)(?P<value>[\w.+-]+)(?P=q)(?![\w'(\[])",
                     lambda m: f"{options[m.group('name')]} {m.group('value')}"
                     if m.group("name") in options else m.group(0), message)
    return re.sub(r"\b(?P<name>\w+)=", lambda m: f"{options[m.group('name')]} "
                  if m.group("name") in options else m.group(0), message)


def _error_text(error):
    """The message of `error`; TensorFlow's graph-execution errors without their trace."""
    text = str(error)
    if "tensorflow" in sys.modules:
        import tensorflow as tf

        if isinstance(error, tf.errors.OpError):
            text = error.message or text
            found = re.search(r"(?:assertion failed|Error in user-defined function)[^\n]*",
                              text)
            lines = [line for line in text.splitlines() if line.strip()
                     and not line.strip().startswith(("[[", "Detected at node", "File "))]
            text = found.group(0) if found else (lines[-1] if lines else text)
    return text


def _import_tensorflow():
    """Import TensorFlow with its native start-up lines (absl's "All log messages before
    absl::InitializeLog()", oneDNN's and cpu_feature_guard's notes) kept off stderr:
    TF 2.21 prints them whatever TF_CPP_MIN_LOG_LEVEL says, so fd 2 points to /dev/null
    while the libraries load. Python errors of the import are raised as usual."""
    if "tensorflow" in sys.modules:
        return
    _status("loading TensorFlow...")
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow  # noqa: F401 - the import is the point
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _status(text):
    """Say what the command is doing (seconds of TensorFlow import, loading a model) on
    an interactive stderr; nothing when stderr is a file or a pipe, so that scripts
    still get one line per error."""
    if getattr(sys.stderr, "isatty", lambda: False)():
        print(f"{PROG}: {text}", file=sys.stderr, flush=True)


def _progress(done, total, what):
    """`keras-gans: WHAT DONE/TOTAL`, rewritten in place on an interactive stderr (a long
    single command is not silent); nothing when stderr is a file or a pipe."""
    if getattr(sys.stderr, "isatty", lambda: False)():
        end = "\n" if done >= total else ""
        print(f"\r{PROG}: {what} {done}/{total}", end=end, file=sys.stderr, flush=True)


def _is_user_error(error):
    # FloatingPointError covers callbacks.NonFiniteLossError; ValueError covers
    # registry.IntegrityError and UsageError; OSError covers missing, existing and
    # unwritable files; ImportError a missing optional dependency (scipy).
    expected = (ValueError, TypeError, OSError, FloatingPointError, MemoryError, ImportError)
    if isinstance(error, expected):
        return True
    if "tensorflow" in sys.modules:  # bad data found while reading it
        import tensorflow as tf

        return isinstance(error, (tf.errors.InvalidArgumentError, tf.errors.NotFoundError,
                                  tf.errors.ResourceExhaustedError))
    return False


def _report(prog, message, debug):
    if debug:
        import traceback

        traceback.print_exc()
    sys.stdout.flush()
    print(f"{prog}: {message}", file=sys.stderr, flush=True)


# --- Models ---


def _resolve_model(spec):
    """`(path, None)` for a file or exported version, `(None, name)` for a zoo name.

    Checked before TensorFlow is imported, so a typo fails at once.
    """
    if os.path.isdir(spec):
        path = os.path.join(spec, "assets.extra", "model.keras")
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"MODEL_OR_PATH={spec!r} is a directory but not a SavedModel version "
                "exported by keras_gans (it has no assets.extra/model.keras).")
        return path, None
    if os.path.isfile(spec):
        if not spec.endswith(".keras"):
            raise UsageError(f"MODEL_OR_PATH={spec!r} is not a .keras file.")
        return spec, None
    if spec.endswith(".keras") or "/" in spec or os.sep in spec:
        raise FileNotFoundError(f"MODEL_OR_PATH={spec!r}: no such file or directory.")
    from keras_gans import registry

    try:
        registry.model_info(spec)
    except ValueError as e:
        raise UsageError(f"{e} (MODEL_OR_PATH is a zoo name, a .keras file or an "
                         "exported version directory)") from None
    return None, spec


def _load_model(spec, compile=False):
    return _load_with_provenance(spec, compile)[0]


def _load_with_provenance(spec, compile=False):
    """`(model, provenance)`: the provenance (model name or file, version, sha256 of the
    .keras file) goes into the PNG files the command writes."""
    path, name = _resolve_model(spec)
    _import_tensorflow()
    _status(f"loading {spec}...")
    from keras_gans import registry

    if name is not None:
        version, record = registry._version(name, None)
        model = registry.load(name, version, compile=compile)
        return model, {"model": name, "version": version,
                       "sha256": record["files"][registry.KERAS_FILE]}
    try:
        model = registry.load_file(path, compile=compile)
    except (ValueError, TypeError) as e:  # about the file: named as the command does
        raise UsageError(re.sub(r"(?:argument )?`path`", "MODEL_OR_PATH", str(e))) from None
    folder = os.path.basename(os.path.normpath(spec)) if os.path.isdir(spec) else ""
    return model, {"model": os.path.abspath(spec), "version": folder if folder.isdigit()
                   else "none", "sha256": registry.sha256(path)}


def _require(model, method, spec, command):
    if hasattr(model, method):
        return
    alternatives = {"generate": "sample", "translate": "translate", "upscale": "upscale",
                    "inpaint": "inpaint"}
    other = [alternatives[m] for m in alternatives if hasattr(model, m)]
    hint = f"; use `keras-gans {other[0]}`" if other else ""
    raise UsageError(
        f"`keras-gans {command}` needs a model with `{method}`; MODEL_OR_PATH={spec!r} is "
        f"a {type(model).__name__}{hint}.")


def _check_source(source, argument):
    """A local path must exist; `tfds:` names are checked by TFDS. Returns it normalised."""
    text = os.fspath(source)
    if text.startswith("tfds:"):
        return text
    if not os.path.exists(text):
        raise FileNotFoundError(f"{argument}={text!r}: no such file or folder.")
    return os.path.abspath(text)


def _list_images(root):
    """Image files under `root` (recursive, sorted, each once, hidden ones and special
    files such as FIFOs left out)."""
    from keras_gans.utils import walk_files

    return walk_files(root, IMAGE_SUFFIXES)[0]


def _same_file(a, b):
    """Whether two paths name one file: the same real path, or the same inode."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist
        return False


def _inside(path, folder):
    """Whether `path` is `folder` or below it, comparing real paths (symlinks resolved)."""
    path, folder = os.path.realpath(path), os.path.realpath(folder)
    return os.path.commonpath([path, folder]) == folder


def _check_outputs(outputs, inputs, overwrite, argument):
    """Refuse, before anything is written, outputs that would replace an input (always)
    or an existing file (unless --overwrite)."""
    real_inputs = {os.path.realpath(p): p for p in inputs}
    for output in outputs:
        source = real_inputs.get(os.path.realpath(output)) or next(
            (p for p in inputs if os.path.exists(output) and _same_file(output, p)), None)
        if source is not None:
            raise UsageError(f"{argument}: the output {output!r} is the input {source!r}; "
                             "inputs are never overwritten, choose another output.")
    folders = [o for o in outputs if os.path.isdir(o)]
    if folders:
        raise UsageError(f"{argument}: the output {folders[0]!r} is a folder.")
    existing = [o for o in outputs if os.path.lexists(o)]
    if existing and not overwrite:
        more = f" ({len(existing)} of the {len(outputs)} outputs exist)" \
            if len(outputs) > 1 else ""
        raise UsageError(f"{argument}: {existing[0]!r} already exists{more}; pass "
                         "--overwrite to replace it, or choose another output.")


def _check_image_path(path, argument):
    if not path.lower().endswith(IMAGE_SUFFIXES):
        raise UsageError(f"{argument}={path!r} must end in one of {', '.join(IMAGE_SUFFIXES)}.")


# --- list, info ---


def _short(text, width=44):
    text = str(text or "")
    for stop in (" (", ":", ";", ". "):
        if stop in text:
            text = text[:text.index(stop)]
    return text if len(text) <= width else text[:width - 3] + "..."


def _table(header, rows):
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip())


def _cmd_list(args):
    from keras_gans import registry

    names = registry.list_models(args.pattern)
    entries = {name: registry.model_info(name) for name in names}
    if args.json:
        print(json.dumps(entries, indent=2))
        return 0
    if not names:
        print(f"No zoo models match {args.pattern!r}.")
        return 0
    rows = [(n, e.get("variant", ""), _short(e.get("data", "")), registry.headline(e))
            for n, e in entries.items()]
    _table(("NAME", "VARIANT", "DATA", "KEY METRIC"), rows)
    return 0


def _print_tree(value, indent=0):
    pad = "  " * indent
    for key, child in value.items():
        if isinstance(child, dict) and child:
            print(f"{pad}{key}:")
            _print_tree(child, indent + 1)
        elif isinstance(child, (dict, list)):
            print(f"{pad}{key}: {json.dumps(child)}")
        else:
            print(f"{pad}{key}: {child}")


def _cmd_info(args):
    from keras_gans import registry

    info = registry.model_info(args.name)
    info = {"name": info.pop("name"), **info}
    # Recipes and test data are in the repository, not in an installed package.
    info["repository_files"] = registry.repository_files(args.name)
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        _print_tree(info)
    return 0


# --- provenance ---


def _cmd_provenance(args):
    from keras_gans import utils

    if not os.path.isfile(args.file):
        raise FileNotFoundError(f"FILE={args.file!r}: no such file.")
    try:
        found = utils.read_provenance(args.file)
    except OSError as e:  # PIL: not an image
        raise UsageError(f"FILE={args.file!r} is not an image file ({e}).") from None
    if not found:
        raise UsageError(f"FILE={args.file!r} carries no keras_gans provenance: it was not "
                         "written by keras_gans, or its metadata was stripped.")
    if args.json:
        print(json.dumps(found, indent=2))
    else:
        _table(("KEY", "VALUE"), sorted(found.items()))
    return 0


# --- sample ---


def _cmd_sample(args):
    output = args.output
    if output is None and args.separate is None:
        output = "grid.png"
    if output is not None:
        _check_image_path(output, "-o/--output")
    outputs = [] if output is None else [output]
    if args.separate is not None:
        if os.path.exists(args.separate) and not os.path.isdir(args.separate):
            raise UsageError(f"--separate {args.separate!r} is a file, not a folder.")
        outputs += _separate_names(args.separate, args.n)
    model_files = [spec for spec in (args.model,) if os.path.exists(spec)]
    _check_outputs(outputs, model_files, args.overwrite,
                   "-o/--output" if output is not None else "--separate")
    model, provenance = _load_with_provenance(args.model)
    _require(model, "generate", args.model, "sample")
    labels = None
    if args.labels is not None:
        if not getattr(model, "num_classes", None):
            raise UsageError(f"--labels given, but MODEL_OR_PATH={args.model!r} is an "
                             "unconditional GAN.")
        if len(args.labels) not in (1, args.n):
            raise UsageError(f"--labels has {len(args.labels)} class ids; expected 1 or "
                             f"n={args.n}.")
        labels = args.labels[0] if len(args.labels) == 1 else args.labels
    # Without --seed, a random one: recorded in the PNGs, so any image can be redrawn.
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**31)
    images = model.generate(args.n, seed=seed, labels=labels)

    from keras_gans import utils

    provenance.update(seed=seed, command=f"sample -n {args.n} --seed {seed}" + (
        f" --labels {','.join(map(str, args.labels))}" if args.labels else ""))
    if output is not None:
        utils.save_grid(images, output, ncols=args.ncols, metadata=provenance)
        print(f"wrote {output} ({args.n} images)")
    if args.separate is not None:
        os.makedirs(args.separate, exist_ok=True)
        for i, (image, path) in enumerate(zip(images, _separate_names(args.separate, args.n))):
            utils.save_image(image, path, metadata={**provenance, "index": i})
        print(f"wrote {args.n} images to {args.separate}")
    return 0


def _separate_names(folder, n):
    width = max(4, len(str(n - 1)))
    return [os.path.join(folder, f"{i:0{width}d}.png") for i in range(n)]


# --- train ---


def _train_options(args):
    """Every argument that defines the run, with the variant's defaults filled in."""
    variant = args.variant
    options = {"variant": variant, "data": _check_source(args.data, "DATA")}
    for dest, (variants, default) in TRAIN_VARIANT_OPTIONS.items():
        value = getattr(args, dest)
        if variant in variants:
            options[dest] = default if value is None else value
        elif value is not None:
            raise UsageError(f"--{dest.replace('_', '-')} applies to {', '.join(variants)}, "
                             f"not to {variant}.")
    if variant == "cyclegan":
        if options["data_b"] is None:
            raise UsageError("cyclegan trains on two domains: pass the second with "
                             "--data-b SOURCE.")
        options["data_b"] = _check_source(options["data_b"], "--data-b")
    options.update(
        batch_size=args.batch_size or DEFAULT_BATCH_SIZE.get(variant, 64),
        steps_per_epoch=args.steps_per_epoch, channels=args.channels,
        base_filters=args.base_filters, seed=args.seed, on_error=args.on_error)
    if options.get("init") is not None:
        _init_options(options, args)
    # Normalised as JSON stores them, so a stored run compares equal.
    return json.loads(json.dumps(options))


# Options of `train srgan --init` that the initial model fixes: CLI dest -> its config key.
_INIT_FIXED = {"scale": "scale", "hr_size": "hr_size", "bicubic_skip": "bicubic_skip",
               "residual_blocks": "num_blocks", "base_filters": "filters"}


def _init_options(options, args):
    """`--init`: the .keras file to start from (a run's model.keras, else its
    checkpoint.keras), and the options its networks fix, checked against those given."""
    from keras_gans import registry

    spec = options["init"]
    path = spec
    if os.path.isdir(spec):
        found = [os.path.join(spec, f) for f in ("model.keras", "checkpoint.keras")
                 if os.path.isfile(os.path.join(spec, f))]
        if not found:
            raise UsageError(f"--init {spec!r} is a folder without model.keras or "
                             "checkpoint.keras (a finished or started keras-gans train run).")
        path = found[0]
    elif not os.path.isfile(spec) or not spec.endswith(".keras"):
        raise UsageError(f"--init {spec!r}: expected a run directory or a .keras file.")
    try:
        archive = registry.inspect_archive(path)
    except ValueError as e:
        raise UsageError(f"--init {spec!r}: {e}") from None
    held = str(archive.get("registered_name") or archive.get("class_name")).rpartition(">")[2]
    expected = VARIANTS[options["variant"]][1]
    # `train srgan` starts from a model of either phase.
    if held != expected and (expected, held) != ("SRGAN", "SRResNet"):
        raise UsageError(f"--init {spec!r} holds a {held}, not a {expected}.")
    config = archive.get("config", {})
    for dest, key in _INIT_FIXED.items():
        given = getattr(args, dest, None)
        value = config.get(key)
        if value is None:
            continue
        if given is not None and dest != "base_filters" and given != value:
            raise UsageError(f"--{dest.replace('_', '-')} {given} differs from the --init "
                             f"model's {value}; leave it out to take the model's.")
        options[dest] = value
    options["init"] = os.path.abspath(path)


def _check_run_dir_apart(run_dir, options):
    """Refuse a RUN_DIR inside the training data, or data inside RUN_DIR: the run's
    checkpoints and sample grids would become its training images."""
    for argument, source in (("DATA", options["data"]), ("--data-b", options.get("data_b"))):
        if source is None or source.startswith("tfds:"):
            continue
        if os.path.isdir(source) and _inside(run_dir, source):
            raise UsageError(f"--out {run_dir!r} is inside {argument} {source!r}: the run's "
                             "checkpoints and samples would become training images. Choose "
                             "a RUN_DIR outside the data.")
        if _inside(source, run_dir):
            raise UsageError(f"{argument} {source!r} is inside --out {run_dir!r}: a run's "
                             "outputs never become its training data. Choose a RUN_DIR "
                             "outside the data.")


def _check_run_dir(run_dir, options):
    """Refuse a run directory started with other arguments; `True` for a new run (whose
    arguments `_record_run` writes once everything else has been checked)."""
    path = os.path.join(run_dir, "args.json")
    # The file names of keras_gans.training, which imports TensorFlow.
    started = any(os.path.exists(os.path.join(run_dir, name))
                  for name in ("checkpoint.keras", "model.keras"))
    if started and os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            stored = json.load(f).get("arguments", {})
        changed = [key for key in options if stored.get(key, options[key]) != options[key]]
        if changed:
            names = {"variant": "VARIANT", "data": "DATA"}
            diffs = ", ".join(
                f"{names.get(k, '--' + k.replace('_', '-'))} {stored[k]!r} (now {options[k]!r})"
                for k in changed)
            hint = (" For SRGAN's second phase, start a new run from this one: --phase "
                    f"adversarial --init {run_dir} --out NEW_RUN_DIR."
                    if "phase" in changed else "")
            raise UsageError(
                f"RUN_DIR {run_dir!r} holds a run started with other arguments: {diffs}. "
                f"Use the same arguments to resume it, or another --out for a new run.{hint}")
        return False
    return True


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


def _train_dataset(options):
    from keras_gans import data

    variant = options["variant"]
    common = {"batch_size": options["batch_size"], "channels": options["channels"],
              "seed": options["seed"], "repeat": options["steps_per_epoch"] is not None,
              "on_error": options.get("on_error", "raise")}
    image_size = options.get("image_size")
    image_size = tuple(image_size) if isinstance(image_size, list) else image_size
    conditional = bool(options.get("num_classes") or options.get("conditional"))
    if variant in DECLARED_TRAIN_OPTIONS:
        return _variant_class(variant).train_dataset(options, **common), None
    if variant in GAN_VARIANTS:
        ds = data.images(options["data"], image_size=image_size, labels=conditional,
                         num_classes=options.get("num_classes"), **common)
    elif variant == "cyclegan":
        ds = data.unpaired(options["data"], options["data_b"], image_size=image_size,
                           jitter=options["jitter"], **common)
    else:
        ds = data.sr_pairs(options["data"], scale=options["scale"],
                           hr_size=options["hr_size"], **common)
    return ds, getattr(ds, "class_names", None)


def _num_classes(options, class_names):
    if options.get("num_classes"):
        return options["num_classes"]
    if not options.get("conditional"):
        return None
    if not class_names:
        raise UsageError("--conditional takes the number of classes from a folder with one "
                         "subfolder per class; for this DATA pass --num-classes K.")
    return len(class_names)


def _variant_class(variant):
    module, class_name = VARIANTS[variant]
    return getattr(importlib.import_module(module), class_name)


def _create_model(options, dataset, num_classes):
    cls = _variant_class(options["variant"])
    spec = dataset.element_spec
    variant = options["variant"]
    if variant in DECLARED_TRAIN_OPTIONS:
        return cls.from_train_options(tuple(spec[0].shape[1:]), options)
    if variant in GAN_VARIANTS:
        image_shape = tuple((spec[0] if num_classes else spec).shape[1:])
        kwargs = {"latent_dim": options["latent_dim"], "num_classes": num_classes,
                  "base_filters": options["base_filters"], "seed": options["seed"],
                  "spectral_norm": options["spectral_norm"],
                  "ema_decay": options["ema_decay"]}
        if variant == "dcgan":
            kwargs["label_smoothing"] = options["label_smoothing"]
        if variant == "wgan_gp":
            kwargs.update(n_critic=options["n_critic"], gp_weight=options["gp_weight"])
        model = cls.from_shape(image_shape, **kwargs)
        model.compile()
    elif variant == "cyclegan":
        model = cls.from_shape(tuple(spec[0].shape[1:]), filters=options["base_filters"],
                               num_residual_blocks=options["residual_blocks"],
                               d_filters=options["base_filters"],
                               pool_size=options["pool_size"], seed=options["seed"])
        model.compile(cycle_weight=options["cycle_weight"],
                      identity_weight=options["identity_weight"])
    else:
        try:  # SRResNet (--phase pretrain) or SRGAN (adversarial), from --init if given
            model = cls.from_train_options(tuple(spec[0].shape[1:]), options)
        except RuntimeError as e:  # VGG19's ImageNet weights could not be downloaded
            if "VGG19" not in str(e):
                raise
            raise UsageError(
                "the vgg19 content loss needs VGG19's ImageNet weights, which could not be "
                "downloaded (offline?): pass --vgg-weights FILE (Keras's vgg19_weights_tf_"
                "dim_ordering_tf_kernels_notop.h5, or put it in ~/.keras/models/), or use "
                "--content-loss mse.") from None
    return model


def _cmd_train(args):
    options = _train_options(args)
    run_dir = args.out
    _check_run_dir_apart(run_dir, options)
    new_run = _check_run_dir(run_dir, options)
    # Everything is checked before RUN_DIR is created: a refused command creates nothing.
    _import_tensorflow()
    import keras

    from keras_gans import callbacks, training

    keras.utils.set_random_seed(options["seed"])
    dataset, class_names = _train_dataset(options)
    num_classes = _num_classes(options, class_names)
    steps = options["steps_per_epoch"] or int(dataset.cardinality().numpy())
    model, resumed = training.resume_or_create(
        run_dir, lambda: _create_model(options, dataset, num_classes),
        expected_class=_variant_class(options["variant"]).train_class(options))
    if new_run:
        _record_run(run_dir, options)
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
    images = callbacks.TensorBoardImages(
        os.path.join(run_dir, "logs"), n=args.samples, seed=options["seed"],
        inputs=dataset)  # a GAN previews noise from the seed; the others, these data
    history = training.train(model, dataset, run_dir, epochs=args.epochs,
                             save_freq=args.save_freq,
                             steps_per_epoch=options["steps_per_epoch"], callbacks=[images],
                             verbose=args.verbose)
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


# --- translate, upscale ---


def _check_output_folder(files, root, out_dir, overwrite, argument):
    """The output path of each input below `root`; refuses an `out_dir` inside `root`
    (the outputs would be inputs of the next run), an output that is an input, and,
    without --overwrite, existing output files. Checked before the model is loaded."""
    if _inside(out_dir, root):
        where = "the input folder" if _same_file(out_dir, root) else "inside the input folder"
        raise UsageError(f"{argument}: the output folder {out_dir!r} is {where} {root!r}; "
                         "choose another, so that the inputs are not overwritten and the "
                         "outputs do not become inputs.")
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise UsageError(f"{argument}: {out_dir!r} is a file, not a folder.")
    names = _output_names(files, root)
    outputs = {path: os.path.join(out_dir, names[path]) for path in files}
    _check_outputs(list(outputs.values()), files, overwrite, argument)
    return outputs


def _write_outputs(outputs, out_dir, convert, provenance):
    """Run `convert` on each input, writing PNGs to `outputs[input]` (with `provenance`
    and the input's name), with a progress bar."""
    import keras

    from keras_gans import utils

    progress = keras.utils.Progbar(len(outputs), unit_name="image")
    for path, output in outputs.items():
        utils.save_image(convert(path), output,
                         metadata={**provenance, "input": os.path.basename(path)})
        progress.add(1)
    print(f"wrote {len(outputs)} images to {out_dir}")


def _output_names(files, root):
    """Relative output names: the input's with `.png`; inputs that would share one
    (`a.png` and `a.jpg`) keep their extension in it (`a_png.png`, `a_jpg.png`)."""
    stems = {path: os.path.splitext(os.path.relpath(path, root)) for path in files}
    counts = {}
    for stem, _ in stems.values():
        counts[stem.lower()] = counts.get(stem.lower(), 0) + 1
    return {path: (f"{stem}_{ext[1:].lower()}" if counts[stem.lower()] > 1 else stem) + ".png"
            for path, (stem, ext) in stems.items()}


def _cmd_translate(args):
    if not os.path.isdir(args.input_dir):
        raise FileNotFoundError(f"INPUT_DIR={args.input_dir!r}: no such folder.")
    files = _list_images(args.input_dir)
    if not files:
        raise UsageError(f"INPUT_DIR={args.input_dir!r} holds no image files "
                         f"({', '.join(IMAGE_SUFFIXES)}).")
    outputs = _check_output_folder(files, args.input_dir, args.output_dir, args.overwrite,
                                   "OUTPUT_DIR")
    model, provenance = _load_with_provenance(args.model)
    _require(model, "translate", args.model, "translate")
    provenance.update(seed="none (deterministic)",
                      command=f"translate --direction {args.direction}")

    from keras_gans import data

    channels = model.image_shape[-1]
    _write_outputs(outputs, args.output_dir, lambda path: model.translate(
        data.load_image_file(path, channels=channels), direction=args.direction), provenance)
    return 0


def _single_output(path, output):
    """The output file for one input file: OUTPUT, or OUTPUT/<stem>.png for a folder."""
    if os.path.isdir(output):
        output = os.path.join(output, os.path.splitext(os.path.basename(path))[0] + ".png")
    _check_image_path(output, "OUTPUT")
    return output


def _cmd_upscale(args):
    if not os.path.exists(args.input):
        raise FileNotFoundError(f"INPUT={args.input!r}: no such file or folder.")
    single, output, outputs = os.path.isfile(args.input), None, None
    if single:
        output = _single_output(args.input, args.output)
        _check_outputs([output], [args.input], args.overwrite, "OUTPUT")
    else:
        files = _input_images(args.input)
        outputs = _check_output_folder(files, args.input, args.output, args.overwrite,
                                       "OUTPUT")
    model, provenance = _load_with_provenance(args.model)
    _require(model, "upscale", args.model, "upscale")
    provenance.update(seed="none (deterministic)", command="upscale")

    from keras_gans import data

    def convert(path):
        image = data.load_image_file(path, channels=model.channels)
        if single:  # one call, seconds to minutes for a large photo: say so
            height, width = image.shape[:2]
            _status(f"upscaling {width}x{height} to {width * model.scale}x"
                    f"{height * model.scale}...")
        return model.upscale(image)

    return _write_result(args, single, output, outputs, convert, provenance)


def _input_images(folder):
    """The image files of the INPUT folder; none is a usage error."""
    files = _list_images(folder)
    if not files:
        raise UsageError(f"INPUT={folder!r} holds no image files "
                         f"({', '.join(IMAGE_SUFFIXES)}).")
    return files


def _write_result(args, single, output, outputs, convert, provenance):
    """Write one converted image (INPUT a file) or one per input (INPUT a folder)."""
    from keras_gans import utils

    if single:
        utils.save_image(convert(args.input), output,
                         metadata={**provenance, "input": os.path.basename(args.input)})
        print(f"wrote {output}")
    else:
        _write_outputs(outputs, args.output, convert, provenance)
    return 0


# --- inpaint ---


def _read_mask(path):
    """A mask image as bool `(H, W)`: True where it is white (missing), gray > 127.5."""
    from keras_gans import data

    return data.load_image_file(path, channels=1)[..., 0] > 0.0


def _mask_files(files, root, mask):
    """`{input: mask file}`: `mask` for all, or the file of the same relative name (any
    image extension) in the folder `mask`."""
    if not os.path.isdir(mask):
        _check_image_path(mask, "MASK")
        return dict.fromkeys(files, mask)
    if root is None:
        raise UsageError(f"MASK={mask!r} is a folder; for one INPUT file pass one mask file.")
    by_stem = {os.path.splitext(os.path.relpath(p, mask))[0]: p for p in _list_images(mask)}
    found = {}
    for path in files:
        stem = os.path.splitext(os.path.relpath(path, root))[0]
        if stem not in by_stem:
            raise UsageError(f"MASK={mask!r} holds no mask for INPUT image "
                             f"{os.path.relpath(path, root)!r} (expected {stem}.png).")
        found[path] = by_stem[stem]
    return found


def _cmd_inpaint(args):
    for name, path in (("INPUT", args.input), ("MASK", args.mask)):
        if not os.path.exists(path):
            raise FileNotFoundError(f"{name}={path!r}: no such file or folder.")
    single, output, outputs = os.path.isfile(args.input), None, None
    if single:
        output = _single_output(args.input, args.output)
        masks = _mask_files([args.input], None, args.mask)
        _check_outputs([output], [args.input, args.mask], args.overwrite, "OUTPUT")
    else:
        files = _input_images(args.input)
        masks = _mask_files(files, args.input, args.mask)
        outputs = _check_output_folder(files, args.input, args.output, args.overwrite,
                                       "OUTPUT")
    model, provenance = _load_with_provenance(args.model)
    _require(model, "inpaint", args.model, "inpaint")
    provenance.update(seed="none (deterministic)", command="inpaint")

    from keras_gans import data, utils

    def convert(path):
        image = utils.to_uint8(data.load_image_file(path, channels=model.channels))
        mask = _read_mask(masks[path])
        if mask.shape != image.shape[:2]:
            raise UsageError(f"MASK {masks[path]!r} is {mask.shape[1]}x{mask.shape[0]} "
                             f"pixels but INPUT {path!r} is {image.shape[1]}x"
                             f"{image.shape[0]}; a mask must have its image's size.")
        return model.inpaint(image, mask)

    return _write_result(args, single, output, outputs, convert, provenance)


# --- evaluate ---


def _feature_heads(spec, inception_weights):
    """`(fn, description, has_probabilities)`: fn maps a batch to (features, probs)."""
    from keras_gans import evaluation

    if spec == "inception":
        try:
            fn = evaluation.inception_extractor(weights=inception_weights or "imagenet")
        except RuntimeError as e:  # the weights could not be downloaded
            raise UsageError(f"{e} Pass --inception-weights PATH, or --feature-extractor "
                             "with a classifier.") from None
        return fn, "InceptionV3 pool features (2048-d)", False
    if inception_weights:
        raise UsageError("--inception-weights applies to --feature-extractor inception only.")
    try:
        fn, has_features_layer = evaluation.classifier_extractor(_load_model(spec))
    except ValueError:
        raise UsageError(f"--feature-extractor {spec!r} is not a functional Keras "
                         "classifier.") from None
    description = (f"{spec} (layer 'features' and its probabilities)" if has_features_layer
                   else f"{spec} (its outputs)")
    return fn, description, True


def _default_extractor(spec):
    _, name = _resolve_model(spec)
    if name is not None:
        from keras_gans import registry

        classifier = (registry.model_info(name).get("quality_floor") or {}).get("classifier")
        if classifier:
            return classifier
    return "inception"


def _real_batches(source, shape, n, batch_size, seed):
    from keras_gans import data

    ds = data.images(source, image_size=tuple(shape[:2]), channels=shape[2],
                     batch_size=batch_size, seed=seed, drop_remainder=False)
    seen = 0
    for batch in ds.as_numpy_iterator():
        yield batch[:n - seen]
        seen = min(n, seen + len(batch))
        _progress(seen, n, "real images")
        if seen >= n:
            return
    _progress(seen, seen, "real images (all there are)")


def _evaluate_generator(model, args, names):
    import numpy as np

    from keras_gans import evaluation

    extractor = args.feature_extractor or _default_extractor(args.model)
    fn, description, has_probs = _feature_heads(extractor, args.inception_weights)
    if names is None:
        names = [m for m in GENERATOR_METRICS if (m in ("fid", "kid") and args.data) or
                 (m in ("is", "coverage") and has_probs)]
        if not names:
            raise UsageError("nothing to measure: pass --data SOURCE for fid and kid, or a "
                             "classifier as --feature-extractor for is and coverage.")
    if not has_probs and {"is", "coverage"} & set(names):
        raise UsageError("is and coverage need class probabilities: pass a classifier as "
                         f"--feature-extractor (received {extractor!r}).")
    n, size = args.n, args.batch_size
    z = model.sample_noise(n, args.seed)
    labels = np.arange(n) % model.num_classes if model.num_classes else None

    def generated():
        for start in range(0, n, size):
            yield model.generate(z=z[start:start + size], labels=None if labels is None
                                 else labels[start:start + size])
            _progress(min(n, start + size), n, "generated images")

    real = None
    if {"fid", "kid"} & set(names):
        real = _real_batches(args.data, model.image_shape, n, size, args.seed)
    measured = evaluation.measure(generated(), fn, names, real=real, seed=args.seed,
                                  is_splits=min(10, n),
                                  max_features=100 * 1000)  # the rows KID draws from
    results = {}
    if "fid" in names:
        results["fid"] = {"value": measured["fid"]}
    for name in ("kid", "is"):
        if name in names:
            mean, std = measured[name]
            results[name] = {"value": mean, "std": std}
    if "coverage" in names:
        coverage = measured["coverage"]
        results["coverage"] = {
            "value": coverage["normalized_entropy"], "entropy": coverage["entropy"],
            "max_entropy": coverage["max_entropy"],
            "missing_classes": coverage["missing_classes"], "missing": coverage["missing"],
            "histogram": [int(c) for c in coverage["histogram"]]}
    return {"model": args.model, "generated": n, "seed": args.seed,
            "real": measured.get("real_count", 0),
            "data": args.data, "feature_extractor": description, "metrics": results}


def _evaluate_upscaler(model, args, names):
    import numpy as np

    from keras_gans import data

    names = names or list(UPSCALER_METRICS)
    hr_size = args.hr_size or model.hr_size
    ds = data.sr_pairs(args.data, scale=model.scale, hr_size=hr_size,
                       batch_size=min(args.batch_size, args.n), channels=model.channels,
                       seed=args.seed, drop_remainder=False)
    lows, highs, seen = [], [], 0
    for low, high in ds.as_numpy_iterator():
        lows.append(low)
        highs.append(high)
        seen += len(low)
        if seen >= args.n:
            break
    low, high = np.concatenate(lows)[:args.n], np.concatenate(highs)[:args.n]
    report = model.evaluate_quality(low, high)
    results = {}
    for name in names:
        for key in sorted(report["model"]):
            if key.startswith(name + "_"):
                results[key] = {"value": report["model"][key],
                                "bicubic": report["bicubic"][key]}
    return {"model": args.model, "pairs": len(low), "hr_size": hr_size, "seed": args.seed,
            "data": args.data, "metrics": results}


def _cmd_evaluate(args):
    names = args.metrics
    if args.data is not None:
        args.data = _check_source(args.data, "--data")
    wanted = set(names or ())
    if wanted & set(GENERATOR_METRICS) and wanted & set(UPSCALER_METRICS):
        raise UsageError(f"--metrics mixes generator metrics ({', '.join(GENERATOR_METRICS)})"
                         f" and super-resolution ones ({', '.join(UPSCALER_METRICS)}).")
    if wanted & {"fid", "kid", "psnr", "ssim"} and args.data is None:
        raise UsageError(f"--metrics {','.join(names)} compares with real images: pass "
                         "--data SOURCE.")
    if args.data is not None and args.data.startswith("tfds:"):
        _import_tensorflow()
        from keras_gans import data

        data.check_tfds(args.data, "data")  # offline: an error now, not after sampling
    model = _load_model(args.model)
    if hasattr(model, "upscale") and not hasattr(model, "generate"):
        if wanted - set(UPSCALER_METRICS):
            raise UsageError(f"{type(model).__name__} models are measured with "
                             f"{', '.join(UPSCALER_METRICS)}; received --metrics "
                             f"{','.join(names)}.")
        if args.data is None:
            raise UsageError("psnr and ssim compare with real images: pass --data SOURCE.")
        report = _evaluate_upscaler(model, args, names)
    else:
        _require(model, "generate", args.model, "evaluate")
        if wanted - set(GENERATOR_METRICS):
            raise UsageError(f"GANs are measured with {', '.join(GENERATOR_METRICS)}; "
                             f"received --metrics {','.join(names)}.")
        report = _evaluate_generator(model, args, names)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    for key, value in report.items():
        if key != "metrics":
            print(f"{key}: {value}")
    print()
    rows = []
    for name, result in report["metrics"].items():
        extra = ""
        if "std" in result:
            extra = f"std {result['std']:.4g}"
        elif "bicubic" in result:
            extra = f"bicubic {result['bicubic']:.4g}"
        elif "missing_classes" in result:
            extra = (f"normalized class entropy; {result['missing_classes']} of "
                     f"{len(result['histogram'])} classes missing")
        rows.append((name, f"{result['value']:.6g}", extra))
    _table(("METRIC", "VALUE", ""), rows)
    return 0


# --- export ---


def _cmd_export(args):
    target = os.path.join(args.base_dir, str(args.version))
    if args.version is not None and os.path.lexists(target):
        # Checked again by `export`; here it fails before loading anything.
        raise FileExistsError(f"{target!r} already exists; versions are never overwritten. "
                              "Pass another --version, or none for the next free one.")
    model = _load_model(args.model, compile=True)

    from keras_gans.export import export

    path = export(model, args.base_dir, version=args.version)
    print(f"exported {args.model} to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
