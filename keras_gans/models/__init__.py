"""The GAN variants: one module per variant, all specialising `keras_gans.models.gan.GAN`."""
