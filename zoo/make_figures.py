"""The README's figures, from the manifest and the entries' sample PNGs:

- docs/zoo.png: one composite of every entry's samples, each captioned with its name;
- docs/time_to_quality.png: classifier score and FD against training minutes, per entry
  that recorded them (`time_to_quality` in its metrics).

    python zoo/make_figures.py
"""

import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent


def records():
    """{entry name: [(minutes, step, score, FD)]} of the entries that recorded one."""
    manifest = json.loads((ROOT / "savedmodels" / "manifest.json").read_text())
    out = {}
    for name, entry in sorted(manifest["models"].items()):
        metrics = entry["versions"][str(entry["latest"])]["metrics"]
        if metrics.get("time_to_quality"):
            out[name] = (metrics["time_to_quality"],
                         metrics.get("real_train_vs_test_reference", {}).get(
                             "classifier_score"))
    return out


def plot(path=ROOT / "docs" / "time_to_quality.png"):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = records()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for i, (name, (rows, real_score)) in enumerate(data.items()):
        color = f"C{i}"
        minutes = [r[0] for r in rows]
        axes[0].plot(minutes, [r[2] for r in rows], color=color, label=name)
        if real_score:
            axes[0].axhline(real_score, color=color, ls=":", lw=1)
        axes[1].plot(minutes, [r[3] for r in rows], color=color, label=name)
    axes[0].set(xlabel="training minutes (2 CPU cores)", ylabel="classifier score",
                title="score (dotted: real data)")
    axes[1].set(xlabel="training minutes (2 CPU cores)", ylabel="classifier FD",
                title="Frechet distance to held-out images", yscale="log")
    for ax in axes:
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    return path


def composite(path=ROOT / "docs" / "zoo.png", height=220):
    """Every entry's `samples_png`, scaled to one height, side by side with captions."""
    from PIL import Image, ImageDraw

    manifest = json.loads((ROOT / "savedmodels" / "manifest.json").read_text())
    tiles = []
    for name, entry in manifest["models"].items():
        png = entry.get("samples_png")
        if not png or not (ROOT / png).is_file():
            continue
        with Image.open(ROOT / png) as image:
            image = image.convert("RGB")
            width = max(1, round(image.width * height / image.height))
            tiles.append((name, image.resize((width, height), Image.NEAREST)))
    caption, gap = 18, 8
    sheet = Image.new("RGB", (sum(t.width for _, t in tiles) + gap * (len(tiles) + 1),
                              height + caption + 2 * gap), "white")
    x = gap
    draw = ImageDraw.Draw(sheet)
    for name, tile in tiles:
        sheet.paste(tile, (x, gap + caption))
        draw.text((x, gap), name, fill="black")
        x += tile.width + gap
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path)
    return path


if __name__ == "__main__":
    print(composite())
    print(plot())
