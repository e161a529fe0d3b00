"""The data home: every piece of state vlagent keeps lives under one directory.

Resolution order: an explicit ``--home`` argument, then ``VLAGENT_HOME``, then
platformdirs' per-user data directory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ENV_VAR = "VLAGENT_HOME"


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
    def api_token_path(self) -> Path:
        """The API's bearer token (written by :mod:`vlagent.api.token`, mode 0600)."""
        return self.root / "api-token"

    def ensure(self) -> Home:
        for d in (self.root, self.thumbnails, self.captures, self.models, self.logs):
            d.mkdir(parents=True, exist_ok=True)
        return self
