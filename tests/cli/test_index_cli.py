"""``vlagent index`` on awkward folders: every bad file is a per-item failure with a reason,
the rest is indexed, and the exit status says so (0 all good, 23 partial)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import REPO, cli_env, run_cli
from vlagent.samples import (
    animated_gif,
    encoded,
    exif_rotated_jpeg,
    photo_like,
    png16_gradient,
    screenshot_like,
    write_bad_inputs,
)


def test_bad_and_odd_files_through_the_cli(cli, tmp_path):
    pics = tmp_path / "pics"
    bad = write_bad_inputs(pics)
    screenshot_like(1920, 1080, lang="zh", seed=2)[0].save(pics / "page.png")
    photo_like(640, 480, seed=2).save(pics / "photo.jpg")
    odd = {"anim.gif": animated_gif(), "deep.png": png16_gradient(), "rotated.jpg": exif_rotated_jpeg(6),
           "cmyk.jpg": encoded(Image.new("CMYK", (40, 40), (0, 255, 255, 0)), "JPEG")}
    for name, data in odd.items():
        (pics / name).write_bytes(data)
    proc = cli("index", pics, "--no-ocr", "--json")
    assert proc.returncode == 23, proc.stderr_text  # partial: some files failed, the rest is indexed
    s = json.loads(proc.stdout_text)
    assert (s["files"], s["new"], s["failed"]) == (11, 6, 5)
    got = {Path(f["path"]).name: (f["type"], f["error"]) for f in s["failures"]}
    assert {k: v[0] for k, v in got.items()} == {
        "empty.png": "empty", "truncated.png": "corrupt", "truncated.jpg": "corrupt",
        "notes.png": "not_an_image", "bomb.png": "too_many_pixels"}
    assert "truncated" in got["truncated.jpg"][1] and "decompression bomb" in got["bomb.png"][1]
    rotated = json.loads(cli("show", pics / "rotated.jpg", "--json").stdout_text)
    assert (rotated["width"], rotated["height"]) == (40, 80)
    page = json.loads(cli("show", pics / "page.png", "--json").stdout_text)
    assert (page["width"], page["height"], page["format"]) == (1920, 1080, "PNG")
    # The human summary names each failure and its reason on stderr; exit 23 (partial).
    text = cli("index", pics, "--no-ocr", "-q")
    assert text.returncode == 23
    assert "6 unchanged, 5 failed" in text.stdout_text
    assert f"failed [empty]: {bad['empty']}: the file is empty (0 bytes)" in text.stderr_text
    status = json.loads(cli("status", "--json", "--failures").stdout_text)
    assert {Path(f["path"]).name for f in status["recent_failures"]} == set(got)


def test_progress_bar_on_a_terminal(tmp_path, vlagent_home):
    """On a TTY the bar redraws in place with a rate and an ETA; the summary follows."""
    import pty
    import subprocess
    import sys

    pics = tmp_path / "pics"
    pics.mkdir()
    for i in range(8):
        photo_like(200, 150, seed=i).save(pics / f"p{i}.jpg")
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "vlagent", "index", str(pics), "--no-ocr"], stdout=subprocess.PIPE,
                            stderr=slave, cwd=str(REPO), env=cli_env(vlagent_home))
    os.close(slave)
    out, _ = proc.communicate(timeout=120)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the other side is closed and drained
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    bar = b"".join(chunks).decode("utf-8", "replace")
    assert proc.returncode == 0
    assert "\r\x1b[2K" in bar and "indexing" in bar and "8/8" in bar and "/s ETA " in bar
    assert "8 files in" in out.decode() and "8 new" in out.decode()


@pytest.fixture
def shared_tmp():
    """A folder an unprivileged user can reach (pytest's tmp_path sits under a 0700 root dir)."""
    d = Path(tempfile.mkdtemp(prefix="vlagent-perm-", dir="/tmp"))
    d.chmod(0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_unreadable_files_and_folders(shared_tmp):
    """Permission bits really deny the read: as root (which ignores them) the CLI runs as
    user ``nobody``; as any other user it runs as that user."""
    pics = shared_tmp / "pics"
    (pics / "open").mkdir(parents=True)
    (pics / "closed").mkdir()
    photo_like(120, 90, seed=1).save(pics / "open" / "fine.jpg")
    photo_like(120, 90, seed=2).save(pics / "locked.jpg")
    photo_like(120, 90, seed=3).save(pics / "closed" / "hidden_inside.jpg")
    for p in pics.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    (pics / "locked.jpg").chmod(0o000)
    (pics / "closed").chmod(0o000)
    home = shared_tmp / "home"
    home.mkdir()
    env = cli_env(home, HOME=str(shared_tmp))
    cmd = ["index", str(pics), "--no-ocr", "--json"]
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("running as root without setpriv: cannot drop privileges to test permissions")
        os.chown(home, 65534, 65534)
        import subprocess
        import sys

        proc = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--",
                               sys.executable, "-m", "vlagent", *cmd], capture_output=True, text=True,
                              cwd=str(REPO), env=env, timeout=120)
        out, err, rc = proc.stdout, proc.stderr, proc.returncode
    else:
        proc = run_cli(*cmd, home=home, env=env)
        out, err, rc = proc.stdout_text, proc.stderr_text, proc.returncode
    assert rc == 23, err
    s = json.loads(out)
    assert s["new"] == 1 and s["failed"] == 2
    got = {Path(f["path"]).name: (f["type"], f["error"]) for f in s["failures"]}
    assert got["locked.jpg"] == ("permission", f"{pics / 'locked.jpg'}: permission denied")
    assert got["closed"] == ("permission", f"{pics / 'closed'}: permission denied (cannot list this folder)")


def test_index_runs_and_counts_only_the_jobs_of_its_own_images(cli, tmp_path, text_png):
    """Jobs another agent queued (a watcher's, here an earlier ``--no-wait`` run) are neither
    run nor counted by an ``index`` run of other files; its own are, and the exit status is 0."""
    theirs, mine = tmp_path / "theirs", tmp_path / "mine"
    for i in range(2):
        text_png([f"queued elsewhere {i}"], name=f"t{i}.png", folder=theirs)
    text_png(["indexed here"], name="m.png", folder=mine)
    queued = cli("index", theirs, "--no-wait", "--json")
    assert queued.returncode == 0 and json.loads(queued.stdout_text)["new"] == 2
    proc = cli("index", mine, "--json")
    assert proc.returncode == 0, proc.stderr_text
    summary = json.loads(proc.stdout_text)
    assert summary["new"] == 1 and summary["jobs"] == {"ocr_done": 1}
    status = json.loads(cli("status", "--json").stdout_text)
    assert status["jobs"]["ocr"] == {"done": 1, "pending": 2}
    # Indexing their folder (unchanged files) runs the jobs its images still lack.
    again = json.loads(cli("index", theirs, "--json").stdout_text)
    assert again["unchanged"] == 2 and again["jobs"] == {"ocr_done": 2}


def test_doctor_lists_the_image_types_a_folder_walk_takes(cli):
    from vlagent.imaging.formats import supported_extensions

    proc = cli("doctor", "--quick", "--json")
    images = json.loads(proc.stdout_text)["images"]
    assert images["ok"] and set(images["extensions"].split()) == supported_extensions()
    Image.init()
    assert ("avif" in images["extensions"].split()) == ("AVIF" in Image.OPEN)
    text = cli("doctor", "--quick").stdout_text
    assert "[ok ] images: extensions=" in text and " png " in text and " jpg " in text
