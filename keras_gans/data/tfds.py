"""TFDS sources (`"tfds:NAME[:SPLIT]"`), and `check_tfds`, which refuses at once a
dataset that is neither prepared locally nor downloadable."""

import re

from keras_gans.data.arrays import _dataset_source


def _parse_tfds(text):
    match = re.match(r"^tfds:([^:\[]+(?::\d+\.[\d*]+\.[\d*]+)?)(?::(.+))?$", text)
    if not match:
        raise ValueError(
            "Received an invalid value for argument `source`. Expected 'tfds:NAME' or "
            f"'tfds:NAME:SPLIT', received: {text!r}"
        )
    return match.group(1), match.group(2) or "train"


# Where TFDS fetches prepared data and most downloads (its GCS bucket); probed before a
# download so that an offline machine gets an error at once, not minutes of retries.
TFDS_PROBE = ("storage.googleapis.com", 443)

TFDS_PROBE_TIMEOUT = 3.0


def _reachable(host, port, timeout):
    """Whether a TCP connection to `host:port` opens within `timeout` seconds (DNS
    included: the lookup runs in a daemon thread, as getaddrinfo takes no timeout)."""
    import socket
    import threading

    result = []

    def connect():
        try:
            socket.create_connection((host, port), timeout=timeout).close()
            result.append(True)
        except OSError:
            result.append(False)

    thread = threading.Thread(target=connect, daemon=True)
    thread.start()
    thread.join(timeout)
    return bool(result and result[0])


def check_tfds(source, argument="source"):
    """Refuse at once a `"tfds:NAME[:SPLIT]"` source that is neither prepared locally nor
    downloadable (its host unreachable), before TFDS retries and leaves partial files.

    Other sources are returned unchecked. Returns the TFDS builder for a TFDS source.
    """
    if not (isinstance(source, str) and source.startswith("tfds:")):
        return None
    import logging

    import tensorflow_datasets as tfds  # slow to import: only when asked for

    name, split = _parse_tfds(source)
    absl_logger = logging.getLogger("absl")
    level = absl_logger.level
    absl_logger.setLevel(logging.ERROR)  # "Variant folder ... has no dataset_info.json"
    try:
        builder = tfds.builder(name)
    except Exception as e:  # noqa: BLE001 - an unknown name, or a community lookup failing
        raise ValueError(f"Received an invalid value for argument `{argument}`: "
                         f"{source!r} is not a TFDS dataset this machine can load "
                         f"({type(e).__name__}: {' '.join(str(e).split())[:200]})") from None
    finally:
        absl_logger.setLevel(level)
    if builder.is_prepared() or _tfds_mocked(tfds) or _reachable(*TFDS_PROBE,
                                                                 TFDS_PROBE_TIMEOUT):
        return builder
    raise ValueError(
        f"Received an invalid value for argument `{argument}`: the TFDS dataset {name!r} "
        f"(split {split!r}) is not prepared in {builder.data_dir} and cannot be downloaded "
        f"({TFDS_PROBE[0]} is unreachable: offline?). Use a local source: a folder of "
        "images, an image or MNIST-format IDX file, or a numpy array (e.g. `python -m "
        "keras_gans.demo --write-digits DIR` writes 5,000 real MNIST digits); or prepare "
        f"it once with network access (`tfds.load({name!r})`), or set TFDS_DATA_DIR to "
        "where it is prepared.")


def _tfds_mocked(tfds):
    """Whether `tfds.testing.mock_data` is active: it replaces preparing (and reading)
    with generated examples, so a dataset that is not prepared needs no download."""
    prepare = tfds.core.DatasetBuilder.download_and_prepare
    return getattr(prepare, "__module__", "").startswith("tensorflow_datasets.testing")


def _tfds_source(text, labels, argument):
    import tensorflow_datasets as tfds  # slow to import: only when asked for

    name, split = _parse_tfds(text)
    check_tfds(text, argument)
    ds = tfds.load(name, split=split, as_supervised=bool(labels))
    return _dataset_source(ds, labels, argument)
