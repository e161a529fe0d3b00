"""The local HTTP API: OpenAI-compatible chat completions and models, plus describe, search
and image records, served from the running agent (``vlagent serve`` or the desktop app).

Start it with :class:`vlagent.api.server.ApiServer`; FastAPI and uvicorn are imported only then.
"""
