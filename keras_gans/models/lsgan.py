"""LSGAN (Mao et al. 2017, "Least Squares Generative Adversarial Networks", arXiv:1611.04076).

The DCGAN networks trained with least-squares losses: D regresses real images to `b`
and fakes to `a`; G pushes D(G(z)) towards `c`. The paper's default coding is a=0, b=1,
c=1 (its "0-1 coding"); a=-1, b=1, c=0 minimises the Pearson chi-squared divergence.
"""

import math

import keras

from keras_gans.models.dcgan import DCGAN, GAN_TRAIN_OPTIONS


@keras.saving.register_keras_serializable(package="keras_gans")
class LSGAN(DCGAN):
    """Least-squares GAN trained with `fit`.

    Args:
        a: the discriminator's target for fake images.
        b: the discriminator's target for real images.
        c: the value the generator wants the discriminator to output for fakes.
        **kwargs: the networks and options of `keras_gans.models.gan.GAN`
            (`generator`, `discriminator`, `num_classes`, `ema_decay`, `d_steps`, ...).

    Logs `d_loss`, `g_loss`, and `d_real` / `d_fake`: the discriminator's mean raw
    outputs (targets `b` and `a`), not probabilities.

    Example:

    ```python
    gan = keras_gans.LSGAN.from_shape((28, 28, 1), latent_dim=64)
    gan.compile()                 # Adam(2e-4, beta_1=0.5) as in DCGAN
    gan.fit(keras_gans.data.images(x_train), epochs=10)
    ```
    """

    adversarial_loss = "least_squares"
    outputs_are_logits = False
    train_options = GAN_TRAIN_OPTIONS

    def __init__(self, generator, discriminator, a=0.0, b=1.0, c=1.0, **kwargs):
        for name, value in (("a", a), ("b", b), ("c", c)):
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise TypeError(
                    f"Received an invalid value for argument `{name}`. Expected a number, "
                    f"received: {name}={value!r}"
                )
            if not math.isfinite(value):
                raise ValueError(
                    f"Received an invalid value for argument `{name}`. Expected a finite "
                    f"number (a least-squares target), received: {name}={value!r}"
                )
        if a == b:
            raise ValueError(
                "Arguments `a` (target for fakes) and `b` (target for reals) must differ; "
                f"received: a={a}, b={b}"
            )
        super().__init__(generator, discriminator, **kwargs)
        self.a, self.b, self.c = float(a), float(b), float(c)

    def model_options(self):
        return {**super().model_options(), "a": self.a, "b": self.b, "c": self.c}

    def loss_options(self):
        """The coding `(a, b, c)` of `keras_gans.losses.LeastSquares`."""
        return {**super().loss_options(), "a": self.a, "b": self.b, "c": self.c}
