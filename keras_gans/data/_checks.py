"""Argument checks and small helpers shared by the `keras_gans.data` modules."""

import errno
import os
import stat

import numpy as np

from keras_gans._arrays import check_bool as _check_bool
from keras_gans._run_files import probe_write

# Explicit small parallelism instead of AUTOTUNE: with autotune on, `fit` sat idle
# for seconds after an epoch's last batch on small machines.
_PARALLEL_CALLS = 2

_PREFETCH = 2

_NO_LABEL = -1

_UNKNOWN_CHANNELS = "The number of channels of the source is unknown; pass channels=1 or channels=3"


def _check_positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(
            f"Received an invalid value for argument `{name}`. Expected a positive integer, "
            f"received: {name}={value!r}"
        )


def _fspath(path, argument):
    """`os.fspath(path)` for a str, bytes or os.PathLike; else a `TypeError` naming
    `argument`."""
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError(
            f"Received an invalid value for argument `{argument}`. Expected a file path (str "
            f"or os.PathLike), received: {argument}={path!r} of type {type(path).__name__}"
        )
    return os.fspath(path)


def _check_cache(cache):
    """`cache` is True, False or the file prefix of an on-disk cache, whose folder must
    exist and be writable now: TensorFlow would only fail when the dataset is read."""
    if not isinstance(cache, (bool, str, os.PathLike)):
        raise TypeError(
            "Received an invalid value for argument `cache`. Expected True, False or a file "
            f"path, received: cache={cache!r}"
        )
    if isinstance(cache, bool):
        return
    prefix = os.fspath(cache)
    if not isinstance(prefix, str) or not prefix:  # "" would mean a cache in memory
        raise ValueError(
            "Received an invalid value for argument `cache`. Expected True, False or a "
            f"non-empty file path, received: cache={cache!r}"
        )
    folder = os.path.dirname(os.path.abspath(prefix)) if not prefix.endswith(os.sep) \
        else os.path.abspath(prefix)
    if not os.path.isdir(folder):
        raise FileNotFoundError(
            errno.ENOENT, "Received an invalid value for argument `cache`: its folder "
            f"{folder!r} does not exist (the cache files are {prefix}.index, ...): "
            f"cache={prefix!r}", folder)
    try:  # what TensorFlow will do: create files there
        probe_write(folder)
    except OSError as e:
        raise PermissionError(
            e.errno or errno.EACCES, "Received an invalid value for argument `cache`: cannot "
            f"write in its folder {folder!r} ({e.strerror or e}): cache={prefix!r}",
            folder) from None


def _check_channels(channels):
    if channels not in (None, 1, 3) or isinstance(channels, bool):
        raise ValueError(
            "Received an invalid value for argument `channels`. Expected None, 1 or 3, "
            f"received: channels={channels!r}"
        )


def _normalize_size(image_size):
    if image_size is None:
        return None
    if isinstance(image_size, (int, np.integer)) and not isinstance(image_size, bool):
        size = (int(image_size), int(image_size))
    elif (
        isinstance(image_size, (tuple, list))
        and len(image_size) == 2
        and all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in image_size)
    ):
        size = (int(image_size[0]), int(image_size[1]))
    else:
        size = (0, 0)
    if min(size) < 1:
        raise ValueError(
            "Received an invalid value for argument `image_size`. Expected a positive integer "
            f"or a (height, width) pair of positive integers, received: image_size={image_size!r}"
        )
    return size


def _check_seed(seed, allow_none=True, non_negative=False):
    """An integer seed (or None); with `non_negative`, the rule of the models' seeds
    (`keras_gans.models.base.check_seed`): negative ones are refused."""
    if (seed is None and not allow_none) or (seed is not None and (
            isinstance(seed, bool) or not isinstance(seed, (int, np.integer))
            or (non_negative and seed < 0))):
        raise ValueError(
            f"Received an invalid value for argument `seed`. Expected "
            f"{'None or ' if allow_none else ''}{'a non-negative' if non_negative else 'an'} "
            f"integer, received: seed={seed!r}"
        )


def _check_common(image_size, channels, batch_size, seed, repeat, cache, on_error, validate):
    _normalize_size(image_size)
    _check_channels(channels)
    _check_positive_int("batch_size", batch_size)
    _check_seed(seed)
    if repeat is not True and repeat is not False:
        _check_positive_int("repeat", repeat)
    _check_cache(cache)
    if on_error not in ("raise", "skip"):
        raise ValueError(
            "Received an invalid value for argument `on_error`. Expected 'raise' or 'skip', "
            f"received: on_error={on_error!r}"
        )
    if validate not in ("quick", "full", "none"):
        raise ValueError(
            "Received an invalid value for argument `validate`. Expected 'quick', 'full' or "
            f"'none', received: validate={validate!r}"
        )


def _check_flags(**flags):
    """Each of `flags` is True or False (a string such as "no" would count as True);
    returns them as Python bools, in order."""
    for name, value in flags.items():
        _check_bool(name, value)
    return tuple(bool(value) for value in flags.values())


def _check_count(count, batch_size, drop_remainder, repeat, holder="`source` holds"):
    if count is not None and drop_remainder and repeat is False and count < batch_size:
        raise ValueError(
            f"Received an invalid value for argument `batch_size`: {holder} {count} "
            f"images, fewer than batch_size={batch_size}, so with drop_remainder=True the "
            "dataset would be empty. Pass a smaller `batch_size` or drop_remainder=False"
        )


def _check_labels(label_values, n, argument):
    y = np.asarray(label_values)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or not (np.issubdtype(y.dtype, np.integer) or y.dtype == bool):
        raise ValueError(
            f"Received an invalid value for the labels of `{argument}`: expected integer class "
            f"ids of shape (N,), received shape {y.shape} and dtype {y.dtype}"
        )
    if len(y) != n:
        raise ValueError(
            f"Received an invalid value for the labels of `{argument}`: {len(y)} labels for "
            f"{n} images"
        )
    if y.dtype != bool and len(y) and y.min() < 0:
        negative = sorted({int(v) for v in y[y < 0]})
        raise ValueError(
            f"Received an invalid value for the labels of `{argument}`: class ids must be "
            f"non-negative; received {int((y < 0).sum())} negative labels: "
            f"{negative[:10]}"
        )
    return y.astype(np.int32)


def _check_num_classes(src, num_classes, argument):
    """Labels known when the dataset is built must be below `num_classes`."""
    _check_positive_int("num_classes", num_classes)
    known = getattr(src, "label_values", None)
    if known is None or not len(known) or known.max() < num_classes:
        return
    if src.class_names:
        raise ValueError(
            f"Received an invalid value for argument `num_classes`: `{argument}` has "
            f"{len(src.class_names)} class subfolders ({', '.join(src.class_names[:10])}"
            f"{', ...' if len(src.class_names) > 10 else ''}), more than "
            f"num_classes={num_classes}"
        )
    over = sorted({int(v) for v in known[known >= num_classes]})
    raise ValueError(
        f"Received an invalid value for argument `num_classes`: the labels of `{argument}` "
        f"must be class ids in [0, {num_classes - 1}] (num_classes={num_classes}); "
        f"received {int((known >= num_classes).sum())} labels >= {num_classes}: {over[:10]}"
    )


def _shown(path):
    """A path quoted for a message; bytes that are not UTF-8 show as escapes."""
    return repr(os.fsdecode(path))


def _is_special(path):
    """Whether `path` exists but is not a regular file or folder (a FIFO, socket, device)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False  # missing or unreadable: reading it gives the error naming it
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _check_regular_file(path, argument):
    """Refuses, without opening it, a path that is not a regular file (a FIFO would hang)."""
    if _is_special(path) or os.path.isdir(path):
        raise ValueError(
            f"Received an invalid value for argument `{argument}`: {_shown(path)} is not a "
            "regular file (a FIFO, socket, device or folder); it is not read"
        )


def _short_tf_message(error):
    text = str(getattr(error, "message", error))
    return text.split("[[")[0].split(" [Op:")[0].split("}}")[-1].strip()
