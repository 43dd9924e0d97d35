"""Zoo entry `inpainter_fashion_mnist`: an Inpainter on 28x28 Fashion-MNIST.

Trains on the 60,000 training images with random box and free-form masks, then measures
on held-out test images with a 14x14 centre hole, in the same run, against inpainting
that others wrote: `skimage.restoration.inpaint_biharmonic` and OpenCV's
`cv2.inpaint(..., cv2.INPAINT_TELEA)`. PSNR and SSIM inside the hole, and the zoo's
`fashion_mnist_classifier` accuracy on the filled images against the unmasked ones.

    python zoo/inpainter_fashion_mnist.py                       # train (resumes), evaluate,
                                                                # export, register
    python zoo/inpainter_fashion_mnist.py --steps 50 --no-register   # smoke run
"""

import json
import math
import pathlib
import time

import numpy as np
from _recipe import (
    FASHION_NOTE,
    ROOT,
    _environment,
    export_and_register,
    fashion_split,
    parse_args,
    resume_or_create,
)

NAME = "inpainter_fashion_mnist"
CONFIG = {
    "image_shape": (28, 28, 1),
    "model_kwargs": {"filters": 16, "depth": 2, "d_filters": 16, "d_layers": 2,
                     "hole_weight": 1.0, "valid_weight": 0.1, "adversarial_weight": 0.01,
                     "seed": 0},
    "compile_kwargs": {},
    "masks": ("box", "free_form"),
    "batch_size": 64,
    "steps_per_epoch": 500,
    "epochs": 8,              # 4,000 steps: ~4 passes over the 60,000 images
    "save_freq": 250,
    "hole": (7, 21),          # the evaluation's centre hole: rows and columns 7-20
    "eval_samples": 10000,   # the whole test split
    "heldout": 200,           # test images shipped for the quality floor test
    "classifier": "fashion_mnist_classifier",
}


def centre_masks(n, hole):
    masks = np.zeros((n, 28, 28), bool)
    masks[:, hole[0]:hole[1], hole[0]:hole[1]] = True
    return masks


def biharmonic(images, masks):
    from skimage.restoration import inpaint_biharmonic

    out = [inpaint_biharmonic(im[..., 0] / 255.0, m) for im, m in zip(images, masks)]
    return np.clip(np.rint(np.stack(out) * 255.0), 0, 255).astype(np.uint8)[..., None]


def telea(images, masks):
    import cv2

    out = [cv2.inpaint(im[..., 0], m.astype(np.uint8) * 255, 3, cv2.INPAINT_TELEA)
           for im, m in zip(images, masks)]
    return np.stack(out)[..., None]


def hole_quality(filled, original, hole):
    """Mean PSNR (dB, 0-255) and SSIM over the images, inside the square `hole`."""
    from skimage.metrics import structural_similarity

    a = filled[:, hole[0]:hole[1], hole[0]:hole[1], 0].astype(np.float64)
    b = original[:, hole[0]:hole[1], hole[0]:hole[1], 0].astype(np.float64)
    mse = np.mean((a - b) ** 2, axis=(1, 2))
    psnr = 10 * np.log10(255.0 ** 2 / np.maximum(mse, 1e-10))
    ssim = [structural_similarity(x, y, data_range=255.0, win_size=7) for x, y in zip(a, b)]
    return {"psnr_hole": float(np.mean(psnr)),
            "psnr_hole_pooled": float(10 * np.log10(255.0 ** 2 / np.mean(mse))),
            "ssim_hole": float(np.mean(ssim))}


def accuracy(classifier, images, labels):
    probs = classifier.predict(images.astype("float32") / 127.5 - 1.0, batch_size=500,
                               verbose=0)
    return float(np.mean(probs.argmax(1) == labels))


def side_by_side(columns, path, rows=8):
    """One row per image: masked | biharmonic | Telea | ours | original."""
    from keras_gans import utils

    gap = np.full((rows, 28, 2, 1), 255, np.uint8)
    parts = []
    for column in columns:
        parts += [column[:rows], gap]
    strip = np.concatenate(parts[:-1], axis=2)
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    utils.save_image(utils.make_grid(strip, ncols=2), str(path), overwrite=True)
    return path


def evaluate(model, x_test, y_test, n, hole):
    import keras_gans

    images, labels = x_test[:n], y_test[:n]
    masks = centre_masks(len(images), hole)
    timings, filled = {}, {}
    for name, fn in (("ours", model.inpaint), ("biharmonic", biharmonic),
                     ("telea", telea)):
        start = time.time()
        filled[name] = fn(images, masks)
        timings[name] = round(time.time() - start, 2)
    classifier = keras_gans.load(CONFIG["classifier"], compile=False)
    unmasked = accuracy(classifier, images, labels)
    masked = np.where(masks[..., None], np.uint8(0), images)
    results = {name: {**hole_quality(out, images, hole),
                      "classifier_accuracy": accuracy(classifier, out, labels),
                      "seconds": timings[name]}
               for name, out in filled.items()}
    results["masked_black_hole"] = {"classifier_accuracy": accuracy(classifier, masked,
                                                                    labels)}
    results["unmasked"] = {"classifier_accuracy": unmasked}
    ours = results["ours"]
    summary = {
        "psnr_gain_over_biharmonic_db": ours["psnr_hole"] - results["biharmonic"]["psnr_hole"],
        "psnr_gain_over_telea_db": ours["psnr_hole"] - results["telea"]["psnr_hole"],
        "accuracy_filled_over_unmasked": ours["classifier_accuracy"] / unmasked,
    }
    shown = np.where(masks[..., None], np.uint8(255), images)
    columns = [shown, filled["biharmonic"], filled["telea"], filled["ours"], images]
    return results, summary, columns


def main():
    import keras

    import keras_gans
    from keras_gans import training

    def extra(parser):
        parser.add_argument("--steps", type=int, default=None,
                            help="train only this many steps (a smoke run, in its own "
                                 "run directory); default: epochs x steps_per_epoch")

    args = parse_args(NAME, CONFIG["epochs"], extra)
    steps_per_epoch, epochs = CONFIG["steps_per_epoch"], args.epochs
    if args.steps is not None:
        steps_per_epoch = min(steps_per_epoch, args.steps)
        epochs = math.ceil(args.steps / steps_per_epoch)
        if args.run_dir == str(ROOT / "runs" / NAME):
            args.run_dir += f"_steps{args.steps}"
    keras.utils.set_random_seed(0)
    (x_train, _), (x_test, y_test) = fashion_split()

    def create():
        model = keras_gans.Inpainter.from_shape(CONFIG["image_shape"],
                                                **CONFIG["model_kwargs"])
        model.compile(**CONFIG["compile_kwargs"])
        return model

    start = time.time()
    model, step0 = resume_or_create(NAME, args.run_dir, create,
                                    f"{len(x_train)} training images, {epochs} x "
                                    f"{steps_per_epoch} steps")
    data = keras_gans.data.inpainting_pairs(x_train, masks=CONFIG["masks"],
                                            batch_size=CONFIG["batch_size"], seed=0,
                                            repeat=True)
    training.train(model, data, args.run_dir, epochs=epochs, steps_per_epoch=steps_per_epoch,
                   save_freq=CONFIG["save_freq"], verbose=2)
    train_seconds = time.time() - start
    steps = int(model.optimizer.iterations.numpy())

    n = args.eval_samples or CONFIG["eval_samples"]
    print(f"[{NAME}] evaluating on {n} held-out test images", flush=True)
    results, summary, columns = evaluate(model, x_test, y_test, n, CONFIG["hole"])
    metrics = {
        "measured_with": (f"{n} held-out Fashion-MNIST test images, a 14x14 centre hole "
                          "(rows and columns 7-20); PSNR (0-255) and SSIM (win 7) inside "
                          "the hole, averaged over images; accuracy of "
                          f"'{CONFIG['classifier']}' on the filled images"),
        "methods": results,
        **summary,
        "train_steps": steps,
        "train_seconds_this_invocation": round(train_seconds, 1),
        "seconds_per_step_this_invocation": round(train_seconds / max(steps - step0, 1), 3),
        "environment": _environment(),
    }
    print(json.dumps(metrics, indent=2), flush=True)
    if args.no_register:
        path = side_by_side(columns, pathlib.Path(args.run_dir) / "side_by_side.png")
        print(f"[{NAME}] wrote {path}", flush=True)
        return model, metrics
    png = side_by_side(columns, ROOT / "docs" / "samples" / f"{NAME}.png")
    heldout = ROOT / "tests" / "data" / f"{NAME}_heldout.npz"
    k = CONFIG["heldout"]
    np.savez_compressed(heldout, images=x_test[:k], labels=y_test[:k])
    floor_results, _, _ = evaluate(model, x_test[:k], y_test[:k], k, CONFIG["hole"])
    info = {
        "description": "Inpainter (U-Net generator on the masked image + mask, PatchGAN, L1 "
                       "in the hole + adversarial) filling holes in 28x28 Fashion-MNIST "
                       "images, trained on the 60,000 training images with box and "
                       "free-form masks.",
        "variant": "Inpainter",
        "task": "inpainting",
        "data": FASHION_NOTE,
        "recipe": f"zoo/{NAME}.py",
        "command": f"python zoo/{NAME}.py",
        "license": "Apache-2.0",
        "image_shape": list(CONFIG["image_shape"]),
        "samples_png": str(png.relative_to(ROOT)),
        # What `keras-gans list` shows (registry.headline): dotted paths into `metrics`.
        "headline": {"metric": "methods.ours.psnr_hole", "label": "hole PSNR",
                     "reference": "methods.biharmonic.psnr_hole",
                     "reference_label": "biharmonic"},
        "quality_floor": {
            "heldout_images": str(heldout.relative_to(ROOT)),
            "n": k,
            "hole": list(CONFIG["hole"]),
            "psnr_hole_min": round(floor_results["ours"]["psnr_hole"] - 0.5, 2),
            "classifier_accuracy_min": round(
                floor_results["ours"]["classifier_accuracy"] - 0.03, 3),
            "classifier": CONFIG["classifier"],
        },
    }
    path = export_and_register(model, NAME, args.version, info, metrics)
    print(f"[{NAME}] exported to {path}", flush=True)
    return model, metrics


if __name__ == "__main__":
    main()
