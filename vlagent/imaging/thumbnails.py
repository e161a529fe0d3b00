"""Small JPEG thumbnails on disk, named by content hash (so writing one twice is harmless)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from PIL import Image


def thumbnail_relpath(sha256: str) -> str:
    return f"{sha256[:2]}/{sha256}.jpg"


def make_thumbnail(image: Image.Image, size: int) -> Image.Image:
    thumb = image.copy()
    # draft-free reduce for speed on big images, then a good resample for the final size.
    thumb.thumbnail((size, size), Image.Resampling.LANCZOS, reducing_gap=2.0)
    return thumb


def write_thumbnail(thumbnails_dir: Path, sha256: str, image: Image.Image, size: int) -> str:
    """Write (atomically) and return the path relative to ``thumbnails_dir``."""
    rel = thumbnail_relpath(sha256)
    dest = thumbnails_dir / rel
    if dest.exists():
        return rel
    dest.parent.mkdir(parents=True, exist_ok=True)
    thumb = make_thumbnail(image, size)
    fd, tmp = tempfile.mkstemp(prefix=".thumb.", suffix=".jpg", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            thumb.save(f, "JPEG", quality=82, optimize=True)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return rel
