"""What the commands of `keras-gans` share: the parser classes and argument types, the
TensorFlow import, status lines, loading a model by name or path, and the checks of
input and output paths made before anything is loaded or written.

Nothing here imports TensorFlow at import time.
"""

import argparse
import math
import os
import re
import sys
import warnings

PROG = "keras-gans"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
MODEL_HELP = "a zoo name, a .keras file or an exported SavedModel version directory"


class UsageError(ValueError):
    """A bad combination of arguments found after parsing (exit status 2)."""


# --- Parsing ---


def one_line(text):
    return " ".join(str(text).split())


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (and exit status 2)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {one_line(message)} "
                     f"(see `{self.prog} --help`)\n")


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows a default only when there is a meaningful one not already described."""

    def _get_help_string(self, action):
        help_text = action.help or ""
        default = action.default
        if default is None or default is False or default == argparse.SUPPRESS or \
                "default" in help_text:
            return help_text
        return super()._get_help_string(action)


def debug_parent():
    """The parent parser of `keras-gans` and of each command: `--debug`."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="print the traceback of errors (also KERAS_GANS_DEBUG=1)")
    return parent


def add_command(subparsers, name, func, help_text, description=None, parents=()):
    """A command's parser, running `func(args)`."""
    p = subparsers.add_parser(name, parents=[debug_parent(), *parents], help=help_text,
                              description=description or help_text,
                              formatter_class=HelpFormatter)
    p.set_defaults(func=func)
    return p


def add_model_command(subparsers, name, func, help_text, description, positionals=(),
                      metavar="MODEL_OR_PATH"):
    """A command on a model: its parser with the positional MODEL_OR_PATH, then
    `positionals` (`(dest, metavar, help)`)."""
    p = add_command(subparsers, name, func, help_text, description)
    p.add_argument("model", metavar=metavar, help=MODEL_HELP)
    for dest, metavar_, help_ in positionals:
        p.add_argument(dest, metavar=metavar_, help=help_)
    return p


def add_overwrite(p):
    p.add_argument("--overwrite", action="store_true",
                   help="replace output files that exist already (without it, an existing "
                        "output is an error and nothing is written); inputs are never "
                        "overwritten, even with it")


def _int_type(minimum, expected):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"expected {expected}, received: {text!r}")
        return value

    return parse


positive_int = _int_type(1, "a positive integer")
non_negative_int = _int_type(0, "a non-negative integer")


def _float_type(low, high=None, high_open=False, expected="a number"):
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        ok = math.isfinite(value) and value >= low
        if ok and high is not None:
            ok = value < high if high_open else value <= high
        if not ok:
            raise argparse.ArgumentTypeError(f"expected {expected}, received: {text!r}")
        return value

    return parse


non_negative_float = _float_type(0.0, expected="a non-negative number")
fraction = _float_type(0.0, 1.0, high_open=True, expected="a number in [0, 1)")


def image_size(text):
    """`64` (square) or `64x48` / `64,48` (height, width)."""
    parts = text.lower().replace(",", "x").split("x")
    try:
        sizes = [int(p) for p in parts]
    except ValueError:
        sizes = []
    if len(sizes) not in (1, 2) or min(sizes) <= 0:
        raise argparse.ArgumentTypeError(
            f"expected a positive integer or HEIGHTxWIDTH, received: {text!r}")
    return sizes[0] if len(sizes) == 1 else sizes


# --- Status lines ---


def import_tensorflow():
    """Import TensorFlow with its native start-up lines (absl's "All log messages before
    absl::InitializeLog()", oneDNN's and cpu_feature_guard's notes) kept off stderr:
    TF 2.21 prints them whatever TF_CPP_MIN_LOG_LEVEL says, so fd 2 points to /dev/null
    while the libraries load. Python errors of the import are raised as usual."""
    if "tensorflow" in sys.modules:
        return
    status("loading TensorFlow...")
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow  # noqa: F401 - the import is the point
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def status(text):
    """Say what the command is doing (seconds of TensorFlow import, loading a model) on
    an interactive stderr; nothing when stderr is a file or a pipe, so that scripts
    still get one line per error."""
    if getattr(sys.stderr, "isatty", lambda: False)():
        print(f"{PROG}: {text}", file=sys.stderr, flush=True)


def progress(done, total, what):
    """`keras-gans: WHAT DONE/TOTAL`, rewritten in place on an interactive stderr (a long
    single command is not silent); nothing when stderr is a file or a pipe."""
    if getattr(sys.stderr, "isatty", lambda: False)():
        end = "\n" if done >= total else ""
        print(f"\r{PROG}: {what} {done}/{total}", end=end, file=sys.stderr, flush=True)


# Warnings (the data's "Ignored 2 files without an image extension", ...): one line each,
# held back until the command has accepted its inputs, so that a refused command says one
# line only. `None`: printed at once.
_held_warnings = None


def hold_warnings(prog):
    """Show warnings as one line `PROG: warning: TEXT` each, held back until
    `report_warnings()`; call inside `warnings.catch_warnings()`."""
    global _held_warnings
    _held_warnings = []

    def show(message, category, filename, lineno, file=None, line=None):
        text = f"{prog}: warning: {one_line(message)}"
        if _held_warnings is None:
            print(text, file=sys.stderr, flush=True)
        else:
            _held_warnings.append(text)

    warnings.showwarning = show


def report_warnings():
    """Print the warnings held back (the inputs are accepted); later ones at once."""
    global _held_warnings
    held, _held_warnings = _held_warnings or [], None
    for text in dict.fromkeys(held):
        print(text, file=sys.stderr, flush=True)


def drop_warnings():
    """Forget the warnings held back: the command was refused, its one line says why."""
    global _held_warnings
    _held_warnings = None


def table(header, rows):
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip())


# --- Models ---


def resolve_model(spec):
    """`(path, None)` for a file or exported version, `(None, name)` for a zoo name.

    Checked before TensorFlow is imported, so a typo fails at once.
    """
    if os.path.isdir(spec):
        path = os.path.join(spec, "assets.extra", "model.keras")
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"MODEL_OR_PATH={spec!r} is a directory but not a SavedModel version "
                "exported by keras_gans (it has no assets.extra/model.keras).")
        return path, None
    if os.path.isfile(spec):
        if not spec.endswith(".keras"):
            raise UsageError(f"MODEL_OR_PATH={spec!r} is not a .keras file.")
        return spec, None
    if spec.endswith(".keras") or "/" in spec or os.sep in spec:
        raise FileNotFoundError(f"MODEL_OR_PATH={spec!r}: no such file or directory.")
    from keras_gans import registry

    try:
        registry.model_info(spec)
    except ValueError as e:
        raise UsageError(f"{e} (MODEL_OR_PATH is a zoo name, a .keras file or an "
                         "exported version directory)") from None
    return None, spec


def load_model(spec, compile=False):
    return load_with_provenance(spec, compile)[0]


def load_with_provenance(spec, compile=False):
    """`(model, provenance)`: the provenance (model name or file, version, sha256 of the
    .keras file) goes into the PNG files the command writes."""
    path, name = resolve_model(spec)
    import_tensorflow()
    status(f"loading {spec}...")
    from keras_gans import registry

    if name is not None:
        version, record = registry._version(name, None)
        model = registry.load(name, version, compile=compile)
        return model, {"model": name, "version": version,
                       "sha256": record["files"][registry.KERAS_FILE]}
    try:
        model = registry.load_file(path, compile=compile)
    except (ValueError, TypeError) as e:  # about the file: named as the command does
        raise UsageError(re.sub(r"(?:argument )?`path`", "MODEL_OR_PATH", str(e))) from None
    folder = os.path.basename(os.path.normpath(spec)) if os.path.isdir(spec) else ""
    return model, {"model": os.path.abspath(spec), "version": folder if folder.isdigit()
                   else "none", "sha256": registry.sha256(path)}


def require(model, method, spec, command):
    if hasattr(model, method):
        return
    alternatives = {"generate": "sample", "translate": "translate", "upscale": "upscale",
                    "inpaint": "inpaint"}
    other = [alternatives[m] for m in alternatives if hasattr(model, m)]
    hint = f"; use `keras-gans {other[0]}`" if other else ""
    raise UsageError(
        f"`keras-gans {command}` needs a model with `{method}`; MODEL_OR_PATH={spec!r} is "
        f"a {type(model).__name__}{hint}.")


# --- Paths ---


def check_source(source, argument):
    """A local path must exist; `tfds:` names are checked by TFDS. Returns it normalised."""
    text = os.fspath(source)
    if text.startswith("tfds:"):
        return text
    if not os.path.exists(text):
        raise FileNotFoundError(f"{argument}={text!r}: no such file or folder.")
    return os.path.abspath(text)


def list_images(root):
    """Image files under `root` (recursive, sorted, each once, hidden ones and special
    files such as FIFOs left out)."""
    from keras_gans.utils import walk_files

    return walk_files(root, IMAGE_SUFFIXES)[0]


def same_file(a, b):
    """Whether two paths name one file: the same real path, or the same inode."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist
        return False


def inside(path, folder):
    """Whether `path` is `folder` or below it, comparing real paths (symlinks resolved)."""
    path, folder = os.path.realpath(path), os.path.realpath(folder)
    return os.path.commonpath([path, folder]) == folder


def check_outputs(outputs, inputs, overwrite, argument):
    """Refuse, before anything is written, outputs that would replace an input (always)
    or an existing file (unless --overwrite)."""
    real_inputs = {os.path.realpath(p): p for p in inputs}
    for output in outputs:
        source = real_inputs.get(os.path.realpath(output)) or next(
            (p for p in inputs if os.path.exists(output) and same_file(output, p)), None)
        if source is not None:
            raise UsageError(f"{argument}: the output {output!r} is the input {source!r}; "
                             "inputs are never overwritten, choose another output.")
    folders = [o for o in outputs if os.path.isdir(o)]
    if folders:
        raise UsageError(f"{argument}: the output {folders[0]!r} is a folder.")
    existing = [o for o in outputs if os.path.lexists(o)]
    if existing and not overwrite:
        more = f" ({len(existing)} of the {len(outputs)} outputs exist)" \
            if len(outputs) > 1 else ""
        raise UsageError(f"{argument}: {existing[0]!r} already exists{more}; pass "
                         "--overwrite to replace it, or choose another output.")


def check_image_path(path, argument):
    if not path.lower().endswith(IMAGE_SUFFIXES):
        named = f"{argument} {path!r}" if argument.startswith("-") else f"{argument}={path!r}"
        raise UsageError(f"{named} must end in one of {', '.join(IMAGE_SUFFIXES)}.")


def check_writable(path, argument, folder=False):
    """Refuse, before anything is written, an output file (or `folder`) that cannot be
    created: the nearest existing folder above it must be a folder this process may
    write in."""
    existing = os.path.abspath(path) if folder else os.path.dirname(os.path.abspath(path))
    while not os.path.lexists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise UsageError(f"{argument}: cannot write {path!r} ({existing!r} is a file, not "
                         "a folder).")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"{argument}: cannot write {path!r} (permission denied in "
                         f"{existing!r}).")


def add_on_error(p, source):
    p.add_argument("--on-error", choices=("raise", "skip"), default="raise",
                   help=f"an unreadable image file in {source}: raise (stop, naming it) or "
                        "skip it with a warning")
