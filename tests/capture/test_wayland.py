"""The Wayland handlers over their real interfaces: the xdg-desktop-portal Screenshot call
over a private D-Bus session bus (a stand-in portal service answers as GNOME's does, refuses,
or stays silent), and grim as a program on PATH; the chain falls from grim to the portal."""

import shutil
import subprocess
import threading
import time

import pytest
from PIL import Image

import vlagent.gui.screens  # noqa: F401 - registers the "qt" handler, as the faces that capture do
from tests.capture.conftest import same_pixels
from vlagent.capture import CaptureError, build_handlers, capture
from vlagent.capture.grim_handler import GrimHandler
from vlagent.capture.portal_handler import PORTAL_NAME, REQUEST_IFACE, PortalHandler
from vlagent.capture.session import detect

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><listen>unix:tmpdir={tmp}</listen>
<policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/>
<allow own="*"/></policy></busconfig>"""


@pytest.fixture(scope="module")
def bus_address(tmp_path_factory):
    if shutil.which("dbus-daemon") is None:
        pytest.skip("dbus-daemon is not installed")
    tmp = tmp_path_factory.mktemp("bus")
    (tmp / "bus.conf").write_text(BUS_CONFIG.format(tmp=tmp))
    proc = subprocess.Popen(["dbus-daemon", "--config-file", str(tmp / "bus.conf"), "--nofork", "--print-address=1"],
                            stdout=subprocess.PIPE, text=True)
    address = proc.stdout.readline().strip()
    yield address
    proc.terminate()
    proc.wait(5)


@pytest.fixture
def wayland(monkeypatch, bus_address):
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-test")
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", bus_address)
    return detect()


class FakePortal(threading.Thread):
    """Owns org.freedesktop.portal.Desktop and answers Screenshot calls: "ok" writes a PNG
    and sends its file URI in the Response signal, "refuse" answers code 2, "silent" never
    answers (what some portals do when the user refuses)."""

    def __init__(self, address, behaviour, picture, folder):
        super().__init__(daemon=True)
        self.address, self.behaviour, self.picture, self.folder = address, behaviour, picture, folder
        self.ready, self.stop = threading.Event(), threading.Event()
        self.written = None
        self.calls = []

    def run(self):
        from jeepney import DBusAddress, HeaderFields, MessageType, message_bus, new_method_return, new_signal
        from jeepney.io.blocking import Proxy, open_dbus_connection

        with open_dbus_connection(bus=self.address) as conn:
            Proxy(message_bus, conn).RequestName(PORTAL_NAME)
            self.ready.set()
            while not self.stop.is_set():
                try:
                    msg = conn.receive(timeout=0.1)
                except TimeoutError:
                    continue
                if msg.header.message_type != MessageType.method_call:
                    continue
                if msg.header.fields.get(HeaderFields.member) != "Screenshot":
                    continue
                parent, options = msg.body
                self.calls.append({k: v[1] for k, v in options.items()})
                sender = msg.header.fields[HeaderFields.sender][1:].replace(".", "_")
                handle = f"/org/freedesktop/portal/desktop/request/{sender}/{options['handle_token'][1]}"
                conn.send(new_method_return(msg, "o", (handle,)))
                if self.behaviour == "silent":
                    continue
                results = {}
                if self.behaviour == "ok":
                    self.written = self.folder / "Screenshot from 2026-11-25 10-00-00.png"
                    self.picture.save(self.written)
                    results = {"uri": ("s", self.written.as_uri())}
                time.sleep(0.05)  # the answer comes later than the call's reply, as with a real portal
                conn.send(new_signal(DBusAddress(handle, interface=REQUEST_IFACE), "Response", "ua{sv}",
                                     (0 if self.behaviour == "ok" else 2, results)))


@pytest.fixture
def portal(bus_address, tmp_path):
    made = []

    def _start(behaviour):
        p = FakePortal(bus_address, behaviour, Image.effect_noise((320, 200), 60).convert("RGB"), tmp_path)
        p.start()
        assert p.ready.wait(5)
        made.append(p)
        return p

    yield _start
    for p in made:
        p.stop.set()
        p.join(5)


def test_portal_screenshot_arrives_and_its_file_is_removed(wayland, portal):
    fake = portal("ok")
    handler = PortalHandler(session=wayland, timeout=5)
    assert handler.available()
    shot = handler.grab()
    assert shot.handler == "portal" and shot.monitors == []
    assert same_pixels(shot.image, fake.picture)
    assert not fake.written.exists()  # made only for us: not left in ~/Pictures
    assert fake.calls[0]["interactive"] is False and fake.calls[0]["handle_token"].startswith("vlagent_")


def test_a_refusal_is_reported(wayland, portal):
    portal("refuse")
    with pytest.raises(CaptureError, match="permission was refused"):
        PortalHandler(session=wayland, timeout=5).grab()


def test_a_silent_portal_times_out_with_a_clear_message(wayland, portal):
    portal("silent")
    t0 = time.monotonic()
    with pytest.raises(CaptureError, match=r"did not answer in 1 s \(permission refused"):
        PortalHandler(session=wayland, timeout=0.6).grab()
    assert time.monotonic() - t0 < 5


def test_no_portal_service_means_unavailable(wayland):
    usable = PortalHandler(session=wayland).available()
    assert not usable and f"no {PORTAL_NAME} service" in usable.reason


def _fake_grim(tmp_path, monkeypatch, script: str):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    grim = bin_dir / "grim"
    grim.write_text("#!/bin/sh\n" + script)
    grim.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")


def test_on_gnome_grim_fails_fast_and_the_portal_takes_over(wayland, portal, tmp_path, monkeypatch):
    _fake_grim(tmp_path, monkeypatch, 'echo "compositor doesn\'t support wlr-screencopy-unstable-v1" >&2\nexit 1\n')
    fake = portal("ok")
    shot = capture(build_handlers(session=detect()))
    assert shot.handler == "portal" and same_pixels(shot.image, fake.picture)
    assert [(a.handler, a.failed) for a in shot.attempts] == [("mss", False), ("qt", False), ("grim", True)]
    assert shot.attempts[2].reason == "grim failed: compositor doesn't support wlr-screencopy-unstable-v1"


def test_grim_output_is_read_from_its_stdout(wayland, tmp_path, monkeypatch):
    picture = Image.effect_noise((120, 80), 50).convert("RGB")
    picture.save(tmp_path / "grim.png")
    _fake_grim(tmp_path, monkeypatch, f'[ "$3" = "-" ] && exec cat "{tmp_path}/grim.png"\nexit 2\n')
    shot = GrimHandler(session=wayland).grab()
    assert shot.handler == "grim" and same_pixels(shot.image, picture)
