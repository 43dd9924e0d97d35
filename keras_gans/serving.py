"""Serve exported models with TensorFlow Serving: `models.config` and a client.

`keras_gans.export` writes the SavedModels; this module writes the server's model
config for several models (`keras_gans.serving_config`, re-exported here) and talks to
a running server over REST or gRPC (`Client`).

```python
keras_gans.serving.write_models_config(
    "savedmodels/models.config",
    {"dcgan_mnist": "/models/dcgan_mnist", "srgan_div2k": "/models/srgan_div2k"})
# docker run -p 8500:8500 -p 8501:8501 -v $PWD/savedmodels:/models tensorflow/serving \\
#     --model_config_file=/models/models.config

client = keras_gans.serving.Client("localhost", 8501, "dcgan_mnist")
images = client.sample(16, seed=0)                 # float32 in [-1, 1], (16, 28, 28, 1)
pictures = client.sample(4, seed=0, as_pil=True)   # PIL images
```

The gRPC client needs `grpcio` and `tensorflow-serving-api`; the latter depends on
`tensorflow` (not `tensorflow-cpu`), so install it without its dependencies:
`pip install --no-deps tensorflow-serving-api` (the `serving` extra).
"""

import base64
import http.client
import io
import ipaddress
import json
import math
import numbers
import re
import threading
import time
import urllib.error
import urllib.request

import numpy as np

from keras_gans.serving_config import (  # noqa: F401 - part of this module's API
    MODEL_NAME,
    models_config_text,
    write_models_config,
)

REST_PORT = 8501
GRPC_PORT = 8500

#: The most bytes `Client` reads of one answer by default (`max_response_bytes`): far
#: more than the zoo's models answer, far less than would exhaust a machine's memory.
MAX_RESPONSE_BYTES = 256 * 2**20
_ERROR_BODY_BYTES = 16 * 2**10  # of an HTTP error's body: TF Serving's message fits
_READ_BYTES = 2**20  # per socket read, so that the deadline is checked between reads
_GRPC_MAX_MESSAGE = 2**31 - 1  # gRPC's limits are int32

_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
_HOST_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.?")

# TensorFlow's DataType enum names -> numpy dtypes, for REST metadata (no TF import).
_DTYPES = {
    "DT_FLOAT": np.float32, "DT_DOUBLE": np.float64, "DT_HALF": np.float16,
    "DT_INT8": np.int8, "DT_INT16": np.int16, "DT_INT32": np.int32, "DT_INT64": np.int64,
    "DT_UINT8": np.uint8, "DT_UINT16": np.uint16, "DT_UINT32": np.uint32,
    "DT_UINT64": np.uint64, "DT_BOOL": np.bool_, "DT_STRING": object,
}


# --- Client ---


class ServingError(RuntimeError):
    """The server answered with an error (bad input, unknown model or signature), could
    not be reached in time, or answered what a TF Serving server does not (malformed
    JSON, missing outputs, outputs of the wrong shape or number). The message names the
    URL."""


def _late(url, timeout):
    return ServingError(f"{url} did not answer within timeout={timeout} s.")


def _within(timeout, call, url):
    """`call()`, bounded by `timeout` seconds in all (each socket read is bounded by
    urllib's timeout, but a server trickling bytes could prolong the whole for ever)."""
    outcome = {}

    def run():
        try:
            outcome["value"] = call()
        except BaseException as e:  # noqa: BLE001 - re-raised in the caller's thread
            outcome["error"] = e

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise _late(url, timeout)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _read_body(stream, url, limit, deadline, timeout, truncate=False):
    """The body of an HTTP answer, read piece by piece until `deadline` (a
    `time.monotonic()`): more than `limit` bytes are refused with ServingError, or cut
    with `truncate`. A `Content-Length` over `limit` is refused before reading."""
    declared = stream.headers.get("Content-Length", "").strip()
    declared = int(declared) if declared.isdigit() else None
    if declared is not None and declared > limit and not truncate:
        raise ServingError(f"{url} answered {declared:,} bytes (Content-Length), more than "
                           f"max_response_bytes={limit:,}.")
    body = bytearray()
    while len(body) <= limit:
        if time.monotonic() > deadline:
            raise _late(url, timeout)
        piece = stream.read1(min(_READ_BYTES, limit + 1 - len(body)))
        if not piece:
            break
        body += piece
    if len(body) > limit:
        if truncate:
            return bytes(body[:limit]) + b" [truncated]"
        raise ServingError(f"{url} answered more than max_response_bytes={limit:,} bytes.")
    if declared is not None and len(body) < declared:
        raise ServingError(f"{url} closed the connection after {len(body):,} of the "
                           f"{declared:,} bytes it announced.")
    return bytes(body)


def _error_detail(body):
    """TF Serving's message in an HTTP error's body (`{"error": ...}`), or the body."""
    detail = body.decode("utf-8", "replace")
    try:
        answer = json.loads(detail)
    except (ValueError, RecursionError):
        return detail
    return answer.get("error", detail) if isinstance(answer, dict) else detail


def _url_host(host):
    """`host` as it goes in a URL or gRPC target (an IPv6 address in brackets), or
    ValueError: anything but a host name or IP address (a scheme, port, path, query or
    user) would change what the client connects to."""
    if isinstance(host, str):
        bare = host[1:-1] if host[:1] == "[" and host[-1:] == "]" else host
        try:
            address = ipaddress.ip_address(bare)
        except ValueError:
            address = None
        if (address is not None and (address.version == 6 or bare == host)
                and re.fullmatch(r"[0-9A-Za-z:.%_-]+", bare)):
            return f"[{bare}]" if address.version == 6 else bare
        if bare == host and len(host) <= 253 and _HOST_NAME.fullmatch(host):
            return host
    raise ValueError(
        "Received an invalid value for argument `host`. Expected a host name or an IP "
        "address, without scheme, port, path or user, received: "
        f"host={host!r}"
    )


def _b64_decode(value):
    if isinstance(value, dict) and set(value) == {"b64"}:
        return base64.b64decode(value["b64"])
    if isinstance(value, list):
        return [_b64_decode(v) for v in value]
    return value


def _json_value(array):
    """A numpy array as TF Serving's REST JSON: nested lists, bytes as {"b64": ...}."""
    if array.dtype == object or array.dtype.kind in "SU":
        def encode(v):
            if isinstance(v, str):
                v = v.encode("utf-8")
            return {"b64": base64.b64encode(bytes(v)).decode("ascii")}
        return np.vectorize(encode, otypes=[object])(array).tolist() if array.ndim \
            else encode(array.item())
    return array.tolist()


def _to_array(value, dtype=None):
    value = _b64_decode(value)
    if dtype is object:
        return np.array(value, dtype=object)
    return np.asarray(value, dtype=dtype)


def _pil_images(images_uint8):
    from PIL import Image

    return [Image.fromarray(im[..., 0] if im.shape[-1] == 1 else im) for im in images_uint8]


def _uint8_batch(images):
    """Images from the user (uint8, float in [-1, 1], PIL, one or a batch) -> uint8 NHWC."""
    from keras_gans.utils import to_uint8

    if not isinstance(images, np.ndarray):
        items = images if isinstance(images, (list, tuple)) else [images]
        if items and all(hasattr(im, "mode") and hasattr(im, "size") for im in items):
            images = np.stack([np.asarray(im) for im in items])
    images = to_uint8(np.asarray(images))
    if images.ndim == 2:
        images = images[None, ..., None]
    elif images.ndim == 3:
        # One image (H, W, C) with C in 1, 3, 4, or a batch of gray images (N, H, W).
        images = images[None] if images.shape[-1] in (1, 3, 4) else images[..., None]
    if images.ndim != 4 or 0 in images.shape:
        raise ValueError(
            "Received an invalid value for argument `images`. Expected an image or a "
            f"batch of images (N, H, W, C), received shape {images.shape}."
        )
    return images


def _like_input(images, outputs, as_pil):
    """The server's images in the convention of the local `translate` / `upscale`: one
    image for one image, uint8 for uint8 (or PIL) input, float32 in [-1, 1] for float."""
    if as_pil:
        return _pil_images(outputs["images_uint8"])
    items = images if isinstance(images, (list, tuple)) else [images]
    pil = bool(items) and all(hasattr(im, "mode") and hasattr(im, "size") for im in items)
    array = None if pil else np.asarray(images)
    if pil or array.dtype == np.uint8:
        result = np.asarray(outputs["images_uint8"], dtype=np.uint8)
    else:
        result = np.asarray(outputs["images"], dtype=np.float32)
    single = (not isinstance(images, (list, tuple)) and
              (pil or array.ndim == 2 or (array.ndim == 3 and array.shape[-1] in (1, 3, 4))))
    return result[0] if single else result


class Client:
    """A client of TensorFlow Serving for exported `keras_gans` models.

    Speaks REST (`:predict` in the columnar `inputs` or the row `instances` format) or
    gRPC (`PredictionService`) and returns numpy arrays, or PIL images when asked. The
    signature names and tensors are those of `keras_gans.export`.

    Args:
        host: the server's host name or IP address (an IPv6 address with or without
            brackets); no scheme, port or path.
        port: its REST port (8501 by default) or gRPC port (8500 by default), an
            integer in [1, 65535].
        model: the model's name on the server (`MODEL_NAME`, or a name in
            `models.config`).
        protocol: `"rest"` or `"grpc"`. gRPC needs `grpcio` and
            `tensorflow-serving-api` (`pip install --no-deps tensorflow-serving-api`).
        version: a model version to query; `None` for the latest the server has.
        rest_format: `"inputs"` (columnar) or `"instances"` (row format) for REST
            requests. Signatures with scalar inputs (`sample`, `png`) always use
            `"inputs"`, as the row format cannot carry scalars.
        timeout: seconds to wait for an answer, for the whole call (connecting and
            reading all of the answer); a positive number.
        max_response_bytes: the most bytes to accept in one answer (`MAX_RESPONSE_BYTES`,
            256 MiB, by default); a larger answer raises `ServingError`. Raise it for
            large batches of large images.

    Example:

    ```python
    client = Client("localhost", 8501, "dcgan_mnist")
    images = client.generate(np.random.normal(size=(4, 64)).astype("float32"))
    pngs = client.png(4, seed=1)                  # list of PNG files' bytes
    client = Client("localhost", 8500, "cyclegan_horse2zebra", protocol="grpc")
    zebras = client.translate(horses_uint8, direction="a2b", as_pil=True)
    filled = client.inpaint(photos_uint8, holes_bool)  # an Inpainter's `inpaint`
    ```
    """

    def __init__(self, host="localhost", port=None, model=None, protocol="rest", version=None,
                 rest_format="inputs", timeout=30.0, max_response_bytes=MAX_RESPONSE_BYTES):
        if protocol not in ("rest", "grpc"):
            raise ValueError(
                "Received an invalid value for argument `protocol`. Expected 'rest' or "
                f"'grpc', received: protocol={protocol!r}"
            )
        if not isinstance(model, str) or not MODEL_NAME.match(model):
            raise ValueError(
                "Received an invalid value for argument `model`. Expected the model's "
                f"name on the server, received: model={model!r}"
            )
        if rest_format not in ("inputs", "instances"):
            raise ValueError(
                "Received an invalid value for argument `rest_format`. Expected 'inputs' "
                f"or 'instances', received: rest_format={rest_format!r}"
            )
        if version is not None and (isinstance(version, bool) or not isinstance(version, int)
                                    or version < 0):
            raise ValueError(
                "Received an invalid value for argument `version`. Expected a "
                f"non-negative integer or None, received: version={version!r}"
            )
        url_host = _url_host(host)
        if port is None:
            port = REST_PORT if protocol == "rest" else GRPC_PORT
        if (isinstance(port, bool) or not isinstance(port, (int, np.integer))
                or not 1 <= port <= 65535):
            raise ValueError(
                "Received an invalid value for argument `port`. Expected an integer in "
                f"[1, 65535], received: port={port!r}"
            )
        # NaN fails both comparisons; past TIMEOUT_MAX, threads cannot wait.
        if (isinstance(timeout, bool) or not isinstance(timeout, numbers.Real)
                or not 0 < timeout <= threading.TIMEOUT_MAX):
            raise ValueError(
                "Received an invalid value for argument `timeout`. Expected a positive, "
                f"finite number of seconds, received: timeout={timeout!r}"
            )
        if (isinstance(max_response_bytes, bool)
                or not isinstance(max_response_bytes, (int, np.integer))
                or max_response_bytes <= 0):
            raise ValueError(
                "Received an invalid value for argument `max_response_bytes`. Expected a "
                f"positive integer, received: max_response_bytes={max_response_bytes!r}"
            )
        self.host = host
        self.port = int(port)
        self.model = model
        self.protocol = protocol
        self.version = version
        self.rest_format = rest_format
        self.timeout = float(timeout)
        self.max_response_bytes = int(max_response_bytes)
        self._address = f"{url_host}:{self.port}"
        self._signatures = None  # cached by `signatures()`
        self._channel = self._stub = None  # opened by the first gRPC call

    def __repr__(self):
        return (f"Client(host={self.host!r}, port={self.port}, model={self.model!r}, "
                f"protocol={self.protocol!r}, version={self.version})")

    def close(self):
        """Close the gRPC channel (a REST client holds no connection)."""
        if self._channel is not None:
            self._channel.close()
            self._channel = self._stub = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- Generic calls ---

    def signatures(self):
        """The model's signatures, from the server's model metadata (cached).

        Returns:
            `{signature: {"inputs": {name: (numpy dtype, shape)}, "outputs": {...}}}`,
            with -1 for a polymorphic dimension.
        """
        if self._signatures is None:
            if self.protocol == "rest":
                raw = self._rest_metadata()
            else:
                raw = self._grpc_metadata()
            try:
                self._signatures = self._parse_signatures(raw)
            except (AttributeError, TypeError, ValueError, OverflowError) as e:
                raise ServingError(f"{self._endpoint('metadata')} answered malformed "
                                   f"signature metadata: {type(e).__name__}: {e}") from None
        return self._signatures

    @staticmethod
    def _parse_signatures(raw):
        return {
            name: {
                side: {key: (_DTYPES.get(info.get("dtype"), None),
                             [int(d.get("size", 0)) for d in
                              info.get("tensor_shape", {}).get("dim", [])])
                       for key, info in sig.get(side, {}).items()}
                for side in ("inputs", "outputs")
            }
            for name, sig in raw.items() if not name.startswith("__")
        }

    def predict(self, inputs, signature="serving_default", rest_format=None):
        """Run one signature on the server.

        Args:
            inputs: `{input name: array-like}` (or one array-like for a signature with
                one input). Values are cast to the signature's dtypes.
            signature: the signature name.
            rest_format: override the client's REST format for this call.

        Returns:
            `{output name: numpy array}`; string outputs (`*_bytes`) as object arrays of
            `bytes`.
        """
        spec = self.signatures().get(signature)
        if spec is None:
            raise ServingError(
                f"Model {self.model!r} has no signature {signature!r}; it has "
                f"{sorted(self.signatures())}."
            )
        if not isinstance(inputs, dict):
            if len(spec["inputs"]) != 1:
                raise ValueError(
                    f"Signature {signature!r} takes inputs {sorted(spec['inputs'])}; pass "
                    "a dict of them."
                )
            inputs = {next(iter(spec["inputs"])): inputs}
        arrays = {}
        for key, value in inputs.items():
            dtype = spec["inputs"].get(key, (None, None))[0]
            arrays[key] = np.array(value, dtype=dtype) if dtype is not None \
                else np.asarray(value)
        if self.protocol == "grpc":
            result = self._grpc_predict(arrays, signature)
        else:
            result = self._rest_predict(arrays, signature, spec,
                                        rest_format or self.rest_format)
        return self._check_outputs(result, spec, signature)

    def _predict_n(self, inputs, signature, n, **kwargs):
        """`predict`, checking that each output holds `n` images."""
        result = self.predict(inputs, signature, **kwargs)
        return self._check_outputs(result, self.signatures()[signature], signature, n)

    # --- The keras_gans signatures ---

    def _label_inputs(self, signature, labels, n, cycle=False):
        takes_labels = "labels" in self.signatures().get(signature, {}).get("inputs", {})
        if not takes_labels:
            if labels is not None:
                raise ValueError(
                    f"Model {self.model!r} is unconditional; received labels={labels!r}"
                )
            return {}
        if labels is None:
            if not cycle:
                raise ValueError(
                    f"Model {self.model!r} is conditional: pass `labels`, one class id "
                    "per image (or one for all)."
                )
            return {"labels": np.zeros([0], np.int32)}  # the server cycles the classes
        labels = np.asarray(labels)
        if labels.ndim == 0:
            labels = np.full([n], labels)
        if labels.shape != (n,) or not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(
                f"Received an invalid value for argument `labels`. Expected {n} integer "
                f"class ids, received an array of shape {labels.shape} and dtype "
                f"{labels.dtype}."
            )
        return {"labels": labels.astype(np.int32)}

    @staticmethod
    def _images_result(outputs, as_pil):
        return _pil_images(outputs["images_uint8"]) if as_pil else outputs["images"]

    def generate(self, z, labels=None, as_pil=False):
        """Images from noise `z` `[N, latent_dim]` (`serving_default` of a GAN).

        Args:
            z: float noise, shape `[N, latent_dim]`.
            labels: for a conditional model, `N` class ids (or one for all).
            as_pil: return a list of PIL images instead of float32 in [-1, 1].
        """
        z = np.asarray(z, dtype=np.float32)
        if z.ndim != 2:
            raise ValueError(
                "Received an invalid value for argument `z`. Expected noise of shape "
                f"(N, latent_dim), received shape {z.shape}."
            )
        inputs = {"z": z, **self._label_inputs("serving_default", labels, n=len(z))}
        return self._images_result(self._predict_n(inputs, "serving_default", len(z)), as_pil)

    def _sample_inputs(self, n, seed, labels, signature):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n <= 0:
            raise ValueError(
                "Received an invalid value for argument `n`. Expected a positive integer, "
                f"received: n={n!r}"
            )
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise TypeError(
                "Received an invalid value for argument `seed`. Expected an integer, "
                f"received: seed={seed!r}"
            )
        return {"n": np.int32(n), "seed": np.int64(seed),
                **self._label_inputs(signature, labels, n=n, cycle=True)}

    def sample(self, n, seed=0, labels=None, as_pil=False):
        """`n` images drawn on the server from `seed` (the `sample` signature).

        The same `(n, seed)` gives the same images; the noise is
        `keras_gans.export.sample_noise(n, seed, latent_dim)`.

        Args:
            n: number of images.
            seed: an integer.
            labels: for a conditional model, `n` class ids (or one for all); by default
                the classes cycle.
            as_pil: return a list of PIL images instead of float32 in [-1, 1].
        """
        outputs = self._predict_n(self._sample_inputs(n, seed, labels, "sample"), "sample", n,
                                  rest_format="inputs")
        return self._images_result(outputs, as_pil)

    def png(self, n, seed=0, labels=None, as_pil=False):
        """`n` images drawn on the server from `seed`, as PNG files (the `png` signature).

        Returns:
            A list of `bytes`, each a PNG file, or of PIL images with `as_pil=True`.
        """
        outputs = self._predict_n(self._sample_inputs(n, seed, labels, "png"), "png", n,
                                  rest_format="inputs")
        files = list(outputs["images_bytes"])
        if not all(isinstance(b, bytes) for b in files):
            raise ServingError(f"{self._endpoint('png')} answered 'images_bytes' that are "
                               f"not bytes: {sorted({type(b).__name__ for b in files})}.")
        files = [bytes(b) for b in files]
        if not as_pil:
            return files
        from PIL import Image, UnidentifiedImageError

        try:
            return [Image.open(io.BytesIO(b)) for b in files]
        except UnidentifiedImageError as e:
            raise ServingError(f"{self._endpoint('png')} answered 'images_bytes' that are "
                               f"not image files: {e}") from None

    def translate(self, images, direction="a2b", as_pil=False):
        """Translate images with a CycleGAN (`translate_a2b` / `translate_b2a`).

        Args:
            images: uint8 images, float images in [-1, 1] or PIL images; one image
                `(H, W, C)` or a batch `(N, H, W, C)` of any height and width.
            direction: `"a2b"` or `"b2a"`.
            as_pil: return a list of PIL images instead of arrays.

        Returns:
            As the local `CycleGAN.translate`: the same structure as `images` (one image
            or a batch), uint8 for uint8 or PIL input, float32 in [-1, 1] for float.
        """
        if direction not in ("a2b", "b2a"):
            raise ValueError(
                "Received an invalid value for argument `direction`. Expected 'a2b' or "
                f"'b2a', received: direction={direction!r}"
            )
        batch = _uint8_batch(images)
        outputs = self._predict_n({"images": batch}, f"translate_{direction}", len(batch))
        return _like_input(images, outputs, as_pil)

    def upscale(self, images, as_pil=False):
        """Super-resolve images with an SRGAN (the `upscale` signature).

        Args:
            images: low-resolution uint8, float in [-1, 1] or PIL images, one or a batch,
                any height and width.
            as_pil: return a list of PIL images instead of arrays.

        Returns:
            As the local `SRGAN.upscale`: the same structure as `images` (one image or a
            batch), uint8 for uint8 or PIL input, float32 in [-1, 1] for float.
        """
        batch = _uint8_batch(images)
        outputs = self._predict_n({"images": batch}, "upscale", len(batch))
        return _like_input(images, outputs, as_pil)

    def inpaint(self, images, masks, as_pil=False):
        """Fill the missing pixels of images with an Inpainter (the `inpaint` signature).

        Args:
            images: uint8 images, float images in [-1, 1] or PIL images; one image
                `(H, W, C)` or a batch `(N, H, W, C)` of any height and width.
            masks: bool or integer masks, `True` / non-zero = missing: `(H, W)` for one
                image, `(N, H, W)` for a batch.
            as_pil: return a list of PIL images instead of a uint8 array.

        Returns:
            uint8 images `(N, H, W, C)`: the input's pixels outside the mask, exactly, and
            the model's inside it.
        """
        batch = _uint8_batch(images)
        masks = np.asarray(masks)
        if masks.dtype != np.bool_ and not np.issubdtype(masks.dtype, np.integer):
            raise TypeError(
                "Received an invalid value for argument `masks`. Expected bool (True = "
                f"missing) or integer masks, received dtype {masks.dtype}."
            )
        if masks.ndim == 2:
            masks = masks[None]
        if masks.shape != batch.shape[:3]:
            raise ValueError(
                "Received an invalid value for argument `masks`. Expected the shape of the "
                f"images without channels, {batch.shape[:3]}, received shape {masks.shape}."
            )
        outputs = self._predict_n({"images": batch, "masks": (masks != 0).astype(np.uint8)},
                                  "inpaint", len(batch))
        filled = np.asarray(outputs["images_uint8"], dtype=np.uint8)
        return _pil_images(filled) if as_pil else filled

    # --- REST ---

    def _rest_url(self, verb):
        url = f"http://{self._address}/v1/models/{self.model}"
        if self.version is not None:
            url += f"/versions/{self.version}"
        return url + verb

    def _rest_call(self, url, body=None):
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(
            url, data=data, method="GET" if data is None else "POST",
            headers={"Content-Type": "application/json"})
        # Each socket read is bounded by urlopen's timeout, the whole by the deadline
        # (checked between reads, so that an abandoned `_within` thread stops too).
        deadline = time.monotonic() + self.timeout

        def read(stream, limit, truncate=False):
            return _read_body(stream, url, limit, deadline, self.timeout, truncate)

        def fetch():
            try:
                try:
                    with urllib.request.urlopen(request, timeout=self.timeout) as response:
                        return read(response, self.max_response_bytes)
                except urllib.error.HTTPError as e:
                    with e:
                        try:
                            detail = _error_detail(read(
                                e, min(_ERROR_BODY_BYTES, self.max_response_bytes), True))
                        except (OSError, http.client.HTTPException) as failure:
                            detail = (f"(its body could not be read: "
                                      f"{type(failure).__name__}: {failure})")
                    raise ServingError(f"{url} answered HTTP {e.code}: {detail}") from None
            except urllib.error.URLError as e:
                raise ServingError(f"Cannot reach TF Serving at {url}: {e.reason}") from None
            except (OSError, http.client.HTTPException) as e:  # timeouts, dropped connections
                raise ServingError(f"TF Serving at {url} failed to answer: "
                                   f"{type(e).__name__}: {e}") from None

        text = _within(self.timeout, fetch, url)
        try:
            answer = json.loads(text.decode("utf-8"))
        except (ValueError, RecursionError):  # RecursionError: nested too deep
            raise ServingError(f"{url} answered malformed JSON: {text[:100]!r}") from None
        if not isinstance(answer, dict):
            raise ServingError(f"{url} answered {type(answer).__name__} JSON, not an object: "
                               f"{text[:100]!r}")
        return answer

    def _rest_metadata(self):
        url = self._rest_url("/metadata")
        answer = self._rest_call(url)
        try:
            signatures = answer["metadata"]["signature_def"]["signature_def"]
            if not isinstance(signatures, dict):
                raise TypeError(type(signatures).__name__)
        except (KeyError, TypeError) as e:
            raise ServingError(f"{url} answered metadata without "
                               f"metadata.signature_def.signature_def ({e!r})") from None
        return signatures

    def _rest_predict(self, arrays, signature, spec, rest_format):
        if rest_format == "instances":
            scalars = [k for k, v in arrays.items() if v.ndim == 0]
            if scalars:
                raise ValueError(
                    f"Signature {signature!r} has scalar inputs {scalars}, which the REST "
                    "row format ('instances') cannot carry; use rest_format='inputs'."
                )
            batch = {len(v) for v in arrays.values()}
            if len(batch) != 1:
                raise ValueError(
                    "The REST row format ('instances') needs inputs with the same batch "
                    f"size; received sizes { {k: len(v) for k, v in arrays.items()} }."
                )
            columns = {k: _json_value(v) for k, v in arrays.items()}
            instances = [{k: columns[k][i] for k in columns} for i in range(batch.pop())]
            body = {"signature_name": signature, "instances": instances}
        else:
            body = {"signature_name": signature,
                    "inputs": {k: _json_value(v) for k, v in arrays.items()}}
        url = self._rest_url(":predict")
        answer = self._rest_call(url, body)
        outputs = spec["outputs"]
        try:
            if "outputs" in answer:
                result = answer["outputs"]
                if not isinstance(result, dict) or len(outputs) == 1:
                    # A single output comes back unnamed.
                    result = {next(iter(outputs)): result}
            else:
                rows = answer["predictions"]
                if len(outputs) == 1:
                    result = {next(iter(outputs)): rows}
                else:
                    result = {k: [row[k] for row in rows] for k in outputs}
            return {k: _to_array(v, outputs.get(k, (None,))[0]) for k, v in result.items()}
        # Missing keys, ragged lists, values out of the dtype's range, nesting too deep.
        except (KeyError, TypeError, ValueError, OverflowError, RecursionError) as e:
            raise ServingError(f"{url} answered outputs that are not those of signature "
                               f"{signature!r}: {type(e).__name__}: {e}") from None

    def _endpoint(self, signature):
        if self.protocol == "rest":
            return self._rest_url("/metadata" if signature == "metadata" else ":predict")
        return f"grpc://{self._address}/{self.model} ({signature})"

    def _check_outputs(self, result, spec, signature, n=None):
        """Every output of `spec` with its shape (and `n` rows when given), or ServingError."""
        for key, (_, shape) in spec["outputs"].items():
            if key not in result:
                raise ServingError(f"{self._endpoint(signature)} answered without the output "
                                   f"{key!r} (received {sorted(result)}).")
            array = result[key]
            wrong = bool(shape) and (array.ndim != len(shape) or any(
                want not in (-1, got) for want, got in zip(shape, array.shape)))
            if wrong or (n is not None and (array.ndim == 0 or len(array) != n)):
                expected = f"shape {shape} (-1: any)" + ("" if n is None else f" with {n} rows")
                raise ServingError(f"{self._endpoint(signature)} answered {key!r} of shape "
                                   f"{list(array.shape)}; expected {expected}.")
        return result

    # --- gRPC ---

    def _grpc(self):
        if self._stub is None:
            try:
                import grpc
                from tensorflow_serving.apis import prediction_service_pb2_grpc
            except ImportError as e:
                raise ImportError(
                    "The gRPC client needs `grpcio` and `tensorflow-serving-api`: "
                    "`pip install grpcio && pip install --no-deps tensorflow-serving-api` "
                    f"({e})."
                ) from None
            limit = min(self.max_response_bytes, _GRPC_MAX_MESSAGE)
            self._channel = grpc.insecure_channel(
                self._address, options=[("grpc.max_receive_message_length", limit)])
            self._stub = prediction_service_pb2_grpc.PredictionServiceStub(self._channel)
        return self._stub

    def _model_spec(self, spec, signature=None):
        spec.name = self.model
        if signature is not None:
            spec.signature_name = signature
        if self.version is not None:
            spec.version.value = self.version

    def _grpc_call(self, method, request):
        import grpc

        try:
            return method(request, timeout=self.timeout)
        except grpc.RpcError as e:
            raise ServingError(
                f"TF Serving at {self._address} answered {e.code().name}: "
                f"{e.details()}"
            ) from None

    def _grpc_metadata(self):
        from google.protobuf import json_format
        from google.protobuf.message import DecodeError
        from tensorflow_serving.apis import get_model_metadata_pb2

        stub = self._grpc()
        request = get_model_metadata_pb2.GetModelMetadataRequest()
        self._model_spec(request.model_spec)
        request.metadata_field.append("signature_def")
        response = self._grpc_call(stub.GetModelMetadata, request)
        signature_map = get_model_metadata_pb2.SignatureDefMap()
        try:
            unpacked = ("signature_def" in response.metadata
                        and response.metadata["signature_def"].Unpack(signature_map))
        except DecodeError:
            unpacked = False
        if not unpacked:
            raise ServingError(f"{self._endpoint('metadata')} answered metadata without a "
                               "SignatureDefMap in metadata['signature_def'].")
        # The same JSON as the REST metadata, so both share one parser.
        return json_format.MessageToDict(
            signature_map, preserving_proto_field_name=True).get("signature_def", {})

    def _grpc_predict(self, arrays, signature):
        import tensorflow as tf
        from tensorflow_serving.apis import predict_pb2

        stub = self._grpc()
        request = predict_pb2.PredictRequest()
        self._model_spec(request.model_spec, signature)
        for key, value in arrays.items():
            request.inputs[key].CopyFrom(tf.make_tensor_proto(value))
        response = self._grpc_call(stub.Predict, request)
        return self._grpc_arrays(response.outputs, signature)

    def _grpc_arrays(self, outputs, signature):
        """`{key: TensorProto}` as numpy arrays, refusing malformed tensors and tensors
        that would take more than `max_response_bytes` once expanded (a TensorProto may
        hold one value for any shape, which `make_ndarray` repeats)."""
        import tensorflow as tf

        arrays, total = {}, 0
        for key, proto in outputs.items():
            try:
                dtype = tf.dtypes.as_dtype(proto.dtype)
                shape = [d.size for d in proto.tensor_shape.dim]
                if any(size < 0 for size in shape):
                    raise ValueError(f"shape {shape} has a negative dimension")
                total += math.prod(shape) * (dtype.size or 8)  # strings: one reference each
                if total > self.max_response_bytes:
                    raise ServingError(
                        f"{self._endpoint(signature)} answered {key!r} of shape {shape} and "
                        f"dtype {dtype.name}: more than max_response_bytes="
                        f"{self.max_response_bytes:,} bytes in all.")
                arrays[key] = tf.make_ndarray(proto)
            except (TypeError, ValueError) as e:
                raise ServingError(f"{self._endpoint(signature)} answered a malformed tensor "
                                   f"{key!r}: {type(e).__name__}: {e}") from None
        return arrays
