"""Make the README's screenshots of the desktop app (docs/gui-*.png).

    python docs/make_screenshots.py

A sample data home (vlagent.samples, real OCR) is built once under .bench-data/. The
windows are rendered offscreen; the tray menu is a real X screenshot under Xvfb with trayer
as the tray. Answers in the Ask panel and in Ask all come from the tiny random test checkpoint
(no real model can be downloaded here), so their words are noise: the picture shows the panel.
The timeline has a data home of its own: more images, seen over several days.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
DOCS = REPO / "docs"
DATA = REPO / ".bench-data" / "screenshots"
SIZE = (1180, 720)


def sample_home():
    """A fresh copy of a data home with the sample set indexed (OCR done, built once), so
    answers from an earlier run do not pile up."""
    import atexit
    import shutil

    from vlagent.home import Home

    cached = _cached_sample_home()
    tmp = tempfile.mkdtemp(prefix="vlagent-shots-")
    atexit.register(shutil.rmtree, tmp, True)
    shutil.copytree(cached.root, Path(tmp) / "home")
    return Home(Path(tmp) / "home")


def _cached_sample_home():
    from vlagent.home import Home
    from vlagent.index.store import Index
    from vlagent.ingest.pipeline import Ingestor
    from vlagent.jobs.build import build_runner
    from vlagent.samples import write_sample_set
    from vlagent.settings import Settings

    home = Home(DATA / "home")
    if (DATA / "ready").exists():
        return home
    home.ensure()
    settings = Settings.load(home.config_path)
    files = write_sample_set(DATA / "Pictures", screenshots=3, photos=2)
    index = Index.open(home)
    ingest = Ingestor(index, settings, home)
    for f in files:
        ingest.ingest_path(str(f), source="folder", steps=["ocr"])
    build_runner(index, settings, home, worker_id="docs:0:shots").run_until_empty(kinds=["ocr"])
    index.close()
    settings.set("watch.folders", [str(DATA / "Pictures")], save=True)
    (DATA / "ready").write_text("ok")
    return home


def timeline_home():
    """A data home with a few dozen images (OCR'd) seen over the last five days."""
    import sqlite3

    from vlagent.home import Home
    from vlagent.index.store import Index
    from vlagent.ingest.pipeline import Ingestor
    from vlagent.jobs.build import build_runner
    from vlagent.samples import write_sample_set
    from vlagent.settings import Settings

    home = Home(DATA / "timeline-home")
    if (DATA / "timeline-ready").exists():
        return home
    home.ensure()
    files = write_sample_set(DATA / "Timeline", screenshots=18, photos=22)
    index = Index.open(home)
    settings = Settings.load(home.config_path)
    ingest = Ingestor(index, settings, home)
    for f in files:
        ingest.ingest_path(str(f), source="folder", steps=["ocr"])
    build_runner(index, settings, home, worker_id="docs:0:timeline").run_until_empty(kinds=["ocr"])
    index.close()
    # Seen over five days, a few hours apart (the index records when each image was first seen).
    now = time.time()
    conn = sqlite3.connect(home.db_path)
    with conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM images ORDER BY id")]
        for n, image_id in enumerate(ids):
            conn.execute("UPDATE images SET first_seen = ? WHERE id = ?", (now - 600 - n * 2.9 * 3600, image_id))
    conn.close()
    (DATA / "timeline-ready").write_text("ok")
    return home


def save(widget_or_image, name: str) -> None:
    """Save as a small PNG (an adaptive 256-colour palette keeps UI text crisp)."""
    from PIL import Image
    from PySide6.QtCore import QBuffer, QIODevice

    image = widget_or_image.grab().toImage() if hasattr(widget_or_image, "grab") else widget_or_image
    buf = QBuffer()
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buf, "PNG")
    pil = Image.open(io.BytesIO(bytes(buf.data()))).convert("RGB")
    pil.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        DOCS / name, optimize=True)
    print(DOCS / name, f"{(DOCS / name).stat().st_size // 1024} KB")


def pump(app, seconds: float = 0.3, until=None, timeout: float = 120) -> None:
    end = time.monotonic() + (timeout if until else seconds)
    while time.monotonic() < end:
        app.processEvents()
        if until is not None and until():
            break
        time.sleep(0.005)
    for _ in range(20):
        app.processEvents()
        time.sleep(0.005)


def windows() -> None:
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtWidgets import QApplication

    from vlagent.gui import i18n
    from vlagent.gui.app import DesktopApp
    from vlagent.settings import Settings

    home = sample_home()
    qapp = QApplication(["vlagent"])
    with tempfile.TemporaryDirectory() as tmp:
        from vlagent.dev import tiny_model

        model = tiny_model.build(Path(tmp) / "tiny")
        settings = Settings.load(home.config_path)
        for key, value in (("vlm.model", str(model)), ("vlm.max_new_tokens", 24), ("vlm.cpu_quantize", False)):
            settings.override(key, value)
        for lang, query in (("en", "invoice"), ("zh", "数据库")):
            settings.override("general.language", lang)
            app = DesktopApp(qapp, home, settings, agent=True, tray=False, hotkey=False)
            app.start()
            window = app.window
            window.resize(*SIZE)
            pump(qapp, until=lambda: app.agent.running and app.state_text()[0] == "idle")
            window.set_query(query)
            pump(qapp, until=lambda: window.page is not None and window.page.query == query)
            window.select_row(0)
            pump(qapp, until=lambda: window.detail.image_view.has_image)
            save(window, f"gui-search-{lang}.png")
            if lang == "en":
                window.detail.tabs.setCurrentIndex(window.detail.tabs.count() - 1)  # Details
                pump(qapp)
                save(window, "gui-detail.png")
                panel = window.detail.ask_panel
                window.detail.tabs.setCurrentWidget(panel)
                pump(qapp, until=lambda: panel.question_edit.isEnabled())
                panel.ask("What is the total due on this invoice?")
                pump(qapp, until=lambda: panel.session is None, timeout=300)
                save(window, "gui-ask.png")
                text_on_image(qapp, window)
                ask_all(qapp, window, settings)
            from vlagent.gui.settings_dialog import SettingsDialog

            dialog = SettingsDialog(Settings.load(home.config_path), home)  # as saved, without this run's model
            dialog.resize(760, 600)
            dialog.show()
            dialog.tabs.setCurrentIndex(dialog.tab_of["vlm"])
            pump(qapp)
            save(dialog, f"gui-settings-{lang}.png")
            dialog.close()
            app.shutdown()
            window.quit_on_close = False
            window.close()
            i18n.install(qapp, "en")
        timeline(qapp)


def text_on_image(qapp, window) -> None:
    """The detail pane with the OCR lines on the image: a search word highlighted, a line selected."""
    window.set_query("connection")
    pump(qapp, until=lambda: window.page is not None and window.page.query == "connection")
    window.select_row(0)
    view = window.detail.image_view
    pump(qapp, until=lambda: view.has_image and bool(view.lines))
    window.detail.tabs.setCurrentIndex(0)  # Text
    view.select_lines([1], copy=False)
    window.statusBar().showMessage("Copied 1 line")
    pump(qapp)
    save(window, "gui-text-on-image.png")
    window.statusBar().clearMessage()


def ask_all(qapp, window, settings) -> None:
    """Ask all: a question over everything seen, its answer and its sources; the first source opened."""
    for key, value in (("memory.answer_tokens", 40), ("memory.rewrite", False)):
        settings.override(key, value)
    window.query_edit.clear()
    window.set_mode("ask")
    panel = window.ask_all
    panel.ask("What was the total due on the invoice?")
    pump(qapp, until=lambda: not panel.busy, timeout=300)
    if panel.sources.count():
        panel.sources.setCurrentRow(0)
        window.show_image(panel.source_ids()[0])
        pump(qapp, until=lambda: window.detail.image_view.has_image)
    save(window, "gui-ask-all.png")
    window.set_mode("list")


def timeline(qapp) -> None:
    """The timeline: everything seen, by day, over a home with more images."""
    from vlagent.gui.app import DesktopApp
    from vlagent.settings import Settings

    home = timeline_home()
    settings = Settings.load(home.config_path)
    app = DesktopApp(qapp, home, settings, agent=None, tray=False, hotkey=False)
    app.start()
    window = app.window
    window.resize(*SIZE)
    window.set_mode("timeline")
    view = window.timeline_view
    pump(qapp, until=lambda: window.timeline.loaded)
    pump(qapp, until=lambda: window.timeline.record(0) is not None)
    view.setFocus()
    view.set_current(4)
    pump(qapp, until=lambda: window.detail.image_view.has_image)
    pump(qapp, 1.0)  # the thumbnails on screen
    save(window, "gui-timeline.png")
    app.shutdown()
    window.quit_on_close = False
    window.close()


def tray_shot() -> None:
    """Under Xvfb + trayer: the tray icon with its menu open, cropped to the top-right corner."""
    import gui as bench_gui  # bench/gui.py: the Xvfb + trayer desktop

    desktop = bench_gui.TrayDesktop()
    try:
        _desktop_colour(desktop.display, 0x4C566A)
        env = desktop.env(PYTHONPATH=str(REPO))
        subprocess.run([sys.executable, __file__, "--tray-inside"], env=env, check=True, cwd=REPO)
    finally:
        desktop.stop()


def _desktop_colour(display: str, rgb: int) -> None:
    from Xlib import display as xdisplay

    d = xdisplay.Display(display)
    root = d.screen().root
    pixel = d.screen().default_colormap.alloc_color((rgb >> 16) * 257, (rgb >> 8 & 255) * 257, (rgb & 255) * 257).pixel
    root.change_attributes(background_pixel=pixel)
    root.clear_area()
    d.sync()
    d.close()


def tray_inside() -> None:
    """Runs on the X display: open the tray menu, grab the screen around it."""
    from PySide6.QtCore import QPoint
    from PySide6.QtWidgets import QApplication

    from vlagent.gui.app import DesktopApp
    from vlagent.settings import Settings

    home = sample_home()
    qapp = QApplication(["vlagent"])
    settings = Settings.load(home.config_path)
    app = DesktopApp(qapp, home, settings, agent=True, tray=True, hotkey=False)
    app.start()
    pump(qapp, until=lambda: app.agent.running and app.tray.state == "idle" and app.tray.icon.geometry().width() > 0)
    pump(qapp, 1.0)
    geo = app.tray.icon.geometry()
    app.tray.menu.popup(QPoint(geo.right() - app.tray.menu.sizeHint().width(), geo.bottom() + 2))
    pump(qapp, 1.0)
    screen = qapp.primaryScreen()
    menu = app.tray.menu.geometry()
    left = min(menu.left(), geo.left()) - 180
    shot = screen.grabWindow(0, left, 0, screen.geometry().width() - left, menu.bottom() + 24)
    save(shot.toImage(), "gui-tray-menu.png")
    app.tray.menu.close()
    app.shutdown()


if __name__ == "__main__":
    if "--tray-inside" in sys.argv:
        tray_inside()
    else:
        windows()
        tray_shot()
