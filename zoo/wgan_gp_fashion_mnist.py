"""Zoo entry `wgan_gp_fashion_mnist`: WGAN-GP (Gulrajani et al. 2017) on Fashion-MNIST.

The paper's settings: n_critic 5, gradient-penalty weight 10, no batch norm in the
critic, Adam(1e-4, beta_1=0, beta_2=0.9).

    python zoo/wgan_gp_fashion_mnist.py
"""

from _recipe import run_gan

CONFIG = {
    "name": "wgan_gp_fashion_mnist",
    "variant": "WGANGP",
    "description": "WGAN-GP generating 28x28 Fashion-MNIST clothing images, trained on the "
                   "60,000 training images.",
    "data": "fashion_mnist",
    "image_shape": (28, 28, 1),
    "latent_dim": 64,
    "base_filters": 32,
    "model_kwargs": {"ema_decay": 0.999, "n_critic": 5, "gp_weight": 10.0},
    "batch_size": 64,
    # CPU budget: 15 x 150 generator steps (11,250 critic steps) over a shuffled stream
    # of the 60,000 images; raise --epochs to train longer (the run resumes). Version 1
    # stopped at 3 epochs; version 2 continued that run to 15 with the EMA warm-up
    # (GAN(ema_warmup=True), the default since).
    "epochs": 15,
    "steps_per_epoch": 150,
    "save_freq": 200,
    "classifier": "fashion_mnist_classifier",
}

if __name__ == "__main__":
    run_gan(CONFIG)
