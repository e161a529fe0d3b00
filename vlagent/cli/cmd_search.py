"""``vlagent search`` and ``vlagent show`` — read-only, fast, no model."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from vlagent.cli.main import UsageError
from vlagent.index.store import SOURCES

if TYPE_CHECKING:
    from vlagent.cli.context import Context


def register(sub) -> None:
    p = sub.add_parser("search", help="search everything indexed (OCR text, descriptions, answers, file names)",
                       description="Full-text search. Chinese/Japanese work at any length (1 character too); "
                                   "every word must match; the last word also matches as a prefix; "
                                   '"quotes" for a phrase, -word to exclude, OR between alternatives. '
                                   "When nothing matches exactly, images matching some of the words are shown.")
    p.add_argument("query", nargs="*", help="words to find (empty: the most recent images)")
    p.add_argument("-n", "--limit", type=int, default=20, help="results per page (default 20)")
    p.add_argument("--offset", type=int, default=0, help="skip this many results (paging)")
    p.add_argument("--page", type=int, help="page number (1-based), instead of --offset")
    p.add_argument("--source", choices=SOURCES, help="only this source")
    p.add_argument("--folder", help="only images with a file under this folder")
    p.add_argument("--since", help="seen on/after: YYYY-MM-DD, or a span like 7d, 12h, 2w")
    p.add_argument("--until", help="seen before: YYYY-MM-DD or a span")
    p.add_argument("--sort", choices=["relevance", "date"], default="relevance")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run_search)

    s = sub.add_parser("show", help="show one image: metadata, OCR text, description, answers, timings")
    s.add_argument("ref", metavar="ID|PATH", help="image id, sha256 prefix or a file path")
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s.add_argument("--lines", action="store_true", help="also list OCR lines with boxes and confidences")
    s.set_defaults(func=run_show)


def parse_when(text: str | None) -> float | None:
    from vlagent import common

    try:
        return common.parse_when(text)
    except ValueError:
        raise UsageError(f"cannot read the date {text!r} (use YYYY-MM-DD or a span like 7d)") from None


def hit_record(hit) -> dict:
    """What ``search`` shows of a hit (a :class:`vlagent.index.rows.HitRow`)."""
    from vlagent.index.search import strip_highlight

    img = hit.image
    return {
        "id": img.id,
        "path": img.path,
        "paths": list(img.paths),
        "gone": img.gone_at is not None,
        "score": round(hit.score, 4),
        "snippet": strip_highlight(hit.snippet),
        "snippet_marked": hit.snippet.replace("\x02", "[").replace("\x03", "]"),
        "ocr_text": img.ocr or "",
        "description": img.description or "",
        "source": img.source,
        "width": img.width,
        "height": img.height,
        "format": img.format,
        "sha256": img.sha256,
        "first_seen": img.first_seen,
        "taken_at": img.taken_at,
        "thumbnail": img.thumbnail_file,
    }


def run_search(ctx: Context, args) -> int:
    from vlagent.cli.output import display_path, print_json
    from vlagent.index.search import Filters, highlight

    query = " ".join(args.query)
    index = ctx.index_if_exists()
    if index is None:
        if args.json:
            print_json([])
        else:
            print("Nothing indexed yet. Try: vlagent index ~/Pictures", file=sys.stderr)
        return 0
    if args.limit < 1:
        raise UsageError("--limit must be at least 1")
    offset = (args.page - 1) * args.limit if args.page and args.page > 0 else max(args.offset, 0)
    filters = Filters(source=args.source,
                      folder=os.path.abspath(os.path.expanduser(args.folder)) if args.folder else None,
                      since=parse_when(args.since), until=parse_when(args.until))
    page = index.search_page(query, filters=filters, limit=args.limit, offset=offset, sort=args.sort, relax=True)
    records = [{**hit_record(h), "relaxed": page.relaxed} for h in page.hits]
    if args.json:
        print_json(records)
        return 0
    if not records:
        print("no results" if query else "nothing indexed yet", file=sys.stderr)
        return 0
    if page.relaxed:
        print("no exact match; showing images that match some of the words", file=sys.stderr)
    tty = sys.stdout.isatty()
    for rank, (hit, rec) in enumerate(zip(page.hits, records), start=offset + 1):
        path = display_path(rec["path"]) if rec["path"] else "(no file)"
        gone = "  [file gone]" if rec["gone"] else ""
        print(f"{rank:>3}. #{rec['id']}  {path}{gone}")
        snip = hit.snippet or (rec["description"] or rec["ocr_text"])[:160]
        snip = _display_snippet(" ".join(snip.split()))
        if snip:
            print("     " + (highlight(snip, "\x1b[1;33m", "\x1b[0m") if tty else highlight(snip)))
    return 0


def _display_snippet(snippet: str) -> str:
    """:func:`vlagent.common.display_text` of a snippet, keeping its highlight marks."""
    from vlagent.cli.output import display_text
    from vlagent.index.snippets import HL_END, HL_START

    return HL_START.join(HL_END.join(display_text(t) for t in part.split(HL_END))
                         for part in snippet.split(HL_START))


def run_show(ctx: Context, args) -> int:
    from vlagent.cli.output import display_path, display_text, human_bytes, human_time, print_json

    index = ctx.index_if_exists()
    img = index.resolve(args.ref) if index else None
    d = index.detail(img["id"]) if index and img else None
    if index is None or d is None:
        raise UsageError(f"no image matches {display_text(repr(args.ref))}")
    thumb = index.thumbnail_path(d)
    d["thumbnail"] = str(thumb) if thumb else None
    if args.json:
        if not args.lines:
            for r in d["results"]:
                r.pop("lines", None)
        print_json(d)
        return 0
    print(f"#{d['id']}  {d['width']}x{d['height']} {d['format'] or '?'}  {human_bytes(d['bytes'])}  "
          f"source: {d['source']}")
    print(f"sha256: {d['sha256']}")
    print(f"first seen: {human_time(d['first_seen'])}"
          + (f"   taken: {human_time(d['taken_at'])}" if d["taken_at"] else "")
          + (f"   gone since: {human_time(d['gone_at'])}" if d["gone_at"] else ""))
    for loc in d["locations"]:
        print(f"  {'gone ' if loc['gone_at'] else 'file '} {display_path(loc['path'])}")
    if d["thumbnail"]:
        print(f"thumbnail: {d['thumbnail']}")
    for r in d["results"]:
        timing = f"{r['latency_ms']:.0f} ms" if r["latency_ms"] is not None else ""
        extra = ""
        if r.get("timings"):
            t = r["timings"]
            extra = "  " + ", ".join(f"{k} {v}" for k, v in t.items() if not isinstance(v, (dict, list)))
        print(f"\n[{r['kind']}] {r['engine']}{' / ' + r['model'] if r['model'] else ''}  {timing}{extra}")
        if r["prompt"]:
            print(f"Q: {r['prompt']}")
        print(r["text"] if r["text"] else "(no text)")
        if args.lines and r.get("lines"):
            for line in r["lines"]:
                print(f"   {line['score']:.2f} {line['box']} {line['text']}")
    pending = [j for j in d["jobs"] if j["state"] in ("pending", "running", "failed")]
    if pending:
        print()
        for j in pending:
            print(f"job {j['kind']}: {j['state']}" + (f" ({display_text(j['error'])})" if j["error"] else ""))
    return 0
