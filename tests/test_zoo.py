"""Every shipped zoo entry: sha256-verified load, fixed-seed fingerprint, quality floor.

Parametrised over the manifest, so a new entry is tested as soon as its recipe
registers it.
"""

import numpy as np
import pytest

import keras_gans
from keras_gans import metrics, registry

ENTRIES = registry.list_models()
GENERATIVE = [n for n in ENTRIES if "quality_floor" in registry.model_info(n)]


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
    if hasattr(model, "generate"):
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
