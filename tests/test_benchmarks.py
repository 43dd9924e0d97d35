"""The benchmarks' own machinery (`benchmarks/_common.py`), where a wrong result would
skew every figure they print."""

import json
import os
import platform
import subprocess
import sys

import pytest

BENCHMARKS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                          "benchmarks")

# In a fresh process: set the allocator mode, then allocate, touch and free a 24 MiB
# buffer four times, counting the page faults each round takes.
_FAULTS = """
import resource, sys
sys.path.insert(0, sys.argv[1])
import _common
import numpy as np
print(_common.set_malloc(sys.argv[2]))
counts = []
for _ in range(4):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    buffer = np.ones(24 << 18, np.float32)
    del buffer
    counts.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
print(counts)
"""


def _faults(mode):
    proc = subprocess.run([sys.executable, "-c", _FAULTS, BENCHMARKS, mode],
                          check=False, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    said, counts = proc.stdout.strip().splitlines()[-2:]
    return said, json.loads(counts)  # the list of ints the child printed


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_malloc_retain_keeps_freed_memory_where_glibc_gives_it_back():
    said, counts = _faults("glibc")
    assert said == "glibc malloc defaults"
    # glibc's defaults: a later 24 MiB buffer faults its pages in again (how many faults
    # a buffer takes depends on the kernel's page sizes: hundreds here, not thousands).
    assert max(counts[1:]) > 100, counts
    said, counts = _faults("retain")
    assert said.startswith("malloc retains freed memory"), said
    # Retained: after the first buffer, the same memory is reused without a fault.
    assert max(counts[1:]) <= 10, counts


def test_malloc_mode_is_checked():
    sys.path.insert(0, BENCHMARKS)
    try:
        import _common
    finally:
        sys.path.remove(BENCHMARKS)
    with pytest.raises(ValueError, match=r"--malloc must be one of retain, glibc, "
                                         r"received 'tcmalloc'"):
        _common.set_malloc("tcmalloc")
