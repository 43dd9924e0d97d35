import json
import os
import zipfile

import keras
import numpy as np
import pytest
import tensorflow as tf
from gan_test_utils import run_resume_test, state

import keras_gans
from keras_gans import augment as augment_lib
from keras_gans import features, memory, metrics
from keras_gans import losses as losses_lib
from keras_gans.features import FeatureLoss, PixelL1, PixelMSE, VGGFeatureLoss
from keras_gans.layers import BicubicUpsampling, PixelShuffle
from keras_gans.models.srgan import SRGAN, SRResNet, build_discriminator, build_generator
from keras_gans.utils import bicubic_upscale

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


def tiny_gan(scale=2, hr_size=HR, srresnet=False, content_loss="mse", **kwargs):
    """Tiny user networks, or (srresnet=True) the built-in generator at its smallest."""
    generator = None if srresnet else tiny_generator(scale)
    return SRGAN(generator, tiny_discriminator(hr_size), scale=scale, num_blocks=1,
                 filters=4, content_loss=content_loss, **kwargs)


def tiny_srresnet(scale=2, hr_size=HR, srresnet=False, content_loss=None):
    generator = None if srresnet else tiny_generator(scale)
    return SRResNet(generator, scale=scale, num_blocks=1, filters=4, hr_size=hr_size,
                    content_loss=content_loss)


def pairs(n, scale=2, hr_size=HR, seed=0):
    rng = np.random.default_rng(seed)
    high = rng.uniform(-1, 1, (n, hr_size, hr_size, 3)).astype("float32")
    low = high[:, ::scale, ::scale].copy()
    return low, high


def changed(before, after):
    return any(not np.allclose(a, b) for a, b in zip(before, after))


def test_srresnet_trains_with_fit_and_round_trips(tmp_path):
    model = tiny_srresnet(srresnet=True)
    model.compile()
    assert isinstance(model.content_loss, PixelMSE) and model.network_names == ("generator",)
    g_before = model.generator.get_weights()
    low, high = pairs(6)
    history = model.fit(low[:4], high[:4], batch_size=2, epochs=1, verbose=0).history
    assert set(history) == {"content_loss", "psnr"}
    assert all(np.isfinite(v[0]) for v in history.values())
    assert changed(g_before, model.generator.get_weights())
    assert int(model.g_optimizer.iterations.numpy()) == 2
    # One step on fixed weights: content_loss is the pixel MSE of that step's output.
    fresh = tiny_srresnet(srresnet=True)
    fresh.compile(g_optimizer=keras.optimizers.SGD(0.0))
    want = np.mean((np.asarray(fresh.generator(low[:2], training=True)) - high[:2]) ** 2)
    logs = fresh.fit(low[:2], high[:2], batch_size=2, verbose=0).history
    assert logs["content_loss"][0] == pytest.approx(float(want), rel=1e-4)

    # Save, load, continue: the same state as continuing the original.
    model.save(tmp_path / "srresnet.keras")
    loaded = keras.models.load_model(tmp_path / "srresnet.keras", safe_mode=True)
    assert type(loaded) is SRResNet and isinstance(loaded.content_loss, PixelMSE)
    for a, b in zip(state(model), state(loaded)):
        np.testing.assert_array_equal(a, b)
    for m in (model, loaded):
        m.fit(low[4:], high[4:], batch_size=2, verbose=0)
    for a, b in zip(state(model), state(loaded)):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_srgan_from_a_pretrained_srresnet_keeps_the_generator_weights():
    srresnet = tiny_srresnet(srresnet=True)
    srresnet.compile()
    low, high = pairs(4)
    srresnet.fit(low, high, batch_size=2, verbose=0)
    pretrained = srresnet.generator.get_weights()
    gan = SRGAN.from_pretrained(srresnet, discriminator=tiny_discriminator(),
                                content_loss=PixelMSE(), adversarial_weight=1e-3)
    assert gan.generator is srresnet.generator and gan.hr_size == HR
    assert (gan.scale, gan.num_blocks, gan.filters) == (2, 1, 4)
    for a, b in zip(pretrained, gan.generator.get_weights()):
        np.testing.assert_array_equal(a, b)
    # Or by hand, from the generator alone.
    by_hand = SRGAN(generator=srresnet.generator, discriminator=tiny_discriminator(), scale=2,
                    content_loss=PixelMSE())
    for a, b in zip(pretrained, by_hand.generator.get_weights()):
        np.testing.assert_array_equal(a, b)

    gan.compile()
    d_before = gan.discriminator.get_weights()
    history = gan.fit(low[:2], high[:2], batch_size=2, verbose=0).history
    assert set(history) == {"d_loss", "g_loss", "content_loss", "adversarial_loss",
                            "d_real", "d_fake"}
    assert all(np.isfinite(v[0]) for v in history.values())
    assert 0.0 <= history["d_real"][0] <= 1.0 and 0.0 <= history["d_fake"][0] <= 1.0
    # One step: the generator's loss is l_content + 1e-3 * l_adversarial (equation 3).
    expected = history["content_loss"][0] + 1e-3 * history["adversarial_loss"][0]
    assert history["g_loss"][0] == pytest.approx(expected, rel=1e-5)
    assert changed(pretrained, gan.generator.get_weights())
    assert changed(d_before, gan.discriminator.get_weights())
    assert int(gan.d_optimizer.iterations.numpy()) == 1
    with pytest.raises(TypeError, match=r"`model`.*SRResNet or SRGAN.*Sequential"):
        SRGAN.from_pretrained(tiny_discriminator())
    with pytest.raises(ValueError, match=r"takes `scale` from the model.*scale=4"):
        SRGAN.from_pretrained(srresnet, scale=4)


@pytest.mark.parametrize("loss", [PixelMSE(), PixelL1(), VGGFeatureLoss(),
                                  VGGFeatureLoss(weights="vgg.h5", layer="block2_conv2",
                                                 feature_scale=0.5)])
def test_content_losses_round_trip_through_their_config(loss):
    config = keras.saving.serialize_keras_object(loss)
    assert config["registered_name"] == f"keras_gans>{type(loss).__name__}"
    clone = keras.saving.deserialize_keras_object(config)
    assert type(clone) is type(loss) and clone.get_config() == loss.get_config()
    assert json.loads(json.dumps(config)) == config
    # And inside a model's config.
    model = SRResNet(tiny_generator(), scale=2, content_loss=loss)
    rebuilt = SRResNet.from_config(model.get_config())
    assert rebuilt.content_loss.get_config() == loss.get_config()


def test_content_loss_names_and_errors():
    assert isinstance(features.get("mse"), PixelMSE)
    assert isinstance(features.get("l1"), PixelL1)
    assert features.get("vgg19", "w.h5").get_config()["weights"] == "w.h5"
    with pytest.raises(ValueError, match=r"`content_loss`.*'mse', 'l1'.*content_loss='l2'"):
        features.get("l2")
    with pytest.raises(ValueError, match=r"`layer`.*layer=''"):
        VGGFeatureLoss(layer="")
    with pytest.raises(ValueError, match=r"`feature_scale`.*feature_scale=0"):
        VGGFeatureLoss(feature_scale=0)
    with pytest.raises(TypeError, match=r"`extractor`.*keras.Model.*int"):
        FeatureLoss(3)
    high = np.random.default_rng(0).uniform(-1, 1, (2, 8, 8, 3)).astype("float32")
    assert float(PixelMSE()(high, high * 0.0)) == pytest.approx(float(np.mean(high ** 2)))
    assert float(PixelL1()(high, high * 0.0)) == pytest.approx(float(np.mean(np.abs(high))))


def _old_format(path, phase, content_loss="mse"):
    """Rewrite a saved SRGAN's config as the former single SRGAN wrote it."""
    with zipfile.ZipFile(path) as z:
        files = {name: z.read(name) for name in z.namelist()}
    config = json.loads(files["config.json"])
    for key in ("content_loss", "adversarial_weight"):
        config["config"].pop(key)
    config["compile_config"].update(phase=phase, content_loss=content_loss,
                                    adversarial_weight=0.5, vgg_weights="imagenet")
    files["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)


@pytest.mark.parametrize("phase", ["adversarial", "pretrain"])
def test_old_phase_config_files_load_and_upscale_the_same(tmp_path, phase):
    gan = tiny_gan()
    gan.compile()
    low, high = pairs(2)
    gan.fit(low, high, batch_size=2, verbose=0)
    path = tmp_path / "old.keras"
    gan.save(path)
    _old_format(path, phase)
    loaded = keras.models.load_model(path, safe_mode=True)
    assert type(loaded) is SRGAN and isinstance(loaded.content_loss, PixelMSE)
    assert loaded.adversarial_weight == 0.5 and loaded.d_optimizer is not None
    np.testing.assert_array_equal(loaded.upscale(low), gan.upscale(low))
    if phase == "pretrain":  # it trains as the SRGAN it is, and says so
        with pytest.warns(UserWarning, match="pretrain phase.*SRResNet.from_pretrained"):
            loaded.fit(low, high, batch_size=2, verbose=0)


def test_shipped_srgan_loads_in_a_fresh_process():
    import glob
    import subprocess
    import sys

    paths = sorted(glob.glob(os.path.join(os.path.dirname(__file__), "..", "savedmodels",
                                          "srgan_x4_wallpapers", "*", "assets.extra",
                                          "model.keras")))
    assert paths, "the shipped srgan_x4_wallpapers .keras files are missing"
    script = ("import sys, keras_gans, keras, numpy as np\n"
              "m = keras.models.load_model(sys.argv[1])\n"
              "x = np.linspace(-1, 1, 2 * 6 * 8 * 3, dtype='float32').reshape(2, 6, 8, 3)\n"
              "print(type(m).__name__, type(m.content_loss).__name__, m.adversarial_weight,\n"
              "      m.upscale(x).shape)\n")
    proc = subprocess.run([sys.executable, "-c", script, paths[-1]], capture_output=True,
                          text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split()[-7:] == ["SRGAN", "PixelMSE", "0.001", "(2,", "24,", "32,",
                                        "3)"]


def test_deprecated_compile_phase_still_works():
    gan = tiny_gan(content_loss=None)
    with pytest.warns(DeprecationWarning, match="compile.*phase"):
        gan.compile(phase="adversarial", content_loss="mse", adversarial_weight=0.1)
    assert isinstance(gan.content_loss, PixelMSE) and gan.adversarial_weight == 0.1
    low, high = pairs(2)
    assert np.isfinite(gan.fit(low, high, batch_size=2, verbose=0).history["g_loss"][0])
    with pytest.warns(DeprecationWarning), \
            pytest.raises(ValueError, match=r"`phase`.*SRResNet.*phase='pretrain'"):
        tiny_gan().compile(phase="pretrain")


def test_fit_on_sr_pairs_dataset():
    photos = np.random.default_rng(1).integers(0, 256, (4, 20, 24, 3), dtype=np.uint8)
    ds = keras_gans.data.sr_pairs(photos, scale=2, hr_size=HR, batch_size=2, seed=0)
    gan = tiny_srresnet()
    gan.compile()
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


def test_discriminator_on_small_patches_trains_finite_in_bfloat16():
    # hr_size 8 leaves a 1x1 map for conv7 (stride 2). TF 2.21's oneDNN bfloat16 filter
    # gradient of a strided convolution of a 1x1 map returns NaN at random (CI's
    # mixed_bfloat16 SRGAN served NaN; here 4 of 6 two-step fits left conv7's kernel NaN).
    # The builder drops the stride where the map is 1x1, which gives the same output.
    d = build_discriminator(8, channels=1, filters=4, dense_units=8)
    strides = [layer.strides[0] for layer in d.layers if isinstance(layer, keras.layers.Conv2D)]
    assert strides == [1, 2, 1, 2, 1, 2, 1, 1]
    assert build_discriminator(96, filters=4, dense_units=8).get_layer("conv7").strides == (2, 2)

    def strided(layer):
        config = layer.get_config()
        if layer.name == "conv7":
            config["strides"] = (2, 2)
        return layer.__class__.from_config(config)

    paper = keras.models.clone_model(d, clone_function=strided)
    paper.set_weights(d.get_weights())
    images = np.random.default_rng(0).uniform(-1, 1, (4, 8, 8, 1)).astype("float32")
    np.testing.assert_array_equal(paper(images, training=False), d(images, training=False))

    rng = np.random.default_rng(1)
    low = rng.uniform(-1, 1, (8, 4, 4, 1)).astype("float32")
    high = rng.uniform(-1, 1, (8, 8, 8, 1)).astype("float32")
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        gan = SRGAN(scale=2, num_blocks=1, filters=4, d_filters=4, dense_units=8,
                    hr_size=8, channels=1, content_loss="mse")
    finally:
        keras.mixed_precision.set_global_policy("float32")
    gan.compile()
    gan.fit(low, high, batch_size=4, epochs=4, shuffle=False, verbose=0)  # a NaN stays
    bad = [v.path for v in gan.variables if not np.all(np.isfinite(v.numpy()))]
    assert not bad, bad


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
    gan = tiny_srresnet(scale=scale, hr_size=8 * scale, srresnet=True)
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
    gan = tiny_srresnet(scale=4, hr_size=32, srresnet=True)
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
    monkeypatch.setattr(memory, "available_memory", lambda: 2**20)
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
    extractor = features.build_vgg19_features(weights)
    np.testing.assert_allclose(extractor(images), expected, rtol=1e-4, atol=1e-6)

    gan = tiny_gan(hr_size=32, content_loss=VGGFeatureLoss(weights=weights))
    gan.compile()
    low, high = pairs(2, hr_size=32)
    super_res = gan.generator(low, training=True)  # the batch statistics fit will see
    phi = gan.content_loss.extractor
    want = np.mean((phi(high) - phi(super_res)) ** 2)
    history = gan.fit(low, high, batch_size=2, verbose=0).history
    assert history["content_loss"][0] == pytest.approx(float(want), rel=1e-3)
    assert all(np.isfinite(v[0]) for v in history.values())

    path = tmp_path / "gan.keras"
    gan.save(path)
    assert os.path.getsize(path) < 2e6  # the 80 MB of VGG19 stay out of the file
    loaded = keras.models.load_model(path, safe_mode=True)
    assert loaded.content_loss.get_config() == gan.content_loss.get_config()
    assert loaded.content_loss.weights == weights
    # Rebuilt from the weights file (on the first fit): the same features as before.
    assert loaded.content_loss.extractor is None
    loaded.make_train_function()
    np.testing.assert_allclose(loaded.content_loss.extractor(images), expected, rtol=1e-4,
                               atol=1e-6)


def test_vgg19_imagenet_download_failure_is_explained(monkeypatch):
    def offline(**kwargs):
        raise OSError("URL fetch failure")

    monkeypatch.setattr(keras.applications, "VGG19", offline)
    gan = tiny_gan(hr_size=32, content_loss=None)  # SRGAN's default: VGG54, ImageNet
    assert isinstance(gan.content_loss, VGGFeatureLoss)
    with pytest.raises(RuntimeError, match=r"VGG19.*weights=.*notop.h5.*PixelMSE\(\)"):
        gan.compile()


def test_user_feature_extractor_is_frozen_and_saved(tmp_path):
    extractor = keras.Sequential([keras.Input((None, None, 3)),
                                  keras.layers.Conv2D(5, 3, name="features")])
    gan = tiny_srresnet(content_loss=extractor)
    assert isinstance(gan.content_loss, FeatureLoss)
    gan.compile()
    before = extractor.get_weights()
    low, high = pairs(4)
    history = gan.fit(low, high, batch_size=4, verbose=0).history
    assert np.isfinite(history["content_loss"][0])
    assert not changed(before, extractor.get_weights())
    path = tmp_path / "gan.keras"
    gan.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    assert isinstance(loaded.content_loss, FeatureLoss)
    np.testing.assert_allclose(loaded.content_loss.extractor(high), extractor(high),
                               atol=1e-6)
    # The extractor is saved with the model, not trained with it.
    assert len(gan.weights) == len(tiny_srresnet().weights) + len(extractor.weights)
    assert not loaded.content_loss.extractor.trainable


def test_bicubic_skip_starts_as_bicubic_trains_and_round_trips(tmp_path):
    gan = SRResNet(scale=2, num_blocks=1, filters=4, bicubic_skip=True)
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
    gan.compile(g_optimizer=keras.optimizers.Adam(1e-3))
    gan.fit(low, high, batch_size=8, epochs=30, verbose=0)
    assert np.mean((gan.upscale(low) - high) ** 2) < error_before
    path = str(tmp_path / "skip.keras")
    gan.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    assert loaded.bicubic_skip is True
    np.testing.assert_allclose(loaded.upscale(low), gan.upscale(low), atol=1e-6)
    with pytest.raises(TypeError, match=r"bicubic_skip.*received: bicubic_skip='yes'"):
        SRResNet(scale=2, bicubic_skip="yes")


def test_generator_without_batch_norm_trains_round_trips_and_carries_to_srgan(tmp_path):
    low, high = pairs(4, seed=5)
    srresnet = SRResNet(scale=2, num_blocks=2, filters=4, hr_size=HR, batch_norm=False,
                        bicubic_skip=True, content_loss="l1")
    layers_ = srresnet.generator.layers
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in layers_)
    assert all(layer.use_bias for layer in layers_ if isinstance(layer, keras.layers.Conv2D))
    with_norm = SRResNet(scale=2, num_blocks=2, filters=4)
    assert sum(isinstance(layer, keras.layers.BatchNormalization)
               for layer in with_norm.generator.layers) == 5  # 2 per block + the trunk's
    # Without batch norm, training and inference compute the same function.
    np.testing.assert_allclose(srresnet.generator(low, training=True),
                               srresnet.generator(low, training=False), atol=1e-6)
    srresnet.compile(g_optimizer=keras.optimizers.Adam(1e-3))
    before = [w.copy() for w in srresnet.generator.get_weights()]
    history = srresnet.fit(low, high, batch_size=2, epochs=2, verbose=0).history
    # The logged content loss is the L1 one: its first value is the untrained mean |error|.
    assert history["content_loss"][0] == pytest.approx(
        float(np.mean(np.abs(bicubic_upscale(low[:2], 2) - high[:2])) / 2
              + np.mean(np.abs(bicubic_upscale(low[2:], 2) - high[2:])) / 2), rel=0.2)
    assert any(not np.array_equal(a, b) for a, b in
               zip(before, srresnet.generator.get_weights()))
    path = str(tmp_path / "no_bn.keras")
    srresnet.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    assert loaded.batch_norm is False and isinstance(loaded.content_loss, PixelL1)
    np.testing.assert_allclose(loaded.upscale(low), srresnet.upscale(low), atol=1e-6)
    gan = SRGAN.from_pretrained(loaded, d_filters=4, dense_units=8, content_loss="l1")
    assert gan.batch_norm is False and SRGAN.from_config(gan.get_config()).batch_norm is False
    # A file from before the option (no `batch_norm` in its config) keeps the paper's.
    config = with_norm.get_config()
    config.pop("batch_norm", None)
    assert SRResNet.from_config(config).batch_norm is True
    with pytest.raises(TypeError, match=r"batch_norm.*received: batch_norm=0"):
        SRResNet(scale=2, batch_norm=0)


def test_optimizer_ema_is_written_into_the_srresnet_and_refused_where_it_cannot_be(tmp_path):
    from keras_gans import registry, training

    low, high = pairs(8, seed=6)
    data = tf.data.Dataset.from_tensor_slices((low, high)).batch(2)

    def create():
        keras.utils.set_random_seed(0)  # the same initial weights in every run
        srresnet = SRResNet(scale=2, num_blocks=1, filters=4, hr_size=HR, seed=0)
        srresnet.compile(g_optimizer=keras.optimizers.Adam(1e-2, use_ema=True,
                                                           ema_momentum=0.9))
        return srresnet

    run_dir = str(tmp_path / "run")
    model = create()
    training.train(model, data, run_dir, epochs=3, save_freq=100, sample_grid=False,
                   tensorboard=False, verbose=0)
    averages = [np.asarray(v) for v in model.optimizer._model_variables_moving_average]
    final = registry.load_file(os.path.join(run_dir, training.FINAL))
    # `fit` ended by writing the moving average into the weights: the saved model has it.
    for weight, average in zip(final.generator.trainable_weights, averages):
        np.testing.assert_allclose(np.asarray(weight), average, atol=1e-7)
    # Killed after the last checkpoint (the raw weights) and before `model.keras`: the
    # rerun writes the average too, not the checkpoint's raw weights.
    os.remove(os.path.join(run_dir, training.FINAL))
    resumed, was_resumed = training.resume_or_create(run_dir, create)
    assert was_resumed
    raw = [np.asarray(w) for w in resumed.generator.trainable_weights]
    assert any(not np.allclose(w, a) for w, a in zip(raw, averages))
    assert training.train(resumed, data, run_dir, epochs=3, save_freq=100,
                          verbose=0) is None
    rewritten = registry.load_file(os.path.join(run_dir, training.FINAL))
    for weight, average in zip(rewritten.generator.trainable_weights, averages):
        np.testing.assert_allclose(np.asarray(weight), average, atol=1e-7)
    # Interrupted mid-epoch and resumed: the resumed run goes on from the trained weights
    # (not from the average the first `fit` of the resume writes) and ends as the
    # uninterrupted run did.

    class Interrupt(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if int(self.model.optimizer.iterations.numpy()) == 5:
                raise KeyboardInterrupt

    cut_dir = str(tmp_path / "cut")
    with pytest.raises(KeyboardInterrupt):
        training.train(create(), data, cut_dir, epochs=3, save_freq=100, sample_grid=False,
                       tensorboard=False, verbose=0, callbacks=[Interrupt()])
    model, _ = training.resume_or_create(cut_dir, create)
    assert int(model.optimizer.iterations.numpy()) == 5  # in epoch 2 of 3 (4 steps each)
    training.train(model, data, cut_dir, epochs=3, save_freq=100, sample_grid=False,
                   tensorboard=False, verbose=0)
    for weight, average in zip(model.generator.trainable_weights, averages):
        np.testing.assert_allclose(np.asarray(weight), average, rtol=1e-5, atol=1e-6)
    # An SRGAN's generator optimizer does not train the discriminator: Keras would fail at
    # the end of `fit`, so `compile` refuses it, naming the argument, and leaves the
    # model as it was.
    gan = tiny_gan()
    with pytest.raises(ValueError, match=r"`g_optimizer`.*use_ema=True.*generator, "
                                         r"discriminator"):
        gan.compile(g_optimizer=keras.optimizers.Adam(use_ema=True))
    with pytest.raises(ValueError, match=r"`d_optimizer`.*use_ema=True"):
        gan.compile(d_optimizer=keras.optimizers.Adam(use_ema=True))
    assert not gan.compiled and getattr(gan, "g_optimizer", None) is None


def _adversarial_gan():
    gan = tiny_gan()
    gan.compile()
    return gan


def test_adversarial_save_load_continue_in_a_fresh_process(tmp_path):
    low, high = pairs(6, seed=4)
    batches = [(low[i:i + 2], high[i:i + 2]) for i in (0, 2, 4)]
    run_resume_test(_adversarial_gan, batches, tmp_path)


# --- DiffAugment of the discriminator's images ---

ALL_OPS = ("color", "translation", "cutout")


def test_generator_gradient_flows_through_the_augmentation():
    gan = tiny_gan(augment=ALL_OPS, seed=3)
    low, _ = pairs(4)
    g_vars = gan.generator.trainable_variables

    def adversarial_grads(augmented):
        with tf.GradientTape() as tape:
            super_res = gan.generator(low, training=True)
            seen = gan._augment(super_res, 2) if augmented else super_res
            loss = losses_lib.non_saturating_generator_loss(
                gan.discriminator(seen, training=True))
        return [np.asarray(g) for g in tape.gradient(loss, g_vars)]

    augmented, plain = adversarial_grads(True), adversarial_grads(False)
    assert all(g is not None and np.all(np.isfinite(g)) for g in augmented)
    assert sum(np.abs(g).sum() for g in augmented) > 0
    assert any(not np.allclose(a, b) for a, b in zip(augmented, plain))


def _fit_two_steps(gan, low, high):
    gan.compile()
    gan.fit(low, high, batch_size=2, epochs=1, shuffle=False, verbose=0)
    return state(gan)


def test_augment_none_never_augments_and_augment_changes_training(monkeypatch):
    low, high = pairs(4, seed=3)
    keras.utils.set_random_seed(5)
    augmented = _fit_two_steps(tiny_gan(augment=ALL_OPS, seed=1), low, high)
    keras.utils.set_random_seed(5)
    again = tiny_gan(augment=ALL_OPS, seed=1)
    for a, b in zip(_fit_two_steps(again, low, high), augmented):
        np.testing.assert_array_equal(a, b)  # stateless in (seed, step)
    assert int(again.noise_step.numpy()) == 2

    def refuse(*args, **kwargs):
        raise AssertionError("augment=None must not build an augmentation")

    monkeypatch.setattr(augment_lib, "diff_augment", refuse)
    keras.utils.set_random_seed(5)
    plain = tiny_gan(seed=1)
    plain_state = _fit_two_steps(plain, low, high)
    assert int(plain.noise_step.numpy()) == 0  # the train step is today's
    assert any(not np.allclose(a, b) for a, b in zip(plain_state, augmented))


def test_resume_with_augmentation_is_exact(tmp_path):
    low, high = pairs(6, seed=4)
    batches = [(low[i:i + 2], high[i:i + 2]) for i in (0, 2, 4)]

    def build():
        gan = tiny_gan(augment=ALL_OPS)
        gan.compile()
        return gan

    run_resume_test(build, batches, tmp_path)


def test_augment_config_round_trip_and_errors(tmp_path):
    gan = tiny_gan(augment="translation, cutout")
    assert gan.augment == ("translation", "cutout")
    gan.save(tmp_path / "gan.keras")
    loaded = keras.models.load_model(tmp_path / "gan.keras", safe_mode=True)
    assert loaded.augment == ("translation", "cutout")
    assert gan.get_config()["augment"] == ["translation", "cutout"]  # JSON, as saved
    assert SRGAN.from_config(gan.get_config()).augment == ("translation", "cutout")
    old = {k: v for k, v in gan.get_config().items() if k != "augment"}  # older files
    assert SRGAN.from_config(old).augment is None
    assert SRGAN.from_pretrained(tiny_srresnet(), augment=("color",)).augment == ("color",)
    for bad in ("flip", ("color", "color"), (), 3):
        with pytest.raises(ValueError, match=r"argument `augment`.*received: augment="):
            tiny_gan(augment=bad)
    with pytest.raises(ValueError, match="argument `augment`"):
        SRGAN.from_config({**gan.get_config(), "augment": ["rotate"]})


def test_relativistic_option_trains_round_trips_and_changes_the_game(tmp_path):
    low, high = pairs(4, seed=6)
    keras.utils.set_random_seed(2)
    relativistic = tiny_gan(relativistic=True, adversarial_weight=1.0)
    relativistic_state = _fit_two_steps(relativistic, low, high)
    assert all(np.all(np.isfinite(w)) for w in relativistic_state)
    keras.utils.set_random_seed(2)
    paper = tiny_gan(adversarial_weight=1.0)
    assert paper.relativistic is False
    assert any(not np.allclose(a, b) for a, b in zip(_fit_two_steps(paper, low, high),
                                                     relativistic_state))
    logs = relativistic.evaluate(low, high, batch_size=2, verbose=0, return_dict=True)
    assert np.isfinite(logs["d_loss"]) and np.isfinite(logs["adversarial_loss"])
    relativistic.save(tmp_path / "ra.keras")
    loaded = keras.models.load_model(tmp_path / "ra.keras", safe_mode=True)
    assert loaded.relativistic is True
    old = {k: v for k, v in paper.get_config().items() if k != "relativistic"}
    assert SRGAN.from_config(old).relativistic is False  # files from before the option
    assert SRGAN.from_pretrained(tiny_srresnet(), relativistic=True).relativistic is True
    with pytest.raises(TypeError, match=r"`relativistic`.*received: relativistic='yes'"):
        tiny_gan(relativistic="yes")


def test_high_frequencies_is_the_image_less_its_reflect_padded_gaussian_blur():
    from scipy import ndimage

    from keras_gans.models.srgan import high_frequencies

    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (2, 12, 10, 3)).astype("float32")
    for sigma in (0.7, 1.0, 2.0):
        # scipy's "mirror" is TensorFlow's REFLECT; a radius of ceil(3 sigma), as ours.
        blur = ndimage.gaussian_filter(x, sigma=(0, sigma, sigma, 0), mode="mirror",
                                       truncate=np.ceil(3 * sigma) / sigma)
        np.testing.assert_allclose(keras.ops.convert_to_numpy(high_frequencies(x, sigma)),
                                   x - blur, atol=1e-5)
    flat = np.full((1, 12, 12, 3), 0.3, "float32")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(high_frequencies(flat, 2.0)), 0,
                               atol=1e-6)


def high_frequencies_of(images, dtype):
    from keras_gans.models.srgan import high_frequencies

    return keras.ops.convert_to_numpy(high_frequencies(keras.ops.cast(images, dtype), 1.0))


def test_frequency_separation_hides_the_low_frequencies_from_the_discriminator(tmp_path):
    low, high = pairs(4, seed=7)
    keras.utils.set_random_seed(1)
    gan = tiny_gan(frequency_separation=1.0, adversarial_weight=1.0)
    assert gan.frequency_separation == 1.0
    # What D sees does not change when a constant (a low frequency) is added...
    np.testing.assert_allclose(keras.ops.convert_to_numpy(gan._d_view(high, 0)),
                               keras.ops.convert_to_numpy(gan._d_view(high + 0.25, 0)),
                               atol=1e-5)
    # ... so the adversarial gradient on the generated image has no constant part: summed
    # over each image and channel it vanishes, where the whole-image D's does not.
    def adversarial_gradient(model):
        images = tf.constant(high)
        with tf.GradientTape() as tape:
            tape.watch(images)
            logits = model.discriminator(model._d_view(images, 2), training=True)
            loss = losses_lib.non_saturating_generator_loss(logits)
        return tape.gradient(loss, images).numpy().sum(axis=(1, 2))

    keras.utils.set_random_seed(1)
    plain = tiny_gan(adversarial_weight=1.0)
    assert np.abs(adversarial_gradient(plain)).max() > 1e-4
    np.testing.assert_allclose(adversarial_gradient(gan), 0, atol=1e-6)
    for network in ("generator", "discriminator"):  # the same start (the batch norms'
        # moving statistics moved with the calls above)
        assert not changed(*([w.numpy() for w in getattr(m, network).trainable_weights]
                             for m in (gan, plain)))

    # Through `fit`'s and `evaluate`'s own steps: with the low frequencies hidden, D's
    # score of the real patches ignores a constant added to them; the plain D's does not.
    def d_real(model, shift, train):
        model.compile()
        twin = model.__class__.from_config(model.get_config())
        twin.compile()
        twin.set_weights(model.get_weights())
        images = high + shift
        logs = (twin.train_on_batch(low, images, return_dict=True) if train
                else twin.evaluate(low, images, batch_size=4, verbose=0, return_dict=True))
        return logs["d_real"]

    for train in (True, False):
        assert d_real(gan, 0.0, train) == pytest.approx(d_real(gan, 0.25, train), abs=1e-5)
        assert d_real(plain, 0.0, train) != pytest.approx(d_real(plain, 0.25, train),
                                                          abs=1e-5)
    keras.utils.set_random_seed(2)
    separated_state = _fit_two_steps(gan, low, high)
    assert all(np.all(np.isfinite(w)) for w in separated_state)
    keras.utils.set_random_seed(2)
    assert changed(_fit_two_steps(plain, low, high), separated_state)
    logs = gan.evaluate(low, high, batch_size=2, verbose=0, return_dict=True)
    assert np.isfinite(logs["d_loss"])
    gan.save(tmp_path / "fs.keras")
    loaded = keras.models.load_model(tmp_path / "fs.keras", safe_mode=True)
    assert loaded.frequency_separation == 1.0
    old = {k: v for k, v in plain.get_config().items() if k != "frequency_separation"}
    assert SRGAN.from_config(old).frequency_separation == 0.0  # files from before it
    assert SRGAN.from_pretrained(tiny_srresnet(),
                                 frequency_separation=2).frequency_separation == 2.0
    assert tiny_gan(frequency_separation=None).frequency_separation == 0.0
    for bad in (-1.0, "2", True, float("nan"), 0.2):
        with pytest.raises(ValueError, match="argument `frequency_separation`"):
            tiny_gan(frequency_separation=bad)
    # A Gaussian of 3 sigma = 6 pixels needs patches larger than 6 (reflect padding).
    with pytest.raises(ValueError, match=r"`frequency_separation`.*hr_size=6"):
        tiny_gan(hr_size=6, frequency_separation=2.0)
    # A discriminator of any size: the patches themselves are checked.
    any_size = keras.Sequential([keras.Input((None, None, 3)), keras.layers.Conv2D(2, 3),
                                 keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(1)])
    loose = SRGAN(tiny_generator(2), any_size, scale=2, content_loss="mse",
                  frequency_separation=2.0)
    loose.compile()
    with pytest.raises(ValueError, match=r"frequency_separation=2.*\(4, 6, 6, 3\)"):
        loose.train_on_batch(low[:, :3, :3], high[:, :6, :6])
    bf16 = high_frequencies_of(np.full((1, 8, 8, 3), 0.3, "float32"), "bfloat16")
    assert bf16.dtype == "bfloat16" and np.abs(bf16.astype("float32")).max() == 0


def test_relativistic_train_step_plays_esrgans_game_with_the_updated_discriminator(
        monkeypatch):
    gan = tiny_gan(relativistic=True, adversarial_weight=1.0, seed=3)
    gan.compile(run_eagerly=True)
    low, high = pairs(4, seed=8)
    seen = {}

    def spy(name):
        loss = getattr(losses_lib, name)

        def recorded(real, fake):
            seen[name] = (np.asarray(real), np.asarray(fake))
            return loss(real, fake)

        return recorded

    for name in ("relativistic_average_discriminator_loss",
                 "relativistic_average_generator_loss"):
        monkeypatch.setattr(losses_lib, name, spy(name))

    def refuse(*args, **kwargs):
        raise AssertionError("the paper's losses in a relativistic step")

    monkeypatch.setattr(losses_lib, "minimax_discriminator_loss", refuse)
    monkeypatch.setattr(losses_lib, "non_saturating_generator_loss", refuse)
    super_res = gan.generator(low, training=True).numpy()
    d_real = gan.discriminator(high, training=True).numpy()
    d_fake = gan.discriminator(super_res, training=True).numpy()
    gan.train_on_batch(low, high)

    def close(a, b):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)

    # The discriminator's loss: real patches and the generator's output, in that order.
    d_args = seen["relativistic_average_discriminator_loss"]
    close(d_args[0], d_real)
    close(d_args[1], d_fake)
    # The generator's: both judged by the updated discriminator (ESRGAN's equation 2).
    g_args = seen["relativistic_average_generator_loss"]
    close(g_args[0], gan.discriminator(high, training=True).numpy())
    close(g_args[1], gan.discriminator(super_res, training=True).numpy())
    assert not np.allclose(g_args[0], d_real, atol=1e-5)  # the update came in between
    # And its gradient reached the generator.
    assert changed([super_res], [gan.generator(low, training=True).numpy()])


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
        (lambda: SRResNet(hr_size=18, scale=4), r"hr_size.*scale=4.*hr_size=18"),
        (lambda: tiny_gan(content_loss="l2"), r"content_loss.*'l2'"),
        (lambda: SRGAN(adversarial_weight=-1), r"adversarial_weight.*=-1"),
        (lambda: tiny_srresnet().compile(d_optimizer="adam"), r"`d_optimizer`.*SRResNet.*d_optimizer='adam'"),
        (lambda: tiny_gan(content_loss=VGGFeatureLoss(weights="missing.h5")).compile(),
         r"`weights`.*missing.h5"),
        (lambda: tiny_gan(content_loss=keras.Sequential(
            [keras.Input((32, 32, 3)), keras.layers.Conv2D(2, 3)])).compile(),
         r"content_loss.*32, 32, 3.*\(16, 16, 3\)"),
        (lambda: tiny_gan(content_loss=keras.Sequential(
            [keras.Input((None, None, 3)), keras.layers.Conv2D(2, 17)])).compile(),
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


def test_network_interpolation_blends_the_pretrained_and_adversarial_generators():
    """ESRGAN's network interpolation: alpha 0 is the SRResNet, 1 the SRGAN, between them
    every float weight (batch-norm statistics too) blended; the result upscales like a
    model of its own and survives a save."""
    from keras_gans.utils import interpolate_weights

    srresnet = tiny_srresnet(srresnet=True)
    srresnet.compile()
    low, high = pairs(4)
    srresnet.fit(low, high, batch_size=2, verbose=0)
    start = [w.copy() for w in srresnet.generator.get_weights()]
    gan = SRGAN(generator=keras.models.clone_model(srresnet.generator),
                discriminator=tiny_discriminator(), scale=2, content_loss=PixelMSE())
    gan.generator.set_weights(start)
    gan.compile(g_optimizer=keras.optimizers.Adam(1e-2))
    gan.fit(low, high, batch_size=2, epochs=2, verbose=0)
    end = gan.generator.get_weights()
    assert changed(start, end)

    for alpha, expected in ((0.0, start), (1.0, end)):
        for a, b in zip(interpolate_weights(srresnet.generator, gan.generator, alpha),
                        expected):
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-7)
    half = interpolate_weights(srresnet.generator, end, 0.25)
    moving = [v.path for v in gan.generator.weights].index(
        next(v.path for v in gan.generator.weights if "moving_mean" in v.path))
    for a, b, c in zip(start, end, half):
        assert c.dtype == b.dtype
        np.testing.assert_allclose(c, 0.75 * a + 0.25 * b, rtol=1e-6, atol=1e-7)
    assert not np.allclose(half[moving], end[moving])  # batch-norm statistics blended too
    blended = SRGAN(generator=keras.models.clone_model(gan.generator),
                    discriminator=tiny_discriminator(), scale=2, content_loss=PixelMSE())
    blended.generator.set_weights(half)
    out = blended.upscale(low)
    assert out.shape == high.shape
    assert not np.allclose(out, gan.upscale(low), atol=1e-4)
    assert not np.allclose(out, srresnet.upscale(low), atol=1e-4)

    with pytest.raises(ValueError, match=r"`alpha`.*alpha=1.5"):
        interpolate_weights(srresnet.generator, gan.generator, 1.5)
    with pytest.raises(TypeError, match=r"`alpha`.*'0.5'"):
        interpolate_weights(srresnet.generator, gan.generator, "0.5")
    with pytest.raises(ValueError, match=r"`start` and `end` must be the same network.*"
                                         r"weight 0 has shape"):
        interpolate_weights(tiny_generator(), gan.generator, 0.5)
    with pytest.raises(ValueError, match=r"`start` has 1 weights, `end` 2"):
        interpolate_weights([np.zeros(2)], [np.zeros(2), np.zeros(3)], 0.5)
    # Lists of arrays too; integer weights (counters) come from `end`, numpy alphas work.
    ints = interpolate_weights([np.zeros(2, "float32"), np.array([1, 2])],
                               [np.ones(2, "float32"), np.array([5, 6])], np.float32(0.25))
    np.testing.assert_allclose(ints[0], [0.25, 0.25])
    np.testing.assert_array_equal(ints[1], [5, 6])
    with pytest.raises(TypeError, match=r"`end`.*str"):
        interpolate_weights(srresnet.generator, "generator.keras", 0.5)


def test_resize_upsampling_is_nearest_resize_then_conv_trains_and_carries(tmp_path):
    srresnet = SRResNet(scale=4, num_blocks=1, filters=4, hr_size=32, bicubic_skip=True,
                        upsampling="resize")
    generator = srresnet.generator
    assert not any(isinstance(layer, PixelShuffle) for layer in generator.layers)
    assert [layer.name for layer in generator.layers
            if isinstance(layer, keras.layers.UpSampling2D)] == ["up0_resize", "up1_resize"]
    # Each 2x stage: nearest-neighbour resize, then a 3x3 convolution of `filters` maps.
    rng = np.random.default_rng(0)
    for weight in generator.trainable_weights:  # non-trivial weights (not the BN statistics)
        weight.assign(rng.normal(0, 0.3, weight.shape).astype("float32"))
    x = rng.uniform(-1, 1, (2, 8, 8, 3)).astype("float32")
    probe = keras.Model(generator.input, [generator.get_layer("global_skip").output,
                                          generator.get_layer("up0_conv").output])
    before, after = (t.numpy() for t in probe(x, training=False))
    nearest = before.repeat(2, axis=1).repeat(2, axis=2)
    conv = generator.get_layer("up0_conv")
    kernel, bias = conv.get_weights()
    expected = tf.nn.conv2d(nearest, kernel, 1, "SAME").numpy() + bias
    assert after.shape == (2, 16, 16, 4) and np.isfinite(after).all()
    assert np.abs(after).max() > 0.1  # a real signal, not zeros
    np.testing.assert_allclose(after, expected, atol=1e-4)
    # Trains, saves, loads in safe mode and passes the option on to the second phase.
    srresnet.compile(g_optimizer=keras.optimizers.Adam(1e-3))
    low, high = pairs(4, scale=4, hr_size=32, seed=6)
    weights = [w.copy() for w in generator.get_weights()]
    srresnet.fit(low, high, batch_size=2, epochs=1, verbose=0)
    assert any(not np.array_equal(a, b) for a, b in zip(weights, generator.get_weights()))
    path = str(tmp_path / "resize.keras")
    srresnet.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    assert loaded.upsampling == "resize"
    upscaled = srresnet.upscale(low)
    assert np.isfinite(upscaled).all()
    np.testing.assert_allclose(loaded.upscale(low), upscaled, atol=1e-6)
    gan = SRGAN.from_pretrained(loaded, d_filters=4, dense_units=8, content_loss="mse")
    assert gan.upsampling == "resize"
    assert SRGAN.from_config(gan.get_config()).upsampling == "resize"
    # A file from before the option (no `upsampling` in its config) keeps the paper's.
    config = SRResNet(scale=2, num_blocks=1, filters=4).get_config()
    config.pop("upsampling")
    assert SRResNet.from_config(config).upsampling == "subpixel"
    with pytest.raises(ValueError, match=r"`upsampling`.*received: upsampling='bilinear'"):
        SRResNet(scale=2, upsampling="bilinear")
