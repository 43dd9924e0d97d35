"""The models: one module per variant, all specialising `keras_gans.models.base`.

Variants: `gan` (the noise -> image base), `dcgan`, `lsgan`, `wgan_gp`, `cyclegan`,
`srresnet`, `srgan`, `inpainter`. Their parts: `cyclegan_networks` (ResNet generator,
PatchGAN discriminator), `history_pool`, `_class_ids` (label checks of conditional GANs),
`_graph_options` (grappler's remapper setting of `GAN.fit`). Every module here is
imported when Keras loads, so each registered class loads from `.keras` files.
"""

# The modules whose model `keras-gans train VARIANT` trains (VARIANT: the module's name),
# in the order the CLI lists them; each declares its options (`train_options`, see
# `keras_gans.models.base`). A module that is not installed is left out.
TRAIN_VARIANTS = ("dcgan", "lsgan", "wgan_gp", "cyclegan", "srgan", "inpainter")
