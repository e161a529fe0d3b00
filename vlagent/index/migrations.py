"""Schema migrations, kept in code and recorded in the database (table ``_migrations``).

Each migration runs once, inside a transaction, in version order. Append new ones;
never edit a released one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vlagent.index.db import Database

# search_docs holds each image's indexed text (vlagent.index.search_docs); search_fts indexes it
# (external content, kept in step by the triggers). The text arrives normalised with CJK already
# cut into bigrams (vlagent.index.segment), so unicode61 only splits words. The prefix index makes
# a 3-letter prefix (search as you type) one doclist read instead of a merge of every word it
# starts (a 2-letter one would also copy every CJK bigram: +60% index size); search_words lists
# the words of 4+ letters ever indexed, so a longer prefix becomes an OR of the few words it
# starts instead of FTS5's merge of their whole doclists.
FTS_TOKENIZE = "unicode61 remove_diacritics 2"
SEARCH_COLUMNS = "names, ocr, description, answers, filters"

V1_SCHEMA = f"""
CREATE TABLE images (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE,
    width INTEGER,
    height INTEGER,
    format TEXT,
    bytes INTEGER,
    mtime REAL,
    source TEXT NOT NULL,
    first_seen REAL NOT NULL,
    taken_at REAL,
    thumbnail TEXT,
    gone_at REAL
);
CREATE INDEX images_first_seen ON images(first_seen);

CREATE TABLE locations (
    id INTEGER PRIMARY KEY,
    image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    path TEXT NOT NULL UNIQUE,
    size INTEGER,
    mtime REAL,
    seen_at REAL NOT NULL,
    gone_at REAL
);
CREATE INDEX locations_image ON locations(image_id);

CREATE TABLE results (
    id INTEGER PRIMARY KEY,
    image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    engine TEXT NOT NULL,
    model TEXT,
    prompt TEXT,
    params TEXT,
    lines TEXT,
    latency_ms REAL,
    timings TEXT,
    created_at REAL NOT NULL
);
CREATE INDEX results_image_kind ON results(image_id, kind);

CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    image_id INTEGER REFERENCES images(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    priority INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    payload TEXT,
    worker TEXT,
    lease_until REAL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE UNIQUE INDEX jobs_one_active ON jobs(image_id, kind)
    WHERE state IN ('pending', 'running') AND kind != 'ask';
CREATE INDEX jobs_pick ON jobs(state, priority DESC, id);

CREATE TABLE failures (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL,
    error_type TEXT NOT NULL,
    error TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX failures_path ON failures(path);

CREATE TABLE search_docs (
    image_id INTEGER PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,
    names TEXT NOT NULL DEFAULT '',
    ocr TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    answers TEXT NOT NULL DEFAULT '',
    filters TEXT NOT NULL DEFAULT ''
);
CREATE VIRTUAL TABLE search_fts USING fts5(
    {SEARCH_COLUMNS},
    content='search_docs', content_rowid='image_id',
    tokenize="{FTS_TOKENIZE}", prefix='3'
);
CREATE TABLE search_words (word TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TRIGGER search_docs_ai AFTER INSERT ON search_docs BEGIN
    INSERT INTO search_fts(rowid, {SEARCH_COLUMNS})
    VALUES (new.image_id, new.names, new.ocr, new.description, new.answers, new.filters);
END;
CREATE TRIGGER search_docs_ad AFTER DELETE ON search_docs BEGIN
    INSERT INTO search_fts(search_fts, rowid, {SEARCH_COLUMNS})
    VALUES ('delete', old.image_id, old.names, old.ocr, old.description, old.answers, old.filters);
END;
CREATE TRIGGER search_docs_au AFTER UPDATE ON search_docs BEGIN
    INSERT INTO search_fts(search_fts, rowid, {SEARCH_COLUMNS})
    VALUES ('delete', old.image_id, old.names, old.ocr, old.description, old.answers, old.filters);
    INSERT INTO search_fts(rowid, {SEARCH_COLUMNS})
    VALUES (new.image_id, new.names, new.ocr, new.description, new.answers, new.filters);
END;
"""


def _sql(script: str) -> Callable[[Database], None]:
    def run(db: Database) -> None:
        # executescript would COMMIT our transaction; run statements one by one instead.
        for stmt in _split_sql(script):
            db.conn.execute(stmt)

    return run


def _split_sql(script: str) -> list[str]:
    """Split on ';' at statement ends, keeping trigger bodies (BEGIN … END;) whole."""
    out, buf = [], ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3_complete(buf):
            if buf.strip():
                out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out


def sqlite3_complete(text: str) -> bool:
    import sqlite3

    return sqlite3.complete_statement(text)


# Image ids are never reused: an id is a stored link (``vlagent show 12``, ``/v1/images/12``, a
# note someone kept), and with a plain INTEGER PRIMARY KEY forgetting the newest image handed its
# id to the next one. AUTOINCREMENT needs the table rebuilt (SQLite's "12-step" ALTER TABLE;
# :func:`migrate` runs it with foreign keys off, so dropping the old table cascades nowhere, and
# checks them before committing). The table and its indexes come back exactly as V1 made them.
# Ids forgotten before this upgrade above the highest one left cannot be known; from here on
# sqlite_sequence keeps the highest id ever given.
V3_IMAGES_AUTOINCREMENT = """
CREATE TABLE images_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sha256 TEXT NOT NULL UNIQUE,
    width INTEGER,
    height INTEGER,
    format TEXT,
    bytes INTEGER,
    mtime REAL,
    source TEXT NOT NULL,
    first_seen REAL NOT NULL,
    taken_at REAL,
    thumbnail TEXT,
    gone_at REAL
);
INSERT INTO images_new(id, sha256, width, height, format, bytes, mtime, source, first_seen, taken_at, thumbnail,
                       gone_at)
    SELECT id, sha256, width, height, format, bytes, mtime, source, first_seen, taken_at, thumbnail, gone_at
    FROM images ORDER BY id;
DROP TABLE images;
ALTER TABLE images_new RENAME TO images;
CREATE INDEX images_first_seen ON images(first_seen);
"""

# Paths the user forgot (``vlagent forget``, the app's Forget): ingest (watch, backfill,
# ``index DIR``) skips them while the file holds what was forgotten (same size and mtime, or the
# same content), unless the user names the file (``vlagent index FILE``) or forces it. Paths
# are stored encoded as in ``locations`` (vlagent.index.textcodec).
V4_FORGOTTEN = """
CREATE TABLE forgotten (
    path TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL,
    size INTEGER,
    mtime REAL,
    at REAL NOT NULL
) WITHOUT ROWID;
"""

# Job ids are never reused either: the API hands them out (``/v1/describe`` answers with the
# job to poll), and forgetting an image deletes its jobs, so the newest job's id went to the next
# one. Rebuilt as V3 rebuilt ``images``; indexes as V1 and V2 made them.
V5_JOBS_AUTOINCREMENT = """
CREATE TABLE jobs_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    image_id INTEGER REFERENCES images(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    priority INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    payload TEXT,
    worker TEXT,
    lease_until REAL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
INSERT INTO jobs_new(id, image_id, kind, priority, state, attempts, error, payload, worker, lease_until, created_at,
                     updated_at)
    SELECT id, image_id, kind, priority, state, attempts, error, payload, worker, lease_until, created_at, updated_at
    FROM jobs ORDER BY id;
DROP TABLE jobs;
ALTER TABLE jobs_new RENAME TO jobs;
CREATE UNIQUE INDEX jobs_one_active ON jobs(image_id, kind)
    WHERE state IN ('pending', 'running') AND kind != 'ask';
CREATE INDEX jobs_pick ON jobs(state, priority DESC, id);
CREATE INDEX jobs_image ON jobs(image_id, kind);
"""

MIGRATIONS: list[tuple[int, str, Callable[[Database], None]]] = [
    (1, "initial schema: images, locations, results, jobs, failures, search", _sql(V1_SCHEMA)),
    # Without it, enqueue's duplicate check scanned every pending job (quadratic ingest) and
    # forgetting an image scanned the whole jobs table for its ON DELETE CASCADE.
    (2, "index jobs by image", _sql("CREATE INDEX jobs_image ON jobs(image_id, kind);")),
    (3, "image ids are never reused (AUTOINCREMENT)", _sql(V3_IMAGES_AUTOINCREMENT)),
    (4, "forgotten paths stay out of the index", _sql(V4_FORGOTTEN)),
    (5, "job ids are never reused (AUTOINCREMENT)", _sql(V5_JOBS_AUTOINCREMENT)),
]


def applied_versions(db: Database) -> set[int]:
    db.conn.execute(
        "CREATE TABLE IF NOT EXISTS _migrations"
        " (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)"
    )
    return {r[0] for r in db.conn.execute("SELECT version FROM _migrations")}


def migrate(db: Database) -> list[int]:
    """Apply pending migrations; returns the versions applied now.

    Foreign keys are off while they run (a rebuilt table is dropped and renamed: with them on,
    the drop would cascade into every row that refers to it) and checked before each commit."""
    done = applied_versions(db)
    todo = [m for m in MIGRATIONS if m[0] not in done]
    if not todo:
        return []
    applied = []
    # A no-op inside a transaction, so it is switched here, between them.
    fk_on = bool(db.conn.execute("PRAGMA foreign_keys").fetchone()[0])
    db.conn.execute("PRAGMA foreign_keys = OFF")
    try:
        for version, name, fn in todo:
            db.conn.execute("BEGIN IMMEDIATE")
            try:
                # Another process may have applied it while we waited for the lock.
                if db.conn.execute("SELECT 1 FROM _migrations WHERE version = ?", (version,)).fetchone():
                    db.conn.execute("ROLLBACK")
                    continue
                dangling = _dangling_references(db)
                fn(db)
                broken = _dangling_references(db) - dangling
                if broken:
                    raise RuntimeError(f"migration {version} ({name}) broke {broken} references")
                db.conn.execute(
                    "INSERT INTO _migrations(version, name, applied_at) VALUES (?, ?, ?)",
                    (version, name, time.time()))
                db.conn.execute("COMMIT")
            except BaseException:
                db.conn.execute("ROLLBACK")
                raise
            applied.append(version)
    finally:
        if fk_on:
            db.conn.execute("PRAGMA foreign_keys = ON")
    return applied


def _dangling_references(db: Database) -> int:
    """How many rows refer to a row that does not exist (0 in any index vlagent wrote)."""
    return len(db.conn.execute("PRAGMA foreign_key_check").fetchall())


def schema_version(db: Database) -> int:
    return max(applied_versions(db) or {0})
