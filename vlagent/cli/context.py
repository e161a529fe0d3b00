"""What every command gets: the data home, the settings (with CLI overrides), the index."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from vlagent.home import Home

if TYPE_CHECKING:
    from vlagent.index.store import Index
    from vlagent.settings.store import Settings


class Context:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.home = Home.resolve(getattr(args, "home", None))
        self._settings: Settings | None = None
        self._index: Index | None = None
        self.json = bool(getattr(args, "json", False))

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from vlagent.settings import Settings
            from vlagent.settings.cli_flags import apply_setting_flags

            self._settings = Settings.load(self.home.config_path)
            for problem in self._settings.problems:
                print(f"vlagent: warning: {problem}", file=sys.stderr)
            apply_setting_flags(self._settings, self.args)
        return self._settings

    @property
    def index(self) -> Index:
        if self._index is None:
            import sqlite3

            from vlagent.index.store import Index

            try:
                self._index = Index.open(self.home)
            except (OSError, sqlite3.Error) as e:
                # Exit status 1 with one clear line: the command cannot run at all.
                raise SystemExit(f"vlagent: cannot open the index at {self.home.db_path}: {e}") from e
        return self._index

    def index_if_exists(self) -> Index | None:
        """The index, or None when nothing was ever indexed (read-only commands don't create it)."""
        if self._index is None and not self.home.db_path.exists():
            return None
        return self.index

    def close(self) -> None:
        if self._index is not None:
            self._index.close()
            self._index = None
