"""Peak memory of reading one huge image: load it as the OCR job does, run OCR, report the
process's peak RSS (each run in a fresh subprocess, so nothing else counts).

    python bench/ocr_memory.py [--size 10000] [--pages 4] [--tree DIR ...]

The image is a real PNG of ``--size``² pixels: a light canvas with ``--pages`` generated
screenshot pages pasted along its diagonal (text to find, and empty stretches between).
``--tree`` runs the same measurement with another checkout's ``vlagent`` (e.g. one made with
``git archive HEAD | tar -x -C /tmp/head``) to compare before and after; ``.`` is this one.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from vlagent.imaging.load import load_path
from vlagent.ocr.rapid import RapidOcrEngine
engine = RapidOcrEngine()
engine.warm_up()
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
loaded = load_path(sys.argv[2])
loaded_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
result = engine.recognize(loaded.image)
print(json.dumps({"models_mb": base / 1024, "after_load_mb": loaded_rss / 1024,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "lines": len(result.lines), "s": time.perf_counter() - t,
                  "chunks": result.timings.get("chunks", 1)}))
"""


def make_png(path: Path, size: int, pages: int) -> list[str]:
    from PIL import Image

    from vlagent.samples import screenshot_like

    canvas = Image.new("RGB", (size, size), (246, 247, 249))
    truth: list[str] = []
    for i in range(pages):
        page, lines = screenshot_like(1920, 1080, lang="mixed", seed=40 + i)
        step = (size - 1920) // max(pages - 1, 1), (size - 1080) // max(pages - 1, 1)
        canvas.paste(page, (i * step[0], i * step[1]))
        truth += lines
    canvas.save(path, "PNG", compress_level=1)
    return truth


def measure(tree: Path, png: Path) -> dict:
    proc = subprocess.run([sys.executable, "-c", CHILD, str(tree), str(png)], capture_output=True, text=True,
                          cwd=tree, check=False)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=10000)
    ap.add_argument("--pages", type=int, default=4)
    ap.add_argument("--tree", action="append", default=[], help="checkout to measure (repeatable; default: this one)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        png = Path(tmp) / "huge.png"
        truth = make_png(png, args.size, args.pages)
        print(f"{args.size}x{args.size} PNG, {png.stat().st_size / 1e6:.1f} MB, {len(truth)} lines drawn")
        print(f"{'tree':40s} {'models MB':>9s} {'loaded MB':>9s} {'peak MB':>8s} {'lines':>6s} {'chunks':>6s} {'s':>6s}")
        for tree in args.tree or [str(ROOT)]:
            r = measure(Path(tree).resolve(), png)
            if "error" in r:
                print(f"{tree:40s} failed: {r['error']}")
                continue
            print(f"{tree:40s} {r['models_mb']:9.0f} {r['after_load_mb']:9.0f} {r['peak_mb']:8.0f} {r['lines']:6d} "
                  f"{r['chunks']:6d} {r['s']:6.1f}")


if __name__ == "__main__":
    main()
