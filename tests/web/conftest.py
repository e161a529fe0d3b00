"""One real ``vlagent serve`` (tiny random checkpoint) and one headless Chromium per module.

The server's home holds a generated memory of a few thousand records (vlagent.samples.memory_corpus:
text only, no files, spread over half a year) and a few real PNGs in English and Chinese, indexed
with their OCR by ``vlagent index`` as a user would. The browser tests skip, saying why, only when
chromium / chromedriver / selenium are missing."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.api.conftest import server_config, write_config
from tests.conftest import cli_env, run_cli
from tests.web.browser import Browser, missing_reason, start_serve

CORPUS = 3000
# Words the generated memory never uses (its filler vocabulary is elsewhere).
PNGS = {
    "zebracorn.png": ["Zebracorn quarterly forecast", "Vendor Qwixotic Ltd", "Total 4,812.00 EUR"],
    "pets.png": ["小狗和猫咪的照片", "天气晴朗 温度二十五度"],
    "mixed.png": ["Meeting with 小狗 team", "Room 7B at 15:30"],
}


@pytest.fixture(scope="module")
def web_home(tmp_path_factory, tiny_model_dir, cjk_font_path) -> Path:
    from vlagent.home import Home
    from vlagent.index.store import Index
    from vlagent.samples import memory_corpus, text_image

    root = tmp_path_factory.mktemp("web")
    home = root / "home"
    write_config(home, server_config(tiny_model_dir))
    h = Home.resolve(home).ensure()
    index = Index.open(h)
    try:
        memory_corpus(index, CORPUS, now=time.time() - 3600)
    finally:
        index.close()
    pics = root / "pics"
    pics.mkdir()
    for name, lines in PNGS.items():
        text_image(lines).save(pics / name)
    run_cli("index", pics, home=home, check=True)
    return home


@pytest.fixture(scope="module")
def served(web_home):
    s = start_serve(web_home, env=cli_env(web_home))
    yield s
    code = s.stop()
    assert code == 0, f"vlagent serve exited {code}:\n{s.log.read_text()}"


@pytest.fixture(scope="module")
def browser():
    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    b = Browser(lang="en-US", width=1400, height=900)
    yield b
    b.quit()
