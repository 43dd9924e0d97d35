"""`keras-gans sample NAME_OR_PATH -n 64 -o grid.png`: images from a GAN, as a grid
and/or one file per image."""

import argparse
import os
import random

from keras_gans.cli._common import (
    UsageError,
    add_model_command,
    add_overwrite,
    check_image_path,
    check_outputs,
    check_writable,
    load_with_provenance,
    non_negative_int,
    positive_int,
    require,
    same_file,
)


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


def add_parser(subparsers):
    p = add_model_command(subparsers, "sample", run,
                          "generate images with a GAN and save them as PNG",
                          "Generate images with a GAN and save them as a grid (-o) and/or "
                          "one file per image (--separate). Without either, writes grid.png.",
                          metavar="NAME_OR_PATH")
    p.add_argument("-n", "--num", dest="n", type=positive_int, default=64,
                   help="number of images")
    p.add_argument("-o", "--output", default=None, help="the grid image file (.png, .jpg)")
    p.add_argument("--seed", type=non_negative_int, default=None,
                   help="seed of the noise, for reproducible images (default: random)")
    p.add_argument("--labels", type=_labels, default=None,
                   help="conditional GANs: one class id for all images, or n comma-"
                        "separated ids (default: the classes in turn)")
    p.add_argument("--separate", metavar="DIR", default=None,
                   help="also write each image to DIR/0000.png, DIR/0001.png, ...")
    p.add_argument("--ncols", type=positive_int, default=None,
                   help="images per row of the grid (default: a square grid)")
    add_overwrite(p)


def _outputs(args):
    """The grid file or None; every output (the grid and the --separate files) checked
    before the model is loaded: against each other, the inputs and existing files."""
    output = args.output
    if output is None and args.separate is None:
        output = "grid.png"
    model_files = [spec for spec in (args.model,) if os.path.exists(spec)]
    if output is not None:
        check_image_path(output, "-o/--output")
        check_outputs([output], model_files, args.overwrite, "-o/--output")
        check_writable(output, "-o/--output")
    if args.separate is not None:
        if os.path.exists(args.separate) and not os.path.isdir(args.separate):
            raise UsageError(f"--separate {args.separate!r} is a file, not a folder.")
        separate = _separate_names(args.separate, args.n)
        same = [p for p in separate if output is not None and same_file(p, output)]
        if same:
            raise UsageError(
                f"-o/--output {output!r} is also one of the --separate files ({same[0]!r}): "
                "choose another -o/--output or another --separate folder.")
        check_outputs(separate, model_files, args.overwrite, "--separate")
        check_writable(args.separate, "--separate", folder=True)
    return output


def _model_labels(model, args):
    if args.labels is None:
        return None
    if not getattr(model, "num_classes", None):
        raise UsageError(f"--labels given, but MODEL_OR_PATH={args.model!r} is an "
                         "unconditional GAN.")
    if len(args.labels) not in (1, args.n):
        raise UsageError(f"--labels has {len(args.labels)} class ids; expected 1 or "
                         f"n={args.n}.")
    return args.labels[0] if len(args.labels) == 1 else args.labels


def run(args):
    output = _outputs(args)
    model, provenance = load_with_provenance(args.model)
    require(model, "generate", args.model, "sample")
    labels = _model_labels(model, args)
    # Without --seed, a random one: recorded in the PNGs, so any image can be redrawn.
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**31)
    images = model.generate(args.n, seed=seed, labels=labels)

    from keras_gans import utils

    provenance.update(seed=seed, command=f"sample -n {args.n} --seed {seed}" + (
        f" --labels {','.join(map(str, args.labels))}" if args.labels else ""))
    if output is not None:
        utils.save_grid(images, output, ncols=args.ncols, metadata=provenance,
                        overwrite=args.overwrite)
        print(f"wrote {output} ({args.n} images)")
    if args.separate is not None:
        os.makedirs(args.separate, exist_ok=True)
        for i, (image, path) in enumerate(zip(images, _separate_names(args.separate, args.n))):
            utils.save_image(image, path, metadata={**provenance, "index": i},
                             overwrite=args.overwrite)
        print(f"wrote {args.n} images to {args.separate}")
    return 0


def _separate_names(folder, n):
    width = max(4, len(str(n - 1)))
    return [os.path.join(folder, f"{i:0{width}d}.png") for i in range(n)]
