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

No file is used before its sha256 matches the manifest, and what the manifest says is
not trusted either (as pip's hash-checking mode): every file needs a sha256, a file's
path must stay inside its version directory (no `..`, no absolute path, no symlink
leading out), only regular files are read (a FIFO or a device would hang), and a `.keras`
archive is inspected (member count, total size, names) before Keras extracts it.
"""

import copy
import difflib
import errno
import fnmatch
import hashlib
import json
import os
import pathlib
import re
import stat
import zipfile
import zlib

MANIFEST = "manifest.json"
KERAS_FILE = "assets.extra/model.keras"
# Bounds on a `.keras` archive, checked before Keras extracts it (a zip bomb is refused).
MAX_ARCHIVE_MEMBERS = 1000
MAX_ARCHIVE_BYTES = 2 * 2**30  # total uncompressed size; the zoo's largest is ~16 MiB
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


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


def _writable_home():
    """`home_dir()` where downloads go, refused naming KERAS_GANS_HOME when a file stands
    where it or a folder above it should be: checked before anything is created."""
    home = home_dir()
    existing = home
    while not os.path.lexists(existing) and existing != existing.parent:
        existing = existing.parent
    if os.path.isdir(existing):
        return home
    what = "it" if existing == home else f"{str(existing)!r} above it"
    named = (f"KERAS_GANS_HOME={os.environ['KERAS_GANS_HOME']!r}"
             if os.environ.get("KERAS_GANS_HOME") else
             f"The zoo's user directory {str(home)!r} (KERAS_GANS_HOME is not set)")
    raise NotADirectoryError(
        f"{named} cannot hold the zoo's downloads: {what} is a file, not a directory. "
        "Point KERAS_GANS_HOME at a directory (it is created if missing).")


def _read_manifest(path):
    if not path.exists():
        return {"models": {}}
    _check_regular_file(path, "manifest")
    try:
        with open(path, encoding="utf-8") as f:
            manifest = json.load(f)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"The manifest {path} is corrupt: it is not valid JSON ({e}). "
                         "Restore it or delete it.") from None
    _check_manifest(path, manifest)
    return manifest


def _check_manifest(path, manifest):
    """Every key the registry reads, with its type; errors name the file and the key."""

    def need(value, kind, key, what):
        if not isinstance(value, kind):
            raise ValueError(  # noqa: TRY004  (a bad file, not a bad argument type)
                f"The manifest {path} is not a keras_gans manifest: {key} is missing or "
                f"not {what} (received: {value!r:.80}).")

    need(manifest, dict, "the top level", "a JSON object")
    need(manifest.get("models"), dict, "`models`", "a mapping")
    for name, entry in manifest["models"].items():
        key = f"models[{name!r}]"
        _check_component(name, f"{key} (an entry name)", path)
        need(entry, dict, key, "a mapping")
        need(entry.get("versions") or None, dict, f"{key}['versions']",
             "a mapping of at least one version")
        latest = entry.get("latest")
        need(latest if latest is None or (type(latest) is int
                                          and str(latest) in entry["versions"]) else "",
             (type(None), int), f"{key}['latest']", "one of its versions")
        for version, record in entry["versions"].items():
            vkey = f"{key}['versions'][{version!r}]"
            need(version if re.fullmatch(r"[0-9]+", version) else None, str, vkey,
                 "an integer version")
            need(record, dict, vkey, "a mapping")
            need(record.get("files"), dict, f"{vkey}['files']", "a mapping")
            for relpath, digest in record["files"].items():
                _check_relpath(relpath, f"{vkey}['files'] key", path)
                need(digest if isinstance(digest, str) and _SHA256.match(digest) else None,
                     str, f"{vkey}['files'][{relpath!r}]", "a sha256 (64 hex digits)")


def _check_component(value, key, source):
    if not isinstance(value, str) or value in ("", ".", "..") or re.search(r"[/\\\0]", value):
        raise ValueError(
            f"Refusing {key}={value!r} from {source}: expected a plain name, not a path.")


def _check_relpath(relpath, key, source):
    """A manifest file path: relative, `/`-separated, with no `..`, `.` or empty part."""
    parts = relpath.split("/") if isinstance(relpath, str) else [""]
    if pathlib.PureWindowsPath(str(relpath)).drive or any(
            part in ("", ".", "..") or "\\" in part or "\0" in part for part in parts):
        raise ValueError(
            f"Refusing {key}={relpath!r} from {source}: a file of a zoo entry must be a "
            "relative path inside its version directory (no `..`, no absolute path).")


def _check_regular_file(path, what):
    """Refuse anything but a regular file without opening it (a FIFO would block)."""
    mode = os.stat(path).st_mode
    if not stat.S_ISREG(mode):
        kind = {stat.S_IFIFO: "a FIFO", stat.S_IFSOCK: "a socket", stat.S_IFCHR: "a device",
                stat.S_IFBLK: "a device", stat.S_IFDIR: "a directory"}.get(
                    stat.S_IFMT(mode), "not a regular file")
        raise ValueError(f"Refusing the {what} {path}: it is {kind}, not a regular file.")


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


# Leaf names of metrics, most telling first: the headline of an entry declaring none.
_FALLBACK_METRICS = ("fid", "frechet_distance", "kid", "psnr_y", "psnr", "psnr_rgb",
                     "test_accuracy", "accuracy", "classifier_score", "inception_score")


def _metric_at(metrics, path):
    value = metrics
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def headline(name_or_entry):
    """The entry's key metric as text, e.g. `"FD 103.7 (real 5.41)"`.

    An entry declares it as `headline: {"metric": "generated.frechet_distance", "label":
    "FD", "reference": "...", "reference_label": "real"}` (dotted paths into the latest
    version's `metrics`). Without a declaration, the first of a few well-known metric
    names is shown (baselines and references skipped); `""` when there is none.
    """
    entry = _entry(name_or_entry) if isinstance(name_or_entry, str) else name_or_entry
    versions = entry.get("versions") or {}
    if not versions:
        return ""
    latest = str(entry.get("latest") or max(int(v) for v in versions))
    metrics = versions.get(latest, {}).get("metrics", {})
    declared = entry.get("headline")
    if isinstance(declared, dict) and isinstance(declared.get("metric"), str):
        value = _metric_at(metrics, declared["metric"])
        if value is not None:
            text = f"{declared.get('label') or declared['metric']} {value:.4g}"
            reference = _metric_at(metrics, str(declared.get("reference", "")))
            if reference is not None:
                text += f" ({declared.get('reference_label', 'reference')} {reference:.4g})"
            return text
    leaves = []

    def walk(value, path):
        if isinstance(value, dict):
            for key, child in value.items():
                if not key.startswith(("real_", "environment", "train_", "bicubic")):
                    walk(child, (*path, key))
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and path:
            leaves.append((path, value))

    walk(metrics, ())
    for wanted in _FALLBACK_METRICS:
        for path, value in leaves:
            if path[-1] == wanted:
                return f"{wanted} {value:.4g}"
    return ""


# Entry keys (dotted) holding paths in the source repository, which pip does not install.
REPOSITORY_KEYS = ("recipe", "samples_png", "quality_floor.heldout_images")


def repository_root():
    """The source checkout holding `zoo/` (the recipes), or `None` for an installed
    package, which ships the artifacts and the manifest but no recipes or test data."""
    root = package_dir().resolve().parent
    return root if (root / "zoo").is_dir() and (root / "keras_gans").is_dir() else None


def repository_files(name):
    """`{dotted key: where}` for the entry's files that live in the source repository:
    the local path in a checkout, else a note that they are not installed."""
    entry = _entry(name)
    root = repository_root()
    where = {}
    for key in REPOSITORY_KEYS:
        value = entry
        for part in key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if not isinstance(value, str):
            continue
        if root is not None and (root / value).exists():
            where[key] = str(root / value)
        else:
            url = manifest().get("repository")
            where[key] = (f"{value} in the keras_gans source repository"
                          f"{f' ({url})' if url else ''}: not installed with the package; "
                          "clone the repository to run or read it")
    return where


def model_info(name):
    """Everything the manifest says of one entry: description, variant, data, recipe,
    license, metrics with how they were measured, and versions."""
    info = copy.deepcopy(_entry(name))
    info["name"] = name
    return info


# --- Files ---


def sha256(path, chunk=1 << 20):
    """The sha256 of a regular file (anything else is refused, never read)."""
    # O_NONBLOCK: should a FIFO replace the file after the check, opening it won't block.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ValueError(f"Refusing to hash {path}: it is not a regular file.")
        digest = hashlib.sha256()
        for block in iter(lambda: f.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def _mirror_url():
    return os.environ.get("KERAS_GANS_MIRROR") or manifest().get("mirror")


def _fetch(name, version, relpath, expected, url=None):
    """Download one file from the mirror (or `url`) into the user directory, checked
    against its sha256."""
    import keras

    url = url or _mirror_url()
    if not url:
        return None
    target_dir = _writable_home() / name / str(version) / os.path.dirname(relpath)
    created = _missing_dirs(target_dir)
    target_dir.mkdir(parents=True, exist_ok=True)
    origin = f"{url.rstrip('/')}/{name}/{version}/{relpath}"
    try:
        path = keras.utils.get_file(
            fname=os.path.basename(relpath), origin=origin, file_hash=expected,
            hash_algorithm="sha256", cache_dir=str(target_dir), cache_subdir=".")
    except Exception as e:  # network errors, hash mismatch after download
        # get_file keeps a file failing its hash: never leave an unverified file behind,
        # nor the empty folders made for it.
        (target_dir / os.path.basename(relpath)).unlink(missing_ok=True)
        for folder in created:
            try:
                folder.rmdir()
            except OSError:  # not empty (another file arrived): kept
                break
        raise OSError(f"Could not fetch {relpath} of {name} v{version} from {origin}: {e}") \
            from e
    return pathlib.Path(path)


def _missing_dirs(folder):
    """The folders `folder.mkdir(parents=True)` would create, deepest first."""
    missing = []
    while not os.path.lexists(folder) and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    return missing


def _local_copy(name, version, relpath, expected, source):
    """`(path, None)`: the first copy of a zoo file, in the user directory then in the
    package, whose sha256 is `expected`; else `(None, (path, actual))` of a copy that
    failed its check, or `(None, None)`."""
    tampered = None
    for root in (home_dir(), package_dir()):
        path = _inside_version_dir(root, name, version, relpath)
        if path is not None:
            _check_regular_file(path, f"file of {source}")
            actual = sha256(path)
            if actual == expected:
                return path, None
            tampered = (path, actual)
    return None, tampered


def resolve_file(name, relpath, version=None):
    """The verified local path of one file of a zoo entry, fetching it if needed."""
    version, record = _version(name, version)
    files = record["files"]
    if relpath not in files:
        raise ValueError(f"Zoo model {name!r} v{version} has no file {relpath!r}.")
    expected = files[relpath]
    source = f"zoo model {name!r} v{version}"
    # What follows trusts none of these: checked before any hashing, download or mkdir.
    _check_component(name, "the entry name", source)
    _check_relpath(relpath, "the file", source)
    if not isinstance(expected, str) or not _SHA256.match(expected):
        raise IntegrityError(
            f"Refusing {relpath!r} of {source}: the manifest gives no sha256 for it "
            f"(received: {expected!r:.80}), and no file is used or fetched unverified.")
    path, tampered = _local_copy(name, version, relpath, expected, source)
    if path is not None:
        return path
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


def _inside_version_dir(root, name, version, relpath):
    """`root/name/version/relpath` if it exists; refused if it resolves outside."""
    base = root / name / str(version)
    path = base / relpath
    if not os.path.lexists(path):
        return None
    real, real_base = os.path.realpath(path), os.path.realpath(base)
    if os.path.commonpath([real, real_base]) != real_base:
        raise IntegrityError(
            f"Refusing {path}: it resolves to {real}, outside its version directory "
            f"{real_base} (a symlink leading out).")
    return path


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
    if not os.path.exists(path):
        raise FileNotFoundError(
            errno.ENOENT, f"Received an invalid value for argument `path`: no such file: "
            f"path={path!r}", path)
    config = inspect_archive(path)
    if expected_class is not None:  # the exact class: an LSGAN file is no DCGAN run
        import keras

        held = config.get("registered_name") or config.get("class_name")
        if held != keras.saving.get_registered_name(expected_class):
            _refuse_class(path, expected_class, str(held).rpartition(">")[2])
    model = _load_keras(path, compile, inspected=True)
    if expected_class is not None and type(model) is not expected_class:
        _refuse_class(path, expected_class, type(model).__name__)
    return model


def _refuse_class(path, expected_class, held):
    raise TypeError(
        f"Received an invalid value for argument `path`: expected a .keras file holding "
        f"a {expected_class.__name__}, received one holding a {held}: path={path!r}")


def inspect_archive(path):
    """Check a `.keras` archive before Keras extracts it; returns its `config.json`.

    Refused with a `ValueError` naming `path`: anything but a regular file, a damaged
    or non-zip file, more than `MAX_ARCHIVE_MEMBERS` members, more than
    `MAX_ARCHIVE_BYTES` uncompressed in all (a zip bomb), a member name that is
    absolute or has `..`, and an archive without a JSON `config.json`.
    """
    path = os.fspath(path)
    _check_regular_file(path, ".keras file")
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if len(members) > MAX_ARCHIVE_MEMBERS:
                raise ValueError(
                    f"Refusing the .keras file {path}: it has {len(members)} members, more "
                    f"than the {MAX_ARCHIVE_MEMBERS} a model archive may have.")
            total = sum(member.file_size for member in members)
            if total > MAX_ARCHIVE_BYTES:
                raise ValueError(
                    f"Refusing the .keras file {path}: it would extract to {total} bytes, "
                    f"more than the bound of {MAX_ARCHIVE_BYTES} (a zip bomb?).")
            for member in members:
                parts = member.filename.replace("\\", "/").split("/")
                if member.filename.startswith(("/", "\\")) or ".." in parts or \
                        pathlib.PureWindowsPath(member.filename).drive:
                    raise ValueError(
                        f"Refusing the .keras file {path}: its member "
                        f"{member.filename!r} would extract outside the archive's folder.")
            with archive.open("config.json") as f:
                return json.load(f)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, EOFError,
            json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(
            f"Received an invalid value for argument `path`: {path!r} is not a .keras "
            f"archive (a zip file with a config.json); it is truncated, corrupt or of "
            f"another format ({type(e).__name__}: {e})") from None


def _load_keras(path, compile, inspected=False):
    import keras

    from keras_gans import _register_all

    if not inspected:
        inspect_archive(path)
    _register_all()
    try:
        return keras.models.load_model(path, compile=compile, safe_mode=True)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as e:  # a damaged member
        if isinstance(e, OSError) and e.errno is not None:
            raise  # the file system's (permissions, ...), naming the file already
        # h5py's errors on a truncated or corrupt weights file are OSErrors without errno.
        raise ValueError(f"The .keras file {path} is damaged: {type(e).__name__}: "
                         f"{' '.join(str(e).split())[:300]}. Restore it from a backup or "
                         "delete it.") from None
    except ValueError as e:
        if "safe_mode" not in str(e):
            raise
        raise ValueError(
            f"Refusing to load {path}: it holds Python code (e.g. a Lambda layer) that "
            "Keras runs only outside safe_mode, and keras_gans never runs code from a "
            f"model file. ({' '.join(str(e).split())[:300]})") from None


# --- Handles: URLs and hf:// (keras-hub's convention), through the mirror mechanism ---

HF_ENDPOINT = "https://huggingface.co"
FETCH_TIMEOUT = 30  # seconds for a remote manifest


def parse_handle(handle):
    """`(mirror root URL, name, version or None)` of `https://HOST/ROOT/NAME[/VERSION]` or
    `hf://OWNER/REPO/NAME[/VERSION]` (a Hugging Face repository laid out as a mirror:
    `manifest.json`, `NAME/VERSION/...`; `$HF_ENDPOINT` replaces huggingface.co)."""
    text = str(handle)
    match = re.match(r"^(?P<root>(?:https?|hf)://.+?)/(?P<name>[\w.-]+)(?:/(?P<v>\d+))?/?$",
                     text)
    if not match or (text.startswith("hf://") and match.group("root").count("/") != 3):
        raise ValueError(
            "Received an invalid value for argument `preset`. Expected a zoo name, a local "
            "preset directory or .keras file, 'https://HOST/ROOT/NAME[/VERSION]' or "
            f"'hf://OWNER/REPO/NAME[/VERSION]', received: preset={text!r}")
    root = match.group("root")
    if root.startswith("hf://"):
        endpoint = os.environ.get("HF_ENDPOINT") or HF_ENDPOINT
        root = f"{endpoint.rstrip('/')}/{root[len('hf://'):]}/resolve/main"
    version = match.group("v")
    return root, match.group("name"), None if version is None else int(version)


def _remote_entry(root, name):
    """The entry `name` of the manifest at the mirror `root` (what its files are checked
    against, for an entry the local manifest does not hold)."""
    import tempfile
    import urllib.request

    url = f"{root}/{MANIFEST}"
    try:
        with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT) as response:
            body = response.read(16 * 2**20)
    except (OSError, ValueError) as e:
        raise OSError(f"Could not fetch the manifest {url}: {e}") from e
    with tempfile.TemporaryDirectory() as tmp:  # read and checked as a local manifest
        path = pathlib.Path(tmp) / MANIFEST
        path.write_bytes(body)
        remote = _read_manifest(path)
    if name not in remote["models"]:
        raise ValueError(f"The mirror {root} has no entry name={name!r}; it holds: "
                         f"{', '.join(sorted(remote['models'])) or '(none)'}")
    return remote["models"][name]


def load_handle(handle, expected_class=None, compile=True):
    """A model from a URL or `hf://` handle (see `parse_handle`).

    The handle's root is used as the mirror: an entry of the local manifest is fetched
    from it and checked against the local sha256s; another entry against the sha256s of
    the mirror's own `manifest.json`. A verified copy at hand (in the user directory, or
    shipped in the package) is used without the network. Files are kept in the user
    directory, as any mirror download, so a second load needs no network; nothing is
    left there when a fetch fails.
    """
    root, name, version = parse_handle(handle)
    _check_component(name, "the entry name", handle)
    entry = manifest()["models"].get(name)
    if entry is None:
        _writable_home()  # where its file would go: before the network
        entry = _remote_entry(root, name)
    versions = entry["versions"]
    version = int(version if version is not None else
                  entry.get("latest") or max(int(v) for v in versions))
    record = versions.get(str(version))
    if record is None or KERAS_FILE not in record.get("files", {}):
        raise ValueError(f"Entry {name!r} at {root} has no version={version} with a "
                         f"{KERAS_FILE}; versions: {', '.join(sorted(versions, key=int))}")
    expected = record["files"][KERAS_FILE]
    if not isinstance(expected, str) or not _SHA256.match(expected):
        raise IntegrityError(f"Refusing {name!r} v{version} from {root}: no sha256 for "
                             f"{KERAS_FILE}.")
    # A verified copy at hand (the user directory's, or the package's for a shipped
    # version) is the same file: no network.
    path, _ = _local_copy(name, version, KERAS_FILE, expected, f"{name!r} v{version}")
    if path is None:
        path = _fetch(name, version, KERAS_FILE, expected, url=root)
    return load_file(path, expected_class, compile)


def load_generator(name, version=None):
    """Just the served network: the generator (EMA weights when the model keeps them),
    the translator pair's A->B network, the upscaler, or the classifier itself."""
    from keras_gans.models.base import AdversarialModel

    model = load(name, version, compile=False)
    return model.served_network() if isinstance(model, AdversarialModel) else model


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
