"""The data home is its owner's only, whatever the umask: real commands run under a permissive
umask (022) leave a 0700 home whose every file is 0600 (the index and its -wal/-shm, config,
token, lock, logs, thumbnails, captures); an older home readable by others is tightened once."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap

from tests.conftest import REPO, cli_env
from tests.watch.util import Db, wait_for, write_png

UMASK_022 = ["sh", "-c", 'umask 022 && exec "$@"', "sh"]


def vlagent(home, *args, check=True) -> subprocess.CompletedProcess:
    proc = subprocess.run([*UMASK_022, sys.executable, "-m", "vlagent", *map(str, args)], cwd=str(REPO),
                          env=cli_env(home), capture_output=True, text=True, timeout=300)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def modes(home) -> dict[str, int]:
    """Every file and folder under the home (itself included), relative path → permission bits."""
    out = {".": stat.S_IMODE(os.stat(home).st_mode)}
    for folder, dirs, files in os.walk(home):
        for name in dirs + files:
            p = os.path.join(folder, name)
            st = os.lstat(p)
            if not stat.S_ISLNK(st.st_mode):
                out[os.path.relpath(p, home)] = stat.S_IMODE(st.st_mode)
    return out


def open_to_others(found: dict[str, int]) -> dict[str, str]:
    return {p: oct(m) for p, m in found.items() if m & 0o077}


CAPTURE = textwrap.dedent("""
    from vlagent.capture.flow import store_capture
    from vlagent.home import Home
    from vlagent.index.store import Index
    from vlagent.ingest.pipeline import Ingestor
    from vlagent.samples import text_image
    from vlagent.settings import Settings

    home = Home.resolve()
    settings = Settings.load(home.config_path)
    index = Index.open(home)
    store_capture(text_image(["captured"], font_size=24), index=index, settings=settings, home=home)
    out = Ingestor(index, settings, home).ingest_bytes(open({upload!r}, "rb").read(), source="api", name="up.png")
    assert out.status == "new", out
    index.close()
""")


def test_a_home_made_under_a_permissive_umask_is_private(tmp_path, vlagent_home):
    pics = tmp_path / "pics"
    write_png(pics / "a.png", 1)
    vlagent(vlagent_home, "config", "ocr.enabled", "false")
    vlagent(vlagent_home, "index", pics)
    vlagent(vlagent_home, "api-token")
    upload = write_png(tmp_path / "upload.png", 2)
    capture = subprocess.run([*UMASK_022, sys.executable, "-c", CAPTURE.format(upload=str(upload))],
                             cwd=str(REPO), env=cli_env(vlagent_home), capture_output=True, text=True, timeout=300)
    assert capture.returncode == 0, capture.stderr

    # A long-running agent: its index has its -wal and -shm files while it runs, and it logs.
    watch = subprocess.Popen([*UMASK_022, sys.executable, "-m", "vlagent", "watch", pics], cwd=str(REPO),
                             env=cli_env(vlagent_home), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        b = write_png(pics / "b.png", 3)
        wait_for(lambda: Db(vlagent_home / "index.db").live_location(b), timeout=60, what="b.png indexed")
        running = modes(vlagent_home)
    finally:
        watch.send_signal(signal.SIGINT)
        assert watch.wait(60) == 0
    expected = {"config.toml", "index.db", "index.db-wal", "index.db-shm", "api-token", "agent.lock",
                "logs/watch.log", "logs/crashes.log", "thumbnails", "thumbnails/.partial", "captures",
                "captures/api", "models", "logs"}
    assert expected <= set(running), sorted(running)
    assert any(p.startswith("captures/api/") and p.endswith(".png") for p in running)
    assert any(p.startswith("captures/") and p.count("/") == 1 and p.endswith(".png") for p in running)
    assert len([p for p in running if p.startswith("thumbnails/") and p.endswith(".jpg")]) == 4
    assert running["."] == 0o700
    assert open_to_others(running) == {}
    assert open_to_others(modes(vlagent_home)) == {}


def test_an_older_home_readable_by_others_is_tightened_once(tmp_path, vlagent_home):
    from vlagent.home import Home
    from vlagent.index.store import Index

    Index.open(Home(vlagent_home)).close()  # an index, as any version made it
    for folder in ("thumbnails/ab", "logs", "captures"):
        (vlagent_home / folder).mkdir(parents=True, exist_ok=True)
    (vlagent_home / "thumbnails/ab/ab12.jpg").write_bytes(b"jpeg")
    (vlagent_home / "logs/watch.log").write_text("old log\n")
    (vlagent_home / "captures/shot.png").write_bytes(b"png")
    (vlagent_home / "config.toml").write_text("[general]\nlanguage = 'en'\n")
    for p in [vlagent_home, *vlagent_home.rglob("*")]:  # what an older vlagent left under umask 022
        os.chmod(p, 0o755 if p.is_dir() else 0o644)
    assert len(open_to_others(modes(vlagent_home))) >= 10

    first = vlagent(vlagent_home, "status")
    assert "was readable by other users" in first.stderr
    assert open_to_others(modes(vlagent_home)) == {}
    assert stat.S_IMODE(os.stat(vlagent_home).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(vlagent_home / "index.db").st_mode) == 0o600
    assert (vlagent_home / "logs/watch.log").read_text() == "old log\n"  # contents untouched
    second = vlagent(vlagent_home, "status")
    assert "readable by other users" not in second.stderr  # once
