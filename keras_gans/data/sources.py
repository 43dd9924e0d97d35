"""Dispatch of a `source` argument to the reader for its kind, and `num_images`."""

import os
import pathlib

import numpy as np
import tensorflow as tf

from keras_gans._arrays import short_repr as _short_repr
from keras_gans.data.arrays import (
    _array_source,
    _dataset_source,
    _idx_header_shape,
    _idx_labels_path,
    _looks_like_idx,
    read_idx,
)
from keras_gans.data.folders import _files_source, _folder_source, _list_image_files
from keras_gans.data.tfds import _parse_tfds, _tfds_source


def num_images(source):
    """Returns how many images `source` holds when that is cheap to know, else `None`.

    Counting reads no image data: array lengths, file listings, IDX headers, TFDS
    metadata and known `tf.data` cardinalities. Unreadable files in a folder are
    counted (they are only found when the files are read).

    Args:
        source: anything `images` accepts.

    Returns:
        An int, or `None` when the count is unknown (e.g. a filtered `tf.data.Dataset`).
    """
    if isinstance(source, tuple) and len(source) == 2:
        return num_images(source[0])
    if isinstance(source, np.ndarray):
        return int(source.shape[0]) if source.ndim else None
    if isinstance(source, tf.data.Dataset):
        n = int(source.cardinality())
        return n if n >= 0 else None
    if isinstance(source, list):
        return len(source)
    if isinstance(source, (str, os.PathLike)):
        text = os.fspath(source)
        if text.startswith("tfds:"):
            name, split = _parse_tfds(text)
            try:
                import tensorflow_datasets as tfds

                return int(tfds.builder(name).info.splits[split].num_examples)
            except Exception:  # noqa: BLE001 - no metadata (not downloaded): unknown
                return None
        if os.path.isdir(text):
            files, _ = _list_image_files(text)
            return len(files)
        if os.path.isfile(text):
            if _looks_like_idx(text):
                return _idx_header_shape(text)[0]
            return 1
    return None


def _resolve(source, labels, channels, on_error, validate, min_size=None, argument="source"):
    """Dispatches `source` to the reader for its kind; returns a `_Source`."""
    label_values = None
    if isinstance(source, tuple):
        if len(source) != 2:
            raise ValueError(
                f"Received an invalid value for argument `{argument}`: a tuple must be "
                f"(images, labels); received a tuple of length {len(source)}"
            )
        source, label_values = source
        if isinstance(label_values, (str, os.PathLike)):
            label_values = read_idx(label_values)
    if isinstance(source, pathlib.PurePath):
        source = str(source)

    if isinstance(source, np.ndarray):
        src = _array_source(source, label_values, argument)
    elif isinstance(source, tf.data.Dataset):
        if label_values is not None:
            raise ValueError(
                f"Received an invalid value for argument `{argument}`: pass a dataset's labels "
                "inside its elements as (image, label), not as an (images, labels) tuple"
            )
        src = _dataset_source(source, labels, argument)
    elif isinstance(source, str) and source.startswith("tfds:"):
        src = _tfds_source(source, labels, argument)
    elif isinstance(source, str) and os.path.isdir(source):
        src = _folder_source(
            source, labels, label_values, channels, on_error, validate, min_size, argument
        )
    elif isinstance(source, str) and os.path.isfile(source) and _looks_like_idx(source):
        array = read_idx(source)
        if labels and label_values is None:
            label_values = read_idx(_idx_labels_path(source))
        src = _array_source(array, label_values, argument)
    elif isinstance(source, (str, list)):
        for i, path in enumerate(source if isinstance(source, list) else ()):
            if not isinstance(path, (str, bytes, os.PathLike)):
                raise TypeError(
                    f"Received an invalid value for argument `{argument}`. Expected a list of "
                    "image file paths (str or os.PathLike); for images in memory pass a numpy "
                    f"array (N, H, W) or (N, H, W, C). Received a list holding a "
                    f"{type(path).__name__}: {argument}[{i}]={_short_repr(path)}"
                )
        paths = [source] if isinstance(source, str) else [os.fspath(p) for p in source]
        if isinstance(source, str) and not os.path.exists(source):
            raise FileNotFoundError(
                f"Received an invalid value for argument `{argument}`: '{source}' is not an "
                "existing folder or file, nor a 'tfds:NAME' string"
            )
        src = _files_source(paths, label_values, channels, on_error, validate, min_size, argument)
    else:
        raise TypeError(
            f"Received an invalid value for argument `{argument}`. Expected a numpy array, a "
            "folder, an image or IDX file, a list of files, 'tfds:NAME', a tf.data.Dataset or "
            f"an (images, labels) tuple, received: {type(source).__name__}"
        )
    if labels and not src.has_labels:
        raise ValueError(
            f"Received labels=True, but the `{argument}` has no labels. Labels come from IDX "
            "label files, TFDS datasets (as_supervised), class subfolders, (image, label) "
            "datasets or an (images, labels) tuple"
        )
    return src
