"""Zoo entry `srgan_x4_wallpapers`: SRResNet then SRGAN at 4x on real photographs,
offline, on CPU; held-out evaluation, export and registration.

Data: the photographs shipped with the system's wallpaper packages,
`/usr/share/backgrounds/**/*.jpg` (lomiri-wallpapers and mate-backgrounds: landscapes,
animals, plants, city scenes; 1-16 megapixels). `Elephants_3840x2160.jpg` and
`Elephants_5640x3172.jpg` are `Elephants.jpg` at other resolutions: only the first is
kept, so no picture is both trained on and tested on. Unreadable files are skipped.

Split: the photos sorted by file name; every `len // holdout`-th one (starting with the
first) is held out, `--holdout` of them (4 by default); the rest are for training.

Preparation: photos are downscaled (PIL Lanczos) so their longer side is at most
`--max-side` pixels (1024 by default) and written as PNG to `OUT/train` and
`OUT/test`: decoding 16-megapixel JPEGs on every pass would dominate a CPU run, and
the result is still far larger than the 64-pixel training crops. The high-resolution
ground truth is this downscaled photo; the low-resolution input is it downscaled 4x with
`tf.image.resize(..., "bicubic", antialias=True)` and stored as uint8, the degradation
`keras_gans.data.sr_pairs` trains on.

Model and budget: an SRResNet of 8 residual blocks and 32 filters (the paper: 16 and
64) that learns a correction to bicubic upscaling (`SRResNet(bicubic_skip=True)`, the
global residual of VDSR; `--no-bicubic-skip` trains the paper's plain generator, which
after 450 + 150 steps lost to bicubic by 6 dB) and the paper's discriminator at 16 base
filters, on 48x48 crops in batches of 16. On 2 free CPU cores a pretrain step takes
0.4 s and an adversarial one 0.5 s (`--measure`), so the defaults (2000 + 200 steps)
take about 16 minutes (the registered run took 40, sharing the cores with two other
trainings). That is ~10^3 times less training than the paper's, which is why the
pretrain phase uses Adam at 1e-3 with a cosine decay instead of the paper's 1e-4; the
numbers show what this budget buys, not the paper's results. (Version 1 of the entry is
the 450 + 150 step run: level with bicubic.)

Training (resumable): the pretrain phase (SRResNet, pixel MSE) for `--pretrain-steps`,
then the adversarial phase (SRGAN, adversarial weight 1e-3) for `--adversarial-steps`,
from `keras_gans.data.sr_pairs(OUT/train, scale=4, hr_size=48, batch_size=16)`. The
paper's VGG19 content loss needs ImageNet weights, which cannot be downloaded offline:
the adversarial phase uses it only when `--vgg-weights FILE` is given (or Keras's cache
holds the file) and the pixel MSE otherwise (the paper's "SRGAN-MSE"); the JSON says
which. Each phase keeps a `keras.callbacks.BackupAndRestore` directory in OUT: rerun the
same command after an interruption and it resumes at the last finished epoch of
`--epoch-steps` steps. The finished phases are saved as `RUN_DIR/srresnet.keras` and
`RUN_DIR/srgan.keras` (a rerun then only evaluates and registers).

Evaluation: on each held-out photo, whole (cropped to a multiple of 4), PSNR and SSIM
on the Y channel with a 4-pixel border crop (and on RGB), for bicubic upscaling, the
SRResNet phase and the SRGAN phase. Writes `docs/srgan_x4_wallpapers_results.json` and
`docs/samples/srgan_x4_wallpapers.png` (one row per held-out photo: bicubic | SRResNet |
SRGAN | original, 128x128 crops shown at 2x).

Registration: the SRGAN phase is exported to `savedmodels/srgan_x4_wallpapers/<next>`
and recorded in the manifest with these numbers, a fingerprint and a quality floor that
`tests/test_zoo.py` checks on 96x96 crops of the held-out photos shipped in
`tests/data/srgan_x4_heldout.npz` (`--no-register`: measure only).

    python zoo/srgan_x4_wallpapers.py --measure          # time the steps, suggest counts
    nohup python zoo/srgan_x4_wallpapers.py > srgan.log 2>&1 &
"""

import argparse
import glob
import json
import os
import platform
import re
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import tensorflow as tf
from PIL import Image, ImageDraw

import keras_gans
from keras_gans import SRGAN, PixelMSE, SRResNet, VGGFeatureLoss
from keras_gans.utils import bicubic_upscale

PHOTOS = "/usr/share/backgrounds"
NAME = "srgan_x4_wallpapers"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCALE = 4
VGG_CACHE = os.path.expanduser(
    "~/.keras/models/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5")


# --- Data ---


def list_photos():
    """Sorted photo paths, without the extra-resolution copies of the same picture."""
    paths = sorted(glob.glob(os.path.join(PHOTOS, "**", "*.jpg"), recursive=True),
                   key=os.path.basename)
    kept, seen = [], set()
    for path in paths:
        # "Elephants_3840x2160.jpg" is "Elephants.jpg" at another resolution.
        picture = re.sub(r"_\d+x\d+$", "", os.path.splitext(os.path.basename(path))[0])
        if picture not in seen:
            seen.add(picture)
            kept.append(path)
    return kept


def split(paths, holdout):
    step = max(1, len(paths) // holdout)
    test = paths[::step][:holdout]
    train = [p for p in paths if p not in test]
    return train, test


def prepare(paths, folder, max_side):
    """Downscaled PNG copies of the readable photos (cached); returns the ones written."""
    os.makedirs(folder, exist_ok=True)
    out = []
    for path in paths:
        target = os.path.join(folder, os.path.splitext(os.path.basename(path))[0] + ".png")
        if not os.path.exists(target):
            try:
                image = Image.open(path).convert("RGB")
            except OSError as e:
                print(f"skipping unreadable {path}: {e}")
                continue
            factor = max_side / max(image.size)
            if factor < 1:
                size = (round(image.width * factor), round(image.height * factor))
                image = image.resize(size, Image.LANCZOS)
            image.save(target + ".tmp.png")
            os.replace(target + ".tmp.png", target)
        out.append(target)
    return out


def degrade(high_res):
    """The low-resolution input: 4x bicubic antialiased downscaling, stored as uint8."""
    x = keras_gans.utils.to_float(high_res)[None]
    h, w = x.shape[1] // SCALE, x.shape[2] // SCALE
    low = tf.clip_by_value(tf.image.resize(x, (h, w), "bicubic", antialias=True), -1, 1)
    return keras_gans.utils.to_uint8(low.numpy()[0])


def load_test_pairs(paths):
    pairs = []
    for path in paths:
        high = np.asarray(Image.open(path).convert("RGB"))
        h, w = (s - s % SCALE for s in high.shape[:2])
        top, left = (high.shape[0] - h) // 2, (high.shape[1] - w) // 2
        high = high[top:top + h, left:left + w]
        pairs.append((os.path.basename(path), degrade(high), high))
    return pairs


# --- Training ---


def build(args):
    """The SRResNet of the first phase."""
    return SRResNet(scale=SCALE, num_blocks=args.blocks, filters=args.filters,
                    hr_size=args.hr_size, bicubic_skip=args.bicubic_skip)


def srgan_from(srresnet, args):
    """The SRGAN of the second phase, on the SRResNet's generator."""
    weights = vgg_weights(args)
    return SRGAN.from_pretrained(
        srresnet, d_filters=args.d_filters, dense_units=args.dense_units,
        content_loss=VGGFeatureLoss(weights=weights) if weights else PixelMSE())


def dataset(args, seed):
    return keras_gans.data.sr_pairs(os.path.join(args.run_dir, "train"), scale=SCALE,
                                    hr_size=args.hr_size, batch_size=args.batch_size,
                                    repeat=True, cache=True, seed=seed)


def vgg_weights(args):
    if args.vgg_weights:
        return args.vgg_weights
    return VGG_CACHE if os.path.exists(VGG_CACHE) else None


def compile_phase(gan, phase, args):
    if phase == "pretrain":
        # The paper pretrains for 10^6 steps at 1e-4; a CPU budget of a few hundred
        # steps needs a larger rate, decayed to a tenth of it by the end.
        schedule = keras.optimizers.schedules.CosineDecay(
            args.pretrain_lr, decay_steps=args.pretrain_steps, alpha=0.1)
        gan.compile(g_optimizer=keras.optimizers.Adam(schedule, beta_1=0.9))
    else:
        gan.compile()


def resume_epoch(backup_dir):
    try:
        with open(os.path.join(backup_dir, "training_metadata.json")) as f:
            return int(json.load(f)["epoch"])
    except (OSError, ValueError, KeyError):
        return 0


class StepTimer(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.times = []

    def on_train_batch_begin(self, batch, logs=None):
        self._start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.times.append(time.perf_counter() - self._start)


def run_phase(gan, phase, steps, args):
    """Trains one phase with BackupAndRestore; returns its log."""
    backup = os.path.join(args.run_dir, f"backup_{phase}")
    epochs = max(1, -(-steps // args.epoch_steps))
    start_epoch = resume_epoch(backup)
    timer = StepTimer()
    began = time.time()
    # A different crop stream after a resume, not a replay of the first epochs.
    gan.fit(dataset(args, seed=args.seed + 1000 * start_epoch + (phase == "adversarial")),
            epochs=epochs, steps_per_epoch=args.epoch_steps, verbose=2,
            callbacks=[keras.callbacks.BackupAndRestore(backup),
                       keras.callbacks.CSVLogger(os.path.join(args.run_dir, f"{phase}.csv"),
                                                 append=True),
                       timer])
    return {"steps": epochs * args.epoch_steps, "resumed_at_epoch": start_epoch,
            "wall_seconds_this_run": round(time.time() - began, 1),
            "median_step_seconds": round(float(np.median(timer.times[1:])), 3)
            if len(timer.times) > 1 else None}


def train(args):
    logs = {}
    srresnet_path = os.path.join(args.run_dir, "srresnet.keras")
    srgan_path = os.path.join(args.run_dir, "srgan.keras")
    if not os.path.exists(srresnet_path):
        keras.utils.set_random_seed(args.seed)
        gan = build(args)
        compile_phase(gan, "pretrain", args)
        logs["pretrain"] = run_phase(gan, "pretrain", args.pretrain_steps, args)
        gan.save(srresnet_path)
    if not os.path.exists(srgan_path):
        gan = srgan_from(keras.models.load_model(srresnet_path), args)
        compile_phase(gan, "adversarial", args)
        logs["adversarial"] = run_phase(gan, "adversarial", args.adversarial_steps, args)
        gan.save(srgan_path)
    return logs


def measure(args):
    """Times pretrain and adversarial steps; prints step counts that fit the budget."""
    gan = build(args)
    ds = iter(dataset(args, args.seed))
    out = {}
    for phase in ("pretrain", "adversarial"):
        gan = srgan_from(gan, args) if phase == "adversarial" else gan
        compile_phase(gan, phase, args)
        gan.train_on_batch(*next(ds))  # traces
        began = time.perf_counter()
        for _ in range(args.measure_steps):
            gan.train_on_batch(*next(ds))
        out[phase] = (time.perf_counter() - began) / args.measure_steps
        print(f"{phase}: {out[phase]:.2f} s/step")
    # 3 minutes for loading, tracing, saving and evaluation; 70% of the rest pretrains.
    train_seconds = args.budget_minutes * 60 - 180
    pretrain = int(0.7 * train_seconds / out["pretrain"])
    adversarial = int(0.3 * train_seconds / out["adversarial"])
    round_to = args.epoch_steps
    print(f"suggested: --pretrain-steps {pretrain // round_to * round_to} "
          f"--adversarial-steps {adversarial // round_to * round_to}")
    return out


# --- Evaluation ---


def evaluate(args, test_pairs):
    models = {"srresnet": keras.models.load_model(os.path.join(args.run_dir, "srresnet.keras")),
              "srgan": keras.models.load_model(os.path.join(args.run_dir, "srgan.keras"))}
    per_photo, outputs = [], []
    for name, low, high in test_pairs:
        row = {"photo": name, "hr_shape": list(high.shape)}
        images = {"bicubic": bicubic_upscale(low, SCALE)}
        for key, gan in models.items():
            images[key] = gan.upscale(low)
        for key, image in images.items():
            row[key] = {
                "psnr_y": keras_gans.metrics.psnr(image, high, y_channel=True,
                                                  crop_border=SCALE),
                "ssim_y": keras_gans.metrics.ssim(image, high, y_channel=True,
                                                  crop_border=SCALE),
                "psnr_rgb": keras_gans.metrics.psnr(image, high, crop_border=SCALE),
                "ssim_rgb": keras_gans.metrics.ssim(image, high, crop_border=SCALE),
            }
        per_photo.append(row)
        outputs.append((images, high))
    mean = {key: {m: round(float(np.mean([r[key][m] for r in per_photo])), 4)
                  for m in ("psnr_y", "ssim_y", "psnr_rgb", "ssim_rgb")}
            for key in ("bicubic", "srresnet", "srgan")}
    return per_photo, mean, outputs


def busiest_crop(image, size):
    """Top-left corner of the `size` crop with the most detail (gradient energy)."""
    gray = image.astype("float32").mean(axis=-1)
    energy = np.abs(np.diff(gray, axis=0))[:, :-1] + np.abs(np.diff(gray, axis=1))[:-1]
    best, corner = -1.0, (0, 0)
    stride = size // 2
    for top in range(0, image.shape[0] - size + 1, stride):
        for left in range(0, image.shape[1] - size + 1, stride):
            score = energy[top:top + size, left:left + size].mean()
            if score > best:
                best, corner = score, (top, left)
    return corner


def save_crops(outputs, path, size=128, zoom=2):
    columns = ("bicubic", "srresnet", "srgan", "original")
    titles = ("bicubic", "SRResNet (pretrain)", "SRGAN (adversarial)", "original")
    tiles = []
    for images, high in outputs:
        top, left = busiest_crop(high, size)
        for key in columns:
            image = high if key == "original" else images[key]
            tile = Image.fromarray(image[top:top + size, left:left + size])
            tiles.append(np.asarray(tile.resize((size * zoom, size * zoom), Image.NEAREST)))
    grid = keras_gans.utils.make_grid(np.stack(tiles), ncols=len(columns), padding=4)
    header = Image.new("RGB", (grid.shape[1], 20), "white")
    draw = ImageDraw.Draw(header)
    for i, title in enumerate(titles):
        draw.text((4 + i * (size * zoom + 4) + 4, 4), title, fill="black")
    canvas = Image.new("RGB", (grid.shape[1], grid.shape[0] + 20), "white")
    canvas.paste(header, (0, 0))
    canvas.paste(Image.fromarray(grid), (0, 20))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    canvas.save(path)


# --- Registration ---

HELDOUT = os.path.join(ROOT, "tests", "data", "srgan_x4_heldout.npz")
HELDOUT_SIZE = 96


def heldout_floor(gan, test_files):
    """Writes one 96x96 crop (the most detailed) of each held-out photo, with its 4x
    downscaled input, for the zoo test; measures them the way the test does."""
    lows, highs = [], []
    for _, low, high in load_test_pairs(test_files):
        top, left = (c - c % SCALE for c in busiest_crop(high, HELDOUT_SIZE))
        highs.append(high[top:top + HELDOUT_SIZE, left:left + HELDOUT_SIZE])
        lows.append(low[top // SCALE:(top + HELDOUT_SIZE) // SCALE,
                        left // SCALE:(left + HELDOUT_SIZE) // SCALE])
    low, high = np.stack(lows), np.stack(highs)
    os.makedirs(os.path.dirname(HELDOUT), exist_ok=True)
    np.savez_compressed(HELDOUT, low=low, high=high)
    report = gan.evaluate_quality(low, high)
    return {"heldout_images": os.path.relpath(HELDOUT, ROOT), "n": len(low),
            "psnr_y_min": round(report["model"]["psnr_y"] - 0.5, 3),
            "ssim_y_min": round(report["model"]["ssim_y"] - 0.02, 4),
            "measured": report}


def register(gan, results, floor, args):
    """Export to savedmodels/<NAME>/<version> and record it in the manifest."""
    from _recipe import export_and_register

    info = {
        "description": ("SRGAN 4x super-resolution of photographs (SRResNet of "
                        f"{args.blocks} blocks x {args.filters} filters learning a "
                        "correction to bicubic upscaling, then adversarial fine-tuning)."),
        "variant": "SRGAN",
        "task": "super-resolution x4",
        "data": (f"Photographs from Debian's wallpaper packages ({PHOTOS}; lomiri-"
                 f"wallpapers, mate-backgrounds): {len(results['data']['train_photos'])} "
                 f"for training, {len(results['data']['test_photos'])} held out."),
        "recipe": f"zoo/{NAME}.py",
        "command": f"python zoo/{NAME}.py",
        "license": "Apache-2.0 (weights); the photos keep their packages' licenses",
        "scale": SCALE,
        "usage": ("keras_gans.load(name).upscale(image_uint8) for any image size; served "
                  "signature upscale (uint8 in, uint8 out)"),
        "samples_png": results["crops_png"],
        "quality_floor": floor,
    }
    metrics = {"measured_with": results["evaluation"], "mean": results["mean"],
               "per_photo": results["per_photo"], "model": results["model"],
               "training": results["training"], "environment": results["environment"]}
    return export_and_register(gan, NAME, args.version, info, metrics)


# --- Main ---


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run-dir", default=os.path.join(ROOT, "runs", NAME),
                        help="prepared photos, backups, models; started again, it resumes")
    parser.add_argument("--docs", default=os.path.join(ROOT, "docs"))
    parser.add_argument("--bicubic-skip", action=argparse.BooleanOptionalAction, default=True,
                        help="learn a correction to bicubic upscaling (default)")
    parser.add_argument("--version", type=int, default=None,
                        help="version to write (default: the next free one)")
    parser.add_argument("--no-register", action="store_true",
                        help="measure only: do not export or touch the manifest")
    parser.add_argument("--holdout", type=int, default=4)
    parser.add_argument("--max-side", type=int, default=1024)
    parser.add_argument("--blocks", type=int, default=8)
    parser.add_argument("--filters", type=int, default=32)
    parser.add_argument("--d-filters", type=int, default=16)
    parser.add_argument("--dense-units", type=int, default=256)
    parser.add_argument("--hr-size", type=int, default=48)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--pretrain-steps", type=int, default=2000)
    parser.add_argument("--pretrain-lr", type=float, default=1e-3)
    parser.add_argument("--adversarial-steps", type=int, default=200)
    parser.add_argument("--epoch-steps", type=int, default=50)
    parser.add_argument("--vgg-weights", default=None,
                        help="local VGG19 notop weights for the adversarial content loss")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--measure", action="store_true",
                        help="only time the train steps and suggest step counts")
    parser.add_argument("--measure-steps", type=int, default=5)
    parser.add_argument("--budget-minutes", type=float, default=25)
    args = parser.parse_args(argv)
    if args.holdout < 4:
        parser.error(f"--holdout must be at least 4, received {args.holdout}")

    began = time.time()
    train_paths, test_paths = split(list_photos(), args.holdout)
    train_files = prepare(train_paths, os.path.join(args.run_dir, "train"), args.max_side)
    test_files = prepare(test_paths, os.path.join(args.run_dir, "test"), args.max_side)
    print(f"{len(train_files)} training photos, {len(test_files)} held out: "
          f"{[os.path.basename(p) for p in test_files]}")
    if args.measure:
        measure(args)
        return 0

    train_logs = train(args)
    per_photo, mean, outputs = evaluate(args, load_test_pairs(test_files))
    crops_path = os.path.join(args.docs, "samples", f"{NAME}.png")
    save_crops(outputs, crops_path)
    adversarial_content = "vgg19" if vgg_weights(args) else "mse"
    results = {
        "task": "4x single-image super-resolution of real photographs",
        "data": {
            "source": f"{PHOTOS}/**/*.jpg (lomiri-wallpapers, mate-backgrounds), "
                      "de-duplicated, downscaled to a longer side of at most "
                      f"{args.max_side} px (Lanczos)",
            "train_photos": [os.path.basename(p) for p in train_files],
            "test_photos": [os.path.basename(p) for p in test_files],
            "degradation": "bicubic antialiased 4x downscaling (tf.image.resize), uint8",
            "training_patches": f"random {args.hr_size}x{args.hr_size} crops with flips "
                                "(keras_gans.data.sr_pairs)",
        },
        "model": {"generator": f"SRResNet, {args.blocks} residual blocks, "
                               f"{args.filters} filters"
                               + (", residual over bicubic upscaling (bicubic_skip)"
                                  if args.bicubic_skip else ""),
                  "discriminator": f"SRGAN discriminator, {args.d_filters} base filters, "
                                   f"dense {args.dense_units}, {args.hr_size}x"
                                   f"{args.hr_size} input",
                  "batch_size": args.batch_size},
        "training": {
            "pretrain": {"content_loss": "mse", "steps": args.pretrain_steps,
                         "optimizer": f"Adam, cosine decay {args.pretrain_lr:g} -> "
                                      f"{args.pretrain_lr / 10:g}, beta_1 0.9"},
            "adversarial": {"content_loss": adversarial_content, "adversarial_weight": 1e-3,
                            "steps": args.adversarial_steps,
                            "optimizer": "Adam(1e-4, beta_1=0.9), both networks (paper)"},
            "vgg19_note": None if adversarial_content == "vgg19" else (
                "The VGG19 ImageNet weights are not available offline (Keras cannot "
                "download them here), so the adversarial phase used the pixel MSE "
                "content loss: the paper's SRGAN-MSE, not SRGAN-VGG54. Pass "
                "--vgg-weights FILE to use the feature loss."),
            "this_run": train_logs,
        },
        "evaluation": "whole held-out photos (cropped to a multiple of 4); PSNR (dB) and "
                      "SSIM on the BT.601 Y channel and on RGB, 4-pixel border crop "
                      "(keras_gans.metrics.psnr / ssim)",
        "mean": mean,
        "per_photo": per_photo,
        "crops_png": os.path.relpath(crops_path, ROOT),
        "environment": {"cpu_count": os.cpu_count(), "tensorflow": tf.__version__,
                        "keras": keras.__version__, "python": platform.python_version(),
                        "devices": [d.device_type for d in tf.config.list_physical_devices()]},
        "command": "python " + " ".join([os.path.relpath(__file__, ROOT), *sys.argv[1:]]),
        "wall_seconds_this_run": round(time.time() - began, 1),
    }
    path = os.path.join(args.docs, f"{NAME}_results.json")
    with open(path, "w") as f:
        json.dump(results, f, indent=2)
    print(json.dumps(mean, indent=2))
    print(f"wrote {path} and {crops_path}")
    if not args.no_register:
        gan = keras.models.load_model(os.path.join(args.run_dir, "srgan.keras"))
        floor = heldout_floor(gan, test_files)
        print(f"quality floor: {json.dumps(floor)}", flush=True)
        print(f"[{NAME}] exported to {register(gan, results, floor, args)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
