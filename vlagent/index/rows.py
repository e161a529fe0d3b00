"""Typed rows the index answers with (:class:`vlagent.index.store.Index`), for the code around it
that shows or acts on what it read: a page of search hits with what each hit shows, purge
candidates. Plain frozen dataclasses: no SQL, no sqlite3 types, cheap to import."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ImageSummary:
    """What a list of results shows of one image (read for a whole page in one query)."""

    id: int
    sha256: str
    source: str
    width: int | None
    height: int | None
    format: str | None
    bytes: int | None
    first_seen: float
    taken_at: float | None
    gone_at: float | None  # when its last file went; None while one is present
    thumbnail: str | None  # as stored: relative to the thumbnails folder
    thumbnail_file: str | None  # that file's path (None without a thumbnail or a thumbnails folder)
    path: str | None  # its present file seen first; the first one seen when all are gone; None without any
    path_gone: bool  # ``path`` is a file that is gone
    paths: tuple[str, ...]  # its present files, first seen first
    description: str | None  # the latest description
    ocr: str | None  # the latest text of the fast OCR engine


@dataclass(frozen=True)
class HitRow:
    """One search hit with what it shows."""

    image: ImageSummary
    score: float  # higher is better; 0 when not ranked (date order, empty query)
    snippet: str  # original text, matches between HL_START and HL_END ('' when none was cut)
    snippet_from: str | None  # the field the snippet comes from: names, ocr, description, answers

    @property
    def image_id(self) -> int:
        return self.image.id


@dataclass(frozen=True)
class HitPage:
    """A page of search hits, each with its display fields. Hits of images forgotten between
    the search and the reading of their rows are left out."""

    hits: tuple[HitRow, ...]
    total: int  # matches (a lower bound when total_exact is False)
    total_exact: bool
    relaxed: bool  # nothing matched exactly; these hits match some of the words
    query: str
    fts: str  # the FTS5 expression that ran ('' when none did)
    more: bool | None = None  # with look_ahead: whether another page follows; else None
    search_ms: float = 0.0  # the search alone, without reading the hits' rows


@dataclass(frozen=True)
class PurgeCandidate:
    """An image whose files are all gone, and since when."""

    image_id: int
    gone_at: float


@dataclass(frozen=True)
class ForgottenPath:
    """A path whose image the user forgot: ingest leaves it out while it holds the same file."""

    path: str
    sha256: str  # the content that was forgotten
    size: int | None  # the file's size and mtime when it was forgotten
    mtime: float | None
    at: float  # when it was forgotten
