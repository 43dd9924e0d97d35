"""`keras-gans translate`, `upscale` and `inpaint`: image-to-image commands on one image
file or a folder of them, every output checked before the model is loaded."""

import os
import re

from keras_gans.cli._common import (
    IMAGE_SUFFIXES,
    UsageError,
    add_model_command,
    add_overwrite,
    check_image_path,
    check_outputs,
    inside,
    list_images,
    load_with_provenance,
    require,
    same_file,
    status,
)

_INPUT = ("input", "INPUT", "an image file or a folder")
_OUTPUT = ("output", "OUTPUT", "an image file or a folder")


def add_parser(subparsers):
    p = add_model_command(
        subparsers, "translate", run_translate, "translate a folder of images with a CycleGAN",
        "Translate every image of INPUT_DIR (searched recursively) with a CycleGAN and "
        "write the results as PNG files with the same relative names to OUTPUT_DIR.",
        [("input_dir", "INPUT_DIR", None), ("output_dir", "OUTPUT_DIR", None)])
    p.add_argument("--direction", choices=("a2b", "b2a"), default="a2b")
    add_overwrite(p)
    add_overwrite(add_model_command(
        subparsers, "upscale", run_upscale, "super-resolve an image or a folder with an SRGAN",
        "Upscale an image file (OUTPUT: a file, or an existing folder) or a folder of "
        "images, searched recursively (OUTPUT: a folder; PNG files with the same relative "
        "names).", [_INPUT, _OUTPUT]))
    add_overwrite(add_model_command(
        subparsers, "inpaint", run_inpaint,
        "fill the missing regions of images with an Inpainter",
        "Fill the pixels that MASK marks white (missing) in an image file (OUTPUT: a "
        "file, or an existing folder) or in every image of a folder, searched "
        "recursively (OUTPUT: a folder; PNG files with the same relative names). MASK "
        "is one image file for every input (of the same size), or, for a folder, a "
        "folder of masks with the inputs' relative names. The other pixels are kept "
        "exactly.",
        [_INPUT, ("mask", "MASK", "a mask image (white = missing) or a folder of them"),
         _OUTPUT]))


# --- Outputs ---


def _check_output_folder(files, root, out_dir, overwrite, argument):
    """The output path of each input below `root`; refuses an `out_dir` inside `root`
    (the outputs would be inputs of the next run), an output that is an input, and,
    without --overwrite, existing output files. Checked before the model is loaded."""
    if inside(out_dir, root):
        where = "the input folder" if same_file(out_dir, root) else "inside the input folder"
        raise UsageError(f"{argument}: the output folder {out_dir!r} is {where} {root!r}; "
                         "choose another, so that the inputs are not overwritten and the "
                         "outputs do not become inputs.")
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise UsageError(f"{argument}: {out_dir!r} is a file, not a folder.")
    names = _output_names(files, root)
    outputs = {path: os.path.join(out_dir, names[path]) for path in files}
    check_outputs(list(outputs.values()), files, overwrite, argument)
    return outputs


def _write_outputs(outputs, out_dir, convert, provenance, overwrite):
    """Run `convert` on each input, writing PNGs to `outputs[input]` (with `provenance`
    and the input's name), with a progress bar; existing files are replaced only with
    `overwrite` (--overwrite, checked before the model was loaded)."""
    import keras

    from keras_gans import utils

    progress = keras.utils.Progbar(len(outputs), unit_name="image")
    for path, output in outputs.items():
        utils.save_image(convert(path), output,
                         metadata={**provenance, "input": os.path.basename(path)},
                         overwrite=overwrite)
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


def _single_output(path, output):
    """The output file for one input file: OUTPUT, or OUTPUT/<stem>.png for a folder."""
    if os.path.isdir(output):
        output = os.path.join(output, os.path.splitext(os.path.basename(path))[0] + ".png")
    check_image_path(output, "OUTPUT")
    return output


def _input_images(folder, argument="INPUT"):
    """The image files of an input folder; none is a usage error."""
    files = list_images(folder)
    if not files:
        raise UsageError(f"{argument}={folder!r} holds no image files "
                         f"({', '.join(IMAGE_SUFFIXES)}).")
    return files


def _write_result(args, single, output, outputs, convert, provenance):
    """Write one converted image (INPUT a file) or one per input (INPUT a folder)."""
    from keras_gans import utils

    if single:
        utils.save_image(convert(args.input), output,
                         metadata={**provenance, "input": os.path.basename(args.input)},
                         overwrite=args.overwrite)
        print(f"wrote {output}")
    else:
        _write_outputs(outputs, args.output, convert, provenance, args.overwrite)
    return 0


def _read_image(path, argument, channels):
    """`keras_gans.data.load_image_file`, its errors naming the command's `argument`
    (INPUT, INPUT_DIR or MASK) rather than the library's `path`."""
    from keras_gans import data

    try:
        return data.load_image_file(path, channels=channels)
    except ValueError as e:
        raise UsageError(re.sub(r"(?:argument )?`path`", argument, str(e))) from None


def _load(args, method):
    """The model of MODEL_OR_PATH, which must offer `method`, and its provenance."""
    model, provenance = load_with_provenance(args.model)
    require(model, method, args.model, method)
    return model, provenance


# --- translate ---


def run_translate(args):
    if not os.path.isdir(args.input_dir):
        raise FileNotFoundError(f"INPUT_DIR={args.input_dir!r}: no such folder.")
    files = _input_images(args.input_dir, "INPUT_DIR")
    outputs = _check_output_folder(files, args.input_dir, args.output_dir, args.overwrite,
                                   "OUTPUT_DIR")
    model, provenance = _load(args, "translate")
    provenance.update(seed="none (deterministic)",
                      command=f"translate --direction {args.direction}")

    channels = model.image_shape[-1]
    _write_outputs(outputs, args.output_dir, lambda path: model.translate(
        _read_image(path, "INPUT_DIR", channels), direction=args.direction), provenance,
        args.overwrite)
    return 0


# --- upscale ---


def run_upscale(args):
    if not os.path.exists(args.input):
        raise FileNotFoundError(f"INPUT={args.input!r}: no such file or folder.")
    single, output, outputs = os.path.isfile(args.input), None, None
    if single:
        output = _single_output(args.input, args.output)
        check_outputs([output], [args.input], args.overwrite, "OUTPUT")
    else:
        files = _input_images(args.input)
        outputs = _check_output_folder(files, args.input, args.output, args.overwrite,
                                       "OUTPUT")
    model, provenance = _load(args, "upscale")
    provenance.update(seed="none (deterministic)", command="upscale")

    def convert(path):
        image = _read_image(path, "INPUT", model.channels)
        if single:  # one call, seconds to minutes for a large photo: say so
            height, width = image.shape[:2]
            status(f"upscaling {width}x{height} to {width * model.scale}x"
                   f"{height * model.scale}...")
        return model.upscale(image)

    return _write_result(args, single, output, outputs, convert, provenance)


# --- inpaint ---


def _read_mask(path):
    """A mask image as bool `(H, W)`: True where it is white (missing), gray > 127.5."""
    return _read_image(path, "MASK", 1)[..., 0] > 0.0


def _mask_files(files, root, mask):
    """`{input: mask file}`: `mask` for all, or the file of the same relative name (any
    image extension) in the folder `mask`."""
    if not os.path.isdir(mask):
        check_image_path(mask, "MASK")
        return dict.fromkeys(files, mask)
    if root is None:
        raise UsageError(f"MASK={mask!r} is a folder; for one INPUT file pass one mask file.")
    by_stem = {os.path.splitext(os.path.relpath(p, mask))[0]: p for p in list_images(mask)}
    found = {}
    for path in files:
        stem = os.path.splitext(os.path.relpath(path, root))[0]
        if stem not in by_stem:
            raise UsageError(f"MASK={mask!r} holds no mask for INPUT image "
                             f"{os.path.relpath(path, root)!r} (expected {stem}.png).")
        found[path] = by_stem[stem]
    return found


def run_inpaint(args):
    for name, path in (("INPUT", args.input), ("MASK", args.mask)):
        if not os.path.exists(path):
            raise FileNotFoundError(f"{name}={path!r}: no such file or folder.")
    single, output, outputs = os.path.isfile(args.input), None, None
    if single:
        output = _single_output(args.input, args.output)
        masks = _mask_files([args.input], None, args.mask)
        check_outputs([output], [args.input, args.mask], args.overwrite, "OUTPUT")
    else:
        files = _input_images(args.input)
        masks = _mask_files(files, args.input, args.mask)
        outputs = _check_output_folder(files, args.input, args.output, args.overwrite,
                                       "OUTPUT")
    model, provenance = _load(args, "inpaint")
    provenance.update(seed="none (deterministic)", command="inpaint")

    from keras_gans import utils

    def convert(path):
        image = utils.to_uint8(_read_image(path, "INPUT", model.channels))
        mask = _read_mask(masks[path])
        if mask.shape != image.shape[:2]:
            raise UsageError(f"MASK {masks[path]!r} is {mask.shape[1]}x{mask.shape[0]} "
                             f"pixels but INPUT {path!r} is {image.shape[1]}x"
                             f"{image.shape[0]}; a mask must have its image's size.")
        return model.inpaint(image, mask)

    return _write_result(args, single, output, outputs, convert, provenance)
