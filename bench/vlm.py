"""Benchmarks of the Qwen-VL engine. Prints tables; numbers are for the machine it runs on.

    python bench/vlm.py tiny               # stage breakdown on a tiny model, batch 1 and 8; visual tokens
    python bench/vlm.py real               # a real model's shape (random weights): s/image, peak RSS
    python bench/vlm.py real --like Qwen/Qwen3-VL-2B-Instruct --configs naive,default
    python bench/vlm.py gemm               # float32 / bfloat16 / int8 matmul speed on this CPU

``real`` builds the random checkpoint once under ``.bench-data/`` (git-ignored; ~7.5 GB for
the 3B) and runs the configurations that share a load in one process, one after another
(smallest first, so each peak RSS covers that run and the smaller ones before it). Speed
does not depend on weight values, so a random checkpoint runs at the real model's speed;
what it writes is noise.
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

QWEN_DEFAULT_MAX_PIXELS = 16384 * 28 * 28  # the processor's own default: 12.8 MP
DEFAULT_MAX_PIXELS = 1024 * 28 * 28  # vlagent's vlm.max_pixels

# Configurations that share a load run in one process, one after another (a 3B model takes
# minutes to load): name → (group, settings for the run, what it trades).
FP32 = {"vlm.dtype": "float32", "vlm.cpu_quantize": False}
CONFIGS: dict[str, tuple[str, dict, str]] = {
    "fp32-capped": ("fp32", {"vlm.max_pixels": DEFAULT_MAX_PIXELS},
                    "float32 at vlagent's pixel cap (1024 visual tokens): less detail on big images"),
    "naive": ("fp32", {"vlm.max_pixels": QWEN_DEFAULT_MAX_PIXELS},
              "the plain transformers run: float32, the processor's default pixels"),
    "int8-512": ("default", {"vlm.max_pixels": 512 * 28 * 28},
                 "defaults with a 512-token cap: 18 px text shrinks to ~7 px, transcription suffers"),
    "default": ("default", {}, "vlagent's defaults: auto dtype, int8 language model, 1024-token pixel cap, "
                               "all cores but one"),
    "default-all-cores": ("default", {"vlm.threads": os.cpu_count() or 2},
                          "defaults with a torch thread on every core (vlagent leaves one core free)"),
    "int8-full-pixels": ("default", {"vlm.max_pixels": QWEN_DEFAULT_MAX_PIXELS},
                         "int8 language model with all the pixels"),
}
GROUPS = {"default": {}, "fp32": FP32}  # settings fixed at load time

def median(xs):
    return statistics.median(xs) if xs else float("nan")


def settings_with(overrides: dict):
    from vlagent.settings import Settings

    s = Settings(None)
    for k, v in overrides.items():
        s.override(k, v)
    return s


def screenshot_png(folder: Path, size=(1920, 1080), seed=0, level: int | None = None) -> Path:
    """A screenshot-like PNG, saved as vlagent's capture saves them (or at ``level``)."""
    from vlagent.capture.flow import PNG_COMPRESS_LEVEL
    from vlagent.samples import screenshot_like

    level = PNG_COMPRESS_LEVEL if level is None else level
    p = folder / f"shot_{size[0]}x{size[1]}_{seed}_z{level}.png"
    if not p.exists():
        screenshot_like(*size, seed=seed)[0].save(p, compress_level=level)
    return p


def table(headers: list[str], rows: list[list]) -> str:
    cells = [[str(h) for h in headers]] + [[f"{c:.1f}" if isinstance(c, float) else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"  # noqa: E731
    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(cells[0]), rule] + [line(r) for r in cells[1:]])


# --- tiny: where the time goes outside and inside the model ---------------------------
def bench_tiny(args) -> None:
    import torch
    from qwen_vl_utils import smart_resize

    from vlagent.dev.tiny_model import build
    from vlagent.imaging.load import load_path
    from vlagent.vlm import GenerationOptions
    from vlagent.vlm.prompts import DESCRIBE
    from vlagent.vlm.transformers_backend import TransformersEngine

    tmp = Path(tempfile.mkdtemp(prefix="vlm-bench-"))
    model_dir = build(tmp / "tiny", "qwen2_5_vl")
    pngs = [screenshot_png(tmp, seed=i) for i in range(8)]
    other_pngs = [screenshot_png(tmp, seed=i, level=6) for i in range(8)]  # PIL's default level
    engine = TransformersEngine(settings_with({"vlm.model": str(model_dir)}))
    opts = GenerationOptions(max_new_tokens=args.tokens, min_new_tokens=args.tokens)
    engine.load()
    print(f"tiny qwen2_5_vl, vlagent defaults ({engine.placement.dtype}, int8={engine.placement.quantize}), "
          f"1920x1080 screenshots, {args.tokens} new tokens, torch threads {torch.get_num_threads()}\n")

    rows = []
    for batch in (1, 8):
        engine.settings.override("vlm.batch_size", batch)
        per = {k: [] for k in ("png", "png6", "resize", "processor", "vision", "prefill", "decode_tps", "post", "total")}
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            for p in other_pngs[:batch]:
                load_path(p)
            per["png6"].append((time.perf_counter() - t0) * 1000 / batch)
            t0 = time.perf_counter()
            imgs = [load_path(p).image for p in pngs[:batch]]
            png_ms = (time.perf_counter() - t0) * 1000 / batch
            gens = engine.describe(imgs, DESCRIBE["en"], opts)
            t = gens[0].timings
            n = t["batch_size"]
            per["png"].append(png_ms)
            per["resize"].append(t["resize_ms"] / n)
            per["processor"].append(t["processor_ms"] / n)
            per["vision"].append(t["vision_ms"] / n)
            per["prefill"].append((t["prefill_ms"] - t["vision_ms"]) / n)
            per["decode_tps"].append(t["decode_tokens_per_s"] * n)  # tokens/s summed over the batch rows
            per["post"].append(t["postprocess_ms"] / n)
            per["total"].append(png_ms + t["total_ms"])
        m = {k: median(v) for k, v in per.items()}
        overhead = m["png"] + m["resize"] + m["processor"] + m["post"]
        rows.append([batch, m["png"], m["png6"], m["resize"], m["processor"], m["vision"], m["prefill"],
                     m["decode_tps"], overhead, m["total"]])
    print(table(["batch", "PNG decode ms/img", "(PNG at level 6)", "resize ms/img", "processor ms/img", "vision ms/img",
                 "LM prefill ms/img", "decode tok/s (all rows)", "overhead outside model ms/img", "total ms/img"],
                rows))
    print(f"\nmedians of {args.repeats} runs; overhead = PNG decode (as vlagent's capture saves them) + resize + "
          f"processor (vlm/preprocess.py) + detokenise; PNGs from other apps at zlib level 6 decode slower\n")

    rows = []
    for name, w, h in (("720p", 1280, 720), ("1080p", 1920, 1080), ("1440p", 2560, 1440), ("4K", 3840, 2160)):
        row = [name]
        for factor, max_pixels in ((28, DEFAULT_MAX_PIXELS), (32, DEFAULT_MAX_PIXELS), (28, QWEN_DEFAULT_MAX_PIXELS)):
            rh, rw = smart_resize(h, w, factor=factor, min_pixels=4 * 28 * 28, max_pixels=max_pixels)
            row.append(f"{(rh // factor) * (rw // factor)} ({rw}x{rh})")
        rows.append(row)
    engine.settings.override("vlm.batch_size", 1)
    measured = engine.describe([load_path(pngs[0]).image], "x", GenerationOptions(max_new_tokens=1))[0]
    print(table(["screen", "Qwen2/2.5-VL at vlagent default (1024·28² px)", "Qwen3-VL at vlagent default",
                 "Qwen2.5-VL at the processor default (12.8 MP)"], rows))
    print(f"\n(engine check, 1080p on the tiny Qwen2.5-VL: {measured.timings['visual_tokens']} visual tokens, "
          f"{measured.timings['image_sizes'][0]})")
    engine.unload()


# --- real: a real model's dimensions --------------------------------------------------
def bench_real(args) -> None:
    import psutil

    from vlagent.dev.tiny_model import build

    data = REPO / ".bench-data"
    model_dir = data / args.like.split("/")[-1].lower().replace(".", "_") / "random"
    if not (model_dir / "config.json").exists():
        print(f"building {args.like}-shaped checkpoint with random weights in {model_dir} …", flush=True)
        t0 = time.perf_counter()
        build(model_dir, like=args.like)
        print(f"built in {time.perf_counter() - t0:.0f} s", flush=True)
    png = screenshot_png(data)
    results = []
    names = args.configs.split(",")
    for group, load_overrides in GROUPS.items():
        runs = [n for n in CONFIGS if CONFIGS[n][0] == group and n in names]  # low-memory runs first
        if not runs:
            continue
        need_gb = 17 if load_overrides.get("vlm.cpu_quantize") is False else 10
        avail = psutil.virtual_memory().available / 2**30
        if avail < need_gb:
            print(f"skipping {', '.join(runs)}: {avail:.1f} GB available, needs ~{need_gb}", flush=True)
            continue
        print(f"loading the {group} group for {', '.join(runs)} …", flush=True)
        cmd = [sys.executable, __file__, "run-group", "--model", str(model_dir), "--image", str(png),
               "--group", group, "--runs", ",".join(runs), "--tokens", str(args.tokens)]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        for line in proc.stdout:  # one JSON line per finished run
            r = json.loads(line)
            r["trade"] = CONFIGS[r["name"]][2]
            results.append(r)
            print(json.dumps(r), flush=True)
        proc.wait()
    print_real(results, args)


def print_real(results: list[dict], args) -> None:
    base = next((r for r in results if r["name"] == "naive"), None)
    rows = []
    for r in results:
        speedup = f"{base['s_per_image'] / r['s_per_image']:.1f}x" if base else "-"
        rows.append([r["name"], r["dtype"], "yes" if r["int8"] else "no", r["threads"], r["visual_tokens"],
                     r["vision_s"], r["prefill_s"], f"{r['decode_tps']:.2f}", r["s_per_image"], speedup,
                     f"{r['peak_rss_gb']:.1f}", f"{r['peak_anon_gb']:.1f}", r["load_s"], r["cores_used"]])
    print(f"\n{args.like} shape, random weights, 1920x1080 screenshot, {args.tokens} new tokens forced\n")
    print(table(["config", "dtype", "int8 LM", "threads", "visual tokens", "vision s", "prefill s (incl. vision)",
                 "decode tok/s", "s per image", "vs naive", "peak RSS GB", "peak anon GB", "load s",
                 "cores used"], rows))
    print()
    for r in results:
        print(f"- {r['name']}: {r['trade']}")


class AnonPeak:
    """Samples this process's anonymous memory (Linux) every 0.1 s; ``gb()`` = the peak so far."""

    def __init__(self):
        import threading

        self.peak = 0
        threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self):
        while True:
            with open("/proc/self/status") as f:
                for line in f:
                    if line.startswith("RssAnon:"):
                        self.peak = max(self.peak, int(line.split()[1]))
            time.sleep(0.1)

    def gb(self) -> float:
        return round(self.peak / 2**20, 2)


def run_group(args) -> None:
    """Load once with a group's settings, then run each configuration (called by ``real``).
    Prints one JSON line per run; peak RSS is the process's peak so far (runs go small to big)."""
    import resource

    import torch

    from vlagent.imaging.load import load_path
    from vlagent.vlm import GenerationOptions
    from vlagent.vlm.prompts import DESCRIBE
    from vlagent.vlm.transformers_backend import TransformersEngine

    base = dict(GROUPS[args.group], **{"vlm.model": args.model})
    settings = settings_with(base)
    engine = TransformersEngine(settings)
    peak_anon = AnonPeak()
    t0 = time.perf_counter()
    engine.load()
    load_s = time.perf_counter() - t0
    image = load_path(args.image).image
    for name in args.runs.split(","):
        run_settings = settings_with(dict(base, **CONFIGS[name][1]))
        for key in ("vlm.max_pixels", "vlm.threads"):
            settings.override(key, run_settings.get(key))
        opts = GenerationOptions.from_settings(settings, max_new_tokens=args.tokens, min_new_tokens=args.tokens)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        g = engine.describe([image], DESCRIBE["en"], opts)[0]
        cpu_s, wall_s = time.process_time() - cpu0, time.perf_counter() - wall0
        t = g.timings
        print(json.dumps({
            "name": name, "dtype": engine.placement.dtype, "int8": engine.placement.quantize,
            "threads": torch.get_num_threads(), "visual_tokens": t["visual_tokens"],
            "vision_s": round(t["vision_ms"] / 1000, 1), "prefill_s": round(t["prefill_ms"] / 1000, 1),
            "decode_tps": t["decode_tokens_per_s"], "new_tokens": t["new_tokens"],
            "s_per_image": round(t["total_ms"] / 1000, 1), "load_s": round(load_s, 1),
            "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
            # RSS counts the checkpoint's memory-mapped pages too; anonymous memory is the real load
            "peak_anon_gb": peak_anon.gb(),
            # CPU seconds per wall second: below the thread count means others shared the cores
            "cores_used": round(cpu_s / wall_s, 2)}), flush=True)


def bench_gemm(args) -> None:
    """One language-model MLP projection (2048 → 11008, the 3B's) in each dtype: prefill-sized
    (1024 rows) and decode-sized (1 row). Shows why ``auto`` keeps float32 on a CPU without
    native bf16, and what int8 buys."""
    import warnings

    import torch
    from torch import nn

    from vlagent.vlm.devices import cpu_has_fast_bf16

    warnings.simplefilter("ignore")
    from torch.ao.quantization import quantize_dynamic

    lin = nn.Linear(2048, 11008)
    layers = {"float32": lin, "bfloat16": nn.Linear(2048, 11008).to(torch.bfloat16),
              "int8 dynamic": quantize_dynamic(nn.Sequential(nn.Linear(2048, 11008)), {nn.Linear}, dtype=torch.qint8)}
    rows = []
    for rows_n in (1024, 1):
        row = [rows_n]
        for name, layer in layers.items():
            x = torch.randn(rows_n, 2048, dtype=torch.bfloat16 if name == "bfloat16" else torch.float32)
            times = []
            with torch.inference_mode():
                layer(x)
                for _ in range(args.repeats):
                    t0 = time.perf_counter()
                    layer(x)
                    times.append(time.perf_counter() - t0)
            row.append(f"{median(times) * 1000:.2f} ms")
        rows.append(row)
    print(f"native bf16 on this CPU: {cpu_has_fast_bf16()}; torch threads {torch.get_num_threads()}; "
          f"medians of {args.repeats}\n")
    print(table(["rows (tokens)", *layers], rows))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("tiny")
    t.add_argument("--repeats", type=int, default=5)
    t.add_argument("--tokens", type=int, default=32)
    r = sub.add_parser("real")
    r.add_argument("--like", default="Qwen/Qwen2.5-VL-3B-Instruct")
    r.add_argument("--configs", default=",".join(CONFIGS))
    r.add_argument("--tokens", type=int, default=128)
    g = sub.add_parser("gemm")
    g.add_argument("--repeats", type=int, default=20)
    o = sub.add_parser("run-group")
    o.add_argument("--model", required=True)
    o.add_argument("--image", required=True)
    o.add_argument("--group", required=True, choices=sorted(GROUPS))
    o.add_argument("--runs", required=True)
    o.add_argument("--tokens", type=int, default=128)
    args = p.parse_args()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    {"tiny": bench_tiny, "real": bench_real, "gemm": bench_gemm, "run-group": run_group}[args.cmd](args)


if __name__ == "__main__":
    main()
