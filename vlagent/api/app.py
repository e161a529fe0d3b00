"""The FastAPI application: OpenAI-compatible chat and models, the index's endpoints, the
seed services' routes, memory questions, vLLM's operational routes, and in front of all of
them the guard (token or, without one, Host and Origin; body limit) and the request metrics."""

from __future__ import annotations

from fastapi import FastAPI

from vlagent import __version__
from vlagent.api import chat, compat, errors, images, memory, ops
from vlagent.api.guard import Guard
from vlagent.api.metrics import MetricsMiddleware


def create_app(service, token: str | None, max_body: int, *, allowed_hosts: set[str] | None = None,
               port: int | None = None):
    """The ASGI app serving ``service`` (an :class:`~vlagent.api.service.ApiService`).
    ``token`` None: no token is asked for, and only requests naming one of ``allowed_hosts``
    (this machine) from no foreign origin are answered (``--no-auth``)."""
    # /docs is a page of our own (Swagger UI would load its scripts from a CDN); it and the
    # schema are under the token too.
    app = FastAPI(title="vlagent", version=__version__, docs_url=None, redoc_url=None,
                  openapi_url="/v1/openapi.json")
    app.state.service = service
    errors.install(app)
    app.include_router(chat.router)
    app.include_router(images.router)
    app.include_router(compat.router)
    app.include_router(memory.router)
    app.include_router(ops.router)
    guarded = Guard(app, token, max_body, allowed_hosts=allowed_hosts, port=port)
    from vlagent.web import mount  # the browser face at / (its own door in front of the guard)

    return mount(app, MetricsMiddleware(guarded, service.metrics), service, token)
