"""``vlagent describe IMAGE...`` and ``vlagent ask IMAGE... QUESTION`` — run the model now.

IMAGE is a file, an http(s) URL, or ``-`` for image bytes on stdin. The answer streams to
the terminal (``--json`` prints it with its timings instead), and the image and the result
are added to the index so ``search`` finds them later.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from vlagent.cli.main import UsageError
from vlagent.settings.cli_flags import add_setting_flags

if TYPE_CHECKING:
    from vlagent.cli.context import Context
    from vlagent.imaging.load import LoadedImage
    from vlagent.vlm.factory import LazyEngine


def register(sub) -> None:
    d = sub.add_parser("describe", help="describe images with the vision-language model (and remember them)",
                       description="Describe each image with the model, streaming the text. The image and its "
                                   "description are added to the index.")
    d.add_argument("images", nargs="+", metavar="IMAGE", help="image file, http(s) URL, or - for stdin")
    d.add_argument("--prompt", help="use this prompt instead of the built-in one")
    d.add_argument("--transcribe", action="store_true",
                   help="transcribe the image's text instead (stored as vlm_ocr, next to OCR)")
    d.add_argument("--no-store", action="store_true", help="do not add the images and results to the index")
    d.add_argument("--json", action="store_true", help="print the results with timings as JSON")
    add_setting_flags(d, "describe")
    d.set_defaults(func=run_describe)

    a = sub.add_parser("ask", help="ask the model a question about one or more images",
                       description="Ask about images: vlagent ask IMAGE [IMAGE...] \"question\". The answer "
                                   "streams and is stored with each image.")
    a.add_argument("images", nargs="+", metavar="IMAGE", help="image file, http(s) URL, or - for stdin")
    a.add_argument("question", help="the question (quote it)")
    a.add_argument("--no-store", action="store_true", help="do not add the images and the answer to the index")
    a.add_argument("--json", action="store_true", help="print the answer with timings as JSON")
    add_setting_flags(a, "ask")
    a.set_defaults(func=run_ask)


@dataclass
class Input:
    arg: str
    loaded: LoadedImage
    image_id: int | None = None
    path: str | None = None


def read_inputs(ctx: Context, args: list[str], errors: list[dict]) -> list[Input]:
    """Load every IMAGE argument; a bad one is reported and skipped."""
    from vlagent.imaging.errors import ImageInputError
    from vlagent.imaging.load import Limits, load_any

    if args.count("-") > 1:
        raise UsageError("stdin (-) can be given only once")
    limits = Limits.from_settings(ctx.settings)
    out = []
    for arg in args:
        try:
            if arg == "-":
                data = sys.stdin.buffer.read()
                out.append(Input(arg, load_any(data, limits)))
            else:
                out.append(Input(arg, load_any(arg, limits)))
        except ImageInputError as e:
            errors.append({"image": arg, "error": str(e)})
            print(f"vlagent: {e}", file=sys.stderr)
    return out


def store_inputs(ctx: Context, inputs: list[Input], skip_step: str) -> None:
    """Add each image to the index (files where they are; stdin/URL bytes saved under the home)."""
    import os

    from vlagent.ingest.pipeline import FAILED, Ingestor

    ingestor = Ingestor(ctx.index, ctx.settings, ctx.home)
    steps = [s for s in ingestor.steps_for_new_image() if s != skip_step]
    for item in inputs:
        if item.arg != "-" and os.path.isfile(os.path.expanduser(item.arg)):
            out = ingestor.ingest_path(os.path.expanduser(item.arg), steps=steps)
        else:
            out = ingestor.ingest_bytes(item.loaded.data, source="import", name=item.loaded.name, steps=steps)
        if out.status == FAILED:
            print(f"vlagent: not stored: {out.error}", file=sys.stderr)
            continue
        item.image_id, item.path = out.image_id, out.path


def make_engine(ctx: Context) -> LazyEngine:
    from vlagent.jobs.build import build_engine

    if ctx.settings.view.vlm.backend == "transformers":
        from vlagent.vlm.loading import resolve_model_dir

        resolve_model_dir(ctx.settings.view.vlm.model, home=ctx.home, settings=ctx.settings)  # fail fast
    engine = build_engine(ctx.settings, ctx.home)
    if not engine.loaded and sys.stderr.isatty():
        print(f"loading {engine.model_id} …", file=sys.stderr, flush=True)
    return engine


def stream_to_stdout(piece: str) -> None:
    sys.stdout.write(piece)
    sys.stdout.flush()


def timing_line(g) -> str:
    t = g.timings
    secs = (t.get("total_ms") or 0) / 1000
    return (f"[{g.model} · {secs:.1f} s · {t.get('visual_tokens', 0)} visual tokens · {t.get('new_tokens', 0)} "
            f"new tokens · {t.get('decode_tokens_per_s') or 0:.1f} tok/s]")


def record(g, **extra) -> dict:
    return dict(extra, text=g.text.strip(), finish_reason=g.finish_reason, engine=g.engine, model=g.model,
                prompt=g.prompt, timings=g.timings, params=g.params)


def run_describe(ctx: Context, args) -> int:
    from vlagent.jobs.steps import result_from
    from vlagent.vlm import ChatMessage, GenerationOptions, VlmError
    from vlagent.vlm.prompts import describe_prompt, transcribe_prompt

    settings = ctx.settings
    kind, step = ("vlm_ocr", "transcribe") if args.transcribe else ("description", "describe")
    prompt = args.prompt or (transcribe_prompt if args.transcribe else describe_prompt)(settings)
    errors: list[dict] = []
    inputs = read_inputs(ctx, args.images, errors)
    if not args.no_store:
        store_inputs(ctx, inputs, step)
    records: list[dict] = []
    try:
        engine = make_engine(ctx) if inputs else None
        opts = GenerationOptions.from_settings(settings)
        for n, item in enumerate(inputs):
            assert engine is not None  # made above, as there are inputs
            if not args.json and len(inputs) > 1:
                print(f"{'' if n == 0 else chr(10)}==> {item.arg} <==", flush=True)
            g = engine.chat([ChatMessage("user", prompt, [item.loaded.image])], opts,
                            on_token=None if args.json else stream_to_stdout)
            if not args.json:
                print(flush=True)
                print(timing_line(g), file=sys.stderr)
            if item.image_id is not None:
                ctx.index.add_result(item.image_id, result_from(kind, g, extra={"prompt": prompt}))
            records.append(record(g, image=item.arg, image_id=item.image_id, path=item.path, kind=kind))
    except VlmError as e:
        return fail(args, str(e), records + errors)
    if args.json:
        from vlagent.cli.output import print_json

        print_json(records + errors)
    return 1 if errors else 0


def run_ask(ctx: Context, args) -> int:
    from vlagent.jobs.steps import result_from
    from vlagent.vlm import ChatMessage, GenerationOptions, VlmError

    image_args, question = args.images, args.question
    if not question.strip():
        raise UsageError("the question is empty")
    errors: list[dict] = []
    inputs = read_inputs(ctx, image_args, errors)
    if errors:
        return fail(args, "cannot answer without every image", errors)
    if not args.no_store:
        store_inputs(ctx, inputs, "ask")
    try:
        engine = make_engine(ctx)
        message = ChatMessage("user", question, [item.loaded.image for item in inputs])
        g = engine.chat([message], GenerationOptions.from_settings(ctx.settings),
                        on_token=None if args.json else stream_to_stdout)
    except VlmError as e:
        return fail(args, str(e), [])
    ids = [item.image_id for item in inputs if item.image_id is not None]
    for image_id in ids:  # the answer is about all of them: each image's record shows it
        ctx.index.add_result(image_id, result_from("answer", g, prompt=question, extra={"image_ids": ids}))
    if args.json:
        from vlagent.cli.output import print_json

        print_json(record(g, images=image_args, image_ids=ids, question=question))
    else:
        print(flush=True)
        print(timing_line(g), file=sys.stderr)
    return 0


def fail(args, message: str, partial: list[dict]) -> int:
    print(f"vlagent: {message}", file=sys.stderr)
    if args.json:
        from vlagent.cli.output import print_json

        print_json({"error": message, "partial": partial})
    return 1
