"""How `keras-gans` ends: the exit status of a command and its one-line error, with the
library's argument names rewritten as the command's flags."""

import argparse
import os
import re
import sys
import warnings

from keras_gans.cli._common import (
    PROG,
    drop_warnings,
    hold_warnings,
    one_line,
    report_warnings,
)


def run_command(args, debug, flags=None):
    """`args.func(args)` with its exit status: 0, 2 for a user error, 1 for a bug, 128 +
    the signal number when interrupted; errors as one line on stderr."""
    prog = f"{PROG} {args.command}"
    with warnings.catch_warnings():
        if not debug:
            hold_warnings(prog)
        try:
            status = _run(args, prog, debug, flags)
        finally:
            drop_warnings()
    return status


def _run(args, prog, debug, flags):
    try:
        status = int(args.func(args) or 0)
        report_warnings()
        return status
    except (KeyboardInterrupt, SystemExit) as e:
        # SystemExit with `signum`: keras_gans.training.Terminated (SIGTERM), checkpointed.
        signum = getattr(e, "signum", None)
        if isinstance(e, SystemExit) and signum is None:
            raise
        hint = " (checkpointed; started again with the same --out, the run resumes)" \
            if args.command == "train" else ""
        report(prog, f"{'terminated' if signum else 'interrupted'}{hint}", debug)
        return 128 + (signum or 2)  # 130 for Ctrl-C, 143 for SIGTERM
    except BrokenPipeError:
        # `keras-gans list | head`: the reader left; say nothing more.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except Exception as e:  # noqa: BLE001 - every error ends as one line
        message = cli_names(one_line(error_text(e)) or type(e).__name__, flags or {})
        if is_user_error(e):
            report(prog, f"error: {message}", debug)
            return 2
        report(prog, f"internal error: {type(e).__name__}: {message} (run with --debug "
                     "for the traceback)", debug)
        return 1


# Names of the library's arguments that a command's flags set under another name.
_LIBRARY_NAMES = {
    "train": {"source": "data", "x": "data", "image_shape": "image_size", "run_dir": "out",
              "a": "data", "b": "data_b"},
    "evaluate": {"source": "data"},
    "sample": {"path": "output"},
    "translate": {"images": "input_dir"},
    "upscale": {"images": "input", "path": "output"},
    "inpaint": {"images": "input", "masks": "mask", "path": "output"},
}

# The library's phrases about arguments a command sets itself, in the command's words.
_PHRASES = {
    "train": ((r"\bReceived labels=True, but\b", "Received --num-classes or --conditional, but"),),
}

# Hints naming a Python argument that no flag sets: dropped where the command has no flag
# of that name (`keras-gans train` batches with drop_remainder=True, always).
_PYTHON_ONLY = (("drop_remainder", r" with drop_remainder=True\b"),
                ("drop_remainder", r" or drop_remainder=False\b"))


class Flags(dict):
    """`{Python argument: the flag or metavar}` of a command, with `switches`: the Python
    names of its flags that take no value (`--overwrite`), and `phrases`: `(regex,
    replacement)` rewrites of library phrases for this command."""

    def __init__(self, names=(), switches=(), phrases=()):
        super().__init__(names)
        self.switches = frozenset(switches)
        self.phrases = tuple(phrases)


def flag_names(parser, command):
    """The `Flags` of `command`, for its error messages."""
    subparsers = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    sub = subparsers[0].choices.get(command) if subparsers else None
    if sub is None:
        return Flags()
    names, switches = {}, set()
    for action in sub._actions:
        if action.dest in ("help", "debug", "func"):
            continue
        names[action.dest] = "/".join(action.option_strings) if action.option_strings \
            else action.metavar or action.dest.upper()
        if action.option_strings and action.nargs == 0:  # store_true and the like
            switches.add(action.dest)
    for python, dest in _LIBRARY_NAMES.get(command, {}).items():
        if dest in names and python not in names:
            names[python] = names[dest]
            if dest in switches:
                switches.add(python)
    return Flags(names, switches, _PHRASES.get(command, ()))


# A Python argument's name, not a part of a flag already written (`-o/--output`).
_NAME = r"(?<![-\w])(?P<name>\w+)"


def cli_names(message, flags):
    """The library's message with Python arguments named as the command's flags:
    "argument `on_error`" -> "--on-error", "on_error='skip'" -> "--on-error skip",
    "overwrite=True" -> "--overwrite" (a flag without a value)."""
    for pattern, replacement in getattr(flags, "phrases", ()):
        message = re.sub(pattern, replacement, message)
    for python, pattern in _PYTHON_ONLY:
        if python not in flags:
            message = re.sub(pattern, "", message)
    if "image_size" in flags:
        message = message.replace("image_size=(height, width)",
                                  f"{flags['image_size']} HEIGHTxWIDTH")

    def name(match, text):
        return flags.get(match.group("name"), text)

    message = re.sub(r"(?:\bargument )?`(?P<name>\w+)`",
                     lambda m: name(m, m.group(0)), message)
    options = {k: v for k, v in flags.items() if v.startswith("-")}  # not positionals
    switches = getattr(flags, "switches", frozenset())
    message = re.sub(_NAME + r"=None\b",  # a flag not given
                     lambda m: f"no {options[m.group('name')]}" if m.group("name") in options
                     else m.group(0), message)
    message = re.sub(_NAME + r"=True\b",
                     lambda m: options[m.group("name")] if m.group("name") in switches
                     and m.group("name") in options else m.group(0), message)
    message = re.sub(_NAME + r"=(?P<q>'?)(?P<value>[\w.+-]+)(?P=q)(?![\w'(\[])",
                     lambda m: f"{options[m.group('name')]} {m.group('value')}"
                     if m.group("name") in options else m.group(0), message)
    return re.sub(_NAME + "=", lambda m: f"{options[m.group('name')]} "
                  if m.group("name") in options else m.group(0), message)


def error_text(error):
    """The message of `error`; TensorFlow's graph-execution errors without their trace."""
    text = str(error)
    if "tensorflow" in sys.modules:
        import tensorflow as tf

        if isinstance(error, tf.errors.OpError):
            text = error.message or text
            found = re.search(r"(?:assertion failed|Error in user-defined function)[^\n]*",
                              text)
            lines = [line for line in text.splitlines() if line.strip()
                     and not line.strip().startswith(("[[", "Detected at node", "File "))]
            text = found.group(0) if found else (lines[-1] if lines else text)
    return text


def is_user_error(error):
    # FloatingPointError covers callbacks.NonFiniteLossError; ValueError covers
    # registry.IntegrityError and UsageError; OSError covers missing, existing and
    # unwritable files; ImportError a missing optional dependency (scipy).
    expected = (ValueError, TypeError, OSError, FloatingPointError, MemoryError, ImportError)
    if isinstance(error, expected):
        return True
    if "tensorflow" in sys.modules:  # bad data found while reading it
        import tensorflow as tf

        return isinstance(error, (tf.errors.InvalidArgumentError, tf.errors.NotFoundError,
                                  tf.errors.ResourceExhaustedError))
    return False


def report(prog, message, debug):
    if debug:
        import traceback

        traceback.print_exc()
    sys.stdout.flush()
    print(f"{prog}: {message}", file=sys.stderr, flush=True)
