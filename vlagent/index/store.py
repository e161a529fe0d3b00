"""The image index: images (by content hash), their locations, results and search docs."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from vlagent.index import search_docs
from vlagent.index.db import Database, connect, transaction

SOURCES = ("folder", "screenshot", "import", "api")
# Result kinds. OCR = the fast engine's text; vlm_ocr = the model's transcription.
RESULT_KINDS = ("ocr", "vlm_ocr", "description", "answer")
# Kinds of which an image keeps one result per engine (a rerun replaces it); answers accumulate.
SINGLE_KINDS = ("ocr", "vlm_ocr", "description")


@dataclass
class Result:
    kind: str
    text: str
    engine: str
    model: str | None = None
    prompt: str | None = None
    params: dict | None = None
    lines: list | None = None
    latency_ms: float | None = None
    timings: dict | None = None


def _row(cursor, row) -> dict:
    return {d[0]: v for d, v in zip(cursor.description, row)}


class Index:
    def __init__(self, db: Database, thumbnails_dir: Path | None = None):
        self.db = db
        self.conn = db.conn
        self.thumbnails_dir = thumbnails_dir

    @classmethod
    def open(cls, home, *, readonly: bool = False) -> "Index":
        if not readonly:
            home.ensure()
        return cls(connect(home.db_path, readonly=readonly), home.thumbnails)

    def close(self) -> None:
        self.conn.close()

    def query(self, sql: str, params: tuple | dict = ()) -> list[dict]:
        cur = self.conn.execute(sql, params)
        return [_row(cur, r) for r in cur.fetchall()]

    def query_one(self, sql: str, params: tuple | dict = ()) -> dict | None:
        cur = self.conn.execute(sql, params)
        r = cur.fetchone()
        return _row(cur, r) if r is not None else None

    # --- images and locations ----------------------------------------------------------
    def image_by_sha(self, sha256: str) -> dict | None:
        return self.query_one("SELECT * FROM images WHERE sha256 = ?", (sha256,))

    def image(self, image_id: int) -> dict | None:
        return self.query_one("SELECT * FROM images WHERE id = ?", (image_id,))

    def location(self, path: str) -> dict | None:
        return self.query_one("SELECT * FROM locations WHERE path = ?", (path,))

    def unchanged_location(self, path: str, size: int, mtime: float) -> int | None:
        """The image id at ``path`` when the file's size and mtime match what was indexed."""
        r = self.conn.execute(
            "SELECT image_id FROM locations WHERE path = ? AND size = ? AND mtime = ? AND gone_at IS NULL",
            (path, size, mtime),
        ).fetchone()
        return r[0] if r else None

    def locations(self, image_id: int, *, include_gone: bool = True) -> list[dict]:
        sql = "SELECT * FROM locations WHERE image_id = ?"
        if not include_gone:
            sql += " AND gone_at IS NULL"
        return self.query(sql + " ORDER BY seen_at", (image_id,))

    def add_image(self, *, sha256: str, width: int, height: int, format: str | None, bytes: int,
                  mtime: float | None, source: str, taken_at: float | None = None,
                  thumbnail: str | None = None) -> tuple[int, bool]:
        """Insert an image by content hash; returns (id, created)."""
        if source not in SOURCES:
            raise ValueError(f"unknown source {source!r}")
        with transaction(self.db):
            r = self.conn.execute("SELECT id FROM images WHERE sha256 = ?", (sha256,)).fetchone()
            if r:
                self.conn.execute("UPDATE images SET gone_at = NULL WHERE id = ?", (r[0],))
                return r[0], False
            cur = self.conn.execute(
                "INSERT INTO images(sha256, width, height, format, bytes, mtime, source, first_seen, taken_at, thumbnail)"
                " VALUES (?,?,?,?,?,?,?,?,?,?)",
                (sha256, width, height, format, bytes, mtime, source, time.time(), taken_at, thumbnail),
            )
            return cur.lastrowid, True

    def set_location(self, image_id: int, path: str, *, size: int | None, mtime: float | None) -> None:
        """Record that ``path`` holds image ``image_id`` (replacing what the path held before)."""
        with transaction(self.db):
            old = self.conn.execute("SELECT image_id FROM locations WHERE path = ?", (path,)).fetchone()
            self.conn.execute(
                "INSERT INTO locations(image_id, path, size, mtime, seen_at) VALUES (?,?,?,?,?)"
                " ON CONFLICT(path) DO UPDATE SET image_id = excluded.image_id, size = excluded.size,"
                " mtime = excluded.mtime, seen_at = excluded.seen_at, gone_at = NULL",
                (image_id, path, size, mtime, time.time()),
            )
            self.conn.execute("UPDATE images SET gone_at = NULL WHERE id = ?", (image_id,))
            if old is None or old[0] != image_id:
                self.refresh_search_doc(image_id)
                if old is not None:
                    self._after_location_lost(old[0])

    def move_location(self, old_path: str, new_path: str) -> int | None:
        """A file was renamed or moved: repoint its location (no re-hash, no re-OCR)."""
        with transaction(self.db):
            r = self.conn.execute("SELECT image_id FROM locations WHERE path = ?", (old_path,)).fetchone()
            if r is None:
                return None
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
            return r[0]

    def mark_gone(self, path: str, *, at: float | None = None) -> int | None:
        """The file at ``path`` disappeared. Returns the image id it held, if any."""
        at = at or time.time()
        with transaction(self.db):
            r = self.conn.execute("SELECT image_id FROM locations WHERE path = ? AND gone_at IS NULL",
                                  (path,)).fetchone()
            if r is None:
                return None
            self.conn.execute("UPDATE locations SET gone_at = ? WHERE path = ?", (at, path))
            self._after_location_lost(r[0], at=at)
            return r[0]

    def _after_location_lost(self, image_id: int, at: float | None = None) -> None:
        live = self.conn.execute(
            "SELECT count(*) FROM locations WHERE image_id = ? AND gone_at IS NULL", (image_id,)
        ).fetchone()[0]
        if live == 0:
            self.conn.execute("UPDATE images SET gone_at = ? WHERE id = ? AND gone_at IS NULL",
                              (at or time.time(), image_id))

    def set_thumbnail(self, image_id: int, relpath: str) -> None:
        self.conn.execute("UPDATE images SET thumbnail = ? WHERE id = ?", (relpath, image_id))

    def thumbnail_path(self, image: dict) -> Path | None:
        if not image.get("thumbnail") or self.thumbnails_dir is None:
            return None
        return self.thumbnails_dir / image["thumbnail"]

    def forget(self, image_id: int) -> bool:
        """Remove an image, its locations, results, jobs, search entry and thumbnail."""
        image = self.image(image_id)
        if image is None:
            return False
        with transaction(self.db):
            # search_docs first so its delete trigger can remove the FTS entry with old values.
            self.conn.execute("DELETE FROM search_docs WHERE image_id = ?", (image_id,))
            self.conn.execute("DELETE FROM images WHERE id = ?", (image_id,))
        thumb = self.thumbnail_path(image)
        if thumb is not None:
            thumb.unlink(missing_ok=True)
        return True

    def resolve(self, ref: str) -> dict | None:
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
        with transaction(self.db):
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
            return cur.lastrowid

    def results(self, image_id: int, kind: str | None = None) -> list[dict]:
        sql, params = "SELECT * FROM results WHERE image_id = ?", [image_id]
        if kind:
            sql += " AND kind = ?"
            params.append(kind)
        rows = self.query(sql + " ORDER BY created_at, id", tuple(params))
        for r in rows:
            for k in ("params", "lines", "timings"):
                if r[k]:
                    r[k] = json.loads(r[k])
        return rows

    def latest_text(self, image_id: int, kind: str) -> str:
        r = self.conn.execute(
            "SELECT text FROM results WHERE image_id = ? AND kind = ? ORDER BY created_at DESC, id DESC LIMIT 1",
            (image_id, kind),
        ).fetchone()
        return r[0] if r else ""

    def summaries(self, image_ids: list[int]) -> dict[int, dict]:
        """What a list of results shows for each image, in one query: its record, its best
        location (one still present first; ``path_gone`` when there is none) and its latest
        description and OCR text. Images forgotten meanwhile are missing from the answer."""
        if not image_ids:
            return {}
        marks = ",".join("?" * len(image_ids))
        cur = self.conn.execute(
            f"""SELECT i.id, i.source, i.first_seen, i.width, i.height, i.bytes, i.thumbnail, i.gone_at,
                   l.path, l.gone_at IS NOT NULL AS path_gone,
                   (SELECT text FROM results r WHERE r.image_id = i.id AND r.kind = 'description'
                    ORDER BY r.created_at DESC, r.id DESC LIMIT 1) AS description,
                   (SELECT text FROM results r WHERE r.image_id = i.id AND r.kind = 'ocr'
                    ORDER BY r.created_at DESC, r.id DESC LIMIT 1) AS ocr
                FROM images i LEFT JOIN locations l ON l.rowid = (
                    SELECT rowid FROM locations WHERE image_id = i.id ORDER BY gone_at IS NOT NULL, seen_at LIMIT 1)
                WHERE i.id IN ({marks})""", list(image_ids))
        names = [d[0] for d in cur.description]
        return {r[0]: dict(zip(names, r)) for r in cur.fetchall()}

    def refresh_search_doc(self, image_id: int) -> None:
        """Rebuild the searchable text of one image from its locations and results."""
        search_docs.refresh(self.conn, image_id)

    # --- per-item failures ------------------------------------------------------------
    def record_failure(self, path: str, error_type: str, message: str) -> None:
        with transaction(self.db):
            self.conn.execute("DELETE FROM failures WHERE path = ?", (path,))
            self.conn.execute("INSERT INTO failures(path, error_type, error, at) VALUES (?,?,?,?)",
                              (path, error_type, message, time.time()))

    def clear_failure(self, path: str) -> None:
        self.conn.execute("DELETE FROM failures WHERE path = ?", (path,))

    def failures(self, limit: int = 100) -> list[dict]:
        return self.query("SELECT * FROM failures ORDER BY at DESC LIMIT ?", (limit,))

    # --- views ------------------------------------------------------------------------
    def detail(self, image_id: int) -> dict | None:
        img = self.image(image_id)
        if img is None:
            return None
        img["locations"] = self.locations(image_id)
        img["paths"] = [l["path"] for l in img["locations"] if l["gone_at"] is None]
        img["path"] = img["paths"][0] if img["paths"] else (img["locations"][0]["path"] if img["locations"] else None)
        img["results"] = self.results(image_id)
        img["ocr_text"] = self.latest_text(image_id, "ocr")
        img["description"] = self.latest_text(image_id, "description")
        img["jobs"] = self.query("SELECT id, kind, state, attempts, error FROM jobs WHERE image_id = ? ORDER BY id",
                                 (image_id,))
        return img

    def stats(self) -> dict[str, Any]:
        q = lambda sql: self.conn.execute(sql).fetchone()[0]  # noqa: E731
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

    def iter_images(self, batch: int = 500) -> Iterator[dict]:
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


def _json(v: Any) -> str | None:
    return None if v is None else json.dumps(v, ensure_ascii=False)
