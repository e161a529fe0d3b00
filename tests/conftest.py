"""Shared fixtures: an isolated data home per test, the real CLI in a subprocess, sample images."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# Never reach a model hub, never touch the user's real data, never need a real display.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(autouse=True)
def vlagent_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "vlagent-home"
    monkeypatch.setenv("VLAGENT_HOME", str(home))
    return home


@pytest.fixture
def home(vlagent_home):
    from vlagent.home import Home

    return Home.resolve().ensure()


@pytest.fixture
def settings(home):
    from vlagent.settings import Settings

    return Settings.load(home.config_path)


@pytest.fixture
def index(home):
    from vlagent.index.store import Index

    ix = Index.open(home)
    yield ix
    ix.close()


def cli_env(home: Path | None = None, **extra) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTHONUNBUFFERED"] = "1"
    if home is not None:
        env["VLAGENT_HOME"] = str(home)
    env.update({k: str(v) for k, v in extra.items()})
    return env


def searchable_words(text: str) -> str:
    """Two adjacent Chinese characters, or a Latin word, taken from generated text."""
    m = re.search(r"[\u4e00-\u9fff]{2}", text) or re.search(r"[A-Za-z]{3,}", text)
    assert m, f"nothing searchable in {text!r}"
    return m.group(0)


def run_cli(*args, home: Path | None = None, input: bytes | str | None = None, timeout: float = 300,
            check: bool = False, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m vlagent ARGS`` in a subprocess, as a user would."""
    proc = subprocess.run(
        [sys.executable, "-m", "vlagent", *map(str, args)],
        input=input.encode() if isinstance(input, str) else input,
        capture_output=True, timeout=timeout, cwd=str(REPO), env=env or cli_env(home),
    )
    proc.stdout_text = proc.stdout.decode("utf-8", "replace")  # type: ignore[attr-defined]
    proc.stderr_text = proc.stderr.decode("utf-8", "replace")  # type: ignore[attr-defined]
    if check and proc.returncode != 0:
        raise AssertionError(f"vlagent {' '.join(map(str, args))} exited {proc.returncode}\n"
                             f"stdout:\n{proc.stdout_text}\nstderr:\n{proc.stderr_text}")
    return proc


@pytest.fixture
def cli(vlagent_home):
    def _run(*args, **kw):
        kw.setdefault("home", vlagent_home)
        return run_cli(*args, **kw)

    return _run


@pytest.fixture(scope="session")
def cjk_font_path() -> str:
    from vlagent.samples import find_cjk_font

    path = find_cjk_font()
    assert path, "a CJK font is required for the tests (Debian: fonts-noto-cjk; packaging/setup.sh installs it)"
    return path


@pytest.fixture
def text_png(tmp_path, cjk_font_path):
    """Write a PNG with the given lines of text; returns its path."""
    from vlagent.samples import text_image

    def _make(lines, name: str = "text.png", folder: Path | None = None, **kw) -> Path:
        folder = folder or tmp_path / "images"
        folder.mkdir(parents=True, exist_ok=True)
        p = folder / name
        text_image(lines, **kw).save(p)
        return p

    return _make


@pytest.fixture(scope="session")
def xvfb_display():
    """A private Xvfb (1920x1080) for the whole session; yields its DISPLAY string.
    Skips only when the Xvfb binary is missing (CI installs it)."""
    from tests.xvfb import start_xvfb, xvfb_missing

    if xvfb_missing():
        pytest.skip("Xvfb is not installed")
    server = start_xvfb(1920, 1080)
    yield server.display
    server.stop()


@pytest.fixture(scope="session")
def tiny_model_factory(tmp_path_factory):
    """Build (once per session and architecture) a random tiny Qwen-VL checkpoint; returns its dir."""
    built: dict[str, Path] = {}

    def _build(arch: str = "qwen2_5_vl") -> Path:
        if arch not in built:
            from vlagent.dev.tiny_model import build

            built[arch] = build(tmp_path_factory.mktemp(f"tiny-{arch}"), arch)
        return built[arch]

    return _build


@pytest.fixture(scope="session")
def tiny_model_dir(tiny_model_factory) -> Path:
    """A tiny random Qwen2.5-VL checkpoint (hidden size 64, 2 layers) for real generation in tests."""
    return tiny_model_factory("qwen2_5_vl")
