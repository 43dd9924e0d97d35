"""Scale: every variant under tf.distribute, mixed precision, and no retracing.

Distribution is checked on CPU, in fresh processes (a device split must happen before
TensorFlow initialises):

- one process splits the CPU into 2 logical devices and trains each variant for two
  steps on one device and under `MirroredStrategy` with the same global batch: the
  weights and the logged metrics must agree;
- two worker processes on 127.0.0.1 with `TF_CONFIG` train under
  `MultiWorkerMirroredStrategy`: they must agree with each other and with one device.

Exact agreement needs networks whose examples do not interact: batch norm computes
per-replica statistics unless built with `BatchNormalization(synchronized=True)`, so
the equality checks use networks without it (the zoo networks, with batch norm, are
only checked to train).

Run as a script, this file is the worker: `python test_distribute.py mirrored OUT` or
`python test_distribute.py worker OUT` (with `TF_CONFIG` set).
"""

import json
import os
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

# The GAN-family cases and the rest. LSGAN is DCGAN's train step with another loss, so
# it is left out of the (slow) per-variant checks.
GAN_CASES = ("wgan_gp", "dcgan", "lsgan")
CASES = ("wgan_gp", "dcgan", "cyclegan", "srgan")
# The inpainter is checked under MirroredStrategy only.
MIRRORED_CASES = (*CASES, "inpainter")
# Trained by the two workers of the multi-worker check: a GAN on images and a model on
# (x, y) pairs (SRGAN's pairs take the same path as CycleGAN's).
WORKER_CASES = ("wgan_gp", "cyclegan")
GLOBAL_BATCH = 8
STEPS = 2
# Replicas add their float gradients in another order than one device does; the
# rounding differences (relative 1e-7), amplified by two steps through instance norms
# of 2x2 maps, stay far below 1% of the weights' change, while a wrong gradient scale
# (e.g. losses not divided by the number of replicas, under SGD) is off by ~50%.
RELATIVE_TOL = 1e-2
ATOL = 1e-6


# --- The worker side (runs in the subprocesses) ---


def _tiny_gan_networks(keras):
    """A BN-free generator 4 -> (8, 8, 1) and discriminator (8, 8, 1) -> 1."""
    layers = keras.layers
    z = keras.Input((4,))
    x = layers.Reshape((4, 4, 4))(layers.Dense(64)(z))
    x = layers.Conv2DTranspose(1, 4, strides=2, padding="same")(x)
    generator = keras.Model(z, layers.Activation("tanh", dtype="float32")(x))
    images = keras.Input((8, 8, 1))
    y = layers.LeakyReLU(0.2)(layers.Conv2D(4, 4, strides=2, padding="same")(images))
    discriminator = keras.Model(images, layers.Dense(1)(layers.Flatten()(y)))
    return generator, discriminator


def _tiny_sr_networks(keras):
    """A BN-free x2 upscaler (4, 4, 1) -> (8, 8, 1) and its discriminator."""
    from keras_gans.layers import PixelShuffle

    layers = keras.layers
    low = keras.Input((None, None, 1))
    x = PixelShuffle(2)(layers.Conv2D(4, 3, padding="same")(low))
    generator = keras.Model(low, layers.Activation("tanh", dtype="float32")(x))
    high = keras.Input((8, 8, 1))
    y = layers.LeakyReLU(0.2)(layers.Conv2D(4, 3, strides=2, padding="same")(high))
    discriminator = keras.Model(high, layers.Dense(1)(layers.Flatten()(y)))
    return generator, discriminator


def build_case(name):
    """A compiled model of case `name` (call inside the strategy's scope) and its data."""
    import keras

    from keras_gans import data
    from keras_gans.models.cyclegan import CycleGAN
    from keras_gans.models.dcgan import DCGAN
    from keras_gans.models.inpainter import Inpainter
    from keras_gans.models.lsgan import LSGAN
    from keras_gans.models.srgan import SRGAN
    from keras_gans.models.wgan_gp import WGANGP

    keras.utils.set_random_seed(1)
    rng = np.random.default_rng(0)
    n = GLOBAL_BATCH * STEPS

    def uniform(*shape):
        return rng.uniform(-1, 1, (n, *shape)).astype("float32")

    def sgd():
        return keras.optimizers.SGD(0.05, momentum=0.5)

    if name in GAN_CASES:
        generator, discriminator = _tiny_gan_networks(keras)
        model = {
            # n_critic=2: two critic steps, each with its own noise and GP coefficients.
            "wgan_gp": lambda: WGANGP(generator, discriminator, n_critic=2, seed=3),
            # Instance noise and EMA: every random draw and every EMA update.
            "dcgan": lambda: DCGAN(generator, discriminator, instance_noise=0.1,
                                   label_smoothing=0.1, ema_decay=0.9, seed=3),
            "lsgan": lambda: LSGAN(generator, discriminator, seed=3),
        }[name]()
        # Adam (the default) barely depends on the scale of the gradients; SGD would show
        # a wrong division of the loss by the number of replicas.
        model.compile() if name == "dcgan" else model.compile(d_optimizer=sgd(),
                                                               g_optimizer=sgd())
        return model, (uniform(8, 8, 1), None)
    if name == "cyclegan":
        # Instance normalisation is per example; the history pool (only the first
        # replica's exchange is kept) is off.
        model = CycleGAN.from_shape((8, 8, 1), filters=2, num_residual_blocks=1, d_filters=2,
                                    d_layers=1, pool_size=0, seed=3)
        model.compile(d_optimizer=sgd(), g_optimizer=sgd())
        return model, (uniform(8, 8, 1), uniform(8, 8, 1))
    if name == "srgan":
        generator, discriminator = _tiny_sr_networks(keras)
        model = SRGAN(generator, discriminator, scale=2, content_loss="mse")
        model.compile(d_optimizer=sgd(), g_optimizer=sgd())
        return model, (uniform(4, 4, 1), uniform(8, 8, 1))
    if name == "inpainter":
        # Its masks are inputs (one per image), so replicas split them with the images.
        model = Inpainter.from_shape((16, 16, 1), filters=4, depth=2, d_filters=4,
                                     d_layers=1, seed=3)
        model.compile(d_optimizer=sgd(), g_optimizer=sgd())
        masks = data.inpainting_masks(n, 16, 16, ("box", "free_form"), seed=0)
        return model, (uniform(16, 16, 1), masks)
    raise ValueError(f"unknown case {name!r}")


def train_case(name, strategy):
    """Two steps of case `name` under `strategy`: (initial weights, weights, logs)."""
    with strategy.scope():
        model, (x, y) = build_case(name)
    initial = [w.numpy() for w in model.weights]
    history = model.fit(x, y, batch_size=GLOBAL_BATCH, epochs=1, shuffle=False, verbose=0)
    logs = {k: [float(np.squeeze(v)) for v in values] for k, values in history.history.items()}
    return initial, [w.numpy() for w in model.weights], logs


def _save(path, results):
    arrays, logs = {}, {}
    for case, runs in results.items():
        for run, (initial, weights, run_logs) in runs.items():
            for i, (a, b) in enumerate(zip(initial, weights)):
                arrays[f"{case}/{run}/initial/{i}"] = a
                arrays[f"{case}/{run}/final/{i}"] = b
            logs[f"{case}/{run}"] = run_logs
    np.savez(path + ".npz", **arrays)
    with open(path + ".json", "w") as f:
        json.dump(logs, f)


def main_mirrored(out):
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    assert mirrored.num_replicas_in_sync == 2
    results = {}
    for case in MIRRORED_CASES:
        results[case] = {"single": train_case(case, tf.distribute.get_strategy()),
                         "mirrored": train_case(case, mirrored)}
    # The zoo networks (batch norm in G and D, EMA) train under the strategy too.
    from keras_gans.models.dcgan import DCGAN

    with mirrored.scope():
        model = DCGAN.from_shape((8, 8, 1), latent_dim=4, base_filters=4, ema_decay=0.9)
        model.compile()
    before = model.generator.get_weights()
    history = model.fit(np.random.default_rng(0).uniform(-1, 1, (16, 8, 8, 1)),
                        batch_size=8, verbose=0)
    results["dcgan_batchnorm"] = {"mirrored": (before, model.generator.get_weights(),
                                               history.history)}
    _save(out, results)


def main_worker(out):
    import tensorflow as tf

    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    assert strategy.num_replicas_in_sync == 2
    _save(out, {case: {"worker": train_case(case, strategy)} for case in WORKER_CASES})


# --- The test side ---


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(mode, out, env=None):
    env = dict(os.environ if env is None else env)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = os.pathsep.join([repo, env.get("PYTHONPATH", "")])
    with open(out + ".log", "w") as log:
        return subprocess.Popen([sys.executable, os.path.abspath(__file__), mode, out],
                                env=env, stdout=log, stderr=subprocess.STDOUT)


def _load(path):
    arrays = np.load(path + ".npz")
    with open(path + ".json") as f:
        logs = json.load(f)
    runs = {}
    for key in arrays.files:
        case, run, kind, i = key.split("/")
        runs.setdefault((case, run), {}).setdefault(kind, {})[int(i)] = arrays[key]
    out = {}
    for (case, run), kinds in runs.items():
        initial = [kinds["initial"][i] for i in sorted(kinds["initial"])]
        final = [kinds["final"][i] for i in sorted(kinds["final"])]
        out.setdefault(case, {})[run] = (initial, final, logs[f"{case}/{run}"])
    return out


@pytest.fixture(scope="module")
def distributed_runs(tmp_path_factory):
    """Starts the 2-logical-device process and the two workers together; their results."""
    tmp = tmp_path_factory.mktemp("distribute")
    ports = [_free_port(), _free_port()]
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    processes = {"mirrored": _start("mirrored", str(tmp / "mirrored"))}
    for index in range(2):
        env = dict(os.environ, TF_CONFIG=json.dumps(
            {"cluster": cluster, "task": {"type": "worker", "index": index}}))
        processes[f"worker{index}"] = _start("worker", str(tmp / f"worker{index}"), env)
    start = time.time()
    try:
        for process in processes.values():
            process.wait(timeout=max(30, 600 - (time.time() - start)))
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()
    for name, process in processes.items():
        with open(tmp / f"{name}.log") as f:
            log = f.read()
        assert process.returncode == 0, f"{name} failed:\n{log[-3000:]}"
    return {name: _load(str(tmp / name)) for name in processes}


def _max_change(initial, final):
    # Float weights only: the step counters change anyway.
    return max(float(np.abs(a - b).max()) for a, b in zip(initial, final)
               if a.dtype.kind == "f")


def _assert_trained(initial, final, what):
    change = _max_change(initial, final)
    assert change > 100 * ATOL, f"{what}: the step changed no weight (max change {change})"
    return change


def _assert_same_weights(got, expected, what, change=0.0):
    assert len(got) == len(expected), what
    for i, (a, b) in enumerate(zip(got, expected)):
        np.testing.assert_allclose(a, b, atol=ATOL + RELATIVE_TOL * change, rtol=0,
                                   err_msg=f"{what}: weight #{i}")


@pytest.mark.parametrize("case", MIRRORED_CASES)
def test_mirrored_two_devices_equal_one_device(distributed_runs, case):
    runs = distributed_runs["mirrored"][case]
    single_initial, single, single_logs = runs["single"]
    mirrored_initial, mirrored, mirrored_logs = runs["mirrored"]
    _assert_same_weights(mirrored_initial, single_initial, f"{case} initial")
    change = _assert_trained(single_initial, single, case)
    _assert_same_weights(mirrored, single, f"{case}: 2 replicas vs 1 device", change)
    # The logged metrics are means over the whole global batch, not one replica's.
    assert set(mirrored_logs) == set(single_logs)
    for key in single_logs:
        np.testing.assert_allclose(mirrored_logs[key], single_logs[key], rtol=1e-5,
                                   atol=1e-6, err_msg=f"{case}: log {key}")


def test_mirrored_trains_zoo_networks_with_batch_norm(distributed_runs):
    before, after, logs = distributed_runs["mirrored"]["dcgan_batchnorm"]["mirrored"]
    _assert_trained(before, after, "dcgan with batch norm")
    assert all(np.all(np.isfinite(v)) for v in logs.values()), logs


@pytest.mark.parametrize("case", WORKER_CASES)
def test_multi_worker_agrees_across_workers_and_with_one_device(distributed_runs, case):
    w0_initial, w0, w0_logs = distributed_runs["worker0"][case]["worker"]
    _, w1, w1_logs = distributed_runs["worker1"][case]["worker"]
    single_initial, single, single_logs = distributed_runs["mirrored"][case]["single"]
    _assert_same_weights(w0_initial, single_initial, f"{case} initial")
    change = _assert_trained(w0_initial, w0, case)
    # The workers hold mirrored copies of the same variables.
    _assert_same_weights(w1, w0, f"{case}: worker 1 vs worker 0")
    _assert_same_weights(w0, single, f"{case}: 2 workers vs 1 device", change)
    for key in single_logs:
        np.testing.assert_allclose(w0_logs[key], single_logs[key], rtol=1e-5, atol=1e-6,
                                   err_msg=f"{case}: log {key}")
        np.testing.assert_allclose(w1_logs[key], w0_logs[key], rtol=1e-6,
                                   err_msg=f"{case}: log {key}")


if __name__ == "__main__":
    {"mirrored": main_mirrored, "worker": main_worker}[sys.argv[1]](sys.argv[2])


# --- Mixed precision, tracing, XLA defaults (in this process) ---


def _zoo_model(case):
    """A tiny model of `case` with the zoo's networks (batch norm included), and data."""
    import keras

    from keras_gans.models.cyclegan import CycleGAN
    from keras_gans.models.dcgan import DCGAN
    from keras_gans.models.lsgan import LSGAN
    from keras_gans.models.srgan import SRGAN
    from keras_gans.models.wgan_gp import WGANGP

    rng = np.random.default_rng(0)

    def uniform(*shape):
        return rng.uniform(-1, 1, (8, *shape)).astype("float32")

    keras.utils.set_random_seed(0)
    if case in GAN_CASES:
        cls = {"wgan_gp": WGANGP, "dcgan": DCGAN, "lsgan": LSGAN}[case]
        kwargs = {"n_critic": 2} if case == "wgan_gp" else {"instance_noise": 0.1}
        model = cls.from_shape((8, 8, 1), latent_dim=4, base_filters=4, ema_decay=0.9,
                               **kwargs)
        model.compile()
        return model, (uniform(8, 8, 1), None)
    if case == "cyclegan":
        model = CycleGAN.from_shape((8, 8, 1), filters=2, num_residual_blocks=1, d_filters=2,
                                    d_layers=1, pool_size=2)
        model.compile()
        return model, (uniform(8, 8, 1), uniform(8, 8, 1))
    model = SRGAN(scale=2, num_blocks=1, filters=4, d_filters=4, dense_units=8, hr_size=8,
                  channels=1, content_loss="mse")
    model.compile()
    return model, (uniform(4, 4, 1), uniform(8, 8, 1))


def _served_output(model):
    """What a user gets back: generate / translate / upscale."""
    if hasattr(model, "generate"):
        return model.generate(3, seed=0)
    if hasattr(model, "translate"):
        return model.translate(np.zeros((3, 8, 8, 1), "float32"))
    return model.upscale(np.zeros((3, 4, 4, 1), "float32"))


@pytest.mark.parametrize("case", CASES)
def test_mixed_bfloat16_trains_in_bf16_with_float32_losses_and_outputs(case):
    import keras
    import tensorflow as tf

    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model, (x, y) = _zoo_model(case)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    compute = {layer.compute_dtype for layer in model._flatten_layers() if layer.weights}
    assert "bfloat16" in compute, compute
    # Variables stay float32 (the optimizers update float32 weights).
    assert {v.dtype for v in model.trainable_variables} == {"float32"}
    before = [w.numpy() for w in model.trainable_variables]
    history = model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    for key, values in history.history.items():
        assert np.all(np.isfinite(values)), (key, values)
    assert any(not np.allclose(a, b.numpy()) for a, b in zip(before, model.trainable_variables))
    # The networks end in float32, so the losses see float32 and users get float32.
    if case in GAN_CASES:
        probes = [(model.generator, np.zeros((2, 4), "float32")), (model.discriminator, x)]
    elif case == "cyclegan":
        probes = [(model.generator_a2b, x), (model.discriminator_a, x)]
    else:
        probes = [(model.generator, x), (model.discriminator, y)]
    for net, inputs in probes:
        assert net(inputs[:2], training=False).dtype == tf.float32, net.name
    out = _served_output(model)
    assert out.dtype == np.float32 and np.all(np.abs(out) <= 1.0)


def test_fit_traces_the_train_step_once_and_generate_once():
    import tensorflow as tf

    from keras_gans import data
    from keras_gans.models.dcgan import DCGAN

    gan = DCGAN.from_shape((8, 8, 1), latent_dim=4, base_filters=4)
    gan.compile()
    traces = []
    train_step = gan.train_step

    def counting_train_step(batch):
        traces.append(1)  # Python runs only while TensorFlow traces
        return train_step(batch)

    gan.train_step = counting_train_step
    pixels = np.random.default_rng(0).integers(0, 256, (24, 8, 8), dtype=np.uint8)
    dataset = data.images(pixels, batch_size=8, seed=0)
    gan.fit(dataset, epochs=3, verbose=0, shuffle=False)
    gan.fit(dataset, epochs=1, verbose=0, shuffle=False)  # reuses the traced function
    assert len(traces) == 1
    assert int(gan.g_optimizer.iterations.numpy()) == 12
    fn = gan._get_generate_fn()  # traced once, for any batch size
    assert isinstance(fn, tf.types.experimental.ConcreteFunction)
    for n in (1, 3, 7, 1030):  # 1030: two chunks of different sizes
        assert gan.generate(n, seed=0).shape == (n, 8, 8, 1)
    assert gan._get_generate_fn() is fn


def test_compile_never_jit_compiles_on_cpu_by_default_and_forwards_jit_compile():
    import tensorflow as tf

    from keras_gans.models.cyclegan import CycleGAN
    from keras_gans.models.dcgan import DCGAN

    has_accelerator = any(d.device_type != "CPU" for d in tf.config.list_physical_devices())
    gan = DCGAN.from_shape((8, 8, 1), latent_dim=4, base_filters=4)
    gan.compile()
    # XLA on CPU made the DCGAN train step about 6x slower (issue 9); Keras's "auto"
    # enables it only with an accelerator.
    assert gan.jit_compile is has_accelerator
    gan.compile(jit_compile=True)
    assert gan.jit_compile is True
    assert gan.get_compile_config()["jit_compile"] is True
    cyclegan = CycleGAN.from_shape((8, 8, 1), filters=2, num_residual_blocks=1, d_filters=2,
                                   d_layers=1)
    cyclegan.compile()
    assert cyclegan.jit_compile is has_accelerator


def test_wgan_gp_step_has_no_redundant_critic_passes():
    from keras_gans.models.wgan_gp import WGANGP

    gan = WGANGP.from_shape((8, 8, 1), latent_dim=4, base_filters=4, n_critic=2)
    gan.compile()
    calls = []
    critic_call = gan.discriminator.call

    def counting_call(*args, **kwargs):
        calls.append(1)  # counted while TensorFlow traces the train step
        return critic_call(*args, **kwargs)

    gan.discriminator.call = counting_call
    gan.fit(np.zeros((8, 8, 8, 1), "float32"), batch_size=8, verbose=0)
    # Per critic step: D(real), D(fake) and D(x_hat) for the penalty (its input gradient
    # and the weight gradient reuse those passes); then D(G(z)) for the generator.
    assert len(calls) == 3 * 2 + 1
