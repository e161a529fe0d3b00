"""The seed operator as a Daft class UDF (``pip install 'vlagent[batch]'``).

.. code-block:: python

    import daft
    from vlagent.batch import ImageDescriber

    describer = ImageDescriber(model_path="/models/Qwen2.5-VL-3B-Instruct", batch_size=8,
                               dtype="bfloat16", gpus=1, max_concurrency=4)
    df = daft.read_parquet("images.parquet")
    df = df.with_column("vlagent", describer.describe(df["images"], df["prompts"]))
    df = df.select("*", daft.col("vlagent").struct.get("description").alias("descriptions"))

One engine per actor (``__init__`` runs once per actor); ``gpus`` is each actor's GPU share
and ``max_concurrency`` the number of actors, as :func:`daft.cls` expresses them. The result
is a struct per row (:data:`RESULT_DTYPE`); a bad row has ``error`` set instead of failing
the job. On Ray: ``daft.set_runner_ray(address)`` before running the query.
"""

from __future__ import annotations

from typing import Any

import daft
from daft import DataType, Series

from vlagent.batch.describer import RESULT_FIELDS, BatchDescriber
from vlagent.batch.params import BatchParams

_DTYPES = {str: DataType.string(), int: DataType.int64(), float: DataType.float64()}
RESULT_DTYPE = DataType.struct({name: _DTYPES[t] for name, t in RESULT_FIELDS.items()})


def ImageDescriber(*, gpus: float = 0, max_concurrency: int | None = None, cpus: float | None = None,  # noqa: N802
                   use_process: bool | None = None, **params: Any) -> Any:
    """A Daft class-UDF instance; every other keyword is a :class:`BatchParams` field (the seed
    operator's parameter names). Call ``.describe(images_col[, prompts_col])`` on it."""
    checked = BatchParams.from_kwargs(**params)  # a typo fails here, on the driver, not in every actor
    batch_rows = max(checked.batch_size, 1) * 4  # a few model batches per call: fewer round trips

    @daft.cls(gpus=gpus, max_concurrency=max_concurrency, cpus=cpus, use_process=use_process,
              name_override="vlagent.ImageDescriber")
    class _ImageDescriber:
        def __init__(self, params: BatchParams):
            self.core = BatchDescriber(params)

        @daft.method.batch(return_dtype=RESULT_DTYPE, batch_size=batch_rows)
        def describe(self, images: Series, prompts: Series | None = None) -> list[dict[str, Any]]:
            rows = self.core.describe(images.to_pylist(), prompts.to_pylist() if prompts is not None else None)
            return [r.as_dict() for r in rows]

    return _ImageDescriber(checked)
