"""Questions over everything the agent has seen, on the API.

``POST /v1/memory/ask`` takes ``{"question": ..., "stream"?: bool, "store"?: bool}`` and answers
with :meth:`MemoryAnswer.as_dict` (the answer, its sources with their ids, paths and times,
what was searched, timings); with ``stream: true`` as server-sent events: one
``{"object": "memory.answer.delta", "text": ...}`` per piece, then the whole
``{"object": "memory.answer", ...}``, then ``data: [DONE]``.

The model id ``vlagent-memory`` (listed by ``GET /v1/models``) does the same through
``/v1/chat/completions``, so any OpenAI chat client can talk to the user's image memory:
the last user message is the question (earlier turns are not used: each question is
retrieved afresh), the answer ends with a short ``Sources: [#id] path (time)`` footer, and
the response carries the sources as an extra field ``sources`` (in the last chunk when
streamed). The answer's length (``max_tokens``) and sampling (``temperature``, ``top_p``,
``top_k``, ``repetition_penalty``) and ``stop`` apply as in a chat; fields with no meaning
here (``min_tokens``, ``mm_processor_kwargs``, ``tools``) are refused.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from vlagent.api.chat import (
    SSE_HEADERS,
    Answer,
    ChatRequest,
    Completion,
    StopMatcher,
    check_extra_fields,
    generation_options,
    parse_messages,
    sse,
    stop_list,
)
from vlagent.api.errors import ApiError
from vlagent.common import display_path, json_safe
from vlagent.memory import MEMORY_MODEL_ID

router = APIRouter()

FOOTER_SOURCES = 3  # the footer names the cited sources, or the best ones when none was cited
# Chat fields that have no meaning for a memory answer (its images and prompt come from the index).
MEMORY_REFUSED = frozenset({"min_tokens", "mm_processor_kwargs", "tools"})


class MemoryQuestion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, max_length=4000)
    stream: bool = False
    store: bool = True


@router.post("/v1/memory/ask")
async def memory_ask(body: MemoryQuestion, request: Request):
    """Answer a question from everything indexed: the answer, its cited sources, what was searched."""
    service = request.app.state.service
    question = body.question.strip()
    if not question:
        raise ApiError(400, "the question is empty", code="invalid_value", param="question")
    slot = service.admit()
    streaming = False
    try:
        answer = Answer(lambda on_token, cancel: service.ask_memory(question, on_token, store=body.store,
                                                                    cancel=cancel),
                        StopMatcher([]))
        if body.stream:
            streaming = True
            return StreamingResponse(_ask_events(answer, slot), media_type="text/event-stream", headers=SSE_HEADERS)
        return JSONResponse(as_json({"object": "memory.answer", **(await answer.result(request)).as_dict()}))
    finally:
        if not streaming:
            slot.release()


async def _ask_events(answer: Answer, slot):
    try:
        while (text := await answer._next()) is not None:
            yield sse({"object": "memory.answer.delta", "text": text})
        try:
            ans = answer._generation()
        except ApiError as e:
            yield sse(e.body())
        else:
            yield sse(as_json({"object": "memory.answer", **ans.as_dict()}))
        yield "data: [DONE]\n\n"
    finally:
        slot.release()


def as_json(obj: dict) -> dict:
    """``obj`` with paths that are not UTF-8 made JSON-safe (their bytes as \\xNN, the exact ones in ``*_b64``)."""
    out = json_safe(obj)
    assert isinstance(out, dict)
    return out


def sources_of(ans: Any) -> list[dict]:
    return [as_json(s.as_dict()) for s in ans.sources]


def footer(ans: Any) -> str:
    """``Sources: [#12] ~/Pictures/a.png (2025-03-04 10:12); …`` — the cited sources, else the best few."""
    shown = [s for s in ans.sources if s.cited] or ans.sources[:FOOTER_SOURCES]
    if not shown:
        return ""
    return "\n\nSources: " + "; ".join(f"[#{s.id}] {display_path(s.path or '') or '(no file)'} ({s.time})"
                                       for s in shown)


def memory_usage(ans: Any) -> dict:
    t = ans.timings or {}
    prompt, completion = int(t.get("input_tokens") or 0), int(t.get("new_tokens") or 0)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


class MemoryAnswerStream(Answer):
    """A memory answer as chat chunks: the text, then the footer, the sources in the last chunk."""

    def text(self, g) -> str:
        return g.text + footer(g)

    def ending(self, g) -> tuple[str, str, dict, dict]:
        return self.matcher.flush() + footer(g), "stop", memory_usage(g), {"sources": sources_of(g)}


async def memory_chat(req: ChatRequest, request: Request):
    """``/v1/chat/completions`` with ``model: vlagent-memory``."""
    service = request.app.state.service
    sent = set(req.model_fields_set)
    refused = sorted(sent & MEMORY_REFUSED)
    if refused:
        raise ApiError(400, f"{refused[0]}: {MEMORY_MODEL_ID} does not take it (it answers from the index, with "
                            "the memory.* settings)", code="invalid_value", param=refused[0])
    check_extra_fields(req.model_extra or {})
    if req.n not in (None, 1):
        raise ApiError(400, "only n = 1 is supported", code="invalid_value", param="n")
    parsed = parse_messages(req.messages)
    role, question, images = parsed[-1]
    if images:
        raise ApiError(400, f"{MEMORY_MODEL_ID} answers from the images already indexed: send the question as "
                            "text (to ask about a new image, use the model itself)", code="invalid_value",
                       param=f"messages[{len(parsed) - 1}].content")
    if not question.strip():
        raise ApiError(400, "the last user message has no text to ask", code="invalid_value",
                       param=f"messages[{len(parsed) - 1}].content")
    overrides = memory_overrides(req, generation_options(req, service.settings))
    completion = Completion(MEMORY_MODEL_ID, req.request_id)
    slot = service.admit()
    streaming = False
    try:
        answer = MemoryAnswerStream(
            lambda on_token, cancel: service.ask_memory(question.strip(), on_token, overrides=overrides,
                                                        cancel=cancel),
            StopMatcher(stop_list(req.stop), req.include_stop_str_in_output), started=time.monotonic())
        if req.stream:
            include_usage = bool((req.stream_options or {}).get("include_usage"))
            streaming = True
            return StreamingResponse(answer.events(completion, include_usage, slot), media_type="text/event-stream",
                                     headers=SSE_HEADERS)
        ans = await answer.result(request)
        return JSONResponse(completion.whole(answer.text(ans), "stop", memory_usage(ans), sources=sources_of(ans),
                                             memory=as_json({"cited": ans.cited_ids, "time_range": ans.time_range,
                                                               "terms": ans.terms, "timings": ans.timings})))
    finally:
        if not streaming:
            slot.release()


def memory_overrides(req: ChatRequest, opts) -> dict[str, Any]:
    """The settings a memory answer runs with for the knobs this request set: the answer's
    length and its sampling (what ``memory.*`` and ``vlm.*`` otherwise decide)."""
    out: dict[str, Any] = {}
    sent = req.model_fields_set
    if sent & {"max_tokens", "max_completion_tokens"}:
        out["memory.answer_tokens"] = opts.max_new_tokens
    if sent & {"temperature", "top_p", "top_k"}:
        out.update({"vlm.do_sample": opts.do_sample, "vlm.temperature": opts.temperature, "vlm.top_p": opts.top_p,
                    "vlm.top_k": opts.top_k})
    if "repetition_penalty" in sent:
        out["vlm.repetition_penalty"] = opts.repetition_penalty
    return out
