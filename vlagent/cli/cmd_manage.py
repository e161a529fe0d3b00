"""``vlagent status``, ``forget`` and ``export``."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable
from typing import IO, TYPE_CHECKING, Any, cast

from vlagent.cli.main import UsageError

if TYPE_CHECKING:
    from vlagent.cli.context import Context


FORGET_DESCRIPTION = """\
Remove images from the index: their results, thumbnails and search entries. The files
themselves stay where they are, and the image ids are never given to another image.

A forgotten file stays out of the index: the watcher, its start-up scan and 'vlagent index
FOLDER' skip it (counted as skipped, forgotten) for as long as it holds the same picture. It
comes back when its content changes, when you name the file itself ('vlagent index FILE'), or
with 'vlagent index --force'. With --allow-reindex nothing is kept out. The app's Forget
button does the same as this command."""


def register(sub) -> None:
    import argparse

    p = sub.add_parser("status", help="what is indexed, queued and failed; database size")
    p.add_argument("--json", action="store_true")
    p.add_argument("--failures", action="store_true", help="list recent per-file failures")
    p.set_defaults(func=run_status)

    f = sub.add_parser("forget", help="remove images: results, thumbnail and search entries (files stay)",
                       description=FORGET_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    f.add_argument("refs", nargs="+", metavar="ID|PATH")
    f.add_argument("--allow-reindex", action="store_true",
                   help="do not keep the files out: the watcher and 'index DIR' may index them again")
    f.add_argument("--json", action="store_true")
    f.set_defaults(func=run_forget)

    e = sub.add_parser("export", help="export the index as JSON lines or CSV")
    e.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    e.add_argument("-o", "--output", help="file to write (default: stdout)")
    e.set_defaults(func=run_export)


def run_status(ctx: Context, args) -> int:
    from vlagent.cli.output import display_text, human_bytes, print_json

    db = ctx.home.db_path
    index = ctx.index_if_exists()
    info: dict[str, Any]
    if index is None:
        info = {"home": str(ctx.home.root), "db": str(db), "db_bytes": 0, "images": 0, "jobs": {}, "results": {},
                "failures": 0}
    else:
        from vlagent.index.queue import JobQueue

        info = {"home": str(ctx.home.root), "db": str(db)}
        size = sum(p.stat().st_size for p in db.parent.glob(db.name + "*") if p.is_file())
        info["db_bytes"] = size
        info.update(index.stats())
        info["queue"] = JobQueue(index).counts()
        if args.failures:
            info["recent_failures"] = index.failures(50)
    if args.json:
        print_json(info)
        return 0
    print(f"home: {info['home']}")
    print(f"index: {info['db']} ({human_bytes(info['db_bytes'])})")
    print(f"images: {info['images']}" + (f" ({info.get('images_gone', 0)} with no file left)"
                                          if info.get("images_gone") else ""))
    if info.get("results"):
        print("results: " + ", ".join(f"{k} {v}" for k, v in sorted(info["results"].items())))
    if info.get("jobs"):
        print("jobs:")
        for kind, states in sorted(info["jobs"].items()):
            print(f"  {kind:<11} " + ", ".join(f"{s} {n}" for s, n in sorted(states.items())))
    print(f"failed files: {info.get('failures', 0)}")
    for f in info.get("recent_failures", []):
        print(f"  [{f['error_type']}] {display_text(f['error'])}")
    return 0


def run_forget(ctx: Context, args) -> int:
    from vlagent.cli.output import print_json

    index = ctx.index_if_exists()
    removed, missing = [], []
    for ref in args.refs:
        img = index.resolve(ref) if index else None
        if index is not None and img and index.forget(img["id"], keep_out=not args.allow_reindex):
            removed.append(img["id"])
        else:
            missing.append(ref)
    if args.json:
        print_json({"removed": removed, "not_found": missing})
    else:
        for i in removed:
            print(f"forgot #{i}")
        if removed and not args.allow_reindex:
            print("the forgotten files stay out of the index while unchanged ('vlagent index FILE' takes one back)")
        for m in missing:
            print(f"vlagent: no image matches {m!r}", file=sys.stderr)
    return 1 if missing and not removed else 0


EXPORT_FIELDS = ["id", "sha256", "path", "paths", "source", "width", "height", "format", "bytes", "first_seen",
                 "taken_at", "gone_at", "ocr_text", "description", "answers"]


def run_export(ctx: Context, args) -> int:
    index = ctx.index_if_exists()
    images = index.iter_images() if index else []
    if args.output:
        with open(args.output, "w", encoding="utf-8", newline="") as out:
            _export(images, args.format, out)
    else:
        _export(images, args.format, sys.stdout)
    return 0


def _export(images: Iterable[dict[str, Any]], fmt: str, out: IO[str]) -> None:
    """A file name that is not UTF-8 is written with those bytes as ``\\xNN``; JSON lines add
    ``path_b64``/``paths_b64`` with the exact bytes (:func:`vlagent.common.json_safe`)."""
    from vlagent.common import json_safe

    writer = None
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS, extrasaction="ignore")
        writer.writeheader()
    for d in images:
        rec: dict[str, Any] = {k: d.get(k) for k in EXPORT_FIELDS}
        rec["answers"] = [{"question": r["prompt"], "answer": r["text"]} for r in d["results"]
                          if r["kind"] == "answer"]
        rec = cast(dict[str, Any], json_safe(rec))
        if writer:
            rec["paths"] = "\n".join(rec["paths"])
            rec["answers"] = json.dumps(rec["answers"], ensure_ascii=False)
            writer.writerow(rec)
        else:
            out.write(json.dumps(rec, ensure_ascii=False) + "\n")


__all__ = ["UsageError"]
