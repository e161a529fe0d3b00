"""Icons read as CJK characters: precision and recall of one-character CJK readings on
desktop screenshots, with and without vlagent's icon filter (vlagent/ocr/filters.py).

    python bench/ocr_icons.py [--count 24] [--seed 100] [--sweep]

Screenshots come from ``vlagent.samples.desktop_screenshot``: a toolbar of icons (some
labelled with a word, some with one CJK character), a page of text, a taskbar with app and
tray icons, sometimes an input method's indicator (中 英 拼), one-character tabs and a dialog
with one-character buttons (是 否 好). Languages cycle en, en, mixed, zh.

A *reading* here is an OCR line that is one CJK character. It is real when its box covers a
drawn one-character label with that character, else it is noise (almost always an icon).

- precision: real readings / readings kept;
- recall: real readings kept / one-character labels drawn (some are read together with the
  icon beside them, "口文", in every configuration alike);
- kept: real readings kept / real readings without the filter (what the filter costs);
- noise in lines: CJK characters read from icons inside longer lines ("目 Save", "十印": an icon
  read together with its label), which this filter leaves.

``--sweep`` reads each screenshot once without the filter, gives every one-character reading
its second look, and prints precision and recall for a range of ``icon_min_score``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from vlagent.ocr.base import OcrLine  # noqa: E402
from vlagent.ocr.filters import icon_candidate, is_cjk_char  # noqa: E402
from vlagent.ocr.imageprep import to_bgr  # noqa: E402
from vlagent.ocr.rapid import RapidOcrEngine  # noqa: E402
from vlagent.samples import desktop_screenshot  # noqa: E402

LANGS = ("en", "en", "mixed", "zh")


def overlap(a, b) -> float:
    """Intersection over the smaller of two (x0, y0, x1, y1) boxes."""
    iw, ih = min(a[2], b[2]) - max(a[0], b[0]), min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    return iw * ih / min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))


def is_real(line: OcrLine, chars) -> bool:
    return any(ch == line.text and overlap(line.bounds, box) > 0.5 for ch, box in chars)


def noise_in_lines(lines: list[OcrLine], truth) -> int:
    """CJK characters in longer lines that share their box with an icon, and that no label
    drawn there has: icons read together with their label ("目 Save", "十印")."""
    stray = 0
    for line in lines:
        if len(line.text) < 2 or not any(overlap(line.bounds, box) > 0.3 for _, box in truth["icons"]):
            continue
        drawn = "".join(text for text, box in truth["chars"] + truth["words"] if overlap(line.bounds, box) > 0.5)
        stray += sum(1 for c in line.text if is_cjk_char(c) and c not in drawn)
    return stray


def score(readings: list[tuple[bool, bool]], drawn: int, real_without: int) -> str:
    """(real, kept) per reading → the table's columns."""
    kept = [real for real, keep in readings if keep]
    tp = sum(kept)
    return (f"{tp / max(len(kept), 1):9.3f} {tp / max(drawn, 1):7.3f} {tp / max(real_without, 1):6.3f} "
            f"{len(kept) - tp:6d}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=24)
    ap.add_argument("--seed", type=int, default=100, help="first screenshot's seed (the filter was tuned on 0-39)")
    ap.add_argument("--sweep", action="store_true")
    args = ap.parse_args()
    base = RapidOcrEngine()
    base.warm_up()
    off, on = base.variant(icon_filter=False), base.variant(icon_filter=True)
    drawn = 0
    results: dict[str, list[tuple[bool, bool]]] = {"off": [], "on": []}
    sweep: list[tuple[bool, OcrLine, tuple[str, float]]] = []
    in_lines = {"off": 0, "on": 0}
    ms = {"off": 0.0, "on": 0.0}
    for i in range(args.count):
        img, truth = desktop_screenshot(seed=args.seed + i, lang=LANGS[i % len(LANGS)])
        drawn += len(truth["chars"])
        for name, engine in (("off", off), ("on", on)) if not args.sweep else (("off", off),):
            t = time.perf_counter()
            lines = engine.recognize(img).lines
            ms[name] += (time.perf_counter() - t) * 1000
            in_lines[name] += noise_in_lines(lines, truth)
            results[name] += [(is_real(line, truth["chars"]), True) for line in lines if is_cjk_char(line.text)]
            if args.sweep:
                bgr = to_bgr(img)
                ocr = engine.pool.models()[0]
                sweep += [(is_real(line, truth["chars"]), line, engine._second_look(ocr, bgr, line))
                          for line in lines if is_cjk_char(line.text)]
        print(f"  screenshot {i + 1}/{args.count}", file=sys.stderr, end="\r")
    print(f"{args.count} screenshots (seeds {args.seed}-{args.seed + args.count - 1}), "
          f"{drawn} one-character labels drawn, {len(results['off'])} one-character readings without the filter")
    real_without = sum(real for real, _ in results["off"])
    print(f"{'':28s} {'precision':>9s} {'recall':>7s} {'kept':>6s} {'noise':>6s}  noise in lines  ms/screenshot")
    if not args.sweep:
        for name in ("off", "on"):
            label = "without the filter" if name == "off" else "with the filter (default)"
            print(f"{label:28s} {score(results[name], drawn, real_without)}  {in_lines[name]:14d}  {ms[name] / args.count:13.0f}")
        return
    print(f"{'without the filter':28s} {score(results['off'], drawn, real_without)}")
    cfg = base.config
    for min_score in (0.9, 0.95, 0.98, 0.99, 0.995, 0.999, 0.9999):
        for max_aspect in (1.4, 1.6, 2.0):
            readings = []
            for real, line, (text, again) in sweep:
                icon = icon_candidate(line, min_score=min_score, max_aspect=max_aspect) and \
                    (text != line.text or again < min_score)
                readings.append((real, not icon))
            mark = " (default)" if (min_score, max_aspect) == (cfg.icon_min_score, cfg.icon_max_aspect) else ""
            print(f"{f'min_score {min_score} aspect {max_aspect}{mark}':28s} {score(readings, drawn, real_without)}")
    print("second look of real readings, lowest:",
          np.round(sorted(again if text == line.text else 0.0 for real, line, (text, again) in sweep if real)[:5], 4))


if __name__ == "__main__":
    main()
