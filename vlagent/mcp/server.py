"""The MCP server: the tools of :mod:`vlagent.mcp.tools` declared to the official ``mcp`` SDK
(:class:`mcp.server.mcpserver.MCPServer`), and the stdio transport.

Each tool is synchronous: the SDK runs it on a worker thread (the index is opened per call
there). It answers with a ``CallToolResult`` built here: the record as JSON text plus the same
record as ``structuredContent`` (checked against the tool's ``outputSchema``); ``get_image``
adds the thumbnail as image content. A :class:`~vlagent.mcp.tools.ToolFailure` becomes an
``isError`` result whose text is its one sentence; anything unexpected is logged with its
traceback and answered the same way, so a call never takes the server down.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult, ContentBlock, ImageContent, TextContent, ToolAnnotations
from pydantic import Field
from typing_extensions import TypedDict  # pydantic reads nested TypedDicts only from here before 3.12

from vlagent import __version__
from vlagent.common import CancelToken
from vlagent.mcp.tools import MAX_LIMIT, ToolFailure

if TYPE_CHECKING:
    from vlagent.mcp.tools import McpTools

log = logging.getLogger(__name__)

SERVER_NAME = "vlagent"
INSTRUCTIONS = (
    "vlagent remembers the images and screenshots this user has seen: their on-screen text (OCR), "
    "descriptions and earlier answers are in a local index. Use search_images to find images by the text "
    "in them (any language; filters by source and date), get_image to read one image's text and see its "
    "thumbnail, ask_image to ask the local vision-language model about one image, and ask_memory for a "
    "question over everything seen (it retrieves the images and answers citing them as [#id]). Answers of "
    "ask_image and ask_memory are stored with the images, like every answer in vlagent; nothing is deleted "
    "or changed. capture_screen works only when the user turned on mcp.allow_capture.")


# --- what the tools answer (their outputSchema) ------------------------------------------------
class SearchHit(TypedDict):
    id: int
    path: str | None
    time: str
    first_seen: float
    source: str
    score: float
    snippet: str
    gone: bool


class SearchResult(TypedDict):
    query: str
    total: int
    relaxed: bool
    hits: list[SearchHit]
    note: str


class StoredAnswer(TypedDict):
    question: str
    answer: str
    model: str | None
    time: str | None
    memory: bool


class ImageRecord(TypedDict):
    id: int
    path: str | None
    paths: list[str]
    gone: bool
    source: str
    width: int | None
    height: int | None
    format: str | None
    bytes: int | None
    sha256: str
    time: str
    first_seen: float
    taken_at: str | None
    ocr_text: str
    description: str
    transcription: str
    answers: list[StoredAnswer]
    thumbnail: bool


class ImageAnswer(TypedDict):
    id: int
    question: str
    answer: str
    model: str | None
    engine: str
    latency_ms: float | None
    stored: bool


class MemorySource(TypedDict):
    id: int
    path: str | None
    time: str
    score: float
    snippet: str
    cited: bool


class MemoryResult(TypedDict):
    question: str
    answer: str
    answered: bool
    sources: list[MemorySource]
    cited: list[int]
    time_range: str | None
    terms: list[str]
    model: str | None


class CaptureResult(TypedDict):
    id: int | None
    path: str
    width: int
    height: int
    new: bool
    kept: bool
    ocr_text: str
    handler: str


# --- results ----------------------------------------------------------------------------------
def error_result(message: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=message)], is_error=True)


def ok_result(record: dict[str, Any], extra: list[ContentBlock] | None = None) -> CallToolResult:
    text = json.dumps(record, ensure_ascii=False, indent=1)
    return CallToolResult(content=[TextContent(type="text", text=text), *(extra or [])], structured_content=record)


def run_tool(name: str, call: Callable[[], CallToolResult]) -> CallToolResult:
    """``call()``, with a :class:`ToolFailure` or a crash turned into an error result."""
    try:
        return call()
    except ToolFailure as e:
        log.info("%s: %s", name, e)
        return error_result(str(e))
    except Exception as e:  # a bug or an engine crash: the server goes on, the client hears why
        log.exception("the %s tool failed", name)
        return error_result(f"{name} failed unexpectedly: {e.__class__.__name__}: {e}")


async def run_stoppable(name: str, call: Callable[[CancelToken], CallToolResult]) -> CallToolResult:
    """:func:`run_tool` on a worker thread for a tool that runs the model: when the client
    cancels the request (``notifications/cancelled``, or it goes away), the token is set and the
    model stops at its next token instead of answering no one to the end."""
    import anyio

    token = CancelToken()
    try:
        return await anyio.to_thread.run_sync(lambda: run_tool(name, lambda: call(token)), abandon_on_cancel=True)
    except anyio.get_cancelled_exc_class():
        token.cancel()
        log.info("%s: the client cancelled; the model stops at its next token", name)
        raise


READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
STORES_ANSWER = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False,
                                open_world_hint=False)


def build_server(tools: McpTools) -> MCPServer:
    """The MCP server with vlagent's five tools over ``tools``."""
    mcp = MCPServer(SERVER_NAME, title="vlagent", version=__version__, instructions=INSTRUCTIONS,
                    log_level="WARNING")

    @mcp.tool(title="Search images", annotations=READ_ONLY)
    def search_images(
        query: Annotated[str, Field(description="Words to find in the images' text, descriptions, answers and "
                                                "file names (any language; \"quotes\" for a phrase, -word to "
                                                "exclude, OR between alternatives). Empty: the newest images.")] = "",
        source: Annotated[str | None, Field(description="Only images from this source: folder, screenshot, "
                                                        "import, api or web (dropped on the browser page).")] = None,
        since: Annotated[str | None, Field(description="Only images first seen at or after this local time: "
                                                       "YYYY-MM-DD, YYYY-MM-DDTHH:MM, or a span back from now "
                                                       "like 12h, 7d, 2w.")] = None,
        until: Annotated[str | None, Field(description="Only images first seen before this time (same forms "
                                                       "as since).")] = None,
        limit: Annotated[int, Field(description=f"How many hits at most (1 to {MAX_LIMIT}).")] = 10,
    ) -> Annotated[CallToolResult, SearchResult]:
        """Search everything vlagent has indexed (OCR text, descriptions, answers, file names). Returns hits
        with the image id, path, time first seen, the matching snippet and a relevance score; when no image
        matches all the words, images matching some of them (relaxed: true)."""
        return run_tool("search_images", lambda: ok_result(
            tools.search_images(query, source=source, since=since, until=until, limit=limit)))

    @mcp.tool(title="Get one image", annotations=READ_ONLY)
    def get_image(
        id: Annotated[int, Field(description="The image id (from search_images).")],
    ) -> Annotated[CallToolResult, ImageRecord]:
        """One indexed image: its metadata (path, size, source, when first seen), its OCR text, its
        description, the answers stored with it, and its thumbnail as an image."""

        def call() -> CallToolResult:
            record, thumbnail = tools.get_image(id)
            extra: list[ContentBlock] = []
            if thumbnail is not None:
                extra.append(ImageContent(type="image", data=base64.b64encode(thumbnail).decode("ascii"),
                                          mime_type="image/jpeg"))
            return ok_result(record, extra)

        return run_tool("get_image", call)

    @mcp.tool(title="Ask about one image", annotations=STORES_ANSWER)
    async def ask_image(
        id: Annotated[int, Field(description="The image id (from search_images).")],
        question: Annotated[str, Field(description="The question about the image.")],
    ) -> Annotated[CallToolResult, ImageAnswer]:
        """Ask vlagent's vision-language model a question about one indexed image. The answer is stored with
        the image (searchable, shown by get_image), as every answer in vlagent is. The model loads on the
        first call (seconds to a minute)."""
        return await run_stoppable("ask_image", lambda cancel: ok_result(tools.ask_image(id, question, cancel)))

    @mcp.tool(title="Ask about everything seen", annotations=STORES_ANSWER)
    async def ask_memory(
        question: Annotated[str, Field(description="A question about what the user has seen, e.g. 'what was the "
                                                   "total on the ACME invoice last week?' (times like 'yesterday' "
                                                   "or 'last week' narrow the search).")],
    ) -> Annotated[CallToolResult, MemoryResult]:
        """Answer a question over everything seen: retrieves the matching images from the index, then the
        model answers from their text (and the best image), citing them as [#id]. Returns the answer and
        its sources; the answer is stored with the cited images. When nothing matches, no model runs and the
        answer says what was searched (answered: false)."""
        return await run_stoppable("ask_memory", lambda cancel: ok_result(tools.ask_memory(question, cancel)))

    @mcp.tool(title="Capture the screen",
              annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False,
                                          open_world_hint=False))
    def capture_screen(
        monitor: Annotated[int, Field(description="0: every monitor; N: only monitor N.")] = 0,
    ) -> Annotated[CallToolResult, CaptureResult]:
        """Capture the screen now, save and index the screenshot, and return its id and OCR text (then
        get_image or ask_image can use the id). Off unless the user set mcp.allow_capture; when off, the call
        fails saying how to turn it on."""
        return run_tool("capture_screen", lambda: ok_result(tools.capture_screen(monitor)))

    return mcp


def run_stdio(tools: McpTools) -> None:
    """Serve over this process's stdin/stdout until the client closes them."""
    build_server(tools).run("stdio")
