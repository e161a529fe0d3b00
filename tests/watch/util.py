"""Helpers for the watcher, worker and watch-CLI tests: small distinct images, waiting on
conditions (never fixed sleeps), reading the index."""

from __future__ import annotations

import hashlib
import io
import os
import sqlite3
import time
from pathlib import Path

from PIL import Image, ImageDraw


def png_bytes(seed: int, size: tuple[int, int] = (48, 32)) -> bytes:
    """A small PNG whose content (and so hash) is unique to ``seed``."""
    img = Image.new("RGB", size, ((seed * 37) % 256, (seed * 91) % 256, (seed * 53) % 256))
    d = ImageDraw.Draw(img)
    for bit in range(24):  # the seed's bits as black/white squares
        x, y = (bit % 8) * 6, (bit // 8) * 6
        d.rectangle([x, y, x + 4, y + 4], fill="white" if seed >> bit & 1 else "black")
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def write_png(path: Path | str, seed: int, size: tuple[int, int] = (48, 32)) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png_bytes(seed, size))
    return path


def sha(path: Path | str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def wait_for(cond, timeout: float = 20.0, what: str = "condition", interval: float = 0.05):
    """Poll ``cond()`` until it returns something truthy; fail with ``what`` on timeout."""
    end = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} (last value: {value!r})")
        time.sleep(interval)


class Db:
    """A read connection to a home's index, opened per query so it works from any thread."""

    def __init__(self, db_path: Path | str):
        self.path = str(db_path)

    def rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        if not os.path.exists(self.path):
            return []
        conn = sqlite3.connect(self.path, timeout=10)
        try:
            return conn.execute(sql, params).fetchall()
        except sqlite3.OperationalError as e:
            if "no such table" in str(e):
                return []
            raise
        finally:
            conn.close()

    def one(self, sql: str, params: tuple = ()):
        r = self.rows(sql, params)
        return r[0][0] if r else None

    def live_location(self, path) -> int | None:
        """The image id at ``path`` if it is indexed and not gone."""
        return self.one("SELECT image_id FROM locations WHERE path = ? AND gone_at IS NULL", (str(path),))

    def location(self, path) -> tuple | None:
        r = self.rows("SELECT image_id, gone_at FROM locations WHERE path = ?", (str(path),))
        return r[0] if r else None

    def count(self, table: str, where: str = "1", params: tuple = ()) -> int:
        return self.one(f"SELECT count(*) FROM {table} WHERE {where}", params) or 0

    def jobs(self, state: str | None = None) -> list[tuple]:
        sql = "SELECT id, image_id, kind, priority, state FROM jobs"
        return self.rows(sql + (" WHERE state = ?" if state else "") + " ORDER BY id", (state,) if state else ())
