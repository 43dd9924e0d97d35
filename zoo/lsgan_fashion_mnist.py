"""Zoo entry `lsgan_fashion_mnist`: LSGAN (Mao et al. 2017) on Fashion-MNIST.

    python zoo/lsgan_fashion_mnist.py  # ~30 min on 2 CPU cores; resumes if interrupted

DiffAugment (translation + cutout) on every image the discriminator sees; the EMA
generator is measured every 1,000 steps (2,000 samples against the 10,000 test images)
and the best-FD checkpoint is shipped.
"""

from _recipe import run_gan

CONFIG = {
    "name": "lsgan_fashion_mnist",
    "variant": "LSGAN",
    "description": "Least-squares GAN (a=0, b=1, c=1) generating 28x28 Fashion-MNIST "
                   "clothing images, trained on the 60,000 training images.",
    "data": "fashion_mnist",
    "image_shape": (28, 28, 1),
    "latent_dim": 64,
    "base_filters": 64,
    "model_kwargs": {"ema_decay": 0.999, "augment": ("translation", "cutout")},
    "batch_size": 64,
    # An "epoch" is 1,000 steps of a shuffled stream of the 60,000 images.
    "epochs": 6,
    "steps_per_epoch": 1000,
    "evaluate_every": 1,
    "save_freq": 200,
    "classifier": "fashion_mnist_classifier",
}

if __name__ == "__main__":
    run_gan(CONFIG)
