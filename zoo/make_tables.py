"""Regenerate the zoo tables of zoo/README.md and README.md from savedmodels/manifest.json.

    python zoo/make_tables.py
"""

import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
START, END = "<!-- ZOO-TABLE-START -->", "<!-- ZOO-TABLE-END -->"


def rows():
    manifest = json.loads((ROOT / "savedmodels" / "manifest.json").read_text())
    for name, entry in manifest["models"].items():
        version = entry["versions"][str(entry["latest"])]
        m = version["metrics"]
        if "generated" in m:
            g, r = m["generated"], m["real_train_vs_test_reference"]
            quality = (f"FD {g['frechet_distance']:.1f} (real {r['frechet_distance']:.1f}); "
                       f"score {g['classifier_score']:.2f} (real {r['classifier_score']:.2f}); "
                       f"class entropy {g['class_entropy']:.2f}/{g['class_entropy_max']:.2f}, "
                       f"{g['classes_missing']} missing")
            if "label_accuracy" in g:
                quality += f"; label accuracy {g['label_accuracy']:.1%}"
            steps = f"{m['train_steps']} steps"
        elif entry["variant"] == "CycleGAN":
            quality = (f"judged target A→B {m['judged_target_a2b']:.1%}, B→A "
                       f"{m['judged_target_b2a']:.1%} (inputs: "
                       f"{m['judged_target_untranslated_a']:.1%}, "
                       f"{m['judged_target_untranslated_b']:.1%}); cycle error "
                       f"{m['cycle_error_a2b2a']:.3f} / {m['cycle_error_b2a2b']:.3f}")
            t = m["training"]
            steps = f"{t['epochs'] * t['steps_per_epoch']} steps"
        elif entry["variant"] == "SRGAN":
            mean = m["mean"]
            quality = (f"Y-PSNR {mean['srgan']['psnr_y']:.2f} dB, SSIM "
                       f"{mean['srgan']['ssim_y']:.3f} (bicubic {mean['bicubic']['psnr_y']:.2f}"
                       f" dB, {mean['bicubic']['ssim_y']:.3f}) on "
                       f"{len(m['per_photo'])} held-out photos")
            t = m["training"]
            steps = f"{t['pretrain']['steps']} + {t['adversarial']['steps']} steps"
        elif entry["task"] == "inpainting":
            ours, bh, te = (m["methods"][k] for k in ("ours", "biharmonic", "telea"))
            quality = (f"hole PSNR {ours['psnr_hole']:.2f} dB, SSIM {ours['ssim_hole']:.3f} "
                       f"(biharmonic {bh['psnr_hole']:.2f} dB, Telea {te['psnr_hole']:.2f} "
                       f"dB); classifier on filled items {ours['classifier_accuracy']:.1%} "
                       f"vs unmasked {m['methods']['unmasked']['classifier_accuracy']:.1%}; "
                       "14x14 centre hole, 10,000 test images")
            steps = f"{m['train_steps']} steps"
        else:
            quality = f"test accuracy {m['test_accuracy']:.1%} on {m['n_test']} held-out"
            steps = f"{m.get('train_seconds', '?')} s"
        yield (f"| `{name}` | {entry['variant']} | `{entry['command']}` | "
               f"{entry['data'].split(':')[0].split(' (')[0]} | {steps} | {quality} |")


def table():
    head = ("| entry | variant | command | data | training | quality (held-out) |\n"
            "|---|---|---|---|---|---|\n")
    return head + "\n".join(rows()) + "\n"


def replace(path):
    text = path.read_text()
    if START not in text:
        return
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    path.write_text(before + START + "\n" + table() + END + after)


if __name__ == "__main__":
    for p in (ROOT / "README.md", ROOT / "zoo" / "README.md"):
        replace(p)
    print(table())
