"""The text of what install-desktop writes: the menu entry (from the packaged template
``desktop/vlagent.desktop``), the autostart entry and the systemd user unit. Each carries
a marker so that uninstall removes only files vlagent wrote."""

from __future__ import annotations

from vlagent.desktop.launcher import desktop_exec, systemd_exec
from vlagent.resources import resource_path

APP_ID = "vlagent"
MARKER_KEY = "X-vlagent-Installed-By"
MARKER = f"{MARKER_KEY}=vlagent install-desktop"
UNIT_NAME = "vlagent-watch.service"
UNIT_MARKER = "# Written by 'vlagent install-desktop --systemd'; 'vlagent uninstall-desktop' removes it."


def _with_exec(template: str, argv: list[str], extra: list[str]) -> str:
    lines = []
    for line in template.splitlines():
        if line.startswith("Exec="):
            line = "Exec=" + desktop_exec(argv)
        elif line.startswith("TryExec="):
            line = "TryExec=" + desktop_exec(argv[:1])
        lines.append(line)
    return "\n".join(lines + extra + [MARKER]) + "\n"


def menu_entry(launcher: list[str]) -> str:
    template = resource_path("desktop", f"{APP_ID}.desktop").read_text(encoding="utf-8")
    return _with_exec(template, [*launcher, "gui"], [])


def autostart_entry(launcher: list[str]) -> str:
    """Starts the app in the tray with the session (no search window)."""
    template = resource_path("desktop", f"{APP_ID}.desktop").read_text(encoding="utf-8")
    return _with_exec(template, [*launcher, "gui", "--background"],
                      ["X-GNOME-Autostart-enabled=true", "X-KDE-autostart-after=panel"])


def watch_unit(launcher: list[str]) -> str:
    """A user service running the headless agent on watch.folders from the config."""
    return "\n".join([
        UNIT_MARKER,
        "[Unit]",
        "Description=vlagent: index new images in the watched folders",
        "Documentation=https://pypi.org/project/vlagent/",
        "",
        "[Service]",
        "Type=simple",
        "ExecStart=" + systemd_exec([*launcher, "watch", "--quiet"]),
        "Restart=on-failure",
        "RestartSec=10",
        "RestartPreventExitStatus=2",  # a usage error (no watch.folders) does not heal by retrying
        "Nice=10",
        "",
        "[Install]",
        "WantedBy=default.target",
        "",
    ])


def is_ours(path) -> bool:
    """Whether ``path`` (a desktop entry or unit) was written by install-desktop."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return MARKER in text.splitlines() or text.startswith(UNIT_MARKER)
