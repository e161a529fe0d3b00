"""Desktop app benchmarks: launch to tray visible, search-as-you-type latency at 100k images,
GUI event-loop stall while the model loads, idle CPU and memory.

    python bench/gui.py                       # everything
    python bench/gui.py --only launch,idle --repeats 5

- launch: ``vlagent gui --background`` as a new process under Xvfb with a real tray host
  (trayer); the clock stops when the tray icon's window is embedded in the tray (polled
  through the X server every 5 ms).
- search: the real search window (offscreen Qt) over a synthetic 100k-image index (built by
  bench/search.py's generator into .bench-data/ when missing); each query is typed one key
  every 120 ms (Chinese arrives as input-method commits); latency runs from the last key to
  the result list painted. The reader thread's own time (search + reading the page) is
  reported beside it.
- stall: a 5 ms timer on the GUI thread measures how late it fires while the worker loads a
  model (the tiny test checkpoint, and a bigger random one) and answers a question.
- idle: the app with its worker, model unloaded, nothing to do: CPU % over 30 s and RSS.

The machine is shared with other jobs: medians over repeats, read them as rough figures.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

QUERIES = ["invoice", "connection refused", "password", "meeting notes", "小狗", "数据库", "发票 金额", "截图"]
KEY_INTERVAL_S = 0.12


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


# --- an X server with a tray ----------------------------------------------------------------
class TrayDesktop:
    """Xvfb plus trayer (a system tray host), for a real tray icon."""

    def __init__(self):
        for n in range(150, 400):
            if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
                break
        self.display = f":{n}"
        self.procs = [subprocess.Popen(["Xvfb", self.display, "-screen", "0", "1600x900x24", "-nolisten", "tcp"],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
        deadline = time.monotonic() + 10
        while not Path(f"/tmp/.X11-unix/X{n}").exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        self.procs.append(subprocess.Popen(
            ["trayer", "--edge", "top", "--align", "right", "--widthtype", "request", "--height", "28",
             "--transparent", "false", "--tint", "0x2b2b2b"], env=self.env(),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(1.0)

    def env(self, **extra) -> dict:
        env = dict(os.environ, DISPLAY=self.display, QT_QPA_PLATFORM="xcb", XDG_SESSION_TYPE="x11")
        env.pop("WAYLAND_DISPLAY", None)
        env.update({k: str(v) for k, v in extra.items()})
        return env

    def tray_icon_embedded(self, name: str = "vlagent") -> bool:
        """Whether a window of class ``name`` is mapped inside the tray."""
        from Xlib import display as xdisplay

        d = xdisplay.Display(self.display)
        try:
            def walk(win, in_tray: bool) -> bool:
                for child in win.query_tree().children:
                    try:
                        cls = child.get_wm_class() or ()
                        mapped = child.get_attributes().map_state == 2
                    except Exception:  # a window that went away meanwhile
                        continue
                    tray = in_tray or "trayer" in cls
                    if tray and name in cls and mapped:  # Qt's tray icon window, embedded and shown
                        return True
                    if walk(child, tray):
                        return True
                return False

            return walk(d.screen().root, False)
        finally:
            d.close()

    def stop(self) -> None:
        for p in reversed(self.procs):
            p.terminate()
            p.wait(5)


def start_app(desktop: TrayDesktop, home: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "vlagent", "--home", str(home), "gui", "--background", *extra],
                            cwd=REPO, env=desktop.env(PYTHONPATH=str(REPO)), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def stop_app(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()


def wait_tray(desktop: TrayDesktop, proc: subprocess.Popen, timeout: float = 120) -> float:
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited: {proc.stderr.read().decode()[-2000:]}")
        if desktop.tray_icon_embedded():
            return time.perf_counter() - t0
        time.sleep(0.005)
    raise TimeoutError("the tray icon never appeared")


# --- launch ---------------------------------------------------------------------------------
def bench_launch(desktop: TrayDesktop, repeats: int) -> list[tuple[str, list[float]]]:
    rows = []
    for label, extra in (("with the worker", ()), ("search only (--no-worker)", ("--no-worker",))):
        times = []
        for _ in range(repeats):
            with tempfile.TemporaryDirectory() as tmp:
                t0 = time.perf_counter()
                proc = start_app(desktop, Path(tmp), *extra)
                try:
                    wait_tray(desktop, proc)
                    times.append(time.perf_counter() - t0)
                finally:
                    stop_app(proc)
        rows.append((label, times))
    return rows


# --- search as you type ----------------------------------------------------------------------
def corpus(n: int) -> Path:
    """bench/search.py's synthetic corpus of ``n`` images (generated when missing)."""
    import search as search_bench  # bench/search.py

    data = REPO / ".bench-data"
    data.mkdir(exist_ok=True)
    path = data / f"search-{n}-v{search_bench.GEN_VERSION}-{search_bench.shape_hash()}.db"
    if not path.exists():
        print(f"generating {n:,} images into {path} …", file=sys.stderr)
        search_bench.build(path, n, os.cpu_count() or 2)
    return path


def type_query(window, text: str) -> float:
    """Type ``text`` into the search box like a person; returns the time of the last key."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QInputMethodEvent
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    edit = window.query_edit
    edit.selectAll()
    QTest.keyClick(edit, Qt.Key.Key_Backspace)
    last = 0.0
    for ch in text:
        deadline = time.perf_counter() + KEY_INTERVAL_S
        while time.perf_counter() < deadline:
            QApplication.processEvents()
            time.sleep(0.002)
        if ch.isascii():
            QTest.keyClick(edit, ch)
        else:
            event = QInputMethodEvent()
            event.setCommitString(ch)
            QApplication.sendEvent(edit, event)
        last = time.perf_counter()
    return last


def bench_search(n: int, repeats: int) -> dict:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from vlagent.gui.backend import Backend
    from vlagent.gui.search_window import SearchWindow
    from vlagent.home import Home
    from vlagent.settings import Settings

    source = corpus(n)
    app = QApplication.instance() or QApplication(["vlagent-bench"])
    with tempfile.TemporaryDirectory() as tmp:
        home = Home(Path(tmp) / "home").ensure()
        home.db_path.symlink_to(source)  # read only: the search window never writes
        backend = Backend(home, Settings())
        window = SearchWindow(backend)
        window.resize(1240, 780)
        window.show()
        painted: dict = {}

        def shown(page):
            window.results_view.viewport().repaint()  # paint now, synchronously
            painted[page.query] = (time.perf_counter(), page)

        window.results_shown.connect(shown)
        latency, reader = {q: [] for q in QUERIES}, {q: [] for q in QUERIES}
        for rep in range(repeats + 1):  # the first round warms the caches
            for q in QUERIES:
                painted.clear()
                last = type_query(window, q)
                deadline = time.perf_counter() + 10
                while q not in painted and time.perf_counter() < deadline:
                    app.processEvents()
                    time.sleep(0.0005)
                if q not in painted:
                    raise TimeoutError(f"no results for {q!r}")
                t, page = painted[q]
                if rep:
                    latency[q].append((t - last) * 1000)
                    reader[q].append(page.fetch_ms)
        window.close()
        backend.stop()
    return {"latency": latency, "reader": reader}


# --- event-loop stall while the model loads --------------------------------------------------
def bench_stall(model_dirs: list[tuple[str, Path]]) -> list[tuple]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from vlagent.gui.agent_bridge import AgentBridge
    from vlagent.home import Home
    from vlagent.settings import Settings

    app = QApplication.instance() or QApplication(["vlagent-bench"])
    rows = []
    for label, model_dir in model_dirs:
        with tempfile.TemporaryDirectory() as tmp:
            home = Home(Path(tmp) / "home").ensure()
            settings = Settings.load(home.config_path)
            settings.set("vlm.model", str(model_dir))
            settings.set("vlm.cpu_quantize", False)
            lateness: list[float] = []
            expected = [time.perf_counter()]
            timer = QTimer(interval=5)

            def tick():
                now = time.perf_counter()
                lateness.append(max(0.0, (now - expected[0]) * 1000 - 5))
                expected[0] = now

            timer.timeout.connect(tick)
            bridge = AgentBridge(home, settings)
            bridge.start()
            timer.start()

            def pump(seconds):
                end = time.perf_counter() + seconds
                while time.perf_counter() < end:
                    app.processEvents()
                    time.sleep(0.001)

            def run_until(cond, what, timeout=600):
                end = time.perf_counter() + timeout
                while not cond():
                    if time.perf_counter() > end:
                        raise SystemExit(f"{label}: gave up after {timeout} s waiting for {what}")
                    app.processEvents()
                    time.sleep(0.001)

            states = []
            bridge.status_changed.connect(lambda st: states.append(st.state))
            run_until(lambda: bridge.running and "idle" in states, "the worker to start")  # OCR warmed up
            lateness.clear()
            pump(2.0)
            baseline = max(lateness) if lateness else 0.0
            lateness.clear()
            t0 = time.perf_counter()
            bridge.preload_model()
            run_until(lambda: bridge.worker.engine is not None and bridge.worker.engine.loaded, "the model to load")
            load_s = time.perf_counter() - t0
            during = list(lateness)
            timer.stop()
            bridge.stop()
            rows.append((label, load_s, max(during, default=0.0), pct(during, 99),
                         sum(x > 100 for x in during), baseline))
    return rows


# --- idle -----------------------------------------------------------------------------------
def bench_idle(desktop: TrayDesktop, repeats: int, window_s: float = 30.0) -> list[tuple[float, float]]:
    import psutil

    out = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            proc = start_app(desktop, Path(tmp))
            try:
                wait_tray(desktop, proc)
                time.sleep(10)  # the worker warms its OCR engine at start
                p = psutil.Process(proc.pid)
                c0 = p.cpu_times()
                time.sleep(window_s)
                c1 = p.cpu_times()
                cpu = (c1.user + c1.system - c0.user - c0.system) / window_s * 100
                out.append((cpu, p.memory_info().rss / 2**20))
            finally:
                stop_app(proc)
    return out


def tiny_models(tmp: Path) -> list[tuple[str, Path]]:
    from vlagent.dev import tiny_model

    out = [("tiny test checkpoint", tiny_model.build(tmp / "tiny"))]
    big = os.environ.get("VLAGENT_BENCH_BIG_MODEL")
    if big:
        out.append((f"random checkpoint {Path(big).name}", Path(big)))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default="launch,search,stall,idle")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--images", type=int, default=100_000)
    args = ap.parse_args()
    only = set(args.only.split(","))
    desktop = TrayDesktop() if only & {"launch", "idle"} else None
    try:
        if "launch" in only:
            print(f"\nlaunch to tray visible, s ({args.repeats} runs, Xvfb + trayer, fresh data home)\n")
            print("| app | median | min | max |\n|---|---|---|---|")
            for label, times in bench_launch(desktop, args.repeats):
                print(f"| {label} | {statistics.median(times):.2f} | {min(times):.2f} | {max(times):.2f} |")
        if "search" in only:
            res = bench_search(args.images, args.repeats)
            lat, rd = res["latency"], res["reader"]
            print(f"\nsearch as you type at {args.images:,} images, ms ({args.repeats} runs per query; "
                  f"keystroke → results painted includes the {60} ms debounce)\n")
            print("| query | keystroke → painted p50 | p95 | reader thread (search + page) p50 | p95 |")
            print("|---|---|---|---|---|")
            for q in QUERIES:
                print(f"| {q} | {pct(lat[q], 50):.0f} | {pct(lat[q], 95):.0f} | {pct(rd[q], 50):.1f} |"
                      f" {pct(rd[q], 95):.1f} |")
            all_lat = [x for v in lat.values() for x in v]
            all_rd = [x for v in rd.values() for x in v]
            print(f"| **all** | {pct(all_lat, 50):.0f} | {pct(all_lat, 95):.0f} | {pct(all_rd, 50):.1f} |"
                  f" {pct(all_rd, 95):.1f} |")
        if "stall" in only:
            with tempfile.TemporaryDirectory() as tmp:
                rows = bench_stall(tiny_models(Path(tmp)))
            print("\nGUI event loop while the worker loads the model (a 5 ms timer's lateness)\n")
            print("| model | load s | max ms | p99 ms | ticks > 100 ms | max ms, idle |\n|---|---|---|---|---|---|")
            for label, load_s, stall, p99, long_ticks, base in rows:
                print(f"| {label} | {load_s:.2f} | {stall:.0f} | {p99:.0f} | {long_ticks} | {base:.0f} |")
        if "idle" in only:
            runs = bench_idle(desktop, max(1, args.repeats // 2))
            print("\nidle, model unloaded, nothing queued (30 s window after start-up)\n")
            print("| run | CPU % | RSS MB |\n|---|---|---|")
            for i, (cpu, rss) in enumerate(runs, 1):
                print(f"| {i} | {cpu:.2f} | {rss:.0f} |")
    finally:
        if desktop is not None:
            desktop.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
