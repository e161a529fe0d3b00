"""Questions over everything seen ("what was the total on the ACME invoice last week?",
"上周那个报错截图里的端口号是多少?"): retrieval from the index with the question's time range
and words (:mod:`~vlagent.memory.retrieve`, :mod:`~vlagent.memory.timeparse`), then an answer
from the model grounded in the retrieved images, citing them as ``[#id]``
(:mod:`~vlagent.memory.answer`). No Qt and no torch here: every face (CLI, desktop app, API,
MCP) calls :func:`ask_memory` with the engine it has.
"""

from __future__ import annotations

from vlagent.memory.answer import MEMORY_MODEL_ID, MemoryAnswer, Source, ask_memory, parse_citations, store_answer
from vlagent.memory.retrieve import Candidate, Retrieval, Retriever, search_terms
from vlagent.memory.timeparse import TimeRange, extract_time

__all__ = ["MEMORY_MODEL_ID", "Candidate", "MemoryAnswer", "Retrieval", "Retriever", "Source", "TimeRange",
           "ask_memory", "extract_time", "parse_citations", "search_terms", "store_answer"]
