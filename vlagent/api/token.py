"""The API's bearer token: generated once, kept in the data home, readable by its owner only."""

from __future__ import annotations

import logging
import os
import secrets
import stat
from pathlib import Path

log = logging.getLogger(__name__)

TOKEN_NAME = "api-token"


def token_path(home) -> Path:
    return Path(home.api_token_path)


def load_or_create(home, *, regenerate: bool = False) -> str:
    """The token in ``<home>/api-token``, created (mode 0600) when missing or ``regenerate``."""
    path = token_path(home)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # the data home: its owner's only
    if not regenerate:
        try:
            text = path.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            text = ""
        if text:
            _tighten(path)
            return text
    token = "vla-" + secrets.token_urlsafe(32)
    tmp = path.with_name(f".{TOKEN_NAME}.{os.getpid()}.tmp")
    # Created 0600 from the start (no window in which the umask's mode applies).
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(token + "\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return token


def _tighten(path: Path) -> None:
    """A token file others can read (copied, restored from a backup) is made private again."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            os.chmod(path, 0o600)
            log.warning("%s was readable by other users (mode %o); set to 0600", path, mode)
    except OSError as e:
        log.warning("cannot check the permissions of %s: %s", path, e)
