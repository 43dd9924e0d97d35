"""Short recipe trials for the zoo's GANs: train a config for N steps, measure as it goes.

    python benchmarks/recipe_trials.py NAME STEPS '{"latent_dim": 64, ...}'

The JSON holds `from_shape` / model keyword arguments plus `variant` (default DCGAN),
`data` ("mnist" or "fashion_mnist"), `batch_size`, `every_steps` (default 496),
`compile` ({"d_optimizer": {...Adam kwargs}, "g_optimizer": {...}, "loss": name}) and
`cutout_ratio` / `translation_ratio` (DiffAugment's sizes). Every `every_steps` it
prints a `RES` line: minutes, step, classifier score, Frechet distance (2,000 samples
against the held-out images, the zoo classifier), coverage, missing classes, load
average; a conditional model also gets its label accuracy. The trials behind the zoo
recipes' learning rate (issue 16) were:

    B='"latent_dim": 64, "ema_decay": 0.999, "augment": ["translation", "cutout"]'
    python benchmarks/recipe_trials.py lr5 3000 "{$B, \\"compile\\": {\\"d_optimizer\\":
        {\\"learning_rate\\": 5e-4, \\"beta_1\\": 0.5}, \\"g_optimizer\\": {...same}}}"
"""

import functools
import json
import os
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "zoo"), str(ROOT)]

import keras
import numpy as np
from _recipe import fashion_split, mnist_split

import keras_gans
from keras_gans import augment as aug


def main(name, max_steps, cfg):
    keras.utils.set_random_seed(0)
    for key, op in (("cutout_ratio", "cutout"), ("translation_ratio", "translation")):
        if key in cfg:
            aug._OPS[op] = functools.partial(getattr(aug, op), ratio=cfg.pop(key))
    data_name = cfg.pop("data", "mnist")
    (x, y), (xt, _) = mnist_split() if data_name == "mnist" else fashion_split()
    clf = keras_gans.load("mnist_classifier" if data_name == "mnist"
                          else "fashion_mnist_classifier")
    features = keras.Model(clf.inputs, clf.get_layer("features").output)
    compile_kwargs = cfg.pop("compile", {})
    batch = cfg.pop("batch_size", 64)
    every_steps = cfg.pop("every_steps", 496)
    gan = getattr(keras_gans, cfg.pop("variant", "DCGAN")).from_shape(
        tuple(x.shape[1:]) if x.ndim == 4 else (*x.shape[1:], 1), seed=0, **cfg)
    options = {k: keras.optimizers.Adam(**compile_kwargs[k])
               for k in ("d_optimizer", "g_optimizer") if k in compile_kwargs}
    if "loss" in compile_kwargs:
        options["loss"] = compile_kwargs["loss"]
    gan.compile(**options)
    if gan.clusters:  # self-conditioning ({"clusters": K}): k-means of the training images
        print(f"RES {name} cluster sizes {gan.adapt(x).tolist()}", flush=True)
    labels = bool(gan.num_classes)
    data = keras_gans.data.images((x, y) if labels else x, labels=labels, batch_size=batch,
                                  seed=0).repeat()
    evaluate = keras_gans.callbacks.Evaluate(
        metrics=("fid", "is", "coverage"), every_n_epochs=1, n_samples=2000,
        real_data=keras_gans.utils.to_float(xt), feature_extractor=features,
        classifier=clf)
    start = time.time()

    class Report(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            step = int(gan.optimizer.iterations.numpy())
            print(f"RES {name} min={(time.time() - start) / 60:.2f} step={step} "
                  f"is={logs['val_is']:.3f} fid={logs['val_fid']:.2f} "
                  f"cov={logs['val_coverage']:.3f} miss={logs['val_missing_classes']:.0f} "
                  f"load={os.getloadavg()[0]:.1f}", flush=True)
            if labels:
                wanted = np.arange(1000) % gan.num_classes
                images = gan.generate(1000, labels=wanted, seed=1)
                accuracy = np.mean(np.asarray(clf.predict(images, verbose=0)).argmax(1)
                                   == wanted)
                print(f"RES {name} step={step} label_acc={accuracy:.3f}", flush=True)
            if step >= max_steps:
                self.model.stop_training = True

    gan.fit(data, epochs=10**6, steps_per_epoch=every_steps, verbose=0,
            callbacks=[evaluate, Report()])


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3]))
