import keras
import numpy as np
import pytest

from keras_gans.callbacks import Evaluate
from keras_gans.models.dcgan import DCGAN


def _setup():
    gan = DCGAN.from_shape((8, 8, 1), latent_dim=4, base_filters=4, seed=0)
    gan.compile()
    real = np.random.default_rng(0).uniform(-1, 1, (64, 8, 8, 1)).astype("float32")
    features = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(),
                                 keras.layers.Dense(6)])
    classifier = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(),
                                   keras.layers.Dense(3, activation="softmax")])
    return gan, real, features, classifier


def test_metrics_are_logged_and_monitorable():
    gan, real, features, classifier = _setup()
    evaluate = Evaluate(["fid", "kid", "is", "coverage"], n_samples=40, real_data=real,
                        feature_extractor=features, classifier=classifier)
    stop = keras.callbacks.EarlyStopping(monitor="val_fid", mode="min", patience=5)
    history = gan.fit(real, batch_size=16, epochs=2, verbose=0, callbacks=[evaluate, stop])
    for key in ("val_fid", "val_kid", "val_is", "val_coverage", "val_missing_classes"):
        assert len(history.history[key]) == 2 and np.all(np.isfinite(history.history[key]))
    assert history.history["val_fid"][0] > 0
    assert 1.0 <= history.history["val_is"][0] <= 3.0
    assert 0.0 <= history.history["val_coverage"][0] <= 1.0


def test_fid_of_real_against_itself_is_zero_through_the_callback():
    """The callback's maths: when the 'generator' reproduces the real data, FID ~ 0."""
    gan, real, features, _ = _setup()
    evaluate = Evaluate("fid", n_samples=64, real_data=real, feature_extractor=features)
    evaluate.set_model(gan)
    gan.generate = lambda z: real  # a perfect generator of exactly the real set
    assert abs(evaluate.measure()["val_fid"]) < 1e-6


@pytest.mark.parametrize("kwargs, match", [
    ({"metrics": ["fid2"]}, "metrics.*fid2"),
    ({"metrics": ["fid"]}, "feature_extractor"),
    ({"metrics": ["is"]}, "classifier=None"),
    ({"metrics": ["is"], "classifier": "c", "every_n_epochs": 0}, "every_n_epochs=0"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Evaluate(**kwargs)
