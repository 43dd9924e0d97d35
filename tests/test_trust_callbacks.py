"""Trust, callbacks: bad arguments are refused at construction naming the argument and
what was received, and no callback replaces a file it did not write (checked when
training begins, before any step). Audit findings F-3, F-4, F-5, F-24, F-25."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import keras_gans
from keras_gans import callbacks, utils

X = np.random.default_rng(0).uniform(-1, 1, (8, 8, 8, 1)).astype("float32")


def _gan(seed=0):
    gan = keras_gans.DCGAN.from_shape((8, 8, 1), latent_dim=4, base_filters=4, seed=seed)
    gan.compile()
    return gan


@pytest.fixture(scope="module")
def gan():
    return _gan()


def _fit(model, *cbs, epochs=1):
    return model.fit(X, batch_size=4, epochs=epochs, verbose=0, callbacks=list(cbs))


def _step(model):
    return int(model.optimizer.iterations.numpy())


def _features():
    return keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(),
                             keras.layers.Dense(3)])


def _user_png(path):
    Image.fromarray(np.full((4, 4), 7, np.uint8)).save(path)
    return path.read_bytes()


# --- F-3: SampleGrid never replaces a file it did not write ---


def test_sample_grid_refuses_a_users_file_before_training(gan, tmp_path):
    folder = tmp_path / "samples"
    folder.mkdir()
    before = _user_png(folder / "epoch_0001.png")
    step = _step(gan)
    with pytest.raises(FileExistsError, match=r"`directory`.*'epoch_0001\.png'.*directory="):
        _fit(gan, callbacks.SampleGrid(folder, n=4))
    assert (folder / "epoch_0001.png").read_bytes() == before
    assert _step(gan) == step  # refused when training began, not after an epoch
    # A fixed name ("the latest grid") may rewrite its own file, not a user's.
    before = _user_png(folder / "grid.png")
    with pytest.raises(FileExistsError, match=r"'grid\.png'"):
        _fit(gan, callbacks.SampleGrid(folder, n=4, filename="grid.png"))
    assert (folder / "grid.png").read_bytes() == before
    latest = callbacks.SampleGrid(tmp_path / "latest", n=4, filename="grid.png")
    _fit(gan, latest, epochs=2)
    assert latest.written == [str(tmp_path / "latest" / "grid.png")] * 2


def test_sample_grid_replaces_its_own_grids_and_a_runs(gan, tmp_path):
    folder = tmp_path / "samples"
    _fit(gan, callbacks.SampleGrid(folder, n=4))
    assert utils.read_provenance(folder / "epoch_0001.png")["preview"] == "samples"
    # A resumed run (a new callback, another process) writes its epochs' grids again.
    resumed = callbacks.SampleGrid(folder, n=4)
    _fit(gan, resumed)
    assert resumed.written == [str(folder / "epoch_0001.png")]
    # The samples/ folder of a `training.train` run holds the run's own grids.
    run_samples = tmp_path / "run" / "samples"
    run_samples.mkdir(parents=True)
    _user_png(run_samples / "epoch_0001.png")  # as written before grids had provenance
    (tmp_path / "run" / "run.json").write_text('{"steps_per_epoch": 2}')
    grid = callbacks.SampleGrid(run_samples, n=4)
    grid.set_model(gan)
    grid.set_params({"epochs": 1})
    grid.on_train_begin()
    grid.on_epoch_end(0)
    assert "preview" in utils.read_provenance(run_samples / "epoch_0001.png")


@pytest.mark.parametrize("kwargs, error, match", [
    ({"filename": "{foo}.png"}, ValueError, r"`filename`.*received: filename='\{foo\}\.png'"),
    ({"filename": "e{epoch}.txt"}, ValueError, r"`filename`.*\.png.*filename='e\{epoch\}"),
    ({"filename": "{epoch:s}.png"}, ValueError, r"`filename`.*filename='\{epoch:s\}"),
    ({"filename": "sub/{epoch}.png"}, ValueError, r"`filename`.*not a path"),
    ({"filename": 123}, TypeError, r"`filename`.*received: filename=123"),
    ({"directory": 5}, TypeError, r"`directory`.*received: directory=5"),
])
def test_sample_grid_bad_arguments(tmp_path, kwargs, error, match):
    kwargs = {"directory": tmp_path / "g", **kwargs}
    with pytest.raises(error, match=match):
        callbacks.SampleGrid(**kwargs)


def test_counts_accept_numpy_integers(tmp_path):
    grid = callbacks.SampleGrid(tmp_path, n=np.int64(4), every_n_epochs=np.int32(2))
    assert (grid.n, grid.every_n_epochs) == (4, 2) and type(grid.n) is int
    assert callbacks.TensorBoardImages(tmp_path / "tb", n=np.int64(4)).n == 4
    assert callbacks.Checkpoint(tmp_path / "c.keras", save_freq=np.int64(3)).save_freq == 3
    evaluate = callbacks.Evaluate("is", classifier=_features(), n_samples=np.int64(8),
                                  batch_size=np.int64(4))
    assert (evaluate.n_samples, evaluate.batch_size) == (8, 4)


# --- F-4: TimeToQuality's best_path ---


def test_time_to_quality_refuses_a_users_best_path(gan, tmp_path):
    mine = tmp_path / "mine.keras"
    mine.write_bytes(b"the user's model")
    with pytest.raises(FileExistsError, match=r"`best_path`.*lists no `val_fid`.*"
                                              r"best_path='.*mine\.keras'"):
        callbacks.TimeToQuality(tmp_path / "t.csv", best_path=mine)
    # Appeared after construction: refused when training begins, before an epoch.
    os.remove(mine)
    record = callbacks.TimeToQuality(tmp_path / "t.csv", best_path=mine)
    mine.write_bytes(b"the user's model")
    evaluate = callbacks.Evaluate("fid", n_samples=8, real_data=X, feature_extractor=_features())
    step = _step(gan)
    with pytest.raises(FileExistsError, match=r"`best_path`"):
        _fit(gan, evaluate, record)
    assert mine.read_bytes() == b"the user's model" and _step(gan) == step
    assert not (tmp_path / "t.csv").exists()


def test_time_to_quality_resumed_record_replaces_its_own_best(gan, tmp_path):
    path, best = tmp_path / "q.csv", tmp_path / "best.keras"
    path.write_text("minutes,step,val_fid\n1.0,4,9.5\n")
    _gan(seed=1).save(best)  # the best of an earlier process: a DCGAN
    record = callbacks.TimeToQuality(path, best_path=best)
    record.set_model(gan)
    record.on_train_begin()
    record.on_epoch_end(0, {"val_fid": 1.0})
    assert _step(keras.models.load_model(best)) == _step(gan)
    assert [r["val_fid"] for r in record.rows()] == [9.5, 1.0]
    # ... but not a file that is no model of the class trained, even with a record.
    best.write_bytes(b"not a model")
    again = callbacks.TimeToQuality(path, best_path=best)
    again.set_model(gan)
    with pytest.raises(FileExistsError, match=r"not a \.keras archive of a DCGAN"):
        again.on_train_begin()
    assert best.read_bytes() == b"not a model"


def test_time_to_quality_bad_arguments_and_foreign_csv(tmp_path):
    user = tmp_path / "user.csv"
    user.write_text("name,age\nalice,30\n")
    with pytest.raises(ValueError, match=r"`path`: the file is not a record of TimeToQuality"
                                         r".*path='.*user\.csv'"):
        callbacks.TimeToQuality(user)
    assert user.read_text() == "name,age\nalice,30\n"
    bad_row = tmp_path / "bad.csv"
    bad_row.write_text("minutes,step,val_fid\n1.0,4,alice\n")
    with pytest.raises(ValueError, match=r"not a record.*line 2.*path='.*bad\.csv'"):
        callbacks.TimeToQuality(bad_row)
    with pytest.raises(TypeError, match=r"`monitor`.*received: monitor=123"):
        callbacks.TimeToQuality(tmp_path / "q.csv", monitor=123)
    with pytest.raises(TypeError, match=r"`best_path`.*received: best_path=5"):
        callbacks.TimeToQuality(tmp_path / "q.csv", best_path=5)
    with pytest.raises(IsADirectoryError, match=r"`path`.*an existing folder"):
        callbacks.TimeToQuality(tmp_path)


# --- F-5: Checkpoint never replaces a file that is not this model's progress ---


def test_checkpoint_refuses_a_file_that_is_not_the_models(tmp_path):
    gan = _gan()
    user = tmp_path / "user2.keras"
    user.write_bytes(b"user data")
    with pytest.raises(FileExistsError, match=r"`path`.*DCGAN.*path='.*user2\.keras'"):
        _fit(gan, callbacks.Checkpoint(user, save_freq=1))
    assert user.read_bytes() == b"user data" and _step(gan) == 0
    # Another model of the same class (another seed, same step): not this model's.
    other = tmp_path / "other.keras"
    _gan(seed=1).save(other)
    before = other.read_bytes()
    with pytest.raises(FileExistsError, match=r"other\.keras"):
        _fit(gan, callbacks.Checkpoint(other, save_freq=1))
    assert other.read_bytes() == before and _step(gan) == 0


def test_checkpoint_continues_the_model_loaded_from_it(tmp_path):
    path = tmp_path / "ckpt.keras"
    gan = _gan()
    _fit(gan, callbacks.Checkpoint(path, save_freq=1))
    _fit(gan, callbacks.Checkpoint(path, save_freq=1))  # this process wrote it from `gan`
    assert _step(keras_gans.registry.load_file(path)) == 4
    loaded = keras.models.load_model(path)  # by hand, as the docstring says
    _fit(loaded, callbacks.Checkpoint(path, save_freq="epoch"))
    assert _step(keras_gans.registry.load_file(path)) == 6


def test_checkpoint_bad_arguments(tmp_path):
    with pytest.raises(TypeError, match=r"`check_weights`.*received: check_weights='no'"):
        callbacks.Checkpoint(tmp_path / "c.keras", check_weights="no")
    with pytest.raises(ValueError, match=r"`save_freq`.*received: save_freq=1\.5"):
        callbacks.Checkpoint(tmp_path / "c.keras", save_freq=1.5)
    (tmp_path / "d.keras").mkdir()
    with pytest.raises(IsADirectoryError, match=r"`path`.*an existing folder"):
        callbacks.Checkpoint(tmp_path / "d.keras")


# --- F-24: Evaluate ---


@pytest.mark.parametrize("kwargs, error, match", [
    ({"batch_size": 0}, ValueError, r"`batch_size`.*received: batch_size=0"),
    ({"batch_size": "x"}, ValueError, r"`batch_size`.*received: batch_size='x'"),
    ({"feature_extractor": "inception"}, TypeError,
     r"`feature_extractor`.*received: feature_extractor='inception'"),
    ({"metrics": "is", "classifier": "mnist_classifier"}, TypeError,
     r"`classifier`.*received: classifier='mnist_classifier'"),
    ({"prefix": None}, TypeError, r"`prefix`.*received: prefix=None"),
    ({"real_data": X[:1]}, ValueError, r"`real_data`.*at least 2 images.*received 1"),
    ({"n_samples": 1}, ValueError, r"`n_samples`.*at least 2.*n_samples=1"),
])
def test_evaluate_bad_arguments(kwargs, error, match):
    kwargs = {"metrics": "fid", "real_data": X, "feature_extractor": _features(), **kwargs}
    with pytest.raises(error, match=match):
        callbacks.Evaluate(**kwargs)


def test_evaluate_refuses_a_model_without_latent_dim_and_tiny_real_data_before_training(gan):
    cyclegan = keras_gans.CycleGAN.from_shape((8, 8, 1), filters=4, num_residual_blocks=1,
                                              d_filters=4, d_layers=1)
    evaluate = callbacks.Evaluate("fid", n_samples=8, real_data=X, feature_extractor=_features())
    with pytest.raises(TypeError, match=r"Evaluate measures generators.*received a CycleGAN"):
        evaluate.set_model(cyclegan)
    # A dataset of one image: named when training begins, not after the epoch.
    one = tf.data.Dataset.from_tensor_slices(X[:1]).batch(1)
    evaluate = callbacks.Evaluate("fid", n_samples=8, real_data=one,
                                  feature_extractor=_features())
    step = _step(gan)
    with pytest.raises(ValueError, match=r"`real_data`.*at least 2 images.*received 1"):
        _fit(gan, evaluate)
    assert _step(gan) == step


# --- F-25: TensorBoardImages ---


def test_tensorboard_images_run_and_log_dir_are_checked(gan, tmp_path):
    with pytest.raises(TypeError, match=r"`run`.*received: run=123"):
        callbacks.TensorBoardImages(tmp_path, run=123)
    with pytest.raises(ValueError, match=r"`run`.*received: run='\.\./\.\./escape_tb'"):
        callbacks.TensorBoardImages(tmp_path / "a" / "b", run="../../escape_tb")
    log_file = tmp_path / "logs"
    log_file.write_text("a file")
    with pytest.raises(NotADirectoryError, match=r"`log_dir`.*log_dir='.*logs'"):
        callbacks.TensorBoardImages(log_file)
    # The file appears after construction: named when training begins.
    later = tmp_path / "later"
    images = callbacks.TensorBoardImages(later, n=4)
    later.write_text("a file")
    step = _step(gan)
    with pytest.raises(NotADirectoryError, match=r"`log_dir`"):
        _fit(gan, images)
    assert _step(gan) == step and later.read_text() == "a file"
    assert not (tmp_path / "escape_tb").exists()
