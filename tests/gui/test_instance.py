"""Single instance per data home: a second launch hands its request to the running app over
a local socket and exits."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from tests.conftest import REPO, cli_env
from tests.gui.conftest import wait_for_query
from vlagent.gui.instance import InstanceServer, send_request, server_name
from vlagent.home import Home


def test_the_socket_is_named_per_data_home(tmp_path):
    a, b = Home(tmp_path / "a"), Home(tmp_path / "b")
    assert server_name(a) == server_name(Home(tmp_path / "a"))
    assert server_name(a) != server_name(b)


def request_from_another_process(qtbot, home, request: dict):
    """What ``send_request`` returns in a separate process (this one runs the server's loop)."""
    script = ("import json, sys\nfrom vlagent.gui.instance import send_request\nfrom vlagent.home import Home\n"
              "print(json.dumps(send_request(Home.resolve(sys.argv[1]), json.loads(sys.argv[2]))))")
    proc = subprocess.Popen([sys.executable, "-c", script, str(home.root), json.dumps(request)], cwd=REPO,
                            env=cli_env(), stdout=subprocess.PIPE)
    qtbot.waitUntil(lambda: proc.poll() is not None, timeout=60_000)
    return json.loads(proc.stdout.read())


def test_one_server_per_home_and_requests_reach_it(qtbot, tmp_path):
    a, b = Home(tmp_path / "a"), Home(tmp_path / "b")
    first, second, other = InstanceServer(a), InstanceServer(a), InstanceServer(b)
    try:
        assert first.listen()
        assert not second.listen()  # the same home is taken
        assert other.listen()  # another home runs its own app
        got = []
        first.requested.connect(got.append)
        assert request_from_another_process(qtbot, a, {"action": "search", "query": "发票"}) == {"ok": True}
        assert got == [{"action": "search", "query": "发票"}]
        reply = request_from_another_process(qtbot, a, {"action": "format_disk"})
        assert reply["ok"] is False and "unknown request" in reply["error"]
        assert got == [{"action": "search", "query": "发票"}]
    finally:
        for s in (first, second, other):
            s.close()
    assert send_request(a, {"action": "show"}) is None  # nobody listens any more


def test_a_socket_left_by_a_killed_app_does_not_block_the_next_start(qtbot, tmp_path):
    home = Home(tmp_path / "h")
    script = textwrap.dedent(f"""
        import os, signal
        from PySide6.QtCore import QCoreApplication
        from PySide6.QtNetwork import QLocalServer
        app = QCoreApplication([])
        server = QLocalServer()
        assert server.listen({server_name(home)!r})
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    proc = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=cli_env(), timeout=60)
    assert proc.returncode == -9
    server = InstanceServer(home)
    try:
        assert server.listen()
    finally:
        server.close()


def test_second_launch_hands_its_search_to_the_running_app(qtbot, gui_home, gui_settings):
    """A real second process: ``python -m vlagent gui --search 小狗`` opens the running app's
    window with that query, then exits."""
    from PySide6.QtWidgets import QApplication

    from vlagent.gui.app import DesktopApp

    server = InstanceServer(gui_home)
    app = DesktopApp(QApplication.instance(), gui_home, gui_settings, agent=None, tray=True, hotkey=False)
    try:
        assert server.listen()
        server.requested.connect(app.handle_request)
        app.start()
        assert app.window is None  # tray mode: no window until asked for
        proc = subprocess.Popen([sys.executable, "-m", "vlagent", "gui", "--search", "小狗"], cwd=REPO,
                                env=cli_env(gui_home.root), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        qtbot.waitUntil(lambda: proc.poll() is not None, timeout=60_000)
        out, err = proc.communicate()
        assert proc.returncode == 0, err.decode()
        assert "already running" in out.decode()
        qtbot.waitUntil(lambda: app.window is not None and app.window.isVisible())
        wait_for_query(qtbot, app.window, "小狗")
        assert app.window.query_edit.text() == "小狗"
        assert [r["name"] for r in app.window.model.records] == ["note_dog.png"]
    finally:
        server.close()
        app.shutdown()
        if app.window is not None:
            app.window.close()
