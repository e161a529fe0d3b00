"""Small JPEG thumbnails on disk, named by content hash (so writing one twice is harmless).

A thumbnail is written to ``.partial/`` first and renamed into place, so a reader never
sees half a file; what a killed process leaves in ``.partial/`` is swept on the next start.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from PIL import Image

PARTIAL_DIR = ".partial"


def thumbnail_relpath(sha256: str) -> str:
    return f"{sha256[:2]}/{sha256}.jpg"


def make_thumbnail(image: Image.Image, size: int) -> Image.Image:
    """At most ``size`` on the longest side. Pass an image already reduced to about twice
    that (``load_bytes(..., reduce_to=2 * size)``): resizing a full-size one is the slow part.
    One that is much larger is first reduced by an integer factor into a new, small image,
    so a huge image is never copied whole."""
    factor = max(image.size) // (2 * size)
    thumb = image.reduce(factor) if factor >= 2 and image.mode in ("RGB", "RGBA", "L", "LA") else image.copy()
    thumb.thumbnail((size, size), Image.Resampling.LANCZOS, reducing_gap=2.0)
    return thumb


def write_thumbnail(thumbnails_dir: Path, sha256: str, image: Image.Image, size: int) -> str:
    """Write (atomically) and return the path relative to ``thumbnails_dir``."""
    rel = thumbnail_relpath(sha256)
    dest = thumbnails_dir / rel
    if dest.exists():
        return rel
    dest.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # in the data home: its owner's only
    partial = thumbnails_dir / PARTIAL_DIR
    partial.mkdir(mode=0o700, exist_ok=True)
    thumb = make_thumbnail(image, size)
    fd, tmp = tempfile.mkstemp(prefix=sha256[:16] + ".", suffix=".jpg", dir=partial)
    try:
        with os.fdopen(fd, "wb") as f:
            thumb.save(f, "JPEG", quality=82, optimize=True)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return rel


def sweep_partials(thumbnails_dir: Path, older_than_s: float = 600.0) -> int:
    """Remove half-written thumbnails a killed process left behind (old enough that no
    running writer can still own them). Returns how many were removed."""
    n = 0
    cutoff = time.time() - older_than_s
    try:
        entries = list(os.scandir(thumbnails_dir / PARTIAL_DIR))
    except FileNotFoundError:
        return 0
    for e in entries:
        try:
            if e.stat().st_mtime < cutoff:
                os.unlink(e.path)
                n += 1
        except FileNotFoundError:
            pass
    return n
