"""The frozen one-folder app (packaging/build-frozen.sh) starts: --version, doctor, index and
search with the bundled OCR models, and the desktop app under Xvfb (a window appears, it
paints, SIGTERM ends it cleanly, it logs to logs/gui.log).

Slow and big (several GB with a CUDA torch), so opt-in: VLAGENT_TEST_FROZEN=1. It uses
dist/vlagent/vlagent (or VLAGENT_FROZEN_APP) and builds it first when missing."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = [pytest.mark.slow, pytest.mark.xvfb,
              pytest.mark.skipif(os.environ.get("VLAGENT_TEST_FROZEN") != "1",
                                 reason="the frozen build is opt-in: VLAGENT_TEST_FROZEN=1")]

APP = Path(os.environ.get("VLAGENT_FROZEN_APP") or REPO / "dist" / "vlagent" / "vlagent")


@pytest.fixture(scope="module")
def app() -> Path:
    if not APP.exists():
        subprocess.run([str(REPO / "packaging" / "build-frozen.sh")], check=True, timeout=3600, cwd=REPO,
                       env=os.environ | {"PYTHON": os.environ.get("PYTHON", "python")})
    return APP


def frozen_env(home: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env.update(VLAGENT_HOME=str(home))
    env.update({k: str(v) for k, v in extra.items()})
    return env


def test_frozen_app_runs_the_cli(app, tmp_path, text_png):
    env = frozen_env(tmp_path / "home")

    def run(*args):
        return subprocess.run([str(app), *map(str, args)], capture_output=True, text=True, env=env,
                              cwd=tmp_path, timeout=300)

    from vlagent import __version__

    assert run("--version").stdout.strip() == f"vlagent {__version__}"
    doctor = run("doctor", "--json")
    report = json.loads(doctor.stdout)
    assert report["ocr"]["ok"] and report["index"]["ok"], doctor.stdout + doctor.stderr
    if (app.parent / "_internal" / "torch").is_dir():  # the full variant: the local model's stack imports
        assert report["torch"]["ok"] and report["torch"].get("torchvision"), report["torch"]
    text_png(["Frozen build check", "冻结版本测试"], name="f.png", folder=tmp_path / "pics")
    assert run("index", "pics").returncode == 0
    hits = json.loads(run("search", "冻结", "--json").stdout)
    assert [Path(h["path"]).name for h in hits] == ["f.png"]


def test_frozen_gui_starts_under_xvfb(app, tmp_path, xvfb_display):
    home = tmp_path / "home"
    env = frozen_env(home, DISPLAY=xvfb_display, QT_QPA_PLATFORM="xcb", XDG_SESSION_TYPE="x11")
    env.pop("WAYLAND_DISPLAY", None)
    proc = subprocess.Popen([str(app), "gui"], env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        window = None
        deadline = time.monotonic() + 120
        while window is None and time.monotonic() < deadline and proc.poll() is None:
            found = subprocess.run(["xdotool", "search", "--onlyvisible", "--class", "vlagent"],
                                   capture_output=True, text=True, env=env)
            window = found.stdout.split()[0] if found.stdout.strip() else None
            time.sleep(0.5)
        assert proc.poll() is None, proc.stdout.read().decode(errors="replace")
        assert window is not None, "no vlagent window appeared"
        time.sleep(3)  # let it paint
        shot = grab(xvfb_display, tmp_path / "frozen-gui.png")
        if os.environ.get("VLAGENT_FROZEN_SHOTS"):
            shutil.copy(shot, Path(os.environ["VLAGENT_FROZEN_SHOTS"]) / shot.name)
        from PIL import Image

        colours = Image.open(shot).convert("RGB").getcolors(maxcolors=1 << 20)
        assert colours is None or len(colours) > 50  # a painted window, not a blank screen
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    log = (home / "logs" / "gui.log").read_text()
    assert " gui started (pid " in log and "CRITICAL" not in log


def grab(display: str, path: Path) -> Path:
    import mss
    import mss.tools

    with getattr(mss, "MSS", mss.mss)(display=display) as sct:
        shot = sct.grab(sct.monitors[0])
        mss.tools.to_png(shot.rgb, shot.size, output=str(path))
    return path
