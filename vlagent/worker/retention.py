"""Retention: forgetting images whose files are gone.

By default an image stays searchable (with its thumbnail) after its last file
disappears. ``privacy.retention_days`` = N forgets such images N days after they went
gone; ``watch.keep_gone`` = false forgets them as soon as a short grace period (which
lets a move between folders be recognised) has passed.
"""

from __future__ import annotations

import time

DAY_S = 86400.0
BATCH = 200


def gone_images(index, gone_before: float, limit: int | None = None) -> list[int]:
    sql = ("SELECT id FROM images WHERE gone_at IS NOT NULL AND gone_at < ?"
           " AND NOT EXISTS (SELECT 1 FROM locations l WHERE l.image_id = images.id AND l.gone_at IS NULL)"
           " ORDER BY gone_at")
    params: tuple = (gone_before,)
    if limit:
        sql += " LIMIT ?"
        params += (limit,)
    return [r[0] for r in index.conn.execute(sql, params)]


def purge_gone(index, *, gone_before: float) -> int:
    """Forget (results, search entry, thumbnail, record) every image gone before then."""
    n = 0
    while True:
        ids = gone_images(index, gone_before, BATCH)
        for image_id in ids:
            n += index.forget(image_id)
        if len(ids) < BATCH:
            return n


def retention_cutoff(settings, now: float | None = None) -> float | None:
    """The gone-before time implied by the settings, or None when nothing is to be purged."""
    now = time.time() if now is None else now
    days = settings.get("privacy.retention_days")
    return now - days * DAY_S if days > 0 else None
