"""The FastAPI application: OpenAI-compatible chat and models, the index's endpoints, and
the guard (token, body limit) in front of all of them."""

from __future__ import annotations

from fastapi import FastAPI

from vlagent import __version__
from vlagent.api import chat, errors, images
from vlagent.api.guard import Guard


def create_app(service, token: str, max_body: int):
    """The ASGI app serving ``service`` (an :class:`~vlagent.api.service.ApiService`)."""
    # No /docs page: it would load its scripts from a CDN. The schema is under the token too.
    app = FastAPI(title="vlagent", version=__version__, docs_url=None, redoc_url=None,
                  openapi_url="/v1/openapi.json")
    app.state.service = service
    errors.install(app)
    app.include_router(chat.router)
    app.include_router(images.router)

    @app.get("/health", include_in_schema=False)
    async def health():
        return {"status": "ok"}

    return Guard(app, token, max_body)
