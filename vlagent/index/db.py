"""Opening the index database: WAL mode, sane pragmas, migrations applied on open.

sqlite3 connections are bound to the thread that made them, so every thread that
touches the index opens its own connection with :func:`connect`.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from types import TracebackType
from typing import Literal

from vlagent.index.migrations import migrate

BUSY_TIMEOUT_MS = 10_000


class Database:
    """An open index connection. Deliberately not sqlite-utils' Database: importing that
    pulls in numpy (~0.3 s), which ``search``/``show``/``status`` cannot afford."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def table_names(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]


def connect(path: Path | str, *, migrate_schema: bool = True, readonly: bool = False) -> Database:
    path = Path(path)
    if readonly:
        if not path.exists():
            raise FileNotFoundError(f"no index at {path}")
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000,
                               check_same_thread=True)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    if not readonly:
        _use_wal(conn)
        conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA temp_store = MEMORY")
    db = Database(conn)
    if migrate_schema and not readonly:
        migrate(db)
    return db


def fts5_available() -> bool:
    """Whether this Python's SQLite has FTS5 (the full-text index needs it)."""
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute("CREATE VIRTUAL TABLE t USING fts5(x)")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        conn.close()


def _use_wal(conn: sqlite3.Connection) -> None:
    """WAL is a property of the file: only its first opener switches it. That switch needs
    the file to itself and SQLite answers "locked" at once, without waiting the busy timeout,
    when another connection (a new agent's second thread) is creating the schema meanwhile."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


class transaction:
    """``with transaction(db):`` — BEGIN IMMEDIATE … COMMIT, ROLLBACK on error.

    IMMEDIATE takes the write lock up front so two writers never deadlock on upgrade.
    Nested use joins the outer transaction.
    """

    def __init__(self, db: Database):
        self.conn = db.conn
        self.outer = False

    def __enter__(self) -> sqlite3.Connection:
        if self.conn.in_transaction:
            self.outer = True
        else:
            self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> Literal[False]:
        if self.outer:
            return False
        if exc_type is None:
            self.conn.execute("COMMIT")
        else:
            self.conn.execute("ROLLBACK")
        return False
