"""Log files: each long-running command (the desktop app, ``watch``, ``serve``) writes
``<home>/logs/<command>.log``, rotated at ``general.log_max_bytes`` with
``general.log_backups`` old files kept. One file per command, because only one process of a
command runs on a data home (the agent lock) and a rotating file must have one writer.
Uncaught exceptions (main thread or any other) and native crashes land there too. Like every
file in the data home, the logs are readable by their owner only (0600)."""

from __future__ import annotations

import faulthandler
import logging
import logging.handlers
import os
import platform
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from vlagent.home import make_private_dir, private_opener

if TYPE_CHECKING:
    from vlagent.settings import Settings

FORMAT = "%(asctime)s %(process)d %(threadName)s %(levelname)s %(name)s: %(message)s"
FAULTS_NAME = "crashes.log"

log = logging.getLogger("vlagent")
_fault_file = None
_HOOK_MARK = "_vlagent"  # an attribute set on the sys.excepthook installed here


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log whose files are created 0600, whatever the umask (they quote paths,
    OCR text and questions)."""

    def _open(self):
        return open(self.baseFilename, self.mode, encoding=self.encoding, errors=self.errors,  # noqa: SIM115
                    opener=private_opener)


def log_path(home, command: str) -> Path:
    return Path(home.logs) / f"{command}.log"


def start_file_logging(home, settings: Settings, command: str) -> Path:
    """Send INFO and above to the command's rotating log (the console keeps its own level)."""
    path = log_path(home, command)
    make_private_dir(path.parent)
    root = logging.getLogger()
    for h in root.handlers:  # console handlers keep showing what they showed before
        if h.level == logging.NOTSET:
            h.setLevel(root.level)
    handler = PrivateRotatingFileHandler(
        path, maxBytes=settings.view.general.log_max_bytes, backupCount=settings.view.general.log_backups,
        encoding="utf-8")
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.setLevel(logging.INFO)
    root.addHandler(handler)
    root.setLevel(min(root.level, logging.INFO))
    install_excepthooks()
    _enable_faulthandler(path.parent / FAULTS_NAME)
    from vlagent import __version__

    log.info("vlagent %s %s started (pid %d, Python %s, %s)", __version__, command, os.getpid(),
             platform.python_version(), platform.platform())
    return path


def install_excepthooks() -> None:
    """Log uncaught exceptions, then let the previous hooks print them as before."""
    if getattr(sys.excepthook, _HOOK_MARK, False):
        return
    previous, previous_thread = sys.excepthook, threading.excepthook

    def excepthook(exc_type, exc, tb):
        if not issubclass(exc_type, KeyboardInterrupt):
            log.critical("uncaught exception", exc_info=(exc_type, exc, tb))
        previous(exc_type, exc, tb)

    def thread_excepthook(hook_args):
        if hook_args.exc_type is not SystemExit:
            name = hook_args.thread.name if hook_args.thread else "?"
            log.critical("uncaught exception in thread %s", name,
                         exc_info=(hook_args.exc_type, hook_args.exc_value, hook_args.exc_traceback))
        previous_thread(hook_args)

    setattr(excepthook, _HOOK_MARK, True)
    sys.excepthook = excepthook
    threading.excepthook = thread_excepthook


def _enable_faulthandler(path: Path) -> None:
    """Native crashes (a segfault in Qt or torch) write the Python stacks to crashes.log."""
    global _fault_file
    if _fault_file is None:
        try:
            _fault_file = open(path, "a", encoding="utf-8", opener=private_opener)  # noqa: SIM115 - open for the process' life
            faulthandler.enable(file=_fault_file, all_threads=True)
        except OSError as e:
            log.warning("cannot write %s: %s", path, e)


def log_files(home) -> list[Path]:
    """The current log files (not the rotated copies), most recently written first."""
    folder = Path(home.logs)
    if not folder.is_dir():
        return []
    files = [p for p in folder.glob("*.log") if p.is_file() and p.stat().st_size > 0]
    return sorted(files, key=lambda p: p.stat().st_mtime, reverse=True)


def tail(path: Path, lines: int) -> list[str]:
    """The last ``lines`` lines of a text file, read from the end (logs can be large)."""
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        end = pos = f.tell()
        chunk = b""
        while pos > 0 and chunk.count(b"\n") <= lines:
            step = min(65536, pos)
            pos -= step
            f.seek(pos)
            chunk = f.read(end - pos)
    return chunk.decode("utf-8", errors="replace").splitlines()[-lines:]
