"""The data home: every piece of state vlagent keeps lives under one directory.

Resolution order: an explicit ``--home`` argument, then ``VLAGENT_HOME``, then
platformdirs' per-user data directory.

The home holds every OCR text, description and path, the captures and the API token: it is
its owner's only. Its folders are created 0700 and every file vlagent writes there 0600,
whatever the umask (:data:`DIR_MODE`, :data:`FILE_MODE`, :func:`private_opener`); a home made
by an older version, readable by others, is tightened once, with a log line.
"""

from __future__ import annotations

import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path

ENV_VAR = "VLAGENT_HOME"
DIR_MODE = 0o700
FILE_MODE = 0o600

log = logging.getLogger(__name__)


def private_opener(path: str | os.PathLike, flags: int) -> int:
    """``open(path, mode, opener=private_opener)``: a file created readable by its owner only."""
    return os.open(path, flags, FILE_MODE)


def make_private_dir(path: Path) -> None:
    """``path`` (and missing parents) as a folder; the folder itself is created 0700."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)


def default_root() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("vlagent", appauthor=False))


def resolve_root(explicit: str | os.PathLike | None = None) -> Path:
    if explicit:
        return Path(explicit).expanduser().resolve()
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser().resolve()
    return default_root()


@dataclass(frozen=True)
class Home:
    root: Path

    @classmethod
    def resolve(cls, explicit: str | os.PathLike | None = None) -> Home:
        return cls(resolve_root(explicit))

    @property
    def config_path(self) -> Path:
        return self.root / "config.toml"

    @property
    def db_path(self) -> Path:
        return self.root / "index.db"

    @property
    def thumbnails(self) -> Path:
        return self.root / "thumbnails"

    @property
    def captures(self) -> Path:
        return self.root / "captures"

    @property
    def models(self) -> Path:
        return self.root / "models"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def conversation_cache(self) -> Path:
        """The local model's cache of the last ``ask`` conversation (its keys and values, which hold
        what the images showed): read by ``ask --continue``, removed when any image is forgotten."""
        return self.root / "cache" / "last-conversation.pt"

    @property
    def api_token_path(self) -> Path:
        """The API's bearer token (written by :mod:`vlagent.api.token`, mode 0600)."""
        return self.root / "api-token"

    def ensure(self) -> Home:
        """Create the home and its folders (0700); tighten one that others can read."""
        fresh = not self.root.exists()
        for d in (self.root, self.thumbnails, self.captures, self.models, self.logs):
            make_private_dir(d)
        if not fresh:
            self.tighten()
        return self

    def tighten(self) -> int:
        """A home others can enter (made by an older version, or under a permissive umask):
        its folders become 0700 and the files vlagent wrote there 0600. Runs when the home
        folder itself is open to others (so, once); returns how many modes it changed."""
        try:
            if not stat.S_IMODE(self.root.stat().st_mode) & 0o077:
                return 0
        except OSError:
            return 0
        changed = sum(_restrict(d) for d in (self.root, self.thumbnails, self.captures, self.models, self.logs))
        for name in (self.config_path.name, self.db_path.name, self.db_path.name + "-wal",
                     self.db_path.name + "-shm", self.db_path.name + "-journal", self.api_token_path.name,
                     "agent.lock"):
            changed += _restrict(self.root / name)
        for d in (self.thumbnails, self.captures, self.logs):  # models: the folder is enough
            for folder, dirs, files in os.walk(d):
                changed += sum(_restrict(Path(folder, n)) for n in dirs + files)
        log.warning("%s was readable by other users: its folders are now 0700 and its files 0600 "
                    "(%d changed)", self.root, changed)
        return changed


def _restrict(path: Path) -> int:
    """Take group and other permissions off ``path`` (0755 → 0700, 0644 → 0600; links are
    left alone); 1 when it changed."""
    try:
        st = path.lstat()
        if stat.S_ISLNK(st.st_mode) or not stat.S_IMODE(st.st_mode) & 0o077:
            return 0
        os.chmod(path, stat.S_IMODE(st.st_mode) & ~0o077)
        return 1
    except OSError:
        return 0
