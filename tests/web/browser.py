"""Headless Chromium for the web face's tests, benchmark and screenshots, and a real ``vlagent
serve`` to point it at (with the one-time login URL it prints).

Chromium is Debian's ``chromium`` driven by ``chromium-driver`` through selenium (packaging/setup.sh
installs both). It runs with the flags that keep it off the network (no background requests,
component updates or sync: there is no network here and nothing should be sent anyway) and a
fresh profile each time.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from tests.api.conftest import Served
from tests.api.conftest import start_serve as api_start_serve

REPO = Path(__file__).resolve().parents[2]
CHROMIUM_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                  "--disable-default-apps", "--disable-extensions", "--no-default-browser-check",
                  "--enable-precise-memory-info", "--hide-scrollbars", "--force-color-profile=srgb")


def chromium_paths() -> tuple[str, str] | None:
    """(chromium, chromedriver), or None when either is missing."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


def missing_reason() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    if chromium_paths() is None:
        return "chromium and chromium-driver are not installed (Debian: apt-get install chromium chromium-driver)"
    return None


class Browser:
    """A headless Chromium with a fresh profile; ``driver`` is selenium's WebDriver."""

    def __init__(self, *, lang: str = "en-US", width: int = 1400, height: int = 900, scale: float = 1.0,
                 extra_args: tuple[str, ...] = ()):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        paths = chromium_paths()
        assert paths is not None, missing_reason()
        self.profile = tempfile.mkdtemp(prefix="vlagent-chromium-")
        opts = webdriver.ChromeOptions()
        opts.binary_location = paths[0]
        for flag in CHROMIUM_FLAGS:
            opts.add_argument(flag)
        opts.add_argument(f"--user-data-dir={self.profile}")
        opts.add_argument(f"--window-size={width},{height}")
        opts.add_argument(f"--lang={lang}")
        if scale != 1.0:
            opts.add_argument(f"--force-device-scale-factor={scale}")
        for flag in extra_args:
            opts.add_argument(flag)
        opts.add_experimental_option("prefs", {"intl.accept_languages": lang})
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
        self.driver = webdriver.Chrome(service=Service(paths[1]), options=opts)
        self.driver.set_script_timeout(60)

    def js(self, script: str, *args):
        return self.driver.execute_script(script, *args)

    def wait(self, condition, timeout: float = 20.0, what: str = "condition", interval: float = 0.05):
        """Poll ``condition()`` until it is truthy; returns its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; console: {self.console()[-5:]}")
            time.sleep(interval)

    def console(self) -> list[str]:
        try:
            return [e["message"] for e in self.driver.get_log("browser")]
        except Exception:
            return []

    def requests(self) -> list[str]:
        """URLs the page requested since the last call (from the performance log)."""
        import json

        out = []
        for entry in self.driver.get_log("performance"):
            msg = json.loads(entry["message"])["message"]
            if msg.get("method") == "Network.requestWillBeSent":
                out.append(msg["params"]["request"]["url"])
        return out

    def quit(self) -> None:
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)


def start_serve(home: Path, *args: str, env: dict, timeout: float = 180) -> Served:
    """``vlagent serve --port 0 ARGS`` on ``home``; waits for its URL and its login URL."""
    return api_start_serve(home, *args, env=env, timeout=timeout, wait_for_login=True)
