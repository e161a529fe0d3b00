"""Full-text search over file names, OCR text, descriptions and answers.

A user's query is never passed to FTS5 as syntax: every term becomes a quoted phrase
(CJK segmented the way the index is), so ``C++``, ``42.50``, ``"`` or ``a@b.com`` can't
error. Terms are ANDed; the last term also matches as a prefix (search as you type).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from vlagent.index.segment import SEP, has_cjk, segment, unsegment

HL_START, HL_END = "\x02", "\x03"
# bm25 column weights: names, ocr, description, answers
WEIGHTS = (2.0, 1.0, 1.5, 1.0)
# Ranking every match of a very common term costs O(matches); the most recent this many
# matches are ranked instead (recency is a good prior for "what did I see").
CANDIDATE_CAP = 5000
_TOKEN_CHARS = re.compile(r"\w", re.UNICODE)


@dataclass
class Filters:
    source: str | None = None
    folder: str | None = None  # a path prefix
    since: float | None = None  # epoch seconds, on first_seen
    until: float | None = None


@dataclass
class Hit:
    image_id: int
    score: float
    snippet: str
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class Page:
    hits: list[Hit]
    total: int | None
    query: str
    fts: str


def build_match(query: str) -> str:
    """The FTS5 MATCH expression for a user's query ('' when it has nothing searchable)."""
    terms = [t for t in query.split() if _TOKEN_CHARS.search(t)]
    parts = []
    for i, term in enumerate(terms):
        seg = segment(term)
        phrase = '"' + seg.replace('"', '""') + '"'
        last = i == len(terms) - 1
        # A prefix on the last Latin term gives search-as-you-type; CJK is already per character.
        if last and len(term) >= 2 and _TOKEN_CHARS.match(term[-1]) and not has_cjk(term[-1]):
            phrase += "*"
        parts.append(phrase)
    return " AND ".join(parts)


def _filter_sql(filters: Filters) -> tuple[str, list[Any]]:
    where, params = [], []
    if filters.source:
        where.append("i.source = ?")
        params.append(filters.source)
    if filters.since is not None:
        where.append("i.first_seen >= ?")
        params.append(filters.since)
    if filters.until is not None:
        where.append("i.first_seen < ?")
        params.append(filters.until)
    if filters.folder:
        prefix = filters.folder.rstrip("/") + "/"
        # A range scan on the unique path index; LIKE would not use it (and is case-folding).
        where.append("EXISTS (SELECT 1 FROM locations l WHERE l.image_id = i.id AND l.path >= ? AND l.path < ?)")
        params += [prefix, prefix[:-1] + chr(ord("/") + 1)]
    return (" AND ".join(where), params)


def search(conn, query: str, *, filters: Filters | None = None, limit: int = 20, offset: int = 0,
           sort: str = "relevance", snippet_tokens: int = 24) -> Page:
    filters = filters or Filters()
    match = build_match(query)
    fsql, fparams = _filter_sql(filters)
    if not match and query.strip():
        return Page([], 0, query, "")  # only punctuation: nothing can match
    if not match:
        # An empty query lists the most recent images.
        sql = "SELECT i.id, 0.0 AS score, '' AS snip FROM images i"
        if fsql:
            sql += " WHERE " + fsql
        sql += " ORDER BY i.first_seen DESC, i.id DESC LIMIT ? OFFSET ?"
        rows = conn.execute(sql, (*fparams, limit, offset)).fetchall()
        return Page([Hit(r[0], r[1], "") for r in rows], None, query, "")
    w = ", ".join(str(x) for x in WEIGHTS)
    order = "score" if sort == "relevance" else "i.first_seen DESC, c.rowid DESC"
    # MATCH runs first, alone, capped (see CANDIDATE_CAP); filters join afterwards.
    sql = f"""
        WITH c AS (
            SELECT rowid, bm25(search_fts, {w}) AS score,
                   snippet(search_fts, -1, '{HL_START}', '{HL_END}', '…', {snippet_tokens}) AS snip
            FROM search_fts WHERE search_fts MATCH ? ORDER BY rowid DESC LIMIT {CANDIDATE_CAP}
        )
        SELECT c.rowid, c.score, c.snip FROM c JOIN images i ON i.id = c.rowid
        {"WHERE " + fsql if fsql else ""}
        ORDER BY {order} LIMIT ? OFFSET ?
    """
    rows = conn.execute(sql, (match, *fparams, limit, offset)).fetchall()
    hits = [Hit(r[0], -r[1], unsegment(r[2] or "")) for r in rows]
    return Page(hits, None, query, match)


def highlight(snippet: str, start: str = "[", end: str = "]") -> str:
    return snippet.replace(HL_START, start).replace(HL_END, end)


def strip_highlight(snippet: str) -> str:
    return highlight(snippet, "", "")


def count(conn, query: str) -> int:
    match = build_match(query)
    if not match:
        return conn.execute("SELECT count(*) FROM images").fetchone()[0]
    return conn.execute("SELECT count(*) FROM search_fts WHERE search_fts MATCH ?", (match,)).fetchone()[0]


__all__ = ["search", "build_match", "Filters", "Hit", "Page", "highlight", "strip_highlight", "count", "SEP"]
