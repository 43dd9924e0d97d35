"""Export the served network of a model as a TensorFlow Serving SavedModel.

The one export path. What is served is the model's declaration
(`AdversarialModel.serving_signatures()`); this module writes it, and offers the
signature builders the declarations use (`noise_to_image_signatures`,
`image_to_image_signature`, `size_multiple`).

`export(model, base_dir)` writes one numbered version in the layout TF Serving watches:

```
base_dir/
  1/
    saved_model.pb            the signatures below (what TF Serving loads)
    variables/                the served network's weights
    assets.extra/             ignored by TF Serving:
      model.keras               the whole GAN (both networks, optimizers), for training on
      metadata.json             class, shapes, versions, the signatures
  2/ ...
```

The version is written into a hidden temporary directory beside it
(`base_dir/.tmp-<version>-<random>`, a name TF Serving does not take for a version) and
renamed into place when complete, so a server watching `base_dir` never loads a
half-written model. An existing version is never overwritten.

Signatures. Every signature is batch-size polymorphic (the leading dimension is `None`);
float images are in [-1, 1], `images_uint8` is `round((images + 1) * 127.5)` clipped to
[0, 255], exactly `keras_gans.utils.to_uint8`.

GAN family (`GAN`, `DCGAN`, `LSGAN`, `WGANGP`; `GAN.serving_signatures`); the EMA
generator is served when the model keeps one (it is what `generate()` uses):

| signature | inputs | outputs |
|---|---|---|
| `serving_default` | `z` float32 `[N, latent_dim]` (+ `labels` int32 `[N]`) | `images` float32 `[N, H, W, C]`, `images_uint8` uint8 `[N, H, W, C]` |
| `sample` | `n` int32 `[]`, `seed` int64 `[]` (+ `labels` int32 `[N]` or `[0]`) | as `serving_default` |
| `png` | as `sample` | `images_bytes` string `[N]`: one PNG per image |

`labels` exist only for a conditional GAN (`num_classes` set); in `sample` and `png` an
empty `labels` means the classes cycle `0, 1, ..., K-1`, as in `generate()`. The noise of
`sample` is `tf.random.stateless_normal([n, latent_dim], seed=[seed, 0], alg="philox")`
(`sample_noise` below), so a client needs no noise of its own; it differs from the numpy
noise of `gan.generate(n, seed=seed)`, but `gan.generate(z=sample_noise(n, seed,
latent_dim))` reproduces it. `png` exists for 1, 3 or 4 channels; its output ends in
`_bytes`, so TF Serving's REST API base64-encodes it (`{"b64": "..."}`).

Every PNG a signature returns carries the provenance the package writes into its own
PNGs (`keras_gans.utils.provenance_text`, read back by `keras-gans provenance FILE`),
as text chunks after `IHDR`, built in the graph: `model` (the name of `base_dir`, the
name TF Serving serves it by), `version` (the version directory), `sha256` (of
`assets.extra/model.keras`, what `keras-gans sample BASE_DIR/VERSION` records; `none`
without it), `class`, and per request `seed`, `index` (the image's place in the batch)
and `command`. The pixels are those of `tf.io.encode_png(images_uint8)`.

CycleGAN: `translate_a2b` and `translate_b2a` (`serving_default` is `translate_a2b`);
SRResNet and SRGAN: `upscale` (also `serving_default`), both from
`image_to_image_signature` (`CycleGAN.serving_signatures`, `SRResNet.serving_signatures`):

| signature | inputs | outputs |
|---|---|---|
| `translate_a2b`, `translate_b2a`, `upscale` | `images` uint8 `[N, h, w, C]` | `images` float32 `[N, H, W, C']`, `images_uint8` uint8 `[N, H, W, C']` |

Inpainter: `inpaint` (also `serving_default`), declared by the model
(`Inpainter.serving_signatures`):

| signature | inputs | outputs |
|---|---|---|
| `inpaint` | `images` uint8 `[N, H, W, C]`, `masks` uint8 `[N, H, W]` (non-zero = missing) | `images_uint8` uint8 `[N, H, W, C]`: the input outside the mask, exactly |

Any height and width are accepted: when the network downsamples by `m` the input is
padded by reflection at the bottom and right to a multiple of `m` and the output cropped
back, as `CycleGAN.translate` does (sides must be at least `m`, and large enough for
the network's own reflection paddings: `min_side`). `upscale` returns
`H = scale * h`, `W = scale * w`. A request with no image (`N = 0`) gets an empty batch.

Limits. A server must survive any request, so the signatures check their inputs in the
graph, before allocating anything, with errors naming the input (TF Serving feeds a
request's tensors without comparing them to the `SignatureDef`):

- shapes (`tf.ensure_shape`): `z` `[N, latent_dim]`, images with the signature's
  channels, `masks` the shape of `images` without channels, `n` and `seed` scalars;
- values: `z` finite, `0 < n`, images' sides at least `min_side(network)`;
- size: at most `max_request_images(network, latent_dim)` images per request (`n`, or
  the rows of `z`): `MAX_SIGNATURE_SAMPLES`, fewer when their estimated working memory
  would pass `MAX_SIGNATURE_BYTES`; at most `max_request_output_pixels(network, scale)`
  output pixels (images x height x width, after padding) per image-to-image request:
  `MAX_SIGNATURE_OUTPUT_PIXELS`, fewer likewise. `metadata.json` records both
  (`max_request_images`, `max_request_output_pixels`).

XLA (`export(..., jit_compile=True)`, opt-in). The served network's forward pass (the
noise-to-image generator, the translation or upscaling network; the inpainter's fill,
its padding and crop included) is a function compiled with XLA
(`tf.function(jit_compile=True)`, saved with the `_XlaMustCompile` attribute); the input
checks, the noise, the uint8 conversion and the PNG encoding stay outside it, so bad
input gets the same errors (XLA would drop `tf.debugging` checks). Batch-1 latency is
what it pays for (see `benchmarks/README.md`); the price is a compilation (tens of
milliseconds to seconds) the first time each input shape arrives, so it suits servers
that see a few batch sizes and image sizes. TF Serving on a CPU compiles such functions
only when started with `--xla_cpu_compilation_enabled=true` (experimental; see
tensorflow/serving#1858), and GPU builds of TF Serving have failed on them
(tensorflow/serving#2214: "Could not find compiler for platform CUDA"), so try it on
your server before relying on it. `metadata.json` records `"jit_compile": true`. Each
signature is run once on a small input at export, so a network XLA cannot compile (an
op without an XLA kernel: `ResizeBicubic`, the bicubic skip of
`SRResNet(bicubic_skip=True)` and of the zoo's `srgan_x4_wallpapers`) fails the export
with a `ValueError` instead of the server's first request.

Example:

```python
gan = keras_gans.DCGAN.from_shape((28, 28, 1), latent_dim=64)
...
path = keras_gans.export(gan, "savedmodels/my_gan")   # "savedmodels/my_gan/1"
```
"""

import errno
import inspect
import json
import os
import re
import secrets
import shutil
import sys
import types

import keras
import numpy as np
import tensorflow as tf

from keras_gans import utils
from keras_gans._arrays import check_bool

#: Name of the full model and of the metadata under `<version>/assets.extra/`.
KERAS_FILENAME = "model.keras"
METADATA_FILENAME = "metadata.json"

_VERSION_RE = re.compile(r"^[0-9]+$")
#: The largest version: TF Serving reads version directories as int64.
MAX_VERSION = 2**63 - 1
#: Most images one `serving_default`, `sample` or `png` request may ask for.
MAX_SIGNATURE_SAMPLES = 1024
#: Most output pixels (images x height x width) one image-to-image request may ask for:
#: 2**23, one 4K UHD frame (3840 x 2160) and a little more.
MAX_SIGNATURE_OUTPUT_PIXELS = 2**23
#: The estimated working memory one request may need (2 GiB): signatures of large
#: networks accept fewer images or pixels than the two maxima above.
MAX_SIGNATURE_BYTES = 2**31
# Signature names of each family, in the order they are registered; the first one is
# also `serving_default` when the family has no signature of that name.
GAN_SIGNATURES = ("serving_default", "sample", "png")
CYCLEGAN_SIGNATURES = ("translate_a2b", "translate_b2a")
SRGAN_SIGNATURES = ("upscale",)


# --- Versions ---


def versions(base_dir):
    """The version numbers under `base_dir` (integer-named directories), sorted.

    Args:
        base_dir: the model's base directory (may not exist yet).

    Returns:
        A sorted list of ints; empty when `base_dir` does not exist.
    """
    base_dir = os.fspath(base_dir)
    if not os.path.isdir(base_dir):
        return []
    return sorted(
        int(name) for name in os.listdir(base_dir)
        if _VERSION_RE.match(name) and os.path.isdir(os.path.join(base_dir, name))
    )


def next_version(base_dir):
    """The next free version under `base_dir`: one more than the largest, or 1.

    Every integer name counts, a file or a (dangling) symbolic link as well as a
    directory, so the version returned never names an existing entry.
    """
    base_dir = os.fspath(base_dir)
    if not os.path.isdir(base_dir):
        return 1
    taken = [int(name) for name in os.listdir(base_dir) if _VERSION_RE.match(name)]
    return max(taken, default=0) + 1


def _check_version(version):
    if (isinstance(version, (bool, np.bool_)) or not isinstance(version, (int, np.integer))
            or not 0 <= version <= MAX_VERSION):
        raise ValueError(
            "Received an invalid value for argument `version`. Expected a non-negative "
            f"integer of at most 2**63 - 1 (TF Serving's int64 version directories) or "
            f"None, received: version={version!r}"
        )
    return int(version)


def _check_base_dir(base_dir):
    """`base_dir` as a `str` path; a clear error for what is not a path."""
    try:
        path = os.fsdecode(os.fspath(base_dir))
    except TypeError:
        raise TypeError(
            "Received an invalid value for argument `base_dir`. Expected a path (str or "
            f"os.PathLike), received: base_dir={base_dir!r} of type "
            f"{type(base_dir).__name__}") from None
    if not path or "\0" in path:
        raise ValueError(
            "Received an invalid value for argument `base_dir`. Expected the path of a "
            f"directory, received: base_dir={base_dir!r}")
    return path


def _prepare_base_dir(base_dir):
    if os.path.exists(base_dir) and not os.path.isdir(base_dir):
        raise ValueError(
            "Received an invalid value for argument `base_dir`. Expected a directory "
            f"(or a path to create), received the path of a file: base_dir={base_dir!r}"
        )
    try:
        os.makedirs(base_dir, exist_ok=True)
    except PermissionError:
        raise PermissionError(
            errno.EACCES, f"Cannot create the export directory `base_dir`={base_dir!r}: "
            "permission denied.", base_dir) from None
    if not os.access(base_dir, os.W_OK | os.X_OK):
        raise PermissionError(
            errno.EACCES, f"Cannot write into the export directory `base_dir`={base_dir!r}: "
            "permission denied.", base_dir)


def _version_exists_error(path):
    return FileExistsError(
        errno.EEXIST, f"Version directory {path!r} already exists; export never "
        "overwrites a version. Pass another `version`, or `version=None` for the next "
        "free one.", path)


# --- Export ---


def export(model, base_dir, version=None, include_keras=True, jit_compile=False):
    """Write `model`'s served network as TF Serving SavedModel `base_dir/<version>/`.

    See the module docstring for the layout and the signatures. The version appears
    atomically (written beside it, then renamed) and an existing one is never replaced.

    Args:
        model: a `keras_gans` model (an `AdversarialModel`: it declares what it serves).
        base_dir: the model's base directory, the `base_path` TF Serving watches;
            created when missing.
        version: the version number (a non-negative integer); `None` takes the next
            free one (1 for a new `base_dir`).
        include_keras: also store the whole model as
            `<version>/assets.extra/model.keras`, so it can be loaded and trained on.
        jit_compile: compile the served network's forward pass with XLA (see the
            module docstring: faster at batch 1; TF Serving on a CPU then needs
            `--xla_cpu_compilation_enabled=true`).

    Returns:
        The path of the version directory, `base_dir/<version>`.

    Raises:
        FileExistsError: `base_dir/<version>` already exists.
        PermissionError: `base_dir` cannot be created or written to.
        ValueError: `base_dir` is a file or empty, or `version` is not an integer in
            `[0, 2**63 - 1]`.
        TypeError: `model` is not a model this module knows how to serve, `base_dir`
            is not a path, or `include_keras` or `jit_compile` is not a bool.
        ValueError: `jit_compile=True` for a model whose `serving_signatures` takes no
            `jit_compile` argument, compiles nothing with it, or whose network XLA
            cannot compile.

    Example:

    ```python
    path = keras_gans.export(gan, "savedmodels/dcgan_mnist", version=1)
    # docker run -p 8501:8501 -v $PWD/savedmodels/dcgan_mnist:/models/dcgan_mnist \\
    #     -e MODEL_NAME=dcgan_mnist tensorflow/serving
    ```
    """
    base_dir = _check_base_dir(base_dir)
    auto_version = version is None
    if not auto_version:
        version = _check_version(version)
    check_bool("include_keras", include_keras)
    check_bool("jit_compile", jit_compile)
    # Fail on the model before touching the disk.
    family = _family(model, bool(jit_compile))
    _prepare_base_dir(base_dir)
    if not auto_version:
        path = os.path.join(base_dir, str(version))
        if os.path.lexists(path):
            raise _version_exists_error(path)
    else:
        version = next_version(base_dir)

    tmp = _make_tmp_dir(base_dir, version)
    try:
        # model.keras first: the PNGs the signatures return record its sha256.
        keras_file = _write_keras_file(model, tmp) if include_keras else None
        provenance = _provenance(model, base_dir, version, keras_file)

        def write():
            _write_saved_model(model, family, tmp, provenance)
            _write_assets_extra(model, family, tmp, include_keras, provenance)

        write()
        path = _claim_version(tmp, base_dir, version, auto_version, provenance, write)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def _make_tmp_dir(base_dir, version):
    """A new directory in `base_dir` to write `version` into before it is renamed."""
    # Not tempfile.mkdtemp: its 0700 mode would hide the version from a server running
    # as another user; os.mkdir applies the usual umask.
    tmp = os.path.join(base_dir, f".tmp-{version}-{secrets.token_hex(6)}")
    try:
        os.mkdir(tmp)
    except PermissionError:
        raise PermissionError(
            errno.EACCES, f"Cannot write into the export directory `base_dir`={base_dir!r}: "
            "permission denied.", base_dir) from None
    return tmp


def _claim_version(tmp, base_dir, version, auto_version, provenance, write):
    """Renames the written `tmp` to `base_dir/<version>` and returns that path.

    Another exporter may have taken the version meanwhile; with `version=None`
    (`auto_version`) move on to the next free one, and `write()` again: the PNGs the
    signatures return name the version.
    """
    for _ in range(100):
        path = os.path.join(base_dir, str(version))
        if os.path.lexists(path):
            if not auto_version:
                raise _version_exists_error(path)
            version = next_version(base_dir)
            continue
        if provenance["version"] != str(version):
            provenance["version"] = str(version)
            write()
        try:
            os.rename(tmp, path)
            return path
        except OSError as e:
            if e.errno not in (errno.EEXIST, errno.ENOTEMPTY) or not auto_version:
                raise
    raise RuntimeError(  # pragma: no cover - a hundred concurrent exporters
        f"Could not claim a free version under {base_dir!r}.")


def _write_saved_model(model, family, path, provenance):
    chunks = _png_text_chunks(provenance)
    signatures = {}
    for name, fn, input_signature in family["endpoints"]:
        function = tf.function(_with_png_provenance(fn, input_signature, chunks),
                               input_signature=input_signature, autograph=False)
        signatures[name] = function.get_concrete_function()
    if family["jit_compile"]:
        if not any(map(_has_xla_function, signatures.values())):
            raise ValueError(
                f"Received jit_compile=True, but `{type(model).__name__}.serving_signatures"
                "(jit_compile=True)` compiled nothing with XLA: pass `jit_compile` on to "
                "the signature builders (`noise_to_image_signatures`, "
                "`image_to_image_signature`, `network_call`).")
        for name, function in signatures.items():
            _check_compiles(model, name, function)
    # TF Serving answers requests without a signature name with `serving_default`.
    signatures.setdefault("serving_default", signatures[family["endpoints"][0][0]])
    # Track the TensorFlow variables the signatures read (as Keras's ExportArchive does),
    # so they are written to `variables/` and restored by TF Serving's graph loader.
    module = tf.Module()
    captured = {}
    for function in signatures.values():
        for variable in function.variables:
            captured.setdefault(id(variable), variable)
    module.served_variables = list(captured.values())
    tf.saved_model.save(module, path, signatures=signatures)


def _example_inputs(concrete_function):
    """Small valid inputs for a signature: one image (or noise vector, or label) of 32x32
    wherever the size is free; integer scalars (`n`, `seed`) 1."""
    args, kwargs = concrete_function.structured_input_signature
    specs = [*args, *kwargs.values()]
    inputs = []
    for spec in specs:
        shape = [d if d is not None else (1 if i == 0 else 32)
                 for i, d in enumerate(spec.shape)]
        inputs.append(tf.ones(shape, spec.dtype) if not shape else tf.zeros(shape, spec.dtype))
    return inputs


def _check_compiles(model, name, concrete_function):
    """Runs signature `name` once on small inputs, so a network XLA cannot compile (an
    op without an XLA kernel, such as `ResizeBicubic`) fails the export, not the first
    request to the server."""
    try:
        concrete_function(*_example_inputs(concrete_function))
    except (tf.errors.InvalidArgumentError, tf.errors.UnimplementedError) as e:
        if "XLA" not in str(e) and "xla" not in str(e):
            raise
        unsupported = re.search(r"Detected unsupported operations[^\n]*?: ([^\n(]+)",
                                str(e))
        raise ValueError(
            f"With XLA (argument `jit_compile`), signature `{name}` of this "
            f"{type(model).__name__} cannot be compiled"
            + (f" (unsupported: {unsupported.group(1).strip()})" if unsupported else "")
            + ": export it without `jit_compile`. XLA said: "
            + next((line.strip() for line in str(e).splitlines()
                    if "unsupported" in line or "XLA" in line),
                   str(e).strip().splitlines()[0])[:300]) from None


def _has_xla_function(concrete_function):
    """Whether a function `concrete_function` calls is marked `_XlaMustCompile`."""
    library = concrete_function.graph.as_graph_def().library
    return any(f.attr["_XlaMustCompile"].b for f in library.function
               if "_XlaMustCompile" in f.attr)


def _write_keras_file(model, path):
    extra = os.path.join(path, "assets.extra")
    os.makedirs(extra, exist_ok=True)
    keras_file = os.path.join(extra, KERAS_FILENAME)
    model.save(keras_file)
    return keras_file


def _write_assets_extra(model, family, path, include_keras, provenance):
    extra = os.path.join(path, "assets.extra")
    os.makedirs(extra, exist_ok=True)
    metadata = {
        "class": type(model).__name__,
        "module": type(model).__module__,
        **family["metadata"],
        "keras_model": KERAS_FILENAME if include_keras else None,
        "jit_compile": family["jit_compile"],
        "png_provenance": provenance,
        "signatures": read_signatures(path),
        "versions": {
            "keras_gans": _package_version(),
            "keras": keras.__version__,
            "tensorflow": tf.__version__,
        },
    }
    with open(os.path.join(extra, METADATA_FILENAME), "w", encoding="utf-8") as f:
        json.dump(metadata, f, indent=2, sort_keys=True)
        f.write("\n")


def _package_version():
    import keras_gans

    return keras_gans.__version__


# --- Provenance of the PNGs the signatures return ---


def _provenance(model, base_dir, version, keras_file):
    """The export-time part of the served PNGs' provenance (see the module docstring)."""
    from keras_gans import registry

    return {
        "model": os.path.basename(os.path.abspath(base_dir)),
        "version": str(version),
        "sha256": registry.sha256(keras_file) if keras_file else
        "none (exported without assets.extra/model.keras)",
        "class": type(model).__name__,
    }


def _png_crc32_table():
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0xEDB88320 if c & 1 else c >> 1
        table.append(c)
    return np.array(table, np.int64)


_PNG_CRC32_TABLE = _png_crc32_table()
# Byte i as a one-byte string: how integers become bytes in the graph.
_BYTE_STRINGS = np.array([bytes([i]) for i in range(256)], object)
# The PNG signature and the IHDR chunk (length, type, 13 bytes, CRC) come first.
_PNG_HEADER_BYTES = 8 + 4 + 4 + 13 + 4


def png_crc32(data):
    """The CRC-32 of PNG chunks (ISO 3309, `zlib.crc32`) of a scalar string, in the graph.

    Args:
        data: a scalar string tensor (the bytes of a chunk's type and data).

    Returns:
        An int64 scalar in `[0, 2**32)`.
    """
    table = tf.constant(_PNG_CRC32_TABLE)
    octets = tf.cast(tf.io.decode_raw(data, tf.uint8), tf.int64)

    def update(crc, octet):
        index = tf.bitwise.bitwise_and(tf.bitwise.bitwise_xor(crc, octet), 0xFF)
        return tf.bitwise.bitwise_xor(tf.gather(table, index), tf.bitwise.right_shift(crc, 8))

    crc = tf.foldl(update, octets, initializer=tf.constant(0xFFFFFFFF, tf.int64))
    return tf.bitwise.bitwise_xor(crc, tf.constant(0xFFFFFFFF, tf.int64))


def _uint32_bytes(value):
    """4 bytes, big-endian, of a non-negative scalar below 2**32."""
    octets = tf.bitwise.bitwise_and(
        tf.bitwise.right_shift(tf.cast(value, tf.int64),
                               tf.constant([24, 16, 8, 0], tf.int64)), 0xFF)
    return tf.strings.reduce_join(tf.gather(tf.constant(_BYTE_STRINGS), octets))


def png_text_chunk(keyword, text):
    """A PNG text chunk `keyword: text`, built in the graph.

    `tEXt` (length, type, `keyword \\0 text`, CRC-32) for a Latin-1 `text` or a string
    tensor (its bytes as they are: ASCII here); `iTXt` (uncompressed UTF-8) for a Python
    string that Latin-1 cannot hold, as PIL's `PngInfo.add_text` does.

    Args:
        keyword: a Python string (1-79 Latin-1 characters).
        text: a Python string or a scalar string tensor.

    Returns:
        A scalar string tensor: the whole chunk.
    """
    kind, prefix = b"tEXt", keyword.encode("latin-1") + b"\0"
    if isinstance(text, str):
        try:
            text = text.encode("latin-1")
        except UnicodeEncodeError:  # then: no compression, no language, UTF-8 text
            kind, prefix, text = b"iTXt", prefix + b"\0" * 4, text.encode("utf-8")
    data = tf.strings.join([prefix, text])
    body = tf.strings.join([kind, data])
    return tf.strings.join([_uint32_bytes(tf.strings.length(data)), body,
                            _uint32_bytes(png_crc32(body))])


def _png_text_chunks(provenance):
    """The constant chunks (`Software`, `synthetic`, export-time provenance), as bytes:
    built once here, by the graph's code, and stored in the graph as a constant."""
    from keras_gans.utils import provenance_text

    return b"".join(png_text_chunk(keyword, text).numpy()
                    for keyword, text in provenance_text(provenance))


def _annotate_pngs(images_bytes, inputs, constant_chunks):
    """`images_bytes` with the provenance chunks inserted after each `IHDR`."""
    from keras_gans.utils import PROVENANCE_PREFIX

    seed = tf.strings.as_string(inputs["seed"]) if "seed" in inputs else "none"
    command = ["png signature: n=", tf.strings.as_string(inputs["n"]), ", seed=", seed] \
        if "n" in inputs else ["png signature"]
    shared = tf.strings.join([
        constant_chunks,
        png_text_chunk(PROVENANCE_PREFIX + "seed", seed),
        png_text_chunk(PROVENANCE_PREFIX + "command", tf.strings.join(command))])

    def annotate(args):
        png, index = args
        chunks = tf.strings.join([
            shared, png_text_chunk(PROVENANCE_PREFIX + "index", tf.strings.as_string(index))])
        return tf.strings.join([
            tf.strings.substr(png, 0, _PNG_HEADER_BYTES), chunks,
            tf.strings.substr(png, _PNG_HEADER_BYTES,
                              tf.strings.length(png) - _PNG_HEADER_BYTES)])

    return tf.map_fn(annotate, (images_bytes, tf.range(tf.size(images_bytes))),
                     fn_output_signature=tf.TensorSpec([], tf.string))


def _with_png_provenance(fn, input_signature, constant_chunks):
    """`fn`, its `images_bytes` output (PNGs) annotated with their provenance."""
    names = [spec.name for spec in input_signature]

    def annotated(*args):
        outputs = fn(*args)
        if "images_bytes" in outputs:
            # Read the inputs once the PNGs exist, that is once their checks passed.
            with tf.control_dependencies([outputs["images_bytes"]]):
                inputs = {name: tf.identity(arg) for name, arg in zip(names, args)}
            outputs = dict(outputs, images_bytes=_annotate_pngs(
                outputs["images_bytes"], inputs, constant_chunks))
        return outputs

    return annotated


def read_signatures(export_dir):
    """The serving signatures of a SavedModel, as TF Serving sees them.

    Reads `saved_model.pb` (no TensorFlow graph is loaded).

    Args:
        export_dir: a SavedModel directory, e.g. `base_dir/1`.

    Returns:
        `{signature: {"inputs": {name: {"dtype": "float32", "shape": [-1, 64]}},
        "outputs": {...}}}`, with -1 for a polymorphic dimension and `None` for an
        unknown rank.
    """
    from tensorflow.core.protobuf import saved_model_pb2

    saved_model = saved_model_pb2.SavedModel()
    with open(os.path.join(os.fspath(export_dir), "saved_model.pb"), "rb") as f:
        saved_model.ParseFromString(f.read())
    meta_graph = next(
        (m for m in saved_model.meta_graphs if "serve" in m.meta_info_def.tags),
        saved_model.meta_graphs[0],
    )

    def describe(infos):
        return {
            key: {
                "dtype": tf.dtypes.as_dtype(info.dtype).name,
                "shape": None if info.tensor_shape.unknown_rank
                else [int(d.size) for d in info.tensor_shape.dim],
            }
            for key, info in sorted(infos.items())
        }

    return {
        name: {"inputs": describe(sig.inputs), "outputs": describe(sig.outputs)}
        for name, sig in sorted(meta_graph.signature_def.items())
        if not name.startswith("__")  # e.g. `__saved_model_init_op`
    }


# --- Signature builders, used by the models' `serving_signatures` ---


def _family(model, jit_compile=False):
    """The endpoints `(name, fn, input_signature)` and metadata `model` declares, and
    whether its forward pass is XLA-compiled (`jit_compile`)."""
    from keras_gans.models.base import AdversarialModel

    if not isinstance(model, AdversarialModel):
        raise TypeError(
            "Received an invalid value for argument `model`. Expected a keras_gans model "
            "(a GAN-family model such as DCGAN, a CycleGAN, an SRGAN, an Inpainter), "
            f"received: {type(model).__module__}.{type(model).__name__}"
        )
    if not jit_compile:
        return {**model.serving_signatures(), "jit_compile": False}
    parameters = inspect.signature(model.serving_signatures).parameters
    if "jit_compile" not in parameters and not any(
            p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        raise ValueError(
            "Received jit_compile=True, but "
            f"`{type(model).__name__}.serving_signatures` takes no `jit_compile` argument, "
            "so its signatures cannot be compiled with XLA; export with jit_compile=False, "
            "or accept `jit_compile` and pass it to the signature builders "
            "(`noise_to_image_signatures`, `image_to_image_signature`, `network_call`).")
    return {**model.serving_signatures(jit_compile=True), "jit_compile": True}


def network_call(network, jit_compile=False):
    """`fn(*inputs) -> network(inputs, training=False)`, compiled with XLA when
    `jit_compile` (a `tf.function(jit_compile=True)`: saved with `_XlaMustCompile`, so
    it stays compiled in the SavedModel).

    Args:
        network: a Keras model, or any callable taking `training=`; a model of several
            inputs gets them as a list.
        jit_compile: whether to compile it with XLA.

    Returns:
        A callable of the network's inputs (positional).
    """
    def call(*inputs):
        return network(inputs[0] if len(inputs) == 1 else list(inputs), training=False)

    if not jit_compile:
        return call
    return tf.function(call, jit_compile=True, autograph=False, reduce_retracing=True)


def sample_noise(n, seed, latent_dim):
    """The noise the `sample` and `png` signatures draw: `[n, latent_dim]` float32.

    `tf.random.stateless_normal` with key `[seed, 0]` and the Philox algorithm, so a
    server and a client with the same `(n, seed)` get the same images. It is not the
    numpy noise of `gan.generate(n, seed=seed)`; `gan.generate(z=sample_noise(n, seed,
    gan.latent_dim))` gives what the server returns.

    Args:
        n: number of rows (a scalar; a tensor inside a graph).
        seed: an integer.
        latent_dim: size of the noise vector.

    Returns:
        A float32 tensor `[n, latent_dim]`.
    """
    seed = tf.stack([tf.cast(seed, tf.int64), tf.constant(0, tf.int64)])
    return tf.random.stateless_normal(
        tf.stack([tf.cast(n, tf.int32), latent_dim]), seed=seed, alg="philox")


def _image_outputs(images):
    images = tf.cast(images, tf.float32)
    return {"images": images, "images_uint8": utils.to_uint8(images)}


# --- Input checks in the graph, and the limits of a request ---


def checked(x, checks):
    """`x`, once `checks` (assertions) have passed.

    Shapes are checked with `tf.ensure_shape` ("Shape of tensor z [2,5] is not
    compatible with expected shape [?,64]"): TF Serving feeds a request's tensors without
    comparing them to the `SignatureDef`, and the graph's optimiser folds checks on
    shapes it believes known (`tf.shape` of a declared scalar), but not that one.
    """
    with tf.control_dependencies(checks):
        return tf.identity(x)


def _static_sizes(network):
    """Elements per example of each layer output of `network` whose shape is known."""
    sizes = []
    for layer in network._flatten_layers(include_self=False, recursive=True):
        try:
            outputs = tf.nest.flatten(layer.output)
        except (AttributeError, ValueError):
            continue
        for output in outputs:
            dims = list(getattr(output, "shape", None) or [])[1:]
            if dims and None not in dims:
                sizes.append(int(np.prod(dims)))
    return sizes


def max_request_images(network, latent_dim=0):
    """The most images one request to a noise-to-image signature may ask for.

    `MAX_SIGNATURE_SAMPLES`, or fewer (at least 1) when their working memory, estimated
    as `generate()` does (the noise, the float images twice, the generator's largest
    activation `keras_gans.memory.ACTIVATION_COPIES` times), would pass
    `MAX_SIGNATURE_BYTES`.

    Args:
        network: the generator (a Keras model with a known output shape).
        latent_dim: size of the noise vector.

    Returns:
        A positive integer.
    """
    from keras_gans import memory

    pixels = int(np.prod([int(d) for d in network.outputs[0].shape[1:]]))
    peak = max(_static_sizes(network), default=0)
    # float32 noise, activations and images (result and uint8 conversion), uint8 images.
    per_image = 4 * (latent_dim + memory.ACTIVATION_COPIES * peak + 2 * pixels) + pixels
    return int(max(1, min(MAX_SIGNATURE_SAMPLES, MAX_SIGNATURE_BYTES // per_image)))


def max_request_output_pixels(network, scale=1):
    """The most output pixels (images x height x width) one request to an
    image-to-image signature of `network` may ask for.

    `MAX_SIGNATURE_OUTPUT_PIXELS`, or fewer (at least 1) when their working memory,
    estimated as `SRResNet.upscale` does (the network's largest activation
    `keras_gans.memory.ACTIVATION_COPIES` times, `keras_gans.memory.
    activation_floats_per_input_pixel`, with the float input and output), would pass
    `MAX_SIGNATURE_BYTES`.

    Args:
        network: a fully convolutional Keras model.
        scale: how many times larger its output's sides are than its input's.

    Returns:
        A positive integer.
    """
    from keras_gans import memory

    floats = memory.activation_floats_per_input_pixel(network)
    if not floats:  # unknown (a subclassed network): the constant alone
        return MAX_SIGNATURE_OUTPUT_PIXELS
    channels_in = int(network.inputs[0].shape[-1] or 3)
    channels_out = int(network.outputs[0].shape[-1] or 3)
    # Per input pixel: activations, the uint8 and float input; per output pixel: the
    # float output, the float temporary of its uint8 conversion and the uint8 result.
    per_output_pixel = ((4 * memory.ACTIVATION_COPIES * floats + 5 * channels_in)
                        / scale**2 + 9 * channels_out)
    return int(max(1, min(MAX_SIGNATURE_OUTPUT_PIXELS,
                          MAX_SIGNATURE_BYTES // per_output_pixel)))


def min_side(network, multiple=None):
    """The smallest height or width an image-to-image signature of `network` accepts.

    At least `multiple` (default: `size_multiple(network)`), the multiple its input is
    padded to by reflection, and large enough that each reflection padding inside the
    network (`keras_gans.layers.ReflectionPadding2D`) has more pixels than it pads at
    its resolution.

    Args:
        network: a fully convolutional Keras model.
        multiple: the factor the input is padded to a multiple of.

    Returns:
        A positive integer.
    """
    from keras_gans.layers import ReflectionPadding2D

    multiple = multiple or size_multiple(network)
    needed, factor = 1, 1.0  # `needed`: the padded side; `factor`: the downsampling so far
    for layer in network._flatten_layers(include_self=False, recursive=True):
        if isinstance(layer, ReflectionPadding2D):
            pad = max(v for pair in layer.padding for v in pair)
            needed = max(needed, int(np.ceil(factor * (pad + 1))))
        elif isinstance(layer, (keras.layers.Conv2DTranspose, keras.layers.UpSampling2D)):
            factor /= int(max(np.atleast_1d(getattr(layer, "strides", None)
                                            or getattr(layer, "size", 1))))
        elif isinstance(layer, (keras.layers.Conv2D, keras.layers.SeparableConv2D,
                                keras.layers.DepthwiseConv2D, keras.layers.MaxPooling2D,
                                keras.layers.AveragePooling2D)):
            factor *= int(max(np.atleast_1d(layer.strides)))
    side = multiple
    while -(-side // multiple) * multiple < needed:  # the padded side
        side += 1
    return side


def noise_to_image_signatures(net, latent_dim, num_classes=None, jit_compile=False):
    """`serving_default`, `sample` and `png` of a generator of noise (see the module
    docstring): `[(name, fn, input_signature)]`; `jit_compile` compiles the generator's
    forward pass with XLA (`network_call`)."""
    forward = network_call(net, jit_compile)
    image_shape = tuple(int(d) for d in net.outputs[0].shape[1:])
    max_images = max_request_images(net, latent_dim)
    z_spec = tf.TensorSpec([None, latent_dim], tf.float32, name="z")
    labels_spec = tf.TensorSpec([None], tf.int32, name="labels")
    n_spec = tf.TensorSpec([], tf.int32, name="n")
    seed_spec = tf.TensorSpec([], tf.int64, name="seed")

    def checked_labels(labels, n):
        labels = tf.ensure_shape(labels, [None])
        checks = [
            tf.debugging.assert_equal(
                tf.size(labels), n,
                message="`labels` must hold one class id per image"),
            tf.debugging.assert_non_negative(labels, message="`labels` must be >= 0"),
            tf.debugging.assert_less(
                labels, num_classes, message=f"`labels` must be < num_classes={num_classes}"),
        ]
        return checked(labels, checks)

    def generate(z, labels=None):
        if num_classes:
            labels = checked_labels(labels, tf.shape(z)[0])
            return _image_outputs(forward(z, labels))
        return _image_outputs(forward(z))

    def checked_z(z):
        z = tf.ensure_shape(z, [None, latent_dim])
        return checked(z, [
            tf.debugging.assert_less_equal(
                tf.shape(z)[0], max_images,
                message=f"`z` must have at most {max_images} rows (images per request)"),
            tf.debugging.assert_all_finite(z, "`z` must be finite noise (no NaN or inf)"),
        ])

    def sample_images(n, seed, labels=None):
        n, seed = tf.ensure_shape(n, []), tf.ensure_shape(seed, [])
        # Before anything is drawn or allocated (and before `tf.range(n)`).
        n = checked(n, [
            tf.debugging.assert_positive(n, message="`n` must be a positive integer"),
            tf.debugging.assert_less_equal(
                n, max_images,
                message=f"`n` must be at most {max_images} (images per request)")])
        z = sample_noise(n, seed, latent_dim)
        if num_classes:
            # No labels: cycle the classes, as `generate()` does.
            labels = tf.cond(tf.equal(tf.size(labels), 0),
                             lambda: tf.range(n, dtype=tf.int32) % num_classes,
                             lambda: labels)
        return generate(z, labels)

    def encode_png(images_uint8):
        return tf.map_fn(tf.io.encode_png, images_uint8,
                         fn_output_signature=tf.TensorSpec([], tf.string))

    if num_classes:
        def serving_default(z, labels):
            return generate(checked_z(z), labels)

        def sample(n, seed, labels):
            return sample_images(n, seed, labels)

        def png(n, seed, labels):
            return {"images_bytes": encode_png(sample_images(n, seed, labels)["images_uint8"])}

        z_inputs, sample_inputs = [z_spec, labels_spec], [n_spec, seed_spec, labels_spec]
    else:
        def serving_default(z):
            return generate(checked_z(z))

        def sample(n, seed):
            return sample_images(n, seed)

        def png(n, seed):
            return {"images_bytes": encode_png(sample_images(n, seed)["images_uint8"])}

        z_inputs, sample_inputs = [z_spec], [n_spec, seed_spec]

    endpoints = [("serving_default", serving_default, z_inputs),
                 ("sample", sample, sample_inputs)]
    if image_shape[-1] in (1, 3, 4):  # the channel counts PNG can hold
        endpoints.append(("png", png, sample_inputs))
    return endpoints


def size_multiple(network):
    """The factor by which a fully convolutional network downsamples its input.

    The product of the strides of its convolutions and poolings (transposed
    convolutions upsample and do not count); inputs whose sides are multiples of it come
    back at the expected size.

    Args:
        network: a Keras model or layer.

    Returns:
        A positive integer (1 for a network that never downsamples).
    """
    downsampling = (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D,
                    keras.layers.SeparableConv2D, keras.layers.DepthwiseConv2D,
                    keras.layers.MaxPooling2D, keras.layers.AveragePooling2D)
    multiple = 1
    for layer in network._flatten_layers(include_self=True, recursive=True):
        if isinstance(layer, downsampling):
            multiple *= int(max(np.atleast_1d(layer.strides)))
    return multiple


def channels(network, name):
    """The channels of `network`'s (image) input; an error naming it when unknown."""
    shape = network.inputs[0].shape if getattr(network, "inputs", None) else None
    if shape is None or shape[-1] is None:
        raise ValueError(
            f"Cannot export `{name}`: its input shape is unknown, so the channels of the "
            f"serving signature cannot be fixed; received input shape {shape}."
        )
    return int(shape[-1])


def image_to_image_signature(name, net, multiple=None, scale=1, channels_in=None,
                             jit_compile=False):
    """`(name, fn, input_signature)`: uint8 `images` of any size -> `net`'s images,
    padded by reflection to a multiple of `multiple` (default: `size_multiple(net)`)
    around it and cropped back (`scale` times larger); `jit_compile` compiles `net`'s
    forward pass with XLA (`network_call`)."""
    multiple = multiple or size_multiple(net)
    forward = network_call(net, jit_compile)
    channels_in = channels_in or channels(net, name)
    channels_out = int(net.outputs[0].shape[-1])
    spec = tf.TensorSpec([None, None, None, channels_in], tf.uint8, name="images")
    checks = image_checks(net, multiple, scale, channels_in)

    def fn(images):
        images = checks(images)
        height, width = tf.shape(images)[1], tf.shape(images)[2]

        def translate():
            x = utils.to_float(images)
            if multiple > 1:
                pad_h, pad_w = (-height) % multiple, (-width) % multiple
                x = tf.pad(x, [[0, 0], [0, pad_h], [0, pad_w], [0, 0]], mode="REFLECT")
            y = tf.cast(forward(x), tf.float32)
            if multiple > 1:
                y = y[:, :height * scale, :width * scale, :]
            return y

        def nothing():  # no image: the networks' paddings cannot run on an empty batch
            return tf.zeros(tf.stack([0, height * scale, width * scale, channels_out]))

        return _image_outputs(tf.cond(tf.equal(tf.shape(images)[0], 0), nothing, translate))

    return name, fn, [spec]


def image_checks(net, multiple=None, scale=1, channels_in=None):
    """`check(images)`: the in-graph checks of an image-to-image signature's uint8
    `images` (shape `[N, H, W, channels_in]`, sides of at least `min_side`, at most
    `max_request_output_pixels` output pixels), returning `images` once they pass."""
    multiple = multiple or size_multiple(net)
    channels_in = channels_in or channels(net, "images")
    smallest = min_side(net, multiple)
    max_pixels = max_request_output_pixels(net, scale)

    def check(images):
        images = tf.ensure_shape(images, [None, None, None, channels_in])
        shape = tf.shape(images, out_type=tf.int64)
        padded = -(-shape[1:3] // multiple) * multiple
        return checked(images, [
            tf.debugging.assert_greater_equal(
                tf.reduce_min(shape[1:3]), tf.constant(smallest, tf.int64),
                message=f"`images` sides must be at least {smallest}"),
            tf.debugging.assert_less_equal(
                shape[0] * padded[0] * padded[1] * scale**2, tf.constant(max_pixels, tf.int64),
                message=f"`images` must ask for at most {max_pixels} output pixels "
                        "(images x height x width"
                        + (f", sides padded to multiples of {multiple}" if multiple > 1 else "")
                        + (f", times scale**2={scale**2}" if scale > 1 else "")
                        + ") per request"),
        ])

    return check


# `keras_gans.export` names both this module and its `export` function; once the module
# is imported, Python binds the package attribute to the module, so make the module
# callable and `keras_gans.export(model, base_dir)` works whichever was imported first.
class _CallableModule(types.ModuleType):
    def __call__(self, *args, **kwargs):
        return export(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
