"""``vlagent demo`` — generate sample images (English and Chinese), index them, search them."""

from __future__ import annotations

from pathlib import Path

DEMO_QUERIES = ["小狗", "invoice 42.50", "数据库", "connection refused", "发票"]


def register(sub) -> None:
    p = sub.add_parser("demo", help="generate sample images, index them and run example searches")
    p.add_argument("--folder", help="where to write the samples (default: <home>/demo-images)")
    p.add_argument("--describe", action="store_true", help="also describe the samples with the model")
    p.set_defaults(func=run)


def run(ctx, args) -> int:
    import argparse

    from vlagent.cli import cmd_index, cmd_search
    from vlagent.dev.samples import find_cjk_font, write_sample_set

    folder = Path(args.folder).expanduser() if args.folder else ctx.home.root / "demo-images"
    if not find_cjk_font():
        print("note: no CJK font found (install fonts-noto-cjk); Chinese samples will not render")
    files = write_sample_set(folder)
    print(f"wrote {len(files)} sample images to {folder}")
    index_args = argparse.Namespace(paths=[str(folder)], source="import", describe=args.describe, transcribe=False,
                                    no_ocr=False, no_wait=False, force=False, json=False, quiet=False)
    cmd_index.run(ctx, index_args)
    for q in DEMO_QUERIES:
        print(f"\n$ vlagent search {q}")
        cmd_search.run_search(ctx, argparse.Namespace(
            query=q.split(), limit=3, offset=0, page=None, source=None, folder=None, since=None, until=None,
            sort="relevance", json=False))
    print("\nTry your own: vlagent index ~/Pictures && vlagent search <words>")
    return 0
