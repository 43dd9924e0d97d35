"""WGAN-GP (Gulrajani et al. 2017, "Improved Training of Wasserstein GANs", arXiv:1704.00028).

A critic trained to estimate the Wasserstein-1 distance, kept 1-Lipschitz by a gradient
penalty on random interpolates of real and fake images, `n_critic` critic steps per
generator step, no batch norm in the critic, Adam(1e-4, beta_1=0, beta_2=0.9).
"""

import keras
import tensorflow as tf

from keras_gans import losses as losses_lib
from keras_gans.models.base import _check_bool, _check_non_negative, _check_positive_int
from keras_gans.models.dcgan import DCGAN, GAN_TRAIN_OPTIONS

# `keras-gans train wgan_gp` options (a literal the CLI reads without importing this).
TRAIN_OPTIONS = {
    **GAN_TRAIN_OPTIONS,
    "n_critic": {"type": "positive_int", "default": 5,
                 "help": "critic steps per generator step (default: 5)"},
    "gp_weight": {"type": "non_negative_float", "default": 10.0,
                  "help": "gradient penalty weight (default: 10)"},
    "split_real_batch": {"type": "flag", "default": False,
                         "help": "give each critic step its own 1/n_critic of the batch "
                                 "(the paper's Algorithm 1; raise --batch-size to match)"},
}


@keras.saving.register_keras_serializable(package="keras_gans")
class WGANGP(DCGAN):
    """Wasserstein GAN with gradient penalty, trained with `fit`.

    Args:
        gp_weight: lambda, the weight of the gradient penalty (the paper: 10).
        n_critic: critic updates per generator update (the paper: 5). Each critic step
            sees the same real batch with fresh noise (and fresh interpolation
            coefficients), unless `split_real_batch=True` (as the paper's
            Algorithm 1: each critic step its own real images; feed `n_critic` times
            the batch one step should see).
        one_sided: penalise only gradient norms above 1 (Petzka et al. 2018).
        **kwargs: the networks and options of `keras_gans.models.gan.GAN`
            (`num_classes`, `ema_decay`, `instance_noise`, `r1_weight`, ...).
            `label_smoothing` does not apply to the Wasserstein loss and is rejected.

    The interpolation coefficient is drawn uniformly in [0, 1] per example. Under
    `tf.distribute` each replica takes its examples' rows of the global batch's draw
    and computes the penalty on its own share of the batch (the mean over replicas
    is the global-batch penalty), so R replicas train as one device would.

    Logs `d_loss` (critic loss including the penalty), `g_loss`, `gp` and the mean
    critic scores `d_real`, `d_fake` (their difference estimates the W-distance).

    Example:

    ```python
    gan = keras_gans.WGANGP.from_shape((28, 28, 1), latent_dim=64)
    gan.compile()                 # Adam(1e-4, beta_1=0, beta_2=0.9)
    gan.fit(keras_gans.data.images(x_train), epochs=10)
    ```
    """

    adversarial_loss = "wasserstein"
    outputs_are_logits = False
    discriminator_normalization = "none"
    default_optimizer = {"learning_rate": 1e-4, "beta_1": 0.0, "beta_2": 0.9}  # noqa: RUF012
    train_options = TRAIN_OPTIONS

    def __init__(self, generator, discriminator, gp_weight=10.0, n_critic=5, one_sided=False,
                 **kwargs):
        if "d_steps" in kwargs and kwargs["d_steps"] not in (None, n_critic):
            raise ValueError(
                "WGANGP takes `n_critic` (critic steps per generator step); received both "
                f"n_critic={n_critic} and d_steps={kwargs['d_steps']}."
            )
        kwargs.pop("d_steps", None)
        _check_positive_int("n_critic", n_critic)
        gp_weight = _check_non_negative("gp_weight", gp_weight)
        if kwargs.get("label_smoothing"):
            raise ValueError(
                "`label_smoothing` does not apply to the Wasserstein loss (the critic "
                "outputs scores, not probabilities); received "
                f"label_smoothing={kwargs['label_smoothing']}."
            )
        super().__init__(generator, discriminator, d_steps=n_critic, **kwargs)
        self.gp_weight = float(gp_weight)
        self.n_critic = int(n_critic)
        self.one_sided = _check_bool("one_sided", one_sided)
        self.gp_tracker = keras.metrics.Mean(name="gp")

    def model_options(self):
        options = super().model_options()
        options.pop("d_steps")
        return {**options, "gp_weight": self.gp_weight, "n_critic": self.n_critic,
                "one_sided": self.one_sided}

    @property
    def metrics(self):
        return super().metrics + [self.gp_tracker]

    @property
    def penalizes_input_gradients(self):
        return bool(self.gp_weight) or super().penalizes_input_gradients

    def discriminator_penalty(self, real, fake, labels, step_seed):
        penalty = super().discriminator_penalty(real, fake, labels, step_seed)
        if not self.gp_weight:
            return penalty
        alpha = self._replica_rows(
            lambda shape, seed: tf.random.stateless_uniform(shape, seed=seed),
            [tf.shape(real)[0]], step_seed)
        gp = losses_lib.gradient_penalty(
            self.discriminator, real, fake, alpha=alpha, condition=labels,
            one_sided=self.one_sided,
            loss_scale=self._input_gradient_scale(self.d_optimizer))
        self.gp_tracker.update_state(gp)
        return penalty + self.gp_weight * gp
