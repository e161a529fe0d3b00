"""OCR benchmark: speed and accuracy of RapidOCR as shipped vs vlagent's tuned engine.

    python bench/ocr.py [--repeats 5] [--sets 1080p,1080p-dense,crop,two-column,low-contrast] [--ablations]
                        [--busy N]

Every configuration reads the same generated images (ground truth from
``vlagent.samples``) in the same run, interleaved image by image with the order of the
configurations rotated each repeat, so load from other processes hits them alike.

Configurations:
- ``rapidocr-default``: ``RapidOCR()`` as installed (BGR array in, its own line order);
- ``rapidocr-no-cls``: the same without the angle classifier (vlagent's first version);
- ``vlagent``: :class:`vlagent.ocr.rapid.RapidOcrEngine` with its default settings;
- with ``--ablations``, vlagent with one tuning undone: detector at full resolution
  (``det-full``), the detector reading whole bands, empty parts too (``whole-bands``),
  no crop padding (``pad-0``),
  lines padded to 320 columns as RapidOCR does (``min-width-320``), one worker instead of
  one per core (``workers-1``).

Columns: wall ms p50 / p95 and CPU ms p50 per image (CPU counts every thread; on an idle
2-core machine wall ≈ CPU / 1.85), CER in reading order (the text as a user gets it; line
breaks count) and CER with lines sorted (recognition alone), lines found / lines drawn.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from vlagent import samples  # noqa: E402
from vlagent.eval.metrics import cer, cer_unordered  # noqa: E402
from vlagent.ocr.imageprep import to_bgr  # noqa: E402
from vlagent.ocr.rapid import RapidOcrEngine  # noqa: E402


def image_sets() -> dict[str, list[tuple[str, Image.Image, list[str]]]]:
    pages = []
    for lang, seed in (("en", 1), ("zh", 2), ("mixed", 3)):
        for size in (18, 14):
            img, truth = samples.screenshot_like(1920, 1080, lang=lang, seed=seed + size, font_size=size)
            pages.append((f"{lang}-{size}px", img, truth))
    dense = []
    for lang, seed in (("en", 31), ("zh", 32), ("mixed", 33)):
        img, truth = samples.screenshot_like(1920, 1080, lang=lang, seed=seed, font_size=16, dense=True)
        dense.append((f"{lang}-dense", img, truth))
    crops = [(t, samples.ui_label(t), [t]) for t in
             ("Save changes", "Last sync 2 min ago", "保存更改", "设置 - 网络", "Export as PDF", "已发送 12 封")]
    columns = [(f"seed{s}", *samples.two_column_page(seed=s)) for s in (0, 4)]
    faint = []
    lines = ["Limited offer ends Sunday", "限时优惠周日结束", "Meeting notes: ship the release candidate on Friday"]
    for name, bg, fg in (("orange", (250, 160, 40), (240, 148, 30)), ("grey", (200, 200, 200), (190, 190, 190)),
                         ("dark", (30, 30, 34), (48, 48, 52))):
        banner, truth = samples.low_contrast_text(lines, bg=bg, fg=fg, font_size=18)
        page = Image.new("RGB", (1280, 720), bg)
        page.paste(banner, (300, 250))
        faint.append((name, page, truth))
    return {"1080p": pages, "1080p-dense": dense, "crop": crops, "two-column": columns, "low-contrast": faint}


class RapidDefault:
    """RapidOCR used as its README shows, for comparison."""

    def __init__(self, **params):
        from rapidocr import RapidOCR

        self._ocr = RapidOCR(params={"Global.log_level": "error", **params})

    def read(self, img: Image.Image) -> list[str]:
        out = self._ocr(to_bgr(img))
        return [t for t in (out.txts or ()) if t.strip()]


class Vlagent:
    def __init__(self, engine: RapidOcrEngine):
        self.engine = engine

    def read(self, img: Image.Image) -> list[str]:
        return [l.text for l in self.engine.recognize(img).lines]


def configurations(ablations: bool) -> dict:
    tuned = RapidOcrEngine()
    configs = {
        "rapidocr-default": RapidDefault(),
        "rapidocr-no-cls": RapidDefault(**{"Global.use_cls": False}),
        "vlagent": Vlagent(tuned),
    }
    if ablations:
        configs["vlagent det-full"] = Vlagent(tuned.variant(det_max_pixels=1920 * 1088))
        configs["vlagent whole-bands"] = Vlagent(tuned.variant(skip_empty=False))
        configs["vlagent pad-0"] = Vlagent(tuned.variant(crop_pad=0.0))
        configs["vlagent min-width-320"] = Vlagent(RapidOcrEngine(rec_min_width=320))
        configs["vlagent workers-1"] = Vlagent(RapidOcrEngine(threads=1))
    return configs


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def run_set(configs: dict, images: list, repeats: int) -> dict:
    names = list(configs)
    stats = {n: {"wall": [], "cpu": [], "cer": [], "cer_sorted": [], "found": 0, "drawn": 0} for n in names}
    for r in range(repeats):
        for _, img, truth in images:
            k = r % len(names)
            for name in names[k:] + names[:k]:  # rotate who goes first
                t, c = time.perf_counter(), time.process_time()
                lines = configs[name].read(img)
                st = stats[name]
                st["wall"].append((time.perf_counter() - t) * 1000)
                st["cpu"].append((time.process_time() - c) * 1000)
                if r == 0:  # the output is deterministic: score it once
                    st["cer"].append(cer("\n".join(truth), "\n".join(lines)))
                    st["cer_sorted"].append(cer_unordered(truth, lines))
                    st["found"] += len(lines)
                    st["drawn"] += len(truth)
    return stats


def print_table(title: str, stats: dict, images: list) -> None:
    size = images[0][1].size
    print(f"\n### {title} ({len(images)} images, e.g. {size[0]}×{size[1]})\n")
    print("| configuration | wall ms p50 | wall ms p95 | CPU ms p50 | CER (reading order) | CER (lines sorted) | lines found / drawn |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, st in stats.items():
        print(f"| {name} | {statistics.median(st['wall']):.0f} | {pct(st['wall'], 0.95):.0f} | "
              f"{statistics.median(st['cpu']):.0f} | {100 * np.mean(st['cer']):.2f}% | "
              f"{100 * np.mean(st['cer_sorted']):.2f}% | {st['found']} / {st['drawn']} |")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--sets", default="1080p,1080p-dense,crop,two-column,low-contrast")
    ap.add_argument("--ablations", action="store_true", help="also vlagent with one tuning undone at a time")
    ap.add_argument("--busy", type=int, default=0, metavar="N",
                    help="keep N cores busy with spinning processes while measuring (another program's load)")
    args = ap.parse_args(argv)

    sets = image_sets()
    wanted = [s.strip() for s in args.sets.split(",") if s.strip()]
    print(f"cores: {os.cpu_count()}, load average at start: {os.getloadavg()[0]:.1f} "
          f"(the machine may be shared: compare configurations within one table)")
    t = time.perf_counter()
    configs = configurations(args.ablations)
    warm = sets["1080p"][0][1]
    for c in configs.values():
        c.read(warm)  # load the models
    print(f"models loaded for {len(configs)} configurations in {time.perf_counter() - t:.1f} s")
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.busy)]
    if spinners:
        print(f"{len(spinners)} core(s) kept busy by other processes")
    try:
        for name in wanted:
            images = sets[name]
            print_table(name, run_set(configs, images, args.repeats), images)
    finally:
        for p in spinners:
            p.kill()
    print(f"\nload average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
