"""``vlagent doctor`` — what works here: Python, torch/CUDA, OCR, the index, the display."""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vlagent.cli.context import Context


def register(sub) -> None:
    p = sub.add_parser("doctor", help="check the installation: torch/CUDA, OCR engine, index, display")
    p.add_argument("--json", action="store_true")
    p.add_argument("--quick", action="store_true", help="skip the checks that load torch or OCR models")
    p.add_argument("--report", nargs="?", const="", metavar="FILE",
                   help="write a bug report (versions, checks, settings with secrets redacted, the last log "
                        "lines) to FILE ('-' = stdout; default: a new file under the data home's logs/)")
    p.set_defaults(func=run)


def _version(dist: str) -> str | None:
    import importlib.metadata

    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def check_torch() -> dict[str, Any]:
    from vlagent.vlm.probe import probe_torch

    return probe_torch()


def check_ocr() -> dict:
    try:
        from PIL import Image, ImageDraw

        from vlagent.ocr.rapid import RapidOcrEngine

        img = Image.new("RGB", (360, 80), "white")
        ImageDraw.Draw(img).text((10, 20), "doctor check 42", fill="black", font_size=32)
        eng = RapidOcrEngine()
        t0 = time.perf_counter()
        res = eng.recognize(img)
        return {"ok": "42" in res.text, "engine": eng.name, "model": eng.model, "read": res.text,
                "ms": round((time.perf_counter() - t0) * 1000)}
    except Exception as e:  # noqa: BLE001
        return {"ok": False, "error": f"{e.__class__.__name__}: {e}"}


def check_index(ctx: Context) -> dict:
    import sqlite3

    from vlagent.index.db import fts5_available

    info = {"path": str(ctx.home.db_path), "exists": ctx.home.db_path.exists(), "sqlite": sqlite3.sqlite_version}
    info["fts5"] = fts5_available()
    info["ok"] = info["fts5"]
    if info["exists"]:
        info["schema_version"] = ctx.index.schema_version()
        info["integrity"] = ctx.index.integrity_check()
        info["ok"] = info["ok"] and info["integrity"] == "ok"
    return info


def check_formats(ctx: Context) -> dict:
    """The image types this installation opens: the extensions a folder walk takes."""
    from vlagent.imaging.formats import register_plugins, supported_formats

    plugins = register_plugins()
    formats = supported_formats()
    info: dict[str, Any] = {
        "ok": True,
        "extensions": " ".join(sorted(e for exts in formats.values() for e in exts)),
        "plugins": ", ".join(plugins) or "none (HEIC/HEIF needs pillow-heif)",
    }
    configured = ctx.settings.view.ingest.extensions
    if configured:
        info["folders_take"] = " ".join(configured) + " (ingest.extensions)"
    if "HEIF" not in formats:
        info["heic"] = "not readable here (pip install pillow-heif)"
    if "AVIF" not in formats:
        info["avif"] = "not readable here (a Pillow with AVIF, or pip install pillow-avif-plugin)"
    return info


def check_display() -> dict:
    session = os.environ.get("XDG_SESSION_TYPE") or ("wayland" if os.environ.get("WAYLAND_DISPLAY") else
                                                     "x11" if os.environ.get("DISPLAY") else None)
    return {"ok": True, "DISPLAY": os.environ.get("DISPLAY"), "WAYLAND_DISPLAY": os.environ.get("WAYLAND_DISPLAY"),
            "session": session or "none (headless: CLI, watch and serve work; GUI and capture need a display)"}


def run(ctx: Context, args) -> int:
    import platform

    from vlagent import __version__
    from vlagent.cli.output import print_json

    report: dict[str, Any] = {
        "vlagent": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "home": str(ctx.home.root),
        "packages": {d: _version(d) for d in ("torch", "torchvision", "transformers", "accelerate", "qwen-vl-utils",
                                              "rapidocr", "onnxruntime", "PySide6-Essentials",
                                              "watchdog", "mss", "pynput", "huggingface_hub", "modelscope")},
        "index": check_index(ctx),
        "images": check_formats(ctx),
        "display": check_display(),
    }
    if not args.quick:
        report["torch"] = check_torch()
        report["ocr"] = check_ocr()
    if args.report is not None:
        write_report(ctx, report, args.report)
    elif args.json:
        print_json(report)
    else:
        print(f"vlagent {__version__} on Python {report['python']} ({report['platform']})")
        print(f"home: {report['home']}")
        for name in ("index", "images", "torch", "ocr", "display"):
            if name not in report:
                continue
            r = report[name]
            mark = "-- " if r.get("installed") is False else "ok " if r.get("ok") else "ERR"
            details = ", ".join(f"{k}={v}" for k, v in r.items() if k != "ok")
            print(f"[{mark}] {name}: {details}")
        missing = [k for k, v in report["packages"].items() if v is None and k != "modelscope"]
        if missing:
            print("missing packages: " + ", ".join(missing))
    bad = [k for k in ("index", "torch", "ocr") if k in report and not report[k].get("ok")]
    return 1 if bad else 0


def write_report(ctx: Context, checks: dict, target: str) -> None:
    import sys
    from pathlib import Path

    from vlagent.diagnostics.report import build

    text = build(ctx.home, ctx.settings, checks)
    if target == "-":
        sys.stdout.write(text)
        return
    path = Path(target) if target else ctx.home.logs / time.strftime("report-%Y%m%d-%H%M%S.md")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(f"bug report written to {path}: read it, then attach it to the issue")
