"""`vlagent capture` as a user runs it, in a subprocess on an Xvfb display: --full saves,
indexes and OCRs; --region shows the overlay, which xdotool drives with the real mouse and
keyboard (also on a screen Qt scales by 2, and on a 2x monitor beside a 1x one)."""

import json
import subprocess
import sys
import time

import pytest
from PIL import Image

from tests.capture.conftest import pattern_window, same_pixels
from tests.conftest import REPO, cli_env, run_cli

pytestmark = pytest.mark.xvfb


def test_full_capture_is_saved_indexed_and_its_text_searchable(shown_pattern, xvfb_display, vlagent_home, cli):
    env = cli_env(vlagent_home, DISPLAY=xvfb_display)
    proc = run_cli("capture", "--full", env=env, check=True)
    assert "captured #1 1920x1080 (all monitors, via mss)" in proc.stdout_text
    assert "Invoice 2024-0193" in proc.stdout_text  # the OCR text, printed
    saved = list((vlagent_home / "captures").glob("*.png"))
    assert len(saved) == 1
    x, y, expected = shown_pattern
    assert same_pixels(Image.open(saved[0]).crop((x, y, x + 800, y + 400)), expected)
    hits = json.loads(cli("search", "会议纪要", "--json", check=True).stdout)
    assert [h["id"] for h in hits] == [1]
    assert hits[0]["source"] == "screenshot" and hits[0]["path"] == str(saved[0])
    assert json.loads(cli("search", "42.50", "--source", "screenshot", "--json", check=True).stdout)


def test_capture_keep_false_leaves_nothing_behind_but_the_output_copy(xvfb_display, vlagent_home, cli, tmp_path):
    out = tmp_path / "copy.png"
    proc = run_cli("capture", "--full", "--capture-keep", "false", "--no-wait", "--json", "--output", out,
                   env=cli_env(vlagent_home, DISPLAY=xvfb_display), check=True)
    rec = json.loads(proc.stdout)
    assert rec["kept"] is False and out.exists()
    assert list((vlagent_home / "captures").glob("*.png")) == []
    assert json.loads(cli("status", "--json", check=True).stdout)["images"] == 0


def test_paused_means_no_capture(xvfb_display, vlagent_home, cli):
    cli("config", "privacy.paused", "true", check=True)
    proc = run_cli("capture", "--full", env=cli_env(vlagent_home, DISPLAY=xvfb_display))
    assert proc.returncode == 1
    assert "capturing is paused" in proc.stderr_text
    assert not (vlagent_home / "captures").exists() or not any((vlagent_home / "captures").iterdir())


def test_no_display_is_a_clear_error(vlagent_home):
    env = cli_env(vlagent_home)
    for var in ("DISPLAY", "WAYLAND_DISPLAY", "XDG_SESSION_TYPE"):
        env.pop(var, None)
    proc = run_cli("capture", "--full", env=env)
    assert proc.returncode == 1
    assert "cannot capture the screen (mss: no display (DISPLAY is not set); qt: no display" in proc.stderr_text


def test_monitor_needs_full(cli):
    proc = cli("capture", "--monitor", "1")
    assert proc.returncode == 2 and "--monitor goes with --full" in proc.stderr_text


# --- the overlay, driven through X with xdotool --------------------------------------------
def _xdotool(display, *args):
    subprocess.run(["xdotool", *map(str, args)], env={"DISPLAY": display, "PATH": "/usr/bin:/bin"}, check=True,
                   timeout=20)


# The overlay's debug line once each of its windows has painted (it then takes the mouse).
OVERLAY_PAINTED = "region overlay painted on every screen"


def _start_region(display, home, tmp_path, **env_extra):
    out = tmp_path / "region.png"
    proc = subprocess.Popen([sys.executable, "-m", "vlagent", "-vv", "capture", "--region", "--no-wait", "--json",
                             "--output", str(out)], cwd=str(REPO), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=cli_env(home, DISPLAY=display, QT_QPA_PLATFORM="xcb", **env_extra))
    proc.err = _Lines(proc.stderr)
    try:
        proc.err.wait_for(OVERLAY_PAINTED, timeout=60)
    except AssertionError:
        proc.kill()
        raise
    return proc, out


def _finish(proc):
    proc.wait(60)  # its JSON record is small: the pipe never fills
    stdout = proc.stdout.read()
    proc.err.done.wait(10)
    return proc.returncode, stdout.decode(), "".join(proc.err.lines)


def _drag(display, x0, y0, x1, y1):
    _xdotool(display, "mousemove", x0, y0, "mousedown", "1")
    _xdotool(display, "mousemove", (x0 + x1) // 2, (y0 + y1) // 2)
    _xdotool(display, "mousemove", x1, y1, "mouseup", "1")


@pytest.mark.parametrize("scale", ["1", "2"])
def test_region_drag_saves_exactly_the_pixels_dragged_over(shown_pattern, xvfb_display, vlagent_home, tmp_path,
                                                           scale):
    x, y, expected = shown_pattern
    proc, out = _start_region(xvfb_display, vlagent_home, tmp_path, QT_SCALE_FACTOR=scale)
    # physical pixels 130..431 x 95..258 (odd numbers: half logical pixels when scaled)
    _drag(xvfb_display, 131, 95, 431, 258)
    code, stdout, stderr = _finish(proc)
    assert code == 0, stderr
    rec = json.loads(stdout)
    assert rec["mode"] == "region" and rec["region"] == {"x": 131, "y": 95, "width": 300, "height": 163}
    got = Image.open(out)
    assert got.size == (300, 163)
    assert same_pixels(got, expected.crop((131 - x, 95 - y, 431 - x, 258 - y)))
    assert same_pixels(Image.open(rec["path"]), got)


def test_region_on_a_2x_monitor_beside_a_1x_monitor(two_monitor_display, vlagent_home, tmp_path):
    with pattern_window(two_monitor_display, 1920 + 50, 60) as expected:
        proc, out = _start_region(two_monitor_display, vlagent_home, tmp_path,
                                  QT_SCREEN_SCALE_FACTORS="VLMON0=1;VLMON1=2")
        _drag(two_monitor_display, 1920 + 101, 81, 1920 + 400, 300)
        code, stdout, stderr = _finish(proc)
    assert code == 0, stderr
    rec = json.loads(stdout)
    assert rec["monitor"] == 2
    assert rec["region"] == {"x": 1920 + 101, "y": 81, "width": 299, "height": 219}
    assert same_pixels(Image.open(out), expected.crop((101 - 50, 81 - 60, 400 - 50, 300 - 60)))


def test_enter_captures_the_whole_screen(shown_pattern, xvfb_display, vlagent_home, tmp_path):
    x, y, expected = shown_pattern
    proc, out = _start_region(xvfb_display, vlagent_home, tmp_path)
    _xdotool(xvfb_display, "key", "Return")
    code, stdout, stderr = _finish(proc)
    assert code == 0, stderr
    got = Image.open(out)
    assert got.size == (1920, 1080) and json.loads(stdout)["whole_screen"] is True
    assert same_pixels(got.crop((x, y, x + 800, y + 400)), expected)  # the frozen screen, not the overlay


def test_esc_cancels_without_saving(xvfb_display, vlagent_home, tmp_path, cli):
    proc, out = _start_region(xvfb_display, vlagent_home, tmp_path)
    _xdotool(xvfb_display, "key", "Escape")
    code, stdout, stderr = _finish(proc)
    assert code == 1 and "capture cancelled, nothing was saved" in stderr
    assert stdout == "" and not out.exists()
    assert not list(vlagent_home.glob("captures/*"))
    assert json.loads(cli("status", "--json", check=True).stdout)["images"] == 0


class _Lines:
    """Lines of a pipe, read in a thread, waited for with a deadline (all kept in ``lines``;
    ``done`` is set at the end of the pipe)."""

    def __init__(self, pipe):
        import queue
        import threading

        self.q = queue.Queue()
        self.lines: list[str] = []
        self.done = threading.Event()

        def read():
            for raw in iter(pipe.readline, b""):
                self.lines.append(raw.decode(errors="replace"))
                self.q.put(self.lines[-1])
            self.done.set()

        threading.Thread(target=read, daemon=True).start()

    def wait_for(self, text: str, timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        seen = []
        while time.monotonic() < deadline:
            try:
                line = self.q.get(timeout=max(deadline - time.monotonic(), 0.01))
            except Exception:
                break
            seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"{text!r} never came; got {seen!r}")


def test_listen_opens_the_overlay_on_the_hotkey_except_while_paused(shown_pattern, xvfb_display, vlagent_home,
                                                                   cli):
    import signal

    x, y, expected = shown_pattern
    proc = subprocess.Popen([sys.executable, "-m", "vlagent", "-vv", "capture", "--listen", "--json", "--no-wait"],
                            cwd=str(REPO), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=cli_env(vlagent_home, DISPLAY=xvfb_display, QT_QPA_PLATFORM="xcb"))
    out, err = _Lines(proc.stdout), _Lines(proc.stderr)
    try:
        err.wait_for("listening: press Ctrl+Shift+A")
        cli("config", "privacy.paused", "true", check=True)
        _xdotool(xvfb_display, "key", "ctrl+shift+a")
        err.wait_for("capturing is paused (privacy.paused): hotkey ignored")
        cli("config", "privacy.paused", "false", check=True)
        _xdotool(xvfb_display, "key", "ctrl+shift+a")
        err.wait_for(OVERLAY_PAINTED, timeout=60)
        _drag(xvfb_display, x + 10, y + 20, x + 210, y + 120)
        rec = json.loads(out.wait_for('"mode": "region"'))
        assert rec["region"] == {"x": x + 10, "y": y + 20, "width": 200, "height": 100}
        assert same_pixels(Image.open(rec["path"]), expected.crop((10, 20, 210, 120)))
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(10)
    assert proc.returncode == 0
    assert json.loads(cli("status", "--json", check=True).stdout)["images"] == 1


def test_check_reports_grabbers_and_the_hotkey_mode(xvfb_display, vlagent_home):
    on_x = run_cli("capture", "--check", "--json", env=cli_env(vlagent_home, DISPLAY=xvfb_display,
                                                                XDG_SESSION_TYPE="x11"), check=True)
    rec = json.loads(on_x.stdout)
    assert rec["session"] == "x11"
    assert [(h["handler"], h["available"]) for h in rec["handlers"]] == [
        ("mss", True), ("qt", True), ("grim", False), ("portal", False)]
    assert rec["hotkey"]["mode"] == "global-hotkey"
    env = cli_env(vlagent_home, WAYLAND_DISPLAY="wayland-9", XDG_SESSION_TYPE="wayland", PATH="/usr/bin:/bin",
                  DBUS_SESSION_BUS_ADDRESS="unix:path=/nonexistent")
    wayland = run_cli("capture", "--check", env=env)
    assert wayland.returncode == 1  # no grabber works: no grim, no portal
    assert "hotkey <ctrl>+<shift>+a: os-shortcut" in wayland.stdout_text
    assert "bind Ctrl+Shift+A in your desktop's keyboard settings to run: vlagent capture --region" in wayland.stdout_text
