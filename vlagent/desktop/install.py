"""Writing and removing the desktop files. Installing again rewrites only what changed;
uninstalling removes only files that carry our marker (desktop entries, the unit) or that
are byte-for-byte one of our icons, then the folders on their paths that are left empty
(the ones install made: ``applications/``, ``icons/hicolor/48x48/apps/`` …), never the XDG
base folders themselves nor a folder holding anything else."""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass
from pathlib import Path

from vlagent.desktop import entries, xdg
from vlagent.resources import resource_path


class Part(enum.Enum):
    MENU = "menu"  # application-menu entry and its icons
    AUTOSTART = "autostart"
    SYSTEMD = "systemd"


@dataclass(frozen=True)
class Planned:
    part: Part
    path: Path
    content: bytes


def _icons() -> list[tuple[Path, bytes]]:
    """(target, bytes) of every app icon: the SVG as scalable, each PNG at its size."""
    icons = resource_path("icons")
    out = [(xdg.icons_dir() / "scalable" / "apps" / f"{entries.APP_ID}.svg",
            (icons / f"{entries.APP_ID}.svg").read_bytes())]
    for png in sorted(icons.glob(f"{entries.APP_ID}-*.png")):
        size = png.stem.rsplit("-", 1)[1]
        if size.isdigit():
            out.append((xdg.icons_dir() / f"{size}x{size}" / "apps" / f"{entries.APP_ID}.png", png.read_bytes()))
    return out


def planned_files(launcher: list[str], parts: set[Part]) -> list[Planned]:
    plan: list[Planned] = []
    if Part.MENU in parts:
        plan.append(Planned(Part.MENU, xdg.applications_dir() / f"{entries.APP_ID}.desktop",
                            entries.menu_entry(launcher).encode()))
        plan += [Planned(Part.MENU, path, data) for path, data in _icons()]
    if Part.AUTOSTART in parts:
        plan.append(Planned(Part.AUTOSTART, xdg.autostart_dir() / f"{entries.APP_ID}.desktop",
                            entries.autostart_entry(launcher).encode()))
    if Part.SYSTEMD in parts:
        plan.append(Planned(Part.SYSTEMD, xdg.systemd_user_dir() / entries.UNIT_NAME,
                            entries.watch_unit(launcher).encode()))
    return plan


class ForeignFile(Exception):
    """A file we would write exists and was not written by vlagent."""


def _write(path: Path, data: bytes) -> bool:
    """Atomically write ``data``; False when the file already holds exactly that."""
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return True


def install(launcher: list[str], parts: set[Part]) -> list[tuple[Path, bool]]:
    """Write the files of ``parts``; returns (path, changed) for each. Refuses (ForeignFile,
    before writing anything) to replace a desktop entry or unit that someone else wrote."""
    plan = planned_files(launcher, parts)
    for p in plan:
        if p.path.suffix in (".desktop", ".service") and p.path.exists() and not entries.is_ours(p.path):
            raise ForeignFile(f"{p.path} exists and was not written by vlagent; move it away first")
    return [(p.path, _write(p.path, p.content)) for p in plan]


def _owned(path: Path, part: Part) -> bool:
    if part is Part.MENU and path.suffix in (".png", ".svg"):
        try:
            data = path.read_bytes()
        except OSError:
            return False
        return any(data == icon for _, icon in _icons())
    return entries.is_ours(path)


def uninstall(parts: set[Part]) -> tuple[list[Path], list[Path]]:
    """Remove what install wrote for ``parts``, then the folders that leaves empty; returns
    (removed files, removed folders)."""
    removed = []
    for p in planned_files([], parts):
        if p.path.exists() and _owned(p.path, p.part):
            p.path.unlink()
            removed.append(p.path)
    folders: list[Path] = []
    for path in removed:
        folders += _prune_empty(path.parent)
    return removed, folders


def _prune_empty(folder: Path) -> list[Path]:
    """Remove ``folder`` and its parents while they are empty, stopping below the XDG base
    folder that holds them (``$XDG_DATA_HOME``, ``$XDG_CONFIG_HOME``: never removed)."""
    bases = sorted({xdg.data_home(), xdg.config_home()}, key=lambda b: len(b.parts), reverse=True)
    base = next((b for b in bases if folder.is_relative_to(b)), None)
    out: list[Path] = []
    while base is not None and folder != base and folder.is_relative_to(base):
        try:
            folder.rmdir()  # only an empty folder goes
        except FileNotFoundError:
            pass
        except OSError:
            break
        else:
            out.append(folder)
        folder = folder.parent
    return out

