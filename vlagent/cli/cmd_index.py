"""``vlagent index PATH...`` — index files and folders, then run their OCR (and model) jobs."""

from __future__ import annotations

import sys
import time
from collections import Counter
from typing import TYPE_CHECKING

from vlagent.index.store import SOURCES
from vlagent.settings.cli_flags import add_setting_flags

if TYPE_CHECKING:
    from vlagent.cli.context import Context

DESCRIPTION = """\
Add images to the index: read, hash (the same bytes at two paths are one image), check,
thumbnail, then OCR (and, when asked, describe with the model). Files whose size and
modification time are unchanged are not read again. Files you forgot ('vlagent forget') are
skipped in folders while they are unchanged; name the file itself, or pass --force, to index
it again.

A folder is walked for the files whose extension is that of an image type this installation
opens ('vlagent doctor' lists them; setting ingest.extensions); files named on the command
line are read whatever their extension. Files a walk passes over (other types, hidden files,
watch.exclude, excluded folders) are counted and reported as skipped. 'jobs' counts the jobs
of this run's images only (a running watcher does its own).

Exit status:
  0   every file was indexed (or skipped) and every job of this run's images succeeded
  23  partial: some files could not be indexed, or some of their jobs failed; each is listed
      with its reason and recorded ('vlagent status --failures'); the rest is indexed
  2   none of the given paths exists (or a usage error)
  1   the index itself cannot be used"""

EXIT_PARTIAL = 23  # as rsync's "partial transfer due to error"
CLAIM_SLICE = 900  # image ids per claim (SQLite's host-parameter limit is 999 on old builds)


def register(sub) -> None:
    import argparse

    p = sub.add_parser("index", help="index image files and folders (recursive)", description=DESCRIPTION,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("paths", nargs="+", metavar="PATH", help="image files or folders")
    p.add_argument("--source", choices=SOURCES, default="import",
                   help="source recorded for new images (default: import)")
    p.add_argument("--describe", action="store_true", help="also describe each image with the model")
    p.add_argument("--transcribe", action="store_true", help="also transcribe text with the model")
    p.add_argument("--no-ocr", action="store_true", help="skip OCR")
    p.add_argument("--no-wait", action="store_true", help="only queue the work (a running 'watch' or the app does it)")
    p.add_argument("--force", action="store_true",
                   help="re-read files even when size and mtime are unchanged; index forgotten files again too")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    add_setting_flags(p, "index")
    p.set_defaults(func=run)


def run(ctx: Context, args) -> int:
    import os
    import sqlite3

    from vlagent.cli.main import UsageError
    from vlagent.cli.output import display_path

    missing = [p for p in args.paths if not os.path.lexists(os.path.expanduser(p))]
    if len(missing) == len(args.paths):
        raise UsageError("nothing to index: " + ", ".join(display_path(p) for p in missing) + " not found")
    try:
        summary = index_paths(ctx, args)
    except sqlite3.Error as e:
        print(f"vlagent: the index at {display_path(ctx.home.db_path)} cannot be used: {e}", file=sys.stderr)
        return 1
    print_summary(summary, args)
    return EXIT_PARTIAL if summary["failed"] or summary["job_failures"] else 0


def index_paths(ctx: Context, args) -> dict:
    import os

    from vlagent.cli.output import Progress
    from vlagent.index.queue import new_worker_id
    from vlagent.ingest.pipeline import FAILED, SKIPPED, Ingestor
    from vlagent.ingest.scan import FileFilter, iter_files

    settings = ctx.settings
    if args.describe:
        settings.override("vlm.describe", True)
    if args.transcribe:
        settings.override("vlm.transcribe", True)
    if args.no_ocr:
        settings.override("ocr.enabled", False)
    index = ctx.index
    ingestor = Ingestor(index, settings, ctx.home)
    counts: Counter = Counter()
    skipped: Counter = Counter()  # by reason
    failures: list[dict] = []

    def scan_error(path, err):
        counts["failed"] += 1
        if isinstance(err, PermissionError):
            code, msg = "permission", f"{path}: permission denied (cannot list this folder)"
        elif isinstance(err, FileNotFoundError):
            code, msg = "vanished", str(err) if str(path) in str(err) else f"{path}: no such file or folder"
        else:
            code, msg = "scan", str(err)
        index.record_failure(path, code, msg)
        failures.append({"path": path, "error": msg, "type": code})

    skipped_files: list[dict] = []  # what the walk passed over, and why (a key of SKIP_REASONS)

    def skip(path, reason):
        skipped[reason] += 1
        skipped_files.append({"path": path, "reason": reason})

    t0 = time.monotonic()
    show = not (args.quiet or args.json)
    files = list(iter_files(args.paths, FileFilter.from_settings(settings, ctx.home), on_error=scan_error,
                            on_skip=skip))
    image_ids: dict[int, None] = {}  # this run's images, in order: only their jobs are run and counted
    bar = Progress("indexing", len(files), enabled=show)
    # A file named on the command line is indexed even when it was forgotten; in a folder it is skipped.
    named = {os.path.abspath(os.path.expanduser(p)) for p in args.paths}
    for out in ingestor.ingest_paths(files, source=args.source, force=args.force, skip_forgotten=True, named=named):
        counts[out.status] += 1
        if out.image_id is not None:
            image_ids[out.image_id] = None
        if out.status == SKIPPED:
            skipped[out.reason or "skipped"] += 1
        if out.status == FAILED:
            failures.append({"path": out.path, "error": out.error, "type": out.error_type})
        bar.advance(note=out.status)
    bar.finish()

    jobs_run: Counter = Counter()
    job_failures: list[dict] = []
    steps = ingestor.steps_for_new_image()
    if steps and not args.no_wait:
        from vlagent.jobs.build import build_runner

        runner = build_runner(index, settings, ctx.home, worker_id=new_worker_id())
        kinds = [k for k in steps if k in runner.steps]
        ids = list(image_ids)
        pending = runner.queue.pending_count(kinds, image_ids=ids) if kinds and ids else 0
        if pending:
            jbar = Progress("processing", pending, enabled=show)

            def on_report(rep):
                jobs_run[f"{rep.job.kind}_{'done' if rep.ok else rep.state}"] += 1
                if not rep.ok and rep.state == "failed":
                    job_failures.append({"image_id": rep.job.image_id, "job": rep.job.kind, "error": rep.error})
                jbar.advance(note=rep.job.kind)

            # The jobs of this run's images only (not those a watcher queued), in slices that
            # keep each claim's list of ids short.
            for i in range(0, len(ids), CLAIM_SLICE):
                runner.run_until_empty(kinds, on_report=on_report, image_ids=ids[i:i + CLAIM_SLICE])
            jbar.finish()

    return {
        "files": len(files),
        "new": counts["new"],
        "updated": counts["updated"],
        "duplicate": counts["duplicate"],
        "unchanged": counts["unchanged"],
        "failed": counts["failed"],
        "skipped": sum(skipped.values()),
        "skipped_why": dict(skipped),
        "skipped_files": skipped_files,
        "failures": failures,
        "jobs": dict(jobs_run),
        "job_failures": job_failures,
        "elapsed_s": round(time.monotonic() - t0, 2),
    }


def print_summary(summary: dict, args) -> None:
    from vlagent.cli.output import display_text, human_duration, print_json
    from vlagent.ingest.scan import SKIP_REASONS

    if args.json:
        print_json(summary)
        return
    print(f"{summary['files']} files in {human_duration(summary['elapsed_s'])}: {summary['new']} new, "
          f"{summary['updated']} updated, {summary['duplicate']} duplicate, {summary['unchanged']} unchanged, "
          f"{summary['failed']} failed"
          + "".join(f", {n} skipped ({SKIP_REASONS.get(why, why)})"
                    for why, n in sorted(summary["skipped_why"].items())))
    if summary["skipped_why"].get("not_image"):
        print("skipped types: " + skipped_types(summary["skipped_files"]))
    if summary["jobs"]:
        print("jobs: " + ", ".join(f"{k} {v}" for k, v in sorted(summary["jobs"].items())))
    failures = summary["failures"]
    # A name may hold anything (escapes, line breaks): each printed line goes through display_text.
    for f in failures[:50]:
        print(f"  failed [{f['type']}]: {display_text(f['error'])}", file=sys.stderr)
    if len(failures) > 50:
        print(f"  … and {len(failures) - 50} more (vlagent status --failures)", file=sys.stderr)
    for f in summary["job_failures"][:20]:
        print(f"  {f['job']} failed for image #{f['image_id']}: {display_text(f['error'] or '')}", file=sys.stderr)


def skipped_types(skipped_files: list[dict]) -> str:
    """The extensions of the files a walk passed over as no image: ``.txt 2, .avif 1``."""
    import os

    from vlagent.cli.output import display_text

    exts = Counter(os.path.splitext(f["path"])[1].lower() or "(none)" for f in skipped_files
                   if f["reason"] == "not_image")
    return ", ".join(f"{display_text(e)} {n}" for e, n in exts.most_common(10)) + (", …" if len(exts) > 10 else "")
