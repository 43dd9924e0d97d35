"""Zoo entry `lsgan_fashion_mnist`: LSGAN (Mao et al. 2017) on Fashion-MNIST.

    python zoo/lsgan_fashion_mnist.py
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
    "model_kwargs": {"ema_decay": 0.999},
    "batch_size": 128,
    # Version 1: 2 epochs (936 steps). Version 2 continued that run to 6 epochs with the
    # EMA warm-up (GAN(ema_warmup=True), the default since); run from nothing, the recipe
    # trains all 6 epochs with it.
    # DiffAugment did not pay here (60,000 images are not a small data set): 6,000 steps
    # of batch 64 with augment=("translation", "cutout") ended at FD 42.6, score 4.19
    # (10,000 samples), behind version 2's 37.2 / 4.26, so the recipe stays as it was.
    "epochs": 6,
    "save_freq": 200,
    "classifier": "fashion_mnist_classifier",
}

if __name__ == "__main__":
    run_gan(CONFIG)
