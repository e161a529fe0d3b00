"""Errors in OpenAI's shape: ``{"error": {"message", "type", "param", "code"}}`` with the
status codes OpenAI clients expect (400 bad request, 401 key, 404 unknown model or image,
413 too large, 429 busy, 5xx server)."""

from __future__ import annotations

import logging

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from vlagent.imaging.errors import ImageInputError, TooLarge

log = logging.getLogger(__name__)

ERROR_TYPES = {400: "invalid_request_error", 401: "invalid_request_error", 403: "invalid_request_error",
               404: "invalid_request_error", 405: "invalid_request_error", 413: "invalid_request_error",
               415: "invalid_request_error", 429: "rate_limit_error"}


class ApiError(Exception):
    def __init__(self, status: int, message: str, *, code: str | None = None, param: str | None = None,
                 type: str | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.param = param
        self.type = type or ERROR_TYPES.get(status, "server_error")
        self.headers = headers

    def body(self) -> dict:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


def image_error(e: ImageInputError, param: str | None = None) -> ApiError:
    """A bad image input: 413 when it is over a size limit, else 400; the code names the reason."""
    status = 413 if isinstance(e, TooLarge) else 400
    return ApiError(status, str(e), code=e.code, param=param)


def model_error(e: Exception) -> ApiError:
    """A model or worker failure: 503 when it may pass (stopped worker, missing model), else 500."""
    from vlagent.vlm.base import ModelNotAvailable, OutOfMemory
    from vlagent.worker.inference import WorkerStopped

    if isinstance(e, (ModelNotAvailable, WorkerStopped, OutOfMemory)):
        return ApiError(503, str(e), code="model_unavailable", type="server_error")
    return ApiError(500, str(e) or e.__class__.__name__, code="model_error", type="server_error")


def _validation_param(loc) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    out = ""
    for p in parts:
        out += f"[{p}]" if p.isdigit() else (f".{p}" if out else p)
    return out or None


def install(app) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError):
        return exc.response()

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        errors = exc.errors()
        first = errors[0] if errors else {}
        param = _validation_param(first.get("loc", ()))
        message = first.get("msg", "invalid request")
        if first.get("type") == "json_invalid":
            message = "the request body is not valid JSON"
        elif param:
            message = f"{param}: {message}"
        return ApiError(400, message, param=param, code="invalid_value").response()

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        if exc.status_code == 404 and message == "Not Found":
            message = f"no such endpoint: {request.method} {request.url.path}"
        return ApiError(exc.status_code, message, code="not_found" if exc.status_code == 404 else None,
                        headers=getattr(exc, "headers", None)).response()

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("API request %s %s failed", request.method, request.url.path)
        return ApiError(500, f"internal error: {exc.__class__.__name__}: {exc}", type="server_error").response()
