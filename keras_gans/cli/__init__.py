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

The package: this module assembles the parser from each command module's
`add_parser(subparsers)` and runs the command; `catalog` (list, info), `provenance`,
`sample`, `train` (its variants' options read from the models' declarations by
`_variants`), `convert` (translate, upscale, inpaint), `evaluate` and `export`; shared
helpers in `_common`, exit statuses and error lines in `_errors`.
"""

import logging
import os
import warnings

from keras_gans import __version__
from keras_gans.cli import catalog, convert, evaluate, export, provenance, sample, train
from keras_gans.cli._common import PROG, Parser, UsageError, debug_parent
from keras_gans.cli._errors import flag_names, run_command

__all__ = ["PROG", "UsageError", "build_parser", "main"]

# The commands, in the order of `keras-gans --help`.
COMMANDS = (catalog, provenance, sample, train, convert, evaluate, export)


def build_parser():
    """The argument parser of `keras-gans` (imports nothing heavy)."""
    parser = Parser(
        prog=PROG, parents=[debug_parent()],
        description="A Keras 3 / TensorFlow model zoo of GANs: list, sample, train, "
                    "translate, upscale, evaluate and export models.",
        epilog="Run `keras-gans COMMAND --help` for the options of a command.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True,
                                       parser_class=Parser)
    for command in COMMANDS:
        command.add_parser(subparsers)
    return parser


def main(argv=None):
    """Run `keras-gans` with `argv` (default: `sys.argv[1:]`); returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = getattr(args, "debug", False) or \
        os.environ.get("KERAS_GANS_DEBUG", "") not in ("", "0")
    # TensorFlow's C++ logging would bury our one-line messages on stderr (its start-up
    # lines are silenced by `import_tensorflow`, which ignores this setting).
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
            return run_command(args, debug, flag_names(parser, args.command))
        finally:
            tf_logger.setLevel(level)
