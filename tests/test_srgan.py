import os

import keras
import numpy as np
import pytest
from gan_test_utils import run_resume_test, state

import keras_gans
from keras_gans import metrics
from keras_gans.layers import BicubicUpsampling, PixelShuffle
from keras_gans.models import srgan
from keras_gans.models.srgan import SRGAN, bicubic_upscale, build_discriminator, build_generator

HR = 16


def tiny_discriminator(hr_size=HR, channels=3):
    # The paper's discriminator has 8 convolutions; a 1-conv one keeps tracing fast.
    return keras.Sequential([
        keras.Input((hr_size, hr_size, channels)),
        keras.layers.Conv2D(4, 3, strides=2, padding="same"),
        keras.layers.BatchNormalization(),
        keras.layers.LeakyReLU(0.2),
        keras.layers.Flatten(),
        keras.layers.Dense(1),
    ], name="discriminator")


def tiny_generator(scale=2):
    # Sub-pixel convolutions only: a user network, much faster to trace than SRResNet.
    x = low_res = keras.Input((None, None, 3))
    for _ in range(int(np.log2(scale))):
        x = PixelShuffle(2)(keras.layers.Conv2D(12, 3, padding="same")(x))
    x = keras.layers.Conv2D(3, 3, padding="same", activation="tanh")(x)
    return keras.Model(low_res, x, name="generator")


def tiny_gan(scale=2, hr_size=HR, srresnet=False):
    """Tiny user networks, or (srresnet=True) the built-in generator at its smallest."""
    generator = None if srresnet else tiny_generator(scale)
    return SRGAN(generator, tiny_discriminator(hr_size), scale=scale, num_blocks=1,
                 filters=4)


def pairs(n, scale=2, hr_size=HR, seed=0):
    rng = np.random.default_rng(seed)
    high = rng.uniform(-1, 1, (n, hr_size, hr_size, 3)).astype("float32")
    low = high[:, ::scale, ::scale].copy()
    return low, high


def changed(before, after):
    return any(not np.allclose(a, b) for a, b in zip(before, after))


def test_pretrain_then_adversarial_with_srresnet_and_a_round_trip(tmp_path):
    gan = tiny_gan(srresnet=True)
    gan.compile(phase="pretrain")
    assert gan.d_optimizer is None and gan.content_loss_name == "mse"
    g_before = gan.generator.get_weights()
    d_before = gan.discriminator.get_weights()
    low, high = pairs(6)
    history = gan.fit(low[:4], high[:4], batch_size=2, epochs=1, verbose=0).history
    assert set(history) == {"content_loss", "psnr"}
    assert all(np.isfinite(v[0]) for v in history.values())
    assert changed(g_before, gan.generator.get_weights())
    assert not changed(d_before, gan.discriminator.get_weights())
    assert int(gan.g_optimizer.iterations.numpy()) == 2

    # Save, load, continue: the same state as continuing the original.
    gan.save(tmp_path / "pretrain.keras")
    loaded = keras.models.load_model(tmp_path / "pretrain.keras", safe_mode=True)
    assert loaded.phase == "pretrain" and loaded.d_optimizer is None
    for a, b in zip(state(gan), state(loaded)):
        np.testing.assert_array_equal(a, b)
    for model in (gan, loaded):
        model.fit(low[4:], high[4:], batch_size=2, verbose=0)
    for a, b in zip(state(gan), state(loaded)):
        np.testing.assert_allclose(a, b, atol=1e-6)

    # The adversarial phase starts from the pretrained generator.
    g_pretrained = loaded.generator.get_weights()
    d_before = loaded.discriminator.get_weights()
    loaded.compile(phase="adversarial", content_loss="mse")
    for a, b in zip(g_pretrained, loaded.generator.get_weights()):
        np.testing.assert_array_equal(a, b)
    history = loaded.fit(low[:2], high[:2], batch_size=2, verbose=0).history
    assert set(history) == {"d_loss", "g_loss", "content_loss", "adversarial_loss",
                            "d_real", "d_fake"}
    assert all(np.isfinite(v[0]) for v in history.values())
    assert 0.0 <= history["d_real"][0] <= 1.0 and 0.0 <= history["d_fake"][0] <= 1.0
    # One step: the generator's loss is l_content + 1e-3 * l_adversarial (equation 3).
    expected = history["content_loss"][0] + 1e-3 * history["adversarial_loss"][0]
    assert history["g_loss"][0] == pytest.approx(expected, rel=1e-5)
    assert changed(g_pretrained, loaded.generator.get_weights())
    assert changed(d_before, loaded.discriminator.get_weights())
    assert int(loaded.d_optimizer.iterations.numpy()) == 1


def test_fit_on_sr_pairs_dataset():
    photos = np.random.default_rng(1).integers(0, 256, (4, 20, 24, 3), dtype=np.uint8)
    ds = keras_gans.data.sr_pairs(photos, scale=2, hr_size=HR, batch_size=2, seed=0)
    gan = tiny_gan()
    gan.compile(phase="pretrain")
    history = gan.fit(ds, epochs=1, verbose=0)
    assert np.isfinite(history.history["content_loss"][0])


def test_paper_architecture():
    g = build_generator(scale=4)
    names = [layer.name for layer in g.layers]
    assert sum(n.endswith("_add") and n.startswith("res") for n in names) == 16
    assert "global_skip" in names
    assert sum(isinstance(layer, PixelShuffle) for layer in g.layers) == 2
    assert any(isinstance(layer, keras.layers.PReLU) for layer in g.layers)
    assert any(isinstance(layer, keras.layers.BatchNormalization) for layer in g.layers)
    assert g.layers[-1].activation.__name__ == "tanh" and g.layers[-1].dtype == "float32"
    assert 1.5e6 < g.count_params() < 1.6e6  # SRResNet: ~1.55M parameters
    assert sum(isinstance(layer, PixelShuffle) for layer in build_generator(8, 1, 4).layers) == 3
    d = build_discriminator(32)  # the paper uses 96; the layers do not depend on it
    strides = [layer.strides[0] for layer in d.layers if isinstance(layer, keras.layers.Conv2D)]
    assert strides == [1, 2, 1, 2, 1, 2, 1, 2]
    assert any(isinstance(layer, keras.layers.LeakyReLU) for layer in d.layers)
    assert d.get_layer("dense").units == 1024
    assert tuple(d.output.shape) == (None, 1)
    for net in (g, d):
        assert not any(isinstance(layer, keras.layers.Lambda) for layer in net.layers)
    # The built model: its discriminator takes hr_size patches.
    gan = SRGAN(scale=2, num_blocks=1, filters=4, d_filters=4, dense_units=8, hr_size=HR)
    assert tuple(gan.discriminator.inputs[0].shape) == (None, HR, HR, 3)


def test_pixel_shuffle_layer():
    layer = PixelShuffle(2)
    x = np.arange(2 * 3 * 5 * 8, dtype="float32").reshape(2, 3, 5, 8)
    y = np.asarray(layer(x))
    assert y.shape == (2, 6, 10, 2)
    # Each input pixel's channels fill its 2x2 output block (values are moved, not mixed).
    np.testing.assert_array_equal(np.sort(y[0, :2, :2].ravel()), np.sort(x[0, 0, 0]))
    clone = PixelShuffle.from_config(layer.get_config())
    assert clone.block_size == 2
    with pytest.raises(ValueError, match="block_size=1"):
        PixelShuffle(1)


@pytest.mark.parametrize("scale", [2, 4, 8])
def test_upscale_any_size_and_dtype(scale):
    gan = tiny_gan(scale=scale, hr_size=8 * scale, srresnet=True)
    rng = np.random.default_rng(0)
    single = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
    out = gan.upscale(single)
    assert out.shape == (5 * scale, 7 * scale, 3) and out.dtype == np.uint8
    batch = rng.uniform(-1, 1, (2, 9, 3, 3)).astype("float32")
    out = gan.upscale(batch)
    assert out.shape == (2, 9 * scale, 3 * scale, 3) and out.dtype == np.float32
    assert out.min() >= -1.0 and out.max() <= 1.0
    # The whole image in one pass: exactly the generator's output, no tiles, no seams.
    np.testing.assert_allclose(out, gan.generator(batch, training=False), atol=1e-6)
    outs = gan.upscale([single, single[:3, :4]])
    assert [o.shape for o in outs] == [(5 * scale, 7 * scale, 3), (3 * scale, 4 * scale, 3)]


def test_upscale_refuses_requests_that_do_not_fit(monkeypatch):
    gan = tiny_gan(scale=4, hr_size=32, srresnet=True)
    image = np.zeros((64, 48, 3), np.uint8)
    with pytest.raises(ValueError, match=r"\(1, 64, 48, 3\).*max_output_pixels=1,000"):
        gan.upscale(image, max_output_pixels=1000)
    gan.max_output_pixels = 1000
    with pytest.raises(ValueError, match="max_output_pixels"):
        gan.upscale(image)
    gan.max_output_pixels = None
    assert gan.upscale(image).shape == (256, 192, 3)
    # A zero-copy view of a 100000 x 100000 photo: refused before anything is allocated.
    huge = np.broadcast_to(np.zeros((1, 1, 3), np.uint8), (100_000, 100_000, 3))
    with pytest.raises(MemoryError, match=r"\(1, 100000, 100000, 3\).*GiB"):
        gan.upscale(huge)
    monkeypatch.setattr(srgan, "_available_memory", lambda: 2**20)
    with pytest.raises(MemoryError, match=r"\(1, 64, 48, 3\)"):
        gan.upscale(image)


def test_bicubic_and_evaluate_quality_report_the_baseline():
    flat = np.full((6, 5, 3), 100, np.uint8)
    np.testing.assert_array_equal(bicubic_upscale(flat, 4), np.full((24, 20, 3), 100))
    gan = tiny_gan()
    rng = np.random.default_rng(2)
    high = rng.uniform(-1, 1, (2, 24, 24, 3)).astype("float32")
    low = high[:, ::2, ::2].copy()
    report = gan.evaluate_quality(low, high)
    assert set(report) == {"model", "bicubic"}
    bicubic = bicubic_upscale(low, 2)
    assert report["bicubic"]["psnr_y"] == pytest.approx(
        metrics.psnr(bicubic, high, y_channel=True, crop_border=2))
    assert report["bicubic"]["ssim_rgb"] == pytest.approx(metrics.ssim(bicubic, high,
                                                                       crop_border=2))
    assert report["model"]["psnr_rgb"] == pytest.approx(
        metrics.psnr(gan.upscale(low), high, crop_border=2))
    assert set(report["model"]) == {"psnr_rgb", "ssim_rgb", "psnr_y", "ssim_y"}


def _write_vgg_weights(path):
    vgg = keras.applications.VGG19(include_top=False, weights=None, input_shape=(32, 32, 3))
    vgg.save_weights(path)
    return vgg


def test_vgg19_feature_loss_with_a_local_weights_file(tmp_path):
    weights = str(tmp_path / "vgg.weights.h5")
    vgg = _write_vgg_weights(weights)
    rng = np.random.default_rng(3)
    images = rng.uniform(-1, 1, (2, 32, 32, 3)).astype("float32")
    # The paper's phi: caffe-preprocessed VGG19 block5_conv4, rescaled by 1/12.75.
    body = keras.Model(vgg.input, vgg.get_layer("block5_conv4").output)
    caffe = keras.applications.vgg19.preprocess_input((images + 1.0) * 127.5)
    expected = np.asarray(body(caffe)) / 12.75
    extractor = srgan.build_vgg19_features(weights)
    np.testing.assert_allclose(extractor(images), expected, rtol=1e-4, atol=1e-6)

    gan = tiny_gan(hr_size=32)
    gan.compile(phase="adversarial", content_loss="vgg19", vgg_weights=weights)
    low, high = pairs(2, hr_size=32)
    super_res = gan.generator(low, training=True)  # the batch statistics fit will see
    phi = gan._content_loss.extractor
    want = np.mean((phi(high) - phi(super_res)) ** 2)
    history = gan.fit(low, high, batch_size=2, verbose=0).history
    assert history["content_loss"][0] == pytest.approx(float(want), rel=1e-3)
    assert all(np.isfinite(v[0]) for v in history.values())

    path = tmp_path / "gan.keras"
    gan.save(path)
    assert os.path.getsize(path) < 2e6  # the 80 MB of VGG19 stay out of the file
    loaded = keras.models.load_model(path, safe_mode=True)
    assert loaded.content_loss_name == "vgg19"
    assert loaded.get_compile_config()["vgg_weights"] == weights
    # Rebuilt from the weights file (on the first fit): the same features as before.
    assert loaded._content_loss.extractor is None
    loaded.make_train_function()
    np.testing.assert_allclose(loaded._content_loss.extractor(images), expected, rtol=1e-4,
                               atol=1e-6)


def test_vgg19_imagenet_download_failure_is_explained(monkeypatch):
    def offline(**kwargs):
        raise OSError("URL fetch failure")

    monkeypatch.setattr(keras.applications, "VGG19", offline)
    with pytest.raises(RuntimeError, match="vgg_weights=.*notop.h5.*content_loss='mse'"):
        tiny_gan(hr_size=32).compile(phase="adversarial")


def test_user_feature_extractor_is_frozen_and_saved(tmp_path):
    extractor = keras.Sequential([keras.Input((None, None, 3)),
                                  keras.layers.Conv2D(5, 3, name="features")])
    gan = tiny_gan()
    gan.compile(phase="pretrain", content_loss=extractor)
    before = extractor.get_weights()
    low, high = pairs(4)
    history = gan.fit(low, high, batch_size=4, verbose=0).history
    assert np.isfinite(history["content_loss"][0])
    assert not changed(before, extractor.get_weights())
    path = tmp_path / "gan.keras"
    gan.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    assert loaded.content_loss_name == "custom"
    np.testing.assert_allclose(loaded.content_extractor(high), extractor(high), atol=1e-6)
    # Back to the pixel loss: the extractor is no longer part of the model.
    gan.compile(phase="pretrain", content_loss="mse")
    assert len(gan.weights) == len(tiny_gan().weights)


def test_bicubic_skip_starts_as_bicubic_trains_and_round_trips(tmp_path):
    gan = SRGAN(discriminator=tiny_discriminator(), scale=2, num_blocks=1, filters=4,
                bicubic_skip=True)
    rng = np.random.default_rng(3)
    # Smooth images (bicubic does well on them, as on photos) with some fine detail.
    yy, xx = np.mgrid[0:HR, 0:HR] / HR
    high = np.stack([np.sin(2 * np.pi * (f * xx + g * yy))
                     for f, g in rng.uniform(0.2, 1.5, (8 * 3, 2))]).reshape(8, 3, HR, HR)
    high = (0.8 * high.transpose(0, 2, 3, 1)).astype("float32")
    low = np.asarray(keras.ops.image.resize(high, (HR // 2, HR // 2), "bicubic",
                                            antialias=True))
    untrained = gan.upscale(low)
    # The untrained network is bicubic upscaling.
    np.testing.assert_allclose(untrained, bicubic_upscale(low, 2), atol=1e-5)
    error_before = np.mean((gan.upscale(low) - high) ** 2)
    gan.compile(phase="pretrain", g_optimizer=keras.optimizers.Adam(1e-3))
    gan.fit(low, high, batch_size=8, epochs=30, verbose=0)
    assert np.mean((gan.upscale(low) - high) ** 2) < error_before
    path = str(tmp_path / "skip.keras")
    gan.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    assert loaded.bicubic_skip is True
    np.testing.assert_allclose(loaded.upscale(low), gan.upscale(low), atol=1e-6)
    with pytest.raises(TypeError, match=r"bicubic_skip.*received: bicubic_skip='yes'"):
        SRGAN(scale=2, bicubic_skip="yes")


def _adversarial_gan():
    gan = tiny_gan()
    gan.compile(phase="adversarial", content_loss="mse")
    return gan


def test_adversarial_save_load_continue_in_a_fresh_process(tmp_path):
    low, high = pairs(6, seed=4)
    batches = [(low[i:i + 2], high[i:i + 2]) for i in (0, 2, 4)]
    run_resume_test(_adversarial_gan, batches, tmp_path)


class NotUpscaling(keras.Model):
    def call(self, x):
        return x


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: tiny_gan().upscale(np.zeros((8, 8))), r"images.*\(H, W, C\).*\(8, 8\)"),
        (lambda: tiny_gan().upscale(np.zeros((8, 8, 1))), r"C=3.*\(8, 8, 1\)"),
        (lambda: tiny_gan().upscale(np.full((4, 4, 3), 3.0)), r"\[-1, 1\]"),
        (lambda: SRGAN(scale=3), r"`scale`.*scale=3"),
        (lambda: BicubicUpsampling(1), r"`scale`.*integer >= 2.*scale=1"),
        (lambda: tiny_gan(hr_size=18, scale=4), r"hr_size.*scale=4.*hr_size=18"),
        (lambda: SRGAN(generator=NotUpscaling(), scale=2), r"scale=2.*\(1, 8, 8, 3\)"),
        (lambda: tiny_gan().compile(phase="gan"), r"`phase`.*phase='gan'"),
        (lambda: tiny_gan().compile(content_loss="l1"), r"content_loss.*'l1'"),
        (lambda: tiny_gan().compile(d_optimizer="adam"), r"d_optimizer.*pretrain"),
        (lambda: tiny_gan().compile(content_loss="vgg19", vgg_weights="missing.h5"),
         r"vgg_weights.*missing.h5"),
        (lambda: tiny_gan().compile(content_loss=keras.Sequential(
            [keras.Input((32, 32, 3)), keras.layers.Conv2D(2, 3)])),
         r"content_loss.*32, 32, 3.*\(16, 16, 3\)"),
        (lambda: tiny_gan().compile(content_loss=keras.Sequential(
            [keras.Input((None, None, 3)), keras.layers.Conv2D(2, 17)])),
         r"content_loss.*cannot take images of shape \(16, 16, 3\)"),
    ],
)
def test_bad_input_gives_a_clear_error(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


def test_mismatched_pairs_give_a_clear_error():
    gan = tiny_gan()
    gan.compile()
    _, high = pairs(4)
    with pytest.raises(ValueError, match=r"scale=2.*low_res of shape \(.*16, 16, 3\) and high_"):
        gan.fit(high, high, batch_size=4, verbose=0)
