"""keras_gans: a Keras 3 / TensorFlow model zoo of generative adversarial networks.

Importing the package is cheap: TensorFlow, the models and the data code are
imported on first use of the attribute that needs them.

    import keras_gans
    gan = keras_gans.DCGAN.from_shape((28, 28, 1), latent_dim=64)
    gan.compile()
    gan.fit(keras_gans.data.images(x_train, batch_size=128), epochs=5)
    images = gan.generate(16, seed=0)
"""

import importlib

__version__ = "0.1.0"

# public name -> (module, attribute or None for the module itself)
_LAZY = {
    "GAN": ("keras_gans.models.gan", "GAN"),
    "DCGAN": ("keras_gans.models.dcgan", "DCGAN"),
    "LSGAN": ("keras_gans.models.lsgan", "LSGAN"),
    "WGANGP": ("keras_gans.models.wgan_gp", "WGANGP"),
    "CycleGAN": ("keras_gans.models.cyclegan", "CycleGAN"),
    "SRGAN": ("keras_gans.models.srgan", "SRGAN"),
    "Inpainter": ("keras_gans.models.inpainter", "Inpainter"),
    "load": ("keras_gans.registry", "load"),
    "load_generator": ("keras_gans.registry", "load_generator"),
    "list_models": ("keras_gans.registry", "list_models"),
    "model_info": ("keras_gans.registry", "model_info"),
    "export": ("keras_gans.export", None),  # a callable module: keras_gans.export(model, dir)
    "callbacks": ("keras_gans.callbacks", None),
    "data": ("keras_gans.data", None),
    "layers": ("keras_gans.layers", None),
    "losses": ("keras_gans.losses", None),
    "metrics": ("keras_gans.metrics", None),
    "models": ("keras_gans.models", None),
    "registry": ("keras_gans.registry", None),
    "serving": ("keras_gans.serving", None),
    "training": ("keras_gans.training", None),
    "utils": ("keras_gans.utils", None),
}

__all__ = [  # the public names of _LAZY, plus the version
    "DCGAN",
    "GAN",
    "LSGAN",
    "SRGAN",
    "WGANGP",
    "CycleGAN",
    "Inpainter",
    "__version__",
    "callbacks",
    "data",
    "export",
    "layers",
    "list_models",
    "load",
    "load_generator",
    "losses",
    "metrics",
    "model_info",
    "models",
    "registry",
    "serving",
    "training",
    "utils",
]


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'keras_gans' has no attribute {name!r}")
    module_name, attr = _LAZY[name]
    module = importlib.import_module(module_name)
    value = module if attr is None else getattr(module, attr)
    globals()[name] = value
    return value


def _register_all():
    """Import every module that registers Keras-serializable classes (for loading)."""
    for module in ("layers", "metrics", "models.gan", "models.dcgan", "models.lsgan",
                   "models.wgan_gp", "models.cyclegan", "models.srgan",
                   "models.inpainter"):
        importlib.import_module(f"keras_gans.{module}")


def __dir__():
    return __all__
