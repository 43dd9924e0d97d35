"""The package as a user gets it: a real, non-editable `pip install` of this checkout into
a folder of its own, used from fresh processes in a plain environment (no variables of
ours, a working directory outside the checkout), doing only what the README says.

The rest of the suite imports the checkout itself, so it cannot see a file that the
installed package lacks: `setup.py` once listed its packages by hand and missed
`keras_gans.data` and `keras_gans.cli`, which broke every installed copy.
"""

import os
import shutil
import subprocess
import sys
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _link_or_copy(source, destination):
    try:
        os.link(source, destination)  # the 450 MB of savedmodels/ in no time
    except OSError:
        shutil.copy2(source, destination)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The package installed into its own folder (as a wheel is, data files included),
    built from a copy of the checkout without its build outputs: setuptools would reuse
    a stale `build/lib` and install files that the current `setup.py` leaves out."""
    source, target = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("site")
    for name in ("setup.py", "pyproject.toml", "README.md"):  # what setup.py reads
        shutil.copy2(os.path.join(ROOT, name), source / name)
    for folder in ("keras_gans", "savedmodels"):
        shutil.copytree(os.path.join(ROOT, folder), source / folder,
                        copy_function=_link_or_copy,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-compile",
         "--no-build-isolation", "--disable-pip-version-check", "--target", str(target),
         str(source)],
        check=False, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return target


def _run(args, installed, cwd, timeout=300):
    """`python -S args` in a fresh process: the installed package, then the test
    environment's third-party packages (TensorFlow, ...) on its path, a bare environment.

    `-S` skips the `.pth` files of site-packages, among them the editable install of this
    checkout that `make test` makes: through it, a subpackage missing from the installed
    copy would still import from the checkout."""
    # This interpreter's third-party packages, without any folder that holds a
    # `keras_gans` (the checkout: an old-style editable install puts it on sys.path).
    packages = [p for p in sys.path if p and os.path.isdir(p) and
                not os.path.exists(os.path.join(p, "keras_gans", "__init__.py"))]
    path = os.pathsep.join([str(installed), *packages])
    env = {"PATH": "/usr/bin:/bin", "HOME": str(cwd), "PYTHONPATH": path,
           "LANG": "C.UTF-8"}
    result = subprocess.run([sys.executable, "-S", *args], check=False, cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, (args, result.stdout[-3000:], result.stderr[-3000:])
    return result.stdout


def test_every_subpackage_and_the_zoo_are_installed(installed):
    package = installed / "keras_gans"
    in_checkout = sorted(
        os.path.relpath(folder, ROOT) for folder, _, files in os.walk(os.path.join(ROOT,
                                                                                 "keras_gans"))
        if "__init__.py" in files)
    for name in in_checkout:
        assert (installed / name / "__init__.py").is_file(), f"{name} is not installed"
    assert (package / "savedmodels" / "manifest.json").is_file()
    assert (installed / "bin" / "keras-gans").is_file()


def test_load_save_and_reload_as_the_readme_says(installed, tmp_path):
    # One process loads a zoo entry from the installed artifacts and saves it; a second
    # does only `import keras_gans` and `keras.models.load_model(path)`.
    first = textwrap.dedent(f"""
        import keras_gans
        import keras_gans.cli, keras_gans.data  # every subpackage imports
        for module in (keras_gans, keras_gans.cli, keras_gans.data):
            assert module.__file__.startswith({str(installed)!r}), module.__file__
        gan = keras_gans.load("dcgan_mnist")
        print(type(gan).__name__, gan.generate(2, seed=0).shape)
        gan.save("mine.keras")
    """)
    out = _run(["-c", first], installed, tmp_path)
    assert "DCGAN (2, 28, 28, 1)" in out
    second = textwrap.dedent("""
        import keras_gans, keras
        model = keras.models.load_model("mine.keras")
        print(type(model).__name__, model.generate(3, seed=0).shape)
    """)
    assert "DCGAN (3, 28, 28, 1)" in _run(["-c", second], installed, tmp_path)


def test_the_installed_command_line(installed, tmp_path):
    # The console script that pip wrote, run as a script.
    out = _run([str(installed / "bin" / "keras-gans"), "list"], installed, tmp_path)
    assert "dcgan_mnist" in out and "srgan_x4_wallpapers" in out
    out = _run(["-m", "keras_gans", "sample", "dcgan_mnist", "--num", "4",
                "-o", "grid.png"], installed, tmp_path)
    assert (tmp_path / "grid.png").stat().st_size > 0, out
