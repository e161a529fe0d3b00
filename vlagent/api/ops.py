"""vLLM's operational routes: ``GET /health``, ``GET /version``, ``POST /tokenize``,
``POST /detokenize``, ``GET /metrics``, and the API's description (``/openapi.json``,
``/v1/openapi.json`` and a self-contained ``/docs`` page that loads nothing from elsewhere).

``/health`` and ``/version`` need no token (they say only "up" or "loading" and the version,
as vLLM's do); the rest need it like every other route.
"""

from __future__ import annotations

import html
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from vlagent import __version__
from vlagent.api.chat import build_messages, parse_messages
from vlagent.api.errors import ApiError, model_error

router = APIRouter()


@router.get("/health", include_in_schema=False)
async def health(request: Request):
    """200 when the API can answer; 503 while the model loads or when the worker stopped."""
    service = request.app.state.service
    if service.model_state == "loading":
        return JSONResponse({"status": "loading"}, status_code=503)
    if not service.worker.running:
        return JSONResponse({"status": "stopped"}, status_code=503)
    return {"status": "ok"}


@router.get("/version", include_in_schema=False)
async def version():
    return {"version": __version__}


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request):
    m = request.app.state.service.metrics
    return Response(m.render(), media_type=m.content_type)


class TokenizeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str | None = None
    prompt: str | None = None
    messages: list[Any] | None = None
    add_special_tokens: bool | None = None
    add_generation_prompt: bool = True
    return_token_strs: bool = False


class DetokenizeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str | None = None
    tokens: list[int] = Field(max_length=1_000_000)


async def _tokens(request: Request, model: str | None):
    """The local model's tokenizer (the model loaded first when it is not)."""
    import asyncio

    service = request.app.state.service
    if model is not None:
        service.check_model(model)
    engine = service.worker.engine
    if engine is not None and service.settings.view.vlm.backend == "transformers" and not service.model_loaded():
        try:
            await asyncio.wrap_future(service.worker.run_model(lambda e: e.load(), label="loading the model"))
        except Exception as e:
            raise model_error(e) from None
    return service.bind_tokens()


@router.post("/tokenize")
async def tokenize(body: TokenizeRequest, request: Request):
    """The tokens of a ``prompt`` (text), or of ``messages`` as the chat template lays them out,
    each image counted as the model's visual tokens."""
    from vlagent.imaging.load import Limits

    service = request.app.state.service
    if (body.prompt is None) == (body.messages is None):
        raise ApiError(400, "send either prompt (text) or messages (a chat)", code="invalid_value", param="prompt")
    tokens = await _tokens(request, body.model)
    if body.prompt is not None:
        ids = tokens.encode(body.prompt, add_special_tokens=body.add_special_tokens is not False)
    else:
        from vlagent.api.sampling import build_options

        parsed = parse_messages(body.messages or [], service.max_images())
        messages = await run_in_threadpool(build_messages, parsed, Limits.from_settings(service.settings))
        ids = await run_in_threadpool(tokens.chat_ids, messages, build_options({}, service.settings),
                                      body.add_generation_prompt)
    out: dict[str, Any] = {"count": len(ids), "max_model_len": service.options.max_model_len, "tokens": ids,
                           "token_strs": tokens.token_strs(ids) if body.return_token_strs else None}
    return out


@router.post("/detokenize")
async def detokenize(body: DetokenizeRequest, request: Request):
    tokens = await _tokens(request, body.model)
    bad = next((t for t in body.tokens if not 0 <= t < tokens.vocab_size), None)
    if bad is not None:
        raise ApiError(400, f"token id {bad} is not in the vocabulary (0 to {tokens.vocab_size - 1})",
                       code="invalid_value", param="tokens")
    return {"prompt": tokens.decode(body.tokens)}


@router.get("/openapi.json", include_in_schema=False)
async def openapi_json(request: Request):
    return request.app.openapi()


@router.get("/docs", include_in_schema=False)
async def docs(request: Request):
    """The API's routes as one page, made from the OpenAPI schema (no scripts, nothing fetched)."""
    return HTMLResponse(render_docs(request.app.openapi()))


def render_docs(spec: dict) -> str:
    e = html.escape
    rows = []
    for path, methods in sorted(spec.get("paths", {}).items()):
        for method, op in methods.items():
            params = "".join(f"<li><code>{e(p['name'])}</code> ({e(p.get('in', ''))})"
                             f"{' required' if p.get('required') else ''}</li>" for p in op.get("parameters", []))
            body = ", ".join(e(t) for t in (op.get("requestBody") or {}).get("content", {}))
            rows.append(f"<section><h2><code>{e(method.upper())} {e(path)}</code></h2>"
                        f"<p>{e(op.get('summary') or '')}</p><pre>{e(op.get('description') or '')}</pre>"
                        + (f"<p>body: {body}</p>" if body else "") + (f"<ul>{params}</ul>" if params else "")
                        + "</section>")
    info = spec.get("info", {})
    return ("<!doctype html><meta charset=utf-8><title>vlagent API</title>"
            "<style>body{font:15px system-ui;max-width:60em;margin:2em auto}pre{white-space:pre-wrap}</style>"
            f"<h1>{e(info.get('title', 'vlagent'))} {e(info.get('version', ''))}</h1>"
            "<p>The schema: <a href=/openapi.json>/openapi.json</a>. Every route but /health and /version needs "
            "the header <code>Authorization: Bearer TOKEN</code> (vlagent api-token).</p>" + "".join(rows))
