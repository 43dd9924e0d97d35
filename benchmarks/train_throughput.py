"""Training throughput: keras_gans `fit` vs a hand-written Keras train step vs PyTorch.

For each variant at its zoo size (see `_common.VARIANTS`), three implementations train
the identical networks on the same batch size:

- `keras_gans`: the package's model and `fit` (what users run);
- `handwritten`: a plain keras.io-style `keras.Model` subclass with its own
  `train_step` (`training=True`, `compile(**kwargs)` forwarded, `SeedGenerator` noise)
  doing the same maths: the floor for any Keras implementation, so the gap is the
  library's overhead;
- `torch`: the same architecture in PyTorch eager (the optional `bench` extra:
  `pip install torch==2.13.0`).

Method (what makes two runs agree):

- warm-up: every implementation is traced, then trains `--warmup-steps` steps and at
  least `--warmup-seconds` before anything is timed (allocations, oneDNN primitive
  caches, thread pools);
- rounds: each round of an implementation lasts at least `--round-seconds` and at
  least `--min-steps` steps (the step count is fixed per implementation from its
  warm-up speed, e.g. ~37 steps for the zoo DCGAN);
- interleaving: `--rounds` rounds run A, B, C, A, B, C, ... in one process, so load
  changes hit every implementation alike; each ratio is the median of the per-round
  ratios (A and B timed in the same round), printed with its min-max over the rounds;
- spread: every images/s figure is the median step time over all rounds, printed with
  the IQR of the steps and the min-max of the round medians, as % of the median;
- the machine: CPU model and flags (AVX2, AVX-512, AVX512-BF16, AMX), the load average
  at the start and the end, the CPU other processes took meanwhile (a warning above 0.25
  cores, `_common.OtherProcesses`) and the fp32 matmul ceiling at both ends;
- the allocator: `--malloc retain` (the default) has glibc keep freed memory for reuse
  (`_common.set_malloc`), for the whole process: under glibc's defaults PyTorch's large
  tensors fault their pages in again at every allocation (80,000 page faults, and
  149-173 ms against 70-74 ms, a call of the DCGAN generator at batch 1,024), slowing
  PyTorch by a different amount in each process; `--malloc glibc` measures under the
  defaults;
- `--repeat 2` runs the whole benchmark twice, each in a fresh process, and says
  whether every ratio agrees within 3% between the runs.

With `--precision both` every implementation also runs in bfloat16 (Keras's
`mixed_bfloat16` policy; `torch.autocast("cpu", torch.bfloat16)`); `--precision fp16`
runs Keras's `mixed_float16` (loss-scaled; meant for GPUs, no PyTorch column).

With `--xla`, every variant also trains as `keras_gans` compiled with
`jit_compile=True` (Keras's XLA switch, off by default on CPUs), in the same interleaved
rounds, with its ratios to the default and to PyTorch eager.

With `--steps-per-execution N`, every variant also trains as `keras_gans` compiled with
`steps_per_execution=N` (Keras: N train steps per call of the compiled function, the
callbacks once per call), interleaved, with its ratios to the default and to PyTorch.

With `--extras`, for the first variant: the input pipeline (`keras_gans.data.images`
on real Fashion-MNIST pixels vs the in-memory batches), an epoch's wall time against
the sum of its steps, and XLA (`jit_compile=True`) against the default. FLOPs per step
are counted by `torch.utils.flop_counter` on the PyTorch twin, as a fraction of the
fp32 matmul ceiling.

    python benchmarks/train_throughput.py --variants dcgan wgan_gp --repeat 2
    python benchmarks/train_throughput.py --quick               # a smoke run (~2 min)
    python benchmarks/train_throughput.py --variants dcgan_tutorial --precision both
"""

import argparse
import json
import math
import os
import time

import _common
import keras
import numpy as np
import tensorflow as tf

# --- The hand-written keras.io-style models ---


def _bce_d(real_out, fake_out):
    return tf.reduce_mean(tf.nn.softplus(-real_out)) + tf.reduce_mean(tf.nn.softplus(fake_out))


def _bce_g(fake_out):
    return tf.reduce_mean(tf.nn.softplus(-fake_out))


HANDWRITTEN_LOSSES = {
    "minimax": (_bce_d, _bce_g),
    "least_squares": (
        lambda r, f: 0.5 * tf.reduce_mean(tf.square(r - 1.0)) + 0.5 * tf.reduce_mean(
            tf.square(f)),
        lambda f: 0.5 * tf.reduce_mean(tf.square(f - 1.0))),
    "wasserstein": (lambda r, f: tf.reduce_mean(f) - tf.reduce_mean(r),
                    lambda f: -tf.reduce_mean(f)),
}


class HandWrittenGAN(keras.Model):
    """The keras.io DCGAN / WGAN-GP example's train step, with `training=True`."""

    def __init__(self, generator, discriminator, latent_dim, loss, n_critic=1, gp_weight=0.0):
        super().__init__()
        self.generator, self.discriminator = generator, discriminator
        self.latent_dim, self.n_critic, self.gp_weight = latent_dim, n_critic, gp_weight
        self.d_loss_fn, self.g_loss_fn = HANDWRITTEN_LOSSES[loss]
        self.seed_generator = keras.random.SeedGenerator(1337)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")

    def compile(self, d_optimizer, g_optimizer, **kwargs):
        super().compile(**kwargs)  # forwards jit_compile, run_eagerly, ...
        self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker]

    def train_step(self, real):
        batch = tf.shape(real)[0]
        d_vars = self.discriminator.trainable_weights
        for _ in range(self.n_critic):
            z = keras.random.normal((batch, self.latent_dim), seed=self.seed_generator)
            with tf.GradientTape() as tape:
                fake = self.generator(z, training=True)
                real_out = self.discriminator(real, training=True)
                fake_out = self.discriminator(fake, training=True)
                d_loss = self.d_loss_fn(tf.cast(real_out, "float32"),
                                        tf.cast(fake_out, "float32"))
                if self.gp_weight:
                    alpha = keras.random.uniform((batch, 1, 1, 1), seed=self.seed_generator)
                    x_hat = alpha * tf.cast(real, "float32") + (1.0 - alpha) * fake
                    with tf.GradientTape() as gp_tape:
                        gp_tape.watch(x_hat)
                        pred = tf.cast(self.discriminator(x_hat, training=True), "float32")
                    grads = gp_tape.gradient(pred, x_hat)
                    norm = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=[1, 2, 3]) + 1e-12)
                    d_loss += self.gp_weight * tf.reduce_mean(tf.square(norm - 1.0))
                scaled = self.d_optimizer.scale_loss(d_loss)
            grads = tape.gradient(scaled, d_vars)
            self.d_optimizer.apply(grads, d_vars)
        g_vars = self.generator.trainable_weights
        z = keras.random.normal((batch, self.latent_dim), seed=self.seed_generator)
        with tf.GradientTape() as tape:
            fake_out = self.discriminator(self.generator(z, training=True), training=True)
            g_loss = self.g_loss_fn(tf.cast(fake_out, "float32"))
            scaled = self.g_optimizer.scale_loss(g_loss)
        grads = tape.gradient(scaled, g_vars)
        self.g_optimizer.apply(grads, g_vars)
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        return {m.name: m.result() for m in self.metrics}


class HandWrittenCycleGAN(keras.Model):
    """CycleGAN's train step as keras_gans computes it (G first, then D), no pool."""

    def __init__(self, generator_a2b, generator_b2a, discriminator_a, discriminator_b):
        super().__init__()
        self.g, self.f = generator_a2b, generator_b2a
        self.d_a, self.d_b = discriminator_a, discriminator_b
        self.g_tracker = keras.metrics.Mean(name="g_loss")
        self.d_tracker = keras.metrics.Mean(name="d_loss")

    def compile(self, d_optimizer, g_optimizer, **kwargs):
        super().compile(**kwargs)
        self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer

    @property
    def metrics(self):
        return [self.g_tracker, self.d_tracker]

    def train_step(self, data):
        a, b = data
        g_vars = self.g.trainable_weights + self.f.trainable_weights
        d_vars = self.d_a.trainable_weights + self.d_b.trainable_weights
        with tf.GradientTape() as tape:
            fake_b, fake_a = self.g(a, training=True), self.f(b, training=True)
            cycle = (tf.reduce_mean(tf.abs(a - self.f(fake_b, training=True)))
                     + tf.reduce_mean(tf.abs(b - self.g(fake_a, training=True))))
            identity = (tf.reduce_mean(tf.abs(b - self.g(b, training=True)))
                        + tf.reduce_mean(tf.abs(a - self.f(a, training=True))))
            adv = (tf.reduce_mean(tf.square(self.d_b(fake_b, training=True) - 1.0))
                   + tf.reduce_mean(tf.square(self.d_a(fake_a, training=True) - 1.0)))
            g_loss = adv + 10.0 * cycle + 5.0 * identity
            scaled = self.g_optimizer.scale_loss(g_loss)
        self.g_optimizer.apply(tape.gradient(scaled, g_vars), g_vars)
        fake_a, fake_b = tf.stop_gradient(fake_a), tf.stop_gradient(fake_b)
        with tf.GradientTape() as tape:
            d_loss = 0.0
            for d, real, fake in ((self.d_a, a, fake_a), (self.d_b, b, fake_b)):
                d_loss += 0.5 * (tf.reduce_mean(tf.square(d(real, training=True) - 1.0))
                                 + tf.reduce_mean(tf.square(d(fake, training=True))))
            scaled = self.d_optimizer.scale_loss(d_loss)
        self.d_optimizer.apply(tape.gradient(scaled, d_vars), d_vars)
        self.g_tracker.update_state(g_loss)
        self.d_tracker.update_state(d_loss)
        return {m.name: m.result() for m in self.metrics}


class HandWrittenSRGAN(keras.Model):
    """SRGAN's adversarial train step with a pixel-MSE content loss."""

    def __init__(self, generator, discriminator):
        super().__init__()
        self.generator, self.discriminator = generator, discriminator
        self.g_tracker = keras.metrics.Mean(name="g_loss")
        self.d_tracker = keras.metrics.Mean(name="d_loss")

    def compile(self, d_optimizer, g_optimizer, **kwargs):
        super().compile(**kwargs)
        self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer

    @property
    def metrics(self):
        return [self.g_tracker, self.d_tracker]

    def train_step(self, data):
        low, high = data
        g_vars = self.generator.trainable_weights
        d_vars = self.discriminator.trainable_weights
        with tf.GradientTape() as g_tape:
            sr = self.generator(low, training=True)
            content = tf.reduce_mean(tf.square(sr - high))
        with tf.GradientTape() as d_tape:
            d_loss = _bce_d(self.discriminator(high, training=True),
                            self.discriminator(tf.stop_gradient(sr), training=True))
            scaled = self.d_optimizer.scale_loss(d_loss)
        self.d_optimizer.apply(d_tape.gradient(scaled, d_vars), d_vars)
        with g_tape:
            g_loss = content + 1e-3 * _bce_g(self.discriminator(sr, training=True))
            scaled = self.g_optimizer.scale_loss(g_loss)
        self.g_optimizer.apply(g_tape.gradient(scaled, g_vars), g_vars)
        self.g_tracker.update_state(g_loss)
        self.d_tracker.update_state(d_loss)
        return {m.name: m.result() for m in self.metrics}


def handwritten_model(name, policy="float32", jit_compile=False):
    cfg = _common.VARIANTS[name]
    with _common.keras_policy(policy):
        nets = _common.keras_networks(name)
        if cfg["family"] == "gan":
            loss = {"lsgan": "least_squares", "wgan_gp": "wasserstein"}.get(name, "minimax")
            wgan = name == "wgan_gp"
            model = HandWrittenGAN(nets["generator"], nets["discriminator"], cfg["latent_dim"],
                                   loss, n_critic=cfg.get("n_critic", 1),
                                   gp_weight=10.0 if wgan else 0.0)
            hyper = ({"learning_rate": 1e-4, "beta_1": 0.0, "beta_2": 0.9} if wgan
                     else {"learning_rate": 2e-4, "beta_1": 0.5})
        elif cfg["family"] == "cyclegan":
            model = HandWrittenCycleGAN(**nets)
            hyper = {"learning_rate": 2e-4, "beta_1": 0.5}
        else:
            model = HandWrittenSRGAN(nets["generator"], nets["discriminator"])
            hyper = {"learning_rate": 1e-4, "beta_1": 0.9}
        def optimizer():
            adam = keras.optimizers.Adam(**hyper)
            # mixed_float16 needs loss scaling (the gradient penalty's inner gradient
            # is left unscaled here: a floor, not a reference implementation).
            return (keras.optimizers.LossScaleOptimizer(adam)
                    if policy == "mixed_float16" else adam)

        model.compile(d_optimizer=optimizer(), g_optimizer=optimizer(),
                      jit_compile=jit_compile)
    return model


# --- Runners: one per implementation, each `run(steps)` returns step times ---


class StepTimer(keras.callbacks.Callback):
    """Records each step's time (batch begin to batch end) and the epoch's wall time."""

    def __init__(self):
        super().__init__()
        self.steps, self.epoch_time = [], None

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.perf_counter()

    def on_train_batch_begin(self, batch, logs=None):
        self._start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.steps.append(time.perf_counter() - self._start)

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_time = time.perf_counter() - self._epoch_start


def _warm_up(run, steps, seconds):
    """Runs `run(steps)` until at least `steps` steps and `seconds` have passed; returns
    the median step time of the last call (the speed that sizes the rounds)."""
    start, times = time.perf_counter(), []
    while not times or time.perf_counter() - start < seconds:
        times = run(steps)
    return _common.median(times)


class KerasRunner:
    def __init__(self, model, dataset, batch, warmup_steps=5, warmup_seconds=3.0):
        self.model, self.dataset, self.batch = model, dataset, batch
        # Keras's `compile(steps_per_execution=n)`: n steps per call of the train
        # function, and the callbacks once per call.
        self.per_call = int(getattr(model, "steps_per_execution", None) or 1)
        self.run(2)  # trace
        self.step_estimate = _warm_up(self.run, warmup_steps, warmup_seconds)

    def run(self, steps):
        timer, n = StepTimer(), self.per_call
        calls = -(-steps // n)
        # One extra call: the first of each `fit` also creates its iterator.
        self.model.fit(self.dataset, steps_per_epoch=(calls + 1) * n, epochs=1, verbose=0,
                       shuffle=False, callbacks=[timer])
        # Each call's time, shared by its steps (a round's median stays a step time).
        return [t / n for t in timer.steps[1:] for _ in range(n)]


class TorchRunner:
    """The same train step in PyTorch eager (float32, or bfloat16 autocast)."""

    def __init__(self, name, batches, bf16=False, warmup_steps=5, warmup_seconds=3.0):
        import torch

        self.torch = torch
        self.name, self.cfg = name, _common.VARIANTS[name]
        self.nets = _common.torch_networks(name)
        for net in self.nets.values():
            net.train()
        self.batches = _common.torch_batches(batches)
        self.bf16 = bf16
        family = self.cfg["family"]
        if family == "gan" and name == "wgan_gp":
            hyper = {"lr": 1e-4, "betas": (0.0, 0.9)}
        elif family == "srgan":
            hyper = {"lr": 1e-4, "betas": (0.9, 0.999)}
        else:
            hyper = {"lr": 2e-4, "betas": (0.5, 0.999)}
        g_params = [p for k, n in self.nets.items() if k.startswith("generator")
                    for p in n.parameters()]
        d_params = [p for k, n in self.nets.items() if k.startswith("discriminator")
                    for p in n.parameters()]
        # foreach: PyTorch's fast multi-tensor Adam (its default on CPU tensors is the
        # per-tensor loop).
        self.g_opt = torch.optim.Adam(g_params, foreach=True, **hyper)
        self.d_opt = torch.optim.Adam(d_params, foreach=True, **hyper)
        self.step_fn = {"gan": self._gan_step, "cyclegan": self._cyclegan_step,
                        "srgan": self._srgan_step}[family]
        self.run(2)
        self.step_estimate = _warm_up(self.run, warmup_steps, warmup_seconds)

    def _autocast(self):
        return self.torch.autocast("cpu", dtype=self.torch.bfloat16, enabled=self.bf16)

    def _gan_step(self, batch):
        torch, F = self.torch, self.torch.nn.functional
        (real,) = batch
        g, d = self.nets["generator"], self.nets["discriminator"]
        n = real.shape[0]
        wgan = self.name == "wgan_gp"
        for _ in range(self.cfg.get("n_critic", 1)):
            z = torch.randn(n, self.cfg["latent_dim"])
            with self._autocast():
                with torch.no_grad():
                    fake = g(z)
                real_out, fake_out = d(real).float(), d(fake).float()
                if wgan:
                    d_loss = fake_out.mean() - real_out.mean()
                    alpha = torch.rand(n, 1, 1, 1)
                    x_hat = (alpha * real + (1 - alpha) * fake.float()).requires_grad_(True)
                    pred = d(x_hat).float()
                    grad = torch.autograd.grad(pred.sum(), x_hat, create_graph=True)[0]
                    norm = torch.sqrt(grad.flatten(1).pow(2).sum(1) + 1e-12)
                    d_loss = d_loss + 10.0 * (norm - 1).pow(2).mean()
                elif self.name == "lsgan":
                    d_loss = 0.5 * ((real_out - 1) ** 2).mean() + 0.5 * (fake_out ** 2).mean()
                else:
                    d_loss = F.softplus(-real_out).mean() + F.softplus(fake_out).mean()
            self.d_opt.zero_grad(set_to_none=True)
            d_loss.backward()
            self.d_opt.step()
        z = torch.randn(n, self.cfg["latent_dim"])
        with self._autocast():
            fake_out = d(g(z)).float()
            if wgan:
                g_loss = -fake_out.mean()
            elif self.name == "lsgan":
                g_loss = 0.5 * ((fake_out - 1) ** 2).mean()
            else:
                g_loss = F.softplus(-fake_out).mean()
        self.g_opt.zero_grad(set_to_none=True)
        g_loss.backward()
        self.g_opt.step()

    def _cyclegan_step(self, batch):
        a, b = batch
        nets = self.nets
        g, f = nets["generator_a2b"], nets["generator_b2a"]
        d_a, d_b = nets["discriminator_a"], nets["discriminator_b"]
        with self._autocast():
            fake_b, fake_a = g(a), f(b)
            cycle = ((a - f(fake_b).float()).abs().mean()
                     + (b - g(fake_a).float()).abs().mean())
            identity = (b - g(b).float()).abs().mean() + (a - f(a).float()).abs().mean()
            adv = (((d_b(fake_b).float() - 1) ** 2).mean()
                   + ((d_a(fake_a).float() - 1) ** 2).mean())
            g_loss = adv + 10 * cycle + 5 * identity
        self.g_opt.zero_grad(set_to_none=True)
        g_loss.backward()
        self.g_opt.step()
        with self._autocast():
            d_loss = 0.0
            for d, real, fake in ((d_a, a, fake_a.detach()), (d_b, b, fake_b.detach())):
                d_loss = d_loss + 0.5 * (((d(real).float() - 1) ** 2).mean()
                                         + (d(fake).float() ** 2).mean())
        self.d_opt.zero_grad(set_to_none=True)
        d_loss.backward()
        self.d_opt.step()

    def _srgan_step(self, batch):
        F = self.torch.nn.functional
        low, high = batch
        g, d = self.nets["generator"], self.nets["discriminator"]
        with self._autocast():
            sr = g(low)
            content = ((sr.float() - high) ** 2).mean()
            d_loss = (F.softplus(-d(high).float()).mean()
                      + F.softplus(d(sr.detach()).float()).mean())
        self.d_opt.zero_grad(set_to_none=True)
        d_loss.backward()
        self.d_opt.step()
        with self._autocast():
            g_loss = content + 1e-3 * F.softplus(-d(sr).float()).mean()
        self.g_opt.zero_grad(set_to_none=True)
        g_loss.backward()
        self.g_opt.step()

    def run(self, steps):
        times = []
        for i in range(steps):
            start = time.perf_counter()
            self.step_fn(self.batches[i % len(self.batches)])
            times.append(time.perf_counter() - start)
        return times

    def flops_per_step(self):
        """FLOPs of one step, or None where the counter cannot follow it."""
        from torch.utils.flop_counter import FlopCounterMode

        try:
            with FlopCounterMode(display=False) as counter:
                self.step_fn(self.batches[0])
        except RuntimeError:  # the gradient penalty's double backward (PyTorch 2.13)
            return None
        return counter.get_total_flops()


# --- Measurements ---


def interleaved(runners, rounds, round_seconds, min_steps):
    """Times `runners` round by round (A, B, C, A, B, C, ...).

    Each runner's round is `max(min_steps, round_seconds / its warm-up step time)` steps.
    Returns `{name: {"steps": [all step times], "rounds": [round medians],
    "steps_per_round": n}}`.
    """
    out = {}
    for name, runner in runners.items():
        n = max(min_steps, math.ceil(round_seconds / max(runner.step_estimate, 1e-6)))
        out[name] = {"steps": [], "rounds": [], "steps_per_round": n}
    for _ in range(rounds):
        for name, runner in runners.items():
            times = runner.run(out[name]["steps_per_round"])
            out[name]["steps"].extend(times)
            out[name]["rounds"].append(_common.median(times))
    return out


def ratio(timings, a, b):
    """Speed of `a` over `b` (time of b / time of a): `(median, min, max)` over rounds."""
    per_round = [tb / ta for ta, tb in zip(timings[a]["rounds"], timings[b]["rounds"])]
    return _common.median(per_round), min(per_round), max(per_round)


def _print_rates(timings, batch, flops_per_image=None, ceiling=None):
    for key, t in timings.items():
        rate = batch / _common.median(t["steps"])
        line = (f"  {key:24s} {rate:9.1f} images/s  ({t['steps_per_round']} steps x "
                f"{len(t['rounds'])} rounds; steps {_common.format_spread(t['steps'], 'iqr')}, "
                f"rounds {_common.format_spread(t['rounds'])})")
        if flops_per_image and ceiling and key.endswith("fp32"):
            line += f"  {rate * flops_per_image / 1e9 / ceiling:.1%} of the matmul ceiling"
        print(line)


def _print_ratio(label, value):
    m, lo, hi = value
    print(f"  {label:44s} {m:.3f}  (rounds {lo:.3f}-{hi:.3f})")


def throughput(name, precisions, args, with_torch, torch_bf16):
    cfg = _common.VARIANTS[name]
    batch = cfg["batch"]
    batches = _common.random_batches(name)
    dataset = _common.in_memory_dataset(batches)
    warm = {"warmup_steps": args.warmup_steps, "warmup_seconds": args.warmup_seconds}
    runners = {}
    for precision in precisions:
        policy = POLICIES[precision]
        runners[f"keras_gans {precision}"] = KerasRunner(
            _common.keras_gans_model(name, policy, pool_size=0), dataset, batch, **warm)
        if cfg["family"] == "cyclegan":
            runners[f"keras_gans+pool {precision}"] = KerasRunner(
                _common.keras_gans_model(name, policy), dataset, batch, **warm)
        runners[f"handwritten {precision}"] = KerasRunner(
            handwritten_model(name, policy), dataset, batch, **warm)
        if args.xla:
            runners[f"keras_gans {precision} xla"] = KerasRunner(
                _common.keras_gans_model(name, policy, pool_size=0, jit_compile=True),
                dataset, batch, **warm)
        if args.steps_per_execution > 1:
            runners[f"keras_gans {precision} spe"] = KerasRunner(
                _common.keras_gans_model(name, policy, pool_size=0,
                                         steps_per_execution=args.steps_per_execution),
                dataset, batch, **warm)
        if with_torch and (precision == "fp32" or (precision == "bf16" and torch_bf16)):
            runners[f"torch {precision}"] = TorchRunner(name, batches,
                                                        bf16=precision == "bf16", **warm)
    timings = interleaved(runners, args.rounds, args.round_seconds, args.min_steps)
    flops = None
    if with_torch and "torch fp32" in runners:
        flops = runners["torch fp32"].flops_per_step()
    ratios = {}
    for precision in precisions:
        ours = f"keras_gans {precision}"
        for other in (f"handwritten {precision}", f"torch {precision}"):
            if other in timings:
                ratios[f"{ours} / {other}"] = ratio(timings, ours, other)
        if f"{ours} spe" in timings:
            n = args.steps_per_execution
            ratios[f"{ours} steps_per_execution={n} / {ours}"] = ratio(timings, f"{ours} spe",
                                                                       ours)
            if f"torch {precision}" in timings:
                ratios[f"{ours} steps_per_execution={n} / torch {precision}"] = ratio(
                    timings, f"{ours} spe", f"torch {precision}")
        if f"{ours} xla" in timings:
            ratios[f"{ours} xla / {ours}"] = ratio(timings, f"{ours} xla", ours)
            if f"torch {precision}" in timings:
                ratios[f"{ours} xla / torch {precision}"] = ratio(timings, f"{ours} xla",
                                                                  f"torch {precision}")
        if f"keras_gans+pool {precision}" in timings:
            ratios[f"keras_gans+pool {precision} / {ours}"] = ratio(
                timings, f"keras_gans+pool {precision}", ours)
    if "fp32" in precisions:
        for precision in precisions:
            if precision != "fp32":
                ratios[f"keras_gans {precision} / keras_gans fp32"] = ratio(
                    timings, f"keras_gans {precision}", "keras_gans fp32")
        if "torch bf16" in timings:
            ratios["keras_gans bf16 / torch bf16"] = ratio(timings, "keras_gans bf16",
                                                           "torch bf16")
    return timings, ratios, flops / batch if flops else None


def pipeline_and_epoch(name, args):
    """Real `data.images` pipeline vs in-memory batches, and epoch wall vs its steps."""
    from keras_gans import data

    cfg = _common.VARIANTS[name]
    batch = cfg["batch"]
    steps = args.min_steps * 2
    path = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"
    pixels = data.read_idx(path)[: batch * steps] if os.path.exists(path) else \
        np.random.default_rng(0).integers(0, 256, (batch * steps, 28, 28), dtype=np.uint8)
    model = _common.keras_gans_model(name)
    memory = _common.in_memory_dataset(_common.random_batches(name))
    real = data.images(pixels, batch_size=batch, seed=0, repeat=True)
    epoch_ds = data.images(pixels, batch_size=batch, seed=0)
    warm = {"warmup_steps": args.warmup_steps, "warmup_seconds": args.warmup_seconds}
    runners = {"in-memory": KerasRunner(model, memory, batch, **warm),
               "data.images": KerasRunner(model, real, batch, **warm)}
    timings = interleaved(runners, args.rounds, args.round_seconds, args.min_steps)
    walls = []
    for _ in range(args.rounds):
        timer = StepTimer()
        start = time.perf_counter()
        model.fit(epoch_ds, epochs=1, verbose=0, shuffle=False, callbacks=[timer])
        wall = time.perf_counter() - start
        walls.append((wall / sum(timer.steps), timer.epoch_time / sum(timer.steps)))
    return timings, {
        "data.images / in-memory": ratio(timings, "data.images", "in-memory"),
        "fit() wall / sum of steps": (_common.median([w[0] for w in walls]),
                                      min(w[0] for w in walls), max(w[0] for w in walls)),
        "epoch / sum of steps": (_common.median([w[1] for w in walls]),
                                 min(w[1] for w in walls), max(w[1] for w in walls)),
    }


def xla(name, args):
    """The default (no XLA on CPU) vs `compile(jit_compile=True)`."""
    batch = _common.VARIANTS[name]["batch"]
    dataset = _common.in_memory_dataset(_common.random_batches(name))
    default = _common.keras_gans_model(name)
    jit = _common.keras_gans_model(name)
    jit.compile(jit_compile=True)
    warm = {"warmup_steps": args.warmup_steps, "warmup_seconds": args.warmup_seconds}
    runners = {"default": KerasRunner(default, dataset, batch, **warm),
               "jit_compile=True": KerasRunner(jit, dataset, batch, **warm)}
    timings = interleaved(runners, args.rounds, args.round_seconds, args.min_steps)
    return timings, {"jit_compile=True / default": ratio(timings, "jit_compile=True",
                                                         "default")}


#: `--precision` -> the Keras dtype policy.
POLICIES = {"fp32": "float32", "bf16": "mixed_bfloat16", "fp16": "mixed_float16"}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", nargs="+", default=list(_common.VARIANTS),
                        choices=list(_common.VARIANTS))
    parser.add_argument("--precision", choices=("fp32", "bf16", "fp16", "both"),
                        default="fp32", help="both: fp32 and bf16")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--round-seconds", type=float, default=6.0,
                        help="minimum length of one implementation's round")
    parser.add_argument("--min-steps", type=int, default=4, help="minimum steps per round")
    parser.add_argument("--warmup-steps", type=int, default=5,
                        help="training steps after tracing before timing")
    parser.add_argument("--warmup-seconds", type=float, default=3.0)
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: 2 short rounds, short warm-up")
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--torch-bf16", action="store_true",
                        help="run PyTorch bf16 even on a CPU without native bf16")
    parser.add_argument("--extras", action="store_true",
                        help="also the pipeline / epoch / XLA measurements (first variant)")
    parser.add_argument("--xla", action="store_true",
                        help="also keras_gans compiled with jit_compile=True (XLA), "
                             "interleaved with the others, for every variant")
    parser.add_argument("--steps-per-execution", type=int, default=1, metavar="N",
                        help="also keras_gans compiled with steps_per_execution=N (N steps "
                             "per call of Keras's train function), interleaved, for every "
                             "variant (default 1: not measured)")
    parser.add_argument("--inter-op-threads", type=int, default=None,
                        help="TensorFlow's inter-op thread pool size "
                             "(tf.config.threading; default: TensorFlow's choice)")
    parser.add_argument("--intra-op-threads", type=int, default=None,
                        help="TensorFlow's intra-op thread pool size")
    _common.add_repeat_options(parser)
    args = _common.parse_or_repeat(parser, __file__)
    malloc = _common.set_malloc(args.malloc)
    if args.steps_per_execution < 1:
        parser.error(f"--steps-per-execution must be 1 or more, received "
                     f"{args.steps_per_execution}")
    for flag in ("inter_op_threads", "intra_op_threads"):
        value = getattr(args, flag)
        if value is not None and value < 0:
            parser.error(f"--{flag.replace('_', '-')} must be 0 (TensorFlow's choice) or "
                         f"more, received {value}")
    # Before TensorFlow runs anything: the pools are fixed at its first op.
    if args.inter_op_threads is not None:
        tf.config.threading.set_inter_op_parallelism_threads(args.inter_op_threads)
    if args.intra_op_threads is not None:
        tf.config.threading.set_intra_op_parallelism_threads(args.intra_op_threads)
    if args.quick:
        args.rounds, args.round_seconds, args.min_steps = 2, 1.0, 2
        args.warmup_steps, args.warmup_seconds = 2, 0.0
    precisions = {"both": ["fp32", "bf16"]}.get(args.precision, [args.precision])
    with_torch = not args.no_torch and _common.torch_available()
    if with_torch:
        import torch

        torch.manual_seed(0)
    torch_bf16 = with_torch and "bf16" in precisions and (args.torch_bf16
                                                          or _common.native_bf16())
    wall_start = time.time()
    others = _common.OtherProcesses()
    load_start = _common.load_report("the start")
    print(_common.machine_description())
    print(f"allocator: {malloc} (--malloc {args.malloc})")
    print(f"TensorFlow threads: inter-op {tf.config.threading.get_inter_op_parallelism_threads()}"
          f", intra-op {tf.config.threading.get_intra_op_parallelism_threads()} (0: its "
          "default, the CPUs it may use)")
    print(load_start, flush=True)
    if with_torch and "bf16" in precisions and not torch_bf16:
        print(_common.TORCH_BF16_SKIPPED)
    ceiling = _common.matmul_ceiling()
    print(f"fp32 matmul ceiling (tf.matmul 2048^2): {ceiling:.1f} GFLOP/s", flush=True)
    results = {"machine": _common.machine_description(), "load_start": load_start,
               "malloc": malloc,
               "steps_per_execution": args.steps_per_execution,
               "tf_threads": {"inter_op": args.inter_op_threads,
                              "intra_op": args.intra_op_threads},
               "matmul_gflops": ceiling, "variants": {}, "ratios": {}}
    for name in args.variants:
        start = time.time()
        timings, ratios, flops_per_image = throughput(name, precisions, args, with_torch,
                                                      torch_bf16)
        batch = _common.VARIANTS[name]["batch"]
        results["variants"][name] = {
            "images_per_s": {k: batch / _common.median(t["steps"]) for k, t in timings.items()},
            "timings": timings, "flops_per_image": flops_per_image}
        results["ratios"].update({f"{name}: {k}": v[0] for k, v in ratios.items()})
        print(f"\n== {name} (batch {batch}; {time.time() - start:.0f} s)")
        _print_rates(timings, batch, flops_per_image, ceiling)
        for key, value in ratios.items():
            _print_ratio(key, value)
        if flops_per_image:
            print(f"  {flops_per_image / 1e6:.0f} MFLOP per image per train step "
                  "(torch.utils.flop_counter)")
        print(flush=True)
    if args.extras:
        name = args.variants[0]
        batch = _common.VARIANTS[name]["batch"]
        for label, measure in (("input pipeline and epoch tail", pipeline_and_epoch),
                               ("XLA", xla)):
            timings, ratios = measure(name, args)
            print(f"== {label} ({name})")
            _print_rates(timings, batch)
            for key, value in ratios.items():
                _print_ratio(key, value)
            results["ratios"].update({f"{name}: {k}": v[0] for k, v in ratios.items()})
            results[label] = {"timings": timings, "ratios": ratios}
    end_ceiling = _common.matmul_ceiling()
    load_end = _common.load_report("the end", others)
    print(f"\nfp32 matmul ceiling again at the end: {end_ceiling:.1f} GFLOP/s "
          f"(start {ceiling:.1f}; a large change means the machine was busy)")
    print(load_end)
    print(f"wall time {time.time() - wall_start:.0f} s", flush=True)
    results.update(matmul_gflops_end=end_ceiling, load_end=load_end,
                   other_processes_cores=others.last)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
