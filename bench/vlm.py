"""Benchmarks of the Qwen-VL engine. Prints tables; numbers are for the machine it runs on.

    python bench/vlm.py tiny               # stage breakdown on a tiny model, batch 1 and 8; visual tokens
    python bench/vlm.py real               # a real model's shape (random weights): s/image, peak RSS
    python bench/vlm.py real --like Qwen/Qwen3-VL-2B-Instruct --configs naive,default
    python bench/vlm.py gemm               # float32 / bfloat16 / int8 (FBGEMM and oneDNN kernels) matmul speed
    python bench/vlm.py ttft               # time to first token: cold, interactive cores, prefilled while
                                           # typing, follow-up turn, light mode (real shape, random weights)
    python bench/vlm.py cold-vs --rev 5a018cf   # cold time to first token, this tree against an older one

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

    def int8(engine: str):  # packed for that engine's kernels (vlm.int8_engine)
        before = torch.backends.quantized.engine
        torch.backends.quantized.engine = engine
        try:
            return quantize_dynamic(nn.Sequential(nn.Linear(2048, 11008)), {nn.Linear}, dtype=torch.qint8)
        finally:
            torch.backends.quantized.engine = before

    lin = nn.Linear(2048, 11008)
    layers = {"float32": lin, "bfloat16": nn.Linear(2048, 11008).to(torch.bfloat16)}
    for engine in ("fbgemm", "onednn"):
        if engine in torch.backends.quantized.supported_engines:
            layers[f"int8 dynamic ({engine})"] = int8(engine)
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


# --- ttft: how soon an answer starts after the question arrives ------------------------
def bench_ttft(args) -> None:
    """Build the real-shaped checkpoint if needed, then measure in one process (one load)."""
    from vlagent.dev.tiny_model import build

    data = REPO / ".bench-data"
    model_dir = data / args.like.split("/")[-1].lower().replace(".", "_") / "random"
    if not (model_dir / "config.json").exists():
        print(f"building {args.like}-shaped checkpoint with random weights in {model_dir} …", flush=True)
        build(model_dir, like=args.like)
    png = screenshot_png(data)
    cmd = [sys.executable, __file__, "run-ttft", "--model", str(model_dir), "--image", str(png),
           "--tokens", str(args.tokens), "--max-pixels", str(args.max_pixels), "--int8-engine", args.int8_engine]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    results = []
    for line in proc.stdout:
        r = json.loads(line)
        print(json.dumps(r), flush=True)
        results.append(r)
    proc.wait()
    peak = next((r for r in results if r.get("name") == "peak"), {})
    runs = [r for r in results if r.get("name") != "peak"]
    print(f"\n{args.like} shape, random weights, vlagent defaults (int8 LM on {args.int8_engine} kernels, auto dtype), 1920x1080 screenshot, "
          f"max_pixels {args.max_pixels} ({args.max_pixels // (28 * 28)} x 28²), {args.tokens} new tokens "
          f"forced, {os.cpu_count()} cores\n")
    rows = [[r["name"], r["threads"], r["visual_tokens"], r["prompt_tokens"], r["cached_tokens"],
             r.get("before_s", "-"), r["ttft_s"], r["total_s"], f"{r['peak_rss_gb']:.1f}", r["cores_used"]]
            for r in runs]
    print(table(["run", "threads", "visual tokens", "prompt tokens", "cached tokens", "read while typing s",
                 "time to first token s", "s per answer", "peak RSS GB", "cores used"], rows))
    print("\n(cores used = CPU seconds per wall second of the answer: below the thread count means other "
          "processes shared the cores)")
    if peak:
        print(f"\npeak of this CPU, measured in the same run ({peak['threads']} threads): float32 matmul "
              f"{peak['fp32_gflops']:.1f} GFLOP/s, bfloat16 matmul {peak.get('bf16_gflops', 0):.1f} GFLOP/s, "
              f"int8 dynamic linear {peak['int8_gops']:.1f} GOP/s ({peak.get('int8_engine') or 'default'} kernels)")
        for r in runs:
            if "vision_gflops" in r:
                key = "bf16_gflops" if r.get("vision_dtype") == "bfloat16" else "fp32_gflops"
                print(f"{r['name']}: vision encoder ({r.get('vision_dtype')}) {r['vision_gflop']:.0f} GFLOP in "
                      f"{r['vision_s']} s = {r['vision_gflops']:.1f} GFLOP/s ({100 * r['vision_gflops'] / peak[key]:.0f}%"
                      f" of the {key.split('_')[0]} peak); language-model prefill {r['lm_gflop']:.0f} GOP in "
                      f"{r['lm_s']} s = {r['lm_gflops']:.1f} GOP/s ({100 * r['lm_gflops'] / peak['int8_gops']:.0f}% of "
                      f"the int8 peak)")


# --- cold-vs: this tree's cold time to first token against an older revision's ------------
def bench_cold_vs(args) -> None:
    """Check out ``--rev`` into .bench-data/rev-SHA (a git worktree) and measure the cold time to
    first token of both trees at their own defaults on the same model and image, alternating
    old/new, in a worker thread (as the desktop app, the web face and the API call the model)
    and in the main thread (as the CLI does)."""
    data = REPO / ".bench-data"
    model_dir = data / args.like.split("/")[-1].lower().replace(".", "_") / "random"
    if not (model_dir / "config.json").exists():
        from vlagent.dev.tiny_model import build

        build(model_dir, like=args.like)
    sha = subprocess.run(["git", "rev-parse", "--short", args.rev], cwd=REPO, capture_output=True, text=True,
                         check=True).stdout.strip()
    old = data / f"rev-{sha}"
    if not old.exists():
        subprocess.run(["git", "worktree", "add", "--detach", str(old), sha], cwd=REPO, check=True,
                       capture_output=True)
    png = screenshot_png(data)
    results: list[dict] = []
    for where in args.where.split(","):
        for name, tree in ((sha, old), ("this tree", REPO)):
            cmd = [sys.executable, __file__, "run-cold", "--tree", str(tree), "--model", str(model_dir),
                   "--image", str(png), "--where", where, "--repeats", str(args.repeats), "--tokens", str(args.tokens)]
            out = subprocess.run(cmd, capture_output=True, text=True)
            line = next((x for x in out.stdout.splitlines() if x.startswith("{")), None)
            if line is None:
                sys.exit(f"{name} failed:\n{out.stderr[-3000:]}")
            r = dict(json.loads(line), tree=name, where=where)
            print(json.dumps(r), flush=True)
            results.append(r)
    print(f"\n{args.like} shape, random weights, each tree at its own defaults, 1920x1080 screenshot, cold (nothing "
          f"cached), {args.tokens} new tokens forced, median of {args.repeats} answers, {os.cpu_count()} cores\n")
    rows = []
    for where in args.where.split(","):
        base = next(r for r in results if r["where"] == where and r["tree"] == sha)
        for r in (x for x in results if x["where"] == where):
            rows.append([where, r["tree"], r["vision_s"], r["ttft_s"], r["total_s"],
                         f"{base['ttft_s'] / r['ttft_s']:.2f}x", r["cores_used"]])
    print(table(["thread", "tree", "vision s", "time to first token s", "s per answer",
                 "TTFT speed-up", "cores used"], rows))


def run_cold(args) -> None:
    """One tree's cold answers in one process (``cold-vs``): the medians as one JSON line."""
    import threading

    sys.path.insert(0, args.tree)
    for name in [m for m in sys.modules if m == "vlagent" or m.startswith("vlagent.")]:
        del sys.modules[name]
    from vlagent.imaging.load import load_path
    from vlagent.settings import Settings
    from vlagent.vlm import ChatMessage, GenerationOptions
    from vlagent.vlm.transformers_backend import TransformersEngine

    assert Path(sys.modules["vlagent"].__file__).is_relative_to(args.tree)
    settings = Settings(None)
    for key, value in {"vlm.model": args.model, "vlm.idle_unload_s": 0, "vlm.prefix_cache_mb": 0}.items():
        try:
            settings.override(key, value)
        except Exception:  # noqa: BLE001 — a revision without that setting (its own SettingError class)
            pass
    engine = TransformersEngine(settings)
    engine.load()
    image = load_path(args.image).image
    opts = GenerationOptions.from_settings(settings, max_new_tokens=args.tokens, min_new_tokens=args.tokens)
    messages = [ChatMessage("user", "What is the total due on this screen?", [image])]
    runs: list[dict] = []

    def answer() -> None:
        for _ in range(args.repeats):
            cpu0, wall0 = time.process_time(), time.perf_counter()
            t = engine.chat(messages, opts).timings
            runs.append({"ttft_s": (t["preprocess_ms"] + t["prefill_ms"]) / 1000, "vision_s": t["vision_ms"] / 1000,
                         "total_s": t["total_ms"] / 1000,
                         "cores_used": (time.process_time() - cpu0) / (time.perf_counter() - wall0)})

    if args.where == "thread":
        worker = threading.Thread(target=answer)
        worker.start()
        worker.join()
    else:
        answer()
    print(json.dumps({k: round(median([r[k] for r in runs]), 2) for k in runs[0]}), flush=True)


class FlopCounter:
    """Counts multiply-adds of every Linear (float or int8) while active: 2·in·out per row."""

    def __init__(self, modules):
        import torch
        from torch.ao.nn.quantized.dynamic import Linear as QLinear

        self.flops = 0.0
        self.active = False
        self.handles = [m.register_forward_hook(self._hook) for m in modules.modules()
                        if isinstance(m, (torch.nn.Linear, QLinear))]

    def _hook(self, module, inputs, output) -> None:
        if self.active:
            x = inputs[0]
            self.flops += 2.0 * module.in_features * module.out_features * (x.numel() // x.shape[-1])

    def remove(self) -> None:
        for h in self.handles:
            h.remove()


def attention_flops(model, visual_tokens: int, prompt_tokens: int) -> tuple[float, float]:
    """Attention score and value products (not in any Linear): the vision tower's windowed and
    full-attention blocks, the language model's causal prefill."""
    vc = model.config.vision_config
    tc = model.config.get_text_config()
    patches = visual_tokens * vc.spatial_merge_size ** 2
    window = (getattr(vc, "window_size", 0) // vc.patch_size) ** 2 or patches
    full = set(getattr(vc, "fullatt_block_indexes", []) or range(vc.depth))
    vis = sum(4.0 * patches * (patches if i in full else min(window, patches)) * vc.hidden_size
              for i in range(vc.depth))
    lm = tc.num_hidden_layers * 2.0 * prompt_tokens ** 2 * tc.num_attention_heads * (
        tc.hidden_size // tc.num_attention_heads)
    return vis, lm


def measure_peak(threads: int, int8_engine: str = "") -> dict:
    import warnings

    import torch
    from torch import nn

    warnings.simplefilter("ignore")
    from torch.ao.quantization import quantize_dynamic

    before, engine_before = torch.get_num_threads(), torch.backends.quantized.engine
    torch.set_num_threads(threads)
    if int8_engine:  # the kernels the model's int8 layers use
        torch.backends.quantized.engine = int8_engine
    def best_s(fn) -> float:  # the fastest of 5 runs after a warm-up
        times = []
        for _ in range(6):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return min(times[1:])

    try:
        a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
        fp32 = 2 * 2048 ** 3 / best_s(lambda: torch.mm(a, b)) / 1e9
        a16, b16 = a.to(torch.bfloat16), b.to(torch.bfloat16)
        bf16 = 2 * 2048 ** 3 / best_s(lambda: torch.mm(a16, b16)) / 1e9
        q = quantize_dynamic(nn.Sequential(nn.Linear(2048, 11008)), {nn.Linear}, dtype=torch.qint8)
        x = torch.randn(1024, 2048)
        with torch.inference_mode():
            int8 = 2 * 1024 * 2048 * 11008 / best_s(lambda: q(x)) / 1e9
    finally:
        torch.set_num_threads(before)
        torch.backends.quantized.engine = engine_before
    return {"name": "peak", "fp32_gflops": round(fp32, 1), "bf16_gflops": round(bf16, 1), "int8_gops": round(int8, 1),
            "threads": threads, "int8_engine": int8_engine}


def run_ttft(args) -> None:
    """The runs of ``ttft`` in one process: one JSON line each."""
    import resource

    from vlagent.imaging.load import load_path
    from vlagent.samples import screenshot_like
    from vlagent.vlm import ChatMessage, GenerationOptions
    from vlagent.vlm.light import lighten
    from vlagent.vlm.transformers_backend import ALL_THREADS, DEFAULT_THREADS, TransformersEngine

    settings = settings_with({"vlm.model": args.model, "vlm.max_pixels": args.max_pixels, "vlm.idle_unload_s": 0,
                              "vlm.int8_engine": args.int8_engine})
    from vlagent.vlm.devices import choose_int8_engine

    print(json.dumps(measure_peak(ALL_THREADS, choose_int8_engine(settings.view.vlm.int8_engine))), flush=True)
    engine = TransformersEngine(settings)
    engine.load()
    model = engine._loaded.model
    image = load_path(args.image).image
    ocr_text = "\n".join(screenshot_like(1920, 1080, seed=0)[1])  # the lines drawn: OCR at its best
    opts = GenerationOptions.from_settings(settings, max_new_tokens=args.tokens, min_new_tokens=args.tokens)
    q1, q2 = "What is the total due on this screen?", "Which window is in front?"

    def ask(name, messages, options=opts, count=False, before_s=None):
        vis_count, lm_count = FlopCounter(model.model.visual), FlopCounter(model.model.language_model)
        vis_count.active = lm_count.active = count
        cpu0, wall0 = time.process_time(), time.perf_counter()
        g = engine.chat(messages, options)
        cores_used = round((time.process_time() - cpu0) / (time.perf_counter() - wall0), 2)
        vis_count.remove()
        lm_count.remove()
        t = g.timings
        r = {"name": name, "threads": settings.view.vlm.interactive_threads or ALL_THREADS,
             "visual_tokens": t["visual_tokens"], "prompt_tokens": t["input_tokens"],
             "cached_tokens": t["cached_tokens"], "ttft_s": round((t["preprocess_ms"] + t["prefill_ms"]) / 1000, 1),
             "total_s": round(t["total_ms"] / 1000, 1), "vision_s": round(t["vision_ms"] / 1000, 1),
             "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, "cores_used": cores_used}
        if before_s is not None:
            r["before_s"] = before_s
        if count:
            vis_attn, lm_attn = attention_flops(model, t["visual_tokens"], t["input_tokens"])
            lm_s = (t["prefill_ms"] - t["vision_ms"]) / 1000
            r.update(vision_gflop=(vis_count.flops + vis_attn) / 1e9, lm_gflop=(lm_count.flops + lm_attn) / 1e9,
                     lm_s=round(lm_s, 1), vision_dtype=str(next(model.model.visual.parameters()).dtype)[6:])
            r.update(vision_gflops=r["vision_gflop"] / max(t["vision_ms"] / 1000, 1e-9),
                     lm_gflops=r["lm_gflop"] / max(lm_s, 1e-9))
        print(json.dumps(r), flush=True)
        return g

    first = [ChatMessage("user", q1, [image])]
    settings.override("vlm.prefix_cache_mb", 0)  # cold: nothing cached
    settings.override("vlm.interactive_threads", DEFAULT_THREADS)  # as before: all cores but one
    ask("cold, today's threads", first)
    settings.override("vlm.interactive_threads", 0)
    ask("cold, interactive (all cores)", first, count=True)
    settings.override("vlm.prefix_cache_mb", 1024)
    t0 = time.perf_counter()
    handle = engine.prefill([ChatMessage("user", "", [image])], opts)
    typed_s = round(time.perf_counter() - t0, 1)
    answer = ask("prefilled while typing", first, before_s=typed_s)
    ask("follow-up turn", [*first, ChatMessage("assistant", answer.text), ChatMessage("user", q2)])
    handle.release()
    settings.override("vlm.prefix_cache_mb", 0)  # light mode, cold
    settings.override("vlm.light_mode", "on")
    lit, lit_opts, _ = lighten(settings, first, opts, ocr_text)
    ask(f"light mode, cold ({settings.view.vlm.light_max_pixels // 784} x 28² px + OCR text)", lit, lit_opts)
    settings.override("vlm.prefix_cache_mb", 1024)
    t0 = time.perf_counter()
    handle = engine.prefill(lighten(settings, [ChatMessage("user", "", [image])], opts, ocr_text)[0], lit_opts)
    ask("light mode, prefilled while typing", lit, lit_opts, before_s=round(time.perf_counter() - t0, 1))
    handle.release()


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
    f = sub.add_parser("ttft")
    f.add_argument("--like", default="Qwen/Qwen2.5-VL-3B-Instruct")
    f.add_argument("--tokens", type=int, default=16)
    f.add_argument("--max-pixels", type=int, default=DEFAULT_MAX_PIXELS)
    f.add_argument("--int8-engine", default="auto", choices=("auto", "fbgemm", "onednn"), help="vlm.int8_engine")
    o = sub.add_parser("run-ttft")
    o.add_argument("--model", required=True)
    o.add_argument("--image", required=True)
    o.add_argument("--tokens", type=int, default=16)
    o.add_argument("--max-pixels", type=int, default=DEFAULT_MAX_PIXELS)
    o.add_argument("--int8-engine", default="auto")
    c = sub.add_parser("cold-vs")
    c.add_argument("--rev", default="5a018cf", help="the older revision (default: before the prefill work)")
    c.add_argument("--like", default="Qwen/Qwen2.5-VL-3B-Instruct")
    c.add_argument("--where", default="thread,main")
    c.add_argument("--repeats", type=int, default=3)
    c.add_argument("--tokens", type=int, default=16)
    o = sub.add_parser("run-cold")
    for flag in ("--tree", "--model", "--image", "--where"):
        o.add_argument(flag, required=True)
    o.add_argument("--repeats", type=int, default=3)
    o.add_argument("--tokens", type=int, default=16)
    args = p.parse_args()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    {"tiny": bench_tiny, "real": bench_real, "gemm": bench_gemm, "run-group": run_group, "ttft": bench_ttft,
     "run-ttft": run_ttft, "cold-vs": bench_cold_vs, "run-cold": run_cold}[args.cmd](args)


if __name__ == "__main__":
    main()
