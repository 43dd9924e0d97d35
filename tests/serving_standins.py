"""Stand-ins for TensorFlow Serving, for tests only (the server binary is not installable here).

Both load an exported SavedModel the way the server does: the graph-mode loader
(`tf.compat.v1.saved_model.loader.load` in a `tf.compat.v1.Session`, tag "serve"), then
each signature is run by the tensor names in its `SignatureDef`.

- `RestStandIn`: `http.server` on 127.0.0.1 following TF Serving's documented REST API
  (https://www.tensorflow.org/tfx/serving/api_rest): `POST /v1/models/<name>[/versions/<v>]
  :predict` with the row (`instances` -> `predictions`) or columnar (`inputs` ->
  `outputs`) format, `{"b64": ...}` for binary inputs and for string outputs whose name
  ends in `_bytes`, `GET .../metadata`, and `{"error": ...}` answers.
- `GrpcStandIn`: a `tensorflow_serving.apis` `PredictionService` (`Predict`,
  `GetModelMetadata`) served in-process by `grpc.server` on 127.0.0.1.
"""

import base64
import contextlib
import http.server
import json
import os
import re
import threading

import numpy as np
import tensorflow as tf
from google.protobuf import json_format


class NotFound(Exception):
    """Unknown model, version or signature (HTTP 404, gRPC NOT_FOUND)."""


class InvalidArgument(Exception):
    """A request the server rejects (HTTP 400, gRPC INVALID_ARGUMENT)."""


class SessionServable:
    """One SavedModel version loaded in graph mode, run by signature tensor names."""

    def __init__(self, export_dir):
        self.graph = tf.Graph()
        self.session = tf.compat.v1.Session(graph=self.graph)
        with self.graph.as_default():
            meta_graph = tf.compat.v1.saved_model.loader.load(
                self.session, [tf.compat.v1.saved_model.tag_constants.SERVING], export_dir)
        self.signatures = {name: sig for name, sig in meta_graph.signature_def.items()
                           if not name.startswith("__")}

    def input_dtypes(self, signature):
        sig = self.signature(signature)
        return {k: tf.dtypes.as_dtype(v.dtype) for k, v in sig.inputs.items()}

    def signature(self, name):
        name = name or "serving_default"
        if name not in self.signatures:
            raise NotFound(f'Serving signature name: "{name}" not found in signature def')
        return self.signatures[name]

    def run(self, signature, inputs):
        """Run `signature` on `{input key: numpy array}`; returns `{output key: array}`."""
        sig = self.signature(signature)
        if set(inputs) != set(sig.inputs):
            raise InvalidArgument(
                f"input size does not match signature: {len(inputs)}!={len(sig.inputs)} "
                f"len({{{', '.join(sorted(inputs))}}}) != "
                f"len({{{', '.join(sorted(sig.inputs))}}})")
        feeds = {}
        for key, value in inputs.items():
            expected = tf.dtypes.as_dtype(sig.inputs[key].dtype)
            if tf.dtypes.as_dtype(value.dtype) != expected and not (
                    expected == tf.string and value.dtype == object):
                raise InvalidArgument(
                    f"Expects arg {key} to be {expected.name} but "
                    f"{tf.dtypes.as_dtype(value.dtype).name} is provided")
            feeds[sig.inputs[key].name] = value
        fetches = {key: info.name for key, info in sig.outputs.items()}
        try:
            return self.session.run(fetches, feeds)
        except (tf.errors.InvalidArgumentError, ValueError) as e:
            raise InvalidArgument(str(getattr(e, "message", e))) from None

    def close(self):
        self.session.close()


class ModelRepository:
    """`{name: base_dir}` -> the latest (or a given) integer version, loaded on demand."""

    def __init__(self, models):
        self.models = {name: os.fspath(path) for name, path in models.items()}
        self._loaded = {}
        self._lock = threading.Lock()

    def get(self, name, version=None):
        if name not in self.models:
            raise NotFound(f"Servable not found for request: Latest({name})")
        base = self.models[name]
        available = sorted(int(d) for d in os.listdir(base)
                           if re.fullmatch(r"[0-9]+", d) and os.path.isdir(os.path.join(base, d)))
        if version is None:
            if not available:
                raise NotFound(f"Servable not found for request: Latest({name})")
            version = available[-1]
        elif version not in available:
            raise NotFound(f"Servable not found for request: Specific({name}, {version})")
        with self._lock:
            key = (name, version)
            if key not in self._loaded:
                self._loaded[key] = SessionServable(os.path.join(base, str(version)))
            return version, self._loaded[key]

    def close(self):
        for servable in self._loaded.values():
            servable.close()


# --- REST ---


def _decode_b64(value):
    if isinstance(value, dict):
        if set(value) != {"b64"}:
            raise InvalidArgument(f"Expected a {{'b64': ...}} object, received {value!r}")
        return base64.b64decode(value["b64"])
    if isinstance(value, list):
        return [_decode_b64(v) for v in value]
    return value.encode("utf-8") if isinstance(value, str) else value


def _json_to_array(value, dtype):
    value = _decode_b64(value)
    if dtype == tf.string:
        return np.array(value, dtype=object)
    try:
        return np.array(value, dtype=dtype.as_numpy_dtype)
    except (ValueError, TypeError, OverflowError) as e:
        raise InvalidArgument(f"Could not parse a {dtype.name} tensor: {e}") from None


def _array_to_json(key, array):
    if array.dtype == object:
        if key.endswith("_bytes"):
            def encode(b):
                return {"b64": base64.b64encode(b).decode("ascii")}
        else:
            def encode(b):
                return b.decode("utf-8")
        return np.vectorize(encode, otypes=[object])(array).tolist() if array.ndim \
            else encode(array.item())
    return array.tolist()


def parse_predict_request(body, servable):
    """The signature name and input arrays of a REST predict body."""
    if not isinstance(body, dict):
        raise InvalidArgument("The request body must be a JSON object.")
    signature = body.get("signature_name") or "serving_default"
    dtypes = servable.input_dtypes(signature)
    if ("instances" in body) == ("inputs" in body):
        raise InvalidArgument(
            "Missing 'instances' or 'inputs' key" if "inputs" not in body
            else "Request can have either 'instances' or 'inputs' key, not both")
    if "instances" in body:
        rows = body["instances"]
        if not isinstance(rows, list) or not rows:
            raise InvalidArgument("'instances' must be a non-empty list")
        if isinstance(rows[0], dict):
            keys = set(rows[0])
            if any(not isinstance(r, dict) or set(r) != keys for r in rows):
                raise InvalidArgument("All instances must have the same named inputs")
            columns = {k: [r[k] for r in rows] for k in keys}
        else:
            if len(dtypes) != 1:
                raise InvalidArgument(
                    "Unnamed instances need a signature with exactly one input")
            columns = {next(iter(dtypes)): rows}
        format_ = "row"
    else:
        value = body["inputs"]
        if isinstance(value, dict) and set(value) != {"b64"}:
            columns = value
        else:
            if len(dtypes) != 1:
                raise InvalidArgument("Unnamed inputs need a signature with exactly one input")
            columns = {next(iter(dtypes)): value}
        format_ = "columnar"
    unknown = set(columns) - set(dtypes)
    if unknown:
        raise InvalidArgument(f"Unknown inputs {sorted(unknown)}; signature takes "
                              f"{sorted(dtypes)}")
    arrays = {k: _json_to_array(v, dtypes[k]) for k, v in columns.items()}
    return signature, arrays, format_


def predict_response(outputs, format_):
    """TF Serving's REST JSON answer for `{key: array}` in the request's format."""
    if format_ == "columnar":
        if len(outputs) == 1:
            (key, value), = outputs.items()
            return {"outputs": _array_to_json(key, value)}
        return {"outputs": {k: _array_to_json(k, v) for k, v in outputs.items()}}
    sizes = {k: (v.shape[0] if v.ndim else None) for k, v in outputs.items()}
    if len(set(sizes.values())) != 1 or None in sizes.values():
        raise InvalidArgument(f"Tensors have inconsistent batch sizes for the row format: "
                              f"{sizes}; use the columnar format")
    columns = {k: _array_to_json(k, v) for k, v in outputs.items()}
    if len(columns) == 1:
        return {"predictions": next(iter(columns.values()))}
    n = next(iter(sizes.values()))
    return {"predictions": [{k: columns[k][i] for k in columns} for i in range(n)]}


_PATH_RE = re.compile(
    r"^/v1/models/(?P<name>[^/:]+)(?:/versions/(?P<version>[0-9]+))?(?P<verb>:predict|/metadata)?$")


class _Handler(http.server.BaseHTTPRequestHandler):
    repository = None  # set on the subclass made per server

    def log_message(self, *args):  # keep test output quiet
        pass

    def _reply(self, status, payload):
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _route(self, method):
        match = _PATH_RE.match(self.path)
        if not match or (match["verb"] == ":predict") != (method == "POST"):
            return self._reply(404, {"error": f"Malformed request: {method} {self.path}"})
        try:
            version = None if match["version"] is None else int(match["version"])
            version, servable = self.repository.get(match["name"], version)
            if match["verb"] == "/metadata":
                return self._reply(200, {
                    "model_spec": {"name": match["name"], "signature_name": "",
                                   "version": str(version)},
                    "metadata": {"signature_def": {"signature_def": {
                        name: json_format.MessageToDict(sig, preserving_proto_field_name=True)
                        for name, sig in servable.signatures.items()}}},
                })
            length = int(self.headers.get("Content-Length", 0))
            try:
                body = json.loads(self.rfile.read(length).decode("utf-8"))
            except ValueError as e:
                raise InvalidArgument(f"JSON Parse error: {e}") from None
            signature, arrays, format_ = parse_predict_request(body, servable)
            return self._reply(200, predict_response(servable.run(signature, arrays), format_))
        except NotFound as e:
            return self._reply(404, {"error": str(e)})
        except InvalidArgument as e:
            return self._reply(400, {"error": str(e)})

    def do_GET(self):
        self._route("GET")

    def do_POST(self):
        self._route("POST")


class RestStandIn:
    """A TF Serving REST stand-in on 127.0.0.1 for `{name: base_dir}`; a context manager.

    Attributes:
        port: the port it listens on (chosen by the OS).
    """

    def __init__(self, models):
        self.repository = ModelRepository(models)
        handler = type("Handler", (_Handler,), {"repository": self.repository})
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.repository.close()


@contextlib.contextmanager
def serve_http(handler):
    """A `ThreadingHTTPServer` of `handler` on 127.0.0.1, in a thread; yields its port."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


# --- gRPC ---


def _grpc_servicer_class():
    from tensorflow_serving.apis import (
        get_model_metadata_pb2,
        predict_pb2,
        prediction_service_pb2_grpc,
    )

    class PredictionServicer(prediction_service_pb2_grpc.PredictionServiceServicer):
        """`Predict` and `GetModelMetadata` over a `ModelRepository`."""

        def __init__(self, repository):
            self.repository = repository

        def _servable(self, spec):
            version = spec.version.value if spec.HasField("version") else None
            return self.repository.get(spec.name, version)

        def _abort(self, context, error):
            import grpc

            code = grpc.StatusCode.NOT_FOUND if isinstance(error, NotFound) \
                else grpc.StatusCode.INVALID_ARGUMENT
            context.abort(code, str(error))

        def Predict(self, request, context):
            try:
                version, servable = self._servable(request.model_spec)
                inputs = {k: tf.make_ndarray(v) for k, v in request.inputs.items()}
                outputs = servable.run(request.model_spec.signature_name, inputs)
            except (NotFound, InvalidArgument) as e:
                self._abort(context, e)
            response = predict_pb2.PredictResponse()
            response.model_spec.name = request.model_spec.name
            response.model_spec.version.value = version
            response.model_spec.signature_name = (request.model_spec.signature_name
                                                  or "serving_default")
            for key, value in outputs.items():
                response.outputs[key].CopyFrom(tf.make_tensor_proto(value))
            return response

        def GetModelMetadata(self, request, context):
            try:
                if list(request.metadata_field) != ["signature_def"]:
                    raise InvalidArgument(
                        f"Metadata field(s) {list(request.metadata_field)} not supported; "
                        "only signature_def")
                version, servable = self._servable(request.model_spec)
            except (NotFound, InvalidArgument) as e:
                self._abort(context, e)
            signature_map = get_model_metadata_pb2.SignatureDefMap()
            for name, sig in servable.signatures.items():
                signature_map.signature_def[name].CopyFrom(sig)
            response = get_model_metadata_pb2.GetModelMetadataResponse()
            response.model_spec.name = request.model_spec.name
            response.model_spec.version.value = version
            response.metadata["signature_def"].Pack(signature_map)
            return response

    return PredictionServicer


class GrpcStandIn:
    """An in-process `PredictionService` on 127.0.0.1 for `{name: base_dir}`.

    Needs `grpcio` and `tensorflow-serving-api` and fails (does not skip) without them.

    Attributes:
        port: the port it listens on (chosen by the OS).
    """

    def __init__(self, models):
        from concurrent import futures

        import grpc
        from tensorflow_serving.apis import prediction_service_pb2_grpc

        self.repository = ModelRepository(models)
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
            _grpc_servicer_class()(self.repository), self.server)
        self.port = self.server.add_insecure_port("127.0.0.1:0")

    def __enter__(self):
        self.server.start()
        return self

    def __exit__(self, *exc):
        self.server.stop(grace=None)
        self.repository.close()
