"""Input pipelines: anything -> batched `tf.data.Dataset` of float32 images in [-1, 1].

Every GAN in this package trains on images scaled to [-1, 1] (the range of the
generators' `tanh` output). The functions here turn the usual sources into such
datasets, with a static element shape so Keras `fit` can build the models:

- `images(source, ...)`: batches of images, or `(images, labels)` with `labels=True`.
- `unpaired(a, b, ...)`: `(a_batch, b_batch)` pairs of two unrelated domains (CycleGAN).
- `sr_pairs(source, ...)`: `(low_res, high_res)` patch pairs for super-resolution (SRGAN).
- `inpainting_pairs(source, ...)`: `(images, masks)` batches with reproducible random masks
  (Inpainter).

A `source` is any of:

- a numpy array `[N, H, W]` or `[N, H, W, C]`: uint8 in 0-255 (other integer types
  holding 0-255 too), or floats already in [-1, 1];
- a folder of PNG / JPEG / BMP / GIF files, searched recursively; with `labels=True`
  each top-level subfolder is a class (names sorted -> 0..K-1);
- a list of image file paths, or a single image file;
- an MNIST-format IDX file (`train-images-idx3-ubyte`, optionally `.gz`); its labels
  are read from the `labels-idx1` file beside it;
- a TFDS name `"tfds:NAME"` or `"tfds:NAME:SPLIT"` (e.g. `"tfds:mnist:test[:50%]"`),
  loaded with `tfds.load`; for other `tfds.load` options pass the loaded dataset;
- a `tf.data.Dataset` of unbatched images, of `{"image": ..., "label": ...}` dicts,
  or of `(image, label)` tuples (uint8 is scaled, floats must already be in [-1, 1]);
- an `(images, labels)` tuple, where `images` is any of the in-memory or file sources
  above and `labels` an integer array or an IDX labels file.

Example:

```python
x_train = keras_gans.data.read_idx(
    "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")
ds = keras_gans.data.images(x_train, batch_size=128)       # (128, 28, 28, 1) batches
ds = keras_gans.data.images("photos/", image_size=64, channels=3)
ds = keras_gans.data.images("tfds:mnist", labels=True)     # (images, labels)
```

Layout: `datasets` (`images`), `pairs` (`unpaired`, `sr_pairs`), `inpainting`
(`inpainting_pairs`, `inpainting_masks`), and the readers behind them: `sources` (which
reader a source needs; `num_images`), `arrays` (numpy arrays, IDX files, `tf.data`),
`folders` (folders and image files), `tfds` (TFDS names; `check_tfds`); `_pipeline` and
`_checks` hold the shared pipeline pieces and argument checks.
"""

from keras_gans.data import tfds
from keras_gans.data.arrays import read_idx
from keras_gans.data.datasets import images
from keras_gans.data.folders import IMAGE_EXTENSIONS, load_image_file
from keras_gans.data.inpainting import inpainting_masks, inpainting_pairs
from keras_gans.data.pairs import sr_pairs, unpaired
from keras_gans.data.sources import num_images
from keras_gans.data.tfds import check_tfds

__all__ = [
    "IMAGE_EXTENSIONS",
    "check_tfds",
    "images",
    "inpainting_masks",
    "inpainting_pairs",
    "load_image_file",
    "num_images",
    "read_idx",
    "sr_pairs",
    "tfds",
    "unpaired",
]
