"""The MCP face: ``vlagent mcp`` serves the index and the model to MCP clients (Claude Desktop,
IDEs, agents) over stdio or streamable HTTP, with the official ``mcp`` SDK.

:mod:`vlagent.mcp.tools` is what the tools do, in plain Python over the same core the CLI
uses (the index's search, the job runner's ``ask`` step, :func:`vlagent.memory.ask_memory`,
the capture flow); :mod:`vlagent.mcp.server` declares them to the SDK and runs the stdio
transport; :mod:`vlagent.mcp.http` serves the streamable HTTP transport behind the API's
bearer token. Importing this package imports neither the SDK nor a model library.
"""
