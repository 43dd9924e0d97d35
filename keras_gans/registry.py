"""The zoo: `list_models`, `model_info`, `load`, `load_generator`.

`savedmodels/manifest.json` (installed as `keras_gans/savedmodels/manifest.json`) is the
single index: name -> description, variant, data, recipe, license, and versions; each
version lists its files with their sha256 and the metrics measured by its recipe.

A version's files live in `<root>/<name>/<version>/` (the SavedModel TF Serving loads,
with the full `.keras` model in `assets.extra/`). Roots are searched in this order:

1. the user directory `$KERAS_GANS_HOME` (default `~/.keras_gans`), which also holds a
   `manifest.json` of the user's own entries and the download cache;
2. the artifacts shipped inside the installed package;
3. a mirror URL (`$KERAS_GANS_MIRROR`, or the manifest's `mirror`), fetched with
   `keras.utils.get_file(..., file_hash=sha256)` into the user directory.

No file is used before its sha256 matches the manifest.
"""

import copy
import difflib
import errno
import fnmatch
import hashlib
import json
import os
import pathlib
import zipfile

MANIFEST = "manifest.json"
KERAS_FILE = "assets.extra/model.keras"


class IntegrityError(ValueError):
    """A zoo file's sha256 does not match the manifest."""


# --- Locations ---


def package_dir():
    """The directory of the shipped artifacts (`keras_gans/savedmodels` when installed)."""
    try:
        from importlib import resources

        path = pathlib.Path(str(resources.files("keras_gans.savedmodels")))
        if (path / MANIFEST).exists():
            return path
    except (ModuleNotFoundError, TypeError):
        pass
    # A source checkout without an install.
    return pathlib.Path(__file__).resolve().parent.parent / "savedmodels"


def home_dir():
    """The user directory: `$KERAS_GANS_HOME`, default `~/.keras_gans`."""
    return pathlib.Path(os.environ.get("KERAS_GANS_HOME") or
                        pathlib.Path.home() / ".keras_gans").expanduser()


def _read_manifest(path):
    if not path.exists():
        return {"models": {}}
    with open(path, encoding="utf-8") as f:
        manifest = json.load(f)
    if not isinstance(manifest.get("models"), dict):
        raise ValueError(  # noqa: TRY004  (a bad file, not a bad argument type)
            f"{path} is not a keras_gans manifest (no `models` mapping).")
    return manifest


def manifest():
    """The merged index: the package's entries, overridden by the user directory's."""
    merged = _read_manifest(package_dir() / MANIFEST)
    user = _read_manifest(home_dir() / MANIFEST)
    merged = copy.deepcopy(merged)
    merged["models"].update(user.get("models", {}))
    if user.get("mirror"):
        merged["mirror"] = user["mirror"]
    return merged


# --- Queries ---


def list_models(pattern="*"):
    """Names of the zoo's entries matching a glob `pattern` (like timm), sorted.

    Example:

    >>> keras_gans.list_models("*mnist*")
    ['cdcgan_mnist', 'dcgan_mnist', 'mnist_classifier', ...]
    """
    if not isinstance(pattern, str):
        raise TypeError(
            "Received an invalid value for argument `pattern`. Expected a glob string, "
            f"received: pattern={pattern!r}"
        )
    return sorted(n for n in manifest()["models"] if fnmatch.fnmatchcase(n, pattern))


def _entry(name):
    models = manifest()["models"]
    if not isinstance(name, str) or name not in models:
        close = difflib.get_close_matches(str(name), list(models), n=3, cutoff=0.4)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise ValueError(
            f"Unknown zoo model name={name!r}.{hint} Available: "
            f"{', '.join(sorted(models)) or '(none)'}"
        )
    return models[name]


def _version(name, version):
    entry = _entry(name)
    versions = entry["versions"]
    if version is None:
        version = entry.get("latest") or max(int(v) for v in versions)
    key = str(version)
    if key not in versions:
        raise ValueError(
            f"Unknown version={version!r} of zoo model {name!r}. Available versions: "
            f"{', '.join(sorted(versions, key=int))}"
        )
    return int(key), versions[key]


def model_info(name):
    """Everything the manifest says of one entry: description, variant, data, recipe,
    license, metrics with how they were measured, and versions."""
    info = copy.deepcopy(_entry(name))
    info["name"] = name
    return info


# --- Files ---


def sha256(path, chunk=1 << 20):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def _mirror_url():
    return os.environ.get("KERAS_GANS_MIRROR") or manifest().get("mirror")


def _fetch(name, version, relpath, expected):
    """Download one file from the mirror into the user directory (hash-checked)."""
    import keras

    url = _mirror_url()
    if not url:
        return None
    target_dir = home_dir() / name / str(version) / os.path.dirname(relpath)
    target_dir.mkdir(parents=True, exist_ok=True)
    origin = f"{url.rstrip('/')}/{name}/{version}/{relpath}"
    try:
        path = keras.utils.get_file(
            fname=os.path.basename(relpath), origin=origin, file_hash=expected,
            hash_algorithm="sha256", cache_dir=str(target_dir), cache_subdir=".")
    except Exception as e:  # network errors, hash mismatch after download
        raise OSError(f"Could not fetch {relpath} of {name} v{version} from {origin}: {e}") \
            from e
    return pathlib.Path(path)


def resolve_file(name, relpath, version=None):
    """The verified local path of one file of a zoo entry, fetching it if needed."""
    version, record = _version(name, version)
    files = record["files"]
    if relpath not in files:
        raise ValueError(f"Zoo model {name!r} v{version} has no file {relpath!r}.")
    expected = files[relpath]
    tampered = None
    for root in (home_dir(), package_dir()):
        path = root / name / str(version) / relpath
        if path.exists():
            actual = sha256(path)
            if actual == expected:
                return path
            tampered = (path, actual)
    fetched = _fetch(name, version, relpath, expected)
    if fetched is not None:
        return fetched
    if tampered:
        path, actual = tampered
        raise IntegrityError(
            f"Refusing to load zoo model name={name!r} v{version}: the sha256 of {path} is "
            f"{actual}, but the manifest says {expected}. The file was modified or "
            "corrupted; reinstall keras_gans or delete it to fetch it again."
        )
    raise FileNotFoundError(
        f"Zoo model {name!r} v{version}: {relpath} is neither in {home_dir()} nor in the "
        f"package ({package_dir()}), and no mirror is set (KERAS_GANS_MIRROR)."
    )


def version_dir(name, version=None):
    """The verified local SavedModel directory of an entry (what TF Serving loads)."""
    version, record = _version(name, version)
    paths = {rel: resolve_file(name, rel, version) for rel in record["files"]}
    # All files were found under one `<root>/<name>/<version>/`; return that root.
    rel = min(paths)
    return pathlib.Path(str(paths[rel])[: -len(rel)]).resolve()


# --- Loading ---


def load(name, version=None, compile=True):
    """The full pretrained model (all networks and optimizers), ready to `fit` further.

    Args:
        name: a zoo name (see `list_models()`), or the path of a local `.keras` file
            (then see `load_file`).
        version: an integer version; the latest by default.
        compile: restore the optimizers too (default).

    Returns:
        The `keras.Model` (e.g. a `DCGAN`), loaded with `safe_mode=True` from the sha256-
        verified `.keras` file.
    """
    if isinstance(name, (str, os.PathLike)) and os.fspath(name).endswith(".keras"):
        if version is not None:
            raise ValueError(
                "Received an invalid value for argument `version`: a file has no "
                f"versions, received: version={version!r} with name={os.fspath(name)!r}")
        return load_file(name, compile=compile)
    path = resolve_file(name, KERAS_FILE, version)
    return _load_keras(path, compile)


def load_file(path, expected_class=None, compile=True):
    """A model from a local `.keras` file, loaded safely.

    Nothing in the file is executed: Keras loads it with `safe_mode=True`, which refuses
    `Lambda` layers and other Python code; no pickle is ever read. Before Keras sees it,
    the file must exist and be a `.keras` (zip) archive; legacy `.h5` files are refused.

    Args:
        path: the `.keras` file.
        expected_class: optionally, the class the model must be (e.g.
            `keras_gans.DCGAN`); a file holding another class is refused.
        compile: restore the optimizers too (default).

    Returns:
        The `keras.Model`.

    Example:

    >>> gan = keras_gans.registry.load_file("runs/dcgan/model.keras", keras_gans.DCGAN)
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            "Received an invalid value for argument `path`. Expected the path of a .keras "
            f"file, received: {type(path).__name__}")
    path = os.fspath(path)
    if not path.endswith(".keras"):
        raise ValueError(
            "Received an invalid value for argument `path`. Expected a `.keras` file (the "
            f"Keras 3 format; .h5 files and pickles are not loaded), received: path={path!r}")
    if not os.path.isfile(path):
        raise FileNotFoundError(
            errno.ENOENT, f"Received an invalid value for argument `path`: no such file: "
            f"path={path!r}", path)
    if not zipfile.is_zipfile(path):
        raise ValueError(
            f"Received an invalid value for argument `path`: {path!r} is not a .keras "
            "archive (a zip file); it is truncated, corrupt or of another format")
    model = _load_keras(path, compile)
    if expected_class is not None and not isinstance(model, expected_class):
        raise TypeError(
            f"Received an invalid value for argument `path`: expected a .keras file "
            f"holding a {expected_class.__name__}, received one holding a "
            f"{type(model).__name__}: path={path!r}")
    return model


def _load_keras(path, compile):
    import keras

    from keras_gans import _register_all

    _register_all()
    try:
        return keras.models.load_model(path, compile=compile, safe_mode=True)
    except ValueError as e:
        if "safe_mode" not in str(e):
            raise
        raise ValueError(
            f"Refusing to load {path}: it holds Python code (e.g. a Lambda layer) that "
            "Keras runs only outside safe_mode, and keras_gans never runs code from a "
            f"model file. ({' '.join(str(e).split())[:300]})") from None


def load_generator(name, version=None):
    """Just the served network: the generator (EMA weights when the model keeps them),
    the translator pair's A->B network, the upscaler, or the classifier itself."""
    model = load(name, version, compile=False)
    for attr in ("ema_generator", "generator", "generator_a2b"):
        net = getattr(model, attr, None)
        if net is not None:
            return net
    return model


# --- Writing (used by the recipes in zoo/) ---


def register(name, version, directory, info, metrics, manifest_path=None, extra=None):
    """Record a version directory in the manifest: sha256 of every file, metrics, info.

    Args:
        name: the entry's name.
        version: its integer version.
        directory: `savedmodels/<name>/<version>` as written by `keras_gans.export`.
        info: entry-level fields (description, variant, data, recipe, license, ...).
        metrics: this version's measured metrics (with how they were measured).
        manifest_path: the manifest to update (default: the package's).
        extra: more fields of this version (e.g. the sample fingerprint).
    """
    directory = pathlib.Path(directory)
    files = {
        str(p.relative_to(directory)).replace(os.sep, "/"): sha256(p)
        for p in sorted(directory.rglob("*")) if p.is_file()
    }
    path = pathlib.Path(manifest_path or package_dir() / MANIFEST)
    data = _read_manifest(path)
    data.setdefault("format", 1)
    entry = data["models"].setdefault(name, {})
    entry.update(info)
    entry.setdefault("versions", {})[str(version)] = {"files": files, "metrics": metrics,
                                                       **(extra or {})}
    entry["latest"] = max(int(v) for v in entry["versions"])
    data["models"] = dict(sorted(data["models"].items()))
    tmp = path.with_suffix(".json.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2, sort_keys=False)
        f.write("\n")
    os.replace(tmp, path)
    return entry
