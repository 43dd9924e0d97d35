"""Every shipped zoo entry: sha256-verified load, fixed-seed fingerprint, quality floor.

Parametrised over the manifest, so a new entry is tested as soon as its recipe
registers it.
"""

import os
import pathlib

import numpy as np
import pytest

import keras_gans
from keras_gans import metrics, registry
from keras_gans.models.base import AdversarialModel

ENTRIES = registry.list_models()
GENERATIVE = [n for n in ENTRIES if "quality_floor" in registry.model_info(n)
              and registry.model_info(n)["variant"] not in ("CycleGAN", "SRGAN", "Inpainter")]
TRANSLATION = [n for n in ENTRIES if registry.model_info(n)["variant"] == "CycleGAN"]
SUPER_RESOLUTION = [n for n in ENTRIES if registry.model_info(n)["variant"] == "SRGAN"]
INPAINTING = [n for n in ENTRIES if registry.model_info(n)["variant"] == "Inpainter"]
ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_the_zoo_ships_its_core_entries():
    for name in ("dcgan_mnist", "mnist_classifier", "fashion_mnist_classifier"):
        assert name in ENTRIES


@pytest.mark.parametrize("name", ENTRIES)
def test_entry_loads_verified_and_matches_its_fingerprint(name):
    info = registry.model_info(name)
    version = info["versions"][str(info["latest"])]
    for key in ("description", "variant", "data", "recipe", "license"):
        assert info[key]
    model = keras_gans.load(name)
    fingerprint = version["fingerprint"]
    if isinstance(model, AdversarialModel):  # the model declares its fingerprint
        kind, x = model.fingerprint()
        assert kind == fingerprint["call"]
        assert all(getattr(model, name) is not None for name in model.optimizer_networks)
    elif hasattr(model, "upscale"):
        x = model.upscale(np.linspace(-1, 1, 2 * 8 * 8 * 3, dtype="float32").reshape(2, 8, 8, 3))
        assert model.d_optimizer is not None and model.g_optimizer is not None
    elif hasattr(model, "translate"):
        x = model.translate(
            np.linspace(-1, 1, 4 * 28 * 28, dtype="float32").reshape(4, 28, 28, 1), "a2b")
        assert model.d_optimizer is not None and model.g_optimizer is not None
    elif hasattr(model, "generate"):
        kwargs = {"labels": np.arange(4) % model.num_classes} if model.num_classes else {}
        x = model.generate(4, seed=0, **kwargs)
        assert model.d_optimizer is not None  # full model: fit can continue
    else:
        x = model(np.linspace(-1, 1, 4 * 28 * 28, dtype="float32").reshape(4, 28, 28, 1),
                  training=False).numpy()
    x = np.asarray(x, dtype="float64")
    assert x.mean() == pytest.approx(fingerprint["mean"], abs=1e-4)
    assert x.std() == pytest.approx(fingerprint["std"], abs=1e-4)
    np.testing.assert_allclose(x.reshape(-1)[:8], fingerprint["first"], atol=1e-4)


@pytest.mark.parametrize("name", GENERATIVE)
def test_quality_floor(name):
    floor = registry.model_info(name)["quality_floor"]
    gan = keras_gans.load(name, compile=False)
    classifier = keras_gans.load(floor["classifier"], compile=False)
    n = floor["n"]
    labels = (np.arange(n) % gan.num_classes) if gan.num_classes else None
    probs = classifier.predict(gan.generate(n, seed=5, labels=labels), batch_size=500,
                               verbose=0)
    score, _ = metrics.inception_score(probs, num_splits=1)
    assert score >= floor["classifier_score_min"], (score, floor)
    coverage = metrics.class_coverage(probs)
    assert coverage["missing_classes"] <= floor.get("classes_missing_max", 0)
    if labels is not None:
        assert np.mean(probs.argmax(1) == labels) >= floor.get("label_accuracy_min", 0.5)


def test_the_zoo_ships_translation_and_super_resolution_entries():
    assert "cyclegan_sneaker_boot" in TRANSLATION
    assert "srgan_x4_wallpapers" in SUPER_RESOLUTION


@pytest.mark.parametrize("name", SUPER_RESOLUTION)
def test_super_resolution_quality_floor(name):
    """On crops of held-out photos the model keeps its measured PSNR / SSIM (Y channel)."""
    floor = registry.model_info(name)["quality_floor"]
    gan = keras_gans.load(name, compile=False)
    with np.load(ROOT / floor["heldout_images"]) as data:
        low, high = data["low"], data["high"]
    assert len(low) == floor["n"] and high.shape[1] == low.shape[1] * gan.scale
    report = gan.evaluate_quality(low, high)
    assert report["model"]["psnr_y"] >= floor["psnr_y_min"], report
    assert report["model"]["ssim_y"] >= floor["ssim_y_min"], report


@pytest.mark.parametrize("name", SUPER_RESOLUTION)
def test_super_resolution_beats_bicubic_on_photos_of_another_kind(name):
    """Photos unlike the training set (scikit-image's portrait, coffee cup and microscopy
    slide; never trained or tuned on), 4x downscaled as the recipe degrades its photos:
    the model's centre crops are closer to the originals than bicubic's (Y-PSNR)."""
    import skimage.data
    import tensorflow as tf

    gan = keras_gans.load(name, compile=False)
    size = 192
    highs = []
    for photo in ("astronaut", "coffee", "immunohistochemistry"):
        image = getattr(skimage.data, photo)()
        top, left = (image.shape[0] - size) // 2, (image.shape[1] - size) // 2
        highs.append(image[top:top + size, left:left + size])
    high = np.stack(highs)
    small = tf.image.resize(high.astype("float32"), (size // gan.scale,) * 2, "bicubic",
                            antialias=True)
    low = np.clip(np.round(small.numpy()), 0, 255).astype("uint8")
    report = gan.evaluate_quality(low, high)
    assert report["model"]["psnr_y"] > report["bicubic"]["psnr_y"] + 0.3, report


@pytest.mark.parametrize("name", TRANSLATION)
def test_translation_quality_floor(name):
    """Held-out sneakers become boots (and back) by the zoo classifier's judgement, and
    the cycle returns close to the input."""
    floor = registry.model_info(name)["quality_floor"]
    gan = keras_gans.load(name, compile=False)
    classifier = keras_gans.load(floor["classifier"], compile=False)
    with np.load(ROOT / floor["heldout_images"]) as data:
        a, b = data["a"], data["b"]
    assert len(a) == len(b) == floor["n_per_domain"]
    a2b, b2a = gan.translate(a, "a2b"), gan.translate(b, "b2a")
    assert a2b.dtype == np.uint8 and a2b.shape == a.shape  # uint8 in, uint8 out

    def judged(images, target):
        return np.mean(classifier.predict(keras_gans.utils.to_float(images), batch_size=500,
                                          verbose=0).argmax(1) == target)

    assert judged(a2b, 9) >= floor["judged_target_a2b_min"]
    assert judged(b2a, 7) >= floor["judged_target_b2a_min"]
    assert judged(a, 9) < floor["judged_target_a2b_min"]  # the untranslated inputs are not
    x_a = keras_gans.utils.to_float(a)
    cycle = np.mean(np.abs(x_a - gan.translate(gan.translate(x_a, "a2b"), "b2a")))
    assert cycle <= floor["cycle_error_max"]


@pytest.mark.parametrize("name", INPAINTING)
def test_inpainting_quality_floor(name):
    """On held-out images with the recipe's centre hole the model keeps its PSNR inside
    the hole, the known pixels exactly, and the classifier still recognises the item."""
    floor = registry.model_info(name)["quality_floor"]
    model = keras_gans.load(name, compile=False)
    classifier = keras_gans.load(floor["classifier"], compile=False)
    with np.load(ROOT / floor["heldout_images"]) as data:
        images, labels = data["images"], data["labels"]
    assert len(images) == floor["n"]
    start, stop = floor["hole"]
    masks = np.zeros(images.shape[:3], bool)
    masks[:, start:stop, start:stop] = True
    filled = model.inpaint(images, masks)
    assert filled.dtype == np.uint8 and filled.shape == images.shape
    np.testing.assert_array_equal(filled[~masks], images[~masks])
    error = (filled[masks].astype(np.float64) - images[masks]).reshape(len(images), -1)
    psnr = 10 * np.log10(255.0 ** 2 / np.maximum(np.mean(error ** 2, axis=1), 1e-10))
    assert psnr.mean() >= floor["psnr_hole_min"], (psnr.mean(), floor)
    probs = classifier.predict(keras_gans.utils.to_float(filled), batch_size=500, verbose=0)
    assert np.mean(probs.argmax(1) == labels) >= floor["classifier_accuracy_min"]


def test_the_super_resolution_recipe_holds_out_the_same_photos_whatever_is_installed(
        tmp_path, monkeypatch):
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "_recipe", pathlib.Path(__file__).resolve().parents[1] / "zoo" / "_recipe.py")
    recipe = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(recipe)
    from PIL import Image

    photos = tmp_path / "backgrounds"
    names = ["Aqua", "Blinds", "Storm", "Storm_3840x2160", "extra_package_photo", "Zebra"]
    for i, name in enumerate(names):
        folder = photos / ("mate" if i % 2 else "")
        folder.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (40, 20), (10 * i, 0, 0)).save(folder / f"{name}.jpg")
    monkeypatch.setattr(recipe, "PHOTOS", str(photos))
    train, test = recipe.photo_split(str(tmp_path / "run"), ("Aqua", "Storm"), max_side=16)
    assert [os.path.basename(p) for p in test] == ["Aqua.png", "Storm.png"]
    # Another package's photo trains; the extra-resolution copy of a held-out one does not.
    assert sorted(os.path.basename(p) for p in train) == [
        "Blinds.png", "Zebra.png", "extra_package_photo.png"]
    assert Image.open(test[0]).size == (16, 8)
    with pytest.raises(SystemExit, match=r"\['Garden'\] are not under .*apt-get install"):
        recipe.photo_split(str(tmp_path / "run2"), ("Aqua", "Garden"), max_side=16)
