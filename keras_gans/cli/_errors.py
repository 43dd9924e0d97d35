"""How `keras-gans` ends: the exit status of a command and its one-line error, with the
library's argument names rewritten as the command's flags."""

import argparse
import os
import re
import sys

from keras_gans.cli._common import PROG, one_line


def run_command(args, debug, flags=None):
    """`args.func(args)` with its exit status: 0, 2 for a user error, 1 for a bug, 128 +
    the signal number when interrupted; errors as one line on stderr."""
    prog = f"{PROG} {args.command}"
    try:
        return int(args.func(args) or 0)
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
    "train": {"source": "data", "x": "data", "image_shape": "image_size", "run_dir": "out"},
    "evaluate": {"source": "data"},
    "sample": {"path": "output"},
    "translate": {"images": "input_dir"},
    "upscale": {"images": "input", "path": "output"},
}


def flag_names(parser, command):
    """`{Python argument: the flag or metavar}` of `command`, for its error messages."""
    subparsers = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    sub = subparsers[0].choices.get(command) if subparsers else None
    if sub is None:
        return {}
    names = {}
    for action in sub._actions:
        if action.dest in ("help", "debug", "func"):
            continue
        names[action.dest] = "/".join(action.option_strings) if action.option_strings \
            else action.metavar or action.dest.upper()
    for python, dest in _LIBRARY_NAMES.get(command, {}).items():
        if dest in names:
            names[python] = names[dest]
    return names


def cli_names(message, flags):
    """The library's message with Python arguments named as the command's flags:
    "argument `on_error`" -> "--on-error", "on_error='skip'" -> "--on-error skip"."""
    def name(match, text):
        return flags.get(match.group("name"), text)

    message = re.sub(r"(?:\bargument )?`(?P<name>\w+)`",
                     lambda m: name(m, m.group(0)), message)
    options = {k: v for k, v in flags.items() if v.startswith("-")}  # not positionals
    message = re.sub(r"\b(?P<name>\w+)=(?P<q>'?)(?P<value>[\w.+-]+)(?P=q)(?![\w'(\[])",
                     lambda m: f"{options[m.group('name')]} {m.group('value')}"
                     if m.group("name") in options else m.group(0), message)
    return re.sub(r"\b(?P<name>\w+)=", lambda m: f"{options[m.group('name')]} "
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
