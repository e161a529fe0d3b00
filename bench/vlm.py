"""Benchmarks of the Qwen-VL engine. Prints tables; numbers are for the machine it runs on.

    python bench/vlm.py tiny               # stage breakdown on a tiny model, batch 1 and 8; visual tokens
    python bench/vlm.py real               # a real model's shape (random weights): s/image, peak RSS
    python bench/vlm.py real --like Qwen/Qwen3-VL-2B-Instruct --configs naive,default

``real`` builds the random checkpoint once under ``.bench-data/`` (git-ignored; ~7.5 GB for
the 3B) and runs each configuration in its own process, one after another, so every peak
RSS is that configuration's own. Speed does not depend on weight values, so a random
checkpoint runs at the real model's speed; what it writes is noise.
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

# name → (settings overrides, what it trades)
CONFIGS: dict[str, tuple[dict, str]] = {
    "naive": ({"vlm.dtype": "float32", "vlm.cpu_quantize": False, "vlm.max_pixels": QWEN_DEFAULT_MAX_PIXELS},
              "the plain transformers run: float32, the processor's default pixels"),
    "fp32-capped": ({"vlm.dtype": "float32", "vlm.cpu_quantize": False},
                    "float32 at vlagent's pixel cap (1024 visual tokens): less detail on big images"),
    "bf16-capped": ({"vlm.dtype": "bfloat16", "vlm.cpu_quantize": False}, "bfloat16 weights: tiny rounding"),
    "int8-full-pixels": ({"vlm.max_pixels": QWEN_DEFAULT_MAX_PIXELS}, "int8 language model, all pixels"),
    "default": ({}, "vlagent's defaults: auto dtype, int8 language model, 1024-token pixel cap"),
    "default-1-thread": ({"vlm.threads": 1}, "defaults on one torch thread"),
    "int8-512": ({"vlm.max_pixels": 512 * 28 * 28}, "defaults with a 512-token cap: small text gets unreadable"),
}


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def settings_with(overrides: dict):
    from vlagent.settings import Settings

    s = Settings(None)
    for k, v in overrides.items():
        s.override(k, v)
    return s


def screenshot_png(folder: Path, size=(1920, 1080), seed=0) -> Path:
    from vlagent.dev.samples import screenshot_like

    p = folder / f"shot_{size[0]}x{size[1]}_{seed}.png"
    if not p.exists():
        screenshot_like(*size, seed=seed)[0].save(p)
    return p


def table(headers: list[str], rows: list[list]) -> str:
    cells = [[str(h) for h in headers]] + [[f"{c:.1f}" if isinstance(c, float) else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"  # noqa: E731
    return "\n".join([line(cells[0]), "|" + "|".join("-" * (w + 2) for w in widths) + "|"] + [line(r) for r in cells[1:]])


# --- tiny: where the time goes outside and inside the model ---------------------------
def bench_tiny(args) -> None:
    import torch
    from qwen_vl_utils import smart_resize

    from vlagent.dev.tiny_model import build
    from vlagent.imaging.load import load_path
    from vlagent.vlm.prompts import DESCRIBE
    from vlagent.vlm.transformers_backend import TransformersEngine
    from vlagent.vlm import GenerationOptions

    tmp = Path(tempfile.mkdtemp(prefix="vlm-bench-"))
    model_dir = build(tmp / "tiny", "qwen2_5_vl")
    pngs = [screenshot_png(tmp, seed=i) for i in range(8)]
    engine = TransformersEngine(settings_with({"vlm.model": str(model_dir)}))
    opts = GenerationOptions(max_new_tokens=args.tokens, min_new_tokens=args.tokens)
    engine.load()
    print(f"tiny qwen2_5_vl, vlagent defaults ({engine.placement.dtype}, int8={engine.placement.quantize}), "
          f"1920x1080 screenshots, {args.tokens} new tokens, torch threads {torch.get_num_threads()}\n")

    rows = []
    for batch in (1, 8):
        engine.settings.override("vlm.batch_size", batch)
        per = {k: [] for k in ("png", "resize", "processor", "vision", "prefill", "decode_tps", "post", "total")}
        for _ in range(args.repeats):
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
        rows.append([batch, m["png"], m["resize"], m["processor"], m["vision"], m["prefill"], m["decode_tps"],
                     overhead, m["total"]])
    print(table(["batch", "PNG decode ms/img", "resize ms/img", "processor ms/img", "vision ms/img",
                 "LM prefill ms/img", "decode tok/s (all rows)", "overhead outside model ms/img", "total ms/img"],
                rows))
    print(f"\nmedians of {args.repeats} runs; overhead = PNG decode + qwen-vl-utils resize + processor + detokenise\n")

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
    for name in args.configs.split(","):
        overrides, trade = CONFIGS[name]
        need_gb = 17 if overrides.get("vlm.dtype") == "float32" and not overrides.get("vlm.cpu_quantize", True) else 9
        avail = psutil.virtual_memory().available / 2**30
        if avail < need_gb:
            print(f"skipping {name}: {avail:.1f} GB available, needs ~{need_gb}", flush=True)
            continue
        print(f"running {name} …", flush=True)
        cmd = [sys.executable, __file__, "run-one", "--model", str(model_dir), "--image", str(png),
               "--config", name, "--tokens", str(args.tokens)]
        out = subprocess.run(cmd, capture_output=True, text=True)
        if out.returncode != 0:
            print(out.stderr[-3000:])
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        r["name"], r["trade"] = name, trade
        results.append(r)
        print(json.dumps(r), flush=True)
    print_real(results, args)


def print_real(results: list[dict], args) -> None:
    base = next((r for r in results if r["name"] == "naive"), None)
    rows = []
    for r in results:
        speedup = f"{base['s_per_image'] / r['s_per_image']:.1f}x" if base else "-"
        rows.append([r["name"], r["dtype"], "yes" if r["int8"] else "no", r["threads"], r["visual_tokens"],
                     r["vision_s"], r["prefill_s"], f"{r['decode_tps']:.2f}", r["s_per_image"], speedup,
                     f"{r['peak_rss_gb']:.1f}", r["load_s"]])
    print(f"\n{args.like} shape, random weights, 1920x1080 screenshot, {args.tokens} new tokens forced\n")
    print(table(["config", "dtype", "int8 LM", "threads", "visual tokens", "vision s", "prefill s (incl. vision)",
                 "decode tok/s", "s per image", "vs naive", "peak RSS GB", "load s"], rows))
    print()
    for r in results:
        print(f"- {r['name']}: {r['trade']}")


def run_one(args) -> None:
    """One configuration in this process (called by ``real``): prints one JSON line."""
    import resource

    import torch

    from vlagent.imaging.load import load_path
    from vlagent.vlm import GenerationOptions
    from vlagent.vlm.prompts import DESCRIBE
    from vlagent.vlm.transformers_backend import TransformersEngine

    overrides = dict(CONFIGS[args.config][0], **{"vlm.model": args.model})
    settings = settings_with(overrides)
    engine = TransformersEngine(settings)
    t0 = time.perf_counter()
    engine.load()
    load_s = time.perf_counter() - t0
    opts = GenerationOptions.from_settings(settings, max_new_tokens=args.tokens, min_new_tokens=args.tokens)
    image = load_path(args.image).image
    g = engine.describe([image], DESCRIBE["en"], opts)[0]
    t = g.timings
    print(json.dumps({
        "dtype": engine.placement.dtype, "int8": engine.placement.quantize, "threads": torch.get_num_threads(),
        "visual_tokens": t["visual_tokens"], "vision_s": round(t["vision_ms"] / 1000, 1),
        "prefill_s": round(t["prefill_ms"] / 1000, 1), "decode_tps": t["decode_tokens_per_s"],
        "new_tokens": t["new_tokens"], "s_per_image": round(t["total_ms"] / 1000, 1), "load_s": round(load_s, 1),
        "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("tiny")
    t.add_argument("--repeats", type=int, default=5)
    t.add_argument("--tokens", type=int, default=32)
    r = sub.add_parser("real")
    r.add_argument("--like", default="Qwen/Qwen2.5-VL-3B-Instruct")
    r.add_argument("--configs", default="naive,fp32-capped,bf16-capped,int8-full-pixels,default,default-1-thread,"
                                        "int8-512")
    r.add_argument("--tokens", type=int, default=128)
    o = sub.add_parser("run-one")
    o.add_argument("--model", required=True)
    o.add_argument("--image", required=True)
    o.add_argument("--config", required=True, choices=sorted(CONFIGS))
    o.add_argument("--tokens", type=int, default=128)
    args = p.parse_args()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    {"tiny": bench_tiny, "real": bench_real, "run-one": run_one}[args.cmd](args)


if __name__ == "__main__":
    main()
