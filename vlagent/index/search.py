"""Full-text search over file names, OCR text, descriptions and answers.

The index answers everything: the user's words (:mod:`vlagent.index.query`) AND the filter
tokens every search document carries (source, each folder above its files, UTC day/month/year;
see :mod:`vlagent.index.search_docs`). So a filter is a doclist however selective it is — a
folder of 50 images among a million is found without scanning, and no candidate cap loses it.

Ranking costs: bm25 first counts every row holding each phrase (its idf), then scores each
row. Only the newest ``CANDIDATE_CAP`` matches (recency is a good prior for "what did I see")
are scored; ``Page.total`` is then a lower bound (``total_exact`` False). Filtered candidates
are ranked by the user's words alone, so a filter token in most rows adds no counting
(:func:`_rank_filtered`). Sorting by date needs no ranking and pages through every match.
With ``relax``, when the exact query finds nothing, a relaxed one (any of its words or CJK
bigrams, best first) runs instead and the page says so (``relaxed``). Snippets are cut from
the original texts of the page's hits only.
"""

from __future__ import annotations

import datetime
import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from vlagent.index import snippets
from vlagent.index.query import Query, parse, quote
from vlagent.index.search_docs import date_token, folder_token, load, source_token
from vlagent.index.snippets import HL_END, HL_START

# bm25 weights per column: names, ocr, description, answers, filters (never ranks). A file named
# after the word, or a description (what the image is) saying it, counts more than a passing
# mention in on-screen text.
WEIGHTS = (3.0, 1.0, 1.5, 1.0, 0.0)
_WEIGHTS = ", ".join(map(str, WEIGHTS))
CANDIDATE_CAP = 1000
# Rows of the user's words a filtered search may walk to rank its candidates apart (_rank_filtered).
RANGE_PROBE = 20_000
# A prefix of 4+ letters becomes an OR of up to this many words; more, and FTS5 merges them.
MAX_EXPANSION = 32
SNIPPET_WIDTH = 100  # columns (a CJK character counts two)
# A date range is looked up as day tokens up to this many days, then months, then years.
MAX_DATE_TOKENS = 62
SORTS = ("relevance", "date")


@dataclass
class Filters:
    source: str | None = None
    folder: str | None = None  # images with a file under this folder (any depth)
    since: float | None = None  # epoch seconds, on first_seen
    until: float | None = None  # exclusive


@dataclass
class Hit:
    image_id: int
    score: float  # higher is better; 0 when not ranked (date order, empty query)
    snippet: str  # original text, matches between HL_START and HL_END
    fields: dict[str, Any] = field(default_factory=dict)  # snippet_from: names, ocr, description, answers


@dataclass
class Page:
    hits: list[Hit]
    total: int  # matches (a lower bound when total_exact is False)
    query: str
    fts: str  # the FTS5 expression that ran ('' when none did)
    total_exact: bool = True
    relaxed: bool = False  # nothing matched exactly; these hits match some of the words


def search(conn: sqlite3.Connection, query: str, *, filters: Filters | None = None, limit: int = 20, offset: int = 0,
           sort: str = "relevance", snippet_width: int = SNIPPET_WIDTH, relax: bool = False) -> Page:
    """A page of hits. ``relax``: when nothing matches exactly, return the images matching some
    of the words instead, with ``Page.relaxed`` set (the caller should say so)."""
    if sort not in SORTS:
        raise ValueError(f"sort must be one of {SORTS}, not {sort!r}")
    filters = filters or Filters()
    limit, offset = max(int(limit), 0), max(int(offset), 0)
    q = parse(query)
    words = q.match(expand=lambda prefix: _expand(conn, prefix))
    if not words and query.strip():
        return Page([], 0, query, "")  # only punctuation: nothing can match
    filter_terms = _filter_terms(conn, filters)
    if filter_terms is None:
        return Page([], 0, query, "")  # e.g. a date range before the first image
    if not words and not filter_terms:
        return _recent(conn, query, limit, offset)
    page = _run(conn, q, words, filter_terms, filters, limit, offset, sort)
    if relax and page.total == 0 and words:
        relaxed = q.relaxed()
        loose = relaxed.match(expand=lambda prefix: _expand(conn, prefix)) if relaxed else words
        if relaxed is not None and loose != words:
            page = _run(conn, relaxed, loose, filter_terms, filters, limit, offset, sort)
            page.relaxed, q = True, relaxed
    if words:
        _add_snippets(conn, page.hits, q, snippet_width)
    page.query = query
    return page


def _run(conn: sqlite3.Connection, q: Query, words: str, filter_terms: list[str], filters: Filters, limit: int,
         offset: int, sort: str) -> Page:
    match = " AND ".join(([f"({words})"] if words else []) + filter_terms)
    # Filter tokens are whole UTC days; the exact bounds are checked on the few rows at the edges.
    join, exact = "", ""
    params: list[Any] = [match]
    if filters.since is not None or filters.until is not None:
        join = " CROSS JOIN images AS i ON i.id = f.rowid"
        if filters.since is not None:
            exact += " AND i.first_seen >= ?"
            params.append(filters.since)
        if filters.until is not None:
            exact += " AND i.first_seen < ?"
            params.append(filters.until)
    source = f"FROM search_fts AS f{join} WHERE search_fts MATCH ?{exact}"
    cap = max(CANDIDATE_CAP, offset + limit)
    if sort == "date" or not words:
        rows = conn.execute(f"SELECT f.rowid, 0.0 {source} ORDER BY f.rowid DESC LIMIT ? OFFSET ?",
                            (*params, limit, offset)).fetchall()
        return _page(rows, _count(conn, source, params, cap), q, match, cap)
    if filter_terms:
        ranked = _rank_filtered(conn, words, source, params, cap)
        if ranked is not None:
            ids, scored = ranked
            rows = sorted(scored, key=lambda r: (-r[1], -r[0]))[offset:offset + limit]
            return _page(rows, len(ids), q, match, cap)
    rows = conn.execute(
        f"""WITH c AS MATERIALIZED (
                SELECT f.rowid AS id, bm25(search_fts, {_WEIGHTS}) AS score {source}
                ORDER BY f.rowid DESC LIMIT {cap})
            SELECT id, -score, (SELECT count(*) FROM c) FROM c ORDER BY score, id DESC LIMIT ? OFFSET ?""",
        (*params, limit, offset)).fetchall()
    return _page(rows, rows[0][2] if rows else _count(conn, source, params, cap), q, match, cap)


def _rank_filtered(conn: sqlite3.Connection, words: str, source: str, params: list[Any],
                   cap: int) -> tuple[list[int], list[tuple[int, float]]] | None:
    """(candidate ids, [(id, score)]) for a filtered search, or None to rank it in one query.

    bm25 first counts every row holding each phrase of the query (its idf), filter tokens
    included, and a source or a top folder is in most rows. So the filtered candidates are
    found without ranking, then ranked by a query of the user's words alone over the
    candidates' rowid range — unless the words fill that range (a common word with a selective
    filter spread over the years), when ranking it all in one query costs less.
    """
    ids: list[int] = [r[0] for r in conn.execute(f"SELECT f.rowid {source} ORDER BY f.rowid DESC LIMIT {cap}",
                                                 params)]
    if not ids:
        return [], []
    in_range = (words, ids[-1], ids[0])
    if _count(conn, "FROM search_fts WHERE search_fts MATCH ? AND rowid BETWEEN ? AND ?", in_range,
              RANGE_PROBE) >= RANGE_PROBE:
        return None
    return ids, conn.execute(
        f"""SELECT rowid, -bm25(search_fts, {_WEIGHTS}) FROM search_fts WHERE search_fts MATCH ?
            AND rowid BETWEEN ? AND ? AND +rowid IN (SELECT value FROM json_each(?))""",
        (*in_range, json.dumps(ids))).fetchall()


def _page(rows: Sequence[Sequence[Any]], total: int, q: Query, match: str, cap: int) -> Page:
    return Page([Hit(r[0], r[1], "") for r in rows], total, q.text, match, total_exact=total < cap)


def _count(conn: sqlite3.Connection, source: str, params: Sequence[Any], cap: int) -> int:
    n: int = conn.execute(f"SELECT count(*) FROM (SELECT 1 {source} LIMIT {cap})", params).fetchone()[0]
    return n


def _recent(conn: sqlite3.Connection, query: str, limit: int, offset: int) -> Page:
    """The empty query: the newest images."""
    rows = conn.execute("SELECT id FROM images ORDER BY id DESC LIMIT ? OFFSET ?", (limit, offset)).fetchall()
    total: int = conn.execute(f"SELECT count(*) FROM (SELECT 1 FROM images LIMIT {CANDIDATE_CAP})").fetchone()[0]
    return Page([Hit(r[0], 0.0, "") for r in rows], total, query, "", total_exact=total < CANDIDATE_CAP)


def _expand(conn: sqlite3.Connection, prefix: str) -> list[str] | None:
    """The indexed words ``prefix`` starts, when there are few enough to OR together."""
    end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    found: list[str] = [r[0] for r in conn.execute("SELECT word FROM search_words WHERE word >= ? AND word < ? LIMIT ?",
                                        (prefix, end, MAX_EXPANSION + 1))]
    return found if 0 < len(found) <= MAX_EXPANSION else None


def _filter_terms(conn: sqlite3.Connection, filters: Filters) -> list[str] | None:
    """FTS5 terms for the filters; None when they can match nothing."""
    terms = []
    if filters.source:
        terms.append(quote(source_token(filters.source)))
    if filters.folder:
        folder = PurePath(filters.folder)
        if folder != PurePath(folder.anchor):  # the root holds everything
            terms.append(quote(folder_token(str(folder))))
    if filters.since is not None or filters.until is not None:
        days = _date_terms(conn, filters.since, filters.until)
        if days is None:
            return None
        terms.append(days)
    return terms


def _date_terms(conn: sqlite3.Connection, since: float | None, until: float | None) -> str | None:
    # Two statements: SQLite answers a lone min() or max() from the index, both together by a scan.
    lo = conn.execute("SELECT min(first_seen) FROM images").fetchone()[0]
    hi = conn.execute("SELECT max(first_seen) FROM images").fetchone()[0]
    if lo is None:
        return None
    lo = max(lo, since) if since is not None else lo
    hi = min(hi, until - 1e-6) if until is not None else hi
    if lo > hi:
        return None
    first, last = (datetime.datetime.fromtimestamp(t, datetime.timezone.utc).date() for t in (lo, hi))
    if (last - first).days < MAX_DATE_TOKENS:
        unit = "d"
        days = [first + datetime.timedelta(n) for n in range((last - first).days + 1)]
    else:
        months = (last.year - first.year) * 12 + last.month - first.month + 1
        unit = "m" if months <= MAX_DATE_TOKENS // 2 else "y"
        days = [datetime.date(first.year + (first.month - 1 + n) // 12, (first.month - 1 + n) % 12 + 1, 1)
                for n in range(months)]
    tokens = dict.fromkeys(date_token(unit, d) for d in days)
    return "(" + " OR ".join(map(quote, tokens)) + ")"


def _add_snippets(conn: sqlite3.Connection, hits: list[Hit], q: Query, width: int) -> None:
    units = q.units
    patterns = [snippets.pattern(u) for u in units]
    docs = load(conn, [h.image_id for h in hits])
    for hit in hits:
        doc = docs.get(hit.image_id)
        if doc is not None:
            name, hit.snippet = snippets.make(doc, units, width, patterns)
            hit.fields["snippet_from"] = name


def highlight(snippet: str, start: str = "[", end: str = "]") -> str:
    return snippet.replace(HL_START, start).replace(HL_END, end)


def strip_highlight(snippet: str) -> str:
    return highlight(snippet, "", "")


__all__ = ["search", "Filters", "Hit", "Page", "highlight", "strip_highlight", "HL_START", "HL_END"]
