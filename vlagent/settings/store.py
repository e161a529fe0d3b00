"""Reading, validating and writing ``config.toml``.

Only values that differ from the declared defaults are written, grouped in one TOML
table per section, so a user's file stays short and readable.
"""

from __future__ import annotations

import copy
import os
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vlagent.settings.declaration import BY_KEY, SETTINGS, Setting

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

if TYPE_CHECKING:
    from vlagent.settings.views import SettingsView


class SettingError(ValueError):
    """A setting key or value that is not valid."""


_TRUE = {"1", "true", "yes", "on", "y"}
_FALSE = {"0", "false", "no", "off", "n"}


def coerce(setting: Setting, value: Any) -> Any:
    """Convert ``value`` (from TOML, a CLI string or a widget) to the setting's type, or raise."""
    t = setting.type
    try:
        if t == "bool":
            if isinstance(value, bool):
                out: Any = value
            elif isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
                out = value.strip().lower() in _TRUE
            elif isinstance(value, int) and value in (0, 1):
                out = bool(value)
            else:
                raise ValueError
        elif t == "int":
            if isinstance(value, bool):
                raise ValueError
            out = int(value) if not isinstance(value, str) else int(value.strip().replace("_", ""))
        elif t == "float":
            if isinstance(value, bool):
                raise ValueError
            out = float(value)
        elif t == "list":
            if isinstance(value, str):
                out = [p.strip() for p in value.split(",") if p.strip()]
            elif isinstance(value, (list, tuple)):
                out = [str(v) for v in value]
            else:
                raise ValueError
        elif t == "choice":
            out = str(value)
            if out not in setting.choices:
                raise SettingError(f"{setting.key}: {out!r} is not one of {', '.join(setting.choices)}")
        elif t in ("str", "path", "secret"):
            if not isinstance(value, (str, Path)):
                raise ValueError
            out = str(value)
        else:  # pragma: no cover - declaration error
            raise SettingError(f"unknown setting type {t}")
    except SettingError:
        raise
    except (TypeError, ValueError):
        raise SettingError(f"{setting.key}: {value!r} is not a valid {t}") from None
    if t in ("int", "float"):
        if setting.minimum is not None and out < setting.minimum:
            raise SettingError(f"{setting.key}: {out} is below the minimum {setting.minimum}")
        if setting.maximum is not None and out > setting.maximum:
            raise SettingError(f"{setting.key}: {out} is above the maximum {setting.maximum}")
    return out


def lookup(key: str) -> Setting:
    try:
        return BY_KEY[key]
    except KeyError:
        raise SettingError(f"unknown setting {key!r} (see 'vlagent config list')") from None


class Settings:
    """The effective settings: defaults, overlaid by the config file, overlaid by overrides.

    Overrides (CLI flags) apply to this process only and are never saved.
    """

    def __init__(self, path: Path | None = None, values: dict[str, Any] | None = None):
        self.path = path
        self._file: dict[str, Any] = dict(values or {})
        self._overrides: dict[str, Any] = {}
        self._lock = threading.RLock()
        self._listeners: list[Callable[[str, Any], None]] = []
        self.problems: list[str] = []

    # --- loading / saving ---------------------------------------------------------------
    @classmethod
    def load(cls, path: Path) -> Settings:
        s = cls(path)
        if path.exists():
            try:
                raw = tomllib.loads(path.read_text(encoding="utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
                s.problems.append(f"{path}: not valid TOML ({e}); using defaults")
                raw = {}
            for section, table in raw.items():
                if not isinstance(table, dict):
                    s.problems.append(f"{path}: [{section}] is not a table; ignored")
                    continue
                for name, value in table.items():
                    key = f"{section}.{name}"
                    try:
                        s._file[key] = coerce(lookup(key), value)
                    except SettingError as e:
                        s.problems.append(f"{path}: {e}; using the default")
        return s

    def save(self) -> None:
        if self.path is None:
            return
        import tomli_w

        doc: dict[str, dict[str, Any]] = {}
        with self._lock:
            for s in SETTINGS:
                if s.key in self._file and self._file[s.key] != s.default:
                    doc.setdefault(s.section, {})[s.name] = self._file[s.key]
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # the data home: its owner's only
        fd, tmp = tempfile.mkstemp(prefix=".config.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(b"# vlagent settings: only values that differ from the defaults are listed.\n")
                f.write(tomli_w.dumps(doc).encode("utf-8"))
            os.chmod(tmp, 0o600)  # mkstemp's mode already; said here, since it may hold secrets (API keys)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def reload(self) -> list[str]:
        """Re-read the file (another process changed it); listeners hear of each key whose
        effective value changed. Overrides still win. Returns the changed keys."""
        if self.path is None:
            return []
        fresh = Settings.load(self.path)
        with self._lock:
            before = {s.key: self.get(s.key) for s in SETTINGS}
            self._file = fresh._file
            self.problems = fresh.problems
        changed = [k for k, v in before.items() if self.get(k) != v]
        for k in changed:
            self._notify(k, self.get(k))
        return changed

    # --- access -------------------------------------------------------------------------
    @cached_property
    def view(self) -> SettingsView:
        """Typed, live access to every setting: ``settings.view.vlm.batch_size`` is an ``int``.

        Generated from the declaration (:mod:`vlagent.settings.views`): a misspelt name fails in
        the type checker and raises ``AttributeError``; each read is a :meth:`get`."""
        from vlagent.settings.views import SettingsView  # lazy: viewgen must import without it

        return SettingsView(self)

    def get(self, key: str) -> Any:
        setting = lookup(key)
        with self._lock:
            if key in self._overrides:
                return copy.copy(self._overrides[key])
            if key in self._file:
                return copy.copy(self._file[key])
        return copy.copy(setting.default)

    __getitem__ = get

    def is_default(self, key: str) -> bool:
        return bool(self.get(key) == lookup(key).default)

    def set(self, key: str, value: Any, *, save: bool = False) -> Any:
        value = coerce(lookup(key), value)
        with self._lock:
            self._file[key] = value
            self._overrides.pop(key, None)
        if save:
            self.save()
        self._notify(key, value)
        return value

    def reset(self, key: str, *, save: bool = False) -> None:
        lookup(key)
        with self._lock:
            self._file.pop(key, None)
        if save:
            self.save()
        self._notify(key, self.get(key))

    def list_add(self, key: str, items: Iterable[str], *, save: bool = False) -> list[str]:
        current = self.get(key)
        if lookup(key).type != "list":
            raise SettingError(f"{key} is not a list")
        for it in items:
            if it not in current:
                current.append(it)
        out: list[str] = self.set(key, current, save=save)
        return out

    def list_remove(self, key: str, items: Iterable[str], *, save: bool = False) -> list[str]:
        if lookup(key).type != "list":
            raise SettingError(f"{key} is not a list")
        drop = set(items)
        out: list[str] = self.set(key, [v for v in self.get(key) if v not in drop], save=save)
        return out

    def override(self, key: str, value: Any) -> None:
        """Set a value for this process only (a CLI flag)."""
        value = coerce(lookup(key), value)
        with self._lock:
            self._overrides[key] = value
        self._notify(key, value)

    def section(self, name: str) -> dict[str, Any]:
        return {s.name: self.get(s.key) for s in SETTINGS if s.section == name}

    def as_dict(self, *, redact: bool = True) -> dict[str, Any]:
        out = {}
        for s in SETTINGS:
            v = self.get(s.key)
            if redact and s.type == "secret" and v:
                v = "***"
            out[s.key] = v
        return out

    # --- change notification (the worker and GUI apply changes live) --------------------
    def subscribe(self, fn: Callable[[str, Any], None]) -> None:
        self._listeners.append(fn)

    def _notify(self, key: str, value: Any) -> None:
        for fn in list(self._listeners):
            fn(key, value)
