"""The XDG base directories (freedesktop.org basedir spec): an unset, empty or relative
variable means the default under the home directory."""

from __future__ import annotations

import os
from pathlib import Path


def _base(var: str, default: str) -> Path:
    value = os.environ.get(var, "")
    return Path(value) if value and os.path.isabs(value) else Path.home() / default


def data_home() -> Path:
    return _base("XDG_DATA_HOME", ".local/share")


def config_home() -> Path:
    return _base("XDG_CONFIG_HOME", ".config")


def applications_dir() -> Path:
    return data_home() / "applications"


def icons_dir() -> Path:
    return data_home() / "icons" / "hicolor"


def autostart_dir() -> Path:
    return config_home() / "autostart"


def systemd_user_dir() -> Path:
    return config_home() / "systemd" / "user"
