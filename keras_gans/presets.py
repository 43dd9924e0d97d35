"""keras-hub's preset conventions for the zoo's model classes.

    keras_gans.DCGAN.presets                     # {name: manifest entry} of DCGAN entries
    keras_gans.DCGAN.from_preset("dcgan_mnist")  # as keras_gans.load, checked to be a DCGAN
    keras_gans.SRGAN.from_preset("runs/sr")      # a local preset directory or .keras file
    keras_gans.DCGAN.from_preset("https://example.org/zoo/dcgan_mnist")  # a mirror
    keras_gans.DCGAN.from_preset("hf://owner/repo/dcgan_mnist")

A preset of a class is a zoo entry whose `variant` is exactly the class's name (an
`LSGAN` entry is no `DCGAN` preset, although LSGAN subclasses DCGAN).
"""

import os


class classproperty:  # named as keras-hub's
    """A read-only property of the class (`DCGAN.presets`), not of its instances."""

    def __init__(self, fget):
        self.fget = fget
        self.__doc__ = fget.__doc__

    def __get__(self, instance, owner):
        if instance is not None:  # Keras's saving walks instance attributes: stay cheap
            raise AttributeError(f"`presets` is an attribute of the class "
                                 f"{owner.__name__}, not of its instances")
        return self.fget(owner)


# Files a local preset directory may hold, first found wins: an exported version
# (`keras_gans.export`), then a run directory (`keras-gans train`), then a bare file.
PRESET_FILES = ("assets.extra/model.keras", "model.keras", "checkpoint.keras")


class PresetMixin:
    """`presets` and `from_preset` for a model class (keras-hub's conventions)."""

    @classproperty
    def presets(cls):
        """`{name: manifest entry}` of the zoo entries of exactly this class."""
        from keras_gans import registry

        return {name: registry.model_info(name) for name in registry.list_models()
                if registry.model_info(name).get("variant") == cls.__name__}

    @classmethod
    def from_preset(cls, preset, version=None, compile=True):
        """The model of `preset`, which must hold an instance of exactly this class.

        Args:
            preset: a zoo name (see `cls.presets`), a local preset directory (an exported
                version, or a `keras-gans train` run directory), a `.keras` file, or a
                handle `https://HOST/ROOT/NAME[/VERSION]` / `hf://OWNER/REPO/NAME` fetched
                through the zoo's mirror mechanism (sha256-checked).
            version: the zoo version (names only); the latest by default.
            compile: restore the optimizers too (default).
        """
        from keras_gans import registry

        if not isinstance(preset, (str, os.PathLike)):
            raise TypeError("Received an invalid value for argument `preset`. Expected a "
                            f"name, path or handle, received: {type(preset).__name__}")
        text = os.fspath(preset)
        if "://" in text:
            return registry.load_handle(text, expected_class=cls, compile=compile)
        if os.path.isdir(text):
            found = [os.path.join(text, f) for f in PRESET_FILES
                     if os.path.isfile(os.path.join(text, f))]
            if not found:
                raise FileNotFoundError(
                    f"Received an invalid value for argument `preset`: the directory "
                    f"{text!r} holds none of {', '.join(PRESET_FILES)}.")
            return registry.load_file(found[0], expected_class=cls, compile=compile)
        if text.endswith(".keras"):
            return registry.load_file(text, expected_class=cls, compile=compile)
        if text not in registry.list_models():
            registry.model_info(text)  # an unknown name: the registry's error, suggestions
        variant = registry.model_info(text).get("variant")
        if variant != cls.__name__:
            raise ValueError(
                f"Received an invalid value for argument `preset`: {text!r} is a "
                f"{variant} preset, not a {cls.__name__} one. {cls.__name__} presets: "
                f"{', '.join(sorted(cls.presets)) or '(none)'}")
        return registry.load_file(registry.resolve_file(text, registry.KERAS_FILE, version),
                                  expected_class=cls, compile=compile)
