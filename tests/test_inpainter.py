"""Inpainter: train step, exact resume, the `inpaint` contract, masks, export, serving, CLI.

(Under MirroredStrategy: tests/test_distribute.py.)

Tiny networks on 16x16x1 images so the whole file stays well under a minute.
"""

import json
import os

import keras
import numpy as np
import pytest
from PIL import Image
from serving_standins import GrpcStandIn, RestStandIn, SessionServable

from keras_gans import data
from keras_gans.cli import main as cli_main
from keras_gans.export import export, read_signatures
from keras_gans.models.inpainter import Inpainter
from keras_gans.serving import Client

SHAPE = (16, 16, 1)


def tiny(seed=0, **kwargs):
    keras.utils.set_random_seed(seed)
    model = Inpainter.from_shape(SHAPE, filters=4, depth=2, d_filters=4, d_layers=1,
                                 seed=seed, **kwargs)
    model.compile()
    return model


def batch(n=8, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.uniform(-1, 1, (n, *SHAPE)).astype("float32")
    masks = data.inpainting_masks(n, 16, 16, ("box", "free_form"), seed=seed)
    return images, masks


def state(model):
    return ([w.numpy() for w in model.weights]
            + [v.numpy() for v in model.d_optimizer.variables]
            + [v.numpy() for v in model.g_optimizer.variables])


@pytest.fixture(scope="module")
def training_run(tmp_path_factory):
    """A model trained two steps (with its weights before), saved, and exported."""
    model = tiny()
    before = model.generator.get_weights(), model.discriminator.get_weights()
    images, masks = batch(16)
    history = model.fit(images, masks, batch_size=8, epochs=1, shuffle=False, verbose=0)
    root = tmp_path_factory.mktemp("inpainter")
    model.save(root / "model.keras")
    export(model, root / "savedmodel", version=1, include_keras=False)
    return model, root, before, history


@pytest.fixture(scope="module")
def trained(training_run):
    return training_run[:2]


# --- Training ---


def test_train_step_updates_both_networks_and_logs_losses(training_run):
    model, _, (before_g, before_d), history = training_run
    assert set(history.history) == {"d_loss", "g_loss", "hole_l1", "g_adversarial"}
    assert all(np.isfinite(v[0]) for v in history.history.values())
    for before, net in ((before_g, model.generator), (before_d, model.discriminator)):
        assert any(not np.allclose(a, b) for a, b in zip(before, net.get_weights())), net.name
    assert int(model.noise_step.numpy()) == 2
    assert int(model.d_optimizer.iterations.numpy()) == 2 == int(
        model.g_optimizer.iterations.numpy())


def test_save_load_resumes_exactly_with_both_optimizers(tmp_path):
    images, masks = batch(24, seed=1)

    def fit(model, start, stop):
        model.fit(images[start:stop], masks[start:stop], batch_size=8, epochs=1,
                  shuffle=False, verbose=0)

    straight, first = tiny(seed=3), tiny(seed=3)  # the same initial weights
    fit(straight, 0, 24)
    fit(first, 0, 16)
    first.save(tmp_path / "mid.keras")
    resumed = keras.models.load_model(tmp_path / "mid.keras", safe_mode=True)
    assert (resumed.model_options(), resumed.seed) == (first.model_options(), first.seed)
    assert int(resumed.g_optimizer.iterations.numpy()) == 2
    fit(resumed, 16, 24)
    got, expected = state(resumed), state(straight)
    assert len(got) == len(expected)
    for i, (a, b) in enumerate(zip(got, expected)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6, err_msg=f"state #{i}")
    assert any(not np.allclose(a, b) for a, b in zip(got, state(first)))


def test_options_are_checked_and_saved_in_the_config():
    with pytest.raises(ValueError, match="adversarial_loss"):
        tiny(adversarial_loss="wasserstein")
    with pytest.raises(ValueError, match="hole_weight=-1"):
        tiny(hole_weight=-1)
    with pytest.raises(ValueError, match="multiples of 2\\*\\*depth=4"):
        Inpainter.from_shape((18, 16, 1))
    with pytest.raises(ValueError, match="does not take `loss`"):
        tiny().compile(loss="mse")
    model = tiny(hole_weight=3.0, adversarial_loss="hinge")
    clone = Inpainter.from_config(model.get_config())
    assert (clone.hole_weight, clone.adversarial_loss, clone.seed) == (3.0, "hinge", 0)


# --- inpaint() ---


def test_inpaint_keeps_dtype_shape_and_every_known_pixel(trained):
    model, _ = trained
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (3, 13, 18, 1), dtype=np.uint8)  # not multiples of 4
    masks = rng.random((3, 13, 18)) < 0.3
    out = model.inpaint(images, masks)
    assert out.dtype == np.uint8 and out.shape == images.shape
    np.testing.assert_array_equal(out[~masks], images[~masks])
    assert not np.array_equal(out[masks], images[masks])
    # One float image (H, W, C): float out, same values as the batch's first (in [-1, 1]).
    floats = images[0].astype("float64") / 127.5 - 1.0
    floats[masks[0]] = np.nan  # never read under the mask
    single = model.inpaint(floats, masks[0])
    assert single.dtype == np.float64 and single.shape == (13, 18, 1)
    np.testing.assert_array_equal(single[~masks[0]], floats[~masks[0]])
    np.testing.assert_allclose(single[masks[0]], out[0][masks[0]] / 127.5 - 1.0, atol=0.01)
    # Nothing missing: the input comes back, as a copy.
    none = np.zeros((13, 18), bool)
    same = model.inpaint(images[1], none)
    np.testing.assert_array_equal(same, images[1])
    assert same is not images[1]


@pytest.mark.parametrize("images, masks, error, match", [
    (np.zeros((16, 16, 1), np.uint8), np.zeros((16, 15), bool), ValueError,
     r"argument `masks`.*\(16, 16\), received shape \(16, 15\)"),
    (np.zeros((16, 16, 1), np.uint8), np.zeros((16, 16), np.uint8), TypeError,
     r"argument `masks`. Expected a bool.*uint8"),
    (np.zeros((16, 16, 1), np.int32), np.zeros((16, 16), bool), TypeError,
     r"argument `images`.*int32"),
    (np.zeros((16, 16, 3), np.uint8), np.zeros((16, 16), bool), ValueError,
     r"argument `images`.*\(16, 16, 3\)"),
    (np.full((16, 16, 1), np.nan, np.float32), np.eye(16, dtype=bool), ValueError,
     r"argument `images`: 240 NaN"),
    (np.full((16, 16, 1), 2.0, np.float32), np.eye(16, dtype=bool), ValueError,
     r"in \[-1, 1\], received values in \[2, 2\]"),
    (np.zeros((2, 16, 16, 1), np.uint8), np.stack([np.eye(16, dtype=bool),
                                                    np.ones((16, 16), bool)]), ValueError,
     r"argument `masks`: it marks every pixel of images \[1\] missing"),
    (np.zeros((3, 3, 1), np.uint8), np.eye(3, dtype=bool), ValueError,
     r"at least 4.*\(3, 3\)"),
])
def test_inpaint_bad_inputs_name_the_argument(trained, images, masks, error, match):
    with pytest.raises(error, match=match):
        trained[0].inpaint(images, masks)


# --- Masks ---


def test_inpainting_pairs_are_reproducible_and_valid():
    x = np.random.default_rng(0).integers(0, 256, (32, 16, 16), dtype=np.uint8)

    for kind in ("box", "free_form", ("box", "free_form")):
        first = data.inpainting_masks(32, 16, 16, kind, seed=0)
        assert first.dtype == bool and first.shape == (32, 16, 16)
        np.testing.assert_array_equal(first, data.inpainting_masks(32, 16, 16, kind, seed=0))
        assert not np.array_equal(first, data.inpainting_masks(32, 16, 16, kind, seed=1))
        cover = first.mean(axis=(1, 2))
        assert cover.min() > 0 and cover.max() < 0.9, (kind, cover)
    boxes = data.inpainting_masks(64, 16, 16, "box", seed=0, box_size=(0.25, 0.5))
    rows, cols = boxes.any(axis=2).sum(1), boxes.any(axis=1).sum(1)
    assert rows.min() >= 4 and rows.max() <= 8 and cols.min() >= 4 and cols.max() <= 8
    np.testing.assert_array_equal(boxes.sum((1, 2)), rows * cols)  # rectangles
    # The dataset's batches carry those masks, from (seed, batch index) alone.
    kind = ("box", "free_form")
    pairs = list(data.inpainting_pairs(x, masks=kind, batch_size=8, seed=5,
                                       shuffle=False).as_numpy_iterator())
    assert len(pairs) == 4 and pairs[0][0].shape == (8, 16, 16, 1)
    np.testing.assert_array_equal(pairs[0][1], data.inpainting_masks(8, 16, 16, kind, seed=5))
    again = list(data.inpainting_pairs(x, masks=kind, batch_size=8, seed=5,
                                       shuffle=False).as_numpy_iterator())
    for (_, a), (_, b) in zip(pairs, again):
        np.testing.assert_array_equal(a, b)
    ds = data.inpainting_pairs(x, batch_size=8, seed=0,
                               masks=lambda seed, b, h, w: np.eye(16, dtype=bool)[None]
                               .repeat(8, 0))
    images, masks = next(iter(ds))
    assert images.shape == (8, 16, 16, 1) and np.array_equal(masks[3], np.eye(16, dtype=bool))
    with pytest.raises(ValueError, match="argument `masks`.*'circles'"):
        data.inpainting_pairs(x, masks="circles")
    with pytest.raises(ValueError, match="argument `box_size`"):
        data.inpainting_pairs(x, box_size=(0.5, 1.0))


# --- Export, serving ---


def test_inpaint_signature_in_the_graph_mode_loader(trained):
    model, root = trained
    path = str(root / "savedmodel" / "1")
    signature = read_signatures(path)["inpaint"]
    assert signature["inputs"] == {
        "images": {"dtype": "uint8", "shape": [-1, -1, -1, 1]},
        "masks": {"dtype": "uint8", "shape": [-1, -1, -1]}}
    assert signature["outputs"] == {"images_uint8": {"dtype": "uint8",
                                                     "shape": [-1, -1, -1, 1]}}
    assert "serving_default" in read_signatures(path)
    servable = SessionServable(path)  # tf.compat.v1 loader in a Session, as TF Serving
    try:
        rng = np.random.default_rng(1)
        images = rng.integers(0, 256, (2, 11, 21, 1), dtype=np.uint8)
        masks = rng.random((2, 11, 21)) < 0.4
        out = servable.run("inpaint", {"images": images, "masks": masks.astype(np.uint8)})
        np.testing.assert_array_equal(out["images_uint8"], model.inpaint(images, masks))
    finally:
        servable.close()


@pytest.mark.parametrize("protocol", ["rest", "grpc"])
def test_client_inpaint_over_rest_and_grpc(trained, protocol):
    model, root = trained
    rng = np.random.default_rng(2)
    images = rng.integers(0, 256, (2, 9, 14, 1), dtype=np.uint8)
    masks = rng.random((2, 9, 14)) < 0.3
    stand_in = RestStandIn if protocol == "rest" else GrpcStandIn
    with stand_in({"inpainter": root / "savedmodel"}) as server:
        client = Client("127.0.0.1", server.port, "inpainter", protocol=protocol)
        out = client.inpaint(images, masks)
        np.testing.assert_array_equal(out, model.inpaint(images, masks))
        one = client.inpaint(images[0], masks[0].astype(np.uint8), as_pil=True)[0]
        np.testing.assert_array_equal(np.asarray(one), out[0][..., 0])
        with pytest.raises(ValueError, match="argument `masks`"):
            client.inpaint(images, masks[:, :5])
        client.close()


# --- CLI ---


def test_cli_inpaint_files_and_folders_with_png_masks(trained, tmp_path, capsys):
    _, root = trained
    rng = np.random.default_rng(3)
    inputs = tmp_path / "in"
    (inputs / "sub").mkdir(parents=True)
    pictures = {"a.png": rng.integers(0, 256, (13, 18), dtype=np.uint8),
                "sub/b.png": rng.integers(0, 256, (13, 18), dtype=np.uint8)}
    for name, picture in pictures.items():
        Image.fromarray(picture).save(inputs / name)
    hole = np.zeros((13, 18), bool)
    hole[3:9, 4:12] = True
    Image.fromarray(hole.astype(np.uint8) * 255).save(tmp_path / "mask.png")
    model_path = str(root / "model.keras")
    out = tmp_path / "out"
    assert cli_main(["inpaint", model_path, str(inputs), str(tmp_path / "mask.png"),
                     str(out)]) == 0
    for name, picture in pictures.items():
        filled = np.asarray(Image.open(out / name))
        assert filled.shape == picture.shape
        np.testing.assert_array_equal(filled[~hole], picture[~hole])
        assert not np.array_equal(filled[hole], picture[hole])
    # One file; a mask of another size is refused, naming both files.
    assert cli_main(["inpaint", model_path, str(inputs / "a.png"),
                     str(tmp_path / "mask.png"), str(tmp_path / "one.png")]) == 0
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "one.png")),
                                  np.asarray(Image.open(out / "a.png")))
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "small.png")
    capsys.readouterr()
    assert cli_main(["inpaint", model_path, str(inputs / "a.png"), str(tmp_path / "small.png"),
                     str(tmp_path / "two.png")]) == 2
    assert "small.png" in capsys.readouterr().err
    assert not (tmp_path / "two.png").exists()


def test_cli_train_inpainter_resumably(tmp_path, capsys):
    folder = tmp_path / "data"
    folder.mkdir()
    rng = np.random.default_rng(4)
    for i in range(16):
        Image.fromarray(rng.integers(0, 256, (16, 16), dtype=np.uint8)).save(folder / f"{i}.png")
    run = tmp_path / "run"
    argv = ["train", "inpainter", str(folder), "--out", str(run), "--epochs", "1",
            "--batch-size", "8", "--base-filters", "4", "--masks", "box", "--samples", "4",
            "--verbose", "0"]
    assert cli_main(argv) == 0
    model = keras.models.load_model(run / "model.keras", safe_mode=True)
    assert isinstance(model, Inpainter) and int(model.g_optimizer.iterations.numpy()) == 2
    assert json.loads((run / "args.json").read_text())["arguments"]["masks"] == "box"
    assert any(name.startswith("events") for _, _, names in os.walk(run / "logs" / "train")
               for name in names)
    capsys.readouterr()
    assert cli_main(["train", "dcgan", str(folder), "--out", str(tmp_path / "r2"),
                     "--masks", "box"]) == 2
    assert "--masks applies to inpainter" in capsys.readouterr().err
