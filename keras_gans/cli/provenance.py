"""`keras-gans provenance FILE`: what made a PNG keras_gans wrote (no TensorFlow)."""

import json
import os

from keras_gans.cli._common import UsageError, add_command, table


def add_parser(subparsers):
    p = add_command(
        subparsers, "provenance", run, "show what made a PNG written by keras_gans",
        "Print the provenance keras_gans writes into every PNG it makes (sample, "
        "translate, upscale, inpaint): the model's name or file, its version, the "
        "sha256 of its .keras file, the seed and the command.")
    p.add_argument("file", metavar="FILE", help="a PNG file")
    p.add_argument("--json", action="store_true", help="print it as JSON")


def run(args):
    from keras_gans import utils

    if not os.path.isfile(args.file):
        raise FileNotFoundError(f"FILE={args.file!r}: no such file.")
    from PIL import Image

    try:
        found = utils.read_provenance(args.file)
    except OSError as e:  # PIL: not an image
        raise UsageError(f"FILE={args.file!r} is not an image file ({e}).") from None
    except Image.DecompressionBombError as e:  # its header declares too many pixels
        raise UsageError(f"FILE={args.file!r} is not read: {e}") from None
    except (SyntaxError, ValueError) as e:  # PIL: a damaged header
        raise UsageError(f"FILE={args.file!r} is not a readable image file "
                         f"({type(e).__name__}: {e}).") from None
    if not found:
        raise UsageError(f"FILE={args.file!r} carries no keras_gans provenance: it was not "
                         "written by keras_gans, or its metadata was stripped.")
    if args.json:
        print(json.dumps(found, indent=2))
    else:
        table(("KEY", "VALUE"), sorted(found.items()))
    return 0
