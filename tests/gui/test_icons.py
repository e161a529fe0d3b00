"""Bundled resources are found through one lookup; every tray state has its icon (SVG and
the PNGs rendered from it)."""

from __future__ import annotations

from PySide6.QtGui import QImage

from vlagent.gui.icons import PNG_SIZES, STATE_ICONS, app_icon, state_icon
from vlagent.resources import resource_path


def test_every_state_icon_exists_as_svg_and_png_at_every_size(qapp):
    for stem in set(STATE_ICONS.values()):
        assert resource_path("icons", stem + ".svg").is_file()
        for size in PNG_SIZES:
            png = QImage(str(resource_path("icons", f"{stem}-{size}.png")))
            assert (png.width(), png.height()) == (size, size), (stem, size)
    assert not app_icon().isNull()


def test_state_icons_look_different(qapp):
    pictures = {state: state_icon(state).pixmap(32, 32).toImage() for state in ("idle", "busy", "paused", "error")}
    assert len({bytes(img.constBits()) for img in pictures.values()}) == 4
