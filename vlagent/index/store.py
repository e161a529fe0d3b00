"""The image index: images (by content hash), their locations, results and search docs.

:class:`Index` is the only code that speaks SQL to the index (with the modules of this package
it uses): the rest of vlagent asks it, and gets plain values, dicts or the typed rows of
:mod:`vlagent.index.rows` back.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vlagent.index import search_docs
from vlagent.index.db import Database, check_not_gone, connect
from vlagent.index.db import transaction as db_transaction
from vlagent.index.migrations import schema_version
from vlagent.index.rows import ForgottenPath, HitPage, HitRow, ImageSummary, PurgeCandidate
from vlagent.index.search import SNIPPET_WIDTH, Filters, Page, search
from vlagent.index.textcodec import from_db, opt_from_db, to_db

if TYPE_CHECKING:
    from vlagent.home import Home

SOURCES = ("folder", "screenshot", "import", "api", "web")  # web: dropped on the browser page
# Result kinds. OCR = the fast engine's text; vlm_ocr = the model's transcription.
RESULT_KINDS = ("ocr", "vlm_ocr", "description", "answer")
# Kinds of which an image keeps one result per engine (a rerun replaces it); answers accumulate.
SINGLE_KINDS = ("ocr", "vlm_ocr", "description")

Params = Sequence[Any] | Mapping[str, Any]
Record = dict[str, Any]

# One row per image for a list of results: the record, its locations in the order they were
# first seen (numbered, so the order does not depend on how JSON arrays are aggregated) and its
# latest description and OCR text.
_SUMMARY_SQL = """
SELECT i.id, i.sha256, i.source, i.width, i.height, i.format, i.bytes, i.first_seen, i.taken_at,
       i.thumbnail, i.gone_at,
       (SELECT json_group_array(json_array(o.n, o.path, o.gone)) FROM (
            SELECT row_number() OVER (ORDER BY l.seen_at, l.id) AS n, l.path, l.gone_at IS NOT NULL AS gone
            FROM locations AS l WHERE l.image_id = i.id) AS o) AS locations,
       (SELECT text FROM results r WHERE r.image_id = i.id AND r.kind = 'description'
        ORDER BY r.created_at DESC, r.id DESC LIMIT 1) AS description,
       (SELECT text FROM results r WHERE r.image_id = i.id AND r.kind = 'ocr'
        ORDER BY r.created_at DESC, r.id DESC LIMIT 1) AS ocr
FROM images AS i WHERE i.id IN ({marks})"""
# SQLite's default limit on host parameters in one statement is 32766 (999 before 3.32).
_MAX_PARAMS = 900


@dataclass
class Result:
    kind: str
    text: str
    engine: str
    model: str | None = None
    prompt: str | None = None
    params: dict[str, Any] | None = None
    lines: list[Any] | None = None
    latency_ms: float | None = None
    timings: dict[str, Any] | None = None


def _row(cursor: sqlite3.Cursor, row: Sequence[Any]) -> Record:
    return {d[0]: v for d, v in zip(cursor.description, row, strict=True)}


def _rowid(cursor: sqlite3.Cursor) -> int:
    rowid = cursor.lastrowid
    assert rowid is not None, "an INSERT always sets lastrowid"
    return rowid


class Index:
    def __init__(self, db: Database, thumbnails_dir: Path | None = None, derived_files: tuple[Path, ...] = ()):
        self.db = db
        self.conn = db.conn
        self.thumbnails_dir = thumbnails_dir
        self.derived_files = derived_files  # files made from images (not one image's): deleted by forget

    @classmethod
    def open(cls, home: Home, *, readonly: bool = False) -> Index:
        if not readonly:
            check_not_gone(home.db_path)  # before ensure(): a vanished home is not made again
            home.ensure()
        return cls(connect(home.db_path, readonly=readonly), home.thumbnails, (home.conversation_cache,))

    def check_still_there(self) -> None:
        """Raise :class:`~vlagent.index.db.IndexGone` when this connection's database file is
        no longer at its path (the data home was deleted or its disk unmounted): what is
        written from then on would be lost. Long-running threads call it before their work."""
        self.db.check_still_there()

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """``with index.transaction():`` — what runs inside is one write transaction
        (BEGIN IMMEDIATE … COMMIT, ROLLBACK on error); nested use joins the outer one."""
        with db_transaction(self.db):
            yield

    def query(self, sql: str, params: Params = ()) -> list[Record]:
        cur = self.conn.execute(sql, params)
        return [_row(cur, r) for r in cur.fetchall()]

    def query_one(self, sql: str, params: Params = ()) -> Record | None:
        cur = self.conn.execute(sql, params)
        r = cur.fetchone()
        return _row(cur, r) if r is not None else None

    def _scalar(self, sql: str, params: Params = ()) -> Any:
        return self.conn.execute(sql, params).fetchone()[0]

    # --- the database itself ----------------------------------------------------------
    def schema_version(self) -> int:
        return schema_version(self.db)

    def integrity_check(self) -> str:
        """SQLite's ``PRAGMA quick_check``: ``'ok'``, or the first problem it found."""
        result: str = self._scalar("PRAGMA quick_check")
        return result

    # --- images and locations ----------------------------------------------------------
    def image_by_sha(self, sha256: str) -> Record | None:
        return self.query_one("SELECT * FROM images WHERE sha256 = ?", (sha256,))

    def image(self, image_id: int) -> Record | None:
        return self.query_one("SELECT * FROM images WHERE id = ?", (image_id,))

    def location(self, path: str) -> Record | None:
        r = self.query_one("SELECT * FROM locations WHERE path = ?", (to_db(path),))
        return None if r is None else _paths_from_db(r)

    def unchanged_location(self, path: str, size: int, mtime: float) -> int | None:
        """The image id at ``path`` when the file's size and mtime match what was indexed."""
        r = self.conn.execute(
            "SELECT image_id FROM locations WHERE path = ? AND size = ? AND mtime = ? AND gone_at IS NULL",
            (to_db(path), size, mtime),
        ).fetchone()
        return int(r[0]) if r else None

    def locations(self, image_id: int, *, include_gone: bool = True) -> list[Record]:
        sql = "SELECT * FROM locations WHERE image_id = ?"
        if not include_gone:
            sql += " AND gone_at IS NULL"
        return [_paths_from_db(r) for r in self.query(sql + " ORDER BY seen_at", (image_id,))]

    def live_paths_under(self, folder: str, *, after: str | None = None, limit: int | None = None) -> list[str]:
        """The paths of present files under ``folder`` (at any depth), in path order; with
        ``after``, only those sorting after it (to page through a big folder)."""
        folder = to_db(folder)  # the encoding keeps prefixes: the folder's range holds its paths
        lo = folder.rstrip(os.sep) + os.sep
        hi = folder.rstrip(os.sep) + chr(ord(os.sep) + 1)
        sql = "SELECT path FROM locations WHERE gone_at IS NULL AND path > ? AND path < ? ORDER BY path"
        params: list[Any] = [lo if after is None else max(to_db(after), lo), hi]
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [from_db(r[0]) for r in self.conn.execute(sql, params)]

    def add_image(self, *, sha256: str, width: int, height: int, format: str | None, bytes: int,
                  mtime: float | None, source: str, taken_at: float | None = None,
                  thumbnail: str | None = None, first_seen: float | None = None) -> tuple[int, bool]:
        """Insert an image by content hash; returns (id, created). ``first_seen``: now, unless
        given (an import of records seen earlier, a generated corpus)."""
        if source not in SOURCES:
            raise ValueError(f"unknown source {source!r}")
        with db_transaction(self.db):
            r = self.conn.execute("SELECT id FROM images WHERE sha256 = ?", (sha256,)).fetchone()
            if r:
                self.conn.execute("UPDATE images SET gone_at = NULL WHERE id = ?", (r[0],))
                return int(r[0]), False
            cur = self.conn.execute(
                "INSERT INTO images(sha256, width, height, format, bytes, mtime, source, first_seen, taken_at,"
                " thumbnail) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (sha256, width, height, format, bytes, mtime, source,
                 time.time() if first_seen is None else first_seen, taken_at, thumbnail),
            )
            return _rowid(cur), True

    def set_location(self, image_id: int, path: str, *, size: int | None, mtime: float | None) -> None:
        """Record that ``path`` holds image ``image_id`` (replacing what the path held before)."""
        path = to_db(path)
        with db_transaction(self.db):
            old = self.conn.execute("SELECT image_id FROM locations WHERE path = ?", (path,)).fetchone()
            self.conn.execute(
                "INSERT INTO locations(image_id, path, size, mtime, seen_at) VALUES (?,?,?,?,?)"
                " ON CONFLICT(path) DO UPDATE SET image_id = excluded.image_id, size = excluded.size,"
                " mtime = excluded.mtime, seen_at = excluded.seen_at, gone_at = NULL",
                (image_id, path, size, mtime, time.time()),
            )
            self.conn.execute("UPDATE images SET gone_at = NULL WHERE id = ?", (image_id,))
            self.conn.execute("DELETE FROM forgotten WHERE path = ?", (path,))  # indexed again on purpose
            if old is None or old[0] != image_id:
                self.refresh_search_doc(image_id)
                if old is not None:
                    self._after_location_lost(old[0])

    def move_location(self, old_path: str, new_path: str) -> int | None:
        """A file was renamed or moved: repoint its location (no re-hash, no re-OCR)."""
        old_path, new_path = to_db(old_path), to_db(new_path)
        with db_transaction(self.db):
            r = self.conn.execute("SELECT image_id FROM locations WHERE path = ?", (old_path,)).fetchone()
            if r is None:  # a forgotten file renamed stays forgotten
                self.conn.execute("UPDATE OR REPLACE forgotten SET path = ? WHERE path = ?", (new_path, old_path))
                return None
            self.conn.execute("DELETE FROM forgotten WHERE path = ?", (new_path,))
            displaced = self.conn.execute("SELECT image_id FROM locations WHERE path = ?", (new_path,)).fetchone()
            self.conn.execute("DELETE FROM locations WHERE path = ?", (new_path,))
            if displaced is not None and displaced[0] != r[0]:
                self._after_location_lost(displaced[0])
                self.refresh_search_doc(displaced[0])
            self.conn.execute(
                "UPDATE locations SET path = ?, seen_at = ?, gone_at = NULL WHERE path = ?",
                (new_path, time.time(), old_path),
            )
            self.refresh_search_doc(r[0])
            return int(r[0])

    def mark_gone(self, path: str, *, at: float | None = None) -> int | None:
        """The file at ``path`` disappeared. Returns the image id it held, if any."""
        at = at or time.time()
        path = to_db(path)
        with db_transaction(self.db):
            r = self.conn.execute("SELECT image_id FROM locations WHERE path = ? AND gone_at IS NULL",
                                  (path,)).fetchone()
            if r is None:
                return None
            self.conn.execute("UPDATE locations SET gone_at = ? WHERE path = ?", (at, path))
            self._after_location_lost(r[0], at=at)
            return int(r[0])

    def _after_location_lost(self, image_id: int, at: float | None = None) -> None:
        live = self._scalar("SELECT count(*) FROM locations WHERE image_id = ? AND gone_at IS NULL", (image_id,))
        if live == 0:
            self.conn.execute("UPDATE images SET gone_at = ? WHERE id = ? AND gone_at IS NULL",
                              (at or time.time(), image_id))

    def set_thumbnail(self, image_id: int, relpath: str) -> None:
        self.conn.execute("UPDATE images SET thumbnail = ? WHERE id = ?", (relpath, image_id))

    def thumbnail_path(self, image: Mapping[str, Any]) -> Path | None:
        relpath: str | None = image.get("thumbnail")
        if not relpath or self.thumbnails_dir is None:
            return None
        return self.thumbnails_dir / relpath

    def forget(self, image_id: int, *, keep_out: bool = False) -> bool:
        """Remove an image, its locations, results, jobs, search entry and thumbnail, and the
        files made from several images (:attr:`derived_files`: the model's saved conversation).
        Its id is never given to another image. ``keep_out`` (what a user's forget does): its paths are
        recorded as forgotten, so ingest skips them while they hold what was forgotten
        (:meth:`forgotten_path`), until the file is named explicitly or indexed with force."""
        image = self.image(image_id)
        if image is None:
            return False
        with db_transaction(self.db):
            if keep_out:
                self.conn.execute(
                    "INSERT OR REPLACE INTO forgotten(path, sha256, size, mtime, at)"
                    " SELECT path, ?, size, mtime, ? FROM locations WHERE image_id = ?",
                    (image["sha256"], time.time(), image_id))
            # search_docs first so its delete trigger can remove the FTS entry with old values.
            self.conn.execute("DELETE FROM search_docs WHERE image_id = ?", (image_id,))
            self.conn.execute("DELETE FROM images WHERE id = ?", (image_id,))
        thumb = self.thumbnail_path(image)
        if thumb is not None:
            thumb.unlink(missing_ok=True)
        for path in self.derived_files:
            path.unlink(missing_ok=True)
        return True

    def forgotten_path(self, path: str) -> ForgottenPath | None:
        """What was forgotten at ``path`` (by ``forget(..., keep_out=True)``), if anything."""
        r = self.conn.execute("SELECT sha256, size, mtime, at FROM forgotten WHERE path = ?",
                              (to_db(path),)).fetchone()
        return None if r is None else ForgottenPath(path, r[0], r[1], r[2], r[3])

    def forgotten_file_touched(self, path: str, *, size: int | None, mtime: float | None) -> None:
        """A forgotten file was rewritten with the same content: note its new size and mtime."""
        self.conn.execute("UPDATE forgotten SET size = ?, mtime = ? WHERE path = ?", (size, mtime, to_db(path)))

    def purge_candidates(self, gone_before: float, limit: int | None = None) -> list[PurgeCandidate]:
        """Images gone (no present file left) since before ``gone_before``, longest gone first;
        ``limit`` (when not None or 0) caps how many."""
        sql = ("SELECT id, gone_at FROM images WHERE gone_at IS NOT NULL AND gone_at < ?"
               " AND NOT EXISTS (SELECT 1 FROM locations l WHERE l.image_id = images.id AND l.gone_at IS NULL)"
               " ORDER BY gone_at")
        params: list[Any] = [gone_before]
        if limit:
            sql += " LIMIT ?"
            params.append(limit)
        return [PurgeCandidate(image_id, gone_at) for image_id, gone_at in self.conn.execute(sql, params)]

    def resolve(self, ref: str) -> Record | None:
        """An image by id, by sha256 (or a unique prefix of ≥ 8 hex digits), or by a path."""
        ref = str(ref).strip()
        if ref.isdigit():
            img = self.image(int(ref))
            if img:
                return img
        if len(ref) >= 8 and all(c in "0123456789abcdef" for c in ref.lower()):
            rows = self.query("SELECT * FROM images WHERE sha256 LIKE ? LIMIT 2", (ref.lower() + "%",))
            if len(rows) == 1:
                return rows[0]
        for candidate in (ref, os.path.abspath(os.path.expanduser(ref))):
            loc = self.location(candidate)
            if loc:
                return self.image(loc["image_id"])
        return None

    # --- results ----------------------------------------------------------------------
    def add_result(self, image_id: int, result: Result, *, refresh_search: bool = True) -> int:
        with db_transaction(self.db):
            if result.kind in SINGLE_KINDS:
                self.conn.execute("DELETE FROM results WHERE image_id = ? AND kind = ? AND engine = ?",
                                  (image_id, result.kind, result.engine))
            cur = self.conn.execute(
                "INSERT INTO results(image_id, kind, text, engine, model, prompt, params, lines, latency_ms,"
                " timings, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (image_id, result.kind, result.text, result.engine, result.model, result.prompt,
                 _json(result.params), _json(result.lines), result.latency_ms, _json(result.timings),
                 time.time()),
            )
            if refresh_search:
                self.refresh_search_doc(image_id)
            return _rowid(cur)

    def results(self, image_id: int, kind: str | None = None) -> list[Record]:
        sql = "SELECT * FROM results WHERE image_id = ?"
        params: list[Any] = [image_id]
        if kind:
            sql += " AND kind = ?"
            params.append(kind)
        rows = self.query(sql + " ORDER BY created_at, id", params)
        for r in rows:
            for k in ("params", "lines", "timings"):
                if r[k]:
                    r[k] = json.loads(r[k])
        return rows

    def result_kinds(self, image_id: int) -> set[str]:
        """The kinds of result the image has (``ocr``, ``description``…)."""
        return {r[0] for r in self.conn.execute("SELECT kind FROM results WHERE image_id = ?", (image_id,))}

    def latest_text(self, image_id: int, kind: str) -> str:
        r = self.conn.execute(
            "SELECT text FROM results WHERE image_id = ? AND kind = ? ORDER BY created_at DESC, id DESC LIMIT 1",
            (image_id, kind),
        ).fetchone()
        return str(r[0]) if r else ""

    # --- jobs of one image (the queue itself is vlagent.index.queue.JobQueue) ----------------
    def active_job_count(self, image_id: int) -> int:
        """How many of the image's jobs are pending or running."""
        n: int = self._scalar("SELECT count(*) FROM jobs WHERE image_id = ? AND state IN ('pending', 'running')",
                              (image_id,))
        return n

    def ended_job_kinds(self, image_id: int) -> set[str]:
        """The kinds of the image's jobs that ended (done, failed or cancelled)."""
        return {r[0] for r in self.conn.execute(
            "SELECT kind FROM jobs WHERE image_id = ? AND state NOT IN ('pending', 'running')", (image_id,))}

    # --- search -----------------------------------------------------------------------
    def search(self, query: str, *, filters: Filters | None = None, limit: int = 20, offset: int = 0,
               sort: str = "relevance", snippet_width: int = SNIPPET_WIDTH, relax: bool = False) -> Page:
        """A page of hits (ids, scores, snippets): :func:`vlagent.index.search.search`."""
        return search(self.conn, query, filters=filters, limit=limit, offset=offset, sort=sort,
                      snippet_width=snippet_width, relax=relax)

    def search_page(self, query: str, *, filters: Filters | None = None, limit: int = 20, offset: int = 0,
                    sort: str = "relevance", snippet_width: int = SNIPPET_WIDTH, relax: bool = False,
                    look_ahead: bool = False) -> HitPage:
        """A page of hits with what each shows (:class:`ImageSummary`, read in one query for the
        page). ``look_ahead`` also searches one hit past the page, so ``more`` says whether
        another page follows."""
        t0 = time.perf_counter()
        limit = max(int(limit), 0)
        page = self.search(query, filters=filters, limit=limit + 1 if look_ahead else limit, offset=offset,
                           sort=sort, snippet_width=snippet_width, relax=relax)
        search_ms = (time.perf_counter() - t0) * 1000
        hits = page.hits[:limit]
        images = self.image_summaries([h.image_id for h in hits])
        rows = tuple(HitRow(images[h.image_id], h.score, h.snippet, h.fields.get("snippet_from"))
                     for h in hits if h.image_id in images)
        return HitPage(rows, page.total, page.total_exact, page.relaxed, page.query, page.fts,
                       more=len(page.hits) > limit if look_ahead else None, search_ms=search_ms)

    def image_summaries(self, image_ids: Sequence[int]) -> dict[int, ImageSummary]:
        """What a list of results shows of each image, in one query (per 900 ids): its record,
        its best location (a present one first; ``path_gone`` when there is none), its present
        paths, its latest description and OCR text. Images not (or no longer) there are missing
        from the answer."""
        out: dict[int, ImageSummary] = {}
        ids = list(image_ids)
        for chunk in (ids[i:i + _MAX_PARAMS] for i in range(0, len(ids), _MAX_PARAMS)):
            cur = self.conn.execute(_SUMMARY_SQL.format(marks=",".join("?" * len(chunk))), chunk)
            for r in cur.fetchall():
                out[r[0]] = self._summary(r)
        return out

    def _summary(self, r: Sequence[Any]) -> ImageSummary:
        (image_id, sha256, source, width, height, fmt, nbytes, first_seen, taken_at, thumbnail, gone_at,
         locations, description, ocr) = r
        locs = sorted(json.loads(locations))  # [n, path, gone], numbered in the order first seen
        live = tuple(from_db(path) for _, path, gone in locs if not gone)
        path, path_gone = (live[0], False) if live else (from_db(locs[0][1]), True) if locs else (None, False)
        thumb = self.thumbnail_path({"thumbnail": thumbnail})
        return ImageSummary(
            id=image_id, sha256=sha256, source=source, width=width, height=height, format=fmt, bytes=nbytes,
            first_seen=first_seen, taken_at=taken_at, gone_at=gone_at, thumbnail=thumbnail,
            thumbnail_file=str(thumb) if thumb else None, path=path, path_gone=path_gone, paths=live,
            description=description, ocr=ocr)

    # --- the timeline (everything seen, newest first, by local day) ----------------------
    def timeline_days(self) -> list[tuple[str, int]]:
        """(local day ``YYYY-MM-DD``, images first seen that day), newest day first."""
        return [(day, n) for day, n in self.conn.execute(
            "SELECT date(first_seen, 'unixepoch', 'localtime') AS day, count(*) FROM images"
            " GROUP BY day ORDER BY day DESC")]

    def timeline_page(self, offset: int, limit: int) -> list[ImageSummary]:
        """``limit`` images from ``offset`` in the timeline's order (first seen, newest first)."""
        ids = [r[0] for r in self.conn.execute(
            "SELECT id FROM images ORDER BY first_seen DESC, id DESC LIMIT ? OFFSET ?", (limit, offset))]
        found = self.image_summaries(ids)
        return [found[i] for i in ids if i in found]

    def summaries(self, image_ids: list[int]) -> dict[int, Record]:
        """:meth:`image_summaries` as dicts (id, source, first_seen, width, height, bytes,
        thumbnail, gone_at, path, path_gone (0 or 1), description, ocr)."""
        return {
            image_id: {"id": s.id, "source": s.source, "first_seen": s.first_seen, "width": s.width,
                       "height": s.height, "bytes": s.bytes, "thumbnail": s.thumbnail, "gone_at": s.gone_at,
                       "path": s.path, "path_gone": int(s.path_gone), "description": s.description, "ocr": s.ocr}
            for image_id, s in self.image_summaries(image_ids).items()
        }

    def refresh_search_doc(self, image_id: int) -> None:
        """Rebuild the searchable text of one image from its locations and results."""
        search_docs.refresh(self.conn, image_id)

    # --- per-item failures ------------------------------------------------------------
    def record_failure(self, path: str, error_type: str, message: str) -> None:
        path, message = to_db(path), to_db(message)  # a message quotes the path
        with db_transaction(self.db):
            self.conn.execute("DELETE FROM failures WHERE path = ?", (path,))
            self.conn.execute("INSERT INTO failures(path, error_type, error, at) VALUES (?,?,?,?)",
                              (path, error_type, message, time.time()))

    def clear_failure(self, path: str) -> None:
        self.conn.execute("DELETE FROM failures WHERE path = ?", (to_db(path),))

    def failures(self, limit: int = 100) -> list[Record]:
        return [_paths_from_db(r, "path", "error")
                for r in self.query("SELECT * FROM failures ORDER BY at DESC LIMIT ?", (limit,))]

    # --- views ------------------------------------------------------------------------
    def detail(self, image_id: int) -> Record | None:
        img = self.image(image_id)
        if img is None:
            return None
        img["locations"] = self.locations(image_id)
        img["paths"] = [loc["path"] for loc in img["locations"] if loc["gone_at"] is None]
        img["path"] = img["paths"][0] if img["paths"] else (img["locations"][0]["path"] if img["locations"] else None)
        img["results"] = self.results(image_id)
        img["ocr_text"] = self.latest_text(image_id, "ocr")
        img["description"] = self.latest_text(image_id, "description")
        img["jobs"] = [_paths_from_db(j, "error") for j in self.query(
            "SELECT id, kind, state, attempts, error FROM jobs WHERE image_id = ? ORDER BY id", (image_id,))]
        return img

    def stats(self) -> dict[str, Any]:
        q = self._scalar
        jobs: dict[str, dict[str, int]] = {}
        for kind, state, n in self.conn.execute("SELECT kind, state, count(*) FROM jobs GROUP BY kind, state"):
            jobs.setdefault(kind, {})[state] = n
        return {
            "images": q("SELECT count(*) FROM images"),
            "images_gone": q("SELECT count(*) FROM images WHERE gone_at IS NOT NULL"),
            "locations": q("SELECT count(*) FROM locations WHERE gone_at IS NULL"),
            "results": {k: n for k, n in self.conn.execute("SELECT kind, count(*) FROM results GROUP BY kind")},
            "jobs": jobs,
            "failures": q("SELECT count(*) FROM failures"),
        }

    def iter_images(self, batch: int = 500) -> Iterator[Record]:
        last = 0
        while True:
            rows = self.query("SELECT id FROM images WHERE id > ? ORDER BY id LIMIT ?", (last, batch))
            if not rows:
                return
            for r in rows:
                d = self.detail(r["id"])
                if d:
                    yield d
            last = rows[-1]["id"]


def _paths_from_db(record: Record, *keys: str) -> Record:
    """``record`` with its stored texts (``path`` unless ``keys`` says) decoded back: see
    :mod:`vlagent.index.textcodec`."""
    for key in keys or ("path",):
        record[key] = opt_from_db(record[key])
    return record


def _json(v: Any) -> str | None:
    return None if v is None else json.dumps(v, ensure_ascii=False)
