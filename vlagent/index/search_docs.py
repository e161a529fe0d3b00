"""An image's search document: what the full-text index holds for it, and how it is kept fresh.

``search_docs`` holds, per image, the *indexed* form (:func:`vlagent.index.segment.index_text`)
of four fields — file names, OCR text, descriptions, answers — and a ``filters`` field of
tokens for the search filters (source, every folder above each of its files, the UTC day, month
and year it was first seen). Triggers copy each change into the FTS5 table ``search_fts``
(external content), so deleting an image's doc always removes exactly what was indexed. The
words of 4+ letters also go into ``search_words``, which turns a typed prefix into the words
it starts (:func:`vlagent.index.search._expand`).

The original texts are not copied: they live in ``locations`` and ``results`` and are read
back (:func:`load`) for the few hits a page shows, to cut snippets from.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import os
import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import PurePath

from vlagent.index.segment import index_text
from vlagent.index.textcodec import from_db

FIELDS = ("names", "ocr", "description", "answers")
# In indexed text CJK comes as 1- and 2-character tokens, so 4+ word characters are other words.
_LONG_WORD = re.compile(r"[^\W_]{4,}")
# Filter tokens start with a private-use character: unicode61 keeps it as a letter, while
# normalize() strips it from every text and query, so no user text can produce one.
FILTER_MARK = "\ue000"
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass
class Doc:
    """The original texts of one image's search document."""

    image_id: int
    source: str
    first_seen: float
    paths: list[str] = field(default_factory=list)
    ocr: list[str] = field(default_factory=list)
    description: list[str] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)

    def text(self, name: str) -> str:
        if name == "names":  # bytes that are not UTF-8 (lone surrogates) cannot be indexed: U+FFFD
            return "\n".join(_SURROGATE.sub("\ufffd", os.path.basename(p)) for p in self.paths)
        return "\n".join(getattr(self, name))

    def indexed(self) -> tuple[str, ...]:
        """The row of ``search_docs`` for this image (without its id)."""
        filters = [source_token(self.source), *date_tokens(self.first_seen)]
        folders = dict.fromkeys(str(d) for p in self.paths for d in PurePath(p).parents if d != PurePath(d.anchor))
        filters += [folder_token(d) for d in folders]
        return (*(index_text(self.text(f)) for f in FIELDS), " ".join(filters))


def source_token(source: str) -> str:
    return f"{FILTER_MARK}s{source}"


def folder_token(folder: str) -> str:
    """The token of a folder (normalised, and case-folded where the file system ignores case)."""
    path = os.path.normcase(str(PurePath(folder)))
    digest = hashlib.blake2b(path.encode("utf-8", "surrogatepass"), digest_size=10).digest()
    return f"{FILTER_MARK}f{base64.b32encode(digest).decode().lower()}"


def date_token(unit: str, day: datetime.date) -> str:
    """The token of the UTC year (``y``), month (``m``) or day (``d``) holding ``day``."""
    return FILTER_MARK + unit + day.strftime({"y": "%Y", "m": "%Y%m", "d": "%Y%m%d"}[unit])


def date_tokens(ts: float) -> list[str]:
    day = datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).date()
    return [date_token(unit, day) for unit in "ymd"]


def load(conn: sqlite3.Connection, image_ids: Sequence[int]) -> dict[int, Doc]:
    """The documents of these images (missing ids are left out), read from images, locations, results."""
    if not image_ids:
        return {}
    docs: dict[int, Doc] = {}
    for chunk in (image_ids[i:i + 500] for i in range(0, len(image_ids), 500)):
        marks = ",".join("?" * len(chunk))
        for iid, source, first_seen in conn.execute(
                f"SELECT id, source, first_seen FROM images WHERE id IN ({marks})", chunk):
            docs[iid] = Doc(iid, source, first_seen)
        for iid, path in conn.execute(
                f"SELECT image_id, path FROM locations WHERE image_id IN ({marks}) ORDER BY seen_at, id", chunk):
            docs[iid].paths.append(from_db(path))
        for iid, kind, prompt, text in conn.execute(
                f"SELECT image_id, kind, prompt, text FROM results WHERE image_id IN ({marks})"
                " ORDER BY created_at, id", chunk):
            doc = docs[iid]
            if kind in ("ocr", "vlm_ocr"):
                doc.ocr.append(text)
            elif kind == "description":
                doc.description.append(text)
            elif kind == "answer":
                doc.answers.append(f"{prompt}\n{text}" if prompt else text)
    return docs


def refresh(conn: sqlite3.Connection, image_id: int) -> None:
    """Rewrite one image's search document from its current locations and results.

    Unchanged documents are left alone: an FTS5 update deletes and re-adds every token.
    """
    doc = load(conn, [image_id]).get(image_id)
    old = conn.execute(f"SELECT {', '.join(FIELDS)}, filters FROM search_docs WHERE image_id = ?",
                       (image_id,)).fetchone()
    if doc is None:
        if old is not None:
            conn.execute("DELETE FROM search_docs WHERE image_id = ?", (image_id,))
        return
    row = doc.indexed()
    if old == row:
        return
    if old is None:
        conn.execute(f"INSERT INTO search_docs(image_id, {', '.join(FIELDS)}, filters) VALUES (?,?,?,?,?,?)",
                     (image_id, *row))
    else:
        conn.execute(f"UPDATE search_docs SET {' = ?, '.join(FIELDS)} = ?, filters = ? WHERE image_id = ?",
                     (*row, image_id))
    conn.executemany("INSERT OR IGNORE INTO search_words(word) VALUES (?)", [(w,) for w in words(row)])


def words(row: tuple[str, ...]) -> set[str]:
    """The words of 4+ letters (not only digits) in an indexed row, for prefix expansion.

    The list only grows: a word whose images are gone expands to a word that matches nothing.
    """
    return {w for text in row[:len(FIELDS)] for w in _LONG_WORD.findall(text) if not w.isdigit()}
