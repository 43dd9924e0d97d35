"""The models: one module per variant, all specialising `keras_gans.models.base`."""

# The modules whose model `keras-gans train VARIANT` trains (VARIANT: the module's name),
# in the order the CLI lists them; each declares its options (`train_options`, see
# `keras_gans.models.base`). A module that is not installed is left out.
TRAIN_VARIANTS = ("dcgan", "lsgan", "wgan_gp", "cyclegan", "srgan", "inpainter")
