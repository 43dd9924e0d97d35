"""`keras_gans.serving`: models.config and the REST / gRPC client.

The client talks to stand-ins of TF Serving on 127.0.0.1 (`serving_standins`) that load
the exported SavedModels with the graph-mode loader, as the server does: a REST server
following TF Serving's documented JSON, and an in-process gRPC `PredictionService`.
The gRPC tests need `tensorflow-serving-api` (`pip install --no-deps
tensorflow-serving-api`) and fail without it.
"""

import base64
import io
import json
import urllib.request

import numpy as np
import pytest
from google.protobuf import text_format
from PIL import Image
from serving_standins import GrpcStandIn, RestStandIn

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
