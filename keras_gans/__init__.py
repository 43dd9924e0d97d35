"""keras_gans: a Keras 3 / TensorFlow model zoo of generative adversarial networks.

Importing the package is cheap: TensorFlow, the models and the data code are
imported on first use of the attribute that needs them. Every Keras-serialisable class
of the package (models, layers, losses, content losses, schedules, feature extractors)
is registered as soon as Keras is loaded, whichever comes first, so after
`import keras_gans` a plain
`keras.models.load_model` (safe mode, its default) loads their files in a fresh process.

    import keras_gans
    gan = keras_gans.DCGAN.from_shape((28, 28, 1), latent_dim=64)
    gan.compile()
    gan.fit(keras_gans.data.images(x_train, batch_size=128), epochs=5)
    images = gan.generate(16, seed=0)
"""

import importlib
import importlib.abc
import pkgutil
import sys

__version__ = "0.1.0"

# public name -> (module, attribute or None for the module itself)
_LAZY = {
    "GAN": ("keras_gans.models.gan", "GAN"),
    "DCGAN": ("keras_gans.models.dcgan", "DCGAN"),
    "LSGAN": ("keras_gans.models.lsgan", "LSGAN"),
    "WGANGP": ("keras_gans.models.wgan_gp", "WGANGP"),
    "CycleGAN": ("keras_gans.models.cyclegan", "CycleGAN"),
    "SRGAN": ("keras_gans.models.srgan", "SRGAN"),
    "SRResNet": ("keras_gans.models.srresnet", "SRResNet"),
    "PixelMSE": ("keras_gans.features", "PixelMSE"),
    "PixelL1": ("keras_gans.features", "PixelL1"),
    "VGGFeatureLoss": ("keras_gans.features", "VGGFeatureLoss"),
    "FeatureLoss": ("keras_gans.features", "FeatureLoss"),
    "Inpainter": ("keras_gans.models.inpainter", "Inpainter"),
    "load": ("keras_gans.registry", "load"),
    "load_generator": ("keras_gans.registry", "load_generator"),
    "list_models": ("keras_gans.registry", "list_models"),
    "model_info": ("keras_gans.registry", "model_info"),
}
# The submodules, imported on first use as `keras_gans.<name>` (`export` is a callable
# module: keras_gans.export(model, dir)).
_LAZY.update((name, (f"keras_gans.{name}", None)) for name in (
    "export", "features", "callbacks", "data", "evaluation", "layers", "losses",
    "metrics", "models", "registry", "serving", "training", "utils"))

__all__ = [  # the public names of _LAZY, plus the version
    "DCGAN",
    "GAN",
    "LSGAN",
    "SRGAN",
    "WGANGP",
    "CycleGAN",
    "FeatureLoss",
    "Inpainter",
    "PixelL1",
    "PixelMSE",
    "SRResNet",
    "VGGFeatureLoss",
    "__version__",
    "callbacks",
    "data",
    "evaluation",
    "export",
    "features",
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
    _stop_watching()
    for module in ("layers", "losses", "metrics", "evaluation"):
        importlib.import_module(f"keras_gans.{module}")
    models = importlib.import_module("keras_gans.models")
    for info in pkgutil.iter_modules(models.__path__):  # every variant, new ones too
        importlib.import_module(f"keras_gans.models.{info.name}")


class _RegisterWhenKerasLoads(importlib.abc.MetaPathFinder):
    """Calls `_register_all` once `keras` is loaded and no import it needs is running.

    It watches the imports of `keras`, `tensorflow` (which imports Keras half-way
    through its own initialisation) and this package's modules, and registers after
    the outermost of them has finished, so no module is ever used half-initialised.
    """

    watched = ("keras", "tensorflow")

    def __init__(self):
        self.running = 0

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in self.watched and not fullname.startswith(f"{__name__}."):
            return None
        for finder in sys.meta_path:  # the spec the import would have found without us
            if finder is not self and hasattr(finder, "find_spec"):
                spec = finder.find_spec(fullname, path, target)
                if spec is not None:
                    break
        else:
            return None
        if spec.loader is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = _WatchedLoader(spec.loader, self)
        return spec


class _WatchedLoader(importlib.abc.Loader):
    def __init__(self, loader, finder):
        self.loader, self.finder = loader, finder

    def __getattr__(self, name):  # get_code (runpy, `python -m`), get_source, is_package...
        if name == "loader":
            raise AttributeError(name)
        return getattr(self.loader, name)

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        module.__spec__.loader = module.__loader__ = self.loader  # the module sees its own
        self.finder.running += 1
        try:
            self.loader.exec_module(module)
        finally:
            self.finder.running -= 1
        if not self.finder.running and "keras" in sys.modules and \
                self.finder in sys.meta_path:
            _register_all()


def _stop_watching():
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _RegisterWhenKerasLoads)]


def __dir__():
    return __all__


if "keras" in sys.modules:  # Keras is loaded already: registering costs nothing more
    _register_all()
else:
    sys.meta_path.insert(0, _RegisterWhenKerasLoads())
