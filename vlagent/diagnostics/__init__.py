"""Diagnostics: rotating log files under the data home for the long-running commands,
uncaught exceptions in the log, and the bug report of ``vlagent doctor --report``."""

# Commands that run for long and log to <home>/logs/<command>.log.
LOG_COMMANDS = ("gui", "watch", "serve", "mcp")
