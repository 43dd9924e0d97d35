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


def test_time_to_quality_records_rows_and_keeps_the_best_model(tmp_path):
    from keras_gans.callbacks import TimeToQuality

    gan, real, features, classifier = _setup()
    evaluate = Evaluate(["fid", "is"], n_samples=32, real_data=real,
                        feature_extractor=features, classifier=classifier)
    record = TimeToQuality(tmp_path / "q.csv", monitor="val_fid", mode="min",
                           best_path=tmp_path / "best.keras")
    history = gan.fit(real, batch_size=16, epochs=3, verbose=0, callbacks=[evaluate, record])
    rows = record.rows()
    assert [int(r["step"]) for r in rows] == [4, 8, 12]
    assert all(r["minutes"] >= 0 for r in rows)
    assert rows[-1]["minutes"] >= rows[0]["minutes"]
    np.testing.assert_allclose([r["val_fid"] for r in rows], history.history["val_fid"],
                               rtol=1e-6)
    best_step = 4 * (1 + int(np.argmin(history.history["val_fid"])))
    best = keras.models.load_model(tmp_path / "best.keras")
    assert int(best.optimizer.iterations) == best_step
    assert record.best() == pytest.approx(min(history.history["val_fid"]))

    # A resumed run continues the minutes and only replaces the best on improvement.
    again = TimeToQuality(tmp_path / "q.csv", monitor="val_fid", best_path=tmp_path / "b2.keras")
    again.set_model(gan)
    again.on_train_begin()
    again.on_epoch_end(3, {"val_fid": record.best() + 1.0})
    assert not (tmp_path / "b2.keras").exists()
    assert len(again.rows()) == 4 and again.rows()[-1]["minutes"] >= rows[-1]["minutes"]


def test_time_to_quality_resumes_from_the_last_epoch_not_the_last_measurement(
        tmp_path, monkeypatch):
    import time

    from keras_gans.callbacks import TimeToQuality

    clock = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    gan = _setup()[0]
    record = TimeToQuality(tmp_path / "q.csv", monitor="val_fid")
    record.set_model(gan)
    record.on_train_begin()
    clock[0] += 60
    record.on_epoch_end(0, {"val_fid": 5.0})      # measured at 1 minute
    clock[0] += 120
    record.on_epoch_end(1, {"d_loss": 0.7})       # 3 minutes, no measurement
    # Interrupted here. The resumed run starts counting at 3 minutes, not 1.
    again = TimeToQuality(tmp_path / "q.csv", monitor="val_fid")
    again.set_model(gan)
    clock[0] += 500                               # time while nothing ran
    again.on_train_begin()
    clock[0] += 60
    again.on_epoch_end(2, {"val_fid": 4.0})
    assert [r["minutes"] for r in again.rows()] == [1.0, 4.0]
    # A damaged sidecar falls back to the record's last row.
    (tmp_path / "q.csv.minutes").write_text("not a number")
    third = TimeToQuality(tmp_path / "q.csv", monitor="val_fid")
    third.set_model(gan)
    third.on_train_begin()
    assert third._offset == 4.0


def test_time_to_quality_bad_arguments(tmp_path):
    from keras_gans.callbacks import TimeToQuality

    with pytest.raises(ValueError, match="mode='up'"):
        TimeToQuality(tmp_path / "q.csv", mode="up")
    with pytest.raises(ValueError, match="best_path"):
        TimeToQuality(tmp_path / "q.csv", best_path=tmp_path / "best.h5")
