"""``vlagent batch INPUT -o OUTPUT``: a dataset in, the same rows with descriptions out.

INPUT: a folder (images found recursively), a glob, a text file of paths/URLs (one a line),
JSONL, CSV or Parquet (columns chosen by name). OUTPUT: Parquet or JSONL (by extension) with
the input columns plus the result columns.

Resumable: rows are described in *parts* of ``part_rows`` rows; each finished part is written
to ``OUTPUT.parts/`` atomically (temporary file, then rename), so a run that is killed keeps
every finished part. Running the same command again skips the rows already in a part; when
every row is done, the parts are merged into OUTPUT (atomically too) and the folder removed.

The rows go through Daft (:func:`vlagent.batch.udf.ImageDescriber`), on its native runner or
on Ray (``runner="ray"``; no address starts a local Ray instance and stops it at the end).
"""

from __future__ import annotations

import glob
import hashlib
import json
import logging
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from vlagent.batch.describer import OBJECT_STORE_SCHEMES, RESULT_FIELDS
from vlagent.batch.params import BatchParams

log = logging.getLogger(__name__)

ROW = "_row"  # the input row number, kept in the parts (not in OUTPUT)
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".avif", ".heic"}


class BatchError(Exception):
    """A problem with the run as a whole (bad input, output in use): one sentence for the user."""


@dataclass
class BatchSpec:
    input: str
    output: str
    image_column: str = "images"
    prompt_column: str | None = "prompts"  # used when the input has it
    params: BatchParams = field(default_factory=BatchParams)
    runner: str = "native"  # native | ray
    ray_address: str | None = None
    actors: int = 1
    gpus_per_actor: float = 0
    part_rows: int = 64
    restart: bool = False
    keep_parts: bool = False
    into_index: bool = False


@dataclass
class BatchSummary:
    rows: int = 0
    done_before: int = 0
    described: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    elapsed_s: float = 0.0
    output: str = ""
    complete: bool = False
    indexed: int = 0

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["errors"] = dict(self.errors)
        d["rows_per_s"] = round(self.described / self.elapsed_s, 3) if self.elapsed_s > 0 else None
        return d


# --- input ------------------------------------------------------------------------------------

def read_input(spec: BatchSpec) -> tuple[dict[str, list[Any]], str]:
    """The input as columns, and a fingerprint of it (to tell a resumed run from another)."""
    src = spec.input
    p = Path(os.path.expanduser(src))
    if p.is_dir():
        files = sorted(str(f) for f in p.rglob("*") if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES)
        cols: dict[str, list[Any]] = {spec.image_column: files}
        return cols, _fingerprint(json.dumps(files))
    if not p.exists() and any(ch in src for ch in "*?["):
        files = sorted(f for f in glob.glob(os.path.expanduser(src), recursive=True) if os.path.isfile(f))
        return {spec.image_column: files}, _fingerprint(json.dumps(files))
    if not p.is_file():
        raise BatchError(f"no such input: {src} (a folder, a glob, .txt, .jsonl, .csv or .parquet)")
    suffix = p.suffix.lower()
    st = p.stat()
    fp = _fingerprint(f"{p.resolve()}|{st.st_size}|{st.st_mtime_ns}")
    if suffix in (".txt", ".lst", ".list"):
        lines = [ln.strip() for ln in p.read_text(encoding="utf-8").splitlines()]
        return {spec.image_column: [ln for ln in lines if ln and not ln.startswith("#")]}, fp
    try:
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            table = pq.read_table(p)
        elif suffix in (".jsonl", ".ndjson", ".json"):
            rows = [json.loads(ln) for ln in p.read_text(encoding="utf-8").splitlines() if ln.strip()]
            names = list(dict.fromkeys(k for r in rows for k in r))
            return {k: [r.get(k) for r in rows] for k in names}, fp
        elif suffix in (".csv", ".tsv"):
            import pyarrow.csv as pacsv

            opts = pacsv.ParseOptions(delimiter="\t" if suffix == ".tsv" else ",")
            table = pacsv.read_csv(p, parse_options=opts)
        else:
            raise BatchError(f"{src}: unknown input type {suffix!r} (.txt, .jsonl, .csv, .parquet, a folder or a glob)")
    except (ValueError, OSError) as e:
        raise BatchError(f"{src} cannot be read: {e}") from None
    return table.to_pydict(), fp


def _fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:16]


# --- parts ------------------------------------------------------------------------------------

class Parts:
    """``OUTPUT.parts/``: ``meta.json`` and ``part-NNNNNN.parquet``, each written atomically."""

    def __init__(self, output: Path, meta: dict[str, Any], *, restart: bool):
        self.dir = output.with_name(output.name + ".parts")
        self.meta = meta
        if self.dir.exists():
            try:
                old = json.loads((self.dir / "meta.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                old = None
            if old != meta:
                if not restart:
                    raise BatchError(f"{self.dir} holds the parts of a different run (other input, columns or "
                                     f"parameters): rerun with --restart to discard them")
                shutil.rmtree(self.dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        _write_atomic(self.dir / "meta.json", json.dumps(meta, sort_keys=True).encode())

    def files(self) -> list[Path]:
        return sorted(self.dir.glob("part-*.parquet"))

    def done_rows(self) -> set[int]:
        import pyarrow.parquet as pq

        done: set[int] = set()
        for f in self.files():
            done.update(pq.read_table(f, columns=[ROW]).column(ROW).to_pylist())
        return done

    def write(self, columns: dict[str, list[Any]]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        n = len(self.files())
        while (self.dir / f"part-{n:06d}.parquet").exists():
            n += 1
        target = self.dir / f"part-{n:06d}.parquet"
        tmp = target.with_suffix(".tmp")
        pq.write_table(pa.table(columns), tmp)
        os.replace(tmp, target)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def merge(parts: Parts, output: Path) -> int:
    """Every part into OUTPUT, in input order, each row once; returns the row count."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    tables = [pq.read_table(f) for f in parts.files()]
    table = pa.concat_tables(tables, promote_options="permissive") if tables else pa.table({ROW: []})
    table = table.sort_by(ROW)
    rows = table.column(ROW).to_pylist()
    keep = [i for i, r in enumerate(rows) if i == 0 or rows[i - 1] != r]  # a row written twice counts once
    table = table.take(pa.array(keep, pa.int64())) if len(keep) != len(rows) else table
    table = table.drop_columns([ROW])
    tmp = output.with_name(f".{output.name}.{os.getpid()}.tmp")
    if output.suffix.lower() == ".parquet":
        pq.write_table(table, tmp)
    else:
        with open(tmp, "w", encoding="utf-8") as f:
            for rec in table.to_pylist():
                f.write(json.dumps(rec, ensure_ascii=False, default=_json_default) + "\n")
    os.replace(tmp, output)
    return table.num_rows


def _json_default(v: object) -> object:
    if isinstance(v, (bytes, bytearray)):
        import base64

        return base64.b64encode(bytes(v)).decode("ascii")
    return str(v)


# --- running ----------------------------------------------------------------------------------

class _Ray:
    """Daft on Ray: an address given, or a local instance started here and stopped after."""

    def __init__(self, address: str | None):
        import ray

        self.started = False
        if address is None and not ray.is_initialized():
            ray.init(num_cpus=os.cpu_count() or 1, include_dashboard=False, logging_level=logging.WARNING,
                     log_to_driver=False)
            self.started = True
        import daft

        if daft.get_or_infer_runner_type() != "ray":
            daft.set_runner_ray(address=address if address not in (None, "local") else None)

    def close(self) -> None:
        if self.started:
            import ray

            ray.shutdown()


def run_batch(spec: BatchSpec, *, on_progress: Callable[[int, int], None] | None = None,
              index_sink: Callable[[dict[str, Any]], bool] | None = None) -> BatchSummary:
    """Run (or resume) the batch. ``on_progress(done_rows, total_rows)`` after each part;
    ``index_sink(row)`` stores a finished row in the vlagent index (``--into-index``)."""
    try:
        import daft
    except ModuleNotFoundError:
        raise BatchError("vlagent batch needs Daft (and Ray for --runner ray): pip install 'vlagent[batch]'") from None
    from vlagent.batch.udf import ImageDescriber

    t0 = time.monotonic()
    output = Path(os.path.expanduser(spec.output))
    if output.suffix.lower() not in (".parquet", ".jsonl"):
        raise BatchError(f"{spec.output}: the output must end in .parquet or .jsonl")
    cols, fp = read_input(spec)
    if spec.image_column not in cols:
        raise BatchError(f"the input has no column {spec.image_column!r} (columns: {', '.join(cols) or 'none'}); "
                         f"choose one with --image-column")
    n = len(cols[spec.image_column])
    prompt_col = spec.prompt_column if spec.prompt_column and spec.prompt_column in cols else None
    clash = sorted(set(cols) & set(RESULT_FIELDS))
    if clash:
        raise BatchError(f"input columns {', '.join(clash)} would be overwritten by the results; rename them")
    meta = {"input": fp, "rows": n, "image_column": spec.image_column, "prompt_column": prompt_col,
            "params": _fingerprint(json.dumps(asdict(spec.params), sort_keys=True, default=str))}
    output.parent.mkdir(parents=True, exist_ok=True)
    parts = Parts(output, meta, restart=spec.restart)
    done = parts.done_rows()
    summary = BatchSummary(rows=n, done_before=len(done), output=str(output))
    pending = [i for i in range(n) if i not in done]
    ray = _Ray(spec.ray_address) if spec.runner == "ray" else None
    if spec.runner not in ("native", "ray"):
        raise BatchError(f"unknown runner {spec.runner!r} (native or ray)")
    try:
        if spec.runner == "native" and daft.get_or_infer_runner_type() != "native":
            raise BatchError("this process already runs Daft on Ray; run the native batch in a new process")
        # On the native runner one actor runs in this process (no copies of images and results
        # between processes); more actors, or Ray, get processes of their own.
        in_process = spec.runner == "native" and spec.actors <= 1 and not spec.gpus_per_actor
        describer = ImageDescriber(gpus=spec.gpus_per_actor, max_concurrency=max(1, spec.actors),
                                   use_process=False if in_process else None, **asdict(spec.params))
        # One query over every pending row (one engine per actor for the whole run); its rows
        # stream back and are committed a part at a time.
        images = [_fetch_object_store(v) if isinstance(v, str) and v.lower().startswith(OBJECT_STORE_SCHEMES)
                  else cols[spec.image_column][i] for i, v in ((i, cols[spec.image_column][i]) for i in pending)]
        frame: dict[str, Any] = {ROW: pending, "_img": images}
        if prompt_col:
            frame["_prompt"] = [None if cols[prompt_col][i] is None else str(cols[prompt_col][i]) for i in pending]
        if pending:
            df = daft.from_pydict(frame)
            expr = describer.describe(df["_img"], df["_prompt"]) if prompt_col else describer.describe(df["_img"])
            stream = df.with_column("_r", expr).select(ROW, "_r").iter_rows()
        else:
            stream = iter(())
        buf: list[dict[str, Any]] = []
        for rec in stream:
            buf.append(rec)
            if len(buf) >= max(1, spec.part_rows):
                self_done = _commit(buf, cols, spec, parts, summary, index_sink)
                if on_progress:
                    on_progress(len(done) + self_done, n)
                buf = []
        if buf:
            _commit(buf, cols, spec, parts, summary, index_sink)
            if on_progress:
                on_progress(len(done) + summary.described, n)
    finally:
        if ray is not None:
            ray.close()
    if len(parts.done_rows()) >= n:
        merge(parts, output)
        summary.complete = True
        if not spec.keep_parts:
            shutil.rmtree(parts.dir, ignore_errors=True)
    summary.elapsed_s = round(time.monotonic() - t0, 3)
    return summary


def _commit(buf: list[dict[str, Any]], cols: dict[str, list[Any]], spec: BatchSpec, parts: Parts,
            summary: BatchSummary, index_sink: Callable[[dict[str, Any]], bool] | None) -> int:
    """Write one part (input columns + results of these rows); returns rows described so far."""
    rows = [int(r[ROW]) for r in buf]
    results = [r["_r"] or {} for r in buf]
    out: dict[str, list[Any]] = {ROW: rows, **{k: [v[i] for i in rows] for k, v in cols.items()}}
    for name in RESULT_FIELDS:
        out[name] = [r.get(name) for r in results]
    if index_sink is not None:
        for j, res in enumerate(results):
            if res.get("error") is None:
                row = {k: out[k][j] for k in out}
                row["_source"] = cols[spec.image_column][rows[j]]
                if index_sink(row):
                    summary.indexed += 1
    parts.write(out)
    summary.described += len(rows)
    for res in results:
        if res.get("error"):
            summary.errors[res.get("error_kind") or "error"] += 1
    return summary.described


def _fetch_object_store(url: str) -> str:
    """An object-store URL read through Daft's IO (its credentials and retries), handed on as a
    ``data:`` URL; unreadable → the URL itself, which the describer reports per row."""
    import base64

    import daft

    try:
        from daft.functions import download

        got = daft.from_pydict({"u": [url]}).with_column("b", download(daft.col("u"), on_error="null"))
        data = got.to_pydict()["b"][0]
    except Exception as e:  # unsupported scheme, no credentials: the row says why
        log.warning("cannot read %s through Daft's IO: %s", url, e)
        return url
    if not data:
        return url
    return "data:application/octet-stream;base64," + base64.b64encode(data).decode("ascii")
