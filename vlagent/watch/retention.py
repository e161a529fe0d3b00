"""Retention: forgetting images whose files are gone.

By default an image stays searchable (with its thumbnail) after its last file
disappears. ``privacy.retention_days`` = N forgets such images N days after they went
gone; ``watch.keep_gone`` = false forgets them as soon as a short grace period (which
lets a move between folders be recognised) has passed.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vlagent.index.store import Index
    from vlagent.settings.store import Settings

DAY_S = 86400.0
BATCH = 200


def gone_images(index: Index, gone_before: float, limit: int | None = None) -> list[int]:
    return [c.image_id for c in index.purge_candidates(gone_before, limit)]


def purge_gone(index: Index, *, gone_before: float) -> int:
    """Forget (results, search entry, thumbnail, record) every image gone before then."""
    n = 0
    while True:
        ids = gone_images(index, gone_before, BATCH)
        for image_id in ids:
            n += index.forget(image_id)
        if len(ids) < BATCH:
            return n


def retention_cutoff(settings: Settings, now: float | None = None) -> float | None:
    """The gone-before time implied by the settings, or None when nothing is to be purged."""
    now = time.time() if now is None else now
    days = settings.view.privacy.retention_days
    return now - days * DAY_S if days > 0 else None
