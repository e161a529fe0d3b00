"""Linux desktop integration: the application-menu entry and icons, the session autostart
entry and a systemd user unit for the headless agent, written under the XDG directories
(``vlagent install-desktop``) and removed again (``vlagent uninstall-desktop``). No Qt."""

from vlagent.desktop.install import Part, install, planned_files, uninstall

__all__ = ["Part", "install", "planned_files", "uninstall"]
