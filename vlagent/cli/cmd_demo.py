"""``vlagent demo`` — generate sample images (English and Chinese), index them, search them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vlagent.cli.context import Context

DEMO_QUERIES = ["小狗", "invoice 42.50", "数据库", "connection refused", "发票"]


def register(sub) -> None:
    p = sub.add_parser("demo", help="generate sample images, index them and run example searches",
                       description="Writes a few generated images (screenshot-like pages, photos, notes in English "
                                   "and Chinese), indexes them with OCR and runs example searches.")
    p.add_argument("--folder", help="where to write the samples (default: <home>/demo-images)")
    p.add_argument("--describe", action="store_true", help="also describe the samples with the model")
    p.set_defaults(func=run)


def run(ctx: Context, args) -> int:
    from vlagent.cli.main import build_parser
    from vlagent.samples import find_cjk_font, write_sample_set

    folder = Path(args.folder).expanduser().resolve() if args.folder else ctx.home.root / "demo-images"
    if not find_cjk_font():
        print("note: no CJK font found (install fonts-noto-cjk); Chinese samples will not render")
    files = write_sample_set(folder, screenshots=1, photos=1)
    print(f"wrote {len(files)} sample images to {folder}", flush=True)
    # The real commands, parsed by the real parser: the demo shows exactly what a user would type.
    parser = build_parser()
    index_args = parser.parse_args(["index", str(folder)] + (["--describe"] if args.describe else []))
    index_args.func(ctx, index_args)
    for q in DEMO_QUERIES:
        print(f"\n$ vlagent search {q}", flush=True)
        search_args = parser.parse_args(["search", *q.split(), "--limit", "3"])
        search_args.func(ctx, search_args)
    print("\nTry your own: vlagent index ~/Pictures && vlagent search <words>")
    return 0
