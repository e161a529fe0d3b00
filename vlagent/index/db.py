"""Opening the index database: WAL mode, sane pragmas, migrations applied on open.

sqlite3 connections are bound to the thread that made them, so every thread that
touches the index opens its own connection with :func:`connect`.

The index file is created readable by its owner only (0600; SQLite gives its ``-wal`` and
``-shm`` files the mode of the database file). A process remembers which file (device and
inode) it opened at each path: once that file is no longer there (the data home was deleted,
moved, or its disk unmounted), :func:`connect` raises :class:`IndexGone` instead of quietly
creating a fresh, empty index whose ids would start over, and
:meth:`Database.check_still_there` tells a long-running thread that its connection now writes
into a file nobody will ever see again.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Literal

from vlagent.home import FILE_MODE  # the index holds every OCR text, description and path: its owner's only
from vlagent.index.migrations import migrate

BUSY_TIMEOUT_MS = 10_000

Identity = tuple[int, int]  # (st_dev, st_ino) of a file


class IndexGone(RuntimeError):
    """The index this process opened is no longer at its path: the data home was deleted or
    moved, or its disk was unmounted. Nothing written since is kept; the process must stop
    writing and say so rather than create a new index there."""

    def __init__(self, path: Path | str, why: str):
        self.path = Path(path)
        super().__init__(f"the index {path} is gone ({why}): the data home was deleted, moved or its disk "
                         f"unmounted while vlagent ran. Nothing more is written; restore the folder (or "
                         f"remount the disk) and restart vlagent")


# The index file each path held when this process first opened it there.
_opened: dict[str, Identity] = {}
_opened_lock = threading.Lock()


def _key(path: Path) -> str:
    return os.path.abspath(path)


def file_identity(path: Path | str) -> Identity | None:
    """(device, inode) of the file at ``path``; None when nothing can be seen there.
    Raises OSError for other failures (an I/O error on a dying disk)."""
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    return st.st_dev, st.st_ino


def _why_gone(path: Path, expected: Identity) -> str | None:
    """Why the file at ``path`` is not the one with ``expected`` identity; None when it is."""
    try:
        now = file_identity(path)
    except OSError as e:
        return f"it cannot be read: {e.strerror or e}"
    if now is None:
        return "the file no longer exists"
    if now != expected:
        return "another file took its place"
    return None


def check_not_gone(path: Path | str) -> None:
    """Raise :class:`IndexGone` when this process opened an index at ``path`` and that file is
    no longer there. A path this process never opened passes (a fresh home gets a new index)."""
    path = Path(path)
    with _opened_lock:
        expected = _opened.get(_key(path))
    if expected is not None:
        why = _why_gone(path, expected)
        if why is not None:
            raise IndexGone(path, why)


def _remember(path: Path) -> Identity | None:
    """Note the file now at ``path`` as this process's index there (the first one only)."""
    ident = file_identity(path)
    if ident is not None:
        with _opened_lock:
            ident = _opened.setdefault(_key(path), ident)
    return ident


class Database:
    """An open index connection. Deliberately not sqlite-utils' Database: importing that
    pulls in numpy (~0.3 s), which ``search``/``show``/``status`` cannot afford."""

    def __init__(self, conn: sqlite3.Connection, path: Path | None = None, identity: Identity | None = None):
        self.conn = conn
        self.path = path
        self.identity = identity  # the file this connection opened; None for an in-memory database

    def table_names(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]

    def check_still_there(self) -> None:
        """Raise :class:`IndexGone` when the file this connection writes is no longer at its
        path (one ``stat``: cheap enough to call before every batch of writes)."""
        if self.path is not None and self.identity is not None:
            why = _why_gone(self.path, self.identity)
            if why is not None:
                raise IndexGone(self.path, why)


def connect(path: Path | str, *, migrate_schema: bool = True, readonly: bool = False) -> Database:
    """Open (and, unless ``readonly``, create and migrate) the index at ``path``. Raises
    :class:`IndexGone` when this process had opened another index file at ``path`` before."""
    path = Path(path)
    check_not_gone(path)
    if readonly:
        if not path.exists():
            raise FileNotFoundError(f"no index at {path}")
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000,
                               check_same_thread=True)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        _create_private(path)
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    identity = _remember(path)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    if not readonly:
        _use_wal(conn)
        conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA temp_store = MEMORY")
    db = Database(conn, path, identity)
    if migrate_schema and not readonly:
        migrate(db)
    return db


def _create_private(path: Path) -> None:
    """Create an empty index file with mode 0600 (SQLite would create it 0644 less the umask,
    and its -wal and -shm files copy the database file's mode)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return
    os.close(fd)


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
