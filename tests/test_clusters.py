"""Self-conditioning (`clusters=K`, `keras_gans.models.clusters`): an unconditional GAN
conditioned inside on k-means clusters of its training images."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf
from gan_test_utils import run_resume_test
from scipy.stats import norm

import keras_gans
from keras_gans import utils
from keras_gans.models.clusters import ClusterSampler, NearestCentroid
from keras_gans.models.dcgan import DCGAN, build_discriminator, build_generator
from keras_gans.models.wgan_gp import WGANGP

TINY = {"latent_dim": 8, "base_filters": 4, "seed": 3}


def _blobs(n=96, seed=0):
    """Three kinds of 8x8 images, easy to tell apart: dark, bright, striped."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 40, (n, 8, 8, 1)).astype("uint8")
    x[n // 3: 2 * n // 3] += 200
    x[2 * n // 3:, :, ::2] += 150
    return x, np.repeat(np.arange(3), n // 3)


def _model(cls=DCGAN, **kwargs):
    gan = cls.from_shape((8, 8, 1), clusters=3, **{**TINY, **kwargs})
    gan.compile()
    return gan


def test_adapt_finds_the_data_clusters_and_the_graph_assigns_like_kmeans():
    x, kind = _blobs()
    gan = _model()
    counts = gan.adapt(x)
    assert sorted(counts.tolist()) == [32, 32, 32]
    assigned = gan.cluster_assigner(utils.to_float(x)).numpy()
    # One cluster per kind of image (whatever its number).
    assert all(len(set(assigned[kind == k])) == 1 for k in range(3))
    assert len(set(assigned)) == 3
    frequencies = gan.generator.get_layer("cluster_sampler").frequencies.numpy()
    np.testing.assert_allclose(frequencies, counts / counts.sum(), atol=1e-7)


def test_sampler_draws_clusters_as_often_as_their_frequencies_from_z0():
    sampler = ClusterSampler(3)
    sampler.frequencies.assign([0.7, 0.2, 0.1])
    z = np.random.default_rng(0).standard_normal((40000, 4)).astype("float32")
    drawn = sampler(z).numpy()
    np.testing.assert_allclose(np.bincount(drawn, minlength=3) / len(z), [0.7, 0.2, 0.1],
                               atol=0.01)
    # A function of z[:, 0] alone: the cluster boundaries are the normal quantiles.
    edges = norm.ppf([0.7, 0.9]).astype("float32")
    probe = np.zeros((4, 4), "float32")
    probe[:, 0] = [edges[0] - 1e-3, edges[0] + 1e-3, edges[1] + 1e-3, 8.0]
    probe[:, 1:] = 5.0
    assert sampler(probe).numpy().tolist() == [0, 1, 2, 2]


def test_trains_with_fit_and_the_discriminator_sees_the_drawn_cluster():
    x, _ = _blobs()
    gan = _model(ema_decay=0.9, augment=("translation", "cutout"))
    gan.adapt(x)
    np.testing.assert_array_equal(
        gan.ema_generator.get_layer("cluster_sampler").frequencies.numpy(),
        gan.generator.get_layer("cluster_sampler").frequencies.numpy())
    z = gan.sample_noise(64, seed=0)
    drawn = gan._fake_labels(tf.constant(z), None).numpy()
    np.testing.assert_array_equal(drawn, gan.generator.get_layer("cluster_sampler")(z))
    history = gan.fit(x, batch_size=32, epochs=2, verbose=0).history
    assert np.isfinite(history["d_loss"]).all() and np.isfinite(history["g_loss"]).all()
    # The discriminator's cluster input matters: the same images under other clusters
    # get other logits (its projection embedding is trained).
    images = utils.to_float(x[:8])
    logits = [gan.discriminator([images, np.full(8, k, "int32")]).numpy() for k in range(3)]
    assert not np.allclose(logits[0], logits[1])
    # Users still see an unconditional GAN.
    assert gan.num_classes is None
    assert gan.generate(5, seed=1).shape == (5, 8, 8, 1)
    with pytest.raises(ValueError, match="unconditional"):
        gan.generate(2, labels=[0, 1])


def test_wgan_gp_takes_clusters_too():
    x, _ = _blobs()
    gan = _model(WGANGP, n_critic=1)
    gan.adapt(x)
    history = gan.fit(x, batch_size=32, epochs=1, verbose=0).history
    assert np.isfinite(history["d_loss"]).all()


def test_bad_uses_are_clear_errors():
    x, _ = _blobs()
    with pytest.raises(ValueError, match=r"call `model.adapt\(images\)`"):
        _model().fit(x, batch_size=32, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="`clusters` and `num_classes` exclude each other"):
        DCGAN.from_shape((8, 8, 1), clusters=3, num_classes=3, **TINY)
    for bad in (1, 0, 2.5, "3"):
        with pytest.raises((ValueError, TypeError), match="clusters"):
            DCGAN.from_shape((8, 8, 1), clusters=bad, **TINY)
    with pytest.raises(ValueError, match="built with `clusters=K`"):
        DCGAN.from_shape((8, 8, 1), **TINY).adapt(x)
    gan = _model()
    with pytest.raises(ValueError, match="2 images cannot form clusters=3"):
        gan.adapt(x[:2])
    with pytest.raises(ValueError, match=r"argument `data`.*shape \(N, 8, 8, 1\).*\(4, 9, 9"):
        gan.adapt(np.zeros((4, 9, 9, 1), "uint8"))
    with pytest.raises(ValueError,
                       match=r"argument `data`.*\[-1, 1\], received values in \[0.0, 239.0\]"):
        gan.adapt(x.astype("float32"))
    # Networks that do not fit the option.
    generator = build_generator((8, 8, 1), 8, 4)
    discriminator = build_discriminator((8, 8, 1), 4, num_classes=3)
    with pytest.raises(ValueError, match=r"one `keras_gans.models.clusters.ClusterSampler\(3\)"):
        DCGAN(generator, discriminator, clusters=3)
    with pytest.raises(ValueError, match="self-conditioned GAN.*`discriminator` with 2"):
        DCGAN(build_generator((8, 8, 1), 8, 4, clusters=3), build_discriminator((8, 8, 1), 4),
              clusters=3)
    assert not gan.cluster_assigner.is_adapted  # the failed adapts changed nothing


def test_adapt_reads_a_dataset_as_fit_would():
    x, _ = _blobs()
    from_array, from_dataset = _model(), _model()
    counts = from_array.adapt(x)
    dataset = keras_gans.data.images(x, batch_size=32, shuffle=False)
    np.testing.assert_array_equal(from_dataset.adapt(dataset), counts)
    np.testing.assert_allclose(from_dataset.cluster_assigner.centroids.numpy(),
                               from_array.cluster_assigner.centroids.numpy(), atol=1e-4)


def test_resume_is_bit_identical(tmp_path):
    x, _ = _blobs(48)

    def build():
        gan = _model(ema_decay=0.9, augment=("translation",))
        gan.adapt(x)
        return gan

    run_resume_test(build, [x[:16], x[16:32], x[32:]], tmp_path, atol=0)


_FRESH = textwrap.dedent("""
    import json, sys
    import numpy as np
    import keras_gans
    import keras
    model = keras.models.load_model(sys.argv[1])
    images = model.generate(4, seed=0)
    print(json.dumps({"clusters": model.clusters, "adapted": model.cluster_assigner.is_adapted,
                      "images": images.tolist()}))
""")


def test_fresh_process_loads_it_as_the_readme_says(tmp_path):
    x, _ = _blobs()
    gan = _model(ema_decay=0.9)
    gan.adapt(x)
    gan.fit(x, batch_size=32, epochs=1, verbose=0)
    path = tmp_path / "self_conditioned.keras"
    gan.save(path)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-c", _FRESH, str(path)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["clusters"] == 3 and out["adapted"] is True
    np.testing.assert_array_equal(np.asarray(out["images"], "float32"),
                                  gan.generate(4, seed=0))


def test_served_signature_takes_noise_only(tmp_path):
    x, _ = _blobs()
    gan = _model()
    gan.adapt(x)
    path = keras_gans.export.export(gan, tmp_path / "served", include_keras=False)
    loaded = tf.saved_model.load(str(path))
    signature = loaded.signatures["serving_default"]
    assert list(signature.structured_input_signature[1]) == ["z"]
    z = gan.sample_noise(3, seed=2)
    out = signature(z=tf.constant(z))["images"].numpy()
    np.testing.assert_allclose(out, gan.generate(z=z), atol=1e-5)


def test_nearest_centroid_config_round_trip():
    layer = NearestCentroid(4, (8, 8, 1), dims=10, name="a")
    clone = NearestCentroid.from_config(layer.get_config())
    assert (clone.clusters, clone.image_shape, clone.dims) == (4, (8, 8, 1), 10)
    assert ClusterSampler.from_config(ClusterSampler(5).get_config()).clusters == 5
