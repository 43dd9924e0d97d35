"""TF Serving's `models.config`: several exported models served from one server.

`keras_gans.serving` re-exports `models_config_text` and `write_models_config` (and
uses `MODEL_NAME` to check a client's model name).
"""

import re

#: The model names TF Serving accepts here (they become part of URLs).
MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _quote(text):
    # A protobuf text-format string literal.
    escaped = text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n")
    return f"'{escaped}'"


def _check_model_name(name):
    if not isinstance(name, str) or not MODEL_NAME.match(name):
        raise ValueError(
            "Received an invalid model name in argument `models`. Expected letters, "
            f"digits, '_', '.' or '-' (it becomes part of URLs), received: {name!r}"
        )


def models_config_text(models):
    """The text of TF Serving's `models.config` for `models` (see `write_models_config`)."""
    if not isinstance(models, dict) or not models:
        raise ValueError(
            "Received an invalid value for argument `models`. Expected a non-empty dict "
            f"{{name: base_path}}, received: models={models!r}"
        )
    lines = ["model_config_list {"]
    for name, spec in models.items():
        _check_model_name(name)
        spec = {"base_path": spec} if isinstance(spec, str) or hasattr(spec, "__fspath__") \
            else dict(spec)
        unknown = set(spec) - {"base_path", "versions"}
        if unknown or "base_path" not in spec:
            raise ValueError(
                f"Received an invalid value for model {name!r} in argument `models`. "
                "Expected a base path, or a dict with `base_path` and optionally "
                f"`versions`, received: {spec!r}"
            )
        lines += ["  config {", f"    name: {_quote(name)}",
                  f"    base_path: {_quote(str(spec['base_path']))}",
                  "    model_platform: 'tensorflow'"]
        served = spec.get("versions")
        if served is not None:
            served = [served] if isinstance(served, int) else list(served)
            if not served or not all(isinstance(v, int) and not isinstance(v, bool)
                                     and v >= 0 for v in served):
                raise ValueError(
                    f"Received invalid `versions` for model {name!r}. Expected "
                    f"non-negative integers, received: {spec['versions']!r}"
                )
            listed = " ".join(f"versions: {v}" for v in served)
            lines.append(f"    model_version_policy {{ specific {{ {listed} }} }}")
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def write_models_config(path, models):
    """Write TF Serving's model config file, serving several models from one server.

    Each model is served from its base directory (the `base_dir` of `keras_gans.export`)
    and, by default, at its latest version; TF Serving picks up new versions as they
    appear.

    Args:
        path: where to write the file (e.g. `savedmodels/models.config`).
        models: `{name: base_path}`, or `{name: {"base_path": ..., "versions": [1, 2]}}`
            to serve specific versions. Paths are as the server sees them: inside the
            Docker container, e.g. `/models/dcgan_mnist`.

    Returns:
        The path written.

    Example:

    ```python
    write_models_config("savedmodels/models.config",
                        {"dcgan_mnist": "/models/dcgan_mnist",
                         "cyclegan_horse2zebra": "/models/cyclegan_horse2zebra"})
    ```

    then `docker run -p 8501:8501 -v $PWD/savedmodels:/models tensorflow/serving
    --model_config_file=/models/models.config`.
    """
    text = models_config_text(models)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path
