"""Settings: one declaration, from which the config file, CLI flags and the dialog derive."""

from vlagent.settings.declaration import BY_KEY, SETTINGS, Setting
from vlagent.settings.store import SettingError, Settings, coerce, lookup

__all__ = ["SETTINGS", "BY_KEY", "Setting", "Settings", "SettingError", "coerce", "lookup"]
