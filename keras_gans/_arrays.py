"""Checks on numpy arrays shared by the data, utils and metrics modules (no TensorFlow)."""

import numpy as np


def non_finite(array):
    """`(count, example)` of the NaN or infinite values in `array`, or `None` if all are
    finite."""
    finite = np.isfinite(array)
    if finite.all():
        return None
    return int(finite.size - finite.sum()), np.asarray(array)[~finite].flat[0]
