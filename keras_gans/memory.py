"""Memory planning: what this process can still allocate, and what a network needs.

Models refuse, before allocating anything, a request that would not fit (`generate`,
`upscale`): `available_memory()` reads `/proc/meminfo` and a container's cgroup limit,
`activation_floats_per_input_pixel(network)` sizes a fully convolutional network's
largest activation.
"""

import os

#: The working set of a network is about its largest activation times this (its input,
#: the activation itself and the tensor that consumes it are alive together).
ACTIVATION_COPIES = 3


def available_memory():
    """Bytes of memory this process can still allocate, or `None` when unknown."""
    available = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    available = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError):
        pass
    if available is None:
        try:
            available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (AttributeError, ValueError, OSError):
            return None
    try:  # a container's cgroup (v2) limit may be far below the machine's memory
        with open("/sys/fs/cgroup/memory.max") as f:
            limit = f.read().strip()
        if limit != "max":
            with open("/sys/fs/cgroup/memory.current") as f:
                used = int(f.read().strip())
            available = min(available, max(int(limit) - used, 0))
    except (OSError, ValueError):
        pass
    return available


def check_fits(needed, message):
    """Raises `MemoryError(message.format(needed=..., available=...))` (both in GiB, e.g.
    "1.5 GiB") when `needed` bytes exceed what this process can still allocate."""
    available = available_memory()
    if available is not None and needed > available:
        raise MemoryError(message.format(needed=f"{needed / 2**30:.1f} GiB",
                                         available=f"{available / 2**30:.1f} GiB"))


def activation_floats_per_input_pixel(network):
    """A functional network's largest activation, in floats per input pixel (0 if unknown).

    Walks the layers, tracking how much each has up- or downsampled, so a 256-channel
    map at twice the input resolution counts 1024 floats per pixel.
    """
    from keras import layers

    from keras_gans.layers import PixelShuffle

    factor, peak = 1.0, 0.0
    for layer in getattr(network, "layers", []):
        if isinstance(layer, PixelShuffle):
            factor *= layer.block_size
        elif isinstance(layer, layers.UpSampling2D):
            factor *= layer.size[0]
        elif isinstance(layer, layers.Conv2DTranspose):
            factor *= layer.strides[0]
        elif isinstance(layer, (layers.Conv2D, layers.MaxPooling2D, layers.AveragePooling2D)):
            factor /= layer.strides[0]
        try:
            channels = layer.output.shape[-1]
        except (AttributeError, ValueError):
            continue
        if channels:
            peak = max(peak, channels * factor**2)
    return peak
