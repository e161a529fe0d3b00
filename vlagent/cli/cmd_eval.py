"""``vlagent eval ocr|captions`` — measure OCR and description quality on your own images."""

from __future__ import annotations

import argparse
import sys
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from vlagent.cli.main import UsageError
from vlagent.settings.cli_flags import add_setting_flags

if TYPE_CHECKING:
    from vlagent.cli.context import Context

OCR_HELP = """\
Compare RapidOCR with the vision-language model's transcription on images whose text you know.
TRUTH is a JSON-lines file, one image per line, "file" relative to DIR:
  {"file": "receipt.png", "text": "Total 42.50"}
  {"file": "notice.png", "text": "会议改到下午三点"}
Scores (after NFKC and whitespace normalisation; spaces beside CJK characters ignored):
  CER          character error rate: edits / reference characters (lower is better)
  word recall  share of the reference's words found in the output, each CJK character a word"""

CAPTIONS_HELP = """\
Score the model's descriptions against reference captions with BLEU-1..4 and CIDEr (the COCO
caption metrics, pycocoevalcap's scorers; CJK text is scored per character). REFS is a JSON-lines
file, one image per line, "file" relative to DIR (several captions per image help):
  {"file": "dog.jpg", "captions": ["a puppy playing in the snow", "一只小狗在雪地里玩耍"]}
CIDEr weighs words by how rare they are across all images' references: use a few dozen images.
Repeat --model to compare models; COCO-style references are one sentence, so a prompt like
--prompt "Describe this image in one sentence." compares better than the long default one."""


def register(sub) -> None:
    p = sub.add_parser("eval", help="measure OCR and description quality on your own images")
    esub = p.add_subparsers(dest="eval_command", metavar="WHAT", required=True)

    ocr = esub.add_parser("ocr", help="OCR vs the model's transcription: CER and word recall", description=OCR_HELP,
                          formatter_class=argparse.RawDescriptionHelpFormatter)
    ocr.add_argument("dir", metavar="DIR", help="folder of images")
    ocr.add_argument("--truth", required=True, metavar="TRUTH.jsonl", help="the text of each image (see above)")
    ocr.add_argument("--engines", default="ocr,vlm", help="comma-separated: ocr, vlm (default: both)")
    ocr.add_argument("--prompt", help="transcription prompt (default: vlm.prompt_ocr or the built-in one)")
    _common(ocr)
    ocr.set_defaults(func=run_ocr)

    cap = esub.add_parser("captions", help="descriptions vs reference captions: BLEU-4 and CIDEr",
                          description=CAPTIONS_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    cap.add_argument("dir", metavar="DIR", help="folder of images")
    cap.add_argument("--refs", required=True, metavar="REFS.jsonl", help="reference captions (see above)")
    cap.add_argument("--prompt", help="description prompt (default: vlm.prompt_describe or the built-in one)")
    _common(cap)
    cap.set_defaults(func=run_captions)


def _common(p) -> None:
    p.add_argument("--limit", type=int, metavar="N", help="only the first N images")
    p.add_argument("--details", action="store_true", help="also print a line per image")
    p.add_argument("--json", action="store_true", help="print the full report (per image too) as JSON")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    add_setting_flags(p, "eval", repeatable=("vlm.model",))


def _items(args, loader):
    from vlagent.eval.data import EvalDataError

    try:
        import jiwer  # noqa: F401 - only: are the scorers installed?
        import pycocoevalcap  # noqa: F401
    except ImportError:
        raise UsageError("vlagent eval needs its scorers: pip install 'vlagent[eval]'") from None

    folder = Path(args.dir)
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder")
    try:
        items = loader(Path(args.truth if hasattr(args, "truth") else args.refs))
    except EvalDataError as e:
        raise UsageError(str(e)) from None
    return folder, items[: args.limit] if args.limit else items


def _models(ctx: Context, args) -> list[str]:
    return list(dict.fromkeys(getattr(args, "set_vlm__model", None) or [ctx.settings.view.vlm.model]))


def _vlm_factory(ctx: Context, model: str, prompt: str):
    from vlagent.eval.readers import VlmReader

    def make():
        ctx.settings.override("vlm.model", model)
        return VlmReader(ctx.settings, ctx.home, prompt)

    return make


def _run(ctx: Context, args, folder, items, plans) -> list:
    """plans: (label, reader factory, scorer); returns the reports, one per reader."""
    from vlagent.cli.output import Progress
    from vlagent.eval.run import read_all
    from vlagent.imaging import Limits

    bar = Progress("evaluating", len(items) * len(plans), enabled=not (args.quiet or args.json))
    reports = []
    for label, factory, score in plans:
        bar.note = label
        out = read_all(items, folder, factory, label, limits=Limits.from_settings(ctx.settings),
                       on_image=partial(bar.advance, 1, label))
        reports.append(score(items, out))
    bar.finish()
    return reports


def run_ocr(ctx: Context, args) -> int:
    from vlagent.eval.data import load_truth
    from vlagent.eval.readers import OcrReader
    from vlagent.eval.run import score_ocr

    folder, items = _items(args, load_truth)
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    if not engines or set(engines) - {"ocr", "vlm"}:
        raise UsageError(f"--engines takes ocr, vlm or both (got {args.engines!r})")
    plans = []
    if "ocr" in engines:
        plans.append(("ocr", lambda: OcrReader(ctx.settings), score_ocr))
    if "vlm" in engines:
        from vlagent.vlm.prompts import transcribe_prompt

        prompt = args.prompt or transcribe_prompt(ctx.settings)
        plans += [(m, _vlm_factory(ctx, m, prompt), score_ocr) for m in _models(ctx, args)]
    reports = _run(ctx, args, folder, items, plans)
    columns = [("CER", "cer", _pct), ("word recall", "word_recall", _pct)]
    return _print(args, {"kind": "ocr", "dir": str(folder), "truth": args.truth, "images": len(items),
                         "results": reports}, columns, "text")


def run_captions(ctx: Context, args) -> int:
    from vlagent.eval.data import load_refs
    from vlagent.eval.run import score_captions

    folder, items = _items(args, load_refs)
    from vlagent.vlm.prompts import describe_prompt

    prompt = args.prompt or describe_prompt(ctx.settings)
    plans = [(m, _vlm_factory(ctx, m, prompt), score_captions) for m in _models(ctx, args)]
    reports = _run(ctx, args, folder, items, plans)
    columns = [("BLEU-1", "bleu", lambda v: _num(v[0] if v else None)), ("BLEU-4", "bleu4", _num),
               ("CIDEr", "cider", _num), ("words", "mean_words", lambda v: "-" if v is None else f"{v:.1f}")]
    return _print(args, {"kind": "captions", "dir": str(folder), "refs": args.refs, "images": len(items),
                         "prompt": prompt, "results": reports}, columns, "caption")


def _pct(v) -> str:
    return "-" if v is None else f"{v * 100:.1f}%"


def _num(v) -> str:
    return "-" if v is None else f"{v:.3f}"


def _print(args, report: dict, columns: list, text_key: str) -> int:
    from vlagent.cli.output import print_json

    results = report["results"]
    ok = [r for r in results if not r.get("error")]
    if args.json:
        print_json(report)
        return 0 if ok else 1
    head = ["engine", "model"] + [c[0] for c in columns] + ["images", "ms/image", "load s"]
    rows = []
    for r in results:
        if r.get("error"):
            rows.append([r["engine"], r["label"], f"could not run: {r['error']}"])
            continue
        cells = [r["engine"], r["model"]] + [fmt(r.get(key)) for _, key, fmt in columns]
        cells += [f"{r['images']}" + (f" ({r['failed']} failed)" if r["failed"] else ""),
                  "-" if r["ms_per_image"] is None else f"{r['ms_per_image']:.0f}", f"{r['load_s']:.1f}"]
        rows.append(cells)
    widths = [max(len(str(row[i])) for row in [head] + [r for r in rows if len(r) == len(head)]) for i in
              range(len(head))]
    print("  ".join(h.ljust(w) for h, w in zip(head, widths)).rstrip())
    for row in rows:
        if len(row) != len(head):
            print(f"{row[0].ljust(widths[0])}  {row[1]}  {row[2]}")
        else:
            print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip())
    if report["kind"] == "captions" and report["images"] < 10:
        print(f"note: CIDEr compares against the references of all images; with {report['images']} it says little")
    if args.details:
        for r in ok:
            print(f"\n[{r['engine']} {r['model']}]")
            for item in r["items"]:
                scores = "  ".join(f"{k}={item[k]}" for k in ("cer", "word_recall", "bleu4", "cider") if k in item)
                print(f"  {item['file']}  {scores}  {item[text_key]!r}")
            for file, err in r["failures"].items():
                print(f"  {file}  failed: {err}")
    for r in ok:
        if r["failed"]:
            print(f"{r['engine']} {r['model']}: {r['failed']} image(s) failed (see --details)", file=sys.stderr)
    return 0 if ok else 1
