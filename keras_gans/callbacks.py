"""Keras callbacks for GAN training: sample grids you can look at."""

import os

import keras
import numpy as np

from keras_gans import utils


class SampleGrid(keras.callbacks.Callback):
    """Writes a PNG grid of samples from fixed noise every `every_n_epochs` epochs.

    The noise (and, for a conditional GAN, the labels) is drawn once from `seed`, so
    successive grids show the same latent points and progress can be seen by eye.

    Args:
        directory: where the PNG files go (created if missing); files are named
            `epoch_0001.png`, ... (`filename` formats them).
        every_n_epochs: how often to write a grid.
        n: images per grid.
        seed: seed of the fixed noise.
        filename: a format string with `{epoch}`.

    Example:

    ```python
    gan.fit(ds, epochs=20, callbacks=[keras_gans.callbacks.SampleGrid("samples/")])
    ```
    """

    def __init__(self, directory, every_n_epochs=1, n=64, seed=0,
                 filename="epoch_{epoch:04d}.png"):
        super().__init__()
        for name, value in (("every_n_epochs", every_n_epochs), ("n", n)):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(
                    f"Received an invalid value for argument `{name}`. Expected a "
                    f"positive integer, received: {name}={value!r}"
                )
        self.directory = os.fspath(directory)
        self.every_n_epochs = every_n_epochs
        self.n = n
        self.seed = seed
        self.filename = filename
        self.written = []

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every_n_epochs:
            return
        path = os.path.join(self.directory, self.filename.format(epoch=epoch + 1))
        images = self.model.generate(z=self._noise())
        utils.save_grid(images, path)
        self.written.append(path)

    def _noise(self):
        rng = np.random.default_rng(self.seed)
        return rng.standard_normal((self.n, self.model.latent_dim)).astype("float32")
