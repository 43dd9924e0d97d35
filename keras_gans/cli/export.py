"""`keras-gans export MODEL_OR_PATH BASE_DIR [--version N] [--jit-compile]`: a TF Serving
SavedModel."""

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
    p.add_argument("--jit-compile", action="store_true",
                   help="compile the served network with XLA: lower batch-1 latency, a "
                        "compilation per new input shape; TF Serving on a CPU then needs "
                        "--xla_cpu_compilation_enabled=true")


def run(args):
    target = os.path.join(args.base_dir, str(args.version))
    if args.version is not None and os.path.lexists(target):
        # Checked again by `export`; here it fails before loading anything.
        raise FileExistsError(f"{target!r} already exists; versions are never overwritten. "
                              "Pass another --version, or none for the next free one.")
    model = load_model(args.model, compile=True)

    from keras_gans.export import export

    path = export(model, args.base_dir, version=args.version, jit_compile=args.jit_compile)
    print(f"exported {args.model} to {path}" + (" (XLA)" if args.jit_compile else ""))
    return 0
