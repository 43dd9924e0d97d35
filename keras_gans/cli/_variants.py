"""The variants of `keras-gans train` and their options, as the models declare them.

A variant is a module that `keras_gans.models.TRAIN_VARIANTS` lists; its model is the
class whose body sets `train_options` (see `keras_gans.models.base`). The declarations
are read from the modules' source, without importing them: the parser never imports
TensorFlow. Only `variant_class` imports the model, once the command runs.
"""

import ast
import functools
import importlib
import importlib.util
import os
from typing import NamedTuple

from keras_gans.cli._common import (
    UsageError,
    check_source,
    fraction,
    image_size,
    non_negative_float,
    non_negative_int,
    positive_int,
)

# The parse functions of the specs' `type`s; "flag" is an on/off flag, "source",
# "model_file" and none are strings checked after parsing.
TYPES = {"positive_int": positive_int, "non_negative_int": non_negative_int, "int": int,
         "non_negative_float": non_negative_float, "fraction": fraction,
         "image_size": image_size}


class Variant(NamedTuple):
    name: str
    module: str
    class_name: str
    options: dict  # dest -> spec, as declared


# --- Reading the declarations ---


@functools.cache
def _module_tree(module):
    """The syntax tree of `module`'s source, or None when it is not installed."""
    try:
        spec = importlib.util.find_spec(module)
    except ImportError:
        spec = None
    if spec is None or not (spec.origin or "").endswith(".py"):
        return None
    with open(spec.origin, encoding="utf-8") as f:
        return ast.parse(f.read(), spec.origin)


def _static_value(node, tree):
    """The value of an expression made of literals, names of module-level literals (of
    this module or imported from another) and `{**name, ...}` merges."""
    if isinstance(node, ast.Name):
        return _module_value(tree, node.id)
    if isinstance(node, ast.Dict):
        value = {}
        for key, item in zip(node.keys, node.values):
            if key is None:
                value.update(_static_value(item, tree))
            else:
                value[ast.literal_eval(key)] = _static_value(item, tree)
        return value
    return ast.literal_eval(node)


def _module_value(tree, name):
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name
                                                for t in node.targets):
            return _static_value(node.value, tree)
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if (alias.asname or alias.name) == name:
                    return _module_value(_module_tree(node.module), alias.name)
    raise ValueError(f"`train_options` refers to {name!r}, which is not a module-level "
                     "literal.")


def _declaring_class(tree):
    """`(class name, train_options)` of the class whose body sets `train_options`."""
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        for item in node.body:
            if isinstance(item, ast.Assign) and any(getattr(t, "id", None) == "train_options"
                                                    for t in item.targets):
                return node.name, _static_value(item.value, tree)
    return None, None


@functools.cache
def variants():
    """`{name: Variant}` of the installed variants, in `TRAIN_VARIANTS`'s order."""
    from keras_gans.models import TRAIN_VARIANTS

    found = {}
    for name in TRAIN_VARIANTS:
        module = f"keras_gans.models.{name}"
        tree = _module_tree(module)
        if tree is not None:
            class_name, options = _declaring_class(tree)
            if class_name is not None:
                found[name] = Variant(name, module, class_name, options)
    return found


def variant_class(name):
    """The model class of variant `name` (imports it, and TensorFlow)."""
    variant = variants()[name]
    return getattr(importlib.import_module(variant.module), variant.class_name)


def _flag(dest):
    return f"--{dest.replace('_', '-')}"


def option_variants(common):
    """`{dest: [variant, ...]}`: the variants declaring each option that is not one of
    the `common` ones, in the order of first declaration."""
    found = {}
    for variant in variants().values():
        for dest in variant.options:
            if dest not in common:
                found.setdefault(dest, []).append(variant.name)
    return found


# --- Flags ---


def add_flags(parser, common):
    """One flag per declared option, in argument groups titled by the variants that take
    them; default None, so that a flag given for another variant is seen."""
    groups = {}
    for dest, takers in option_variants(common).items():
        specs = [variants()[taker].options[dest] for taker in takers]
        spec = specs[0]
        title = ", ".join(takers)
        if title not in groups:
            groups[title] = parser.add_argument_group(title)
        kwargs = {"default": None, "help": _shared_help(takers, specs)}
        if spec.get("metavar"):
            kwargs["metavar"] = spec["metavar"]
        if spec.get("type") == "flag":
            kwargs["action"] = "store_true"
        else:
            # Variants may offer different choices under one flag (DCGAN's --upsampling
            # transposed|resize, SRGAN's subpixel|resize): the flag takes any of them and
            # `variant_options` checks the variant's own.
            choices = None
            if all(s.get("choices") for s in specs):
                choices = list(dict.fromkeys(c for s in specs for c in s["choices"]))
            kwargs.update(type=TYPES.get(spec.get("type")), choices=choices)
        groups[title].add_argument(_flag(dest), **kwargs)


def _shared_help(takers, specs):
    """The help of an option several variants declare: one text, or each variant's."""
    helps = {}
    for taker, spec in zip(takers, specs):
        if spec.get("help"):
            helps.setdefault(spec["help"], []).append(taker)
    if len(helps) <= 1:
        return next(iter(helps), None)
    return "; ".join(f"{', '.join(names)}: {text}" for text, names in helps.items())


def default(variant, dest, fallback=None):
    """The variant's default of option `dest` (declared, else `fallback`)."""
    return variants()[variant].options.get(dest, {}).get("default", fallback)


# --- Values ---


def variant_options(args, common):
    """`{dest: value}` of the variant's declared options, their defaults filled in; a flag
    of another variant, a missing required one or a missing source is an error."""
    variant = variants()[args.variant]
    options = {}
    for dest, takers in option_variants(common).items():
        value = getattr(args, dest)
        if variant.name in takers:
            choices = variant.options[dest].get("choices")
            if value is not None and choices and value not in choices:
                raise UsageError(f"{_flag(dest)} {value!r} is not one of {variant.name}'s: "
                                 f"choose from {', '.join(map(str, choices))}.")
            options[dest] = variant.options[dest].get("default") if value is None else value
        elif value is not None:
            raise UsageError(f"{_flag(dest)} applies to {', '.join(takers)}, "
                             f"not to {variant.name}.")
    for dest, spec in variant.options.items():
        if dest in common:
            continue
        if spec.get("required") and options[dest] is None:
            raise UsageError(spec["required"])
        if spec.get("type") == "source" and options[dest] is not None:
            options[dest] = check_source(options[dest], _flag(dest))
    return options


def sources(variant):
    """`[(flag, dest)]` of the variant's options that name training images."""
    return [(_flag(dest), dest) for dest, spec in variants()[variant].options.items()
            if spec.get("type") == "source"]


def resume_hints(variant, changed):
    """The hints the variant declares for options that differ from a stored run's."""
    options = variants()[variant].options
    return [options[dest]["resume_hint"] for dest in changed
            if "resume_hint" in options.get(dest, {})]


def start_from(options, args):
    """Resolve the variant's `model_file` options (`--init`): the .keras file to start
    from (a run's model.keras, else its checkpoint.keras), and the options its config
    fixes, checked against those given."""
    variant = variants()[options["variant"]]
    for dest, spec in variant.options.items():
        if spec.get("type") == "model_file" and options.get(dest) is not None:
            path, config = _model_file(options[dest], _flag(dest),
                                       spec.get("classes") or [variant.class_name])
            _take_fixed(options, args, config, spec.get("fixes", {}), variant, _flag(dest))
            options[dest] = os.path.abspath(path)


def _model_file(spec, flag, classes):
    from keras_gans import registry

    path = spec
    if os.path.isdir(spec):
        found = [os.path.join(spec, f) for f in ("model.keras", "checkpoint.keras")
                 if os.path.isfile(os.path.join(spec, f))]
        if not found:
            raise UsageError(f"{flag} {spec!r} is a folder without model.keras or "
                             "checkpoint.keras (a finished or started keras-gans train run).")
        path = found[0]
    elif not os.path.isfile(spec) or not spec.endswith(".keras"):
        raise UsageError(f"{flag} {spec!r}: expected a run directory or a .keras file.")
    try:
        archive = registry.inspect_archive(path)
    except ValueError as e:
        raise UsageError(f"{flag} {spec!r}: {e}") from None
    held = str(archive.get("registered_name") or archive.get("class_name")).rpartition(">")[2]
    if held not in classes:
        raise UsageError(f"{flag} {spec!r} holds a {held}, not a {classes[0]}.")
    return path, archive.get("config", {})


def _take_fixed(options, args, config, fixes, variant, flag):
    """The options the model's `config` fixes (`fixes`: dest -> config key); a declared
    option given with another value is an error, a common one is replaced."""
    for dest, key in fixes.items():
        value = config.get(key)
        if value is None:
            continue
        given = getattr(args, dest, None)
        if dest in variant.options and given is not None and given != value:
            raise UsageError(f"{_flag(dest)} {given} differs from the {flag} "
                             f"model's {value}; leave it out to take the model's.")
        options[dest] = value
