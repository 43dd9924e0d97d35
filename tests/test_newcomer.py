"""Issue 19, the newcomer's path: what a new user meets first (list, info, offline data,
log noise, progress, previews, presets, provenance, the README's examples).

Tests run in-process with `keras_gans.cli.main([...])` where they can: each subprocess
pays seconds of TensorFlow import.
"""

import json

import pytest

from keras_gans import cli, registry


def _manifest():
    with open(registry.package_dir() / registry.MANIFEST, encoding="utf-8") as f:
        return json.load(f)["models"]


# --- 1. list: each entry's declared headline metric ---


@pytest.mark.parametrize("name", sorted(_manifest()))
def test_every_entry_declares_a_headline_that_resolves(name):
    entry = _manifest()[name]
    declared = entry["headline"]
    metrics = entry["versions"][str(entry["latest"])]["metrics"]
    assert registry._metric_at(metrics, declared["metric"]) is not None, declared
    if "reference" in declared:
        assert registry._metric_at(metrics, declared["reference"]) is not None, declared
    assert registry.headline(name).startswith(declared["label"] + " ")


def test_headline_is_the_model_score_not_a_baseline_or_a_count():
    sr = registry.model_info("srgan_x4_wallpapers")
    mean = sr["versions"][str(sr["latest"])]["metrics"]["mean"]
    text = registry.headline("srgan_x4_wallpapers")
    assert text.startswith(f"Y-PSNR dB {mean['srgan']['psnr_y']:.4g} ")
    assert f"bicubic {mean['bicubic']['psnr_y']:.4g}" in text
    cyc = registry.model_info("cyclegan_sneaker_boot")
    judged = cyc["versions"][str(cyc["latest"])]["metrics"]["judged_target_a2b"]
    assert registry.headline("cyclegan_sneaker_boot").startswith(
        f"judged target A->B {judged:.4g}")


def test_headline_fallback_without_a_declaration():
    entry = {"latest": 1, "versions": {"1": {"metrics": {
        "n": 1000, "mean": {"bicubic": {"psnr_y": 30.0}, "model": {"psnr_y": 33.5}}}}}}
    assert registry.headline(entry) == "psnr_y 33.5"
    entry["versions"]["1"]["metrics"] = {"n": 5}
    assert registry.headline(entry) == ""
    # A declaration naming a missing metric falls back too.
    entry["headline"] = {"metric": "nope.value", "label": "X"}
    entry["versions"]["1"]["metrics"] = {"test_accuracy": 0.9}
    assert registry.headline(entry) == "test_accuracy 0.9"


def test_cli_list_shows_the_headlines(capsys):
    assert cli.main(["list", "s*"]) == 0
    out = capsys.readouterr().out
    assert registry.headline("srgan_x4_wallpapers") in out
    assert "psnr_y 38.43" not in out  # the bicubic baseline the old heuristic showed
