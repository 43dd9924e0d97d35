"""`keras-gans export MODEL_OR_PATH BASE_DIR [--version N]`: a TF Serving SavedModel."""

import os

from keras_gans.cli._common import add_model_command, load_model, non_negative_int


def add_parser(subparsers):
    p = add_model_command(subparsers, "export", run,
                          "export a model as a TF Serving SavedModel",
                          "Write BASE_DIR/<version>/ (saved_model.pb, variables/, "
                          "assets.extra/model.keras): the layout TF Serving watches. "
                          "Existing versions are never overwritten.",
                          [("base_dir", "BASE_DIR", None)])
    p.add_argument("--version", type=non_negative_int, default=None,
                   help="the version number (default: the next free one)")


def run(args):
    target = os.path.join(args.base_dir, str(args.version))
    if args.version is not None and os.path.lexists(target):
        # Checked again by `export`; here it fails before loading anything.
        raise FileExistsError(f"{target!r} already exists; versions are never overwritten. "
                              "Pass another --version, or none for the next free one.")
    model = load_model(args.model, compile=True)

    from keras_gans.export import export

    path = export(model, args.base_dir, version=args.version)
    print(f"exported {args.model} to {path}")
    return 0
