"""Image helpers shared by the package.

The one pair of converters between uint8 and [-1, 1] floats (`to_uint8`, `to_float`,
arrays or tensors), image checks (`check_images`), `bicubic_upscale` (the baseline of
super-resolution), sample grids and PNG files (`make_grid`, `save_grid`, `save_image`)
with the provenance text chunks `keras-gans provenance` reads back (`provenance_text`,
`read_provenance`), small file helpers (`walk_files`, `take_rows`), and
`interpolate_weights` (network interpolation between two trainings of one network).
`available_memory` lives in `keras_gans.memory` (still importable from here).
"""

import contextlib
import errno
import numbers
import os
import stat
import sys

import numpy as np

from keras_gans._arrays import non_finite
from keras_gans.memory import available_memory  # noqa: F401  (its old home)


def walk_files(root, extensions):
    """Files under the folder `root`, searched recursively: `(matching, others, special)`.

    Symbolic links are followed, but each folder and each file is listed once, so a
    link loop (`a/loop -> ..`) or two links to one image count it once. Hidden names
    (starting with `.`) are left out. `matching` holds the regular files whose name ends
    in one of `extensions` (case-insensitive), `others` the other regular files, and
    `special` what is not a regular file (FIFOs, sockets, devices): never opened, as
    reading a FIFO would block for ever. Names that are not valid UTF-8 are kept as
    Python gives them (`os.fsencode` recovers their bytes). Each list is sorted.
    """
    matching, others, special = [], [], []
    seen_folders, seen_files = set(), set()
    for folder, dirs, names in os.walk(root, followlinks=True):
        try:
            info = os.stat(folder)
        except OSError:
            info = None
        if info is not None:
            if (info.st_dev, info.st_ino) in seen_folders:
                dirs[:] = []
                continue
            seen_folders.add((info.st_dev, info.st_ino))
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            if name.startswith("."):
                continue
            path = os.path.join(folder, name)
            try:
                info = os.stat(path)
            except OSError:  # a broken link: listed, so that reading it names it
                info = None
            if info is not None:
                if not stat.S_ISREG(info.st_mode):
                    special.append(path)
                    continue
                if (info.st_dev, info.st_ino) in seen_files:
                    continue
                seen_files.add((info.st_dev, info.st_ino))
            (matching if name.lower().endswith(tuple(extensions)) else others).append(path)
    return matching, others, special


def take_rows(inputs, n):
    """The first `n` rows of `inputs` (an array, a pair of arrays or a dataset of such
    batches) as a tuple of arrays, e.g. the fixed inputs of a preview."""
    import tensorflow as tf

    _check_count("n", n)

    if isinstance(inputs, tf.data.Dataset):
        parts = None
        count = 0
        for element in inputs.as_numpy_iterator():
            element = element if isinstance(element, tuple) else (element,)
            parts = [[] for _ in element] if parts is None else parts
            for part, value in zip(parts, element):
                part.append(value)
            count += len(element[0])
            if count >= n:
                break
        if parts is None:
            raise ValueError("Received an invalid value for argument `inputs`: the dataset "
                             "is empty.")
        inputs = tuple(np.concatenate(part) for part in parts)
    if not isinstance(inputs, (tuple, list)):
        inputs = (inputs,)
    if len(inputs) not in (1, 2):
        raise ValueError(
            "Received an invalid value for argument `inputs`. Expected images or a pair "
            f"of image batches, received {len(inputs)} parts."
        )
    return tuple(np.asarray(part)[:n] for part in inputs)


# --- uint8 <-> [-1, 1]: the package's one pair of converters ---


def _is_tf_tensor(images):
    # TensorFlow is looked up, not imported: without it loaded nothing can be a tensor.
    tf = sys.modules.get("tensorflow")
    return tf is not None and tf.is_tensor(images)


def to_uint8(images):
    """Convert float images in [-1, 1] to uint8 in [0, 255] (values outside are clipped).

    `round((images + 1) * 127.5)`, rounding half to even, clipped to [0, 255].

    Args:
        images: array-like of floats in [-1, 1], any shape; uint8 input is returned as is.
            A TensorFlow tensor (eager or inside a graph) is converted with TensorFlow
            ops, unchecked.

    Returns:
        A numpy uint8 array of the same shape (a uint8 tensor for a tensor).
    """
    if _is_tf_tensor(images):
        import tensorflow as tf

        if images.dtype == tf.uint8:
            return images
        images = tf.round((tf.cast(images, tf.float32) + 1.0) * 127.5)
        return tf.cast(tf.clip_by_value(images, 0.0, 255.0), tf.uint8)
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images
    if not np.issubdtype(images.dtype, np.floating):
        raise TypeError(
            "Received an invalid value for argument `images`. Expected float images in "
            f"[-1, 1] or uint8, received dtype {images.dtype}."
        )
    return np.clip(np.rint((images.astype("float32") + 1.0) * 127.5), 0, 255).astype("uint8")


def to_float(images, dtype="float32"):
    """Convert uint8 images in [0, 255] to float in [-1, 1]; float input is checked.

    uint8 pixels `p` become `p / 127.5 - 1`, computed in float32.

    Args:
        images: uint8 images, or float images in [-1, 1] (finite), any shape. A
            TensorFlow tensor (eager or inside a graph) is converted with TensorFlow
            ops; float tensors are cast, unchecked.
        dtype: the result's dtype (for tensors; numpy results are float32).

    Returns:
        A numpy float32 array of the same shape (a `dtype` tensor for a tensor).
    """
    if _is_tf_tensor(images):
        import tensorflow as tf

        if images.dtype == tf.uint8:
            images = tf.cast(images, tf.float32) / 127.5 - 1.0
        return tf.cast(images, dtype)
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images.astype("float32") / 127.5 - 1.0
    if not np.issubdtype(images.dtype, np.floating):
        raise TypeError(
            "Received an invalid value for argument `images`. Expected uint8 or float "
            f"images, received dtype {images.dtype}."
        )
    finite = np.isfinite(images)
    if not finite.all():  # NaN would pass the range check below: comparisons are False
        raise ValueError(
            "Received an invalid value for argument `images`. Float images must be finite, "
            f"in [-1, 1]; received {int(finite.size - finite.sum())} NaN or infinite "
            f"values, e.g. {images[~finite].flat[0]}."
        )
    if images.size and (images.min() < -1.0 - 1e-3 or images.max() > 1.0 + 1e-3):
        raise ValueError(
            "Received an invalid value for argument `images`. Float images must be in "
            f"[-1, 1]; received values in [{images.min():.3g}, {images.max():.3g}]. "
            "Pass uint8 images (0-255) or rescale them."
        )
    return images.astype("float32")


def check_images(images, argument, channels=None):
    """`(batch, single)`: `images` as an array `(N, H, W, C)` (a single `(H, W, C)` image
    gains a batch axis, and `single` says so), uint8 or float, with `channels` if given."""
    images = np.asarray(images)
    expected = f"C={channels}" if channels else "any C"
    if images.ndim not in (3, 4) or images.size == 0 or (
            channels is not None and images.shape[-1] != channels):
        raise ValueError(
            f"Received an invalid value for argument `{argument}`. Expected an image "
            f"(H, W, C) or a batch (N, H, W, C) with {expected}, received an array of "
            f"shape {images.shape}."
        )
    if images.dtype != np.uint8 and not np.issubdtype(images.dtype, np.floating):
        raise TypeError(
            f"Received an invalid value for argument `{argument}`. Expected uint8 images "
            f"(0-255) or float images in [-1, 1], received dtype {images.dtype}."
        )
    single = images.ndim == 3
    return (images[None] if single else images), single


def bicubic_upscale(images, scale):
    """Bicubic upscaling by `scale`: the baseline of every super-resolution report.

    `tf.image.resize(method="bicubic")` (Keys' cubic convolution, a = -0.5), clipped to
    the valid range.

    Args:
        images: uint8 images, or float images in [-1, 1]; `(H, W, C)` or `(N, H, W, C)`.
        scale: positive integer factor.

    Returns:
        The upscaled images with the input's convention: uint8 for uint8 input, float32
        in [-1, 1] otherwise; shape `(..., H * scale, W * scale, C)`.
    """
    import tensorflow as tf

    if isinstance(scale, (bool, np.bool_)) or not isinstance(scale, (int, np.integer)) \
            or scale <= 0:
        raise ValueError("Received an invalid value for argument `scale`. Expected a "
                         f"positive integer, received: scale={scale!r}")
    batch, single = check_images(images, "images")
    is_uint8 = batch.dtype == np.uint8
    x = to_float(batch)
    height, width = x.shape[1:3]
    out = tf.image.resize(x, (height * scale, width * scale), method="bicubic")
    out = np.clip(out.numpy(), -1.0, 1.0)
    out = to_uint8(out) if is_uint8 else out.astype("float32")
    return out[0] if single else out


def interpolate_weights(start, end, alpha):
    """Network interpolation: `(1 - alpha) * start + alpha * end`, weight by weight.

    Two trainings of the same network (a PSNR-oriented SRResNet and the SRGAN fine-tuned
    from it; an early and a late checkpoint) blended in weight space. ESRGAN (Wang et al.
    2018, section 3.4) uses it to trade fidelity for perceptual detail smoothly, with
    fewer artefacts than tuning the adversarial weight; `alpha` 0 is `start`, 1 is
    `end`. Only floating-point weights are blended (batch-norm statistics included);
    others (integer counters, seeds) are taken from `end`.

    Args:
        start: a Keras model or layer (the `alpha = 0` end), or its list of weights.
        end: the same architecture (the `alpha = 1` end), or its list of weights.
        alpha: a number in [0, 1].

    Returns:
        A list of numpy arrays, for `network.set_weights(...)`.

    Raises:
        ValueError: `alpha` is outside [0, 1], or the two do not have the same weights
            (count and shapes).
        TypeError: `alpha` is not a number, or `start` / `end` has no weights.

    Example:

    ```python
    gan.generator.set_weights(keras_gans.utils.interpolate_weights(
        srresnet.generator, gan.generator, 0.5))
    ```
    """
    if isinstance(alpha, (bool, np.bool_)) or not isinstance(
            alpha, (numbers.Real, np.integer, np.floating)):
        raise TypeError("Received an invalid value for argument `alpha`. Expected a number "
                        f"in [0, 1], received: {alpha!r} of type {type(alpha).__name__}")
    if not 0.0 <= float(alpha) <= 1.0:
        raise ValueError("Received an invalid value for argument `alpha`. Expected a number "
                         f"in [0, 1], received: alpha={alpha!r}")
    weights = {}
    for argument, network in (("start", start), ("end", end)):
        if isinstance(network, (list, tuple)):
            weights[argument] = [np.asarray(w) for w in network]
        elif hasattr(network, "get_weights"):
            weights[argument] = network.get_weights()
        else:
            raise TypeError(
                f"Received an invalid value for argument `{argument}`. Expected a Keras "
                "model or layer, or a list of weight arrays, received: "
                f"{type(network).__name__}")
    shapes = {k: [tuple(w.shape) for w in v] for k, v in weights.items()}
    if shapes["start"] != shapes["end"]:
        first = next((i for i, (a, b) in enumerate(zip(shapes["start"], shapes["end"]))
                      if a != b), min(len(shapes["start"]), len(shapes["end"])))
        at = (f"weight {first} has shape {shapes['start'][first]} in `start` and "
              f"{shapes['end'][first]} in `end`" if first < min(map(len, shapes.values()))
              else f"`start` has {len(shapes['start'])} weights, `end` "
                   f"{len(shapes['end'])}")
        raise ValueError(
            f"Arguments `start` and `end` must be the same network: received {at}.")
    alpha = float(alpha)

    def blend(a, b):
        # bfloat16 (ml_dtypes) is not a numpy floating subtype: blend it in float32.
        if not (np.issubdtype(b.dtype, np.floating) or "float" in b.dtype.name):
            return b.copy()
        return ((1.0 - alpha) * a.astype("float32" if b.dtype.itemsize < 4 else b.dtype)
                + alpha * b.astype("float32" if b.dtype.itemsize < 4 else b.dtype)
                ).astype(b.dtype)

    return [blend(a, b) for a, b in zip(weights["start"], weights["end"])]


def _check_count(name, value, minimum=1):
    """Refuses `value` unless it is an integer >= `minimum` (bools are not counts)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) \
            or value < minimum:
        expected = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ValueError(f"Received an invalid value for argument `{name}`. Expected "
                         f"{expected}, received: {name}={value!r}")


def _finite_uint8(images, argument):
    """`images` (uint8, or float in [-1, 1]) as uint8; NaN or infinite values are
    refused, as casting them would write arbitrary pixels."""
    images = np.asarray(images)
    if images.dtype != np.uint8 and not np.issubdtype(images.dtype, np.floating):
        raise TypeError(
            f"Received an invalid value for argument `{argument}`. Expected uint8 images "
            f"(0-255) or float images in [-1, 1], received dtype {images.dtype}."
        )
    bad = non_finite(images) if images.dtype != np.uint8 else None
    if bad:
        raise ValueError(
            f"Received an invalid value for argument `{argument}`. Float images must be "
            f"finite, in [-1, 1]; received {bad[0]} NaN or infinite values, e.g. {bad[1]}.")
    return to_uint8(images)


def make_grid(images, ncols=None, padding=2, pad_value=255):
    """Tile a batch of images `(N, H, W, C)` into one uint8 image.

    Args:
        images: float in [-1, 1] (finite) or uint8, shape `(N, H, W)` or `(N, H, W, C)`,
            C 1 or 3.
        ncols: images per row (a positive integer); defaults to a near-square grid.
        padding: pixels between images (an integer >= 0).
        pad_value: the colour of the padding (an integer 0-255).

    Returns:
        A uint8 array `(rows*(H+p)+p, ncols*(W+p)+p, C)`.
    """
    images = _finite_uint8(images, "images")
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or images.shape[-1] not in (1, 3) or images.size == 0:
        raise ValueError(
            "Received an invalid value for argument `images`. Expected a non-empty batch "
            f"(N, H, W, C) with C 1 or 3, received shape {images.shape}."
        )
    if ncols is not None:
        _check_count("ncols", ncols)
    _check_count("padding", padding, minimum=0)
    if isinstance(pad_value, (bool, np.bool_)) or not isinstance(
            pad_value, (int, np.integer)) or not 0 <= pad_value <= 255:
        raise ValueError("Received an invalid value for argument `pad_value`. Expected an "
                         f"integer in [0, 255], received: pad_value={pad_value!r}")
    n, h, w, c = images.shape
    ncols = int(ncols or np.ceil(np.sqrt(n)))
    nrows = int(np.ceil(n / ncols))
    grid = np.full((nrows * (h + padding) + padding, ncols * (w + padding) + padding, c),
                   pad_value, dtype=np.uint8)
    for i, image in enumerate(images):
        r, col = divmod(i, ncols)
        top, left = padding + r * (h + padding), padding + col * (w + padding)
        grid[top:top + h, left:left + w] = image
    return grid


# PNG text keys of the provenance keras_gans writes into its images (PIL PngInfo).
PROVENANCE_PREFIX = "keras_gans:"


def provenance_text(metadata):
    """The PNG text entries `[(keyword, text)]` of keras_gans provenance: `Software`,
    `keras_gans:synthetic`, then `keras_gans:KEY` for each item of `metadata`.

    What `save_image` writes and what the exported `png` signature builds in its graph
    (`keras_gans.export`), both read back by `read_provenance`.
    """
    from keras_gans import __version__

    return [("Software", f"keras_gans {__version__}"),
            (PROVENANCE_PREFIX + "synthetic", "true (generated by a model)")] + [
        (PROVENANCE_PREFIX + str(key), "" if value is None else str(value))
        for key, value in metadata.items()]


def _png_info(metadata):
    """A PIL `PngInfo` with the `provenance_text` of `metadata`: tEXt chunks, iTXt
    (UTF-8) for text that Latin-1 cannot hold."""
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    for keyword, text in provenance_text(metadata):
        info.add_text(keyword, text)
    return info


def read_provenance(path):
    """`{key: text}` of the provenance keras_gans wrote into a PNG (model, version,
    sha256, seed, ...); `{}` for an image without it."""
    from PIL import Image

    with Image.open(os.fspath(path)) as image:
        text = dict(getattr(image, "text", {}) or {})
    return {key[len(PROVENANCE_PREFIX):]: value for key, value in text.items()
            if key.startswith(PROVENANCE_PREFIX)}


def _write_file(path, write, overwrite):
    """Calls `write(file)` on a new file `path`, removed again if writing fails. With
    `overwrite`, an existing `path` is replaced only once the new file is complete (a
    temporary file beside it, renamed over it): a failed write never truncates it."""
    if overwrite:
        folder, name = os.path.split(path)
        target, path = path, os.path.join(folder, f".tmp-{os.getpid()}-{name}")
    with open(path, "wb" if overwrite else "xb") as file:  # "x": never replaces a file
        try:
            write(file)
            file.close()
            if overwrite:
                os.replace(path, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.remove(path)
            raise


def save_image(image, path, metadata=None, *, overwrite=False):
    """Write one image (float in [-1, 1] or uint8, `(H, W)` or `(H, W, C)`) as PNG/JPEG.

    `metadata` (a mapping, PNG only) is written as text chunks `keras_gans:KEY`, read
    back by `read_provenance` and `keras-gans provenance FILE`.

    Args:
        image: uint8, or finite float in [-1, 1]; `(H, W)` or `(H, W, C)` with C 1-4.
        path: the file to write, with an image extension (`.png`, `.jpg`, ...); missing
            folders are created.
        metadata: `None` or a mapping (PNG only).
        overwrite: replace an existing file. By default an existing `path` is refused
            with a `FileExistsError`: nothing is overwritten unless asked.

    Returns:
        `path`.
    """
    from PIL import Image

    image = _finite_uint8(image, "image")
    if image.ndim not in (2, 3) or image.size == 0 or (
            image.ndim == 3 and image.shape[-1] not in (1, 2, 3, 4)):
        raise ValueError(
            "Received an invalid value for argument `image`. Expected one image (H, W) or "
            f"(H, W, C) with C 1-4, received shape {image.shape}."
        )
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError("Received an invalid value for argument `path`. Expected a file "
                        f"name (str or os.PathLike), received: path={path!r}")
    path = os.fspath(path)
    extension = os.path.splitext(path)[1].lower()
    Image.init()
    image_format = Image.registered_extensions().get(extension)
    if image_format not in Image.SAVE:  # unknown, or a format PIL only reads
        raise ValueError(
            "Received an invalid value for argument `path`. Expected an image file name "
            f"(.png, .jpg, ...), received: path={path!r}"
        )
    if metadata is not None and not hasattr(metadata, "items"):
        raise TypeError("Received an invalid value for argument `metadata`. Expected None "
                        f"or a mapping, received: metadata={metadata!r}")
    if os.path.isdir(path):
        raise IsADirectoryError(
            errno.EISDIR, "Received an invalid value for argument `path`. Expected an image "
            f"file name, received: path={path!r}, an existing folder", path)
    if not overwrite and os.path.lexists(path):
        raise FileExistsError(
            errno.EEXIST, "Received an invalid value for argument `path`. Expected a file "
            f"that does not exist yet (pass overwrite=True to replace it), received: "
            f"path={path!r}, an existing file", path)
    directory = os.path.dirname(path)
    options = {"pnginfo": _png_info(metadata)} if metadata and extension == ".png" else {}
    try:
        if directory:
            os.makedirs(directory, exist_ok=True)
        _write_file(path, lambda file: Image.fromarray(image).save(
            file, format=image_format, **options), overwrite)
    except OSError as e:
        message = (f"Received an invalid value for argument `path`: cannot write {path!r} "
                   f"({e.strerror or e})")
        if e.errno is None:  # e.g. PIL: a mode the format cannot hold
            raise OSError(message) from None
        raise type(e)(e.errno, message, path) from None
    return path


def save_grid(images, path, ncols=None, padding=2, metadata=None, *, overwrite=False):
    """Save a batch of images as one PNG grid and return the path.

    Args:
        images: a batch, as `make_grid` takes it.
        path: the file to write; an existing one is refused unless `overwrite=True`.
        ncols, padding: as for `make_grid`.
        metadata: as for `save_image`.
        overwrite: replace an existing `path` (default: `FileExistsError`).

    Example:

    ```python
    keras_gans.utils.save_grid(gan.generate(64, seed=0), "samples.png")
    ```
    """
    return save_image(make_grid(images, ncols=ncols, padding=padding), path, metadata,
                      overwrite=overwrite)
