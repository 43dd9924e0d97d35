"""Inference latency: generate / translate / upscale and the exported signatures vs PyTorch.

For each model at its zoo size (DCGAN, CycleGAN and SRGAN of `_common.VARIANTS`) and
batch sizes 1, 64 and 1024, the median wall time of:

- the Python API: `gan.generate(z=...)`, `cyclegan.translate(images)`,
  `srgan.upscale(images)` (float32 in [-1, 1]; numpy in, numpy out);
- the exported SavedModel signature, as TF Serving runs it: `serving_default` (z in)
  and `sample` (n, seed in) for DCGAN, `translate_a2b` / `upscale` (uint8 in);
- the same signatures exported from a bfloat16 copy of the served network (built
  under Keras's `mixed_bfloat16` policy with the same weights): the bf16 serving option;
- the same signatures exported with `jit_compile=True` (`keras-gans export
  --jit-compile`): the network's forward pass compiled with XLA, the input checks outside
  it (`--no-xla` skips them);
- PyTorch eager (`eval()`, `torch.inference_mode()`) on the same architecture, float32
  and `torch.autocast("cpu", torch.bfloat16)`.

Method: every call is warmed up (`--warmup` calls, at least 20, after its trace), then
the calls run interleaved in blocks (`--block` 10 consecutive calls of the API, then of
the signature, ..., then of PyTorch, and again; the first call of each block untimed,
since the first call after another framework pays for waking its thread pool) until
each has `--calls` timed calls (3,000 by default, which `--budget` cuts short from batch
64 up: with 300, 13 of 21 ratios were more than 3% apart between two runs on a 2-core
machine; with 3,000, 0 of 14 in one pair of runs at batches 1 and 64 and 9 of 21 in
another over batches 1, 64 and 1,024), or until `--budget` seconds per (model, batch)
have passed but never fewer than 20 each. Each figure is the median latency, printed
with the IQR and min-max of its calls as % of the median, in milliseconds and images
per second; the ratios against PyTorch are medians of the per-call ratios. The CPU model
and flags, the load average at the start and the end, and the CPU other processes took
meanwhile are printed (a warning above 0.25 cores, `_common.OtherProcesses`);
`--repeat 2` runs it all twice in fresh processes and says whether every
ratio agrees within 3%. glibc malloc keeps freed memory for reuse (`--malloc retain`,
the default; `_common.set_malloc`): under its defaults PyTorch's large tensors fault their
pages in at every call, 149-173 ms against 70-74 ms for the DCGAN generator at batch
1,024, by a different amount in each process (`--malloc glibc` measures that).

The bf16 signature and PyTorch bf16 rows run only on CPUs with native bfloat16
(AVX512-BF16 or AMX) unless `--bf16` is given: elsewhere they are emulated, 3-25x
slower, and would take most of the time.

    python benchmarks/inference.py --models dcgan --repeat 2     # batches 1, 64, 1024
    python benchmarks/inference.py --quick                       # batches 1, 64; short
"""

import argparse
import tempfile
import time

import _common
import keras
import numpy as np
import tensorflow as tf

MODELS = ("dcgan", "cyclegan", "srgan")


def _bf16_copy(name, model):
    """A keras_gans model of the same variant built under mixed_bfloat16, same weights."""
    copy = _common.keras_gans_model(name, "mixed_bfloat16")
    copy.set_weights(model.get_weights())
    return copy


def _export(model, directory, jit_compile=False):
    import keras_gans.export as export_lib

    path = export_lib.export(model, directory, version=1, include_keras=False,
                             jit_compile=jit_compile)
    return tf.saved_model.load(path)


def _inputs(name, batch, rng):
    cfg = _common.VARIANTS[name]
    if name == "dcgan":
        return rng.standard_normal((batch, cfg["latent_dim"])).astype("float32")
    if name == "cyclegan":
        return rng.integers(0, 256, (batch, *cfg["image_shape"]), dtype=np.uint8)
    size = cfg["hr_size"] // cfg["scale"]
    return rng.integers(0, 256, (batch, size, size, cfg["channels"]), dtype=np.uint8)


def _calls(name, model, served, served_bf16, served_xla, torch_net, x, torch_bf16):
    """name -> a zero-argument function doing one inference on `x`."""
    calls = {}
    x_float = x if x.dtype == np.float32 else (x.astype("float32") / 127.5 - 1.0)
    if name == "dcgan":
        calls["generate(z)"] = lambda: model.generate(z=x)
        sig = served.signatures["serving_default"]
        z = tf.constant(x)
        calls["signature serving_default"] = lambda: sig(z=z)["images"].numpy()
        if served_bf16 is not None:
            sig16 = served_bf16.signatures["serving_default"]
            calls["signature serving_default bf16"] = lambda: sig16(z=z)["images"].numpy()
        if served_xla is not None:
            sig_xla = served_xla.signatures["serving_default"]
            calls["signature serving_default xla"] = lambda: sig_xla(z=z)["images"].numpy()
        sample = served.signatures["sample"]
        n, seed = tf.constant(len(x), tf.int32), tf.constant(0, tf.int64)
        calls["signature sample"] = lambda: sample(n=n, seed=seed)["images"].numpy()
    else:
        key = "translate_a2b" if name == "cyclegan" else "upscale"
        if name == "cyclegan":
            calls["translate(images)"] = lambda: model.translate(x_float)
        else:
            calls["upscale(images)"] = lambda: model.upscale(x_float)
        sig = served.signatures[key]
        images = tf.constant(x)
        calls[f"signature {key}"] = lambda: sig(images=images)["images"].numpy()
        if served_bf16 is not None:
            sig16 = served_bf16.signatures[key]
            calls[f"signature {key} bf16"] = lambda: sig16(images=images)["images"].numpy()
        if served_xla is not None:
            sig_xla = served_xla.signatures[key]
            calls[f"signature {key} xla"] = lambda: sig_xla(images=images)["images"].numpy()
    if torch_net is not None:
        import torch

        t = torch.from_numpy(x_float if name == "dcgan"
                             else np.ascontiguousarray(x_float.transpose(0, 3, 1, 2)))

        def run_torch(bf16):
            with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16,
                                                        enabled=bf16):
                return torch_net(t).float().numpy()

        calls["torch eager fp32"] = lambda: run_torch(False)
        if torch_bf16:
            calls["torch eager bf16"] = lambda: run_torch(True)
    return calls


def measure(calls, warmup, max_calls, budget_s, min_calls=20, block=10):
    """`{name: [seconds per call]}`: each call warmed up `warmup` times, then all run
    interleaved in blocks of `block` consecutive calls (A x block, B x block, ...), the
    first call of each block untimed, until each has `max_calls` timed calls or
    `budget_s` has passed (at least `min_calls` each).

    Blocks, not single calls: the first call after another implementation pays for
    waking its own thread pool (TensorFlow's, or PyTorch's OpenMP threads) and for the
    caches the other evicted: measured on a 2-core machine, `generate(z)` at batch 1 took
    0.65 ms alone and 1.8 ms right after a PyTorch call, PyTorch 0.25 ms alone and 1.2
    ms right after `generate`. A server runs one framework, so the warm figure is the
    one to compare."""
    for fn in calls.values():
        for _ in range(warmup):
            fn()
    times = {k: [] for k in calls}
    start = time.perf_counter()
    block = max(1, block)
    while True:
        for k, fn in calls.items():
            if block > 1:
                fn()  # untimed: wakes this implementation's threads
            for _ in range(max(1, block - 1)):
                t = time.perf_counter()
                fn()
                times[k].append(time.perf_counter() - t)
        done = len(times[next(iter(times))])
        if done >= max_calls or (done >= min_calls and time.perf_counter() - start > budget_s):
            break
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--batches", nargs="+", type=int, default=[1, 64, 1024])
    parser.add_argument("--warmup", type=int, default=20, help="warm-up calls of each")
    parser.add_argument("--calls", type=int, default=3000,
                        help="timed calls of each (at most; see --budget)")
    parser.add_argument("--block", type=int, default=10,
                        help="consecutive calls of one implementation per turn, the first "
                             "untimed (1: call by call, as before 2026-12-07)")
    parser.add_argument("--budget", type=float, default=40.0,
                        help="seconds per (model, batch) before stopping early (never "
                             "before 20 calls of each)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--no-xla", action="store_true",
                        help="skip the signatures exported with jit_compile=True")
    parser.add_argument("--bf16", action="store_true",
                        help="the bf16 rows even on a CPU without native bf16")
    _common.add_repeat_options(parser)
    args = _common.parse_or_repeat(parser, __file__)
    malloc = _common.set_malloc(args.malloc)
    if args.quick:
        args.batches, args.warmup, args.calls, args.budget = [1, 64], 5, 40, 5.0
    with_torch = not args.no_torch and _common.torch_available()
    bf16 = args.bf16 or _common.native_bf16()
    torch_bf16 = with_torch and bf16
    wall_start = time.time()
    others = _common.OtherProcesses()
    load_start = _common.load_report("the start")
    print(_common.machine_description())
    print(f"allocator: {malloc} (--malloc {args.malloc})")
    print(load_start, flush=True)
    if not bf16:
        print("bf16 rows skipped: this CPU has no native bfloat16 (avx512_bf16 or "
              "amx_bf16); pass --bf16 to run them anyway")
    results = {"machine": _common.machine_description(), "load_start": load_start,
               "malloc": malloc,
               "latency_ms": {}, "ratios": {}}
    rng = np.random.default_rng(0)
    keras.utils.set_random_seed(0)
    for name in args.models:
        model = _common.keras_gans_model(name)
        with tempfile.TemporaryDirectory() as tmp:
            served = _export(model, f"{tmp}/fp32")
            served_bf16 = _export(_bf16_copy(name, model), f"{tmp}/bf16") if bf16 else None
            served_xla = None
            if not args.no_xla:
                try:
                    served_xla = _export(model, f"{tmp}/xla", jit_compile=True)
                except ValueError as e:  # a network XLA cannot compile
                    print(f"XLA rows skipped for {name}: {str(e)[:200]}")
            torch_net = None
            if with_torch:
                nets = _common.torch_networks(name)
                torch_net = nets.get("generator") or nets["generator_a2b"]
                torch_net.eval()
            print(f"\n== {name}", flush=True)
            for batch in args.batches:
                x = _inputs(name, batch, rng)
                calls = _calls(name, model, served, served_bf16, served_xla, torch_net, x,
                               torch_bf16)
                times = measure(calls, max(args.warmup, 1), args.calls, args.budget,
                                block=args.block)
                print(f"  batch {batch} ({len(next(iter(times.values())))} timed calls of "
                      f"each, interleaved in blocks of {args.block})")
                reference = times.get("torch eager fp32")
                for key, values in times.items():
                    seconds = _common.median(values)
                    results["latency_ms"][f"{name} b{batch}: {key}"] = seconds * 1e3
                    line = (f"    {key:32s} {seconds * 1e3:9.2f} ms  {batch / seconds:9.1f} "
                            f"images/s  ({_common.format_spread(values, 'iqr')}, "
                            f"{_common.format_spread(values)})")
                    if reference and key != "torch eager fp32":
                        per_call = _common.median([r / v for r, v in zip(reference, values)])
                        results["ratios"][f"{name} b{batch}: torch fp32 / {key}"] = per_call
                        line += f"  torch fp32 / this = {per_call:.2f}"
                    print(line, flush=True)
                api = next(iter(times))
                sig = next(k for k in times if k.startswith("signature"))
                per_call = _common.median([s / a for a, s in zip(times[api], times[sig])])
                results["ratios"][f"{name} b{batch}: {sig} / {api}"] = per_call
                print(f"    {sig} / {api} = {per_call:.3f} (time of the signature over the "
                      "API call's)", flush=True)
    load_end = _common.load_report("the end", others)
    print(f"\n{load_end}\nwall time {time.time() - wall_start:.0f} s", flush=True)
    results["load_end"] = load_end
    results["other_processes_cores"] = others.last
    if args.json:
        import json

        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
