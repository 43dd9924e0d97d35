"""The README's code blocks, run as written in a temporary directory (issue 19).

Python blocks run in order in one namespace (as a reader pastes them into one session);
each shell block runs in one `bash -e` with `keras-gans` on PATH. A block that cannot run
offline or in seconds is marked in the README by `<!-- readme-test: skip: REASON -->` on
the line before it; `SKIPPED` lists each one with its reason, and the test fails when
the README and this list disagree, so nothing is skipped silently.
"""

import os
import re
import stat
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "README.md")
MARKER = re.compile(r"^<!-- readme-test: skip: (?P<reason>.+) -->$")
RUNNABLE = {"python": "python", "sh": "shell", "bash": "shell"}

# (how the block begins, reason): every block the README marks as not run here.
SKIPPED = [
    ('make demo    # own virtualenv, installs',
     'creates a virtualenv and installs packages (network)'),
    ('from keras_gans.demo import mnist_digits',
     'long training: 624 steps, about 3 minutes on 2 cores'),
    ('keras-gans train dcgan digits/ --out run',
     'long training: 624 + 312 steps, about 5 minutes on 2 cores'),
    ('keras-gans list',
     ("reference: needs the reader's photos/, horses/ and trained "
      'runs/; each command is tested in tests/test_cli.py')),
    ('evaluate = keras_gans.callbacks.Evaluate',
     "fragment: x_heldout, features, classifier and dataset are the reader's"),
    ('gan = keras_gans.CycleGAN.from_shape((12',
     "needs the reader's horses/ and zebras/; long training"),
    ('pairs = keras_gans.data.sr_pairs("photos/"',
     "needs the reader's photos/; long training; VGG19 weights (network)"),
    ('from keras_gans.utils import interpolate_',
     "fragment: sr and srresnet are the SRGAN example's above"),
    ('inpainter = keras_gans.Inpainter.from_sh',
     'needs Fashion-MNIST (apt-get install dataset-fashion-mnist) and a long training'),
    ('model, resumed = keras_gans.training.res',
     "fragment: make_and_compile and dataset are the reader's"),
    ('docker run --rm -p 8500:8500 -p 8501:850', 'needs Docker and the tensorflow/serving image'),
    ('docker run --rm -p 8500:8500 -p 8501:850', 'needs Docker and the tensorflow/serving image'),
    ('# 4 images from seed 0, drawn on the ser', 'needs a running TF Serving on localhost:8501'),
    ('from keras_gans.serving import Client', 'needs a running TF Serving on localhost:8501'),
    ('pip install ".[serving]" && pip install', 'installs packages (network)'),
    ('client = Client("localhost", 8500, "dcga',
     'needs a running TF Serving on localhost:8500 and tensorflow-serving-api'),
    ('import grpc', 'needs a running TF Serving on localhost:8500 and tensorflow-serving-api'),
]


def readme_blocks(path=README):
    """`[(language, first line number, code, skip reason or None)]` of the README."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    blocks, i = [], 0
    while i < len(lines):
        fence = re.match(r"^```(\w*)\s*$", lines[i])
        if not fence:
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
        marker = MARKER.match(lines[i - 1]) if i else None
        blocks.append((fence.group(1), i + 2, "\n".join(lines[i + 1:end]) + "\n",
                       marker.group("reason") if marker else None))
        i = end + 1
    return blocks


def test_skipped_blocks_are_listed_with_their_reasons():
    marked = [(code.splitlines()[0], reason) for _, _, code, reason in readme_blocks()
              if reason is not None]
    assert [reason for _, reason in marked] == [reason for _, reason in SKIPPED]
    for (first, _), (begins, _) in zip(marked, SKIPPED):
        assert first.startswith(begins), (first, begins)
    for language, line, _, reason in readme_blocks():
        if reason is not None:  # a marker on a listing would hide nothing: refuse it
            assert language in RUNNABLE, f"README line {line}: marker on a {language!r} block"


def test_markers_stand_right_before_a_block():
    with open(README, encoding="utf-8") as f:
        lines = f.read().splitlines()
    for number, line in enumerate(lines):
        if MARKER.match(line):
            assert lines[number + 1].startswith("```"), f"README line {number + 1}"


@pytest.fixture
def fresh_dir(tmp_path, monkeypatch):
    """An empty working directory, a fresh HOME and zoo user directory, `keras-gans` and
    `python` on PATH (this interpreter, this checkout)."""
    work, home, bin_dir = tmp_path / "work", tmp_path / "home", tmp_path / "bin"
    for folder in (work, home, bin_dir):
        folder.mkdir()
    for name, command in (("keras-gans", f'"{sys.executable}" -m keras_gans "$@"'),
                          ("python", f'"{sys.executable}" "$@"')):
        script = bin_dir / name
        script.write_text(f"#!/bin/sh\nexec {command}\n")
        script.chmod(script.stat().st_mode | stat.S_IEXEC)
    env = {"HOME": str(home), "KERAS_GANS_HOME": str(home / ".keras_gans"),
           "TFDS_DATA_DIR": str(home / "tensorflow_datasets"),
           "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
           "PYTHONPATH": ROOT}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("KERAS_GANS_MIRROR", raising=False)
    monkeypatch.chdir(work)
    return work


def test_readme_blocks_run_as_written(fresh_dir):
    runnable = [(language, line, code) for language, line, code, reason in readme_blocks()
                if reason is None and language in RUNNABLE]
    assert {RUNNABLE[language] for language, _, _ in runnable} == {"python", "shell"}
    namespace = {"__name__": "__readme__"}
    for language, line, code in runnable:
        if RUNNABLE[language] == "python":
            exec(compile(code, f"README.md:{line}", "exec"), namespace)  # noqa: S102
            continue
        result = subprocess.run(["bash", "-euo", "pipefail", "-c", code], cwd=fresh_dir,
                                capture_output=True, text=True, timeout=400, check=False)
        assert result.returncode == 0, (f"README.md:{line}", result.stdout[-2000:],
                                        result.stderr[-2000:])
    # What the blocks say they make.
    for path in ("grid.png", "samples.png", "digits/7", "savedmodels/dcgan_mnist/1",
                 "savedmodels/dcgan_mnist/2", "savedmodels/models.config"):
        assert os.path.exists(fresh_dir / path), path
