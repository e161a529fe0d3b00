"""GUI fixtures: a real index built once per session from generated images (real OCR through
the real ingest code), copied per test that changes it, and the windows over it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

# name → lines of text drawn on it (None: a text-free photo)
SAMPLES = {
    "note_dog.png": ["图片中有一只小狗站在雪地上", "A small dog stands in the snow"],
    "note_invoice.png": ["Invoice 2024-0193", "Total due: 42.50 EUR"],
    "note_error.png": ["Error: connection refused", "数据库连接失败"],
    "photo_hills.jpg": None,
}


def build_index(root: Path) -> Path:
    """Write the sample images under ``root/pics`` and index them (OCR included) into
    ``root/home``; returns the data home's root."""
    from vlagent.home import Home
    from vlagent.index.store import Index
    from vlagent.ingest.pipeline import Ingestor
    from vlagent.jobs.runner import JobRunner
    from vlagent.jobs.steps import OcrStep
    from vlagent.ocr import create_engine
    from vlagent.samples import photo_like, text_image
    from vlagent.settings import Settings

    home = Home(root / "home").ensure()
    settings = Settings.load(home.config_path)
    pics = root / "pics"
    pics.mkdir(parents=True, exist_ok=True)
    for name, lines in SAMPLES.items():
        image = photo_like(320, 200, seed=7) if lines is None else text_image(lines, font_size=30)
        image.save(pics / name)
    index = Index.open(home)
    try:
        ingest = Ingestor(index, settings, home)
        for name in SAMPLES:
            out = ingest.ingest_path(str(pics / name), source="folder", steps=["ocr"])
            assert out.status == "new", out
        runner = JobRunner(index, settings, worker_id="tests:0:gui")
        runner.register(OcrStep(lambda: create_engine(settings)))
        assert runner.run_until_empty() == len(SAMPLES)
    finally:
        index.close()
    return home.root


@pytest.fixture(scope="session")
def indexed_root(tmp_path_factory) -> Path:
    return build_index(tmp_path_factory.mktemp("gui-index"))


@pytest.fixture
def gui_home(indexed_root, tmp_path, monkeypatch):
    """A private copy of the module's index (tests may change it), as this test's data home."""
    from vlagent.home import Home

    root = tmp_path / "home"
    shutil.copytree(indexed_root, root)
    monkeypatch.setenv("VLAGENT_HOME", str(root))
    return Home(root)


@pytest.fixture
def gui_settings(gui_home):
    from vlagent.settings import Settings

    return Settings.load(gui_home.config_path)


@pytest.fixture
def backend(qtbot, gui_home, gui_settings):
    from vlagent.gui.backend import Backend

    b = Backend(gui_home, gui_settings)
    yield b
    b.stop()


@pytest.fixture
def search_window(qtbot, backend):
    from vlagent.gui.search_window import SearchWindow

    w = SearchWindow(backend)
    qtbot.addWidget(w)
    w.show()
    return w


def wait_for_query(qtbot, window, query: str, timeout: int = 10_000):
    """Wait until the results of ``query`` are on screen; returns the shown ResultPage."""
    qtbot.waitUntil(lambda: window.page is not None and window.page.query == query, timeout=timeout)
    return window.page


WAIT = 120_000  # ms; the model's first load imports torch on a shared machine


def start_app(qtbot, home, settings):
    """The desktop app (tray mode) with its real worker; ``app.states`` records the (state, text)
    the tray showed at each worker status."""
    from vlagent.gui.app import DesktopApp

    app = DesktopApp(QApplication.instance(), home, settings, agent=True, tray=True, hotkey=False)
    states = []
    app.agent.status_changed.connect(lambda _s: states.append(app.state_text()))
    app.states = states
    app.start()
    qtbot.waitUntil(lambda: app.agent.running, timeout=WAIT)
    return app


def stop_app(app) -> None:
    app.shutdown()
    for w in (app.window, app.dialog):
        if w is not None:
            w.close()
    QApplication.instance().setQuitOnLastWindowClosed(True)


@pytest.fixture
def agent_app(qtbot, gui_home, gui_settings):
    """The app with its worker (OCR; no model configured)."""
    app = start_app(qtbot, gui_home, gui_settings)
    yield app
    stop_app(app)


@pytest.fixture
def model_app(tiny_model_dir, gui_home, gui_settings, qtbot):
    """The app with its worker and the tiny model checkpoint."""
    gui_settings.set("vlm.model", str(tiny_model_dir), save=True)
    gui_settings.set("vlm.max_new_tokens", 12, save=True)
    gui_settings.set("vlm.cpu_quantize", False, save=True)
    app = start_app(qtbot, gui_home, gui_settings)
    yield app
    stop_app(app)


TIMELINE_IMAGES = 100_000
TIMELINE_DAYS = 180


@pytest.fixture(scope="session")
def timeline_root(tmp_path_factory):
    """A data home holding 100k image records seen over half a year (no files: written straight
    into a real index's tables, in a second or two), their thumbnails named but absent; and the
    first_seen of each, by id."""
    import random
    import sqlite3
    import time

    from vlagent.home import Home
    from vlagent.index.store import Index

    home = Home(tmp_path_factory.mktemp("timeline") / "home").ensure()
    Index.open(home).close()  # the schema, as the app makes it
    rnd = random.Random(17)
    now = time.time()
    seen = {i: now - rnd.uniform(0, TIMELINE_DAYS * 86400) for i in range(1, TIMELINE_IMAGES + 1)}
    conn = sqlite3.connect(home.db_path)
    with conn:
        conn.executemany(
            "INSERT INTO images(id, sha256, width, height, format, bytes, mtime, source, first_seen, thumbnail)"
            " VALUES (?, ?, 1920, 1080, 'PNG', 250000, ?, 'screenshot', ?, ?)",
            ((i, f"{i:064x}", t, t, f"tl/{i}.jpg") for i, t in seen.items()))
    conn.close()
    return home.root, seen
