"""Describing a batch of rows: load each image (paths, URLs, ``data:`` URLs, base64, bytes),
then run the job pipeline's own ``describe`` (and optionally ``ocr``) step on them — the code
that describes a file dropped into a watched folder. No Daft here: the Daft UDF, the
``vlagent batch`` command and plain Python callers all use :class:`BatchDescriber`.

A bad row never fails the batch: it comes back with ``error`` and ``error_kind`` set.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vlagent.batch.params import BatchParams
from vlagent.imaging.errors import BadInput, FetchError, ImageInputError
from vlagent.imaging.load import Limits, LoadedImage, load_any, load_bytes, load_path
from vlagent.index.queue import Job
from vlagent.jobs.runner import StepContext, execute

if TYPE_CHECKING:
    from vlagent.index.store import Result

log = logging.getLogger(__name__)

OBJECT_STORE_SCHEMES = ("s3://", "s3a://", "gs://", "gcs://", "az://", "abfs://", "tos://", "hf://")
# The result struct, one per row; also the columns ``vlagent batch`` writes.
RESULT_FIELDS: dict[str, type] = {
    "description": str, "ocr_text": str, "model": str, "engine": str, "prompt_tokens": int,
    "new_tokens": int, "total_ms": float, "load_ms": float, "timings": str, "error": str, "error_kind": str,
}


@dataclass
class RowResult:
    """What one row produced. ``results`` keeps the pipeline's records (for ``--into-index``)."""

    description: str | None = None
    ocr_text: str | None = None
    model: str | None = None
    engine: str | None = None
    prompt_tokens: int | None = None
    new_tokens: int | None = None
    total_ms: float | None = None
    load_ms: float | None = None
    timings: str | None = None
    error: str | None = None
    error_kind: str | None = None
    results: list[Result] = field(default_factory=list)
    image: LoadedImage | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in RESULT_FIELDS}


class BatchDescriber:
    """Loads the engine once (on the first batch) and describes rows, in order."""

    def __init__(self, params: BatchParams | None = None, **kwargs: Any):
        from vlagent.home import Home
        from vlagent.jobs.build import build_steps
        from vlagent.settings import Settings

        self.params = params or BatchParams.from_kwargs(**kwargs)
        self.settings = Settings(values=self.params.settings_values())
        self.home = Home.resolve(self.params.home)
        self.limits = Limits.from_settings(self.settings)
        self.steps = build_steps(self.settings, self.home)
        self._pool = ThreadPoolExecutor(max_workers=max(1, self.params.download_concurrency),
                                        thread_name_prefix="vlagent-batch-load")

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    # --- loading --------------------------------------------------------------------------
    def load(self, source: object) -> LoadedImage:
        """One row's image; raises :class:`ImageInputError` with a clear reason."""
        kind = self.params.image_src_type
        if source is None:
            raise BadInput("the row has no image")
        if isinstance(source, (bytes, bytearray, memoryview)):
            return load_bytes(bytes(source), self.limits, name="bytes")
        if not isinstance(source, str):
            raise BadInput(f"cannot read an image from a {type(source).__name__} value")
        text = source.strip()
        if text.lower().startswith(OBJECT_STORE_SCHEMES):
            raise BadInput(f"{text.split('://')[0]}:// objects are read through Daft's IO: download the column "
                           f"first (df[col].url.download()); 'vlagent batch' does, and lands here when it could not "
                           f"read the object (credentials, permissions or network)")
        if kind == "path":
            return load_path(text, self.limits)
        if kind == "base64":
            try:
                data = base64.b64decode(text.split(",", 1)[1] if text.startswith("data:") else text, validate=True)
            except (binascii.Error, ValueError):
                raise BadInput("the value is not valid base64") from None
            return load_bytes(data, self.limits, name="base64 input")
        if kind == "url" and "://" not in text[:12] and not text.startswith("data:"):
            raise BadInput(f"not a URL: {text[:80]!r}")
        return self._load_retrying(text)

    def _load_retrying(self, text: str) -> LoadedImage:
        attempt = 0
        while True:
            try:
                return load_any(text, self.limits)
            except FetchError:
                attempt += 1
                if attempt > self.params.retries:
                    raise
                time.sleep(min(2.0, 0.2 * 2 ** attempt))  # a transient network error: back off and retry

    def _load_all(self, sources: Sequence[object]) -> list[LoadedImage | ImageInputError]:
        def one(src: object) -> LoadedImage | ImageInputError:
            try:
                return self.load(src)
            except ImageInputError as e:
                return e
            except Exception as e:  # a row must never sink the batch
                log.exception("loading a batch row failed")
                return BadInput(f"{e.__class__.__name__}: {e}")

        return list(self._pool.map(one, sources))

    # --- describing -----------------------------------------------------------------------
    def describe(self, images: Sequence[object], prompts: Sequence[str | None] | None = None,
                 *, keep_images: bool = False) -> list[RowResult]:
        """One :class:`RowResult` per input row, in order."""
        if prompts is not None and len(prompts) != len(images):
            raise ValueError(f"{len(images)} images but {len(prompts)} prompts")
        t0 = time.perf_counter()
        loaded = self._load_all(images)
        load_ms = (time.perf_counter() - t0) * 1000 / max(1, len(images))
        rows = [RowResult(load_ms=round(load_ms, 2)) for _ in images]
        ok: list[int] = []
        for i, item in enumerate(loaded):
            if isinstance(item, ImageInputError):
                rows[i].error, rows[i].error_kind = str(item), item.code
            else:
                ok.append(i)
                if keep_images:
                    rows[i].image = item
        if not ok:
            return rows
        default = self.params.prompt
        jobs = [Job(id=i, image_id=None, kind="describe", priority=0, attempts=0,
                    payload={"prompt": (prompts[i] if prompts is not None and prompts[i] else default) or ""})
                for i in ok]
        imgs: list[LoadedImage | None] = [loaded[i] for i in ok]  # type: ignore[misc]  # errors filtered above
        outputs = execute(self.steps["describe"], jobs, imgs, StepContext())
        for i, out in zip(ok, outputs):
            row = rows[i]
            if out.error is not None:
                row.error, row.error_kind = str(out.error), "model"
                continue
            r = out.results[0]
            t = r.timings or {}
            row.description, row.model, row.engine = r.text, r.model, r.engine
            row.prompt_tokens, row.new_tokens = t.get("input_tokens"), t.get("new_tokens")
            row.total_ms = t.get("total_ms")
            row.timings = json.dumps(t, ensure_ascii=False, sort_keys=True)
            row.results.append(r)
        if self.params.ocr:
            ocr_jobs = [Job(id=i, image_id=None, kind="ocr", priority=0, attempts=0, payload={}) for i in ok]
            for i, out in zip(ok, execute(self.steps["ocr"], ocr_jobs, imgs, StepContext())):
                if out.error is None and out.results:
                    rows[i].ocr_text = out.results[0].text
                    rows[i].results.append(out.results[0])
                elif rows[i].error is None:
                    rows[i].error, rows[i].error_kind = f"OCR: {out.error}", "ocr"
        return rows
