"""``vlagent describe IMAGE...`` and ``vlagent ask IMAGE... QUESTION`` — run the model now.

IMAGE is a file, an http(s) URL, or ``-`` for image bytes on stdin. The answer streams to
the terminal (``--json`` prints it with its timings instead), and the image and the result
are added to the index, its OCR run too, so ``search`` finds them at once.
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

    a = sub.add_parser("ask", help="ask the model about images, or (--memory) about everything seen",
                       description="Ask about images: vlagent ask IMAGE [IMAGE...] \"question\". The answer "
                                   "streams and is stored with each image.\n\nAsk about everything vlagent has "
                                   "seen: vlagent ask --memory \"what was the total on the ACME invoice last "
                                   "week?\" — the images are found by the question's words and time (\"last "
                                   "week\", \"上周\", \"三天前\"), the answer cites them as [#id].")
    a.add_argument("images", nargs="*", metavar="IMAGE", help="image file, http(s) URL, or - for stdin")
    a.add_argument("question", help="the question (quote it)")
    a.add_argument("--memory", action="store_true",
                   help="answer from everything seen (no IMAGE): retrieved images are cited as [#id]")
    a.add_argument("--no-store", action="store_true", help="do not add the images and the answer to the index")
    a.add_argument("--continue", dest="continue_", action="store_true",
                   help="a follow-up: the last questions and answers about these images go with this one "
                        "(the model's cache of that conversation, kept on disk, spares reading the images again)")
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
            errors.append({"image": shown_arg(arg), "error": str(e)})
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


def run_stored_ocr(ctx: Context, inputs: list[Input]) -> None:
    """Stored in the index means searchable now: run the stored images' queued OCR jobs here
    with the job runner, as ``vlagent index`` does (only theirs; a running ``watch`` or app
    does the rest of the queue)."""
    ids = [item.image_id for item in inputs if item.image_id is not None]
    if not ids or not ctx.settings.view.ocr.enabled:
        return
    from vlagent.jobs.build import build_runner

    def on_report(rep) -> None:
        if not rep.ok and rep.state == "failed":
            print(f"vlagent: OCR failed for image #{rep.job.image_id}: {rep.error}", file=sys.stderr)

    build_runner(ctx.index, ctx.settings, ctx.home).run_until_empty(["ocr"], on_report=on_report, image_ids=ids)


def make_engine(ctx: Context) -> LazyEngine:
    from vlagent.jobs.build import build_engine
    from vlagent.vlm.factory import check_installed

    check_installed(ctx.settings.view.vlm.backend)  # no torch: say so before "download the model"
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
    """``[model · seconds · tokens · speed]`` with only what the backend reported (a remote
    server may send no token counts at all)."""
    t = g.timings
    parts = [str(g.model)]
    if t.get("total_ms") is not None:
        parts.append(f"{t['total_ms'] / 1000:.1f} s")
    for key, label in (("visual_tokens", "visual tokens"), ("new_tokens", "new tokens")):
        if t.get(key) is not None:
            parts.append(f"{t[key]} {label}")
    speed = t.get("decode_tokens_per_s") or t.get("tokens_per_s")
    if speed:
        parts.append(f"{speed:.1f} tok/s")
    return f"[{' · '.join(parts)}]"


def record(g, **extra) -> dict:
    return dict(extra, text=g.text.strip(), finish_reason=g.finish_reason, engine=g.engine, model=g.model,
                prompt=g.prompt, timings=g.timings, params=g.params)


def run_describe(ctx: Context, args) -> int:
    """One image streams its description as it is generated; several go through the job
    pipeline's own describe (or transcribe) step, batched by ``vlm.batch_size`` as
    ``index --describe`` runs them, and print as each batch finishes."""
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
        if len(inputs) == 1 and not args.json:
            assert engine is not None  # made above, as there are inputs
            item = inputs[0]
            g = engine.chat([ChatMessage("user", prompt, [item.loaded.image])], GenerationOptions.from_settings(
                settings), on_token=stream_to_stdout)
            print(flush=True)
            print(timing_line(g), file=sys.stderr)
            if item.image_id is not None:
                ctx.index.add_result(item.image_id, result_from(kind, g, extra={"prompt": prompt}))
        elif inputs:
            assert engine is not None
            records = describe_batched(ctx, args, inputs, step, engine)
    except VlmError as e:
        code = fail(args, str(e), records + errors)
        run_stored_ocr(ctx, inputs)
        return code
    run_stored_ocr(ctx, inputs)
    if args.json:
        from vlagent.cli.output import print_json

        print_json(records + errors)
    return 1 if errors or any("error" in r for r in records) else 0


def describe_batched(ctx: Context, args, inputs: list[Input], step_kind: str, engine) -> list[dict]:
    """The images through the pipeline's ``describe``/``transcribe`` step, ``vlm.batch_size`` at
    a time; each result is stored with its image and printed (or kept for ``--json``)."""
    from vlagent.index.queue import Job
    from vlagent.jobs.build import build_steps
    from vlagent.jobs.runner import StepContext, execute
    from vlagent.vlm import VlmError

    step = build_steps(ctx.settings, ctx.home, engine)[step_kind]
    payload = {"prompt": args.prompt} if args.prompt else {}
    size = max(1, step.batch_size)
    records: list[dict] = []
    for start in range(0, len(inputs), size):
        chunk = inputs[start:start + size]
        jobs = [Job(id=start + i, image_id=item.image_id, kind=step_kind, priority=0, attempts=0,
                    payload=dict(payload)) for i, item in enumerate(chunk)]
        outputs = execute(step, jobs, [item.loaded for item in chunk], StepContext())
        for item, out in zip(chunk, outputs):
            if out.error is not None:
                if not any(o.error is None for o in outputs):  # the whole batch failed: the engine's reason
                    raise VlmError(str(out.error))
                records.append({"image": shown_arg(item.arg), "error": str(out.error)})
                print(f"vlagent: {shown_arg(item.arg)}: {out.error}", file=sys.stderr)
                continue
            r = out.results[0]
            if item.image_id is not None:
                ctx.index.add_result(item.image_id, r)
            records.append(result_record(r, ctx.settings, image=shown_arg(item.arg), image_id=item.image_id,
                                         path=item.path, kind=r.kind))
            if not args.json:
                print(f"{'' if start == 0 and item is chunk[0] else chr(10)}==> {shown_arg(item.arg)} <==")
                print(r.text, flush=True)
                print(f"[{r.model} · {(r.timings or {}).get('total_ms', 0) / 1000:.1f} s · batch "
                      f"{(r.timings or {}).get('batch_size', 1)} · {(r.timings or {}).get('new_tokens')} new tokens]",
                      file=sys.stderr)
    return records


def shown_arg(arg: str) -> str:
    """IMAGE as given, but a ``data:`` URL or a long base64 string is not repeated back whole."""
    if arg[:5].lower() == "data:":
        head = arg.split(",", 1)[0]
        return f"{head},… ({len(arg)} characters)"
    if len(arg) > 200 and "/" not in arg[:200].rstrip("="):
        return f"{arg[:16]}… ({len(arg)} characters of base64)"
    return arg


def result_record(r, settings, **extra) -> dict:
    """A stored Result as ``--json`` prints it (as :func:`record` prints a Generation)."""
    t = r.timings or {}
    limit = (r.params or {}).get("max_new_tokens") or settings.view.vlm.max_new_tokens
    finish = "length" if (t.get("new_tokens") or 0) >= limit else "stop"  # the step keeps no finish reason
    return dict(extra, text=r.text, finish_reason=finish, engine=r.engine, model=r.model, prompt=r.prompt or
                (r.params or {}).get("prompt"), timings=t, params=r.params)


def run_ask(ctx: Context, args) -> int:
    from vlagent.jobs.steps import result_from
    from vlagent.vlm import ChatMessage, GenerationOptions, VlmError

    image_args, question = args.images, args.question
    if not question.strip():
        raise UsageError("the question is empty")
    if args.memory:
        if image_args:
            raise UsageError("--memory asks about everything seen: give only the question, no IMAGE")
        return run_ask_memory(ctx, args)
    if not image_args:
        raise UsageError("give at least one IMAGE before the question (or --memory to ask about everything seen)")
    errors: list[dict] = []
    inputs = read_inputs(ctx, image_args, errors)
    if errors:
        return fail(args, "cannot answer without every image", errors)
    if not args.no_store:
        store_inputs(ctx, inputs, "ask")
    images = [item.loaded.image for item in inputs]
    history = previous_turns(ctx, [item.image_id for item in inputs]) if getattr(args, "continue_", False) else []
    messages = [ChatMessage(t["role"], t["text"], images if i == 0 else []) for i, t in enumerate(history)]
    messages.append(ChatMessage("user", question, [] if messages else images))
    try:
        engine = make_engine(ctx)
        cache_file = conversation_cache(ctx, engine, load=bool(history))
        g = engine.chat(messages, GenerationOptions.from_settings(ctx.settings),
                        on_token=None if args.json else stream_to_stdout)
        if cache_file is not None:
            engine.get().save_prefixes(cache_file)  # type: ignore[attr-defined]
    except VlmError as e:
        code = fail(args, str(e), [])
        run_stored_ocr(ctx, inputs)
        return code
    ids = [item.image_id for item in inputs if item.image_id is not None]
    for image_id in ids:  # the answer is about all of them: each image's record shows it
        ctx.index.add_result(image_id, result_from("answer", g, prompt=question,
                                                   extra={"image_ids": ids, "turns": len(messages)}))
    if args.json:
        from vlagent.cli.output import print_json

        print_json(record(g, images=[shown_arg(a) for a in image_args], image_ids=ids, question=question))
    else:
        print(flush=True)
        print(timing_line(g), file=sys.stderr)
    run_stored_ocr(ctx, inputs)
    return 0


def previous_turns(ctx: Context, ids: list[int | None]) -> list[dict]:
    """The conversation ``ask --continue`` goes on with: the latest stored answer about exactly
    these images, and the answers it followed up (each stored with its turn count)."""
    stored = [i for i in ids if i is not None]
    if not stored or len(stored) != len(ids):
        raise UsageError("--continue needs the images stored in the index (it finds the earlier answers there)")
    answers = [r for r in ctx.index.results(stored[0], "answer") if (r["params"] or {}).get("image_ids") == stored]
    chain: list[dict] = []
    want = None  # the turn count of the answer before the one taken last
    for r in reversed(answers):
        turns = int((r["params"] or {}).get("turns") or 1)
        if want is None or turns == want:
            chain.append(r)
            want = turns - 2
            if want < 1:
                break
    if not chain:
        raise UsageError("--continue: no earlier answer about these images to follow up")
    history = []
    for r in reversed(chain):
        history += [{"role": "user", "text": r["prompt"] or ""}, {"role": "assistant", "text": r["text"] or ""}]
    return history


def conversation_cache(ctx: Context, engine, *, load: bool):
    """Where the local model keeps its cache of the last conversation between ``ask`` runs (None
    for a remote server or with vlm.prefix_cache_mb 0); with ``load``, read it into the engine."""
    if ctx.settings.view.vlm.backend != "transformers" or ctx.settings.view.vlm.prefix_cache_mb <= 0:
        return None
    from vlagent.home import make_private_dir

    path = ctx.home.conversation_cache
    make_private_dir(path.parent)
    if load and path.exists():
        engine.get().load_prefixes(path)
    return path


def run_ask_memory(ctx: Context, args) -> int:
    """``ask --memory``: retrieval over the index, the answer streamed, its sources listed."""
    from vlagent.common import display_path
    from vlagent.jobs.build import build_runner
    from vlagent.memory import ask_memory
    from vlagent.vlm import VlmError

    try:
        engine = make_engine(ctx)
        runner = build_runner(ctx.index, ctx.settings, ctx.home, engine=engine)
        ans = ask_memory(args.question, index=ctx.index, settings=ctx.settings, engine=engine,
                         on_token=None if args.json else stream_to_stdout, store=not args.no_store,
                         load_image=lambda image_id: runner.load_image(image_id).image)
    except VlmError as e:
        return fail(args, str(e), [])
    if args.json:
        from vlagent.cli.output import print_json

        print_json(ans.as_dict())
        return 0
    if not ans.answered:
        print(ans.text)
    else:
        print(flush=True)
    if ans.time_range:
        print(f"time: {ans.time_range}", file=sys.stderr)
    cited = [s for s in ans.sources if s.cited] or ans.sources[:3]
    if cited:
        print("sources:" if any(s.cited for s in cited) else "retrieved (none cited):")
        for s in cited:
            print(f"  [#{s.id}] {display_path(s.path or '')}  {s.time}")
    t = ans.timings
    print(f"[{ans.model or 'no model'} · retrieve {t.get('retrieve_ms', 0):.0f} ms"
          + (f" · rewrite {t['rewrite_ms']:.0f} ms" if "rewrite_ms" in t else "")
          + (f" · answer {t['answer_ms'] / 1000:.1f} s" if "answer_ms" in t else "")
          + f" · {len(ans.sources)} images retrieved]", file=sys.stderr)
    return 0


def fail(args, message: str, partial: list[dict]) -> int:
    print(f"vlagent: {message}", file=sys.stderr)
    if args.json:
        from vlagent.cli.output import print_json

        print_json({"error": message, "partial": partial})
    return 1
