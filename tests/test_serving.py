"""`keras_gans.serving`: models.config and the REST / gRPC client.

The client talks to stand-ins of TF Serving on 127.0.0.1 (`serving_standins`) that load
the exported SavedModels with the graph-mode loader, as the server does: a REST server
following TF Serving's documented JSON, and an in-process gRPC `PredictionService`.
The gRPC tests need `tensorflow-serving-api` (`pip install --no-deps
tensorflow-serving-api`) and fail without it. Misbehaving servers (scripted HTTP answers,
a gRPC service answering malformed tensors) check that the client refuses, within its
timeout and `max_response_bytes`, what TF Serving would not send.
"""

import base64
import http.server
import io
import json
import re
import time
import urllib.request

import numpy as np
import pytest
from google.protobuf import text_format
from PIL import Image
from serving_standins import GrpcStandIn, RestStandIn, serve_http

from keras_gans.export import export, sample_noise
from keras_gans.models.cyclegan import CycleGAN
from keras_gans.models.dcgan import DCGAN
from keras_gans.models.srgan import SRGAN
from keras_gans.serving import Client, ServingError, models_config_text, write_models_config

LATENT = 4
SHAPE = (8, 8, 1)
PROTOCOLS = ["rest", "grpc"]


def tiny_gan(**kwargs):
    return DCGAN.from_shape(SHAPE, latent_dim=LATENT, base_filters=4, **kwargs)


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    root = tmp_path_factory.mktemp("savedmodels")
    gans = {"v1": tiny_gan(), "v2": tiny_gan(), "conditional": tiny_gan(num_classes=3)}
    export(gans["v1"], root / "dcgan", include_keras=False)
    export(gans["v2"], root / "dcgan", include_keras=False)  # the latest version
    export(gans["conditional"], root / "cdcgan", include_keras=False)
    gans["cyclegan"] = CycleGAN.from_shape((8, 8, 3), filters=2, num_residual_blocks=1,
                                           d_filters=2, d_layers=1)
    export(gans["cyclegan"], root / "cyclegan", include_keras=False)
    gans["srgan"] = SRGAN(scale=2, num_blocks=1, filters=4, channels=3, hr_size=8,
                          d_filters=2, dense_units=4)
    export(gans["srgan"], root / "srgan", include_keras=False)
    bases = {name: root / name for name in ("dcgan", "cdcgan", "cyclegan", "srgan")}
    return gans, bases


@pytest.fixture(scope="module")
def servers(zoo):
    _, bases = zoo
    with RestStandIn(bases) as rest, GrpcStandIn(bases) as grpc_server:
        yield {"rest": rest.port, "grpc": grpc_server.port}


def client_for(servers, protocol, model, **kwargs):
    return Client("127.0.0.1", servers[protocol], model, protocol=protocol, **kwargs)


def z_batch(n, seed=0):
    return np.random.default_rng(seed).standard_normal((n, LATENT)).astype("float32")


# --- models.config ---


def test_write_models_config_is_what_tf_serving_parses(tmp_path):
    from tensorflow_serving.config import model_server_config_pb2

    path = write_models_config(tmp_path / "models.config", {
        "dcgan_mnist": "/models/dcgan_mnist",
        "srgan_div2k": {"base_path": "/models/srgan's div2k", "versions": [1, 3]},
    })
    config = text_format.Parse(path.read_text(), model_server_config_pb2.ModelServerConfig())
    entries = {c.name: c for c in config.model_config_list.config}
    assert sorted(entries) == ["dcgan_mnist", "srgan_div2k"]
    assert entries["dcgan_mnist"].base_path == "/models/dcgan_mnist"
    assert entries["dcgan_mnist"].model_platform == "tensorflow"
    assert not entries["dcgan_mnist"].HasField("model_version_policy")  # latest
    assert entries["srgan_div2k"].base_path == "/models/srgan's div2k"
    assert list(entries["srgan_div2k"].model_version_policy.specific.versions) == [1, 3]


@pytest.mark.parametrize("models, match", [
    ({}, "non-empty"),
    ({"bad name": "/m"}, "bad name"),
    ({"m": {"path": "/m"}}, "base_path"),
    ({"m": {"base_path": "/m", "versions": [-1]}}, "versions"),
])
def test_models_config_rejects_bad_input(models, match):
    with pytest.raises(ValueError, match=match):
        models_config_text(models)


# --- The client against both stand-ins ---


@pytest.mark.parametrize("protocol, rest_format", [("rest", "inputs"), ("rest", "instances"),
                                                   ("grpc", "inputs")])
def test_generate_equals_keras_and_picks_versions(zoo, servers, protocol, rest_format):
    gans, _ = zoo
    z = z_batch(3)
    latest = client_for(servers, protocol, "dcgan", rest_format=rest_format)
    np.testing.assert_allclose(latest.generate(z), gans["v2"].generate(z=z), atol=1e-5)
    first = client_for(servers, protocol, "dcgan", version=1, rest_format=rest_format)
    np.testing.assert_allclose(first.generate(z), gans["v1"].generate(z=z), atol=1e-5)
    pictures = latest.generate(z, as_pil=True)
    assert [p.mode for p in pictures] == ["L"] * 3 and pictures[0].size == SHAPE[:2]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_sample_and_png_need_no_client_noise(zoo, servers, protocol):
    gans, _ = zoo
    client = client_for(servers, protocol, "dcgan")
    images = client.sample(4, seed=5)
    np.testing.assert_allclose(
        images, gans["v2"].generate(z=sample_noise(4, 5, LATENT).numpy()), atol=1e-5)
    pictures = client.sample(4, seed=5, as_pil=True)
    pngs = client.png(4, seed=5)
    assert len(pictures) == len(pngs) == 4
    for picture, png in zip(pictures, pngs):
        assert isinstance(png, bytes) and png.startswith(b"\x89PNG")
        np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(png))),
                                      np.asarray(picture))
    np.testing.assert_array_equal(np.asarray(client.png(4, seed=5, as_pil=True)[1]),
                                  np.asarray(pictures[1]))
    assert not np.allclose(client.sample(4, seed=6), images)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_conditional_model_labels(zoo, servers, protocol):
    gan = zoo[0]["conditional"]
    client = client_for(servers, protocol, "cdcgan")
    noise = sample_noise(5, 2, LATENT).numpy()
    np.testing.assert_allclose(client.sample(5, seed=2),
                               gan.generate(z=noise, labels=np.arange(5) % 3), atol=1e-5)
    np.testing.assert_allclose(client.sample(5, seed=2, labels=1),
                               gan.generate(z=noise, labels=1), atol=1e-5)
    z, labels = z_batch(2), [2, 0]
    np.testing.assert_allclose(client.generate(z, labels=labels),
                               gan.generate(z=z, labels=labels), atol=1e-5)
    with pytest.raises(ValueError, match="conditional"):
        client.generate(z)
    with pytest.raises(ServingError, match="num_classes"):  # checked by the server
        client.generate(z, labels=[0, 7])
    with pytest.raises(ValueError, match="unconditional"):
        client_for(servers, protocol, "dcgan").sample(2, labels=[0, 1])


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_translate_and_upscale_uint8_images_of_any_size(zoo, servers, protocol):
    gans, _ = zoo
    images = np.random.default_rng(3).integers(0, 256, (2, 6, 9, 3), dtype=np.uint8)
    cyclegan = client_for(servers, protocol, "cyclegan")
    for direction in ("a2b", "b2a"):
        np.testing.assert_allclose(cyclegan.translate(images / 127.5 - 1.0, direction),
                                   gans["cyclegan"].translate(images / 127.5 - 1.0, direction),
                                   atol=1e-4)
    one_picture = cyclegan.translate(Image.fromarray(images[0]), "b2a", as_pil=True)
    assert len(one_picture) == 1 and one_picture[0].size == (9, 6)

    srgan = client_for(servers, protocol, "srgan")
    upscaled = srgan.upscale(images / 127.5 - 1.0)
    assert upscaled.shape == (2, 12, 18, 3) and upscaled.dtype == np.float32
    np.testing.assert_allclose(upscaled, gans["srgan"].upscale(images / 127.5 - 1.0),
                               atol=1e-4)
    assert srgan.upscale(images[0], as_pil=True)[0].size == (18, 12)
    # The local methods' convention (issue 19): one image in, one out; uint8 in, uint8 out.
    for remote, local in ((srgan.upscale, gans["srgan"].upscale),
                          (cyclegan.translate, gans["cyclegan"].translate)):
        for given in (images, images[0], Image.fromarray(images[0])):
            got, expected = remote(given), local(np.asarray(given))
            assert got.dtype == expected.dtype == np.uint8
            assert got.shape == expected.shape
            assert np.abs(got.astype(int) - expected.astype(int)).max() <= 1


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_signatures_from_model_metadata(servers, protocol):
    signatures = client_for(servers, protocol, "dcgan").signatures()
    assert sorted(signatures) == ["png", "sample", "serving_default"]
    assert signatures["sample"]["inputs"] == {"n": (np.int32, []), "seed": (np.int64, [])}
    assert signatures["serving_default"]["outputs"]["images_uint8"] == (
        np.uint8, [-1, *SHAPE])
    assert signatures["png"]["outputs"] == {"images_bytes": (object, [-1])}


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_server_errors_are_serving_errors(servers, protocol):
    with pytest.raises(ServingError, match="nope"):
        client_for(servers, protocol, "nope").sample(1)
    with pytest.raises(ServingError, match="translate_a2b"):
        client_for(servers, protocol, "dcgan").predict({"images": np.zeros((1, 8, 8, 3))},
                                                       "translate_a2b")
    with pytest.raises(ServingError, match="9"):
        client_for(servers, protocol, "dcgan", version=9).sample(1)


def test_rest_predict_both_formats_and_b64(zoo, servers):
    gans, _ = zoo
    client = client_for(servers, "rest", "dcgan")
    z = z_batch(2)
    rows = client.predict({"z": z}, rest_format="instances")
    columns = client.predict({"z": z}, rest_format="inputs")
    for out in (rows, columns):
        assert sorted(out) == ["images", "images_uint8"]
        assert out["images"].dtype == np.float32 and out["images_uint8"].dtype == np.uint8
        np.testing.assert_allclose(out["images"], gans["v2"].generate(z=z), atol=1e-5)
    with pytest.raises(ValueError, match="row format"):
        client.predict({"n": 1, "seed": 0}, "sample", rest_format="instances")

    # What the server sends: `_bytes` outputs as {"b64": ...}, a single output unnamed.
    url = f"http://127.0.0.1:{servers['rest']}/v1/models/dcgan:predict"
    body = json.dumps({"signature_name": "png", "inputs": {"n": 2, "seed": 4}}).encode()
    request = urllib.request.Request(url, data=body, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.loads(response.read())
    assert list(answer) == ["outputs"] and len(answer["outputs"]) == 2
    decoded = [base64.b64decode(item["b64"]) for item in answer["outputs"]]
    assert decoded == client.png(2, seed=4)


def test_client_validates_arguments():
    with pytest.raises(ValueError, match="protocol"):
        Client("localhost", 1, "m", protocol="http")
    with pytest.raises(ValueError, match="model"):
        Client("localhost", 1, None)
    with pytest.raises(ValueError, match="rest_format"):
        Client("localhost", 1, "m", rest_format="rows")
    client = Client("localhost", model="m")
    assert client.port == 8501
    assert Client(model="m", protocol="grpc").port == 8500
    with pytest.raises(ValueError, match="`n`"):
        client.sample(0)


@pytest.mark.parametrize("kwargs, name", [
    ({"port": "abc"}, "port"), ({"port": "8501"}, "port"), ({"port": -1}, "port"),
    ({"port": 0}, "port"), ({"port": 70000}, "port"), ({"port": True}, "port"),
    ({"port": 8501.7}, "port"),
    ({"timeout": "x"}, "timeout"), ({"timeout": -1}, "timeout"), ({"timeout": 0}, "timeout"),
    ({"timeout": float("nan")}, "timeout"), ({"timeout": float("inf")}, "timeout"),
    ({"timeout": True}, "timeout"),
    ({"host": "evil.com/x?"}, "host"), ({"host": 5}, "host"), ({"host": ""}, "host"),
    ({"host": "http://localhost"}, "host"), ({"host": "localhost:8501"}, "host"),
    ({"host": "user@localhost"}, "host"), ({"host": "local host"}, "host"),
    ({"host": "localhost#x"}, "host"), ({"host": "localhost\n"}, "host"),
    ({"host": "[127.0.0.1]"}, "host"), ({"host": "[::1"}, "host"),
    ({"max_response_bytes": 0}, "max_response_bytes"),
    ({"max_response_bytes": 1.5}, "max_response_bytes"),
    ({"max_response_bytes": True}, "max_response_bytes"),
])
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_client_rejects_bad_connection_arguments(kwargs, name, protocol):
    arguments = {"host": "localhost", "port": 8501, "timeout": 3, **kwargs}
    with pytest.raises(ValueError, match=rf"argument `{name}`.*received: "
                                         rf"{name}={re.escape(repr(kwargs[name]))}"):
        Client(model="m", protocol=protocol, **arguments)


def test_client_accepts_host_names_and_ip_addresses():
    for host in ("localhost", "tf-serving.internal", "tf_serving", "127.0.0.1", "::1",
                 "[::1]"):
        client = Client(host, np.int64(8501), "m", timeout=np.float32(0.5))
        assert client.host == host and client.port == 8501 and client.timeout == 0.5
    # An IPv6 address goes in brackets in the URL (refused: nothing listens on port 1).
    with pytest.raises(ServingError, match=r"http://\[::1\]:1/v1/models/m/metadata"):
        Client("::1", 1, "m", timeout=2).signatures()


# --- Misbehaving servers: size, time and shape of what comes back ---


_SCALARS = {"n": {"dtype": "DT_INT32"}, "seed": {"dtype": "DT_INT64"}}
_METADATA = {"metadata": {"signature_def": {"signature_def": {
    "sample": {"inputs": _SCALARS, "outputs": {"images_uint8": {
        "dtype": "DT_UINT8", "tensor_shape": {"dim": [{"size": "-1"}, {"size": "1"}]}}}},
    "png": {"inputs": _SCALARS, "outputs": {"images_bytes": {
        "dtype": "DT_STRING", "tensor_shape": {"dim": [{"size": "-1"}]}}}},
}}}}
_GIB3 = 3 * 2**30
_NESTED = "[" * 100_000 + "]" * 100_000


class _Scripted(http.server.BaseHTTPRequestHandler):
    """Answers `/v1/models/<name>/...` as `_SCRIPTS[name]` says: (status, headers, body
    pieces, seconds between pieces); other names get `_METADATA` and `_PREDICTIONS`."""

    def log_message(self, *args):
        pass

    def _answer(self):
        name = self.path.split("/")[3].split(":")[0]
        length = int(self.headers.get("Content-Length", 0))
        self.rfile.read(length)
        default = json.dumps(_METADATA if self.command == "GET" else _PREDICTIONS.get(name))
        status, headers, pieces, pause = _SCRIPTS.get(name, (200, {}, [default.encode()], 0))
        try:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            for piece in pieces:
                self.wfile.write(piece)
                self.wfile.flush()
                time.sleep(pause)
        except OSError:  # the client hung up, as it should
            pass

    do_GET = do_POST = _answer


def _filler(count, byte=b" "):
    return [byte * 2**16] * count


_SCRIPTS = {
    # 3 GiB announced (50 MiB sent): refused from the header.
    "huge": (200, {"Content-Length": str(_GIB3)}, _filler(800), 0),
    # No Content-Length, 50 MiB until the connection closes: refused once past the cap.
    "endless": (200, {}, _filler(800), 0),
    # One byte every 0.1 s: each read is quick, the whole is not.
    "trickle": (200, {"Content-Length": "100000"}, [b" "] * 40, 0.1),
    "trickle_error": (500, {"Content-Length": "100000"}, [b"x"] * 40, 0.1),
    "huge_error": (500, {"Content-Length": str(_GIB3)}, _filler(80, b"x"), 0),
    "nested": (200, {}, [_NESTED.encode()], 0),
    "nested_error": (500, {}, [_NESTED.encode()], 0),
    "list_error": (500, {}, [b"[1]"], 0),
    "infinite_dimension": (200, {}, [json.dumps(_METADATA).replace(
        '"size": "1"', '"size": Infinity').encode()], 0),
}
_PREDICTIONS = {"out_of_range": {"outputs": [[300]]}, "not_bytes": {"outputs": [1]}}


@pytest.fixture(scope="module")
def scripted():
    with serve_http(_Scripted) as port:
        yield port


@pytest.mark.parametrize("model, kwargs, match", [
    ("huge", {}, r"answered 3,221,225,472 bytes .* max_response_bytes=268,435,456\.$"),
    ("huge", {"max_response_bytes": 2**20}, "more than max_response_bytes=1,048,576"),
    ("endless", {"max_response_bytes": 2**20},
     "answered more than max_response_bytes=1,048,576 bytes"),
    ("huge_error", {}, r"answered HTTP 500: x+ \[truncated\]$"),
])
def test_client_refuses_answers_larger_than_max_response_bytes(scripted, model, kwargs, match):
    client = Client("127.0.0.1", scripted, model, timeout=3, **kwargs)
    start = time.monotonic()
    with pytest.raises(ServingError, match=match) as info:
        client.generate(np.zeros((1, LATENT), np.float32))
    assert time.monotonic() - start < 2.0
    assert f"http://127.0.0.1:{scripted}/v1/models/{model}/metadata" in str(info.value)
    assert len(str(info.value)) < 20_000  # an error's body is cut, not read whole


@pytest.mark.parametrize("model", ["trickle", "trickle_error"])
def test_client_timeout_bounds_reading_answers_and_errors(scripted, model):
    client = Client("127.0.0.1", scripted, model, timeout=1)
    start = time.monotonic()
    with pytest.raises(ServingError, match=rf"127\.0\.0\.1:{scripted}/v1/models/{model}/"
                                           r"metadata did not answer within timeout=1\.0 s"):
        client.signatures()
    assert time.monotonic() - start < 2.0


@pytest.mark.parametrize("model, match", [
    ("nested", "/metadata answered malformed JSON: b'\\[\\[\\["),
    ("nested_error", r"/metadata answered HTTP 500: \[\[\["),
    ("list_error", r"/metadata answered HTTP 500: \[1\]"),
    ("infinite_dimension", "/metadata answered malformed signature metadata: OverflowError"),
    ("out_of_range", ":predict answered outputs that are not those.*: OverflowError"),
    ("not_bytes", ":predict answered 'images_bytes' that are not bytes"),
])
def test_client_refuses_malformed_answers_naming_the_url(scripted, model, match):
    client = Client("127.0.0.1", scripted, model, timeout=3)
    with pytest.raises(ServingError, match=match) as info:
        client.png(1) if model == "not_bytes" else client.sample(1)
    assert f"http://127.0.0.1:{scripted}/v1/models/{model}" in str(info.value)


class _MisbehavingGrpc:
    """A `PredictionService` answering by model name: "no_signatures" metadata holds
    another message; "expanding" outputs 2**45 floats from one value; "mismatch" outputs
    fewer bytes than its shape; others answer 12 floats."""

    def __init__(self):
        from concurrent import futures

        import grpc
        from tensorflow.core.framework import tensor_pb2
        from tensorflow.core.protobuf import meta_graph_pb2
        from tensorflow_serving.apis import (
            get_model_metadata_pb2,
            predict_pb2,
            prediction_service_pb2_grpc,
        )

        signature = meta_graph_pb2.SignatureDef()
        signature.inputs["n"].dtype = 3  # DT_INT32
        signature.inputs["seed"].dtype = 9  # DT_INT64
        signature.outputs["images"].dtype = 1  # DT_FLOAT

        def tensor(shape, **fields):
            proto = tensor_pb2.TensorProto(dtype=1, **fields)
            proto.tensor_shape.dim.extend(
                [proto.tensor_shape.Dim(size=size) for size in shape])
            return proto

        class Servicer(prediction_service_pb2_grpc.PredictionServiceServicer):
            def GetModelMetadata(self, request, context):
                response = get_model_metadata_pb2.GetModelMetadataResponse()
                if request.model_spec.name == "no_signatures":
                    response.metadata["signature_def"].Pack(response.model_spec)
                else:
                    signatures = get_model_metadata_pb2.SignatureDefMap()
                    signatures.signature_def["sample"].CopyFrom(signature)
                    response.metadata["signature_def"].Pack(signatures)
                return response

            def Predict(self, request, context):
                outputs = {"expanding": tensor([2**45], float_val=[0.0]),
                           "mismatch": tensor([1, 4], tensor_content=b"\0" * 8)}
                response = predict_pb2.PredictResponse()
                response.outputs["images"].CopyFrom(outputs.get(
                    request.model_spec.name, tensor([12], tensor_content=b"\0" * 48)))
                return response

        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
            Servicer(), self.server)
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()

    def close(self):
        self.server.stop(grace=None)


@pytest.fixture(scope="module")
def misbehaving_grpc():
    server = _MisbehavingGrpc()
    yield server.port
    server.close()


@pytest.mark.parametrize("model, kwargs, match", [
    ("no_signatures", {}, r"\(metadata\) answered metadata without a SignatureDefMap"),
    ("expanding", {}, r"'images' of shape \[35184372088832\] and dtype float32: more than"),
    ("mismatch", {}, "answered a malformed tensor 'images': ValueError"),
    ("good", {"max_response_bytes": 40}, "RESOURCE_EXHAUSTED.*40"),
])
def test_grpc_client_refuses_malformed_and_oversized_answers(misbehaving_grpc, model,
                                                             kwargs, match):
    client = Client("127.0.0.1", misbehaving_grpc, model, protocol="grpc", timeout=3,
                    **kwargs)
    with pytest.raises(ServingError, match=match) as info:
        client.predict({"n": 1, "seed": 0}, "sample")
    assert f"127.0.0.1:{misbehaving_grpc}" in str(info.value)
    assert Client("127.0.0.1", misbehaving_grpc, "good", protocol="grpc").predict(
        {"n": 1, "seed": 0}, "sample")["images"].shape == (12,)
