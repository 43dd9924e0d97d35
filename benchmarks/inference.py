"""Inference latency: generate / translate / upscale and the exported signatures vs PyTorch.

For each model at its zoo size (DCGAN, CycleGAN and SRGAN of `_common.VARIANTS`) and
batch sizes 1, 64 and 1024, the median wall time of:

- the Python API: `gan.generate(z=...)`, `cyclegan.translate(images)`,
  `srgan.upscale(images)` (float32 in [-1, 1]; numpy in, numpy out);
- the exported SavedModel signature, as TF Serving runs it: `serving_default` (z in)
  and `sample` (n, seed in) for DCGAN, `translate_a2b` / `upscale` (uint8 in);
- the same signatures exported from a bfloat16 copy of the served network (built
  under Keras's `mixed_bfloat16` policy with the same weights): the bf16 serving option;
- PyTorch eager (`eval()`, `torch.inference_mode()`) on the same architecture, float32
  and `torch.autocast("cpu", torch.bfloat16)`.

Calls are interleaved (API, signature, bf16 signature, torch, ...) and repeated; the
median is reported in milliseconds and as images per second.

    python benchmarks/inference.py                 # batches 1, 64, 1024
    python benchmarks/inference.py --quick         # batches 1, 64; fewer repeats
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


def _export(model, directory):
    import keras_gans.export as export_lib

    path = export_lib.export(model, directory, version=1, include_keras=False)
    return tf.saved_model.load(path)


def _inputs(name, batch, rng):
    cfg = _common.VARIANTS[name]
    if name == "dcgan":
        return rng.standard_normal((batch, cfg["latent_dim"])).astype("float32")
    if name == "cyclegan":
        return rng.integers(0, 256, (batch, *cfg["image_shape"]), dtype=np.uint8)
    size = cfg["hr_size"] // cfg["scale"]
    return rng.integers(0, 256, (batch, size, size, cfg["channels"]), dtype=np.uint8)


def _calls(name, model, served, served_bf16, torch_net, x, torch_bf16):
    """name -> a zero-argument function doing one inference on `x`."""
    calls = {}
    x_float = x if x.dtype == np.float32 else (x.astype("float32") / 127.5 - 1.0)
    if name == "dcgan":
        calls["generate(z)"] = lambda: model.generate(z=x)
        sig = served.signatures["serving_default"]
        sig16 = served_bf16.signatures["serving_default"]
        z = tf.constant(x)
        calls["signature serving_default"] = lambda: sig(z=z)["images"].numpy()
        calls["signature serving_default bf16"] = lambda: sig16(z=z)["images"].numpy()
        sample = served.signatures["sample"]
        n, seed = tf.constant(len(x), tf.int32), tf.constant(0, tf.int64)
        calls["signature sample"] = lambda: sample(n=n, seed=seed)["images"].numpy()
    else:
        key = "translate_a2b" if name == "cyclegan" else "upscale"
        if name == "cyclegan":
            calls["translate(images)"] = lambda: model.translate(x_float)
        else:
            calls["upscale(images)"] = lambda: model.upscale(x_float)
        sig, sig16 = served.signatures[key], served_bf16.signatures[key]
        images = tf.constant(x)
        calls[f"signature {key}"] = lambda: sig(images=images)["images"].numpy()
        calls[f"signature {key} bf16"] = lambda: sig16(images=images)["images"].numpy()
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


def measure(calls, repeats, budget_s):
    for fn in calls.values():  # warm up (traces, allocations)
        fn()
        fn()
    times = {k: [] for k in calls}
    start = time.perf_counter()
    for i in range(repeats):
        for k, fn in calls.items():
            t = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t)
        if i >= 2 and time.perf_counter() - start > budget_s:
            break
    return {k: _common.median(v) for k, v in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--batches", nargs="+", type=int, default=[1, 64, 1024])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--budget", type=float, default=60.0,
                        help="seconds per (model, batch) before stopping early")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--torch-bf16", action="store_true",
                        help="run PyTorch bf16 even on a CPU without native bf16")
    args = parser.parse_args()
    if args.quick:
        args.batches, args.repeats, args.budget = [1, 64], 5, 10.0
    with_torch = not args.no_torch and _common.torch_available()
    torch_bf16 = with_torch and (args.torch_bf16 or _common.native_bf16())
    print(_common.machine_description(), flush=True)
    if with_torch and not torch_bf16:
        print(_common.TORCH_BF16_SKIPPED)
    rng = np.random.default_rng(0)
    keras.utils.set_random_seed(0)
    for name in args.models:
        model = _common.keras_gans_model(name)
        model_bf16 = _bf16_copy(name, model)
        with tempfile.TemporaryDirectory() as tmp:
            served = _export(model, f"{tmp}/fp32")
            served_bf16 = _export(model_bf16, f"{tmp}/bf16")
            torch_net = None
            if with_torch:
                nets = _common.torch_networks(name)
                torch_net = nets.get("generator") or nets["generator_a2b"]
                torch_net.eval()
            print(f"\n== {name}", flush=True)
            for batch in args.batches:
                x = _inputs(name, batch, rng)
                calls = _calls(name, model, served, served_bf16, torch_net, x, torch_bf16)
                medians = measure(calls, args.repeats, args.budget)
                print(f"  batch {batch}")
                reference = medians.get("torch eager fp32")
                for key, seconds in medians.items():
                    line = (f"    {key:34s} {seconds * 1e3:9.2f} ms  "
                            f"{batch / seconds:10.1f} images/s")
                    if reference:
                        line += f"  (torch fp32 / this = {reference / seconds:.2f})"
                    print(line, flush=True)


if __name__ == "__main__":
    main()
