"""Make the README's screenshots of the web face (docs/web-*.png) in headless Chromium.

    python docs/make_web_screenshots.py

A sample data home (vlagent.samples, real OCR) is built once under .bench-data/web-screenshots/,
its images seen over the last five days; ``vlagent serve`` runs on a copy of it (with a remote
model backend that is never called: the pictures show search, the text boxes and the timeline,
no model output), and the browser signs in through the login URL it prints.

- web-search.png: search as you type, results as a grid, the match highlighted;
- web-detail.png: an image with its OCR boxes, the search's words highlighted in place and a
  rectangle being dragged over lines to copy them;
- web-timeline.png: everything seen, by day.
"""

from __future__ import annotations

import io
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DOCS = REPO / "docs"
DATA = REPO / ".bench-data" / "web-screenshots"
SIZE = (1280, 800)
QUERY = "error"
QUERY_ZH = "发票"


def cached_home() -> Path:
    from vlagent.home import Home
    from vlagent.index.store import Index
    from vlagent.ingest.pipeline import Ingestor
    from vlagent.jobs.build import build_runner
    from vlagent.samples import write_sample_set
    from vlagent.settings import Settings

    home = Home(DATA / "home")
    if (DATA / "ready").exists():
        return home.root
    shutil.rmtree(DATA, ignore_errors=True)
    home.ensure()
    files = write_sample_set(DATA / "Pictures", screenshots=12, photos=16)
    settings = Settings.load(home.config_path)
    index = Index.open(home)
    ingest = Ingestor(index, settings, home)
    for f in files:
        ingest.ingest_path(str(f), source="folder", steps=["ocr"])
    build_runner(index, settings, home, worker_id="docs:0:web").run_until_empty(kinds=["ocr"])
    index.close()
    # Seen over five days, a few hours apart (the index records when each image was first seen).
    now = time.time()
    conn = sqlite3.connect(home.db_path)
    with conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM images ORDER BY id DESC")]
        for n, image_id in enumerate(ids):
            conn.execute("UPDATE images SET first_seen = ? WHERE id = ?", (now - 600 - n * 3.7 * 3600, image_id))
    conn.close()
    settings.set("watch.folders", [str(DATA / "Pictures")], save=True)
    (DATA / "ready").write_text("ok")
    return home.root


def save(png: bytes, name: str) -> None:
    """Save as a small PNG (an adaptive 256-colour palette keeps UI text crisp)."""
    from PIL import Image

    img = Image.open(io.BytesIO(png)).convert("RGB")
    img.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(DOCS / name,
                                                                                            optimize=True)
    print(DOCS / name, f"{(DOCS / name).stat().st_size // 1024} KB")


def main() -> int:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    from tests.conftest import cli_env
    from tests.web.browser import Browser, missing_reason, start_serve
    from vlagent.settings import Settings

    reason = missing_reason()
    if reason:
        print(f"cannot make the screenshots: {reason}", file=sys.stderr)
        return 2
    src = cached_home()
    tmp = Path(tempfile.mkdtemp(prefix="vlagent-web-shots-"))
    home = tmp / "home"
    shutil.copytree(src, home)
    settings = Settings.load(home / "config.toml")
    for key, value in (("general.language", "en"), ("vlm.backend", "openai"),
                       ("vlm.openai_base_url", "http://127.0.0.1:9/v1"), ("vlm.openai_model", "none")):
        settings.set(key, value, save=True)
    served = start_serve(home, env=cli_env(home))
    b = Browser(width=SIZE[0], height=SIZE[1])
    try:
        d = b.driver
        d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                          {"width": SIZE[0], "height": SIZE[1], "deviceScaleFactor": 1, "mobile": False})
        d.get(served.login)
        b.wait(lambda: b.js("return !!(window.vlagent && window.vlagent.state.booted)"), 60, "the app")
        d.find_element("id", "q").send_keys(QUERY)
        b.wait(lambda: b.js("const s = window.vlagent.state; return s.lastRender && s.lastRender.q === arguments[0]",
                            QUERY), what="the results")
        b.wait(lambda: b.js("return [...document.images].filter(i => i.closest('.hit')).every(i => i.complete)"),
               what="the thumbnails")
        time.sleep(0.3)
        save(d.get_screenshot_as_png(), "web-search.png")

        # The richest hit: the screenshot with most lines, opened with the keyboard.
        best = b.js("""return window.vlagent.state.hits.findIndex(h => h.name.startsWith('screenshot'))""")
        d.find_element("id", "q").click()
        b.js("window.vlagent.state.sel = -1")
        d.find_element("id", "q").send_keys(Keys.ARROW_DOWN)
        for _ in range(max(0, best)):
            d.switch_to.active_element.send_keys(Keys.ARROW_RIGHT)
        d.switch_to.active_element.send_keys(Keys.ENTER)
        b.wait(lambda: b.js("const i = document.getElementById('d-img'); return !!window.vlagent.state.detail && "
                            "i.complete && i.naturalWidth > 0 && i.style.width"), what="the detail")
        boxes = d.find_elements("css selector", "#boxes .ocr-box")
        if len(boxes) >= 10:  # drag over a few lines (held: the rectangle and the selected lines show)
            stage = d.find_element("id", "stage")
            sr = stage.rect
            first, last = boxes[7].rect, boxes[10].rect  # lines of the page's body, below the sidebar
            x0, y0 = max(first["x"] - 8, sr["x"] + 2), max(first["y"] - 5, sr["y"] + 2)
            x1 = min(max(first["x"] + first["width"], last["x"] + last["width"]) + 24, sr["x"] + sr["width"] - 2)
            y1 = min(last["y"] + last["height"] + 5, sr["y"] + sr["height"] - 2)
            ActionChains(d).move_to_element_with_offset(
                stage, int(x0 - sr["x"] - sr["width"] / 2), int(y0 - sr["y"] - sr["height"] / 2)).click_and_hold() \
                .move_by_offset(int(x1 - x0), int(y1 - y0)).perform()
        time.sleep(0.3)
        print("band shown:", b.js("return !document.getElementById('band').hidden"),
              "lines selected:", len(d.find_elements("css selector", "#boxes .ocr-box.sel")), file=sys.stderr)
        save(d.get_screenshot_as_png(), "web-detail.png")
        ActionChains(d).release().perform()
        time.sleep(0.3)
        d.switch_to.active_element.send_keys(Keys.ESCAPE)

        b.js("document.getElementById('toasts').replaceChildren(); document.getElementById('q').value = ''")
        d.find_element("id", "nav-timeline").click()
        b.wait(lambda: b.js("return document.querySelectorAll('#tl-space .tl-tile img').length > 10 && "
                            "[...document.querySelectorAll('#tl-space img')].every(i => i.complete)"),
               what="the timeline")
        time.sleep(0.3)
        save(d.get_screenshot_as_png(), "web-timeline.png")

        # The Chinese interface (what a browser asking for zh gets), searching two characters.
        d.get(served.url + "/?lang=zh")
        b.wait(lambda: b.js("return !!(window.vlagent && window.vlagent.state.booted)"), 60, "the app in Chinese")
        d.find_element("id", "q").send_keys(QUERY_ZH)
        b.wait(lambda: b.js("const s = window.vlagent.state; return s.lastRender && s.lastRender.q === arguments[0]",
                            QUERY_ZH), what="the Chinese results")
        b.wait(lambda: b.js("return [...document.images].filter(i => i.closest('.hit')).every(i => i.complete)"),
               what="the thumbnails")
        time.sleep(0.3)
        save(d.get_screenshot_as_png(), "web-search-zh.png")
    finally:
        b.quit()
        served.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
