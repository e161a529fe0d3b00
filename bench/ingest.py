"""Ingest benchmark: images/s, peak RSS and per-stage cost of indexing generated images.

    python bench/ingest.py [--count 1000] [--folder DIR] [--repeats 3]

The images (half 1920x1080 screenshot-like PNG pages, half 3000x2000 JPEG photos) are
generated once and cached in ``--folder``. OCR is excluded: this measures vlagent's own
overhead per image (read, hash, decode, thumbnail, DB) — the goal is ≤ 30 ms.

Tables:
1. per stage, median / p95 ms per new image, from an in-process run;
1b. images/s with 1 and more worker threads (in process);
2. end to end through the CLI (``vlagent index --no-ocr``) in a subprocess: images/s
   and peak RSS, for the first index and for a rescan of the unchanged folder;
3. decode + thumbnail, full-size decode vs the reduced decode ingest uses (same images,
   same run), per format.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import ImageDraw  # noqa: E402

from vlagent.ingest.pipeline import default_threads  # noqa: E402
from vlagent.samples import photo_like, screenshot_like  # noqa: E402


def generate(folder: Path, count: int) -> list[Path]:
    """``count`` distinct files: a few base pictures, each copy stamped so its bytes differ."""
    marker = folder / f".complete-{count}"
    files = sorted(folder.glob("*.png")) + sorted(folder.glob("*.jpg"))
    if marker.exists() and len(files) == count:
        return files
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    rng = random.Random(0)
    pages = [screenshot_like(1920, 1080, lang=("en", "zh", "mixed")[i % 3], seed=i)[0] for i in range(6)]
    photos = [photo_like(3000, 2000, seed=100 + i) for i in range(6)]
    t0 = time.time()
    for i in range(count):
        base = (pages if i % 2 == 0 else photos)[i // 2 % 6].copy()
        d = ImageDraw.Draw(base)
        x, y = rng.randrange(base.width - 40), rng.randrange(base.height - 20)
        d.rectangle([x, y, x + 40, y + 20], fill=tuple(rng.randrange(256) for _ in range(3)))
        if i % 2 == 0:
            base.save(folder / f"page_{i:04d}.png", compress_level=6)
        else:
            base.save(folder / f"photo_{i:04d}.jpg", quality=90)
        if i % 100 == 99:
            print(f"  generated {i + 1}/{count} ({time.time() - t0:.0f}s)", file=sys.stderr)
    marker.touch()
    return sorted(folder.glob("*.png")) + sorted(folder.glob("*.jpg"))


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def stage_run(files: list[Path]) -> dict:
    """Index every file in-process (fresh home, no OCR); per-stage ms of each new image."""
    from vlagent.home import Home
    from vlagent.index.store import Index
    from vlagent.ingest.pipeline import NEW, Ingestor
    from vlagent.settings import Settings

    with tempfile.TemporaryDirectory(prefix="vlagent-bench-") as tmp:
        home = Home(Path(tmp)).ensure()
        settings = Settings(None)
        settings.override("ocr.enabled", False)
        index = Index.open(home)
        ing = Ingestor(index, settings, home)
        stages: dict[str, list[float]] = {}
        totals: dict[str, list[float]] = {"png": [], "jpg": []}
        cpu: dict[str, list[float]] = {"png": [], "jpg": []}
        t0 = time.perf_counter()
        for f in files:
            c0 = time.thread_time()
            out = ing.ingest_path(str(f))
            cpu[f.suffix[1:]].append((time.thread_time() - c0) * 1000)
            assert out.status == NEW, (f, out.status, out.error)
            for k, v in out.stages.items():
                stages.setdefault(k, []).append(v)
            totals[f.suffix[1:]].append(out.ms)
        wall = time.perf_counter() - t0
        index.close()
    return {"stages": stages, "totals": totals, "cpu": cpu, "wall": wall}


# Runs the CLI and reports its peak RSS. A small launcher, because a child forked from this
# (big) benchmark process would report the benchmark's own pages as its peak.
LAUNCH = """
import json, resource, subprocess, sys, time
t0 = time.perf_counter()
p = subprocess.run(sys.argv[1:], capture_output=True, text=True)
wall = time.perf_counter() - t0
if p.returncode:
    sys.exit(p.stderr)
print(json.dumps({"wall": wall, "peak_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
                  "summary": json.loads(p.stdout)}))
"""


def threaded_run(files: list[Path], threads: int) -> float:
    """images/s of ``Ingestor.ingest_paths`` with ``threads`` worker threads (fresh home, no OCR)."""
    from vlagent.home import Home
    from vlagent.index.store import Index
    from vlagent.ingest.pipeline import Ingestor
    from vlagent.settings import Settings

    with tempfile.TemporaryDirectory(prefix="vlagent-bench-") as tmp:
        home = Home(Path(tmp)).ensure()
        settings = Settings(None)
        settings.override("ocr.enabled", False)
        index = Index.open(home)
        t0 = time.perf_counter()
        outs = list(Ingestor(index, settings, home).ingest_paths([str(f) for f in files], threads=threads))
        wall = time.perf_counter() - t0
        index.close()
    assert all(o.status == "new" for o in outs)
    return len(files) / wall


def cli_run(files_dir: Path, home: Path) -> dict:
    """``vlagent index --no-ocr`` in a fresh process: wall time, summary and peak RSS (KiB)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), VLAGENT_HOME=str(home))
    proc = subprocess.run([sys.executable, "-c", LAUNCH, sys.executable, "-m", "vlagent", "index", str(files_dir),
                           "--no-ocr", "--json"], capture_output=True, text=True, env=env, check=True)
    return json.loads(proc.stdout)


def decode_compare(files: list[Path], per_format: int, thumb: int) -> dict[str, dict[str, list[float]]]:
    from vlagent.imaging.load import load_bytes
    from vlagent.imaging.thumbnails import make_thumbnail

    out: dict[str, dict[str, list[float]]] = {}
    import io

    for ext in ("png", "jpg"):
        sample = [f for f in files if f.suffix == "." + ext][:per_format]
        res = out.setdefault(ext, {"full": [], "reduced": []})
        for f in sample:
            data = f.read_bytes()
            for mode, reduce_to in (("full", None), ("reduced", thumb)):
                t0 = time.perf_counter()
                make_thumbnail(load_bytes(data, sha256="x", reduce_to=reduce_to).image, thumb).save(io.BytesIO(), "JPEG")
                res[mode].append((time.perf_counter() - t0) * 1000)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--folder", type=Path, default=Path(tempfile.gettempdir()) / "vlagent-bench-ingest")
    ap.add_argument("--repeats", type=int, default=3, help="CLI runs (each on a fresh home)")
    ap.add_argument("--compare", type=int, default=30, help="images per format for table 3")
    args = ap.parse_args()

    files = generate(args.folder, args.count)
    mb = sum(f.stat().st_size for f in files) / 1e6
    print(f"{len(files)} images ({mb:.0f} MB): {sum(f.suffix == '.png' for f in files)} PNG pages 1920x1080, "
          f"{sum(f.suffix == '.jpg' for f in files)} JPEG photos 3000x2000; {os.cpu_count()} CPUs "
          f"(shared machine: timings are noisy)\n")

    r = stage_run(files)
    n = len(files)
    print(f"1. per stage, in process (one run, {n} new images, {n / r['wall']:.1f} images/s)")
    print(f"{'stage':<12}{'median ms':>11}{'p95 ms':>9}")
    order = ["read", "hash", "decode", "thumbnail", "db"]
    for k in order:
        v = r["stages"].get(k, [])
        print(f"{k:<12}{statistics.median(v):>11.2f}{pct(v, 0.95):>9.2f}")
    for ext, label in (("png", "total PNG"), ("jpg", "total JPEG")):
        v = r["totals"][ext]
        print(f"{label:<12}{statistics.median(v):>11.2f}{pct(v, 0.95):>9.2f}")
    allv = r["totals"]["png"] + r["totals"]["jpg"]
    print(f"{'total all':<12}{statistics.median(allv):>11.2f}{pct(allv, 0.95):>9.2f}")
    for ext, label in (("png", "CPU PNG"), ("jpg", "CPU JPEG")):
        v = r["cpu"][ext]  # this thread's CPU time: what contention from other processes does not inflate
        print(f"{label:<12}{statistics.median(v):>11.2f}{pct(v, 0.95):>9.2f}")
    print()

    sample = files[: min(len(files), 200)]
    print(f"1b. worker threads for read/hash/decode/thumbnail ({len(sample)} images, fresh homes, "
          f"{args.repeats} runs each, median)")
    print(f"{'threads':<10}{'images/s':>10}")
    base = None
    for th in sorted({1, 2, default_threads()}):
        rate = statistics.median(threaded_run(sample, th) for _ in range(args.repeats))
        base = base or rate
        print(f"{th:<10}{rate:>10.1f}   x{rate / base:.2f}")
    print()

    print(f"2. CLI 'vlagent index --no-ocr' ({default_threads()} ingest threads), {args.repeats} runs on fresh "
          "homes (median; startup included)")
    first, rescan, peaks = [], [], []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory(prefix="vlagent-bench-home-") as h:
            a = cli_run(args.folder, Path(h))
            assert a["summary"]["new"] == n, a["summary"]
            b = cli_run(args.folder, Path(h))
            assert b["summary"]["unchanged"] == n, b["summary"]
            first.append(a["wall"])
            rescan.append(b["wall"])
            peaks.append(a["peak_kib"])
    print(f"{'run':<22}{'s':>8}{'images/s':>10}")
    print(f"{'first index':<22}{statistics.median(first):>8.2f}{n / statistics.median(first):>10.1f}")
    print(f"{'rescan (unchanged)':<22}{statistics.median(rescan):>8.2f}{n / statistics.median(rescan):>10.1f}")
    print(f"peak RSS of the CLI process: {max(peaks) / 1024:.0f} MiB\n")

    cmp = decode_compare(files, args.compare, 320)
    print(f"3. decode + 320 px thumbnail, {args.compare} images per format, same run (median ms)")
    print(f"{'format':<8}{'full decode':>13}{'reduced':>10}{'speed-up':>10}")
    for ext, label in (("png", "PNG"), ("jpg", "JPEG")):
        full, red = statistics.median(cmp[ext]["full"]), statistics.median(cmp[ext]["reduced"])
        print(f"{label:<8}{full:>13.1f}{red:>10.1f}{full / red:>9.1f}x")


if __name__ == "__main__":
    main()
