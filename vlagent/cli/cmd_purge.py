"""``vlagent purge`` — forget images whose files have been gone for a while.

Results, search entries and thumbnails of images with no file left go after
privacy.retention_days (the running agent does this hourly) or after
--older-than DAYS. Images that still have a file are never touched.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from vlagent.cli.main import UsageError

if TYPE_CHECKING:
    from vlagent.cli.context import Context


def register(sub) -> None:
    p = sub.add_parser("purge", help="forget images whose files are gone (retention)",
                       description=__doc__.split("\n\n", 1)[1])
    p.add_argument("--older-than", type=float, metavar="DAYS",
                   help="gone for more than DAYS days (default: privacy.retention_days; 0 = all gone images)")
    p.add_argument("--dry-run", action="store_true", help="only count what would be forgotten")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(ctx: Context, args) -> int:
    from vlagent.cli.output import print_json
    from vlagent.watch.retention import DAY_S, gone_images, purge_gone

    days = args.older_than if args.older_than is not None else ctx.settings.view.privacy.retention_days
    if args.older_than is None and days <= 0:
        raise UsageError("retention is off (privacy.retention_days = 0): give --older-than DAYS, "
                         "or set it with 'vlagent config privacy.retention_days 30'")
    if days < 0:
        raise UsageError("--older-than must be 0 or more")
    index = ctx.index_if_exists()
    cutoff = time.time() - days * DAY_S
    if index is None:
        n = 0
    elif args.dry_run:
        n = len(gone_images(index, cutoff))
    else:
        n = purge_gone(index, gone_before=cutoff)
    if args.json:
        print_json({"older_than_days": days, "forgotten": 0 if args.dry_run else n,
                    "would_forget": n if args.dry_run else None})
    else:
        verb = "would forget" if args.dry_run else "forgot"
        print(f"{verb} {n} image{'s' * (n != 1)} whose files have been gone for more than {days:g} days")
    return 0
