"""`keras-gans list [PATTERN]` and `keras-gans info NAME`: the zoo's manifest (no
TensorFlow)."""

import json

from keras_gans.cli._common import add_command, table


def add_parser(subparsers):
    p = add_command(subparsers, "list", run_list, "list the zoo's models as a table",
                    "List the zoo's models (name, variant, data, key metric).")
    p.add_argument("pattern", nargs="?", default="*", metavar="PATTERN",
                   help="glob pattern of names, e.g. '*mnist*'")
    p.add_argument("--json", action="store_true", help="print the entries as JSON")

    p = add_command(subparsers, "info", run_info,
                    "show everything the manifest says of one model")
    p.add_argument("name", metavar="NAME", help="a zoo name (see `keras-gans list`)")
    p.add_argument("--json", action="store_true", help="print the entry as JSON")


def _short(text, width=44):
    text = str(text or "")
    for stop in (" (", ":", ";", ". "):
        if stop in text:
            text = text[:text.index(stop)]
    return text if len(text) <= width else text[:width - 3] + "..."


def run_list(args):
    from keras_gans import registry

    names = registry.list_models(args.pattern)
    entries = {name: registry.model_info(name) for name in names}
    if args.json:
        print(json.dumps(entries, indent=2))
        return 0
    if not names:
        print(f"No zoo models match {args.pattern!r}.")
        return 0
    rows = [(n, e.get("variant", ""), _short(e.get("data", "")), registry.headline(e))
            for n, e in entries.items()]
    table(("NAME", "VARIANT", "DATA", "KEY METRIC"), rows)
    return 0


def _print_tree(value, indent=0):
    pad = "  " * indent
    for key, child in value.items():
        if isinstance(child, dict) and child:
            print(f"{pad}{key}:")
            _print_tree(child, indent + 1)
        elif isinstance(child, (dict, list)):
            print(f"{pad}{key}: {json.dumps(child)}")
        else:
            print(f"{pad}{key}: {child}")


def run_info(args):
    from keras_gans import registry

    info = registry.model_info(args.name)
    info = {"name": info.pop("name"), **info}
    # Recipes and test data are in the repository, not in an installed package.
    info["repository_files"] = registry.repository_files(args.name)
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        _print_tree(info)
    return 0
