"""Shared checks that every GAN variant gets for free (like keras' run_layer_test).

`run_resume_test` is the foundation's save/load/continue check: 2 steps, save, load in
a fresh process, 1 step must equal 3 uninterrupted steps on the same batches.
"""

import os
import subprocess
import sys
import textwrap

import keras
import numpy as np

_CONTINUE_SCRIPT = textwrap.dedent(
    """
    import os, sys
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np, keras
    import keras_gans  # registers the serializable classes
    model_path, data_path, out_path, steps = sys.argv[1:5]
    for name in ("models.gan", "models.dcgan", "models.lsgan", "models.wgan_gp",
                 "models.cyclegan", "models.srgan"):
        try:
            __import__("keras_gans." + name)
        except ImportError:
            pass
    model = keras.models.load_model(model_path, safe_mode=True)
    data = np.load(data_path)
    arrays = [data[k] for k in sorted(data.files)]
    y = arrays[1] if len(arrays) > 1 else None
    model.fit(arrays[0], y, batch_size=len(arrays[0]) // int(steps), epochs=1,
              steps_per_epoch=int(steps), shuffle=False, verbose=0)
    np.savez(out_path, *[w.numpy() for w in model.weights],
             *[v.numpy() for v in model.optimizer_variables_for_test()])
    """
)


def all_optimizer_variables(model):
    """Every optimizer variable of a GAN (works for one, two or more optimizers)."""
    seen, out = set(), []
    for attr in sorted(vars(model)):
        value = getattr(model, attr, None)
        if isinstance(value, keras.optimizers.Optimizer) and id(value) not in seen:
            seen.add(id(value))
            out.extend(value.variables)
    return out


def state(model):
    """All weights of all networks plus all optimizer variables, as numpy arrays."""
    return [w.numpy() for w in model.weights] + [v.numpy() for v in
                                                 all_optimizer_variables(model)]


def _batches_npz(path, batches):
    """Save a list of batches (arrays or tuples of arrays) as one concatenated npz."""
    first = batches[0]
    if isinstance(first, tuple):
        cols = [np.concatenate([b[i] for b in batches]) for i in range(len(first))]
    else:
        cols = [np.concatenate(batches)]
    np.savez(path, **{f"a{i}": c for i, c in enumerate(cols)})
    return cols


def _fit(model, cols, batch_size, steps):
    y = cols[1] if len(cols) > 1 else None
    model.fit(cols[0], y, batch_size=batch_size, epochs=1, steps_per_epoch=steps, shuffle=False,
              verbose=0)


def run_resume_test(build_and_compile, batches, tmp_path, atol=1e-5):
    """2 steps + save + load (fresh process, safe_mode) + 1 step == 3 steps.

    Args:
        build_and_compile: a function returning a new, compiled model.
        batches: three batches (arrays, or tuples of arrays for `(x, y)` data).
        tmp_path: a pytest tmp_path.
    """
    assert len(batches) == 3
    batch_size = len(batches[0][0] if isinstance(batches[0], tuple) else batches[0])
    tmp_path = os.fspath(tmp_path)
    model = build_and_compile()
    init_path = os.path.join(tmp_path, "init.keras")
    model.save(init_path)

    # Uninterrupted: 3 steps from the saved initial state.
    straight = keras.models.load_model(init_path, safe_mode=True)
    all_cols = _batches_npz(os.path.join(tmp_path, "all.npz"), batches)
    _fit(straight, all_cols, batch_size, 3)
    expected = state(straight)

    # Interrupted: 2 steps, save, then 1 step in a fresh Python process.
    first = keras.models.load_model(init_path, safe_mode=True)
    _fit(first, _batches_npz(os.path.join(tmp_path, "first.npz"), batches[:2]), batch_size, 2)
    mid_path = os.path.join(tmp_path, "mid.keras")
    first.save(mid_path)
    last_path = os.path.join(tmp_path, "last.npz")
    _batches_npz(last_path, batches[2:])
    out_path = os.path.join(tmp_path, "out.npz")
    script = _CONTINUE_SCRIPT.replace(
        "model.optimizer_variables_for_test()", "__import__('gan_test_utils')"
        ".all_optimizer_variables(model)")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [os.path.dirname(__file__), os.environ.get("PYTHONPATH", "")]))
    result = subprocess.run(
        [sys.executable, "-c", script, mid_path, last_path, out_path, "1"],
        capture_output=True, text=True, env=env, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    got = np.load(out_path)
    got = [got[f"arr_{i}"] for i in range(len(got.files))]
    assert len(got) == len(expected)
    for i, (a, b) in enumerate(zip(got, expected)):
        np.testing.assert_allclose(a, b, atol=atol, rtol=1e-5,
                                   err_msg=f"state #{i} differs after resume")
    # And the resumed state must differ from the state it was resumed from.
    assert any(not np.allclose(a, b) for a, b in zip(got, state(first)))
    return expected
