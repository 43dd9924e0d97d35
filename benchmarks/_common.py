"""Shared pieces of the speed benchmarks: the variants at their zoo sizes, the Keras
networks (built by keras_gans), their PyTorch twins, and timing helpers.

The PyTorch networks are layer-for-layer the same architectures (same kernels, strides,
widths, normalisations and activations) so a comparison measures the frameworks, not
the models. Weights are not copied: speed does not depend on their values.
"""

import contextlib
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras
import numpy as np
import tensorflow as tf

# --- Variants at their zoo sizes ---

#: name -> the zoo recipe's networks and batch (zoo/*.py; CycleGAN and SRGAN: the sizes
#: of their documented examples). `dcgan_tutorial` is the TensorFlow DCGAN tutorial's
#: networks, the issue's baseline.
VARIANTS = {
    "dcgan_tutorial": {"family": "gan", "image_shape": (28, 28, 1), "latent_dim": 100,
                       "batch": 256},
    "dcgan": {"family": "gan", "image_shape": (28, 28, 1), "latent_dim": 64,
              "base_filters": 64, "batch": 64},
    "lsgan": {"family": "gan", "image_shape": (28, 28, 1), "latent_dim": 64,
              "base_filters": 64, "batch": 128},
    "wgan_gp": {"family": "gan", "image_shape": (28, 28, 1), "latent_dim": 64,
                "base_filters": 64, "batch": 64, "n_critic": 1, "normalization": "layer"},
    # The zoo DCGAN with the generator's `upsampling="resize"` (nearest resize + 3x3
    # convolution) in place of the paper's transposed convolutions.
    "dcgan_resize": {"family": "gan", "image_shape": (28, 28, 1), "latent_dim": 64,
                     "base_filters": 64, "batch": 64, "upsampling": "resize"},
    "cyclegan": {"family": "cyclegan", "image_shape": (32, 32, 1), "filters": 32,
                 "blocks": 3, "d_filters": 64, "batch": 16},
    "srgan": {"family": "srgan", "scale": 4, "blocks": 8, "filters": 32, "hr_size": 64,
              "channels": 3, "batch": 16},
    # The same networks with Keras's own `BatchNormalization` where the builders use
    # `keras_gans.layers.FusedBatchNormalization` (since 2026-12-07): what the fused
    # kernel buys, measured in the same run.
    "dcgan_keras_bn": {"family": "gan", "image_shape": (28, 28, 1), "latent_dim": 64,
                       "base_filters": 64, "batch": 64, "batch_norm": "keras"},
    "srgan_keras_bn": {"family": "srgan", "scale": 4, "blocks": 8, "filters": 32,
                       "hr_size": 64, "channels": 3, "batch": 16, "batch_norm": "keras"},
}


@contextlib.contextmanager
def builders_batch_norm(kind):
    """Builds the networks with the builders' batch norm (`"fused"`, keras_gans's
    `FusedBatchNormalization`) or with `keras.layers.BatchNormalization` (`"keras"`)."""
    from unittest import mock

    from keras_gans.models import dcgan, srgan, srresnet

    if kind == "fused":
        yield
        return
    with contextlib.ExitStack() as stack:
        for module in (dcgan, srgan, srresnet):
            stack.enter_context(mock.patch.object(
                module, "FusedBatchNormalization", keras.layers.BatchNormalization))
        yield


@contextlib.contextmanager
def keras_policy(name):
    """Builds layers under the Keras dtype policy `name` ("float32", "mixed_bfloat16")."""
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(name)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


def tutorial_generator(latent_dim=100):
    """The generator of the TensorFlow DCGAN tutorial (tensorflow.org/tutorials/generative/dcgan)."""
    layers = keras.layers
    z = keras.Input((latent_dim,))
    x = layers.Dense(7 * 7 * 256, use_bias=False)(z)
    x = layers.LeakyReLU()(layers.BatchNormalization()(x))
    x = layers.Reshape((7, 7, 256))(x)
    x = layers.Conv2DTranspose(128, 5, strides=1, padding="same", use_bias=False)(x)
    x = layers.LeakyReLU()(layers.BatchNormalization()(x))
    x = layers.Conv2DTranspose(64, 5, strides=2, padding="same", use_bias=False)(x)
    x = layers.LeakyReLU()(layers.BatchNormalization()(x))
    x = layers.Conv2DTranspose(1, 5, strides=2, padding="same", use_bias=False)(x)
    return keras.Model(z, layers.Activation("tanh", dtype="float32")(x), name="generator")


def tutorial_discriminator():
    """The discriminator of the TensorFlow DCGAN tutorial."""
    layers = keras.layers
    images = keras.Input((28, 28, 1))
    x = layers.LeakyReLU()(layers.Conv2D(64, 5, strides=2, padding="same")(images))
    x = layers.Dropout(0.3)(x)
    x = layers.LeakyReLU()(layers.Conv2D(128, 5, strides=2, padding="same")(x))
    x = layers.Dropout(0.3)(x)
    x = layers.Dense(1)(layers.Flatten()(x))
    return keras.Model(images, layers.Activation("linear", dtype="float32")(x),
                       name="discriminator")


def keras_networks(name):
    """The variant's Keras networks, as keras_gans builds them (a dict of models)."""
    cfg = VARIANTS[name]
    if name == "dcgan_tutorial":
        return {"generator": tutorial_generator(cfg["latent_dim"]),
                "discriminator": tutorial_discriminator()}
    with builders_batch_norm(cfg.get("batch_norm", "fused")):
        return _built_networks(cfg)


def _built_networks(cfg):
    from keras_gans.models import cyclegan, dcgan, srgan

    if cfg["family"] == "gan":
        return {
            "generator": dcgan.build_generator(
                cfg["image_shape"], cfg["latent_dim"], cfg["base_filters"],
                upsampling=cfg.get("upsampling", "transposed")),
            "discriminator": dcgan.build_discriminator(
                cfg["image_shape"], cfg["base_filters"],
                normalization=cfg.get("normalization", "batch")),
        }
    if cfg["family"] == "cyclegan":
        c = cfg["image_shape"][-1]
        return {
            "generator_a2b": cyclegan.build_resnet_generator(c, cfg["filters"], cfg["blocks"],
                                                             name="generator_a2b"),
            "generator_b2a": cyclegan.build_resnet_generator(c, cfg["filters"], cfg["blocks"],
                                                             name="generator_b2a"),
            "discriminator_a": cyclegan.build_patchgan_discriminator(
                c, cfg["d_filters"], name="discriminator_a"),
            "discriminator_b": cyclegan.build_patchgan_discriminator(
                c, cfg["d_filters"], name="discriminator_b"),
        }
    return {
        "generator": srgan.build_generator(cfg["scale"], cfg["blocks"], cfg["filters"],
                                           cfg["channels"]),
        "discriminator": srgan.build_discriminator(cfg["hr_size"], cfg["channels"]),
    }


def keras_gans_model(name, policy="float32", pool_size=None, jit_compile=False,
                     steps_per_execution=1):
    """The keras_gans model of the variant, compiled with its defaults (and
    `jit_compile=True`, XLA, or Keras's `steps_per_execution`, when asked)."""
    from keras_gans.models.cyclegan import CycleGAN
    from keras_gans.models.dcgan import DCGAN
    from keras_gans.models.lsgan import LSGAN
    from keras_gans.models.srgan import SRGAN
    from keras_gans.models.wgan_gp import WGANGP

    cfg = VARIANTS[name]
    options = {"jit_compile": True} if jit_compile else {}
    if steps_per_execution != 1:
        options["steps_per_execution"] = steps_per_execution
    with keras_policy(policy):
        nets = keras_networks(name)
        if cfg["family"] == "gan":
            cls = {"lsgan": LSGAN, "wgan_gp": WGANGP}.get(name, DCGAN)
            kwargs = {"n_critic": cfg["n_critic"]} if name == "wgan_gp" else {}
            model = cls(nets["generator"], nets["discriminator"], seed=0, **kwargs)
            model.compile(**options)
        elif cfg["family"] == "cyclegan":
            model = CycleGAN(**nets, image_shape=cfg["image_shape"], seed=0,
                             **({} if pool_size is None else {"pool_size": pool_size}))
            model.compile(**options)
        else:
            model = SRGAN(nets["generator"], nets["discriminator"], scale=cfg["scale"],
                          content_loss="mse")
            model.compile(**options)
    return model


def batch_shapes(name):
    """Shapes of one training batch: a list of `(shape)` per input (uint8-free floats)."""
    cfg = VARIANTS[name]
    b = cfg["batch"]
    if cfg["family"] == "gan":
        return [(b, *cfg["image_shape"])]
    if cfg["family"] == "cyclegan":
        return [(b, *cfg["image_shape"])] * 2
    hr, s, c = cfg["hr_size"], cfg["scale"], cfg["channels"]
    return [(b, hr // s, hr // s, c), (b, hr, hr, c)]


def random_batches(name, count=4, seed=0):
    """`count` random batches in [-1, 1] (numpy), each a tuple of arrays."""
    rng = np.random.default_rng(seed)
    return [tuple(rng.uniform(-1, 1, shape).astype("float32") for shape in batch_shapes(name))
            for _ in range(count)]


def in_memory_dataset(batches):
    """An endless tf.data of the given batches, autotune off (as keras_gans.data)."""
    columns = [np.concatenate([b[i] for b in batches]) for i in range(len(batches[0]))]
    batch = len(batches[0][0])
    ds = tf.data.Dataset.from_tensor_slices(tuple(columns) if len(columns) > 1 else columns[0])
    ds = ds.batch(batch, drop_remainder=True).cache().repeat().prefetch(2)
    options = tf.data.Options()
    options.autotune.enabled = False
    return ds.with_options(options)


# --- PyTorch twins ---


def torch_networks(name):
    """The variant's networks in PyTorch (NCHW), same architecture as `keras_networks`."""
    import torch
    from torch import nn

    cfg = VARIANTS[name]

    class Reshape(nn.Module):
        def __init__(self, *shape):
            super().__init__()
            self.shape = shape

        def forward(self, x):
            return x.view(x.shape[0], *self.shape)

    if name == "dcgan_tutorial":
        g = nn.Sequential(
            nn.Linear(cfg["latent_dim"], 7 * 7 * 256, bias=False), nn.BatchNorm1d(7 * 7 * 256),
            nn.LeakyReLU(0.3), Reshape(256, 7, 7),
            nn.ConvTranspose2d(256, 128, 5, 1, 2, bias=False), nn.BatchNorm2d(128),
            nn.LeakyReLU(0.3),
            nn.ConvTranspose2d(128, 64, 5, 2, 2, output_padding=1, bias=False),
            nn.BatchNorm2d(64), nn.LeakyReLU(0.3),
            nn.ConvTranspose2d(64, 1, 5, 2, 2, output_padding=1, bias=False), nn.Tanh())
        d = nn.Sequential(
            nn.Conv2d(1, 64, 5, 2, 2), nn.LeakyReLU(0.3), nn.Dropout(0.3),
            nn.Conv2d(64, 128, 5, 2, 2), nn.LeakyReLU(0.3), nn.Dropout(0.3),
            nn.Flatten(), nn.Linear(7 * 7 * 128, 1))
        return {"generator": g, "discriminator": d}

    if cfg["family"] == "gan":
        from keras_gans.models.dcgan import upsampling_stages

        h, w, c = cfg["image_shape"]
        stages = upsampling_stages(h, w)
        f = cfg["base_filters"] * 2 ** (stages - 1)
        g_layers = [nn.Linear(cfg["latent_dim"], (h >> stages) * (w >> stages) * f, bias=False),
                    Reshape(f, h >> stages, w >> stages), nn.BatchNorm2d(f), nn.ReLU()]
        def upsample(in_c, out_c, bias):
            if cfg.get("upsampling", "transposed") == "transposed":
                return [nn.ConvTranspose2d(in_c, out_c, 4, 2, 1, bias=bias)]
            return [nn.Upsample(scale_factor=2, mode="nearest"),
                    nn.Conv2d(in_c, out_c, 3, 1, 1, bias=bias)]

        for _ in range(stages - 1):
            g_layers += [*upsample(f, f // 2, False), nn.BatchNorm2d(f // 2), nn.ReLU()]
            f //= 2
        g_layers += [*upsample(f, c, True), nn.Tanh()]
        normalization = cfg.get("normalization", "batch")
        f, d_layers, size = cfg["base_filters"], [], h
        in_c = c
        for i in range(stages):
            d_layers.append(nn.Conv2d(in_c, f, 4, 2, 1,
                                      bias=i == 0 or normalization == "none"))
            if i > 0 and normalization == "batch":
                d_layers.append(nn.BatchNorm2d(f))
            elif i > 0 and normalization == "layer":  # Keras: axis [1, 2, 3], eps 1e-3
                d_layers.append(nn.LayerNorm([f, size // 2, (w >> i) // 2], eps=1e-3))
            d_layers.append(nn.LeakyReLU(0.2))
            in_c, f, size = f, f * 2, size // 2
        d_layers += [nn.Flatten(), nn.Linear(in_c * size * (w >> stages), 1)]
        return {"generator": nn.Sequential(*g_layers), "discriminator": nn.Sequential(*d_layers)}

    if cfg["family"] == "cyclegan":
        def inorm(ch):
            return nn.InstanceNorm2d(ch, affine=True, eps=1e-5)

        class Residual(nn.Module):
            def __init__(self, ch):
                super().__init__()
                self.body = nn.Sequential(
                    nn.ReflectionPad2d(1), nn.Conv2d(ch, ch, 3, bias=False), inorm(ch),
                    nn.ReLU(), nn.ReflectionPad2d(1), nn.Conv2d(ch, ch, 3, bias=False),
                    inorm(ch))

            def forward(self, x):
                return x + self.body(x)

        def generator():
            c, f = cfg["image_shape"][-1], cfg["filters"]
            return nn.Sequential(
                nn.ReflectionPad2d(3), nn.Conv2d(c, f, 7, bias=False), inorm(f), nn.ReLU(),
                nn.Conv2d(f, 2 * f, 3, 2, 1, bias=False), inorm(2 * f), nn.ReLU(),
                nn.Conv2d(2 * f, 4 * f, 3, 2, 1, bias=False), inorm(4 * f), nn.ReLU(),
                *[Residual(4 * f) for _ in range(cfg["blocks"])],
                nn.ConvTranspose2d(4 * f, 2 * f, 3, 2, 1, output_padding=1, bias=False),
                inorm(2 * f), nn.ReLU(),
                nn.ConvTranspose2d(2 * f, f, 3, 2, 1, output_padding=1, bias=False),
                inorm(f), nn.ReLU(),
                nn.ReflectionPad2d(3), nn.Conv2d(f, c, 7), nn.Tanh())

        def discriminator():
            c, f = cfg["image_shape"][-1], cfg["d_filters"]
            mods = [nn.Conv2d(c, f, 4, 2, 1), nn.LeakyReLU(0.2)]
            in_c = f
            for i in range(1, 4):
                width = f * min(2 ** i, 8)
                if i < 3:
                    mods.append(nn.Conv2d(in_c, width, 4, 2, 1, bias=False))
                else:  # stride 1, "same" (TF pads 1 before, 2 after)
                    mods += [nn.ZeroPad2d((1, 2, 1, 2)), nn.Conv2d(in_c, width, 4, bias=False)]
                mods += [inorm(width), nn.LeakyReLU(0.2)]
                in_c = width
            mods += [nn.ZeroPad2d((1, 2, 1, 2)), nn.Conv2d(in_c, 1, 4)]
            return nn.Sequential(*mods)

        return {"generator_a2b": generator(), "generator_b2a": generator(),
                "discriminator_a": discriminator(), "discriminator_b": discriminator()}

    # SRGAN
    f, c, s = cfg["filters"], cfg["channels"], cfg["scale"]

    class SRResNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.head = nn.Sequential(nn.Conv2d(c, f, 9, padding=4), nn.PReLU(f))
            self.blocks = nn.ModuleList(nn.Sequential(
                nn.Conv2d(f, f, 3, padding=1, bias=False), nn.BatchNorm2d(f), nn.PReLU(f),
                nn.Conv2d(f, f, 3, padding=1, bias=False), nn.BatchNorm2d(f))
                for _ in range(cfg["blocks"]))
            self.trunk = nn.Sequential(nn.Conv2d(f, f, 3, padding=1, bias=False),
                                       nn.BatchNorm2d(f))
            up = []
            for _ in range(int(np.log2(s))):
                up += [nn.Conv2d(f, 4 * f, 3, padding=1), nn.PixelShuffle(2), nn.PReLU(f)]
            self.up = nn.Sequential(*up, nn.Conv2d(f, c, 9, padding=4), nn.Tanh())

        def forward(self, x):
            head = x = self.head(x)
            for block in self.blocks:
                x = x + block(x)
            return self.up(head + self.trunk(x))

    df, mods, in_c, size = 64, [], c, cfg["hr_size"]
    mods += [nn.Conv2d(c, df, 3, padding=1), nn.LeakyReLU(0.2)]
    in_c = df
    for width, stride in [(df, 2), (2 * df, 1), (2 * df, 2), (4 * df, 1), (4 * df, 2),
                          (8 * df, 1), (8 * df, 2)]:
        mods += [nn.Conv2d(in_c, width, 3, stride, 1, bias=False), nn.BatchNorm2d(width),
                 nn.LeakyReLU(0.2)]
        in_c, size = width, size // stride
    mods += [nn.Flatten(), nn.Linear(in_c * size * size, 1024), nn.LeakyReLU(0.2),
             nn.Linear(1024, 1)]
    del torch
    return {"generator": SRResNet(), "discriminator": nn.Sequential(*mods)}


def torch_batches(batches):
    """numpy NHWC batches -> torch NCHW tensors."""
    import torch

    return [tuple(torch.from_numpy(np.ascontiguousarray(a.transpose(0, 3, 1, 2))) for a in b)
            for b in batches]


def torch_available():
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


# --- Measuring ---


def median(values):
    return statistics.median(values) if values else float("nan")


def spread(values):
    """`{"median", "iqr", "min", "max"}` of `values`; the last three as fractions of the
    median (IQR: the 75th minus the 25th percentile)."""
    if not values:
        return {"median": float("nan"), "iqr": float("nan"), "min": float("nan"),
                "max": float("nan")}
    m = statistics.median(values)
    q1, q3 = np.percentile(values, [25, 75])
    return {"median": m, "iqr": (q3 - q1) / m, "min": min(values) / m - 1,
            "max": max(values) / m - 1}


def format_spread(values, kind="range"):
    """The spread of `values` around their median, as text: `IQR 1.2%` or
    `range -0.8%..+1.1%`."""
    s = spread(values)
    if kind == "iqr":
        return f"IQR {s['iqr']:.1%}"
    return f"range {s['min']:+.1%}..{s['max']:+.1%}"


def matmul_ceiling(dtype="float32", n=2048, repeats=10):
    """GFLOP/s of one large `tf.matmul` on this machine (the fp32 compute ceiling)."""
    a = tf.random.normal((n, n), dtype=dtype)
    b = tf.random.normal((n, n), dtype=dtype)
    fn = tf.function(lambda a, b: tf.matmul(a, b))
    fn(a, b).numpy()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(a, b).numpy()
        times.append(time.perf_counter() - start)
    return 2 * n**3 / min(times) / 1e9


def cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def native_bf16():
    """Whether the CPU does bfloat16 arithmetic in hardware (AVX512-BF16 or AMX)."""
    return bool(cpu_flags() & {"avx512_bf16", "amx_bf16"})


#: Printed when PyTorch's bf16 runs are skipped: measured on an AVX2-only AMD EPYC,
#: PyTorch 2.13 bf16 convolutions ran at 0.9 GFLOP/s and matmuls at 0.3 (fp32: 21 and
#: 19; TensorFlow bf16: 30 and 21), so one bf16 training step of a zoo model takes
#: minutes.
TORCH_BF16_SKIPPED = ("torch bf16 skipped: this CPU has no native bfloat16 (avx512_bf16 "
                      "or amx_bf16) and PyTorch's bf16 kernels then run ~25x slower than "
                      "fp32; pass --torch-bf16 to run them anyway")


#: The CPU flags that decide which precision pays (printed by `machine_description`).
_FLAGS = (("AVX2", "avx2"), ("FMA", "fma"), ("AVX-512", "avx512f"),
          ("AVX512-BF16", "avx512_bf16"), ("AVX512-FP16", "avx512_fp16"),
          ("AMX-BF16", "amx_bf16"))


def machine_description():
    """CPU model, core count and the precision-relevant flags, and the versions."""
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f
                        if line.startswith("model name")), cpu)
    except OSError:
        pass
    flags = cpu_flags()
    listed = ", ".join(f"{label} {'yes' if flag in flags else 'no'}" for label, flag in _FLAGS)
    return (f"{cpu} ({os.cpu_count()} CPUs; {listed}); TensorFlow {tf.__version__}, "
            f"Keras {keras.__version__}")


def load_report(when, others=None):
    """The load average at `when`; with `others` (an `OtherProcesses` started with the
    run), the CPU the other processes took meanwhile, and a warning when it is above
    0.25 cores: they then shared the cores and every figure is inflated and scattered.

    The load average alone cannot say that: the benchmark's own threads keep it near the
    core count, and a chained run starts with the previous one's still in it."""
    if not hasattr(os, "getloadavg"):
        line = f"load average unknown at {when}"
    else:
        one, five, fifteen = os.getloadavg()
        line = (f"load average {one:.2f} {five:.2f} {fifteen:.2f} at {when} "
                f"({os.cpu_count() or 1} CPUs)")
    if others is not None:
        cores = others.cores()
        others.last = cores
        if cores is None:
            line += "; other processes' CPU unknown (no /proc/stat)"
        else:
            line += (f"; other processes used {cores:.2f} cores on average since the "
                     "start (the machine's busy CPU time minus this process's)")
            if cores > 0.25:
                line += (f"\nWARNING: other processes used {cores:.2f} cores while this "
                         "ran: these are not quiet-machine figures")
    return line


class OtherProcesses:
    """CPU time used by processes other than this one since it was created, in cores:
    the busy time of the CPUs it may run on (`/proc/stat`: user, nice, system, irq,
    softirq, steal) minus this process's (`os.times`, its threads included), over the
    wall time."""

    def __init__(self):
        self._start = self._sample()
        self.last = None  # the figure `load_report` printed last

    @staticmethod
    def _sample():
        # Only the CPUs this process may run on (a container's share of a larger host).
        allowed = (os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None)
        busy = 0
        try:
            with open("/proc/stat", encoding="ascii") as f:
                for line in f:
                    name, *fields = line.split()
                    if not name.startswith("cpu") or name == "cpu":
                        continue
                    if allowed is not None and int(name[3:]) not in allowed:
                        continue
                    values = [int(v) for v in fields[:8]]
                    busy += sum(values) - values[3] - values[4]
        except (OSError, ValueError):
            return None
        busy /= os.sysconf("SC_CLK_TCK")
        own = os.times()
        return time.monotonic(), busy, own.user + own.system

    def cores(self):
        end = self._sample()
        if self._start is None or end is None or end[0] <= self._start[0]:
            return None
        wall = end[0] - self._start[0]
        others = (end[1] - self._start[1]) - (end[2] - self._start[2])
        return max(0.0, others / wall)


# --- Two runs that must agree ---


def _without_option(argv, option, takes_value):
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg == option:
            skip = takes_value
            continue
        if arg.startswith(option + "="):
            continue
        out.append(arg)
    return out


def add_repeat_options(parser):
    """The options every benchmark has: `--repeat N`, `--json FILE` and `--malloc`."""
    parser.add_argument("--repeat", type=int, default=1,
                        help="run everything this many times, each in a fresh process, "
                             "and check that every ratio agrees within 3%%")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--malloc", choices=MALLOC_MODES, default="retain",
                        help="retain (default): glibc malloc keeps freed memory for reuse "
                             "(mallopt, see _common.set_malloc); glibc: its defaults, under "
                             "which PyTorch's large tensors page-fault on every allocation")


#: `--malloc` settings: glibc's defaults, or memory kept for reuse.
MALLOC_MODES = ("retain", "glibc")


def set_malloc(mode):
    """Sets glibc malloc's behaviour for this process; returns what was done, in words.

    PyTorch's CPU allocator hands every tensor to `malloc` and `free`. Under glibc's
    defaults an allocation above the (dynamic, 128 KiB to 32 MiB) mmap threshold is a
    fresh `mmap`, freed with `munmap`, and a freed heap top above the trim threshold goes
    back to the kernel: each new large tensor then faults its pages in again. Measured on
    the 2-core Zen 5 of 2026-12-07 (PyTorch 2.13, the zoo DCGAN's generator at batch
    1,024): 149-173 ms a call under glibc's defaults, 70-74 ms with `retain`; TensorFlow's
    signature took 49 ms under both. PyTorch's CPU performance guide advises jemalloc or
    TCMalloc for this; `retain` gets the same from glibc itself, in-process
    (`mallopt`): the mmap threshold fixed at its 32 MiB maximum, and 1 GiB of top pad
    and trim threshold, so freed memory stays with the process. It applies to the whole
    process, TensorFlow included, so both frameworks run under the same allocator. Call it
    first thing in `main` (importing TensorFlow allocates little; the tensors come later);
    `glibc` leaves the defaults."""
    if mode == "glibc":
        return "glibc malloc defaults"
    if mode != "retain":
        raise ValueError(f"--malloc must be one of {', '.join(MALLOC_MODES)}, "
                         f"received {mode!r}")
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return "retain requested, not applied (no glibc mallopt here)"
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    m_trim_threshold, m_top_pad, m_mmap_threshold = -1, -2, -3
    done = [mallopt(m_mmap_threshold, 32 << 20), mallopt(m_top_pad, 1 << 30),
            mallopt(m_trim_threshold, 1 << 30)]
    if not all(done):
        return f"retain requested, mallopt refused some settings ({done})"
    return "malloc retains freed memory (mallopt: mmap threshold 32 MiB, top pad and " \
           "trim threshold 1 GiB)"


def parse_or_repeat(parser, script):
    """`parser.parse_args()`; with `--repeat N` > 1 the runs happen here and it exits."""
    args = parser.parse_args()
    if args.repeat > 1:
        raise SystemExit(run_repeated(os.path.abspath(script), sys.argv[1:], args.repeat,
                                      json_path=args.json))
    return args


def run_repeated(script, argv, repeat, tolerance=0.03, json_path=None):
    """Runs `script` `repeat` times, each in a fresh process with `argv`, and compares the
    `"ratios"` of their JSON results: every ratio must agree within `tolerance`
    (max / min - 1). Returns 0 when all agree, 1 otherwise."""
    import json
    import subprocess
    import tempfile

    argv = _without_option(_without_option(argv, "--repeat", True), "--json", True)
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(repeat):
            path = os.path.join(tmp, f"run{i}.json")
            print(f"\n######## run {i + 1} of {repeat}: {os.path.basename(script)} "
                  f"{' '.join(argv)}", flush=True)
            subprocess.run([sys.executable, script, *argv, "--json", path], check=True)
            with open(path) as f:
                runs.append(json.load(f))
    keys = [k for k in runs[0]["ratios"] if all(k in r["ratios"] for r in runs)]
    print(f"\n######## {repeat} runs: ratios (agree when max / min - 1 <= {tolerance:.0%})")
    differ = 0
    for key in keys:
        values = [r["ratios"][key] for r in runs]
        gap = max(values) / min(values) - 1 if min(values) > 0 else float("inf")
        ok = gap <= tolerance
        differ += not ok
        print(f"  {key:58s} " + " ".join(f"{v:7.3f}" for v in values)
              + f"   {gap:6.1%} {'ok' if ok else 'DIFFER'}")
    for i, r in enumerate(runs):
        start, end = (r.get(k, "?").splitlines()[0] for k in ("load_start", "load_end"))
        print(f"  run {i + 1}: {start} -> {end}")
    verdict = (f"all {len(keys)} ratios agree within {tolerance:.0%}" if not differ else
               f"{differ} of {len(keys)} ratios differ by more than {tolerance:.0%}")
    print(f"  {verdict}", flush=True)
    if json_path:
        with open(json_path, "w") as f:
            json.dump({"runs": runs, "agree": not differ, "tolerance": tolerance}, f,
                      indent=2)
    return 0 if not differ else 1
