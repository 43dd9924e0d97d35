"""Class-id checks of a conditional GAN: the labels given to `fit` and `generate`, and
those a `tf.data` dataset yields, checked in the pipeline as they are read.

Out of range, the label embedding's gather would fail on CPU but silently read zeros
on GPU, so every way labels reach the networks is checked.
"""

import re

import numpy as np
import tensorflow as tf

# The message of the label assertion in `fit`'s dataset, found again in TF's error.
_LABEL_CHECK = "keras_gans: class ids out of range"


def check_class_ids(labels, n, num_classes, argument):
    """`labels` (an array) as int32 class ids; a ValueError naming `argument` unless they
    are `n` integers in `[0, num_classes)`."""
    if labels.shape != (n,) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f"Received an invalid value for argument `{argument}`. Expected {n} integer "
            f"class ids, received an array of shape {labels.shape} and dtype "
            f"{labels.dtype}."
        )
    if labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(
            f"Received an invalid value for argument `{argument}`. Expected class ids in "
            f"[0, {num_classes - 1}] (num_classes={num_classes}), received values in "
            f"[{labels.min()}, {labels.max()}]."
        )
    return labels.astype("int32")


def label_checked(x, num_classes):
    """A conditional GAN's dataset `x` with its labels checked as they are read.

    The check runs in the `tf.data` pipeline, outside the train step, so it also holds
    when the step is compiled with XLA (which drops assertions). Anything but a dataset
    of a conditional GAN is returned as it is.
    """
    if not num_classes or not isinstance(x, tf.data.Dataset):
        return x

    def check(*element):
        if len(element) > 1:
            labels = element[1]
        elif isinstance(element[0], dict) and "label" in element[0]:
            labels = element[0]["label"]
        else:
            return element if len(element) > 1 else element[0]
        ok = tf.reduce_all((labels >= 0) & (labels < tf.cast(num_classes, labels.dtype)))
        with tf.control_dependencies([tf.debugging.Assert(ok, [_LABEL_CHECK, labels],
                                                          summarize=20)]):
            element = tf.nest.map_structure(tf.identity, element)
        return element if len(element) > 1 else element[0]

    return x.map(check)


def label_error(error, num_classes):
    """The ValueError naming `x` for `error`, a TF error, when `label_checked`'s assertion
    raised it; else None."""
    found = re.search(_LABEL_CHECK + r".*?\] \[(.*?)\]", error.message or "", re.DOTALL)
    if found is None:
        return None
    received = " ".join(found.group(1).split())[:200]
    return ValueError(
        "Received an invalid value for argument `x`: the dataset's labels must be "
        f"class ids in [0, {num_classes - 1}] (num_classes={num_classes});"
        f" received a batch of labels {received}"
    )
