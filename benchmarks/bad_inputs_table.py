"""Prints the bad-input catalogue as a markdown table: input -> error message.

Runs every case of `tests/test_bad_inputs.py` (the Python API and the `keras-gans` CLI)
on the same tiny models and files the tests use, and prints what a user sees:

    python benchmarks/bad_inputs_table.py > docs/bad_inputs.md

Paths of the temporary files are shortened to `<tmp>/...`.
"""

import contextlib
import io
import os
import pathlib
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

import test_bad_inputs as catalogue  # after the path set-up


def _cell(text, tmp):
    text = " ".join(str(text).split()).replace(tmp, "<tmp>").replace("|", "\\|")
    return text if len(text) <= 300 else text[:297] + "..."


def _api_rows(env, tmp):
    rows = []
    for name, call, expected, _ in catalogue.API_CASES:
        try:
            call(env)
            outcome = "**no error**"
        except Exception as e:  # noqa: BLE001 - every error is a row of the table
            kind = type(e).__name__
            flag = "" if isinstance(e, expected) else f" (expected {expected.__name__})"
            outcome = f"`{kind}`{flag}: {_cell(e, tmp)}"
        rows.append((name.replace("_", " "), outcome))
    return rows


def _cli_rows(env, tmp):
    from keras_gans import cli, memory

    rows = []
    for name, argv, _ in catalogue.CLI_CASES:
        args = argv(env)
        available = memory.available_memory
        if "upscale" in args:  # as in the test: a machine with 1000 bytes free
            memory.available_memory = lambda: 1000
        stderr = io.StringIO()
        try:
            with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
                try:
                    status = cli.main(args)
                except SystemExit as exit_:
                    status = exit_.code
        finally:
            memory.available_memory = available
        command = _cell("keras-gans " + " ".join(args), tmp)
        rows.append((f"`{command}`", f"exit {status}: {_cell(stderr.getvalue(), tmp)}"))
    return rows


def main():
    with tempfile.TemporaryDirectory() as tmp:
        tmp = os.path.realpath(tmp)
        environment = catalogue.build_env(pathlib.Path(tmp))
        env = next(environment)
        try:
            api, command_line = _api_rows(env, tmp), _cli_rows(env, tmp)
        finally:
            environment.close()
    print(f"## Python API ({len(api)} cases)\n")
    print("| input | error |\n|---|---|")
    for name, outcome in api:
        print(f"| {name} | {outcome} |")
    print(f"\n## keras-gans CLI ({len(command_line)} cases)\n")
    print("| command | exit status and the one stderr line |\n|---|---|")
    for command, outcome in command_line:
        print(f"| {command} | {outcome} |")


if __name__ == "__main__":
    main()
