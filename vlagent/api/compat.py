"""The routes of the Qwen-VL services vlagent replaces, so their clients only change the URL.

- ``POST /describe-image/`` (a FastAPI service): multipart ``file`` → ``description``,
  ``inference_time`` (seconds the server spent on the request), ``model``, and vlagent's own
  ``ocr_text``, ``image_id`` and ``timings``;
- ``POST /v1/vision/completion`` (a Flask service): multipart ``image`` and an optional form
  ``prompt`` → ``{"result": ...}`` (no prompt: the built-in description).

Both describe as ``POST /v1/describe`` does (the same knobs are accepted) and so add the image
to the index unless ``api.index_uploads`` is off. Their clients send no token: serve them
with ``vlagent serve --no-auth`` (loopback only), or give them the token.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from vlagent.api.images import DESCRIBE_BODY, describe_image, read_describe_input

router = APIRouter()


@router.post("/describe-image/", openapi_extra={"requestBody": DESCRIBE_BODY})
@router.post("/describe-image", include_in_schema=False)
async def describe_image_route(request: Request):
    """The image's description and how long it took (seconds), as the FastAPI Qwen-VL service answered."""
    inp = await read_describe_input(request, ("file",))
    out = await describe_image(request, inp)
    return {"description": out["description"], "inference_time": round(out["timings"]["total_ms"] / 1000, 3),
            "model": request.app.state.service.model_id(), "ocr_text": out["ocr_text"],
            "image_id": out["image_id"], "timings": out["timings"]}


@router.post("/v1/vision/completion", openapi_extra={"requestBody": DESCRIBE_BODY})
async def vision_completion(request: Request):
    """The model's answer to ``prompt`` about the ``image`` (its description without one), as ``result``."""
    inp = await read_describe_input(request, ("image",))
    out = await describe_image(request, inp)
    return {"result": out["description"], "model": request.app.state.service.model_id(),
            "image_id": out["image_id"]}
