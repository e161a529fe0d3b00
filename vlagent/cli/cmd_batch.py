"""``vlagent batch INPUT -o OUTPUT`` — describe a dataset of images (the seed batch operator).

A thin face over :mod:`vlagent.batch.run`: flags in, a progress bar, a summary out.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from vlagent.cli.main import UsageError

if TYPE_CHECKING:
    from vlagent.cli.context import Context

DESCRIPTION = """\
Describe every image of a dataset with the model and write the rows back with the results.

INPUT: a folder (images found recursively), a glob ('shots/*.png'), a text file of paths or
URLs (one a line), JSONL, CSV or Parquet. An image value may be a path, an http(s) URL, a
data: URL, base64 text, bytes (Parquet), or an s3:// / gs:// / tos:// URL (read with Daft's IO).
OUTPUT: .parquet or .jsonl: the input columns plus description, ocr_text, model, engine,
prompt_tokens, new_tokens, total_ms, load_ms, timings (JSON), error, error_kind.

Resumable: finished parts are kept in OUTPUT.parts/; run the same command again after an
interruption and only unfinished rows run. A bad row gets an error, never a failed run.

Exit status: 0 when every row was described, 3 when some rows have errors (listed by kind),
1 when the run itself failed (bad input, Daft missing), 2 for a usage error."""

EXIT_SOME_ROWS_FAILED = 3


def register(sub: Any) -> None:
    import argparse

    p = sub.add_parser("batch", help="describe a dataset (folder, list, JSONL, CSV, Parquet) into Parquet/JSONL",
                       description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input", metavar="INPUT", help="folder, glob, .txt, .jsonl, .csv or .parquet")
    p.add_argument("-o", "--output", required=True, metavar="OUTPUT", help="result file: .parquet or .jsonl")
    p.add_argument("--image-column", default="images", help="column with the images (default: images)")
    p.add_argument("--prompt-column", default="prompts",
                   help="column with per-row prompts, if present (default: prompts)")
    seed = p.add_argument_group("operator parameters (the seed operator's names)")
    seed.add_argument("--image-src-type", choices=["auto", "url", "base64", "binary", "path"], default="auto")
    seed.add_argument("--model-path", help="local model folder or hub id (default: vlm.model)")
    seed.add_argument("--model-name", help="model name on a remote server (backend openai)")
    seed.add_argument("--prompt", help="default prompt (default: vlagent's description prompt)")
    seed.add_argument("--batch-size", type=int, default=4)
    seed.add_argument("--dtype", default="auto", choices=["auto", "bfloat16", "float16", "float32"])
    seed.add_argument("--use-flash-attention-2", action="store_true")
    seed.add_argument("--max-caption-length", type=int, default=256)
    seed.add_argument("--resized-height", type=int)
    seed.add_argument("--resized-width", type=int)
    seed.add_argument("--do-sample", action="store_true")
    seed.add_argument("--temperature", type=float, default=0.7)
    seed.add_argument("--top-k", type=int, default=50)
    seed.add_argument("--top-p", type=float, default=0.9)
    seed.add_argument("--rank", type=int, help="GPU number (cuda:RANK)")
    own = p.add_argument_group("vlagent's own")
    own.add_argument("--backend", choices=["transformers", "openai"], help="default: vlm.backend")
    own.add_argument("--base-url", help="OpenAI-compatible server for backend openai (default: vlm.openai_base_url)")
    own.add_argument("--api-key", help="its API key (default: vlm.openai_api_key)")
    own.add_argument("--ocr", action="store_true", help="also read the text with RapidOCR (ocr_text)")
    own.add_argument("--max-pixels", type=int, help="pixel cap per image (default: vlm.max_pixels)")
    own.add_argument("--allow-private-urls", action="store_true", help="allow URLs on this machine or private networks")
    own.add_argument("--download-concurrency", type=int, default=8, help="parallel URL downloads per actor")
    run = p.add_argument_group("running")
    run.add_argument("--runner", choices=["native", "ray"], default="native")
    run.add_argument("--ray-address", help="auto, ray://HOST:10001, … (default with --runner ray: start a local Ray)")
    run.add_argument("--actors", type=int, default=1, help="model instances (Daft max_concurrency)")
    run.add_argument("--gpus-per-actor", type=float, default=0)
    run.add_argument("--part-rows", type=int, default=64, help="rows per committed part")
    run.add_argument("--restart", action="store_true", help="discard the parts of an earlier, different run")
    run.add_argument("--keep-parts", action="store_true", help="keep OUTPUT.parts/ after merging")
    run.add_argument("--into-index", action="store_true", help="also store the images and descriptions in the index")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run_cmd)


def run_cmd(ctx: Context, args: Any) -> int:
    from vlagent.batch.params import BatchParams
    from vlagent.batch.run import BatchError, BatchSpec, run_batch
    from vlagent.cli.output import Progress, print_json

    vlm = ctx.settings.view.vlm
    try:
        params = BatchParams(
            image_src_type=args.image_src_type, model_path=args.model_path or vlm.model, model_name=args.model_name,
            prompt=args.prompt, batch_size=args.batch_size, dtype=args.dtype,
            use_flash_attention_2=args.use_flash_attention_2, max_caption_length=args.max_caption_length,
            resized_height=args.resized_height, resized_width=args.resized_width, do_sample=args.do_sample,
            temperature=args.temperature, top_k=args.top_k, top_p=args.top_p, rank=args.rank,
            backend=args.backend or vlm.backend, base_url=args.base_url or vlm.openai_base_url or None,
            api_key=args.api_key or vlm.openai_api_key or None, ocr=args.ocr,
            max_pixels=args.max_pixels or vlm.max_pixels,
            language=ctx.settings.view.general.language,
            allow_private_urls=args.allow_private_urls or ctx.settings.view.net.allow_private_urls,
            download_concurrency=args.download_concurrency, home=str(ctx.home.root))
        params.settings_values()  # e.g. backend openai without a base URL
    except ValueError as e:
        raise UsageError(str(e)) from None
    spec = BatchSpec(input=args.input, output=args.output, image_column=args.image_column,
                     prompt_column=args.prompt_column, params=params, runner=args.runner,
                     ray_address=args.ray_address, actors=args.actors, gpus_per_actor=args.gpus_per_actor,
                     part_rows=args.part_rows, restart=args.restart, keep_parts=args.keep_parts,
                     into_index=args.into_index)
    bar: Progress | None = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = Progress("describing", total, enabled=not (args.quiet or args.json), initial=done)
        bar.advance(done - bar.done, note="rows")

    sink = _IndexSink(ctx, params.allow_private_urls) if args.into_index else None
    try:
        summary = run_batch(spec, on_progress=progress, index_sink=sink)
    except BatchError as e:
        print(f"vlagent: {e}", file=sys.stderr)
        return 1
    finally:
        if bar is not None:
            bar.finish()
    if sink is not None:
        sink.finish()
    if args.json:
        print_json(summary.as_dict())
    else:
        rate = f", {summary.described / summary.elapsed_s:.2f} rows/s" if summary.elapsed_s else ""
        print(f"{summary.rows} rows: {summary.described} described now, {summary.done_before} done before"
              f"{rate}; {sum(summary.errors.values())} with errors"
              + (f" ({', '.join(f'{k} {v}' for k, v in summary.errors.most_common())})" if summary.errors else ""))
        if summary.indexed:
            print(f"{summary.indexed} stored in the index (searchable)")
        print(("written to " if summary.complete else "incomplete; parts in ") + summary.output
              + ("" if summary.complete else ".parts"))
    return EXIT_SOME_ROWS_FAILED if summary.errors else 0


class _IndexSink:
    """``--into-index``: each described row's image is added to the index with its description;
    its OCR runs at the end (as ``vlagent index`` does), so the rows become searchable."""

    def __init__(self, ctx: Context, allow_private_urls: bool):
        import dataclasses

        from vlagent.imaging.load import Limits
        from vlagent.ingest.pipeline import Ingestor

        self.ctx = ctx
        self.limits = dataclasses.replace(Limits.from_settings(ctx.settings), allow_private_urls=allow_private_urls)
        self.ingestor = Ingestor(ctx.index, ctx.settings, ctx.home)
        self.steps = [s for s in self.ingestor.steps_for_new_image() if s == "ocr"]

    def __call__(self, row: dict[str, Any]) -> bool:
        import json
        import os

        from vlagent.imaging.errors import ImageInputError
        from vlagent.imaging.load import load_any
        from vlagent.index.store import Result
        from vlagent.ingest.pipeline import FAILED

        src = row.get("_source")
        if isinstance(src, str) and os.path.isfile(os.path.expanduser(src)):
            out = self.ingestor.ingest_path(os.path.expanduser(src), steps=self.steps)
        else:
            try:
                loaded = load_any(src if isinstance(src, (str, bytes)) else b"", self.limits)
            except ImageInputError:
                return False
            out = self.ingestor.ingest_bytes(loaded.data, source="import", name=loaded.name or "batch.png",
                                             steps=self.steps)
        if out.status == FAILED or out.image_id is None:
            return False
        self.ctx.index.add_result(out.image_id, Result(
            kind="description", text=row.get("description") or "", engine=row.get("engine") or "",
            model=row.get("model"), params={"batch": True}, latency_ms=row.get("total_ms"),
            timings=json.loads(row.get("timings") or "{}")))
        return True

    def finish(self) -> None:
        if not self.steps:
            return
        from vlagent.jobs.build import build_runner

        build_runner(self.ctx.index, self.ctx.settings, self.ctx.home).run_until_empty(self.steps)
