"""The app icon and the tray's state icons: SVG sources under ``resources/icons/`` with PNGs
rendered from them (for platforms whose Qt lacks the SVG plugin, and for packaging).

``python -m vlagent.gui.icons`` re-renders the PNGs after an SVG changes.
"""

from __future__ import annotations

import sys

from PySide6.QtGui import QIcon

from vlagent.resources import resource_path

# Tray states → icon file stem. "loading" (the model is loading) shows the busy badge.
STATE_ICONS = {"idle": "vlagent", "busy": "tray-busy", "loading": "tray-busy", "paused": "tray-paused",
               "error": "tray-error"}
PNG_SIZES = (16, 22, 32, 48, 64, 128, 256)
_cache: dict[str, QIcon] = {}


def icon(stem: str) -> QIcon:
    if stem not in _cache:
        ic = QIcon()
        folder = resource_path("icons")
        for size in PNG_SIZES:
            png = folder / f"{stem}-{size}.png"
            if png.exists():
                ic.addFile(str(png))
        svg = folder / f"{stem}.svg"
        if svg.exists():
            ic.addFile(str(svg))
        _cache[stem] = ic
    return _cache[stem]


def app_icon() -> QIcon:
    return icon("vlagent")


def state_icon(state: str) -> QIcon:
    return icon(STATE_ICONS.get(state, "vlagent"))


def render_pngs() -> list[str]:
    """Render every SVG under resources/icons at each PNG size; returns the files written."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    written = []
    folder = resource_path("icons")
    for svg in sorted(folder.glob("*.svg")):
        renderer = QSvgRenderer(str(svg))
        for size in PNG_SIZES:
            image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
            image.fill(Qt.GlobalColor.transparent)
            painter = QPainter(image)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            renderer.render(painter)
            painter.end()
            out = folder / f"{svg.stem}-{size}.png"
            image.save(str(out))
            written.append(str(out))
    return written


if __name__ == "__main__":  # pragma: no cover - a developer tool
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication(sys.argv[:1])
    for path in render_pngs():
        print(path)
