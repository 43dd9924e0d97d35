"""`keras-gans evaluate MODEL_OR_PATH`: FID, KID, IS and class coverage of a GAN, PSNR
and SSIM of a super-resolution model against bicubic upscaling."""

import argparse
import json
import os

from keras_gans.cli._common import (
    UsageError,
    add_model_command,
    add_on_error,
    check_source,
    import_tensorflow,
    load_model,
    non_negative_int,
    positive_int,
    progress,
    require,
    resolve_model,
    table,
)

GENERATOR_METRICS = ("fid", "kid", "is", "coverage")
UPSCALER_METRICS = ("psnr", "ssim")


def _metric_names(text):
    names = [n.strip().lower() for n in text.split(",") if n.strip()]
    known = GENERATOR_METRICS + UPSCALER_METRICS
    unknown = [n for n in names if n not in known]
    if not names or unknown:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated names among {', '.join(known)}, received: {text!r}")
    return list(dict.fromkeys(names))


def add_parser(subparsers):
    p = add_model_command(
        subparsers, "evaluate", run, "measure sample quality (FID, KID, IS, coverage)",
        "Measure a model. GANs: fid and kid (generated vs --data, in the feature space "
        "of --feature-extractor), is (classifier score) and coverage (class coverage) "
        "from the classifier's probabilities. SRGANs: psnr and ssim of the model and "
        "of bicubic upscaling on crops of --data.")
    p.add_argument("--data", default=None, metavar="SOURCE",
                   help="real images (needed by fid, kid, psnr, ssim)")
    p.add_argument("--metrics", type=_metric_names, default=None,
                   help="comma-separated, among fid,kid,is,coverage (GANs) or psnr,ssim "
                        "(SRGAN); default: all that apply")
    p.add_argument("-n", "--num", dest="n", type=positive_int, default=10000,
                   help="generated samples (and at most as many real ones)")
    p.add_argument("--feature-extractor", default=None, metavar="NAME_OR_PATH",
                   help="a zoo classifier (e.g. mnist_classifier; its 'features' layer "
                        "and its probabilities), a .keras classifier, or 'inception' "
                        "(InceptionV3, see --inception-weights). Default: the classifier "
                        "the zoo entry was measured with, else inception")
    p.add_argument("--inception-weights", default=None, metavar="PATH",
                   help="local InceptionV3 notop weights file (default: Keras's download)")
    p.add_argument("--batch-size", type=positive_int, default=250)
    p.add_argument("--hr-size", type=positive_int, default=None,
                   help="SRGAN: side of the high-resolution crops (default: the model's)")
    p.add_argument("--seed", type=non_negative_int, default=0, help="seed of the noise and the data order")
    add_on_error(p, "--data")
    p.add_argument("--json", action="store_true", help="print the results as JSON")


def _feature_heads(spec, inception_weights):
    """`(fn, description, has_probabilities)`: fn maps a batch to (features, probs)."""
    from keras_gans import evaluation

    if spec == "inception":
        try:
            fn = evaluation.inception_extractor(weights=inception_weights or "imagenet")
        except RuntimeError as e:  # the weights could not be downloaded
            raise UsageError(f"{e} Pass --inception-weights PATH, or --feature-extractor "
                             "with a classifier.") from None
        except (ValueError, OSError) as e:  # Keras: not a weights file, or not these
            raise UsageError(f"--inception-weights {inception_weights!r} could not be loaded "
                             f"as InceptionV3 notop weights: {e}") from None
        return fn, "InceptionV3 pool features (2048-d)", False
    if inception_weights:
        raise UsageError("--inception-weights applies to --feature-extractor inception only.")
    try:
        fn, has_features_layer = evaluation.classifier_extractor(load_model(spec))
    except ValueError:
        raise UsageError(f"--feature-extractor {spec!r} is not a functional Keras "
                         "classifier.") from None
    description = (f"{spec} (layer 'features' and its probabilities)" if has_features_layer
                   else f"{spec} (its outputs)")
    return fn, description, True


def _default_extractor(spec):
    _, name = resolve_model(spec)
    if name is not None:
        from keras_gans import registry

        classifier = (registry.model_info(name).get("quality_floor") or {}).get("classifier")
        if classifier:
            return classifier
    return "inception"


def _real_batches(source, shape, n, batch_size, seed, on_error):
    from keras_gans import data

    ds = data.images(source, image_size=tuple(shape[:2]), channels=shape[2],
                     batch_size=batch_size, seed=seed, drop_remainder=False,
                     on_error=on_error)
    seen = 0
    for batch in ds.as_numpy_iterator():
        yield batch[:n - seen]
        seen = min(n, seen + len(batch))
        progress(seen, n, "real images")
        if seen >= n:
            return
    progress(seen, seen, "real images (all there are)")


def _evaluate_generator(model, args, names):
    import numpy as np

    from keras_gans import evaluation

    extractor = args.feature_extractor or _default_extractor(args.model)
    fn, description, has_probs = _feature_heads(extractor, args.inception_weights)
    if names is None:
        names = [m for m in GENERATOR_METRICS if (m in ("fid", "kid") and args.data) or
                 (m in ("is", "coverage") and has_probs)]
        if not names:
            raise UsageError("nothing to measure: pass --data SOURCE for fid and kid, or a "
                             "classifier as --feature-extractor for is and coverage.")
    if not has_probs and {"is", "coverage"} & set(names):
        raise UsageError("is and coverage need class probabilities: pass a classifier as "
                         f"--feature-extractor (received {extractor!r}).")
    n, size = args.n, args.batch_size
    z = model.sample_noise(n, args.seed)
    labels = np.arange(n) % model.num_classes if model.num_classes else None

    def generated():
        for start in range(0, n, size):
            yield model.generate(z=z[start:start + size], labels=None if labels is None
                                 else labels[start:start + size])
            progress(min(n, start + size), n, "generated images")

    real = None
    if {"fid", "kid"} & set(names):
        real = _real_batches(args.data, model.image_shape, n, size, args.seed,
                              args.on_error)
    measured = evaluation.measure(generated(), fn, names, real=real, seed=args.seed,
                                  is_splits=min(10, n),
                                  max_features=100 * 1000)  # the rows KID draws from
    results = {}
    if "fid" in names:
        results["fid"] = {"value": measured["fid"]}
    for name in ("kid", "is"):
        if name in names:
            mean, std = measured[name]
            results[name] = {"value": mean, "std": std}
    if "coverage" in names:
        coverage = measured["coverage"]
        results["coverage"] = {
            "value": coverage["normalized_entropy"], "entropy": coverage["entropy"],
            "max_entropy": coverage["max_entropy"],
            "missing_classes": coverage["missing_classes"], "missing": coverage["missing"],
            "histogram": [int(c) for c in coverage["histogram"]]}
    return {"model": args.model, "generated": n, "seed": args.seed,
            "real": measured.get("real_count", 0),
            "data": args.data, "feature_extractor": description, "metrics": results}


def _check_ssim_size(model, hr_size, flag):
    """Refuse, before reading --data, crops too small for SSIM's window (evaluate_quality
    measures ssim with psnr, so --metrics psnr does not avoid it): the crops, less the
    border `evaluate_quality` removes (the model's scale), must be as wide as its window."""
    from keras_gans.metrics import SSIM_FILTER_SIZE as SSIM_WINDOW

    border = model.scale
    if hr_size - 2 * border >= SSIM_WINDOW:
        return
    needed = -(-(SSIM_WINDOW + 2 * border) // model.scale) * model.scale
    given = f"--hr-size {hr_size}" if flag else f"the model's hr_size {hr_size} (--hr-size)"
    raise UsageError(
        f"the crops are too small for ssim: {given} less the {border}-pixel border cropped "
        f"from each side (the model's scale) leaves {hr_size - 2 * border}x"
        f"{hr_size - 2 * border} pixels, smaller than ssim's {SSIM_WINDOW}x{SSIM_WINDOW} "
        f"window. Pass --hr-size {needed} or more, with --data images at least "
        f"{needed}x{needed} pixels.")


def _check_inception_weights(path):
    """--inception-weights: an existing Keras weights file, checked before any loading."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"--inception-weights {path!r}: no such file.")
    if not os.path.isfile(path) or not path.endswith((".h5", ".keras")):
        raise UsageError(f"--inception-weights {path!r} is not a Keras weights file (the "
                         "InceptionV3 notop weights: .h5, .weights.h5 or .keras).")


def _evaluate_upscaler(model, args, names):
    import numpy as np

    from keras_gans import data

    names = names or list(UPSCALER_METRICS)
    hr_size = args.hr_size or model.hr_size
    _check_ssim_size(model, hr_size, args.hr_size)
    ds = data.sr_pairs(args.data, scale=model.scale, hr_size=hr_size,
                       batch_size=min(args.batch_size, args.n), channels=model.channels,
                       seed=args.seed, drop_remainder=False, on_error=args.on_error)
    lows, highs, seen = [], [], 0
    for low, high in ds.as_numpy_iterator():
        lows.append(low)
        highs.append(high)
        seen += len(low)
        if seen >= args.n:
            break
    low, high = np.concatenate(lows)[:args.n], np.concatenate(highs)[:args.n]
    report = model.evaluate_quality(low, high)
    results = {}
    for name in names:
        for key in sorted(report["model"]):
            if key.startswith(name + "_"):
                results[key] = {"value": report["model"][key],
                                "bicubic": report["bicubic"][key]}
    return {"model": args.model, "pairs": len(low), "hr_size": hr_size, "seed": args.seed,
            "data": args.data, "metrics": results}


def run(args):
    names = args.metrics
    if args.inception_weights is not None:
        _check_inception_weights(args.inception_weights)
    if args.data is not None:
        args.data = check_source(args.data, "--data")
    wanted = set(names or ())
    if wanted & set(GENERATOR_METRICS) and wanted & set(UPSCALER_METRICS):
        raise UsageError(f"--metrics mixes generator metrics ({', '.join(GENERATOR_METRICS)})"
                         f" and super-resolution ones ({', '.join(UPSCALER_METRICS)}).")
    if wanted & {"fid", "kid", "psnr", "ssim"} and args.data is None:
        raise UsageError(f"--metrics {','.join(names)} compares with real images: pass "
                         "--data SOURCE.")
    if args.data is not None and args.data.startswith("tfds:"):
        import_tensorflow()
        from keras_gans import data

        data.check_tfds(args.data, "data")  # offline: an error now, not after sampling
    model = load_model(args.model)
    if hasattr(model, "upscale") and not hasattr(model, "generate"):
        if wanted - set(UPSCALER_METRICS):
            raise UsageError(f"{type(model).__name__} models are measured with "
                             f"{', '.join(UPSCALER_METRICS)}; received --metrics "
                             f"{','.join(names)}.")
        if args.data is None:
            raise UsageError("psnr and ssim compare with real images: pass --data SOURCE.")
        report = _evaluate_upscaler(model, args, names)
    else:
        require(model, "generate", args.model, "evaluate")
        if wanted - set(GENERATOR_METRICS):
            raise UsageError(f"GANs are measured with {', '.join(GENERATOR_METRICS)}; "
                             f"received --metrics {','.join(names)}.")
        report = _evaluate_generator(model, args, names)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    for key, value in report.items():
        if key != "metrics":
            print(f"{key}: {value}")
    print()
    rows = []
    for name, result in report["metrics"].items():
        extra = ""
        if "std" in result:
            extra = f"std {result['std']:.4g}"
        elif "bicubic" in result:
            extra = f"bicubic {result['bicubic']:.4g}"
        elif "missing_classes" in result:
            extra = (f"normalized class entropy; {result['missing_classes']} of "
                     f"{len(result['histogram'])} classes missing")
        rows.append((name, f"{result['value']:.6g}", extra))
    table(("METRIC", "VALUE", ""), rows)
    return 0
