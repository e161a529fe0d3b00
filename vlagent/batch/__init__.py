"""Batch captioning of datasets: the seed image-understanding operator.

- :class:`~vlagent.batch.describer.BatchDescriber` — plain Python: rows in, results out,
  through the job pipeline's ``describe`` step (no Daft needed);
- :func:`~vlagent.batch.udf.ImageDescriber` — the same as a Daft class UDF, on Daft's native
  runner or a Ray cluster (``pip install 'vlagent[batch]'``);
- ``vlagent batch INPUT -o OUTPUT`` (:mod:`vlagent.batch.run`) — folders, globs, lists, JSONL,
  CSV or Parquet in; Parquet or JSONL out; resumable.

Importing this package imports neither Daft nor the model: names load on first use.
"""

from __future__ import annotations

from typing import Any

__all__ = ["RESULT_DTYPE", "BatchDescriber", "BatchParams", "ImageDescriber"]


def __getattr__(name: str) -> Any:
    if name in ("ImageDescriber", "RESULT_DTYPE"):
        from vlagent.batch import udf

        return getattr(udf, name)
    if name == "BatchDescriber":
        from vlagent.batch.describer import BatchDescriber

        return BatchDescriber
    if name == "BatchParams":
        from vlagent.batch.params import BatchParams

        return BatchParams
    raise AttributeError(f"module 'vlagent.batch' has no attribute {name!r}")
