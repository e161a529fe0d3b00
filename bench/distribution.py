"""Packaging benchmark: wheel and sdist size and build time, install time of the wheel into a
fresh venv, and start-up time of ``vlagent --version`` / ``vlagent search`` from the checkout,
the installed wheel and the frozen app (when built: packaging/build-frozen.sh).

    python bench/distribution.py                  # 3 builds/installs, 7 start-ups each
    python bench/distribution.py --repeats 5 --frozen dist/vlagent/vlagent

Installs use --no-deps with the running interpreter's site-packages on the fresh venv's path
(a .pth line), so the install time is vlagent's own, not a download of torch. Start-up is
wall time of a new process, median and p95 over the repeats.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def timed(cmd: list[str], **kw) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)
    return time.perf_counter() - t0


def stats(values: list[float]) -> str:
    p95 = sorted(values)[max(0, round(0.95 * len(values)) - 1)]
    return f"{statistics.median(values):.3f} | {p95:.3f}"


def size(path: Path) -> int:
    return path.stat().st_size if path.is_file() else sum(
        p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())  # PyInstaller links libs


def mib(n: int) -> str:
    return f"{n / 2**20:,.1f} MiB"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=3, help="builds and installs")
    ap.add_argument("--starts", type=int, default=7, help="start-ups per launcher")
    ap.add_argument("--frozen", type=Path, default=REPO / "dist" / "vlagent" / "vlagent")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="vlagent-bench-pkg-"))
    builds = []
    for i in range(args.repeats):
        out = tmp / f"dist{i}"
        builds.append(timed([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(REPO)]))
    wheel, sdist = next(out.glob("*.whl")), next(out.glob("*.tar.gz"))

    installs, venv = [], None
    for i in range(args.repeats):
        venv = tmp / f"venv{i}"
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
        installs.append(timed([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
                               "--no-deps", "--no-index", "--disable-pip-version-check", "-q", str(wheel)]))
    purelib = subprocess.check_output([str(venv / "bin" / "python"), "-c",
                                       "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True).strip()
    Path(purelib, "_bench_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    home = tmp / "home"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"VLAGENT_HOME": str(home)}
    launchers = {"checkout (python -m vlagent)": [sys.executable, "-m", "vlagent"],
                 "wheel in a venv (bin/vlagent)": [str(venv / "bin" / "vlagent")]}
    if args.frozen.exists():
        launchers["frozen app"] = [str(args.frozen)]
    subprocess.run([*launchers["wheel in a venv (bin/vlagent)"], "search", "warm-up"], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    starts = {}
    for name, cmd in launchers.items():
        cwd = REPO if name.startswith("checkout") else tmp
        for what in ("--version", "search"):
            argv = [*cmd, what] if what == "--version" else [*cmd, "search", "nothing"]
            timed(argv, env=env, cwd=cwd)  # page cache warm
            starts[(name, what)] = [timed(argv, env=env, cwd=cwd) for _ in range(args.starts)]

    print(f"\npackaging (machine shared with other jobs; {args.repeats} builds/installs, {args.starts} start-ups)\n")
    print("| artifact | size |\n|---|---|")
    print(f"| wheel {wheel.name} | {mib(size(wheel))} |")
    print(f"| sdist {sdist.name} | {mib(size(sdist))} |")
    if args.frozen.exists():
        folder = args.frozen.parent
        files = sum(1 for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
        print(f"| frozen app {folder} | {mib(size(folder))} ({files:,} files) |")
    print("\n| step | median s | p95 s |\n|---|---|---|")
    print(f"| python -m build (sdist + wheel) | {stats(builds)} |")
    print(f"| pip install --no-deps wheel into a fresh venv | {stats(installs)} |")
    print("\n| launcher | command | median s | p95 s |\n|---|---|---|---|")
    for (name, what), values in starts.items():
        print(f"| {name} | {what if what == '--version' else 'search (empty index)'} | {stats(values)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
