"""Batch captioning throughput on the tiny checkpoint: the Daft UDF on the native runner, on a
local Ray cluster with 1 and 2 actors, and the plain describe loop (one image per call, as
``vlagent describe`` does), over the same generated images. Prints a table.

    python bench/batch.py [--rows 48] [--tokens 8]

Each mode runs in its own process (Daft's runner is chosen once per process), twice: over all
rows and over the first few, so start-up (imports, Ray, actors, the engine load) cancels out:
- marginal ms/row = (wall(all) − wall(few)) / (all − few): what one more row costs;
- model ms/row: the engine's own time per image (preprocess, vision, prefill, decode), as it reports;
- overhead ms/row = marginal − model / actors: reading the image, Daft or Ray plumbing, result
  conversion and the parts, per row.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

COMMON = dict(max_caption_length=8, batch_size=4, dtype="float32", language="en",
              extra_settings={"vlm.cpu_quantize": False, "vlm.max_pixels": 128 * 28 * 28})


def make_inputs(folder: Path, rows: int) -> list[str]:
    from vlagent.samples import screenshot_like

    paths = []
    for i in range(rows):
        p = folder / f"s{i:03d}.png"
        if not p.exists():
            screenshot_like(640, 400, seed=i)[0].save(p)
        paths.append(str(p))
    return paths


def run_mode(mode: str, model: str, paths: list[str], tokens: int, work: Path) -> dict:
    """In this process: one mode over ``paths``; returns timings."""
    params = dict(COMMON, model_path=model, max_caption_length=tokens, home=str(work / "home"))
    t0 = time.perf_counter()
    ray_ms = 0.0
    if mode == "loop":
        from vlagent.batch import BatchDescriber

        d = BatchDescriber(**params)
        rows = [d.describe([p])[0] for p in paths]
        results = [r.as_dict() for r in rows]
    else:
        from vlagent.batch.params import BatchParams
        from vlagent.batch.run import BatchSpec, run_batch

        actors = {"native": 1, "ray-1": 1, "ray-2": 2}[mode]
        if mode.startswith("ray"):
            import ray

            t_r = time.perf_counter()
            ray.init(num_cpus=os.cpu_count() or 2, include_dashboard=False, log_to_driver=False)
            ray_ms = (time.perf_counter() - t_r) * 1000
        lst = work / "list.txt"
        lst.write_text("\n".join(paths) + "\n")
        out = work / f"out-{mode}.parquet"
        spec = BatchSpec(input=str(lst), output=str(out), params=BatchParams.from_kwargs(**params),
                         runner="ray" if mode.startswith("ray") else "native", actors=actors, part_rows=16,
                         restart=True)
        run_batch(spec)
        import pyarrow.parquet as pq

        results = pq.read_table(out).to_pylist()
        if mode.startswith("ray"):
            import ray

            ray.shutdown()
    wall_ms = (time.perf_counter() - t0) * 1000
    ok = [r for r in results if not r["error"]]
    timings = [json.loads(r["timings"]) for r in ok]
    load_ms = max((t.get("load_ms") or 0.0) for t in timings) if timings else 0.0
    model_ms = statistics.fmean(r["total_ms"] for r in ok)
    return {"mode": mode, "rows": len(results), "errors": len(results) - len(ok), "wall_ms": wall_ms,
            "engine_load_ms": load_ms, "ray_start_ms": ray_ms, "model_ms": model_ms}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=48)
    ap.add_argument("--few", type=int, default=8, help="rows of the short run that measures start-up")
    ap.add_argument("--tokens", type=int, default=8)
    ap.add_argument("--modes", default="loop,native,ray-1,ray-2")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--work", help=argparse.SUPPRESS)
    ap.add_argument("--model", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        work = Path(args.work)
        paths = make_inputs(work / "imgs", args.rows)
        print("RESULT " + json.dumps(run_mode(args.child, args.model, paths, args.tokens, work)), flush=True)
        return
    from vlagent.dev.tiny_model import build

    with tempfile.TemporaryDirectory(prefix="vlagent-bench-batch-") as tmp:
        work = Path(tmp)
        model = build(work / "tiny", "qwen2_5_vl")
        (work / "imgs").mkdir()
        make_inputs(work / "imgs", args.rows)
        results: dict[tuple[str, int], dict] = {}
        for mode in args.modes.split(","):
            for n in (args.few, args.rows):
                proc = subprocess.run([sys.executable, __file__, "--child", mode, "--work", tmp, "--model", str(model),
                                       "--rows", str(n), "--tokens", str(args.tokens)],
                                      capture_output=True, text=True, timeout=1800)
                line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
                if not line:
                    print(f"{mode}: failed\n{proc.stderr[-2000:]}", file=sys.stderr)
                    continue
                results[(mode, n)] = json.loads(line[0][7:])
    load = os.getloadavg()[0]
    print(f"\nbatch captioning, tiny Qwen2.5-VL, {args.rows} screenshots 640x400, {args.tokens} new tokens, "
          f"batch 4; {os.cpu_count()} cores, load {load:.2f}\n")
    print("| mode | rows/s | wall s | start-up s | marginal ms/row | model ms/row | overhead ms/row |")
    print("|---|---|---|---|---|---|---|")
    for mode in args.modes.split(","):
        big, few = results.get((mode, args.rows)), results.get((mode, args.few))
        if not big or not few:
            continue
        actors = 2 if mode == "ray-2" else 1
        marginal = (big["wall_ms"] - few["wall_ms"]) / (args.rows - args.few)
        startup = few["wall_ms"] - marginal * args.few
        overhead = marginal - big["model_ms"] / actors
        print(f"| {mode} | {big['rows'] / (big['wall_ms'] / 1000):.2f} | {big['wall_ms'] / 1000:.1f} | "
              f"{startup / 1000:.1f} | {marginal:.1f} | {big['model_ms']:.1f} | {overhead:.1f} |")

if __name__ == "__main__":
    main()
