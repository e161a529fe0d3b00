"""Benchmarks of folder watching and the background agent.

    python bench/watch.py [--drops 10] [--files 10000] [--idle-s 30] [--only latency|backfill|burst|idle]

1. Drop → searchable latency for a 1080p screenshot through the real agent (watcher +
   inference worker + RapidOCR): p50/p95 of the total, split into the watcher's own share
   (file closed → event handled), the ingest pipeline (hash, decode, thumbnail, record,
   queue the OCR job) and the worker (OCR, storing, search doc).
2. Backfill of N new small images (ingest only, OCR off: hash, thumbnail, record): images/s
   and the peak RSS of a ``vlagent watch --once`` process; then the restart over the same
   N unchanged files: seconds.
3. A live burst of N files into a running ``vlagent watch`` (OCR off): peak RSS.
4. An idle ``vlagent watch`` (nothing to do, model never loaded): CPU % and RSS.

Timings on a shared machine are noisy: medians over repeats are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def pct(values, q):
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def env_for(home: Path) -> dict:
    env = dict(os.environ, VLAGENT_HOME=str(home), PYTHONPATH=str(REPO), HF_HUB_OFFLINE="1")
    return env


# --- 1. drop → searchable ---------------------------------------------------------------
def bench_latency(drops: int) -> None:
    from vlagent.home import Home
    from vlagent.index.search import search
    from vlagent.index.store import Index
    from vlagent.samples import screenshot_like
    from vlagent.settings import Settings
    from vlagent.worker import Agent

    tmp = Path(tempfile.mkdtemp(prefix="vlagent-bench-lat-"))
    home = Home(tmp / "home").ensure()
    settings = Settings.load(home.config_path)
    folder = tmp / "Screenshots"
    folder.mkdir()
    pngs = []
    for i in range(drops + 1):  # the first drop warms up (not counted)
        img, _ = screenshot_like(seed=100 + i)
        from PIL import ImageDraw

        from vlagent.samples import font
        d = ImageDraw.Draw(img)
        d.rectangle([1500, 40, 1900, 100], fill="white")
        d.text((1520, 50), f"marker{i:03d}zq", fill="black", font=font(28))
        p = tmp / f"src{i}.png"
        img.save(p)
        pngs.append(p.read_bytes())

    recorded: dict[str, tuple[float, float]] = {}  # path → (time recorded, ingest seconds)
    searchable: dict[int, float] = {}
    image_of: dict[str, int] = {}
    agent = Agent(home, settings, [str(folder)])
    agent.watcher.add_listener(on_outcome=lambda o: (recorded.__setitem__(o.path, (time.perf_counter(), o.ms / 1000)),
                                                     image_of.__setitem__(o.path, o.image_id)))
    agent.worker.add_listener(on_job=lambda r: r.ok and searchable.setdefault(r.job.image_id, time.perf_counter()))
    agent.start()
    assert agent.worker.wait_started(60)
    agent.watcher.wait_idle(30)
    rows = []
    try:
        for i, data in enumerate(pngs):
            dest = folder / f"Screenshot {i:03d}.png"
            with open(dest, "wb") as f:
                f.write(data)
            t_drop = time.perf_counter()  # the moment the writer closed the file
            end = time.monotonic() + 300
            while time.monotonic() < end:
                iid = image_of.get(str(dest))
                if iid is not None and iid in searchable:
                    break
                time.sleep(0.005)
            else:
                raise SystemExit(f"drop {i} was not searchable within 300 s")
            (t_rec, ingest), t_ok = recorded[str(dest)], searchable[image_of[str(dest)]]
            if i:
                rows.append((t_rec - ingest - t_drop, ingest, t_ok - t_rec, t_ok - t_drop))
        index = Index.open(home)
        found = sum(1 for i in range(1, len(pngs)) if search(index.conn, f"marker{i:03d}zq").hits)
        index.close()
    finally:
        agent.stop()
    watcher, ingest, ocr, total = zip(*rows)
    print(f"\n### Drop → searchable, 1920×1080 screenshot ({len(rows)} drops, after 1 warm-up)\n")
    print("| stage | p50 ms | p95 ms |\n|---|---|---|")
    for name, vals in (("watcher's own: file closed → event handled → ingest starts", watcher),
                       ("ingest pipeline: read + hash + decode + thumbnail + record + queue OCR", ingest),
                       ("worker: OCR + store result + search doc", ocr), ("total: drop → searchable", total)):
        print(f"| {name} | {pct(vals, .5) * 1000:.0f} | {pct(vals, .95) * 1000:.0f} |")
    print(f"\nfound by a search for the marker text: {found}/{len(rows)}")


# --- 2. backfill ------------------------------------------------------------------------
def make_files(folder: Path, n: int) -> None:
    from tests.watch.util import png_bytes

    folder.mkdir(parents=True, exist_ok=True)
    past = time.time() - 3600
    for i in range(n):
        sub = folder / f"d{i // 1000:02d}"
        sub.mkdir(exist_ok=True)
        p = sub / f"img{i:05d}.png"
        p.write_bytes(png_bytes(i, size=(64, 48)))
        os.utime(p, (past, past))


def run_once(home: Path, folder: Path) -> tuple[dict, float, float]:
    """``vlagent watch --once`` in a child: (summary, wall seconds, peak RSS MB sampled every 20 ms;
    the kernel's maxrss would count the benchmark's own memory, copied at fork)."""
    import psutil

    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "vlagent", "watch", "--once", "--json", str(folder)],
                            cwd=str(REPO), env=env_for(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak = 0
    ps = psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            peak = max(peak, ps.memory_info().rss)
        except psutil.Error:
            break
        time.sleep(0.02)
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"vlagent watch failed: {err.decode()[-2000:]}")
    return json.loads(out), wall, peak / 2**20


def timed_backfill(home: Path, folder: Path, **settings) -> tuple[float, dict]:
    """The watcher alone, in this process: start → backfill done."""
    from vlagent.home import Home
    from vlagent.settings import Settings
    from vlagent.watch import FolderWatcher

    h = Home(home)
    s = Settings.load(h.config_path)
    for key, value in settings.items():
        s.override(key, value)
    w = FolderWatcher(h, s, [str(folder)])
    t0 = time.perf_counter()
    w.start()
    assert w.wait_idle(3600)
    dt = time.perf_counter() - t0
    w.stop()
    return dt, dict(w.counts)


def bench_backfill(n: int, repeats: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="vlagent-bench-bf-"))
    folder = tmp / "photos"
    t0 = time.perf_counter()
    make_files(folder, n)
    print(f"\n(made {n} files in {time.perf_counter() - t0:.1f} s)")
    new_rates, new_rss, unchanged_s, catch_up_s, unchanged_ocr_s = [], [], [], [], []
    for r in range(repeats):
        home = tmp / f"home{r}"
        home.mkdir()
        (home / "config.toml").write_text("[ocr]\nenabled = false\n")
        summary, wall, rss = run_once(home, folder)
        assert summary["files"]["new"] == n, summary
        new_rates.append(n / summary["elapsed_s"])
        new_rss.append(rss)
        dt, counts = timed_backfill(home, folder)
        assert counts.get("unchanged") == n, counts
        unchanged_s.append(dt)
        # OCR switched on: the first restart queues the OCR job each image lacks, the next finds them queued
        catch_up_s.append(timed_backfill(home, folder, **{"ocr.enabled": True})[0])
        dt, counts = timed_backfill(home, folder, **{"ocr.enabled": True})
        assert counts.get("unchanged") == n, counts
        unchanged_ocr_s.append(dt)
    print(f"\n### Backfill, {n} small PNGs (64×48) in {n // 1000 or 1} folders, {repeats} runs\n")
    print("| case | median | best | worst |\n|---|---|---|---|")
    print(f"| new files, ingest only (hash + thumbnail + record + job), images/s | {statistics.median(new_rates):.0f}"
          f" | {max(new_rates):.0f} | {min(new_rates):.0f} |")
    print(f"| new files, peak RSS of `vlagent watch --once`, MB | {statistics.median(new_rss):.0f}"
          f" | {min(new_rss):.0f} | {max(new_rss):.0f} |")
    for label, vals in ((f"restart over {n} unchanged files (OCR off), s", unchanged_s),
                        (f"restart over {n} unchanged files, OCR on, jobs already queued, s", unchanged_ocr_s),
                        (f"restart that queues {n} missing OCR jobs, s", catch_up_s)):
        print(f"| {label} | {statistics.median(vals):.2f} | {min(vals):.2f} | {max(vals):.2f} |")


def bench_burst(n: int) -> None:
    """A running ``vlagent watch`` (OCR off) while N files are written into its folder."""
    import psutil

    from tests.watch.util import Db, png_bytes

    tmp = Path(tempfile.mkdtemp(prefix="vlagent-bench-burst-"))
    folder, home = tmp / "Inbox", tmp / "home"
    folder.mkdir()
    home.mkdir()
    (home / "config.toml").write_text("[ocr]\nenabled = false\n")
    proc = subprocess.Popen([sys.executable, "-m", "vlagent", "watch", "-q", str(folder)], cwd=str(REPO),
                            env=env_for(home), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ps = psutil.Process(proc.pid)
    db = Db(home / "index.db")
    peak = [0]
    stop = threading.Event()

    def sample():
        while not stop.wait(0.02):
            try:
                peak[0] = max(peak[0], ps.memory_info().rss)
            except psutil.Error:
                return

    try:
        while not (home / "index.db").exists():
            time.sleep(0.1)
        time.sleep(2)
        base = ps.memory_info().rss
        threading.Thread(target=sample, daemon=True).start()
        t0 = time.perf_counter()
        for i in range(n):
            (folder / f"burst{i:05d}.png").write_bytes(png_bytes(50_000 + i, size=(64, 48)))
        t_written = time.perf_counter() - t0
        while db.count("locations") < n:
            time.sleep(0.2)
        total = time.perf_counter() - t0
    finally:
        stop.set()
        proc.send_signal(2)
        proc.wait(120)
    print(f"\n### Live burst: {n} files written into a watched folder (OCR off)\n")
    print("| RSS before MB | peak RSS MB | writing took s | all indexed after s | files/s |\n|---|---|---|---|---|")
    print(f"| {base / 2**20:.0f} | {peak[0] / 2**20:.0f} | {t_written:.1f} | {total:.1f} | {n / total:.0f} |")


# --- 3. idle ------------------------------------------------------------------------------
def bench_idle(seconds: float) -> None:
    rows = [idle_run(1000, ocr=False, seconds=seconds), idle_run(20, ocr=True, seconds=seconds)]
    print(f"\n### Idle `vlagent watch` with nothing to do (model never loaded), {seconds:.0f} s each\n")
    print("| indexed images | OCR engine | CPU % (of one core) | RSS MB | threads |\n|---|---|---|---|---|")
    for n, ocr, cpu, rss, threads in rows:
        print(f"| {n} | {'loaded' if ocr else 'off'} | {cpu:.2f} | {rss:.0f} | {threads} |")


def idle_run(n: int, *, ocr: bool, seconds: float) -> tuple:
    import psutil

    tmp = Path(tempfile.mkdtemp(prefix="vlagent-bench-idle-"))
    folder = tmp / "Pictures"
    make_files(folder, n)
    home = tmp / "home"
    home.mkdir()
    if not ocr:
        (home / "config.toml").write_text("[ocr]\nenabled = false\n")
    # indexed (and OCR'd) beforehand: the agent then has nothing to do
    subprocess.run([sys.executable, "-m", "vlagent", "index", "-q", str(folder)], cwd=str(REPO),
                   env=env_for(home), check=True, capture_output=True)
    proc = subprocess.Popen([sys.executable, "-m", "vlagent", "watch", "-q", str(folder)], cwd=str(REPO),
                            env=env_for(home), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        p = psutil.Process(proc.pid)
        time.sleep(15)  # start-up: OCR warm-up and the backfill over unchanged files
        c0, t0 = p.cpu_times(), time.monotonic()
        time.sleep(seconds)
        c1, t1 = p.cpu_times(), time.monotonic()
        cpu = ((c1.user - c0.user) + (c1.system - c0.system)) / (t1 - t0) * 100
        rss = p.memory_info().rss / 2**20
        threads = p.num_threads()
    finally:
        proc.send_signal(2)
        proc.wait(60)
    return n, ocr, cpu, rss, threads


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--drops", type=int, default=10)
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--idle-s", type=float, default=30.0)
    ap.add_argument("--only", choices=["latency", "backfill", "burst", "idle"])
    args = ap.parse_args()
    print(f"# bench/watch.py — {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    if args.only in (None, "latency"):
        bench_latency(args.drops)
    if args.only in (None, "backfill"):
        bench_backfill(args.files, args.repeats)
    if args.only in (None, "burst"):
        bench_burst(args.files)
    if args.only in (None, "idle"):
        bench_idle(args.idle_s)


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    main()
