"""``vlagent index PATH...`` — index files and folders, then run their OCR (and model) jobs."""

from __future__ import annotations

import sys
import time
from collections import Counter

from vlagent.settings.cli_flags import add_setting_flags


def register(sub) -> None:
    p = sub.add_parser("index", help="index image files and folders (recursive)",
                       description="Add images to the index: hash, dedupe, thumbnail, OCR. Per-file failures "
                                   "are reported and skipped (exit code 0); only a failure to run at all is an error.")
    p.add_argument("paths", nargs="+", metavar="PATH", help="image files or folders")
    p.add_argument("--source", choices=["import", "folder", "screenshot", "api"], default="import",
                   help="source recorded for new images (default: import)")
    p.add_argument("--describe", action="store_true", help="also describe each image with the model")
    p.add_argument("--transcribe", action="store_true", help="also transcribe text with the model")
    p.add_argument("--no-ocr", action="store_true", help="skip OCR")
    p.add_argument("--no-wait", action="store_true", help="only queue the work (a running 'watch' or the app does it)")
    p.add_argument("--force", action="store_true", help="re-read files even when size and mtime are unchanged")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    add_setting_flags(p, "index")
    p.set_defaults(func=run)


def run(ctx, args) -> int:
    from vlagent.ingest.pipeline import FAILED, Ingestor
    from vlagent.ingest.scan import FileFilter, iter_files
    from vlagent.cli.output import Progress, print_json, human_duration
    from vlagent.index.queue import new_worker_id
    from vlagent.ingest.workers import build_runner

    settings = ctx.settings
    if args.describe:
        settings.override("vlm.describe", True)
    if args.transcribe:
        settings.override("vlm.transcribe", True)
    if args.no_ocr:
        settings.override("ocr.enabled", False)
    index = ctx.index
    ingestor = Ingestor(index, settings, ctx.home)
    flt = FileFilter.from_settings(settings)
    counts: Counter = Counter()
    failures: list[dict] = []

    def scan_error(path, err):
        counts["failed"] += 1
        msg = str(err)
        index.record_failure(path, "scan", msg)
        failures.append({"path": path, "error": msg, "type": "scan"})

    t0 = time.monotonic()
    files = list(iter_files(args.paths, flt, on_error=scan_error))
    show = not (args.quiet or args.json)
    bar = Progress("indexing", len(files), enabled=show)
    for path in files:
        out = ingestor.ingest_path(path, source=args.source, force=args.force)
        counts[out.status] += 1
        if out.status == FAILED:
            failures.append({"path": out.path, "error": out.error, "type": out.error_type})
        bar.advance(note=out.status)
    bar.finish()

    jobs_run = Counter()
    job_failures: list[dict] = []
    if not args.no_wait:
        runner = build_runner(index, settings, ctx.home, worker_id=new_worker_id())
        pending = runner.queue.pending_count(runner.steps.keys())
        if pending:
            jbar = Progress("processing", pending, enabled=show)

            def on_report(rep):
                jobs_run[f"{rep.job.kind}_{'done' if rep.ok else rep.state}"] += 1
                if not rep.ok and rep.state == "failed":
                    job_failures.append({"image_id": rep.job.image_id, "job": rep.job.kind, "error": rep.error})
                jbar.advance(note=rep.job.kind)

            runner.run_until_empty(on_report=on_report)
            jbar.finish()

    summary = {
        "files": len(files),
        "new": counts["new"],
        "updated": counts["updated"],
        "duplicate": counts["duplicate"],
        "unchanged": counts["unchanged"],
        "failed": counts["failed"],
        "failures": failures,
        "jobs": dict(jobs_run),
        "job_failures": job_failures,
        "elapsed_s": round(time.monotonic() - t0, 2),
    }
    if args.json:
        print_json(summary)
    else:
        print(f"{len(files)} files: {counts['new']} new, {counts['updated']} updated, {counts['duplicate']} "
              f"duplicate, {counts['unchanged']} unchanged, {counts['failed']} failed")
        if jobs_run:
            print("jobs: " + ", ".join(f"{k} {v}" for k, v in sorted(jobs_run.items())))
        for f in failures[:50]:
            print(f"  failed: {f['error']}", file=sys.stderr)
        if len(failures) > 50:
            print(f"  … and {len(failures) - 50} more (vlagent status --failures)", file=sys.stderr)
        for f in job_failures[:20]:
            print(f"  {f['job']} failed for image {f['image_id']}: {f['error']}", file=sys.stderr)
    return 0
