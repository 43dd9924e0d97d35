"""Small checks shared by the models, data, utils, metrics and evaluation modules (no
TensorFlow)."""

import numpy as np


def non_finite(array):
    """`(count, example)` of the NaN or infinite values in `array`, or `None` if all are
    finite."""
    finite = np.isfinite(array)
    if finite.all():
        return None
    return int(finite.size - finite.sum()), np.asarray(array)[~finite].flat[0]


def check_bool(name, value):
    """`value` as a bool; a `TypeError` naming `name` for anything but True or False."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"Received an invalid value for argument `{name}`. Expected True or "
                        f"False, received: {name}={value!r}")
    return bool(value)


def short_repr(value, limit=80):
    """`repr(value)`, cut to `limit` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."
