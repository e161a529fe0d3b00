"""Model pull throughput from a loopback hub (``vlagent.dev.fake_hub``), and what a resume saves.

Rows: ``vlagent model pull`` from the Hugging Face endpoints, huggingface_hub's own
``snapshot_download`` against the same server (the baseline), ``vlagent model pull --hub modelscope``,
and a pull interrupted (Ctrl-C) half-way through the big shard then run again: how many bytes
the second run transferred. Each command runs in a fresh process and a fresh folder.

    python bench/pull.py [--mb 256] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from vlagent.dev.fake_hub import FakeHub, Fault, Repo, checkpoint_files  # noqa: E402

ID = "Bench/Model-VL"
BIG = "model-00001-of-00002.safetensors"


def env(hub: FakeHub, tmp: Path) -> dict:
    e = dict(os.environ, HF_ENDPOINT=hub.url, MODELSCOPE_ENDPOINT=hub.url, HF_HUB_OFFLINE="0",
             VLAGENT_HOME=str(tmp / "home"), HF_HUB_CACHE=str(tmp / "hf"), MODELSCOPE_CACHE=str(tmp / "ms"),
             PYTHONPATH=str(REPO), HF_HUB_DISABLE_PROGRESS_BARS="1")
    return e


def timed(cmd: list[str], e: dict) -> float:
    t0 = time.perf_counter()
    r = subprocess.run(cmd, env=e, capture_output=True, text=True, cwd=REPO)
    if r.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{r.stderr}")
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=256, help="size of the big shard")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    files = checkpoint_files(big_shard_bytes=args.mb * 1024 * 1024)
    total = sum(len(v) for k, v in files.items() if not k.endswith((".bin", ".gguf", ".md")) and "/" not in k)
    py = sys.executable
    runs = {
        "vlagent model pull (huggingface)": [py, "-m", "vlagent", "model", "pull", ID, "-q"],
        "huggingface_hub snapshot_download (baseline)": [
            py, "-c", f"from huggingface_hub import snapshot_download as s; s({ID!r}, allow_patterns=['*.json', "
                      f"'*.safetensors', '*.txt'])"],
        "vlagent model pull --hub modelscope": [py, "-m", "vlagent", "model", "pull", ID, "--hub", "modelscope", "-q"],
    }
    print(f"payload {total / 2**20:.0f} MB (big shard {args.mb} MB), {args.repeats} repeats, wall time incl. "
          f"process start; {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}\n")
    print(f"{'what':<46} {'median s':>9} {'p95 s':>7} {'MB/s':>7}")
    baseline = None
    with FakeHub({ID: Repo(files)}, chunk=1024 * 1024) as hub:
        for label, cmd in runs.items():
            times = []
            for _ in range(args.repeats):
                with tempfile.TemporaryDirectory() as tmp:
                    times.append(timed(cmd, env(hub, Path(tmp))))
            med = statistics.median(times)
            p95 = sorted(times)[min(len(times) - 1, int(0.95 * len(times)))]
            baseline = med if "baseline" in label else baseline
            print(f"{label:<46} {med:>9.2f} {p95:>7.2f} {total / 2**20 / med:>7.0f}")

        with tempfile.TemporaryDirectory() as tmp:
            e = env(hub, Path(tmp))
            stall = threading.Event()
            hub.faults[BIG] = Fault(after=len(files[BIG]) // 2, stall=stall)
            hub.sent.clear()
            proc = subprocess.Popen(runs["vlagent model pull (huggingface)"], env=e, cwd=REPO,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            while hub.sent.get(BIG, 0) < len(files[BIG]) // 2:
                time.sleep(0.05)
            time.sleep(0.5)
            proc.send_signal(signal.SIGINT)
            proc.wait()
            stall.set()
            first = hub.sent.get(BIG, 0)
            hub.sent.clear()
            timed(runs["vlagent model pull (huggingface)"], e)
            second = hub.sent.get(BIG, 0)
            manifest = json.loads((Path(tmp) / "home" / "models" / "Bench--Model-VL" / ".vlagent-model.json")
                                  .read_text())
    print(f"\ninterrupted at {first / 2**20:.0f} MB of the {args.mb} MB shard (Ctrl-C), then pulled again: "
          f"second run transferred {second / 2**20:.0f} MB of it ({second / len(files[BIG]):.0%}); "
          f"complete={manifest['complete']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
