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

# In a fresh process: set the allocator mode, then allocate, touch and free a 24 MiB and
# a 48 MiB buffer (above glibc's largest mmap threshold, 32 MiB), four rounds, counting
# the page faults each buffer takes.
_FAULTS = """
import json, resource, sys
sys.path.insert(0, sys.argv[1])
import _common
import numpy as np
print(_common.set_malloc(sys.argv[2]))
counts = {24: [], 48: []}
for _ in range(4):
    for mib in counts:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        buffer = np.ones(mib << 18, np.float32)
        del buffer
        counts[mib].append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
print(json.dumps(list(counts.values())))
"""


def _faults(mode):
    # 4 KiB pages (numpy would ask for huge pages), so a buffer's faults number thousands.
    env = {**os.environ, "NUMPY_MADVISE_HUGEPAGE": "0"}
    proc = subprocess.run([sys.executable, "-c", _FAULTS, BENCHMARKS, mode], env=env,
                          check=False, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    said, counts = proc.stdout.strip().splitlines()[-2:]
    return said, json.loads(counts)  # [[24 MiB rounds], [48 MiB rounds]]


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_malloc_retain_keeps_freed_memory_where_glibc_gives_it_back():
    said, (mib24, mib48) = _faults("glibc")
    assert said == "glibc malloc defaults"
    # glibc's defaults: a buffer above 32 MiB is mapped and unmapped each time, so every
    # round faults all its pages in again (12,288 of 4 KiB).
    assert min(mib48) > 6000, mib48
    said, (mib24, mib48) = _faults("retain")
    assert said.startswith("malloc retains freed memory"), said
    # Retained: after the first round both sizes reuse the same memory, without a fault.
    assert mib24[0] > 3000 and max(mib24[1:] + mib48[1:]) <= 10, (mib24, mib48)


def test_malloc_mode_is_checked():
    sys.path.insert(0, BENCHMARKS)
    try:
        import _common
    finally:
        sys.path.remove(BENCHMARKS)
    with pytest.raises(ValueError, match=r"--malloc must be one of retain, glibc, "
                                         r"received 'tcmalloc'"):
        _common.set_malloc("tcmalloc")


def test_keras_runner_times_each_step_of_a_steps_per_execution_call(monkeypatch):
    # `--steps-per-execution N`: the callbacks see one call of N steps; the runner hands
    # back N step times of a call's time / N, and runs whole calls (plus one untimed).
    import keras
    import numpy as np
    import tensorflow as tf

    monkeypatch.syspath_prepend(BENCHMARKS)
    import train_throughput

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", steps_per_execution=4)
    data = (np.zeros((8, 3), "float32"), np.zeros((8, 1), "float32"))
    dataset = tf.data.Dataset.from_tensors(data).repeat()
    runner = train_throughput.KerasRunner(model, dataset, 8, warmup_steps=1,
                                          warmup_seconds=0.0)
    assert runner.per_call == 4
    before = int(model.optimizer.iterations.numpy())
    times = runner.run(6)  # 2 calls of 4 steps, after the untimed one
    assert int(model.optimizer.iterations.numpy()) - before == 12
    assert len(times) == 8 and times[:4] == [times[0]] * 4 and times[4:] == [times[4]] * 4
    assert all(t > 0 for t in times)
